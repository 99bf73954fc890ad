//! Second-generation resident ID card reader (GA/T 467 SAM_V frames, reference §1).
//!
//! * [`frame`]: frame encoding, checksum, the frame assembler, hex parsing.
//! * [`sam_status`]: the SW3 status table with Chinese and English messages.
//! * [`text_block`], [`nation`], [`identity`], [`card_type`]: the card's data.
//! * [`base_info`]: the 30 01 reply payload and decoding captured replies.
//! * [`reader`]: the driver.
//! * [`test_card`], [`simulator`]: the pty simulator and its synthetic cards.

pub mod base_info;
pub mod card_identity;
pub mod card_type;
pub mod error;
pub mod frame;
pub mod identity;
pub mod nation;
pub mod photo;
pub mod poller;
pub mod reader;
pub mod sam_id;
pub mod sam_status;
pub mod script;
pub mod simulator;
pub mod test_card;
pub mod text_block;

pub use base_info::decode_reply_hex;
pub use card_identity::{
    CardIdentity, ForeignerCard2017Identity, ForeignerCard2023Identity, ResidencePermitIdentity,
};
pub use card_type::CardType;
pub use error::IdCardError;
pub use frame::{Command, FrameAssembler, Reply};
pub use identity::{CardDate, Gender, ResidentIdentity, ValidUntil};
pub use nation::Nation;
pub use photo::{
    DecodedPhoto, PhotoDecoder, PhotoError, SimulatedPhotoDecoder, VendorDecoderConfig,
    VendorOutput, VendorWltDecoder,
};
pub use poller::{CardEvent, CardPoller, PollerSettings};
pub use reader::{IdCardReader, ReaderTimeouts};
pub use sam_id::SamId;
pub use sam_status::SamStatus;
pub use script::{ScriptError, ScriptStep, SimulatorScript};
pub use simulator::{IdCardSimulator, InjectedFault, SimulatorError};
pub use test_card::{TestCard, TestCardError};

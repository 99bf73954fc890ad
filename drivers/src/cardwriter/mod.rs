//! Motorised card dispensers / reader-writers (reference §3): the Creator CRT-591 and the
//! TTCE K720, behind one [`CardWriter`] chosen by [`CardWriterModel`].
//!
//! * [`crt591`]: CRT-591 framing, codes, commands and driver (mechanics and card I/O on one
//!   link).
//! * [`k720`]: K720 framing, status and driver (mechanics; card I/O through an encoder).
//! * [`pcsc`]: a card encoder over PC/SC storage-card pseudo-APDUs (for the K720).
//! * [`encoder`], [`unit`]: the card I/O and mechanics traits both models implement.
//! * [`layout`], [`record`]: where and what the kiosk writes on a card (MAC'd record).
//! * [`report`]: status (stack, bin, card position, jam) and its mapping to [`DeviceStatus`].
//! * [`writer`]: [`CardWriter`], implementing [`crate::traits::CardWriterDevice`].
//! * [`sim`]: both models on a pseudo-terminal, with a card stack, a bin and faults.
//!
//! [`DeviceStatus`]: crate::status::DeviceStatus

mod bcc;
pub mod crt591;
pub mod encoder;
pub mod error;
pub mod k720;
pub mod layout;
pub mod model;
pub mod pcsc;
pub mod record;
pub mod report;
pub mod sim;
pub mod steps;
pub mod unit;
pub mod writer;

pub use bcc::bcc;
pub use encoder::{CardEncoder, KeyType, MifareKey, RfCard};
pub use error::{CardDisposition, CardWriterError};
pub use layout::CardLayout;
pub use model::{CardWriterModel, UnknownModel};
pub use pcsc::{ApduTransport, PcscStorageEncoder};
pub use record::{CardRecord, RecordDate, RecordError, RecordKey};
pub use report::{BinLevel, CardPosition, CardWriterReport, StackLevel};
pub use sim::{CardWriterFault, CardWriterSimulator, SimCard, SimulatorConfig};
pub use steps::{CardContent, CardStep, IssuedCard, RewriteOutcome};
pub use unit::CardUnit;
pub use writer::{CardWriter, CardWriterSettings};

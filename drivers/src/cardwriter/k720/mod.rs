//! TTCE K720 / K750 dispensers (reference §3.3).
//!
//! * [`frame`]: the ASCII framing with address digits, the ACK/NAK/ENQ control sequences and
//!   the two older captured variants.
//! * [`status`]: the "AP" advanced status.
//! * [`driver`]: [`K720`], the serial driver. The K720 is a dispenser only: card I/O goes
//!   through an encoder at its read position (a PC/SC reader, [`crate::cardwriter::pcsc`]).

pub mod driver;
pub mod frame;
pub mod status;

pub use driver::{K720, K720Move, K720Settings};
pub use frame::{K720Address, K720Assembler, K720Framing, K720Item};
pub use status::K720Status;

//! Creator CRT-591(-M001): dispenser with built-in IC and RF reader/writer (reference §3.1).
//!
//! * [`frame`]: STX/ETX framing with LEN and BCC, both negative headers, the assembler.
//! * [`codes`]: the status bytes and the error-code table.
//! * [`command`]: the command codes and the Mifare pass-through DATA.
//! * [`driver`]: [`Crt591`], the serial driver with the ACK/NAK handshake.

pub mod codes;
pub mod command;
pub mod driver;
pub mod frame;

pub use codes::{Crt591ErrorCode, Crt591Status};
pub use command::{ChipVoltage, Crt591Command, MifareOp};
pub use driver::{Crt591, Crt591Position, Crt591Timeouts, InitMode};
pub use frame::{CommandFrame, FrameAssembler, FrameError, ReplyFrame};

//! Serial-mode QR / barcode scanners, GM65 / GM861 style (reference §4.1): a trigger command
//! answered by an acknowledgement and then the decoded data as a line ending in CR and/or LF,
//! or continuous mode where every code seen arrives as a line.
//!
//! * [`line`]: the incremental parser for what the scanner sends (acks and lines).
//! * [`scanner`]: the driver, [`QrScanner`].
//! * [`simulator`]: [`QrScannerSimulator`] on a pseudo-terminal.

pub mod error;
pub mod line;
pub mod scanner;
pub mod simulator;

pub use error::QrError;
pub use line::{ScanLineParser, ScannerOutput};
pub use scanner::{QrScanner, ScanMode};
pub use simulator::QrScannerSimulator;

/// Trigger one scan (command mode).
pub const TRIGGER_COMMAND: [u8; 9] = [0x7E, 0x00, 0x08, 0x01, 0x00, 0x02, 0x01, 0xAB, 0xCD];
/// Stop scanning.
pub const STOP_COMMAND: [u8; 9] = [0x7E, 0x00, 0x08, 0x01, 0x00, 0x02, 0x00, 0xAB, 0xCD];
/// The module's acknowledgement of a write command.
pub const ACK: [u8; 7] = [0x02, 0x00, 0x00, 0x01, 0x00, 0x33, 0x31];

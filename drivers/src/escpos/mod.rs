//! ESC/POS receipt printers (reference §2).
//!
//! * [`receipt`]: the receipt encoder ([`ReceiptBuilder`]).
//! * [`realtime_status`]: DLE EOT queries and their replies.
//! * [`printer`]: the serial driver.
//! * [`interpreter`], [`simulator`]: the pty simulator and its stream parser.

pub mod error;
pub mod interpreter;
pub mod printer;
pub mod realtime_status;
pub mod receipt;
pub mod simulator;

pub use error::PrinterError;
pub use printer::ReceiptPrinter;
pub use realtime_status::{PrinterReport, StatusQuery};
pub use receipt::{
    Align, Cut, EncodeError, EncodedReceipt, QrErrorCorrection, QrModel, QrOptions, ReceiptBuilder,
};
pub use simulator::{PaperSupply, ReceiptPrinterSimulator, ReceivedReceipt};

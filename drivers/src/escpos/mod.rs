//! ESC/POS receipt printers (reference §2).
//!
//! * [`receipt`]: the receipt encoder ([`ReceiptBuilder`]), [`bitmap`]: one-bit images.
//! * [`realtime_status`]: DLE EOT queries and their replies.
//! * [`printer`]: the driver, over a serial port or TCP port 9100 ([`transport`]).
//! * [`interpreter`], [`commands`]: the stream parser and what each command means.
//! * [`layout`]: the paper model shared by the renderer and the paper counter.
//! * [`render`]: receipts as 576-dot-wide PNG images.
//! * [`simulator`]: the pty / TCP simulator.

pub mod bitmap;
pub mod commands;
pub mod error;
pub mod interpreter;
pub mod layout;
pub mod printer;
pub mod realtime_status;
pub mod receipt;
pub mod render;
pub mod simulator;
mod tcp_host;
pub mod transport;

pub use bitmap::MonoBitmap;
pub use error::PrinterError;
pub use layout::{DOTS_PER_MM, PAPER_WIDTH_DOTS, PaperMeter};
pub use printer::ReceiptPrinter;
pub use realtime_status::{PrinterReport, StatusQuery};
pub use receipt::{
    Align, Cut, EncodeError, EncodedReceipt, QrErrorCorrection, QrModel, QrOptions, ReceiptBuilder,
};
pub use render::{ReceiptRenderer, RenderError, RenderedReceipt};
pub use simulator::{PaperSupply, ReceiptPrinterSimulator, ReceivedReceipt};
pub use transport::{DEFAULT_TCP_PORT, TransportKind};

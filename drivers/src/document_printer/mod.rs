//! The A4 document printer, through IPP to CUPS (DESIGN §5; issue 4).
//!
//! * [`state_reasons`]: IPP `printer-state` + `printer-state-reasons` → the device status model.
//! * [`ipp_printer`]: the driver: submit a PDF (Print-Job), follow it to completion
//!   (Get-Job-Attributes), read the printer's state (Get-Printer-Attributes), resume a stopped
//!   queue after paper is replaced (Resume-Printer).
//! * [`private_cups`]: a private `cupsd` on a loopback port with a cups-pdf queue, for tests
//!   and the demo; its backend can be told to report paper out or a jam, as a real printer
//!   backend does (`STATE: +media-empty-error`).

pub mod ipp_printer;
pub mod private_cups;
pub mod state_reasons;

pub use ipp_printer::{IppDocumentPrinter, JobReport, PrinterReport};
pub use private_cups::{PrivateCups, QueueFault};
pub use state_reasons::{PrinterState, status_from};

//! A receipt printer simulator on the master side of a pseudo-terminal. It interprets the
//! ESC/POS stream, answers DLE EOT at once (even mid-receipt), and keeps every receipt it
//! printed, split at cuts.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serialport::TTYPort;

use std::path::Path;

use super::interpreter::{StreamItem, StreamParser};
use super::layout::{DOTS_PER_MM, measure_dots};
use super::realtime_status::{STATUS_OK, StatusQuery};
use super::render::{ReceiptRenderer, RenderError, RenderedReceipt};
use crate::sim_pty::PtyHost;

/// Paper in the simulated printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaperSupply {
    /// Plenty.
    Ok,
    /// Near end (still prints).
    Low,
    /// Paper end (prints nothing).
    Out,
}

impl ReceivedReceipt {
    /// The receipt drawn as the printer printed it: 576 dots wide, cut line at the bottom.
    /// Needs the system CJK font (scripts/setup-system.sh installs it).
    pub fn render(&self) -> Result<RenderedReceipt, RenderError> {
        Ok(ReceiptRenderer::new()?.render(&self.raw))
    }

    /// [`Self::render`] as PNG bytes.
    pub fn to_png(&self) -> Result<Vec<u8>, RenderError> {
        self.render()?.to_png()
    }

    /// [`Self::render`] written to `path` as PNG.
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<(), RenderError> {
        self.render()?.save_png(path.as_ref())
    }

    /// Paper the receipt used, in millimetres (the paper model the renderer draws with).
    pub fn paper_length_mm(&self) -> f64 {
        measure_dots(&self.raw) as f64 / f64::from(DOTS_PER_MM)
    }
}

/// One receipt the simulator printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedReceipt {
    /// The printed text, GB18030 decoded, commands stripped, one line per LF.
    pub text: String,
    /// Every byte of the receipt as received, commands included, up to and including the cut.
    pub raw: Vec<u8>,
    /// QR payloads printed on the receipt.
    pub qr_codes: Vec<String>,
}

#[derive(Debug)]
struct PrinterState {
    paper: PaperSupply,
    cover_open: bool,
    cutter_error: bool,
    jammed: bool,
    /// Jam after this many more receipts (then cleared).
    jam_after: Option<usize>,
    receipts: Vec<ReceivedReceipt>,
    lines: Vec<String>,
    line: Vec<u8>,
    raw: Vec<u8>,
    qr_codes: Vec<String>,
    status_queries: usize,
    rejected_bytes: usize,
}

impl PrinterState {
    fn new() -> Self {
        PrinterState {
            paper: PaperSupply::Ok,
            cover_open: false,
            cutter_error: false,
            jammed: false,
            jam_after: None,
            receipts: Vec::new(),
            lines: Vec::new(),
            line: Vec::new(),
            raw: Vec::new(),
            qr_codes: Vec::new(),
            status_queries: 0,
            rejected_bytes: 0,
        }
    }

    fn can_print(&self) -> bool {
        self.paper != PaperSupply::Out && !self.cover_open && !self.cutter_error && !self.jammed
    }

    fn status_byte(&self, query: StatusQuery) -> u8 {
        let paper_out = self.paper == PaperSupply::Out;
        let flag = |on: bool, bit: u8| if on { 1u8 << bit } else { 0 };
        STATUS_OK
            | match query {
                StatusQuery::Printer => flag(!self.can_print(), 3),
                StatusQuery::OfflineCause => {
                    flag(self.cover_open, 2)
                        | flag(paper_out, 5)
                        | flag(self.cutter_error || self.jammed, 6)
                }
                // A jam is a recoverable (mechanical) error: the operator clears the paper path.
                StatusQuery::ErrorCause => flag(self.cutter_error, 3) | flag(self.jammed, 2),
                StatusQuery::RollPaper => match self.paper {
                    PaperSupply::Ok => 0,
                    PaperSupply::Low => 0x0C,
                    PaperSupply::Out => 0x60,
                },
            }
    }

    fn drop_current(&mut self) {
        self.lines.clear();
        self.line.clear();
        self.raw.clear();
        self.qr_codes.clear();
    }

    fn end_line(&mut self) {
        let (text, _) = encoding_rs::GB18030.decode_without_bom_handling(&self.line);
        self.lines.push(text.into_owned());
        self.line.clear();
    }

    /// Handle one stream item; returns a byte to send back, if any.
    fn handle(&mut self, item: StreamItem, raw: Vec<u8>) -> Option<u8> {
        if let StreamItem::StatusRequest(n) = item {
            self.status_queries += 1;
            return StatusQuery::from_n(n).map(|q| self.status_byte(q));
        }
        if !self.can_print() {
            // Nothing is printed: the partial receipt is lost too.
            self.rejected_bytes += raw.len();
            self.drop_current();
            return None;
        }
        self.raw.extend_from_slice(&raw);
        match item {
            StreamItem::Text(bytes) => self.line.extend_from_slice(&bytes),
            StreamItem::LineFeed => self.end_line(),
            StreamItem::QrData(data) => self
                .qr_codes
                .push(String::from_utf8_lossy(&data).into_owned()),
            StreamItem::Cut => {
                if !self.line.is_empty() {
                    self.end_line();
                }
                let receipt = ReceivedReceipt {
                    text: self.lines.join("\n"),
                    raw: std::mem::take(&mut self.raw),
                    qr_codes: std::mem::take(&mut self.qr_codes),
                };
                self.lines.clear();
                self.receipts.push(receipt);
                if let Some(left) = self.jam_after.as_mut() {
                    *left = left.saturating_sub(1);
                    if *left == 0 {
                        self.jam_after = None;
                        self.jammed = true;
                    }
                }
            }
            StreamItem::Init | StreamItem::Command | StreamItem::StatusRequest(_) => {}
        }
        None
    }
}

/// Simulated 80 mm receipt printer on a pseudo-terminal.
pub struct ReceiptPrinterSimulator {
    host: PtyHost,
    state: Arc<Mutex<PrinterState>>,
}

impl ReceiptPrinterSimulator {
    /// Start a simulator with paper, cover closed.
    pub fn spawn() -> io::Result<Self> {
        let state = Arc::new(Mutex::new(PrinterState::new()));
        let handler_state = Arc::clone(&state);
        let mut parser = StreamParser::new();
        let host = PtyHost::spawn(
            "receipt-printer-simulator",
            move |bytes, master: &mut TTYPort| {
                for (item, raw) in parser.push(bytes) {
                    let reply = lock(&handler_state).handle(item, raw);
                    if let Some(byte) = reply {
                        let _ = master.write_all(&[byte]);
                    }
                }
            },
        )?;
        Ok(ReceiptPrinterSimulator { host, state })
    }

    /// Path of the pseudo-terminal for the driver to open.
    pub fn path(&self) -> &str {
        self.host.path()
    }

    /// Every receipt printed so far, oldest first.
    pub fn receipts(&self) -> Vec<ReceivedReceipt> {
        lock(&self.state).receipts.clone()
    }

    /// Wait until at least `count` receipts were printed or `timeout` passed; returns them.
    pub fn wait_for_receipts(&self, count: usize, timeout: Duration) -> Vec<ReceivedReceipt> {
        let deadline = Instant::now() + timeout;
        loop {
            let receipts = self.receipts();
            if receipts.len() >= count || Instant::now() >= deadline {
                return receipts;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Set the paper supply.
    pub fn set_paper(&self, paper: PaperSupply) {
        lock(&self.state).paper = paper;
    }

    /// Open or close the cover.
    pub fn set_cover_open(&self, open: bool) {
        lock(&self.state).cover_open = open;
    }

    /// Jam the paper path, or clear the jam (as staff opening the printer would).
    pub fn set_jammed(&self, jammed: bool) {
        lock(&self.state).jammed = jammed;
    }

    /// Jam after `receipts` more receipts have come out (0 jams at once).
    pub fn jam_after(&self, receipts: usize) {
        let mut state = lock(&self.state);
        if receipts == 0 {
            state.jammed = true;
        } else {
            state.jam_after = Some(receipts);
        }
    }

    /// Make the auto-cutter fail or work again.
    pub fn set_cutter_error(&self, failed: bool) {
        lock(&self.state).cutter_error = failed;
    }

    /// How many DLE EOT requests were answered.
    pub fn status_queries(&self) -> usize {
        lock(&self.state).status_queries
    }

    /// Bytes thrown away because the printer could not print.
    pub fn rejected_bytes(&self) -> usize {
        lock(&self.state).rejected_bytes
    }

    /// Close the master side: the driver sees the printer disappear. Returns once closed.
    pub fn unplug(&mut self) {
        self.host.close();
    }
}

fn lock(state: &Mutex<PrinterState>) -> MutexGuard<'_, PrinterState> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

//! A receipt printer simulator on the master side of a pseudo-terminal or on a TCP port (a
//! network printer's 9100). It interprets the ESC/POS stream, answers DLE EOT at once (even
//! mid-receipt), keeps every receipt it printed, split at cuts, and can draw each one as a
//! PNG into a folder.

use std::io::{self, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serialport::TTYPort;

use std::path::Path;

use super::interpreter::{StreamItem, StreamParser};
use super::layout::{DOTS_PER_MM, measure_dots};
use super::realtime_status::{STATUS_OK, StatusQuery};
use super::render::{ReceiptRenderer, RenderError, RenderedReceipt};
use super::tcp_host::{TcpEvent, TcpHost};
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
    /// Where to draw each receipt as PNG, and the thread that does it.
    png_out: Option<(PathBuf, Sender<RenderJob>)>,
}

struct RenderJob {
    number: usize,
    raw: Vec<u8>,
    dir: PathBuf,
}

/// What the render thread did.
#[derive(Debug, Default)]
struct RenderLog {
    written: Vec<PathBuf>,
    errors: Vec<String>,
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
            png_out: None,
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
                if let Some((dir, jobs)) = &self.png_out {
                    let _ = jobs.send(RenderJob {
                        number: self.receipts.len() + 1,
                        raw: receipt.raw.clone(),
                        dir: dir.clone(),
                    });
                }
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

enum Host {
    Pty(PtyHost),
    Tcp(TcpHost),
}

/// Simulated 80 mm receipt printer on a pseudo-terminal or a TCP port.
pub struct ReceiptPrinterSimulator {
    host: Host,
    path: String,
    state: Arc<Mutex<PrinterState>>,
    render_log: Arc<Mutex<RenderLog>>,
}

/// Parse `bytes`, update the printer and answer status requests on `out`.
fn serve(
    parser: &mut StreamParser,
    state: &Mutex<PrinterState>,
    bytes: &[u8],
    out: &mut dyn Write,
) {
    for (item, raw) in parser.push(bytes) {
        let reply = lock(state).handle(item, raw);
        if let Some(byte) = reply {
            let _ = out.write_all(&[byte]);
            let _ = out.flush();
        }
    }
}

impl ReceiptPrinterSimulator {
    /// Start a simulator on a pseudo-terminal, with paper, cover closed.
    pub fn spawn() -> io::Result<Self> {
        let state = Arc::new(Mutex::new(PrinterState::new()));
        let handler_state = Arc::clone(&state);
        let mut parser = StreamParser::new();
        let host = PtyHost::spawn(
            "receipt-printer-simulator",
            move |bytes, master: &mut TTYPort| serve(&mut parser, &handler_state, bytes, master),
        )?;
        let path = host.path().to_owned();
        Ok(Self::with_host(Host::Pty(host), path, state))
    }

    /// Start a simulator listening on a TCP address (e.g. `127.0.0.1:0` for any free port,
    /// `0.0.0.0:9100` like a network printer). One connection at a time, as printers do;
    /// each connection starts a fresh byte stream. [`Self::path`] is then
    /// `tcp://host:port`, which [`ReceiptPrinter::open_any`](super::ReceiptPrinter::open_any)
    /// and [`ReceiptPrinter::connect_tcp`](super::ReceiptPrinter::connect_tcp) accept.
    pub fn spawn_tcp(address: impl ToSocketAddrs) -> io::Result<Self> {
        let state = Arc::new(Mutex::new(PrinterState::new()));
        let handler_state = Arc::clone(&state);
        let mut parser = StreamParser::new();
        let host = TcpHost::spawn(
            "receipt-printer-simulator-tcp",
            address,
            move |event, out: &mut dyn Write| match event {
                TcpEvent::Connected => parser = StreamParser::new(),
                TcpEvent::Data(bytes) => serve(&mut parser, &handler_state, bytes, out),
            },
        )?;
        let path = format!("{}{}", super::transport::TCP_PREFIX, host.address());
        Ok(Self::with_host(Host::Tcp(host), path, state))
    }

    fn with_host(host: Host, path: String, state: Arc<Mutex<PrinterState>>) -> Self {
        ReceiptPrinterSimulator {
            host,
            path,
            state,
            render_log: Arc::new(Mutex::new(RenderLog::default())),
        }
    }

    /// Path of the pseudo-terminal for the driver to open, or `tcp://host:port`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The TCP address listened on (`None` on a pty).
    pub fn tcp_address(&self) -> Option<SocketAddr> {
        match &self.host {
            Host::Tcp(host) => Some(host.address()),
            Host::Pty(_) => None,
        }
    }

    /// Draw every receipt printed from now on as `receipt-NNNN.png` (numbered from 1 in
    /// printing order) into `dir`, created if missing. Drawing happens on a thread of its
    /// own, so status replies are never delayed; see [`Self::wait_for_pngs`].
    pub fn set_output_dir(&self, dir: impl Into<PathBuf>) -> io::Result<()> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        let mut state = lock(&self.state);
        if let Some((current, _)) = state.png_out.as_mut() {
            *current = dir;
            return Ok(());
        }
        let (jobs, queue) = channel::<RenderJob>();
        let log = Arc::clone(&self.render_log);
        std::thread::Builder::new()
            .name("receipt-png-writer".to_owned())
            .spawn(move || {
                let mut renderer = None;
                for job in queue {
                    let path = job.dir.join(format!("receipt-{:04}.png", job.number));
                    let result = match &mut renderer {
                        Some(r) => Ok(r),
                        None => ReceiptRenderer::new().map(|r| renderer.insert(r)),
                    }
                    .and_then(|r| r.render(&job.raw).save_png(&path));
                    let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
                    match result {
                        Ok(()) => log.written.push(path),
                        Err(error) => {
                            tracing::warn!(%error, "receipt PNG not written");
                            log.errors.push(error.to_string());
                        }
                    }
                }
            })?;
        state.png_out = Some((dir, jobs));
        Ok(())
    }

    /// PNG files written so far, in printing order.
    pub fn written_pngs(&self) -> Vec<PathBuf> {
        self.render_log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .written
            .clone()
    }

    /// Why receipts could not be drawn (e.g. no CJK font), oldest first.
    pub fn render_errors(&self) -> Vec<String> {
        self.render_log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .errors
            .clone()
    }

    /// Wait until `count` PNGs were written (or failed) or `timeout` passed; returns the files.
    pub fn wait_for_pngs(&self, count: usize, timeout: Duration) -> Vec<PathBuf> {
        let deadline = Instant::now() + timeout;
        loop {
            let done = {
                let log = self.render_log.lock().unwrap_or_else(|p| p.into_inner());
                log.written.len() + log.errors.len() >= count
            };
            if done || Instant::now() >= deadline {
                return self.written_pngs();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
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

    /// Close the master side (or the TCP listener and connection): the driver sees the
    /// printer disappear. Returns once closed.
    pub fn unplug(&mut self) {
        match &mut self.host {
            Host::Pty(host) => host.close(),
            Host::Tcp(host) => host.close(),
        }
    }
}

fn lock(state: &Mutex<PrinterState>) -> MutexGuard<'_, PrinterState> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

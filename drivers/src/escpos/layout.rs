//! The paper model: what an 80 mm printer does with a command stream, in dots. Both the
//! renderer (which draws the marks) and the driver's paper counter (which only adds up the
//! feed) run this one model, so the counted length is the length of the rendered receipt.
//!
//! Geometry (reference §2.1): 576 dots across at 8 dots/mm; font A cells are 12 × 24, font B
//! 9 × 17, Chinese characters 24 × 24, each scaled by the GS ! multipliers. A line takes the
//! line spacing (30 dots unless ESC 3 says otherwise) or its tallest character, whichever is
//! more; images and QR codes take their height in dots; ESC J and GS V function B feed their
//! dots. Characters beyond the right edge wrap onto a new line.

use qrcode::{EcLevel, QrCode, Version};

use super::bitmap::MonoBitmap;
use super::commands::{EscPosCommand, PrinterFont, decode_command};
use super::interpreter::{StreamItem, StreamParser};
use super::receipt::{Align, QrErrorCorrection, QrModel};

/// Printable width of 80 mm paper at 203 dpi.
pub const PAPER_WIDTH_DOTS: u32 = 576;
/// Dots per millimetre at 203 dpi.
pub const DOTS_PER_MM: u32 = 8;
/// Line spacing after ESC @ or ESC 2, in dots.
pub const DEFAULT_LINE_SPACING: u32 = 30;

/// Which character cell a character is printed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CellKind {
    /// Font A, 12 × 24.
    FontA,
    /// Font B, 9 × 17.
    FontB,
    /// A Chinese (double-byte or four-byte) character, 24 × 24.
    Chinese,
}

impl CellKind {
    /// Width and height of the cell at size 1 × 1, in dots.
    pub fn cell(self) -> (u32, u32) {
        match self {
            CellKind::FontA => (12, 24),
            CellKind::FontB => (9, 17),
            CellKind::Chinese => (24, 24),
        }
    }
}

/// Styling of one printed character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CharStyle {
    /// Emphasized.
    pub bold: bool,
    /// Underline thickness: 0, 1 or 2 dots.
    pub underline: u8,
    /// White on black.
    pub reverse: bool,
}

/// A character placed on a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedChar {
    /// The character (U+FFFD when the bytes were not a character).
    pub ch: char,
    /// Sent as a four-byte GB18030 code (outside GBK): fonts of GBK printers lack it.
    pub four_byte: bool,
    /// Its cell.
    pub kind: CellKind,
    /// Left edge of the space it takes (character spacing included), dots from the left.
    pub x: u32,
    /// Width it takes, spacing included.
    pub advance: u32,
    /// Left edge of the glyph cell.
    pub glyph_x: u32,
    /// GS ! width multiplier (with FS ! / FS W doubling for Chinese).
    pub width_mul: u32,
    /// Height multiplier.
    pub height_mul: u32,
    /// Bold, underline, reverse.
    pub style: CharStyle,
}

impl PlacedChar {
    /// Glyph cell width and height after scaling.
    pub fn scaled_cell(&self) -> (u32, u32) {
        let (w, h) = self.kind.cell();
        (w * self.width_mul, h * self.height_mul)
    }
}

/// One printed line of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextLine {
    /// Top of the line, dots from the start of the paper.
    pub top: u64,
    /// Height of its tallest character; every character stands on `top + height`.
    pub height: u32,
    /// The characters, left to right, already aligned.
    pub chars: Vec<PlacedChar>,
}

/// Something printed on the paper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    /// A line of text.
    Text(TextLine),
    /// A raster image or a QR code: each image pixel is `scale_x × scale_y` dots.
    Image {
        /// Top, dots from the start of the paper.
        top: u64,
        /// Left edge in dots.
        left: u32,
        /// The image.
        image: MonoBitmap,
        /// Horizontal scale.
        scale_x: u32,
        /// Vertical scale.
        scale_y: u32,
    },
    /// The paper was cut at `y`.
    Cut {
        /// Where, dots from the start of the paper.
        y: u64,
        /// Partial cut (a bridge left).
        partial: bool,
    },
}

#[derive(Debug, Clone)]
struct PrintState {
    font: PrinterFont,
    bold: bool,
    underline: u8,
    chinese_underline: u8,
    reverse: bool,
    width: u32,
    height: u32,
    chinese_double_width: bool,
    chinese_double_height: bool,
    chinese_quadruple: bool,
    align: Align,
    line_spacing: u32,
    right_spacing: u32,
    chinese_left: u32,
    chinese_right: u32,
    chinese_mode: bool,
    qr_model: QrModel,
    qr_module: u32,
    qr_ec: QrErrorCorrection,
    qr_data: Option<Vec<u8>>,
}

impl Default for PrintState {
    fn default() -> Self {
        PrintState {
            font: PrinterFont::A,
            bold: false,
            underline: 0,
            chinese_underline: 0,
            reverse: false,
            width: 1,
            height: 1,
            chinese_double_width: false,
            chinese_double_height: false,
            chinese_quadruple: false,
            align: Align::Left,
            line_spacing: DEFAULT_LINE_SPACING,
            right_spacing: 0,
            chinese_left: 0,
            chinese_right: 0,
            // Chinese-market printers power up in Chinese mode (reference §2.3).
            chinese_mode: true,
            qr_model: QrModel::Model2,
            qr_module: 3,
            qr_ec: QrErrorCorrection::L,
            qr_data: None,
        }
    }
}

/// The paper model. Feed it stream items; it keeps the paper position and, when recording,
/// the marks to draw.
#[derive(Debug, Clone)]
pub struct PaperModel {
    state: PrintState,
    y: u64,
    line: Vec<PlacedChar>,
    line_x: u32,
    line_align: Align,
    record: bool,
    marks: Vec<Mark>,
}

impl Default for PaperModel {
    fn default() -> Self {
        Self::new()
    }
}

impl PaperModel {
    /// A model that records marks (for rendering).
    pub fn new() -> Self {
        PaperModel {
            state: PrintState::default(),
            y: 0,
            line: Vec::new(),
            line_x: 0,
            line_align: Align::Left,
            record: true,
            marks: Vec::new(),
        }
    }

    /// A model that only measures (for the paper counter).
    pub fn measuring() -> Self {
        PaperModel {
            record: false,
            ..Self::new()
        }
    }

    /// Dots of paper fed so far.
    pub fn fed_dots(&self) -> u64 {
        self.y
    }

    /// Whether characters wait in the line buffer (printed by the next LF).
    pub fn has_pending_line(&self) -> bool {
        !self.line.is_empty()
    }

    /// The marks recorded so far, taken out.
    pub fn take_marks(&mut self) -> Vec<Mark> {
        std::mem::take(&mut self.marks)
    }

    /// Apply one stream item with its raw bytes.
    pub fn apply(&mut self, item: &StreamItem, raw: &[u8]) {
        match item {
            StreamItem::Init => {
                self.line.clear();
                self.line_x = 0;
                let qr_data = self.state.qr_data.take();
                self.state = PrintState {
                    qr_data,
                    ..PrintState::default()
                };
            }
            StreamItem::Text(bytes) => self.add_text(bytes),
            StreamItem::LineFeed => self.print_line(),
            StreamItem::StatusRequest(_) => {}
            StreamItem::QrData(data) => self.state.qr_data = Some(data.clone()),
            StreamItem::Cut | StreamItem::Command => self.command(decode_command(raw)),
        }
    }

    /// Print what waits in the line buffer as if a LF came (at the end of a stream).
    pub fn flush(&mut self) {
        if self.has_pending_line() {
            self.print_line();
        }
    }

    fn command(&mut self, command: EscPosCommand) {
        use EscPosCommand as C;
        let s = &mut self.state;
        match command {
            C::Bold(on) => s.bold = on,
            C::Underline(n) => s.underline = n,
            C::ChineseUnderline(n) => s.chinese_underline = n,
            C::Reverse(on) => s.reverse = on,
            C::Font(font) => s.font = font,
            C::CharSize { width, height } => {
                s.width = u32::from(width);
                s.height = u32::from(height);
            }
            C::PrintMode(n) => {
                s.font = if n & 0x01 != 0 {
                    PrinterFont::B
                } else {
                    PrinterFont::A
                };
                s.bold = n & 0x08 != 0;
                s.height = if n & 0x10 != 0 { 2 } else { 1 };
                s.width = if n & 0x20 != 0 { 2 } else { 1 };
                s.underline = if n & 0x80 != 0 { 1 } else { 0 };
            }
            C::ChinesePrintMode(n) => {
                s.chinese_double_width = n & 0x04 != 0;
                s.chinese_double_height = n & 0x08 != 0;
                s.chinese_underline = if n & 0x80 != 0 { 1 } else { 0 };
            }
            C::ChineseQuadruple(on) => s.chinese_quadruple = on,
            C::Align(align) => s.align = align,
            C::LineSpacing(n) => s.line_spacing = n.map_or(DEFAULT_LINE_SPACING, u32::from),
            C::RightSpacing(n) => s.right_spacing = u32::from(n),
            C::ChineseSpacing { left, right } => {
                s.chinese_left = u32::from(left);
                s.chinese_right = u32::from(right);
            }
            C::ChineseMode(on) => s.chinese_mode = on,
            C::FeedLines(n) => {
                let spacing = u64::from(self.state.line_spacing);
                if self.has_pending_line() {
                    self.print_line();
                    self.y += spacing * u64::from(n.saturating_sub(1));
                } else {
                    self.y += spacing * u64::from(n);
                }
            }
            C::FeedDots(n) => {
                if self.has_pending_line() {
                    let tallest = self.emit_line();
                    self.y += u64::from(u32::from(n).max(tallest));
                } else {
                    self.y += u64::from(n);
                }
            }
            C::QrModel(model) => s.qr_model = model,
            C::QrModuleSize(n) => s.qr_module = u32::from(n.clamp(1, 16)),
            C::QrErrorCorrection(ec) => s.qr_ec = ec,
            C::QrStore(data) => s.qr_data = Some(data),
            C::QrPrint => self.print_qr(),
            C::Raster {
                double_width,
                double_height,
                image,
            } => {
                let scale_x = if double_width { 2 } else { 1 };
                let scale_y = if double_height { 2 } else { 1 };
                self.place_image(image, scale_x, scale_y);
            }
            C::Cut { partial, feed } => {
                self.flush();
                self.y += u64::from(feed);
                if self.record {
                    self.marks.push(Mark::Cut { y: self.y, partial });
                }
            }
            C::Other => {}
        }
    }

    fn add_text(&mut self, bytes: &[u8]) {
        let mut at = 0;
        while at < bytes.len() {
            let (len, ch, kind) = if self.state.chinese_mode {
                decode_gb18030_char(&bytes[at..])
            } else {
                (1, char::from(bytes[at]), CellKind::FontA)
            };
            let kind = match (kind, self.state.font) {
                (CellKind::FontA, PrinterFont::B) => CellKind::FontB,
                (kind, _) => kind,
            };
            self.add_char(ch, kind, len == 4);
            at += len;
        }
    }

    fn add_char(&mut self, ch: char, kind: CellKind, four_byte: bool) {
        let s = &self.state;
        let (cell_w, _) = kind.cell();
        let (width_mul, height_mul, left, right, underline) = if kind == CellKind::Chinese {
            let double = |on: bool| if on || s.chinese_quadruple { 2 } else { 1 };
            (
                (s.width * double(s.chinese_double_width)).min(8),
                (s.height * double(s.chinese_double_height)).min(8),
                s.chinese_left,
                s.chinese_right,
                s.underline.max(s.chinese_underline),
            )
        } else {
            (s.width, s.height, 0, s.right_spacing, s.underline)
        };
        let advance = (left + cell_w + right) * width_mul;
        if self.has_pending_line() && self.line_x + advance > PAPER_WIDTH_DOTS {
            self.print_line();
        }
        if !self.has_pending_line() {
            self.line_align = self.state.align;
        }
        let style = CharStyle {
            bold: self.state.bold,
            underline,
            reverse: self.state.reverse,
        };
        self.line.push(PlacedChar {
            ch,
            four_byte,
            kind,
            x: self.line_x,
            advance,
            glyph_x: self.line_x + left * width_mul,
            width_mul,
            height_mul,
            style,
        });
        self.line_x += advance;
    }

    /// Print the line buffer (or an empty line) and feed one line.
    fn print_line(&mut self) {
        let tallest = self.emit_line();
        self.y += u64::from(self.state.line_spacing.max(tallest));
    }

    /// Record the line buffer at the current position without feeding; returns its height.
    fn emit_line(&mut self) -> u32 {
        let chars = std::mem::take(&mut self.line);
        let width = std::mem::take(&mut self.line_x);
        let tallest = chars.iter().map(|c| c.scaled_cell().1).max().unwrap_or(0);
        if self.record && !chars.is_empty() {
            let shift = align_offset(self.line_align, width);
            let chars = chars
                .into_iter()
                .map(|c| PlacedChar {
                    x: c.x + shift,
                    glyph_x: c.glyph_x + shift,
                    ..c
                })
                .collect();
            self.marks.push(Mark::Text(TextLine {
                top: self.y,
                height: tallest,
                chars,
            }));
        }
        tallest
    }

    fn place_image(&mut self, image: MonoBitmap, scale_x: u32, scale_y: u32) {
        self.flush();
        let height = image.height() * scale_y;
        if self.record {
            let left = align_offset(self.state.align, image.width() * scale_x);
            self.marks.push(Mark::Image {
                top: self.y,
                left,
                image,
                scale_x,
                scale_y,
            });
        }
        self.y += u64::from(height);
    }

    fn print_qr(&mut self) {
        let Some(data) = self.state.qr_data.as_deref() else {
            return;
        };
        let Some(modules) = qr_modules(data, self.state.qr_model, self.state.qr_ec) else {
            return;
        };
        let size = self.state.qr_module;
        self.place_image(modules, size, size);
    }
}

fn align_offset(align: Align, width: u32) -> u32 {
    let free = PAPER_WIDTH_DOTS.saturating_sub(width);
    match align {
        Align::Left => 0,
        Align::Center => free / 2,
        Align::Right => free,
    }
}

/// Length, character and cell of the GB18030 character starting `bytes`.
fn decode_gb18030_char(bytes: &[u8]) -> (usize, char, CellKind) {
    let lead = bytes[0];
    if !(0x81..=0xFE).contains(&lead) {
        return (1, char::from(lead), CellKind::FontA);
    }
    let len = match bytes.get(1) {
        Some(0x30..=0x39) => 4,
        Some(_) => 2,
        None => 1,
    };
    let len = len.min(bytes.len());
    let (text, _) = encoding_rs::GB18030.decode_without_bom_handling(&bytes[..len]);
    let ch = text.chars().next().unwrap_or(char::REPLACEMENT_CHARACTER);
    (len, ch, CellKind::Chinese)
}

/// The QR symbol for `data` as one pixel per module. Model 1 is printed as model 2 (the
/// `qrcode` crate makes model 2 and Micro QR only); Micro QR takes the smallest version that
/// holds the data. `None` when the data does not fit.
pub fn qr_modules(data: &[u8], model: QrModel, ec: QrErrorCorrection) -> Option<MonoBitmap> {
    let level = match ec {
        QrErrorCorrection::L => EcLevel::L,
        QrErrorCorrection::M => EcLevel::M,
        QrErrorCorrection::Q => EcLevel::Q,
        QrErrorCorrection::H => EcLevel::H,
    };
    let code = match model {
        QrModel::Micro => {
            (1..=4).find_map(|v| QrCode::with_version(data, Version::Micro(v), level).ok())?
        }
        QrModel::Model1 | QrModel::Model2 => {
            QrCode::with_error_correction_level(data, level).ok()?
        }
    };
    let width = code.width() as u32;
    let colors = code.to_colors();
    Some(MonoBitmap::from_fn(width, width, |x, y| {
        colors[(y * width + x) as usize] == qrcode::Color::Dark
    }))
}

/// Counts the paper a byte stream uses, incrementally (the driver's paper counter).
#[derive(Debug, Default)]
pub struct PaperMeter {
    parser: StreamParser,
    model: Option<PaperModel>,
}

impl PaperMeter {
    /// A meter at zero.
    pub fn new() -> Self {
        PaperMeter {
            parser: StreamParser::new(),
            model: Some(PaperModel::measuring()),
        }
    }

    /// Count `bytes` sent to the printer.
    pub fn push(&mut self, bytes: &[u8]) {
        let model = self.model.get_or_insert_with(PaperModel::measuring);
        for (item, raw) in self.parser.push(bytes) {
            model.apply(&item, &raw);
        }
    }

    /// Dots fed so far.
    pub fn dots(&self) -> u64 {
        self.model.as_ref().map_or(0, PaperModel::fed_dots)
    }

    /// Millimetres fed so far (8 dots/mm).
    pub fn mm(&self) -> f64 {
        self.dots() as f64 / f64::from(DOTS_PER_MM)
    }

    /// Back to zero (a new roll); the printer's modes are kept.
    pub fn reset(&mut self) {
        if let Some(model) = self.model.as_mut() {
            model.y = 0;
        }
    }
}

/// Dots of paper `bytes` use on a freshly initialised printer, a last unterminated line
/// included.
pub fn measure_dots(bytes: &[u8]) -> u64 {
    let mut model = PaperModel::measuring();
    for (item, raw) in StreamParser::new().push(bytes) {
        model.apply(&item, &raw);
    }
    model.flush();
    model.fed_dots()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escpos::receipt::{Cut, QrOptions, ReceiptBuilder};

    fn marks(bytes: &[u8]) -> (Vec<Mark>, u64) {
        let mut model = PaperModel::new();
        for (item, raw) in StreamParser::new().push(bytes) {
            model.apply(&item, &raw);
        }
        (model.take_marks(), model.fed_dots())
    }

    #[test]
    fn lines_feeds_and_cuts_add_up() {
        // Two normal lines (30 each), a double-height line (48), feed 2 lines (60),
        // 10 dots, a 3-row raster, then a cut after feeding 5.
        let bytes = ReceiptBuilder::new()
            .line("办理回执")
            .line("A")
            .size(2, 2)
            .line("大")
            .normal_size()
            .feed(2)
            .raw(&[0x1B, 0x4A, 10])
            .raw(&[
                0x1D, 0x76, 0x30, 0x00, 0x01, 0x00, 0x03, 0x00, 0xFF, 0x00, 0xFF,
            ])
            .raw(&[0x1D, 0x56, 0x42, 5])
            .build();
        assert_eq!(
            measure_dots(bytes.as_bytes()),
            30 + 30 + 48 + 60 + 10 + 3 + 5
        );
        let (marks, _) = marks(bytes.as_bytes());
        assert!(matches!(
            marks.last(),
            Some(Mark::Cut {
                y: 186,
                partial: true
            })
        ));
    }

    #[test]
    fn alignment_widths_and_wrapping() {
        let bytes = ReceiptBuilder::new()
            .align(Align::Center)
            .line("回执A")
            .align(Align::Right)
            .size(2, 1)
            .line("AB")
            .normal_size()
            .align(Align::Left)
            .line(&"字".repeat(25))
            .build();
        let (marks, dots) = marks(bytes.as_bytes());
        let lines: Vec<&TextLine> = marks
            .iter()
            .filter_map(|m| match m {
                Mark::Text(t) => Some(t),
                _ => None,
            })
            .collect();
        // 24 + 24 + 12 = 60 wide, centred.
        assert_eq!(lines[0].chars[0].x, (576 - 60) / 2);
        assert_eq!(lines[0].chars[2].kind, CellKind::FontA);
        // Two double-width font A characters: 48 wide, right-aligned.
        assert_eq!(lines[1].chars[0].x, 576 - 48);
        assert_eq!(lines[1].chars[1].advance, 24);
        // 25 Chinese characters: 24 fit, one wraps.
        assert_eq!(lines[2].chars.len(), 24);
        assert_eq!(lines[3].chars.len(), 1);
        assert_eq!(dots, 4 * 30);
    }

    #[test]
    fn qr_takes_modules_times_size() {
        let bytes = ReceiptBuilder::new()
            .qr("1234", QrOptions::default())
            .expect("qr")
            .cut(Cut::Full)
            .build();
        // "1234" at level L is version 1: 21 modules of 3 dots.
        assert_eq!(measure_dots(bytes.as_bytes()), 63);
        let micro = qr_modules(b"1234", QrModel::Micro, QrErrorCorrection::L).expect("micro");
        assert!(micro.width() < 21);
    }
}

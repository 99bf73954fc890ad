//! Encoding receipts as ESC/POS bytes for 80 mm thermal printers (reference §2.2–2.6).

use super::bitmap::MonoBitmap;
use super::commands::PrinterFont;
use super::layout::{CellKind, DEFAULT_LINE_SPACING, DOTS_PER_MM, PAPER_WIDTH_DOTS, measure_dots};
use super::render::font::{CjkFont, embolden, system_font};

/// ESC @: initialise the printer.
pub const INIT: [u8; 2] = [0x1B, 0x40];
/// FS &: select Chinese character mode.
pub const CHINESE_MODE_ON: [u8; 2] = [0x1C, 0x26];
/// FS .: cancel Chinese character mode.
pub const CHINESE_MODE_OFF: [u8; 2] = [0x1C, 0x2E];
/// GS V 66 0: feed to the cutter and cut partially.
pub const PARTIAL_CUT: [u8; 4] = [0x1D, 0x56, 0x42, 0x00];
/// GS V 65 0: feed to the cutter and cut fully.
pub const FULL_CUT: [u8; 4] = [0x1D, 0x56, 0x41, 0x00];
/// Line feed.
pub const LF: u8 = 0x0A;

/// Rows per GS v 0 block when an image is split into strips: many printers limit the size of
/// one block (reference §2.6).
pub const DEFAULT_FRAGMENT_HEIGHT: u16 = 256;

/// Largest QR payload (model 2, version 40, numeric) the printer can store.
pub const MAX_QR_BYTES: usize = 7089;

/// Horizontal alignment (ESC a n).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Left.
    Left,
    /// Centre.
    Center,
    /// Right.
    Right,
}

/// How to cut the paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Leave a small uncut bridge (GS V 66 0).
    Partial,
    /// Cut through (GS V 65 0).
    Full,
}

/// QR code model (GS ( k fn 165).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrModel {
    /// Model 1.
    Model1,
    /// Model 2 (the usual).
    Model2,
    /// Micro QR.
    Micro,
}

/// QR error correction level (GS ( k fn 169).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrErrorCorrection {
    /// About 7 %.
    L,
    /// About 15 %.
    M,
    /// About 25 %.
    Q,
    /// About 30 %.
    H,
}

/// How to print a QR code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QrOptions {
    /// Model.
    pub model: QrModel,
    /// Module size in dots, 1–16.
    pub module_size: u8,
    /// Error correction.
    pub error_correction: QrErrorCorrection,
}

impl Default for QrOptions {
    /// Model 2, module size 3, level L.
    fn default() -> Self {
        QrOptions {
            model: QrModel::Model2,
            module_size: 3,
            error_correction: QrErrorCorrection::L,
        }
    }
}

/// Why a receipt could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// QR payload empty or too long.
    #[error("QR payload of {0} bytes is not between 1 and {MAX_QR_BYTES}")]
    QrPayloadSize(usize),
    /// QR module size out of 1–16.
    #[error("QR module size {0} is not between 1 and 16")]
    QrModuleSize(u8),
    /// A line could not be drawn as an image (no usable CJK font).
    #[error("cannot draw the line as an image: {0}")]
    Font(String),
}

/// A receipt ready to send to the printer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncodedReceipt(Vec<u8>);

impl EncodedReceipt {
    /// Wrap bytes that are already ESC/POS.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        EncodedReceipt(bytes)
    }
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    /// The bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
    /// Paper this receipt uses on a freshly initialised printer, in dots (8 per mm): lines ×
    /// line height + feeds + image rows, the same model the renderer draws with.
    pub fn paper_length_dots(&self) -> u64 {
        measure_dots(&self.0)
    }
    /// Paper this receipt uses, in millimetres.
    pub fn paper_length_mm(&self) -> f64 {
        self.paper_length_dots() as f64 / f64::from(DOTS_PER_MM)
    }
}

/// Builds a receipt: starts with ESC @ and FS & (Chinese mode), text encoded as GB18030.
///
/// The builder remembers the size, bold and line spacing it set, so that
/// [`Self::line_or_image`] draws an image line that matches the text around it (bytes added
/// with [`Self::raw`] are not looked at).
#[derive(Debug, Clone)]
pub struct ReceiptBuilder {
    bytes: Vec<u8>,
    width: u8,
    height: u8,
    bold: bool,
    font: PrinterFont,
    line_spacing: u32,
}

impl Default for ReceiptBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ReceiptBuilder {
    /// A receipt that initialises the printer and selects Chinese mode.
    pub fn new() -> Self {
        let mut bytes = Vec::with_capacity(256);
        bytes.extend_from_slice(&INIT);
        bytes.extend_from_slice(&CHINESE_MODE_ON);
        ReceiptBuilder {
            bytes,
            ..Self::empty()
        }
    }

    /// A builder with no initialisation bytes (for fragments and tests).
    pub fn empty() -> Self {
        ReceiptBuilder {
            bytes: Vec::new(),
            width: 1,
            height: 1,
            bold: false,
            font: PrinterFont::A,
            line_spacing: DEFAULT_LINE_SPACING,
        }
    }

    /// Text in GB18030, without a line feed.
    pub fn text(mut self, text: &str) -> Self {
        self.bytes.extend_from_slice(&encode_gb18030(text));
        self
    }

    /// Text followed by a line feed.
    pub fn line(self, text: &str) -> Self {
        self.text(text).newline()
    }

    /// A line feed.
    pub fn newline(mut self) -> Self {
        self.bytes.push(LF);
        self
    }

    /// Bold on or off (ESC E n).
    pub fn bold(mut self, on: bool) -> Self {
        self.bytes.extend_from_slice(&[0x1B, 0x45, u8::from(on)]);
        self.bold = on;
        self
    }

    /// Underline (ESC - n): 0 off, 1 or 2 dots thick (clamped to 2).
    pub fn underline(mut self, dots: u8) -> Self {
        self.bytes.extend_from_slice(&[0x1B, 0x2D, dots.min(2)]);
        self
    }

    /// White on black (GS B n).
    pub fn reverse(mut self, on: bool) -> Self {
        self.bytes.extend_from_slice(&[0x1D, 0x42, u8::from(on)]);
        self
    }

    /// Font A (12 × 24) or B (9 × 17) for alphanumerics (ESC M n).
    pub fn font(mut self, font: PrinterFont) -> Self {
        let n = match font {
            PrinterFont::A => 0,
            PrinterFont::B => 1,
        };
        self.bytes.extend_from_slice(&[0x1B, 0x4D, n]);
        self.font = font;
        self
    }

    /// Print mode (ESC ! n): bit 0 font B, bit 3 emphasized, bit 4 double height, bit 5
    /// double width, bit 7 underline.
    pub fn print_mode(mut self, n: u8) -> Self {
        self.bytes.extend_from_slice(&[0x1B, 0x21, n]);
        self.font = if n & 1 == 1 {
            PrinterFont::B
        } else {
            PrinterFont::A
        };
        self.bold = n & 0x08 != 0;
        self.height = if n & 0x10 != 0 { 2 } else { 1 };
        self.width = if n & 0x20 != 0 { 2 } else { 1 };
        self
    }

    /// Line spacing of `dots` (ESC 3 n).
    pub fn line_spacing(mut self, dots: u8) -> Self {
        self.bytes.extend_from_slice(&[0x1B, 0x33, dots]);
        self.line_spacing = u32::from(dots);
        self
    }

    /// The default line spacing, 30 dots (ESC 2).
    pub fn default_line_spacing(mut self) -> Self {
        self.bytes.extend_from_slice(&[0x1B, 0x32]);
        self.line_spacing = DEFAULT_LINE_SPACING;
        self
    }

    /// Space right of each alphanumeric character, in dots (ESC SP n).
    pub fn char_spacing(mut self, dots: u8) -> Self {
        self.bytes.extend_from_slice(&[0x1B, 0x20, dots]);
        self
    }

    /// Chinese character mode on (FS &) or off (FS .).
    pub fn chinese_mode(mut self, on: bool) -> Self {
        self.bytes.extend_from_slice(if on {
            &CHINESE_MODE_ON
        } else {
            &CHINESE_MODE_OFF
        });
        self
    }

    /// Code page for single-byte text outside Chinese mode (ESC t n).
    pub fn code_page(mut self, n: u8) -> Self {
        self.bytes.extend_from_slice(&[0x1B, 0x74, n]);
        self
    }

    /// Print and feed `dots` dots (ESC J n).
    pub fn feed_dots(mut self, dots: u8) -> Self {
        self.bytes.extend_from_slice(&[0x1B, 0x4A, dots]);
        self
    }

    /// A raster image (GS v 0), sent in strips of [`DEFAULT_FRAGMENT_HEIGHT`] rows.
    pub fn image(self, image: &MonoBitmap) -> Self {
        self.image_fragmented(image, DEFAULT_FRAGMENT_HEIGHT)
    }

    /// A raster image sent in strips of at most `fragment_height` rows each.
    pub fn image_fragmented(mut self, image: &MonoBitmap, fragment_height: u16) -> Self {
        self.bytes
            .extend_from_slice(&encode_raster_fragments(image, fragment_height));
        self
    }

    /// Text followed by a line feed, or, when it holds characters outside GBK (four-byte
    /// GB18030 codes such as rare characters in names, which printer fonts usually lack), the
    /// line drawn with the CJK font as a raster image 24 dots high (times the current
    /// height), in the current size and boldness, followed by a feed to the line spacing so
    /// it takes the room of a text line.
    pub fn line_or_image(self, text: &str) -> Result<Self, EncodeError> {
        if needs_image(text) {
            self.line_as_image(text)
        } else {
            Ok(self.line(text))
        }
    }

    /// [`Self::line_or_image`] with the system CJK font, always as an image.
    pub fn line_as_image(self, text: &str) -> Result<Self, EncodeError> {
        let font = system_font().map_err(|e| EncodeError::Font(e.to_string()))?;
        Ok(self.line_as_image_with(text, &font))
    }

    /// The line drawn with `font` as an image (one image per 576 dots; longer lines wrap).
    pub fn line_as_image_with(mut self, text: &str, font: &CjkFont) -> Self {
        for image in text_images(text, font, self.width, self.height, self.bold, self.font) {
            let rows = image.height();
            self = self.image(&image);
            let rest = self.line_spacing.saturating_sub(rows);
            if rest > 0 {
                self = self.feed_dots(rest.min(255) as u8);
            }
        }
        self
    }

    /// Character size (GS ! n): width and height multipliers 1–8, clamped.
    pub fn size(mut self, width: u8, height: u8) -> Self {
        let w = width.clamp(1, 8) - 1;
        let h = height.clamp(1, 8) - 1;
        self.bytes.extend_from_slice(&[0x1D, 0x21, (w << 4) | h]);
        self.width = w + 1;
        self.height = h + 1;
        self
    }

    /// Normal character size (GS ! 0).
    pub fn normal_size(self) -> Self {
        self.size(1, 1)
    }

    /// Alignment (ESC a n).
    pub fn align(mut self, align: Align) -> Self {
        let n = match align {
            Align::Left => 0,
            Align::Center => 1,
            Align::Right => 2,
        };
        self.bytes.extend_from_slice(&[0x1B, 0x61, n]);
        self
    }

    /// Feed `lines` lines (ESC d n).
    pub fn feed(mut self, lines: u8) -> Self {
        self.bytes.extend_from_slice(&[0x1B, 0x64, lines]);
        self
    }

    /// A QR code printed by the printer itself (GS ( k: model, size, EC, store, print).
    pub fn qr(mut self, data: &str, options: QrOptions) -> Result<Self, EncodeError> {
        self.bytes
            .extend_from_slice(&encode_qr(data.as_bytes(), options)?);
        Ok(self)
    }

    /// Cut the paper.
    pub fn cut(mut self, cut: Cut) -> Self {
        match cut {
            Cut::Partial => self.bytes.extend_from_slice(&PARTIAL_CUT),
            Cut::Full => self.bytes.extend_from_slice(&FULL_CUT),
        }
        self
    }

    /// Cut where the paper is now, without feeding (GS V 0 full / GS V 1 partial, function A).
    pub fn cut_in_place(mut self, cut: Cut) -> Self {
        let m = match cut {
            Cut::Full => 0x00,
            Cut::Partial => 0x01,
        };
        self.bytes.extend_from_slice(&[0x1D, 0x56, m]);
        self
    }

    /// Feed `dots` to the cutter, then cut (GS V 65 n full / GS V 66 n partial, function B).
    pub fn cut_after_feed(mut self, cut: Cut, dots: u8) -> Self {
        let m = match cut {
            Cut::Full => 0x41,
            Cut::Partial => 0x42,
        };
        self.bytes.extend_from_slice(&[0x1D, 0x56, m, dots]);
        self
    }

    /// Cash drawer pulse (ESC p m t1 t2): pin m (0 = pin 2, 1 = pin 5), on t1 × 2 ms, off
    /// t2 × 2 ms.
    pub fn drawer_pulse(mut self, pin: u8, on: u8, off: u8) -> Self {
        self.bytes.extend_from_slice(&[0x1B, 0x70, pin, on, off]);
        self
    }

    /// Raw ESC/POS bytes.
    pub fn raw(mut self, bytes: &[u8]) -> Self {
        self.bytes.extend_from_slice(bytes);
        self
    }

    /// The finished receipt.
    pub fn build(self) -> EncodedReceipt {
        EncodedReceipt(self.bytes)
    }
}

/// Whether `text` holds a character outside GBK (a four-byte GB18030 code).
pub fn needs_image(text: &str) -> bool {
    let mut buf = [0u8; 4];
    text.chars()
        .any(|c| encode_gb18030(c.encode_utf8(&mut buf)).len() == 4)
}

/// `text` drawn as the printer would print it with a font that has every character: cells of
/// 12 × 24 (alphanumerics, 9 × 17 in font B) and 24 × 24 (the rest), scaled `width × height`;
/// one image per 576 dots of line.
pub fn text_images(
    text: &str,
    font: &CjkFont,
    width: u8,
    height: u8,
    bold: bool,
    alnum_font: PrinterFont,
) -> Vec<MonoBitmap> {
    let (wm, hm) = (u32::from(width.clamp(1, 8)), u32::from(height.clamp(1, 8)));
    let mut cells: Vec<Vec<MonoBitmap>> = vec![Vec::new()];
    let mut line_width = 0;
    for ch in text.chars() {
        let kind = if ch.is_ascii() {
            match alnum_font {
                PrinterFont::A => CellKind::FontA,
                PrinterFont::B => CellKind::FontB,
            }
        } else {
            CellKind::Chinese
        };
        let cell = font.glyph_cell(ch, kind);
        let cell = if bold { embolden(&cell) } else { cell };
        let advance = cell.width() * wm;
        if line_width + advance > PAPER_WIDTH_DOTS && line_width > 0 {
            cells.push(Vec::new());
            line_width = 0;
        }
        line_width += advance;
        cells.last_mut().expect("a line").push(cell);
    }
    cells
        .into_iter()
        .filter(|line| !line.is_empty())
        .map(|line| {
            let width: u32 = line.iter().map(|c| c.width() * wm).sum();
            let rows = line.iter().map(|c| c.height() * hm).max().unwrap_or(0);
            let mut image = MonoBitmap::new(width, rows);
            let mut left = 0;
            for cell in &line {
                let top = rows - cell.height() * hm;
                for y in 0..cell.height() * hm {
                    for x in 0..cell.width() * wm {
                        if cell.get(x / wm, y / hm) {
                            image.set(left + x, top + y, true);
                        }
                    }
                }
                left += cell.width() * wm;
            }
            image
        })
        .collect()
}

/// `image` as GS v 0 blocks of at most `fragment_height` rows (at least 1), top to bottom.
pub fn encode_raster_fragments(image: &MonoBitmap, fragment_height: u16) -> Vec<u8> {
    let step = u32::from(fragment_height.max(1));
    let mut out = Vec::with_capacity(image.packed().len() + 16);
    let mut from = 0;
    while from < image.height() {
        let strip = image.rows(from, step);
        let block = encode_raster(
            strip.width_bytes() as u16,
            strip.height() as u16,
            strip.packed(),
        )
        .expect("a strip holds width_bytes * height bytes");
        out.extend_from_slice(&block);
        from += step;
    }
    out
}

/// Text as GB18030 bytes. GB18030 covers all of Unicode, so nothing is lost (characters
/// outside GBK become four-byte codes that some printer fonts lack).
pub fn encode_gb18030(text: &str) -> Vec<u8> {
    let (bytes, _, _) = encoding_rs::GB18030.encode(text);
    bytes.into_owned()
}

/// The five GS ( k commands that print `data` as a QR code.
pub fn encode_qr(data: &[u8], options: QrOptions) -> Result<Vec<u8>, EncodeError> {
    if data.is_empty() || data.len() > MAX_QR_BYTES {
        return Err(EncodeError::QrPayloadSize(data.len()));
    }
    if !(1..=16).contains(&options.module_size) {
        return Err(EncodeError::QrModuleSize(options.module_size));
    }
    let model = match options.model {
        QrModel::Model1 => 0x31,
        QrModel::Model2 => 0x32,
        QrModel::Micro => 0x33,
    };
    let ec = match options.error_correction {
        QrErrorCorrection::L => 0x30,
        QrErrorCorrection::M => 0x31,
        QrErrorCorrection::Q => 0x32,
        QrErrorCorrection::H => 0x33,
    };
    let store_len = (data.len() + 3) as u16;
    let [p_l, p_h] = store_len.to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 40);
    out.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, model, 0x00]);
    out.extend_from_slice(&[
        0x1D,
        0x28,
        0x6B,
        0x03,
        0x00,
        0x31,
        0x43,
        options.module_size,
    ]);
    out.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, ec]);
    out.extend_from_slice(&[0x1D, 0x28, 0x6B, p_l, p_h, 0x31, 0x50, 0x30]);
    out.extend_from_slice(data);
    out.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]);
    Ok(out)
}

/// A raster image (GS v 0, normal density): `width_bytes` bytes per row, row-major, MSB
/// leftmost, 1 = black. `rows` must hold `width_bytes * height` bytes.
pub fn encode_raster(width_bytes: u16, height: u16, rows: &[u8]) -> Option<Vec<u8>> {
    if rows.len() != usize::from(width_bytes) * usize::from(height) {
        return None;
    }
    let [x_l, x_h] = width_bytes.to_le_bytes();
    let [y_l, y_h] = height.to_le_bytes();
    let mut out = vec![0x1D, 0x76, 0x30, 0x00, x_l, x_h, y_l, y_h];
    out.extend_from_slice(rows);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_qr_matches_published_vector() {
        let bytes = ReceiptBuilder::empty()
            .qr("1234", QrOptions::default())
            .expect("valid qr")
            .build();
        let expected: Vec<u8> = [
            &[0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00][..],
            &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x03],
            &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x30],
            &[
                0x1D, 0x28, 0x6B, 0x07, 0x00, 0x31, 0x50, 0x30, 0x31, 0x32, 0x33, 0x34,
            ],
            &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30],
        ]
        .concat();
        assert_eq!(bytes.as_bytes(), expected.as_slice());
    }

    #[test]
    fn qr_variants_match_published_vectors() {
        let h = encode_qr(
            b"1234",
            QrOptions {
                error_correction: QrErrorCorrection::H,
                ..Default::default()
            },
        )
        .expect("qr");
        assert_eq!(
            &h[17..25],
            &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x33]
        );
        let size7 = encode_qr(
            b"1234",
            QrOptions {
                module_size: 7,
                ..Default::default()
            },
        )
        .expect("qr");
        assert_eq!(
            &size7[9..17],
            &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x07]
        );
        let model1 = encode_qr(
            b"1234",
            QrOptions {
                model: QrModel::Model1,
                ..Default::default()
            },
        )
        .expect("qr");
        assert_eq!(
            &model1[..9],
            &[0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x31, 0x00]
        );
        assert_eq!(
            encode_qr(b"", QrOptions::default()),
            Err(EncodeError::QrPayloadSize(0))
        );
        assert_eq!(
            encode_qr(
                b"1",
                QrOptions {
                    module_size: 17,
                    ..Default::default()
                }
            ),
            Err(EncodeError::QrModuleSize(17))
        );
    }

    #[test]
    fn raster_matches_published_vectors() {
        assert_eq!(
            encode_raster(1, 1, &[0x80]),
            Some(vec![0x1D, 0x76, 0x30, 0x00, 0x01, 0x00, 0x01, 0x00, 0x80])
        );
        assert_eq!(
            encode_raster(1, 2, &[0xC0, 0x00]),
            Some(vec![
                0x1D, 0x76, 0x30, 0x00, 0x01, 0x00, 0x02, 0x00, 0xC0, 0x00
            ])
        );
        assert_eq!(encode_raster(1, 2, &[0xC0]), None);
    }

    #[test]
    fn builder_emits_core_commands() {
        let receipt = ReceiptBuilder::new()
            .align(Align::Center)
            .bold(true)
            .size(2, 2)
            .line("回执")
            .normal_size()
            .bold(false)
            .align(Align::Left)
            .size(2, 1)
            .size(1, 2)
            .feed(3)
            .cut(Cut::Partial)
            .cut(Cut::Full)
            .build();
        let expected: Vec<u8> = [
            &[0x1B, 0x40, 0x1C, 0x26][..],
            &[0x1B, 0x61, 0x01],
            &[0x1B, 0x45, 0x01],
            &[0x1D, 0x21, 0x11],
            &[0xBB, 0xD8, 0xD6, 0xB4, 0x0A], // 回执 in GB18030 (GB2312 range)
            &[0x1D, 0x21, 0x00],
            &[0x1B, 0x45, 0x00],
            &[0x1B, 0x61, 0x00],
            &[0x1D, 0x21, 0x10],
            &[0x1D, 0x21, 0x01],
            &[0x1B, 0x64, 0x03],
            &[0x1D, 0x56, 0x42, 0x00],
            &[0x1D, 0x56, 0x41, 0x00],
        ]
        .concat();
        assert_eq!(receipt.as_bytes(), expected.as_slice());
    }

    #[test]
    fn gb18030_uses_four_bytes_outside_gbk() {
        assert_eq!(encode_gb18030("A"), vec![0x41]);
        // U+9FA6 is beyond GBK: a four-byte GB18030 code.
        assert_eq!(encode_gb18030("\u{9FA6}").len(), 4);
    }
}

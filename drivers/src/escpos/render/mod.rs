//! Renders what an ESC/POS printer would print as an image 576 dots wide (80 mm paper at
//! 8 dots/mm), one image per receipt (split at cuts), so tests and people can look at receipts.
//!
//! The [`PaperModel`](super::layout::PaperModel) says where everything goes; this module
//! draws it: characters in 12 × 24 / 24 × 24 cells from the system CJK font, scaled by the
//! GS ! multipliers, bold, underline, reverse, raster images and QR codes (regenerated from
//! the stored payload with the commanded module size and error correction), and a dashed cut
//! line (with a gap in the middle for a partial cut).
//!
//! Like a printer with a GBK font, the renderer prints a four-byte GB18030 character as an
//! empty box unless [`ReceiptRenderer::set_four_byte_glyphs`] says the font has them: that
//! is why [`ReceiptBuilder::line_or_image`](super::ReceiptBuilder::line_or_image) sends such
//! lines as images.

pub mod font;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

pub use font::{CjkFont, find_cjk_font_file, system_font};

use super::bitmap::MonoBitmap;
use super::interpreter::StreamParser;
use super::layout::{CellKind, Mark, PAPER_WIDTH_DOTS, PaperModel, PlacedChar, TextLine};

/// White paper margin below the cut line, and the space the cut line is drawn in.
const CUT_MARGIN: u32 = 16;
/// Grey of the cut line: not ink, a mark for the viewer.
const CUT_GREY: u8 = 0x90;
/// Longest image drawn (2 m of paper); a stream feeding more is cut off there.
pub const MAX_RENDER_HEIGHT: u32 = 16_000;

/// Why a receipt could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// No CJK font is installed.
    #[error("{0}")]
    NoFont(String),
    /// The font file could not be read or parsed.
    #[error("cannot use font {path}: {reason}")]
    BadFont {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// PNG encoding failed.
    #[error("cannot encode PNG: {0}")]
    Png(String),
    /// Writing the file failed.
    #[error("cannot write {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// A rendered receipt: 8-bit grey pixels, 0 black, 255 white, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedReceipt {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl RenderedReceipt {
    fn blank(width: u32, height: u32) -> Self {
        RenderedReceipt {
            width,
            height,
            pixels: vec![0xFF; width as usize * height as usize],
        }
    }

    /// Width in dots (576).
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in dots.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The grey pixels, row-major.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The grey value at (x, y); white outside.
    pub fn pixel(&self, x: u32, y: u32) -> u8 {
        if x >= self.width || y >= self.height {
            return 0xFF;
        }
        self.pixels[(y * self.width + x) as usize]
    }

    /// Whether (x, y) is printed black.
    pub fn is_black(&self, x: u32, y: u32) -> bool {
        self.pixel(x, y) == 0
    }

    /// Black dots in the rectangle `x..x + w`, `y..y + h`.
    pub fn black_in(&self, x: u32, y: u32, w: u32, h: u32) -> usize {
        (y..y + h)
            .flat_map(|yy| (x..x + w).map(move |xx| (xx, yy)))
            .filter(|&(xx, yy)| self.is_black(xx, yy))
            .count()
    }

    fn put(&mut self, x: u32, y: u32, value: u8) {
        if x < self.width && y < self.height {
            self.pixels[(y * self.width + x) as usize] = value;
        }
    }

    fn fill(&mut self, x: u32, y: u32, w: u32, h: u32, value: u8) {
        for yy in y..y + h {
            for xx in x..x + w {
                self.put(xx, yy, value);
            }
        }
    }

    /// The image as a greyscale PNG.
    pub fn to_png(&self) -> Result<Vec<u8>, RenderError> {
        let mut out = Vec::new();
        let png_error = |e: png::EncodingError| RenderError::Png(e.to_string());
        {
            let mut encoder = png::Encoder::new(&mut out, self.width, self.height);
            encoder.set_color(png::ColorType::Grayscale);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().map_err(png_error)?;
            writer.write_image_data(&self.pixels).map_err(png_error)?;
            writer.finish().map_err(png_error)?;
        }
        Ok(out)
    }

    /// Write the image to `path` as PNG.
    pub fn save_png(&self, path: &Path) -> Result<(), RenderError> {
        let bytes = self.to_png()?;
        std::fs::write(path, bytes).map_err(|e| RenderError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    }
}

/// Draws ESC/POS streams as receipt images.
#[derive(Debug)]
pub struct ReceiptRenderer {
    font: Arc<CjkFont>,
    four_byte_glyphs: bool,
    cache: HashMap<(char, CellKind, bool), MonoBitmap>,
}

impl ReceiptRenderer {
    /// A renderer with the system CJK font; fails with a message naming
    /// scripts/setup-system.sh when none is installed.
    pub fn new() -> Result<Self, RenderError> {
        Ok(Self::with_font(system_font()?))
    }

    /// A renderer with a given font.
    pub fn with_font(font: Arc<CjkFont>) -> Self {
        ReceiptRenderer {
            font,
            four_byte_glyphs: false,
            cache: HashMap::new(),
        }
    }

    /// Whether the simulated printer's font has the four-byte GB18030 characters (default
    /// no, like most printers with a GBK font: they print as empty boxes).
    pub fn set_four_byte_glyphs(&mut self, present: bool) {
        self.four_byte_glyphs = present;
    }

    /// Render a stream that may hold several receipts: one image per cut, plus one for
    /// anything printed after the last cut.
    pub fn render_stream(&mut self, bytes: &[u8]) -> Vec<RenderedReceipt> {
        let (marks, end) = run_model(bytes);
        let mut receipts = Vec::new();
        let mut start = 0u64;
        let mut current: Vec<&Mark> = Vec::new();
        for mark in &marks {
            match mark {
                Mark::Cut { y, partial } => {
                    receipts.push(self.draw(&current, start, *y, &[(*y, *partial)]));
                    current.clear();
                    start = *y;
                }
                other => current.push(other),
            }
        }
        if !current.is_empty() {
            receipts.push(self.draw(&current, start, end, &[]));
        }
        receipts
    }

    /// Render a whole stream as one image, cut lines drawn where the cuts are.
    pub fn render(&mut self, bytes: &[u8]) -> RenderedReceipt {
        let (marks, end) = run_model(bytes);
        let cuts: Vec<(u64, bool)> = marks
            .iter()
            .filter_map(|m| match m {
                Mark::Cut { y, partial } => Some((*y, *partial)),
                _ => None,
            })
            .collect();
        let end = cuts.last().map_or(end, |&(y, _)| y.max(end));
        let drawn: Vec<&Mark> = marks.iter().collect();
        self.draw(&drawn, 0, end, &cuts)
    }

    fn draw(
        &mut self,
        marks: &[&Mark],
        start: u64,
        end: u64,
        cuts: &[(u64, bool)],
    ) -> RenderedReceipt {
        let printed = u32::try_from(end.saturating_sub(start)).unwrap_or(u32::MAX / 2);
        let extra = if cuts.is_empty() { 0 } else { CUT_MARGIN };
        let height = (printed.min(MAX_RENDER_HEIGHT) + extra).max(1);
        let mut image = RenderedReceipt::blank(PAPER_WIDTH_DOTS, height);
        for mark in marks {
            match mark {
                Mark::Text(line) if line.top - start >= u64::from(MAX_RENDER_HEIGHT) => {}
                Mark::Image { top, .. } if top - start >= u64::from(MAX_RENDER_HEIGHT) => {}
                Mark::Text(line) => self.draw_line(&mut image, line, start),
                Mark::Image {
                    top,
                    left,
                    image: bitmap,
                    scale_x,
                    scale_y,
                } => {
                    let top = (top - start) as u32;
                    blit(&mut image, bitmap, *left, top, *scale_x, *scale_y, 0);
                }
                Mark::Cut { .. } => {}
            }
        }
        for &(y, partial) in cuts {
            let y = (y - start).min(u64::from(MAX_RENDER_HEIGHT)) as u32 + CUT_MARGIN / 2 - 1;
            draw_cut_line(&mut image, y, partial);
        }
        image
    }

    fn draw_line(&mut self, image: &mut RenderedReceipt, line: &TextLine, start: u64) {
        let bottom = (line.top - start) as u32 + line.height;
        for placed in &line.chars {
            let (_, cell_h) = placed.scaled_cell();
            let top = bottom - cell_h;
            // Reverse: a black cell with the glyph left white.
            let ink = if placed.style.reverse {
                image.fill(placed.x, top, placed.advance, cell_h, 0);
                0xFF
            } else {
                0
            };
            let glyph = self.glyph(placed);
            blit(
                image,
                &glyph,
                placed.glyph_x,
                top,
                placed.width_mul,
                placed.height_mul,
                ink,
            );
            if placed.style.underline > 0 && !placed.style.reverse {
                let thickness = u32::from(placed.style.underline);
                image.fill(placed.x, bottom - thickness, placed.advance, thickness, 0);
            }
        }
    }

    fn glyph(&mut self, placed: &PlacedChar) -> MonoBitmap {
        let ch = if placed.four_byte && !self.four_byte_glyphs {
            // The printer's GBK font has no such character: an empty box.
            '\u{10FFFF}'
        } else {
            placed.ch
        };
        let key = (ch, placed.kind, placed.style.bold);
        if let Some(cell) = self.cache.get(&key) {
            return cell.clone();
        }
        let cell = self.font.glyph_cell(ch, placed.kind);
        let cell = if placed.style.bold {
            font::embolden(&cell)
        } else {
            cell
        };
        self.cache.insert(key, cell.clone());
        cell
    }
}

fn run_model(bytes: &[u8]) -> (Vec<Mark>, u64) {
    let mut model = PaperModel::new();
    for (item, raw) in StreamParser::new().push(bytes) {
        model.apply(&item, &raw);
    }
    model.flush();
    let end = model.fed_dots();
    (model.take_marks(), end)
}

/// Draw the black dots of `bitmap` at (left, top), each `sx × sy` dots, in grey `ink`.
fn blit(
    image: &mut RenderedReceipt,
    bitmap: &MonoBitmap,
    left: u32,
    top: u32,
    sx: u32,
    sy: u32,
    ink: u8,
) {
    for y in 0..bitmap.height() {
        for x in 0..bitmap.width() {
            if bitmap.get(x, y) {
                image.fill(left + x * sx, top + y * sy, sx, sy, ink);
            }
        }
    }
}

fn draw_cut_line(image: &mut RenderedReceipt, y: u32, partial: bool) {
    let width = image.width();
    let bridge = (width / 2 - 16)..(width / 2 + 16);
    for x in 0..width {
        if x % 12 >= 8 || (partial && bridge.contains(&x)) {
            continue;
        }
        image.put(x, y, CUT_GREY);
        image.put(x, y + 1, CUT_GREY);
    }
}

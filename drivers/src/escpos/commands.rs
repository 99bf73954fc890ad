//! The meaning of one ESC/POS command, decoded from the raw bytes the [`StreamParser`] split
//! off (reference §2.2–2.6). The renderer and the paper counter act on these.
//!
//! [`StreamParser`]: super::interpreter::StreamParser

use super::bitmap::MonoBitmap;
use super::receipt::{Align, QrErrorCorrection, QrModel};

/// The printer's built-in alphanumeric fonts (ESC M n).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PrinterFont {
    /// 12 × 24 dots, 48 columns on 80 mm paper.
    #[default]
    A,
    /// 9 × 17 dots, 64 columns.
    B,
}

/// One decoded command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EscPosCommand {
    /// ESC E n / ESC G n: emphasized (bold) or double-strike.
    Bold(bool),
    /// ESC - n: underline 0 (off), 1 or 2 dots thick.
    Underline(u8),
    /// FS - n: underline for Chinese characters.
    ChineseUnderline(u8),
    /// GS B n: white on black.
    Reverse(bool),
    /// ESC M n: font A or B.
    Font(PrinterFont),
    /// GS ! n: width and height multipliers, 1–8 each.
    CharSize {
        /// Width multiplier.
        width: u8,
        /// Height multiplier.
        height: u8,
    },
    /// ESC ! n: font B (bit 0), emphasized (3), double height (4), double width (5),
    /// underline (7).
    PrintMode(u8),
    /// FS ! n: Chinese double width (bit 2), double height (3), underline (7).
    ChinesePrintMode(u8),
    /// FS W n: Chinese quadruple size on or off.
    ChineseQuadruple(bool),
    /// ESC a n.
    Align(Align),
    /// ESC 2 (`None`, the default 30 dots) or ESC 3 n (n dots).
    LineSpacing(Option<u8>),
    /// ESC SP n: space right of each alphanumeric character, in dots.
    RightSpacing(u8),
    /// FS S n1 n2: space left and right of each Chinese character.
    ChineseSpacing {
        /// Left, dots.
        left: u8,
        /// Right, dots.
        right: u8,
    },
    /// ESC d n: print and feed n lines.
    FeedLines(u8),
    /// ESC J n: print and feed n dots.
    FeedDots(u8),
    /// FS & (on) / FS . (off).
    ChineseMode(bool),
    /// GS ( k fn 165.
    QrModel(QrModel),
    /// GS ( k fn 167: module size in dots.
    QrModuleSize(u8),
    /// GS ( k fn 169.
    QrErrorCorrection(QrErrorCorrection),
    /// GS ( k fn 180: payload stored.
    QrStore(Vec<u8>),
    /// GS ( k fn 181: print the stored symbol.
    QrPrint,
    /// GS v 0 m: raster image; `double_width` / `double_height` from m.
    Raster {
        /// m bit 0.
        double_width: bool,
        /// m bit 1.
        double_height: bool,
        /// The image.
        image: MonoBitmap,
    },
    /// GS V: cut, after feeding `feed` dots (function B) or none (function A).
    Cut {
        /// Partial (a bridge left) or full.
        partial: bool,
        /// Dots fed before the cut.
        feed: u8,
    },
    /// Anything else: accepted and ignored.
    Other,
}

/// Decode the raw bytes of one command item.
pub fn decode_command(raw: &[u8]) -> EscPosCommand {
    use EscPosCommand as C;
    let arg = |i: usize| raw.get(i).copied().unwrap_or(0);
    match (arg(0), arg(1)) {
        (0x1B, 0x45 | 0x47) => C::Bold(arg(2) & 1 == 1),
        (0x1B, 0x2D) => C::Underline(underline_dots(arg(2))),
        (0x1C, 0x2D) => C::ChineseUnderline(underline_dots(arg(2))),
        (0x1D, 0x42) => C::Reverse(arg(2) & 1 == 1),
        (0x1B, 0x4D) => C::Font(if arg(2) & 1 == 1 {
            PrinterFont::B
        } else {
            PrinterFont::A
        }),
        (0x1D, 0x21) => C::CharSize {
            width: ((arg(2) >> 4) & 0x07) + 1,
            height: (arg(2) & 0x07) + 1,
        },
        (0x1B, 0x21) => C::PrintMode(arg(2)),
        (0x1C, 0x21) => C::ChinesePrintMode(arg(2)),
        (0x1C, 0x57) => C::ChineseQuadruple(arg(2) & 1 == 1),
        (0x1B, 0x61) => C::Align(match arg(2) {
            1 | 0x31 => Align::Center,
            2 | 0x32 => Align::Right,
            _ => Align::Left,
        }),
        (0x1B, 0x32) => C::LineSpacing(None),
        (0x1B, 0x33) => C::LineSpacing(Some(arg(2))),
        (0x1B, 0x20) => C::RightSpacing(arg(2)),
        (0x1C, 0x53) => C::ChineseSpacing {
            left: arg(2),
            right: arg(3),
        },
        (0x1B, 0x64) => C::FeedLines(arg(2)),
        (0x1B, 0x4A) => C::FeedDots(arg(2)),
        (0x1C, 0x26) => C::ChineseMode(true),
        (0x1C, 0x2E) => C::ChineseMode(false),
        (0x1D, 0x28) if arg(2) == 0x6B && raw.len() >= 8 && arg(5) == 0x31 => {
            decode_qr(arg(6), &raw[7..])
        }
        (0x1D, 0x76) if raw.len() >= 8 => {
            let width_bytes = u16::from_le_bytes([arg(4), arg(5)]);
            let height = u16::from_le_bytes([arg(6), arg(7)]);
            match MonoBitmap::from_packed(width_bytes, height, &raw[8..]) {
                Some(image) => C::Raster {
                    double_width: arg(3) & 1 == 1,
                    double_height: arg(3) & 2 == 2,
                    image,
                },
                None => C::Other,
            }
        }
        (0x1D, 0x56) => match arg(2) {
            0 | 0x30 => C::Cut {
                partial: false,
                feed: 0,
            },
            1 | 0x31 => C::Cut {
                partial: true,
                feed: 0,
            },
            0x41 | 0x61 => C::Cut {
                partial: false,
                feed: arg(3),
            },
            0x42 | 0x62 => C::Cut {
                partial: true,
                feed: arg(3),
            },
            _ => C::Other,
        },
        _ => C::Other,
    }
}

fn underline_dots(n: u8) -> u8 {
    match n {
        1 | 0x31 => 1,
        2 | 0x32 => 2,
        _ => 0,
    }
}

/// GS ( k, cn 49: `function` is the fn byte, `rest` what follows it.
fn decode_qr(function: u8, rest: &[u8]) -> EscPosCommand {
    use EscPosCommand as C;
    let first = rest.first().copied().unwrap_or(0);
    match function {
        0x41 => C::QrModel(match first {
            0x31 => QrModel::Model1,
            0x33 => QrModel::Micro,
            _ => QrModel::Model2,
        }),
        0x43 => C::QrModuleSize(first),
        0x45 => C::QrErrorCorrection(match first {
            0x31 => QrErrorCorrection::M,
            0x32 => QrErrorCorrection::Q,
            0x33 => QrErrorCorrection::H,
            _ => QrErrorCorrection::L,
        }),
        // fn 180: m = 0x30, then the data.
        0x50 => C::QrStore(rest.get(1..).unwrap_or_default().to_vec()),
        0x51 => C::QrPrint,
        _ => C::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EscPosCommand as C;

    #[test]
    fn decodes_the_published_core_commands() {
        assert_eq!(decode_command(&[0x1B, 0x45, 0x01]), C::Bold(true));
        assert_eq!(decode_command(&[0x1B, 0x45, 0x00]), C::Bold(false));
        for n in 0..3u8 {
            assert_eq!(decode_command(&[0x1B, 0x2D, n]), C::Underline(n));
        }
        assert_eq!(decode_command(&[0x1B, 0x61, 0x01]), C::Align(Align::Center));
        assert_eq!(decode_command(&[0x1B, 0x61, 0x02]), C::Align(Align::Right));
        assert_eq!(
            decode_command(&[0x1D, 0x21, 0x11]),
            C::CharSize {
                width: 2,
                height: 2
            }
        );
        assert_eq!(
            decode_command(&[0x1D, 0x21, 0x10]),
            C::CharSize {
                width: 2,
                height: 1
            }
        );
        assert_eq!(decode_command(&[0x1D, 0x42, 0x01]), C::Reverse(true));
        assert_eq!(decode_command(&[0x1B, 0x32]), C::LineSpacing(None));
        assert_eq!(decode_command(&[0x1B, 0x33, 40]), C::LineSpacing(Some(40)));
        assert_eq!(decode_command(&[0x1B, 0x64, 3]), C::FeedLines(3));
        assert_eq!(decode_command(&[0x1B, 0x4A, 9]), C::FeedDots(9));
        assert_eq!(decode_command(&[0x1B, 0x4D, 0x01]), C::Font(PrinterFont::B));
        assert_eq!(decode_command(&[0x1C, 0x26]), C::ChineseMode(true));
        assert_eq!(decode_command(&[0x1C, 0x2E]), C::ChineseMode(false));
        assert_eq!(
            decode_command(&[0x1D, 0x56, 0x42, 0x00]),
            C::Cut {
                partial: true,
                feed: 0
            }
        );
        assert_eq!(
            decode_command(&[0x1D, 0x56, 0x30]),
            C::Cut {
                partial: false,
                feed: 0
            }
        );
        assert_eq!(
            decode_command(&[0x1D, 0x28, 0x6B, 0x07, 0x00, 0x31, 0x50, 0x30, 0x31, 0x32]),
            C::QrStore(b"12".to_vec())
        );
        assert_eq!(
            decode_command(&[0x1D, 0x76, 0x30, 0x03, 0x01, 0x00, 0x01, 0x00, 0x80]),
            C::Raster {
                double_width: true,
                double_height: true,
                image: MonoBitmap::from_packed(1, 1, &[0x80]).expect("1x1")
            }
        );
    }
}

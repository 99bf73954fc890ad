//! Encoding receipts as ESC/POS bytes for 80 mm thermal printers (reference §2.2–2.5).

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
}

/// Builds a receipt: starts with ESC @ and FS & (Chinese mode), text encoded as GB18030.
#[derive(Debug, Clone)]
pub struct ReceiptBuilder {
    bytes: Vec<u8>,
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
        ReceiptBuilder { bytes }
    }

    /// A builder with no initialisation bytes (for fragments and tests).
    pub fn empty() -> Self {
        ReceiptBuilder { bytes: Vec::new() }
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
        self
    }

    /// Character size (GS ! n): width and height multipliers 1–8, clamped.
    pub fn size(mut self, width: u8, height: u8) -> Self {
        let w = width.clamp(1, 8) - 1;
        let h = height.clamp(1, 8) - 1;
        self.bytes.extend_from_slice(&[0x1D, 0x21, (w << 4) | h]);
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

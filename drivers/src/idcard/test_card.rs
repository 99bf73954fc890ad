//! Synthetic test cards for the simulator: loaded from TOML, turned into the 256-byte
//! UCS-2LE text block and a 1024-byte fake WLT photo.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::card_type::TYPE_MARKER_OFFSET;
use super::text_block::{FieldSpan, PHOTO_LEN, TEXT_BLOCK_LEN, layout};

/// The start of the fake WLT photo: "WL", width 102, height 126 (reference §1.8).
pub const WLT_PREFIX: [u8; 10] = [0x57, 0x4C, 0x66, 0x00, 0x7E, 0x00, 0x32, 0x00, 0x00, 0xFF];

/// A synthetic card, as written in a TOML file under `kiosk-config/cards/`.
///
/// All fields are the text as printed on the card (`gender` the code digit, `nation` the
/// two-digit code, dates `YYYYMMDD`, `valid_to` a date or `长期`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCard {
    /// 姓名.
    pub name: String,
    /// 性别 code digit (`1` 男, `2` 女).
    pub gender: String,
    /// 民族 two-digit code.
    pub nation: String,
    /// 出生 `YYYYMMDD`.
    pub birth: String,
    /// 住址.
    pub address: String,
    /// 公民身份号码.
    pub id_number: String,
    /// 签发机关.
    pub issuing_authority: String,
    /// 有效期起始 `YYYYMMDD`.
    pub valid_from: String,
    /// 有效期截止 `YYYYMMDD` or `长期`.
    pub valid_to: String,
    /// Card type marker at byte 248: absent or `" "` for a resident card, `J`, `I` or `Y` for
    /// the other layouts (only the marker is written; the fields stay in resident layout).
    #[serde(default)]
    pub type_marker: Option<char>,
}

/// Why a test card could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TestCardError {
    /// The file could not be read.
    #[error("cannot read test card {path}: {source}")]
    Read {
        /// File path.
        path: String,
        /// I/O error.
        source: std::io::Error,
    },
    /// The TOML is invalid or has unknown keys.
    #[error("invalid test card TOML: {0}")]
    Toml(#[from] toml::de::Error),
    /// A field does not fit its place in the text block.
    #[error("test card field {field} is longer than {max_chars} characters")]
    FieldTooLong {
        /// Which field.
        field: &'static str,
        /// Its capacity.
        max_chars: usize,
    },
}

impl TestCard {
    /// Parse a card from TOML text.
    pub fn from_toml_str(text: &str) -> Result<TestCard, TestCardError> {
        Ok(toml::from_str(text)?)
    }

    /// Load a card from a TOML file.
    pub fn load(path: impl AsRef<Path>) -> Result<TestCard, TestCardError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| TestCardError::Read {
            path: path.display().to_string(),
            source,
        })?;
        TestCard::from_toml_str(&text)
    }

    /// The 256-byte UCS-2LE text block, space-padded, with the type marker at byte 248.
    pub fn text_block(&self) -> Result<Vec<u8>, TestCardError> {
        let mut block = Vec::with_capacity(TEXT_BLOCK_LEN);
        for _ in 0..TEXT_BLOCK_LEN / 2 {
            block.extend_from_slice(&[0x20, 0x00]);
        }
        let fields: [(&'static str, &str, FieldSpan); 9] = [
            ("name", &self.name, layout::NAME),
            ("gender", &self.gender, layout::GENDER),
            ("nation", &self.nation, layout::NATION),
            ("birth", &self.birth, layout::BIRTH),
            ("address", &self.address, layout::ADDRESS),
            ("id_number", &self.id_number, layout::ID_NUMBER),
            (
                "issuing_authority",
                &self.issuing_authority,
                layout::ISSUING_AUTHORITY,
            ),
            ("valid_from", &self.valid_from, layout::VALID_FROM),
            ("valid_to", &self.valid_to, layout::VALID_TO),
        ];
        for (field, text, span) in fields {
            write_field(&mut block, field, text, span)?;
        }
        let marker = self.type_marker.unwrap_or(' ');
        let mut unit = [0u16; 2];
        marker.encode_utf16(&mut unit);
        block[TYPE_MARKER_OFFSET..TYPE_MARKER_OFFSET + 2].copy_from_slice(&unit[0].to_le_bytes());
        Ok(block)
    }

    /// A 1024-byte fake WLT photo: the WLT header prefix, then filler derived from the ID
    /// number (so different cards carry different photos).
    pub fn photo_wlt(&self) -> Vec<u8> {
        let seed = self
            .id_number
            .bytes()
            .fold(0x5Au8, |acc, b| acc.rotate_left(3) ^ b);
        let mut photo = WLT_PREFIX.to_vec();
        photo.extend((WLT_PREFIX.len()..PHOTO_LEN).map(|i| (i as u8).wrapping_mul(31) ^ seed));
        photo
    }
}

fn write_field(
    block: &mut [u8],
    field: &'static str,
    text: &str,
    span: FieldSpan,
) -> Result<(), TestCardError> {
    let units: Vec<u16> = text.encode_utf16().collect();
    if units.len() * 2 > span.len {
        return Err(TestCardError::FieldTooLong {
            field,
            max_chars: span.len / 2,
        });
    }
    for (i, unit) in units.iter().enumerate() {
        let at = span.offset + 2 * i;
        block[at..at + 2].copy_from_slice(&unit.to_le_bytes());
    }
    Ok(())
}

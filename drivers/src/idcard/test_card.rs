//! Synthetic test cards for the simulator: loaded from TOML, turned into the 256-byte
//! UCS-2LE text block and a 1024-byte fake WLT photo.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::card_type::{CardType, TYPE_MARKER_OFFSET};
use super::photo::SIM_PHOTO_MARKER;
use super::text_block::{
    FieldSpan, PHOTO_LEN, TEXT_BLOCK_LEN, foreigner_2017_layout, foreigner_2023_layout, layout,
    permit_layout,
};

/// The start of the fake WLT photo: "WL", width 102, height 126 (reference §1.8).
pub const WLT_PREFIX: [u8; 10] = [0x57, 0x4C, 0x66, 0x00, 0x7E, 0x00, 0x32, 0x00, 0x00, 0xFF];

/// A synthetic card, as written in a TOML file under `kiosk-config/cards/`.
///
/// All fields are the text as printed on the card (`gender` the code digit, `nation` the
/// two-digit code, dates `YYYYMMDD`, `valid_to` a date or `长期`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCard {
    /// 姓名 (the Chinese name; may be empty on foreigner cards).
    #[serde(default)]
    pub name: String,
    /// 性别 code digit (`1` 男, `2` 女).
    pub gender: String,
    /// 民族 two-digit code (resident card; blank on the other cards).
    #[serde(default)]
    pub nation: String,
    /// 出生 `YYYYMMDD`.
    pub birth: String,
    /// 住址 (resident card and residence permit only).
    #[serde(default)]
    pub address: String,
    /// 公民身份号码; on a 2017 foreigner card the 15-character permanent residence number.
    pub id_number: String,
    /// 签发机关; on a 2017 foreigner card the 4-character authority code; none on a 2023 card.
    #[serde(default)]
    pub issuing_authority: String,
    /// 有效期起始 `YYYYMMDD`.
    pub valid_from: String,
    /// 有效期截止 `YYYYMMDD` or `长期`.
    pub valid_to: String,
    /// Card type marker at byte 248: absent or `" "` for a resident card, `J`, `I` or `Y` for
    /// the other layouts (reference §1.7); the fields are written in that card's layout and
    /// `name` is the Chinese name (may be empty on foreigner cards). Any other marker writes
    /// the resident layout with that marker.
    #[serde(default)]
    pub type_marker: Option<char>,
    /// English name (foreigner cards: 60 chars on 'I', 46 on 'Y').
    #[serde(default)]
    pub english_name: String,
    /// 国籍, 3 letters (foreigner cards).
    #[serde(default)]
    pub nationality: String,
    /// 通行证号码 ('J').
    #[serde(default)]
    pub pass_number: String,
    /// 签发次数, 2 digits ('J').
    #[serde(default)]
    pub issue_count: String,
    /// 换证次数, 2 digits ('Y').
    #[serde(default)]
    pub renewal_count: String,
    /// 证件版本, 2 chars ('I').
    #[serde(default)]
    pub card_version: String,
    /// Link to the previous card number, 3 chars ('Y').
    #[serde(default)]
    pub previous_card_link: String,
    /// Fingerprint templates on the card (0, 1 or 2; 512 bytes each) for 30 10.
    #[serde(default)]
    pub fingerprints: u8,
    /// 追加住址 for 30 03 (up to 35 chars); absent: the reader answers "no content" (0x91).
    #[serde(default)]
    pub additional_address: Option<String>,
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
    /// A field is set that the card type's layout does not have.
    #[error("test card field {field} does not exist on a {card} card")]
    FieldNotInLayout {
        /// Which field.
        field: &'static str,
        /// The card type.
        card: &'static str,
    },
    /// `fingerprints` is more than 2.
    #[error("a card holds 0, 1 or 2 fingerprints, not {0}")]
    TooManyFingerprints(u8),
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

    /// The 256-byte UCS-2LE text block, space-padded, in the layout the type marker names,
    /// with the marker at byte 248.
    pub fn text_block(&self) -> Result<Vec<u8>, TestCardError> {
        let mut block = Vec::with_capacity(TEXT_BLOCK_LEN);
        for _ in 0..TEXT_BLOCK_LEN / 2 {
            block.extend_from_slice(&[0x20, 0x00]);
        }
        let marker = self.type_marker.unwrap_or(' ');
        let card_type = CardType::from_marker(marker as u32 as u16);
        let fields: Vec<(&'static str, &str, FieldSpan)> = match card_type {
            CardType::ForeignerPermanentResidence2017 => {
                use foreigner_2017_layout as l;
                self.refuse(
                    &[("nation", &self.nation), ("address", &self.address)],
                    "2017 foreigner",
                )?;
                vec![
                    ("english_name", self.english_name.as_str(), l::ENGLISH_NAME),
                    ("gender", self.gender.as_str(), l::GENDER),
                    (
                        "id_number",
                        self.id_number.as_str(),
                        l::PERMANENT_RESIDENCE_NUMBER,
                    ),
                    ("nationality", self.nationality.as_str(), l::NATIONALITY),
                    ("name", self.name.as_str(), l::CHINESE_NAME),
                    ("valid_from", self.valid_from.as_str(), l::VALID_FROM),
                    ("valid_to", self.valid_to.as_str(), l::VALID_TO),
                    ("birth", self.birth.as_str(), l::BIRTH),
                    ("card_version", self.card_version.as_str(), l::CARD_VERSION),
                    (
                        "issuing_authority",
                        self.issuing_authority.as_str(),
                        l::ISSUING_AUTHORITY_CODE,
                    ),
                ]
            }
            CardType::ForeignerPermanentResidence2023 => {
                use foreigner_2023_layout as l;
                self.refuse(
                    &[
                        ("nation", &self.nation),
                        ("address", &self.address),
                        ("issuing_authority", &self.issuing_authority),
                    ],
                    "2023 foreigner",
                )?;
                let split = self
                    .english_name
                    .char_indices()
                    .nth(35)
                    .map_or(self.english_name.len(), |(at, _)| at);
                vec![
                    ("name", self.name.as_str(), l::CHINESE_NAME),
                    ("gender", self.gender.as_str(), l::GENDER),
                    (
                        "renewal_count",
                        self.renewal_count.as_str(),
                        l::RENEWAL_COUNT,
                    ),
                    ("birth", self.birth.as_str(), l::BIRTH),
                    (
                        "english_name",
                        &self.english_name[..split],
                        l::ENGLISH_NAME_1,
                    ),
                    ("id_number", self.id_number.as_str(), l::ID_NUMBER),
                    ("valid_from", self.valid_from.as_str(), l::VALID_FROM),
                    ("valid_to", self.valid_to.as_str(), l::VALID_TO),
                    (
                        "english_name",
                        &self.english_name[split..],
                        l::ENGLISH_NAME_2,
                    ),
                    ("nationality", self.nationality.as_str(), l::NATIONALITY),
                    (
                        "previous_card_link",
                        self.previous_card_link.as_str(),
                        l::PREVIOUS_CARD_LINK,
                    ),
                ]
            }
            _ => {
                let mut fields = vec![
                    ("name", self.name.as_str(), layout::NAME),
                    ("gender", self.gender.as_str(), layout::GENDER),
                    ("nation", self.nation.as_str(), layout::NATION),
                    ("birth", self.birth.as_str(), layout::BIRTH),
                    ("address", self.address.as_str(), layout::ADDRESS),
                    ("id_number", self.id_number.as_str(), layout::ID_NUMBER),
                    (
                        "issuing_authority",
                        self.issuing_authority.as_str(),
                        layout::ISSUING_AUTHORITY,
                    ),
                    ("valid_from", self.valid_from.as_str(), layout::VALID_FROM),
                    ("valid_to", self.valid_to.as_str(), layout::VALID_TO),
                ];
                if card_type == CardType::HkMacaoTaiwanResidencePermit {
                    fields.push((
                        "pass_number",
                        self.pass_number.as_str(),
                        permit_layout::PASS_NUMBER,
                    ));
                    fields.push((
                        "issue_count",
                        self.issue_count.as_str(),
                        permit_layout::ISSUE_COUNT,
                    ));
                }
                fields
            }
        };
        for (field, text, span) in fields {
            write_field(&mut block, field, text, span)?;
        }
        let mut unit = [0u16; 2];
        marker.encode_utf16(&mut unit);
        block[TYPE_MARKER_OFFSET..TYPE_MARKER_OFFSET + 2].copy_from_slice(&unit[0].to_le_bytes());
        Ok(block)
    }

    fn refuse(
        &self,
        fields: &[(&'static str, &String)],
        card: &'static str,
    ) -> Result<(), TestCardError> {
        match fields.iter().find(|(_, value)| !value.trim().is_empty()) {
            Some((field, _)) => Err(TestCardError::FieldNotInLayout { field, card }),
            None => Ok(()),
        }
    }

    /// A 1024-byte synthetic WLT photo: the WLT header prefix, the simulator's photo marker and
    /// a seed derived from the ID number (so different cards carry different photos and
    /// [`crate::idcard::photo::SimulatedPhotoDecoder`] draws a distinct synthetic face), then
    /// filler. Never a real person's photo.
    pub fn photo_wlt(&self) -> Vec<u8> {
        let seed = self.id_number.bytes().fold(0x811C_9DC5u32, |acc, b| {
            (acc ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
        simulated_wlt(seed)
    }

    /// The fingerprint data 30 10 returns: `fingerprints` × 512 synthetic bytes.
    pub fn fingerprint_data(&self) -> Result<Vec<u8>, TestCardError> {
        if self.fingerprints > 2 {
            return Err(TestCardError::TooManyFingerprints(self.fingerprints));
        }
        let seed = self
            .id_number
            .bytes()
            .fold(0xA5u8, |acc, b| acc.rotate_left(1) ^ b);
        Ok((0..usize::from(self.fingerprints) * 512)
            .map(|i| {
                if i % 512 == 0 {
                    0x43 // the usual first byte of a template
                } else {
                    (i as u8).wrapping_mul(13) ^ seed
                }
            })
            .collect())
    }

    /// The 70-byte UCS-2LE additional-address payload of 30 03, or `None` ("no content").
    pub fn additional_address_block(&self) -> Result<Option<Vec<u8>>, TestCardError> {
        let Some(address) = &self.additional_address else {
            return Ok(None);
        };
        let mut block: Vec<u8> = std::iter::repeat_n([0x20u8, 0x00], 35).flatten().collect();
        write_field(
            &mut block,
            "additional_address",
            address,
            FieldSpan { offset: 0, len: 70 },
        )?;
        Ok(Some(block))
    }
}

/// A 1024-byte synthetic WLT carrying `seed` for the simulator's photo decoder.
pub fn simulated_wlt(seed: u32) -> Vec<u8> {
    let mut photo = WLT_PREFIX.to_vec();
    photo.extend_from_slice(&SIM_PHOTO_MARKER);
    photo.extend_from_slice(&seed.to_le_bytes());
    let filler = seed.to_le_bytes()[0];
    photo.extend((photo.len()..PHOTO_LEN).map(|i| (i as u8).wrapping_mul(31) ^ filler));
    photo
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

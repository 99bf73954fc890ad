//! The 256-byte UCS-2LE text block of a resident ID card (reference §1.6).

use super::card_type::CardType;
use super::error::IdCardError;
use super::identity::{CardDate, Gender, ResidentIdentity, ValidUntil, id_number_check_char};
use super::nation::Nation;

/// Length of the text block.
pub const TEXT_BLOCK_LEN: usize = 256;
/// Length of the WLT photo.
pub const PHOTO_LEN: usize = 1024;

/// Where a field sits in the resident layout: byte offset and byte length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpan {
    /// Byte offset in the block.
    pub offset: usize,
    /// Length in bytes (two per UCS-2 character).
    pub len: usize,
}

/// The resident layout.
pub mod layout {
    use super::FieldSpan;
    /// 姓名, 15 chars.
    pub const NAME: FieldSpan = FieldSpan { offset: 0, len: 30 };
    /// 性别, 1 char.
    pub const GENDER: FieldSpan = FieldSpan { offset: 30, len: 2 };
    /// 民族, 2 chars.
    pub const NATION: FieldSpan = FieldSpan { offset: 32, len: 4 };
    /// 出生, 8 chars.
    pub const BIRTH: FieldSpan = FieldSpan {
        offset: 36,
        len: 16,
    };
    /// 住址, 35 chars.
    pub const ADDRESS: FieldSpan = FieldSpan {
        offset: 52,
        len: 70,
    };
    /// 公民身份号码, 18 chars.
    pub const ID_NUMBER: FieldSpan = FieldSpan {
        offset: 122,
        len: 36,
    };
    /// 签发机关, 15 chars.
    pub const ISSUING_AUTHORITY: FieldSpan = FieldSpan {
        offset: 158,
        len: 30,
    };
    /// 有效期起始, 8 chars.
    pub const VALID_FROM: FieldSpan = FieldSpan {
        offset: 188,
        len: 16,
    };
    /// 有效期截止, 8 chars or 长期.
    pub const VALID_TO: FieldSpan = FieldSpan {
        offset: 204,
        len: 16,
    };
}

/// 长期 as written in the valid-to field.
pub const LONG_TERM: &str = "长期";

/// Decode one field: UCS-2LE, trailing spaces and NULs trimmed.
pub fn decode_field(block: &[u8], span: FieldSpan) -> Result<String, IdCardError> {
    let bytes = block
        .get(span.offset..span.offset + span.len)
        .ok_or_else(|| IdCardError::Framing("text block too short".to_owned()))?;
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    let text = String::from_utf16(&units).map_err(|_| IdCardError::BadField {
        field: "text",
        reason: "not valid UCS-2".to_owned(),
    })?;
    Ok(text.trim_end_matches([' ', '\0']).to_owned())
}

fn required(block: &[u8], span: FieldSpan, field: &'static str) -> Result<String, IdCardError> {
    let text = decode_field(block, span)?;
    if text.trim().is_empty() {
        return Err(IdCardError::BadField {
            field,
            reason: "empty".to_owned(),
        });
    }
    Ok(text)
}

fn date(block: &[u8], span: FieldSpan, field: &'static str) -> Result<CardDate, IdCardError> {
    let text = decode_field(block, span)?;
    CardDate::from_card_text(&text).ok_or_else(|| IdCardError::BadField {
        field,
        reason: "not a YYYYMMDD date".to_owned(),
    })
}

/// Check an 18-character resident ID number: 17 digits and a correct MOD 11-2 check character.
pub fn verify_id_number(id_number: &str) -> Result<(), IdCardError> {
    let chars: Vec<char> = id_number.chars().collect();
    if chars.len() != 18 || !chars[..17].iter().all(char::is_ascii_digit) {
        return Err(IdCardError::BadField {
            field: "id_number",
            reason: "not 17 digits and a check character".to_owned(),
        });
    }
    let first17: String = chars[..17].iter().collect();
    match id_number_check_char(&first17) {
        Some(expected) if expected == chars[17].to_ascii_uppercase() => Ok(()),
        _ => Err(IdCardError::BadCheckDigit),
    }
}

/// Parse a resident card's text block and photo into an identity. A block whose type marker
/// is not the resident one is an [`IdCardError::UnsupportedCardType`].
pub fn parse_resident(block: &[u8], photo: &[u8]) -> Result<ResidentIdentity, IdCardError> {
    if block.len() != TEXT_BLOCK_LEN {
        return Err(IdCardError::Framing(format!(
            "text block is {} bytes, expected {TEXT_BLOCK_LEN}",
            block.len()
        )));
    }
    let card_type = CardType::of_text_block(block);
    if card_type != CardType::Resident {
        return Err(IdCardError::UnsupportedCardType(card_type));
    }
    let gender_text = decode_field(block, layout::GENDER)?;
    let gender = Gender::from_card_text(&gender_text).ok_or_else(|| IdCardError::BadField {
        field: "gender",
        reason: "not a GB/T 2261.1 code".to_owned(),
    })?;
    let nation_text = decode_field(block, layout::NATION)?;
    let nation = Nation::from_card_text(&nation_text).ok_or_else(|| IdCardError::BadField {
        field: "nation",
        reason: "not a GB 3304 code".to_owned(),
    })?;
    let id_number = decode_field(block, layout::ID_NUMBER)?.to_ascii_uppercase();
    verify_id_number(&id_number)?;
    let valid_to_text = decode_field(block, layout::VALID_TO)?;
    let valid_until = if valid_to_text == LONG_TERM {
        ValidUntil::LongTerm
    } else {
        ValidUntil::Date(CardDate::from_card_text(&valid_to_text).ok_or_else(|| {
            IdCardError::BadField {
                field: "valid_to",
                reason: "neither YYYYMMDD nor 长期".to_owned(),
            }
        })?)
    };
    Ok(ResidentIdentity {
        card_type,
        name: required(block, layout::NAME, "name")?,
        gender,
        nation,
        birth: date(block, layout::BIRTH, "birth")?,
        address: required(block, layout::ADDRESS, "address")?,
        id_number,
        issuing_authority: required(block, layout::ISSUING_AUTHORITY, "issuing_authority")?,
        valid_from: date(block, layout::VALID_FROM, "valid_from")?,
        valid_until,
        photo_wlt: photo.to_vec(),
    })
}

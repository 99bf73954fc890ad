//! The 256-byte UCS-2LE text block of a resident ID card (reference §1.6).

use super::card_identity::{
    CardIdentity, ForeignerCard2017Identity, ForeignerCard2023Identity, ResidencePermitIdentity,
};
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

const fn span(offset: usize, len: usize) -> FieldSpan {
    FieldSpan { offset, len }
}

/// The 'J' layout (港澳台居民居住证): the resident layout for bytes 0–219 (民族 blank), then these.
pub mod permit_layout {
    use super::{FieldSpan, span};
    /// 通行证号码, 9 chars.
    pub const PASS_NUMBER: FieldSpan = span(220, 18);
    /// 签发次数, 2 chars.
    pub const ISSUE_COUNT: FieldSpan = span(238, 4);
}

/// The 'I' layout (外国人永久居留证, 2017).
pub mod foreigner_2017_layout {
    use super::{FieldSpan, span};
    /// English name, 60 chars.
    pub const ENGLISH_NAME: FieldSpan = span(0, 120);
    /// 性别, 1 char.
    pub const GENDER: FieldSpan = span(120, 2);
    /// 永久居留证号码, 15 chars.
    pub const PERMANENT_RESIDENCE_NUMBER: FieldSpan = span(122, 30);
    /// 国籍, 3 chars (ISO 3166-1 alpha-3).
    pub const NATIONALITY: FieldSpan = span(152, 6);
    /// 中文姓名, 15 chars.
    pub const CHINESE_NAME: FieldSpan = span(158, 30);
    /// 有效期起始, 8 chars.
    pub const VALID_FROM: FieldSpan = span(188, 16);
    /// 有效期截止, 8 chars.
    pub const VALID_TO: FieldSpan = span(204, 16);
    /// 出生, 8 chars.
    pub const BIRTH: FieldSpan = span(220, 16);
    /// 证件版本, 2 chars.
    pub const CARD_VERSION: FieldSpan = span(236, 4);
    /// 受理机关代码, 4 chars.
    pub const ISSUING_AUTHORITY_CODE: FieldSpan = span(240, 8);
}

/// The 'Y' layout (外国人永久居留身份证, 2023).
pub mod foreigner_2023_layout {
    use super::{FieldSpan, span};
    /// 中文姓名, 15 chars.
    pub const CHINESE_NAME: FieldSpan = span(0, 30);
    /// 性别, 1 char.
    pub const GENDER: FieldSpan = span(30, 2);
    /// 换证次数, 2 chars.
    pub const RENEWAL_COUNT: FieldSpan = span(32, 4);
    /// 出生, 8 chars.
    pub const BIRTH: FieldSpan = span(36, 16);
    /// English name, characters 1–35.
    pub const ENGLISH_NAME_1: FieldSpan = span(52, 70);
    /// 证件号码, 18 chars.
    pub const ID_NUMBER: FieldSpan = span(122, 36);
    /// 有效期起始, 8 chars.
    pub const VALID_FROM: FieldSpan = span(188, 16);
    /// 有效期截止, 8 chars.
    pub const VALID_TO: FieldSpan = span(204, 16);
    /// English name, characters 36–46.
    pub const ENGLISH_NAME_2: FieldSpan = span(220, 22);
    /// 国籍 code, 3 chars.
    pub const NATIONALITY: FieldSpan = span(242, 6);
    /// Link to the previous card number, 3 chars.
    pub const PREVIOUS_CARD_LINK: FieldSpan = span(250, 6);
}

/// 长期 as written in the valid-to field.
pub const LONG_TERM: &str = "长期";

/// Decode one field: UCS-2LE, trailing spaces and NULs trimmed. A control character left
/// after trimming (an interior NUL, ESC, CR…) is never on a real card: the field, and with it
/// the read, is rejected rather than passed on to screens and logs.
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
    let text = text.trim_end_matches([' ', '\0']);
    if text.chars().any(char::is_control) {
        return Err(IdCardError::BadField {
            field: "text",
            reason: "control character inside the field".to_owned(),
        });
    }
    Ok(text.to_owned())
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

fn optional(block: &[u8], span: FieldSpan) -> Result<Option<String>, IdCardError> {
    let text = decode_field(block, span)?;
    let text = text.trim();
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

fn gender(block: &[u8], span: FieldSpan) -> Result<Gender, IdCardError> {
    let text = decode_field(block, span)?;
    Gender::from_card_text(&text).ok_or_else(|| IdCardError::BadField {
        field: "gender",
        reason: "not a GB/T 2261.1 code".to_owned(),
    })
}

fn valid_until(block: &[u8], span: FieldSpan) -> Result<ValidUntil, IdCardError> {
    let text = decode_field(block, span)?;
    if text == LONG_TERM {
        return Ok(ValidUntil::LongTerm);
    }
    CardDate::from_card_text(&text)
        .map(ValidUntil::Date)
        .ok_or_else(|| IdCardError::BadField {
            field: "valid_to",
            reason: "neither YYYYMMDD nor 长期".to_owned(),
        })
}

fn count(block: &[u8], span: FieldSpan, field: &'static str) -> Result<u8, IdCardError> {
    let text = decode_field(block, span)?;
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdCardError::BadField {
            field,
            reason: "not a 2-digit count".to_owned(),
        });
    }
    text.parse().map_err(|_| IdCardError::BadField {
        field,
        reason: "not a 2-digit count".to_owned(),
    })
}

fn code(
    block: &[u8],
    span: FieldSpan,
    field: &'static str,
    alphabetic: bool,
) -> Result<String, IdCardError> {
    let text = required(block, span, field)?;
    let ok = text.chars().all(|c| {
        if alphabetic {
            c.is_ascii_alphabetic()
        } else {
            c.is_ascii_alphanumeric()
        }
    });
    if !ok {
        return Err(IdCardError::BadField {
            field,
            reason: "unexpected characters".to_owned(),
        });
    }
    Ok(text.to_ascii_uppercase())
}

fn check_block(block: &[u8]) -> Result<(), IdCardError> {
    if block.len() != TEXT_BLOCK_LEN {
        return Err(IdCardError::Framing(format!(
            "text block is {} bytes, expected {TEXT_BLOCK_LEN}",
            block.len()
        )));
    }
    Ok(())
}

/// Parse any card's text block and photo, choosing the layout by the type marker at byte 248.
/// An unknown marker is an [`IdCardError::UnsupportedCardType`]; ID numbers of resident cards,
/// residence permits and 2023 foreigner cards must have a correct check digit.
pub fn parse_card(block: &[u8], photo: &[u8]) -> Result<CardIdentity, IdCardError> {
    check_block(block)?;
    match CardType::of_text_block(block) {
        CardType::Resident => parse_resident(block, photo).map(CardIdentity::Resident),
        CardType::HkMacaoTaiwanResidencePermit => {
            parse_residence_permit(block, photo).map(CardIdentity::ResidencePermit)
        }
        CardType::ForeignerPermanentResidence2017 => {
            parse_foreigner_2017(block, photo).map(CardIdentity::Foreigner2017)
        }
        CardType::ForeignerPermanentResidence2023 => {
            parse_foreigner_2023(block, photo).map(CardIdentity::Foreigner2023)
        }
        other @ CardType::Unknown(_) => Err(IdCardError::UnsupportedCardType(other)),
    }
}

/// Parse a 'J' block (港澳台居民居住证).
pub fn parse_residence_permit(
    block: &[u8],
    photo: &[u8],
) -> Result<ResidencePermitIdentity, IdCardError> {
    check_block(block)?;
    let id_number = decode_field(block, layout::ID_NUMBER)?.to_ascii_uppercase();
    verify_id_number(&id_number)?;
    Ok(ResidencePermitIdentity {
        name: required(block, layout::NAME, "name")?,
        gender: gender(block, layout::GENDER)?,
        birth: date(block, layout::BIRTH, "birth")?,
        address: required(block, layout::ADDRESS, "address")?,
        id_number,
        issuing_authority: required(block, layout::ISSUING_AUTHORITY, "issuing_authority")?,
        valid_from: date(block, layout::VALID_FROM, "valid_from")?,
        valid_until: valid_until(block, layout::VALID_TO)?,
        pass_number: code(block, permit_layout::PASS_NUMBER, "pass_number", false)?,
        issue_count: count(block, permit_layout::ISSUE_COUNT, "issue_count")?,
        photo_wlt: photo.to_vec(),
    })
}

/// Parse an 'I' block (外国人永久居留证, 2017).
pub fn parse_foreigner_2017(
    block: &[u8],
    photo: &[u8],
) -> Result<ForeignerCard2017Identity, IdCardError> {
    use foreigner_2017_layout as l;
    check_block(block)?;
    let english_name = required(block, l::ENGLISH_NAME, "english_name")?;
    Ok(ForeignerCard2017Identity {
        english_name: english_name.trim().to_owned(),
        chinese_name: optional(block, l::CHINESE_NAME)?,
        gender: gender(block, l::GENDER)?,
        permanent_residence_number: code(
            block,
            l::PERMANENT_RESIDENCE_NUMBER,
            "permanent_residence_number",
            false,
        )?,
        nationality: code(block, l::NATIONALITY, "nationality", true)?,
        birth: date(block, l::BIRTH, "birth")?,
        valid_from: date(block, l::VALID_FROM, "valid_from")?,
        valid_until: valid_until(block, l::VALID_TO)?,
        card_version: decode_field(block, l::CARD_VERSION)?.trim().to_owned(),
        issuing_authority_code: decode_field(block, l::ISSUING_AUTHORITY_CODE)?
            .trim()
            .to_owned(),
        photo_wlt: photo.to_vec(),
    })
}

/// Parse a 'Y' block (外国人永久居留身份证, 2023). The English name is stored in two parts
/// (35 + 11 characters) and joined here.
pub fn parse_foreigner_2023(
    block: &[u8],
    photo: &[u8],
) -> Result<ForeignerCard2023Identity, IdCardError> {
    use foreigner_2023_layout as l;
    check_block(block)?;
    let first = decode_field(block, l::ENGLISH_NAME_1)?;
    let second = decode_field(block, l::ENGLISH_NAME_2)?;
    let english_name = if second.trim().is_empty() {
        first.trim().to_owned()
    } else {
        // Part one is a full 35 characters when part two is used; keep its spaces.
        let mut whole: String = first
            .chars()
            .chain(std::iter::repeat(' '))
            .take(35)
            .collect();
        whole.push_str(&second);
        whole.trim().to_owned()
    };
    if english_name.is_empty() {
        return Err(IdCardError::BadField {
            field: "english_name",
            reason: "empty".to_owned(),
        });
    }
    let id_number = decode_field(block, l::ID_NUMBER)?.to_ascii_uppercase();
    verify_id_number(&id_number)?;
    Ok(ForeignerCard2023Identity {
        chinese_name: optional(block, l::CHINESE_NAME)?,
        english_name,
        gender: gender(block, l::GENDER)?,
        renewal_count: count(block, l::RENEWAL_COUNT, "renewal_count")?,
        birth: date(block, l::BIRTH, "birth")?,
        id_number,
        valid_from: date(block, l::VALID_FROM, "valid_from")?,
        valid_until: valid_until(block, l::VALID_TO)?,
        nationality: code(block, l::NATIONALITY, "nationality", false)?,
        previous_card_link: optional(block, l::PREVIOUS_CARD_LINK)?,
        photo_wlt: photo.to_vec(),
    })
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

//! Every kind of card the SAM reads (reference §1.7): the resident ID card, the HK/Macao/Taiwan
//! residence permit ('J') and the two foreigner permanent-residence cards ('I' 2017, 'Y' 2023),
//! each with the fields that card really has, behind one [`CardIdentity`].
//!
//! Personal fields are private; `Debug` is masked; [`CardIdentity::masked_json`] is for logs and
//! screens and [`CardIdentity::full_json`] only for the operator's explicit unmasked output.

use serde_json::{Value, json};

use super::card_type::CardType;
use super::identity::{CardDate, Gender, ResidentIdentity, ValidUntil};
use kiosk_protocol::{mask_id_number, mask_name};

/// Shows the first `keep` characters of `text` and stars for the rest.
fn mask_tail(text: &str, keep: usize) -> String {
    let shown: String = text.chars().take(keep).collect();
    if text.chars().count() > keep {
        format!("{shown}****")
    } else {
        shown
    }
}

/// 港澳台居民居住证 ('J'): the resident layout without 民族, plus the pass number and the
/// issue count.
#[derive(Clone, PartialEq, Eq)]
pub struct ResidencePermitIdentity {
    pub(crate) name: String,
    pub(crate) gender: Gender,
    pub(crate) birth: CardDate,
    pub(crate) address: String,
    pub(crate) id_number: String,
    pub(crate) issuing_authority: String,
    pub(crate) valid_from: CardDate,
    pub(crate) valid_until: ValidUntil,
    pub(crate) pass_number: String,
    pub(crate) issue_count: u8,
    pub(crate) photo_wlt: Vec<u8>,
}

impl ResidencePermitIdentity {
    /// 姓名. Personal data.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// 性别.
    pub fn gender(&self) -> Gender {
        self.gender
    }
    /// 出生.
    pub fn birth(&self) -> CardDate {
        self.birth
    }
    /// 住址. Personal data.
    pub fn address(&self) -> &str {
        &self.address
    }
    /// 公民身份号码 (810000… HK, 820000… Macao, 830000… Taiwan; check digit verified).
    /// Personal data.
    pub fn id_number(&self) -> &str {
        &self.id_number
    }
    /// 签发机关.
    pub fn issuing_authority(&self) -> &str {
        &self.issuing_authority
    }
    /// 有效期起始.
    pub fn valid_from(&self) -> CardDate {
        self.valid_from
    }
    /// 有效期截止.
    pub fn valid_until(&self) -> ValidUntil {
        self.valid_until
    }
    /// 通行证号码 (the home-return / Taiwan compatriot permit number). Personal data.
    pub fn pass_number(&self) -> &str {
        &self.pass_number
    }
    /// 签发次数.
    pub fn issue_count(&self) -> u8 {
        self.issue_count
    }
    /// The region the ID number prefix names: `"HK"`, `"MO"`, `"TW"` or `None`.
    pub fn region(&self) -> Option<&'static str> {
        match self.id_number.get(..2) {
            Some("81") => Some("HK"),
            Some("82") => Some("MO"),
            Some("83") => Some("TW"),
            _ => None,
        }
    }
}

/// 外国人永久居留证, 2017 version ('I').
#[derive(Clone, PartialEq, Eq)]
pub struct ForeignerCard2017Identity {
    pub(crate) english_name: String,
    pub(crate) chinese_name: Option<String>,
    pub(crate) gender: Gender,
    pub(crate) permanent_residence_number: String,
    pub(crate) nationality: String,
    pub(crate) birth: CardDate,
    pub(crate) valid_from: CardDate,
    pub(crate) valid_until: ValidUntil,
    pub(crate) card_version: String,
    pub(crate) issuing_authority_code: String,
    pub(crate) photo_wlt: Vec<u8>,
}

impl ForeignerCard2017Identity {
    /// English name (up to 60 characters). Personal data.
    pub fn english_name(&self) -> &str {
        &self.english_name
    }
    /// 中文姓名, when the card has one. Personal data.
    pub fn chinese_name(&self) -> Option<&str> {
        self.chinese_name.as_deref()
    }
    /// 性别.
    pub fn gender(&self) -> Gender {
        self.gender
    }
    /// 永久居留证号码 (15 characters). Personal data.
    pub fn permanent_residence_number(&self) -> &str {
        &self.permanent_residence_number
    }
    /// 国籍, ISO 3166-1 alpha-3.
    pub fn nationality(&self) -> &str {
        &self.nationality
    }
    /// 出生.
    pub fn birth(&self) -> CardDate {
        self.birth
    }
    /// 有效期起始.
    pub fn valid_from(&self) -> CardDate {
        self.valid_from
    }
    /// 有效期截止.
    pub fn valid_until(&self) -> ValidUntil {
        self.valid_until
    }
    /// 证件版本 (2 characters).
    pub fn card_version(&self) -> &str {
        &self.card_version
    }
    /// 受理机关代码 (4 characters).
    pub fn issuing_authority_code(&self) -> &str {
        &self.issuing_authority_code
    }
}

/// 外国人永久居留身份证, 2023 version ('Y').
#[derive(Clone, PartialEq, Eq)]
pub struct ForeignerCard2023Identity {
    pub(crate) chinese_name: Option<String>,
    pub(crate) english_name: String,
    pub(crate) gender: Gender,
    pub(crate) renewal_count: u8,
    pub(crate) birth: CardDate,
    pub(crate) id_number: String,
    pub(crate) valid_from: CardDate,
    pub(crate) valid_until: ValidUntil,
    pub(crate) nationality: String,
    pub(crate) previous_card_link: Option<String>,
    pub(crate) photo_wlt: Vec<u8>,
}

impl ForeignerCard2023Identity {
    /// 中文姓名, when the card has one. Personal data.
    pub fn chinese_name(&self) -> Option<&str> {
        self.chinese_name.as_deref()
    }
    /// English name (up to 46 characters, stored in two parts on the card). Personal data.
    pub fn english_name(&self) -> &str {
        &self.english_name
    }
    /// 性别.
    pub fn gender(&self) -> Gender {
        self.gender
    }
    /// 换证次数.
    pub fn renewal_count(&self) -> u8 {
        self.renewal_count
    }
    /// 出生.
    pub fn birth(&self) -> CardDate {
        self.birth
    }
    /// 证件号码 (18 characters, check digit verified). Personal data.
    pub fn id_number(&self) -> &str {
        &self.id_number
    }
    /// 有效期起始.
    pub fn valid_from(&self) -> CardDate {
        self.valid_from
    }
    /// 有效期截止.
    pub fn valid_until(&self) -> ValidUntil {
        self.valid_until
    }
    /// 国籍 code (3 characters).
    pub fn nationality(&self) -> &str {
        &self.nationality
    }
    /// The link to the previous card's number, as stored (3 characters), when present.
    pub fn previous_card_link(&self) -> Option<&str> {
        self.previous_card_link.as_deref()
    }
}

/// The identity on any card the reader understands.
#[derive(Clone, PartialEq, Eq)]
pub enum CardIdentity {
    /// 居民身份证.
    Resident(ResidentIdentity),
    /// 港澳台居民居住证 ('J').
    ResidencePermit(ResidencePermitIdentity),
    /// 外国人永久居留证 2017 ('I').
    Foreigner2017(ForeignerCard2017Identity),
    /// 外国人永久居留身份证 2023 ('Y').
    Foreigner2023(ForeignerCard2023Identity),
}

impl From<ResidentIdentity> for CardIdentity {
    fn from(identity: ResidentIdentity) -> Self {
        CardIdentity::Resident(identity)
    }
}

impl CardIdentity {
    /// Which kind of card this is.
    pub fn card_type(&self) -> CardType {
        match self {
            CardIdentity::Resident(_) => CardType::Resident,
            CardIdentity::ResidencePermit(_) => CardType::HkMacaoTaiwanResidencePermit,
            CardIdentity::Foreigner2017(_) => CardType::ForeignerPermanentResidence2017,
            CardIdentity::Foreigner2023(_) => CardType::ForeignerPermanentResidence2023,
        }
    }

    /// The resident card, if this is one.
    pub fn as_resident(&self) -> Option<&ResidentIdentity> {
        match self {
            CardIdentity::Resident(identity) => Some(identity),
            _ => None,
        }
    }

    /// The name to address the holder by: the Chinese name, or the English name when the card
    /// has no Chinese one. Personal data.
    pub fn name(&self) -> &str {
        match self {
            CardIdentity::Resident(c) => c.name(),
            CardIdentity::ResidencePermit(c) => c.name(),
            CardIdentity::Foreigner2017(c) => c.chinese_name().unwrap_or(c.english_name()),
            CardIdentity::Foreigner2023(c) => c.chinese_name().unwrap_or(c.english_name()),
        }
    }

    /// The English name, on the foreigner cards. Personal data.
    pub fn english_name(&self) -> Option<&str> {
        match self {
            CardIdentity::Foreigner2017(c) => Some(c.english_name()),
            CardIdentity::Foreigner2023(c) => Some(c.english_name()),
            _ => None,
        }
    }

    /// The number identifying the holder: the ID number, or the 2017 card's permanent
    /// residence number. Personal data.
    pub fn document_number(&self) -> &str {
        match self {
            CardIdentity::Resident(c) => c.id_number(),
            CardIdentity::ResidencePermit(c) => c.id_number(),
            CardIdentity::Foreigner2017(c) => c.permanent_residence_number(),
            CardIdentity::Foreigner2023(c) => c.id_number(),
        }
    }

    /// The address, on the cards that carry one (resident card and residence permit).
    /// Personal data.
    pub fn address(&self) -> Option<&str> {
        match self {
            CardIdentity::Resident(c) => Some(c.address()),
            CardIdentity::ResidencePermit(c) => Some(c.address()),
            _ => None,
        }
    }

    /// 性别.
    pub fn gender(&self) -> Gender {
        match self {
            CardIdentity::Resident(c) => c.gender(),
            CardIdentity::ResidencePermit(c) => c.gender(),
            CardIdentity::Foreigner2017(c) => c.gender(),
            CardIdentity::Foreigner2023(c) => c.gender(),
        }
    }

    /// 出生.
    pub fn birth(&self) -> CardDate {
        match self {
            CardIdentity::Resident(c) => c.birth(),
            CardIdentity::ResidencePermit(c) => c.birth(),
            CardIdentity::Foreigner2017(c) => c.birth(),
            CardIdentity::Foreigner2023(c) => c.birth(),
        }
    }

    /// 有效期起始.
    pub fn valid_from(&self) -> CardDate {
        match self {
            CardIdentity::Resident(c) => c.valid_from(),
            CardIdentity::ResidencePermit(c) => c.valid_from(),
            CardIdentity::Foreigner2017(c) => c.valid_from(),
            CardIdentity::Foreigner2023(c) => c.valid_from(),
        }
    }

    /// 有效期截止.
    pub fn valid_until(&self) -> ValidUntil {
        match self {
            CardIdentity::Resident(c) => c.valid_until(),
            CardIdentity::ResidencePermit(c) => c.valid_until(),
            CardIdentity::Foreigner2017(c) => c.valid_until(),
            CardIdentity::Foreigner2023(c) => c.valid_until(),
        }
    }

    /// Whether the card has expired on `today` (valid through its end date; 长期 never expires).
    pub fn is_expired(&self, today: CardDate) -> bool {
        self.valid_until().is_expired(today)
    }

    /// The 1024-byte WLT photo, undecoded.
    pub fn photo_wlt(&self) -> &[u8] {
        match self {
            CardIdentity::Resident(c) => c.photo_wlt(),
            CardIdentity::ResidencePermit(c) => &c.photo_wlt,
            CardIdentity::Foreigner2017(c) => &c.photo_wlt,
            CardIdentity::Foreigner2023(c) => &c.photo_wlt,
        }
    }

    /// The holder's name masked (`张**`, `J*** S****`).
    pub fn masked_name(&self) -> String {
        mask_name(self.name())
    }

    /// The document number masked (18 characters: birth digits hidden; otherwise all but the
    /// first and last two characters).
    pub fn masked_document_number(&self) -> String {
        mask_id_number(self.document_number())
    }

    /// For logs and screens: names, numbers and address masked, birth reduced to the year, the
    /// photo reduced to its length.
    pub fn masked_json(&self) -> Value {
        match self {
            CardIdentity::Resident(c) => c.masked_json(),
            CardIdentity::ResidencePermit(c) => json!({
                "card_type": self.card_type().as_str(),
                "name": mask_name(&c.name),
                "gender": c.gender.as_str(),
                "birth_year": c.birth.year,
                "address": mask_tail(&c.address, 6),
                "id_number": mask_id_number(&c.id_number),
                "region": c.region(),
                "issuing_authority": c.issuing_authority,
                "valid_from": c.valid_from.to_string(),
                "valid_until": c.valid_until.to_string(),
                "pass_number": mask_id_number(&c.pass_number),
                "issue_count": c.issue_count,
                "photo_wlt_bytes": c.photo_wlt.len(),
            }),
            CardIdentity::Foreigner2017(c) => json!({
                "card_type": self.card_type().as_str(),
                "english_name": mask_name(&c.english_name),
                "chinese_name": c.chinese_name.as_deref().map(mask_name),
                "gender": c.gender.as_str(),
                "birth_year": c.birth.year,
                "permanent_residence_number": mask_id_number(&c.permanent_residence_number),
                "nationality": c.nationality,
                "valid_from": c.valid_from.to_string(),
                "valid_until": c.valid_until.to_string(),
                "card_version": c.card_version,
                "issuing_authority_code": c.issuing_authority_code,
                "photo_wlt_bytes": c.photo_wlt.len(),
            }),
            CardIdentity::Foreigner2023(c) => json!({
                "card_type": self.card_type().as_str(),
                "chinese_name": c.chinese_name.as_deref().map(mask_name),
                "english_name": mask_name(&c.english_name),
                "gender": c.gender.as_str(),
                "birth_year": c.birth.year,
                "id_number": mask_id_number(&c.id_number),
                "nationality": c.nationality,
                "renewal_count": c.renewal_count,
                "valid_from": c.valid_from.to_string(),
                "valid_until": c.valid_until.to_string(),
                "photo_wlt_bytes": c.photo_wlt.len(),
            }),
        }
    }

    /// Every field unmasked. Only for the operator's explicit `--unmasked` output; never log it.
    pub fn full_json(&self) -> Value {
        match self {
            CardIdentity::Resident(c) => c.full_json(),
            CardIdentity::ResidencePermit(c) => json!({
                "card_type": self.card_type().as_str(),
                "name": c.name,
                "gender": c.gender.as_str(),
                "gender_zh": c.gender.zh(),
                "birth": c.birth.to_string(),
                "address": c.address,
                "id_number": c.id_number,
                "region": c.region(),
                "issuing_authority": c.issuing_authority,
                "valid_from": c.valid_from.to_string(),
                "valid_until": c.valid_until.to_string(),
                "pass_number": c.pass_number,
                "issue_count": c.issue_count,
                "photo_wlt_bytes": c.photo_wlt.len(),
            }),
            CardIdentity::Foreigner2017(c) => json!({
                "card_type": self.card_type().as_str(),
                "english_name": c.english_name,
                "chinese_name": c.chinese_name,
                "gender": c.gender.as_str(),
                "gender_zh": c.gender.zh(),
                "birth": c.birth.to_string(),
                "permanent_residence_number": c.permanent_residence_number,
                "nationality": c.nationality,
                "valid_from": c.valid_from.to_string(),
                "valid_until": c.valid_until.to_string(),
                "card_version": c.card_version,
                "issuing_authority_code": c.issuing_authority_code,
                "photo_wlt_bytes": c.photo_wlt.len(),
            }),
            CardIdentity::Foreigner2023(c) => json!({
                "card_type": self.card_type().as_str(),
                "chinese_name": c.chinese_name,
                "english_name": c.english_name,
                "gender": c.gender.as_str(),
                "gender_zh": c.gender.zh(),
                "birth": c.birth.to_string(),
                "id_number": c.id_number,
                "nationality": c.nationality,
                "renewal_count": c.renewal_count,
                "previous_card_link": c.previous_card_link,
                "valid_from": c.valid_from.to_string(),
                "valid_until": c.valid_until.to_string(),
                "photo_wlt_bytes": c.photo_wlt.len(),
            }),
        }
    }
}

impl std::fmt::Debug for CardIdentity {
    /// Masked, like [`CardIdentity::masked_json`].
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CardIdentity::Resident(c) => f.debug_tuple("Resident").field(c).finish(),
            other => write!(f, "CardIdentity({})", other.masked_json()),
        }
    }
}

macro_rules! masked_debug {
    ($ty:ty, $variant:ident) => {
        impl std::fmt::Debug for $ty {
            /// Masked, like [`CardIdentity::masked_json`].
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let whole = CardIdentity::$variant(self.clone());
                write!(f, "{}({})", stringify!($ty), whole.masked_json())
            }
        }
    };
}

masked_debug!(ResidencePermitIdentity, ResidencePermit);
masked_debug!(ForeignerCard2017Identity, Foreigner2017);
masked_debug!(ForeignerCard2023Identity, Foreigner2023);

//! The identity read from a resident ID card. Personal fields are private and never shown
//! unmasked by `Debug`: use [`ResidentIdentity::masked_json`] for logs and screens, and
//! [`ResidentIdentity::full_json`] only where the operator asked for unmasked output.

use serde_json::{Value, json};

use super::card_type::CardType;
use super::nation::Nation;
use kiosk_protocol::{mask_id_number, mask_name};

/// Gender code of GB/T 2261.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gender {
    /// `0` 未知.
    Unknown,
    /// `1` 男.
    Male,
    /// `2` 女.
    Female,
    /// `9` 未说明.
    Unspecified,
}

impl Gender {
    /// The gender for the code digit on the card.
    pub fn from_card_text(text: &str) -> Option<Gender> {
        match text {
            "0" => Some(Gender::Unknown),
            "1" => Some(Gender::Male),
            "2" => Some(Gender::Female),
            "9" => Some(Gender::Unspecified),
            _ => None,
        }
    }

    /// The code digit as written on the card.
    pub fn card_text(self) -> &'static str {
        match self {
            Gender::Unknown => "0",
            Gender::Male => "1",
            Gender::Female => "2",
            Gender::Unspecified => "9",
        }
    }

    /// Chinese display name.
    pub fn zh(self) -> &'static str {
        match self {
            Gender::Unknown => "未知",
            Gender::Male => "男",
            Gender::Female => "女",
            Gender::Unspecified => "未说明",
        }
    }

    /// snake_case English name.
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Unknown => "unknown",
            Gender::Male => "male",
            Gender::Female => "female",
            Gender::Unspecified => "unspecified",
        }
    }
}

/// A calendar date as written on the card (`YYYYMMDD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CardDate {
    /// Year.
    pub year: u16,
    /// Month 1–12.
    pub month: u8,
    /// Day 1–31.
    pub day: u8,
}

impl CardDate {
    /// Parse `YYYYMMDD`, checking month and day ranges.
    pub fn from_card_text(text: &str) -> Option<CardDate> {
        if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let year = text[0..4].parse().ok()?;
        let month: u8 = text[4..6].parse().ok()?;
        let day: u8 = text[6..8].parse().ok()?;
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if is_leap(year) => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days_in_month)
            .contains(&day)
            .then_some(CardDate { year, month, day })
    }

    /// `YYYYMMDD`, as on the card.
    pub fn card_text(self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }

    /// The civil date at `unix_seconds` in a zone `utc_offset_seconds` east of UTC (China
    /// Standard Time is `8 * 3600`). Dates before 1970 or after 9999 are clamped.
    pub fn from_unix_seconds(unix_seconds: i64, utc_offset_seconds: i64) -> CardDate {
        let days = (unix_seconds.saturating_add(utc_offset_seconds)).div_euclid(86_400);
        // Howard Hinnant's civil_from_days.
        let z = days.clamp(0, 2_932_896) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
        CardDate { year, month, day }
    }

    /// Today in China Standard Time (UTC+8), from the system clock.
    pub fn today_china() -> CardDate {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        CardDate::from_unix_seconds(now, 8 * 3600)
    }
}

fn is_leap(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

impl std::fmt::Display for CardDate {
    /// `YYYY-MM-DD`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// End of validity: a date, or 长期 (long-term).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValidUntil {
    /// Valid up to and including this date.
    Date(CardDate),
    /// 长期: no end date.
    LongTerm,
}

impl ValidUntil {
    /// Whether a card valid until `self` has expired on `today`. A card is still valid on its
    /// end date; a 长期 card never expires.
    pub fn is_expired(self, today: CardDate) -> bool {
        match self {
            ValidUntil::Date(end) => today > end,
            ValidUntil::LongTerm => false,
        }
    }
}

impl std::fmt::Display for ValidUntil {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValidUntil::Date(date) => date.fmt(f),
            ValidUntil::LongTerm => f.write_str("长期"),
        }
    }
}

/// The ISO 7064 MOD 11-2 check character of the first 17 digits of a resident ID number, or
/// `None` when those are not 17 ASCII digits.
pub fn id_number_check_char(first17: &str) -> Option<char> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += c.to_digit(10)? * w;
    }
    Some(CHECK[(sum % 11) as usize])
}

/// The identity on a resident ID card (居民身份证), with the raw WLT photo.
#[derive(Clone, PartialEq, Eq)]
pub struct ResidentIdentity {
    pub(crate) card_type: CardType,
    pub(crate) name: String,
    pub(crate) gender: Gender,
    pub(crate) nation: Nation,
    pub(crate) birth: CardDate,
    pub(crate) address: String,
    pub(crate) id_number: String,
    pub(crate) issuing_authority: String,
    pub(crate) valid_from: CardDate,
    pub(crate) valid_until: ValidUntil,
    pub(crate) photo_wlt: Vec<u8>,
}

impl ResidentIdentity {
    /// The card type marker (always [`CardType::Resident`] for now).
    pub fn card_type(&self) -> CardType {
        self.card_type
    }
    /// 姓名. Personal data: mask before logging.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// 性别.
    pub fn gender(&self) -> Gender {
        self.gender
    }
    /// 民族.
    pub fn nation(&self) -> Nation {
        self.nation
    }
    /// 出生.
    pub fn birth(&self) -> CardDate {
        self.birth
    }
    /// 住址. Personal data: mask before logging.
    pub fn address(&self) -> &str {
        &self.address
    }
    /// 公民身份号码 (check digit verified). Personal data: mask before logging.
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
    /// The 1024-byte WLT photo, undecoded.
    pub fn photo_wlt(&self) -> &[u8] {
        &self.photo_wlt
    }

    /// Whether the card has expired on `today` (长期 never does).
    pub fn is_expired(&self, today: CardDate) -> bool {
        self.valid_until.is_expired(today)
    }

    /// Name masked (`张**`).
    pub fn masked_name(&self) -> String {
        mask_name(&self.name)
    }

    /// ID number masked (`110101********123X`).
    pub fn masked_id_number(&self) -> String {
        mask_id_number(&self.id_number)
    }

    /// Address with only its first six characters shown.
    pub fn masked_address(&self) -> String {
        let shown: String = self.address.chars().take(6).collect();
        if self.address.chars().count() > 6 {
            format!("{shown}****")
        } else {
            shown
        }
    }

    /// The identity for logs and screens: name, ID number and address masked, birth reduced to
    /// the year, the photo reduced to its length.
    pub fn masked_json(&self) -> Value {
        json!({
            "card_type": self.card_type.as_str(),
            "name": self.masked_name(),
            "gender": self.gender.as_str(),
            "nation": self.nation.display_name(),
            "birth_year": self.birth.year,
            "address": self.masked_address(),
            "id_number": self.masked_id_number(),
            "issuing_authority": self.issuing_authority,
            "valid_from": self.valid_from.to_string(),
            "valid_until": self.valid_until.to_string(),
            "photo_wlt_bytes": self.photo_wlt.len(),
        })
    }

    /// Every field unmasked. Only for the operator's explicit `--unmasked` output; never log it.
    pub fn full_json(&self) -> Value {
        json!({
            "card_type": self.card_type.as_str(),
            "name": self.name,
            "gender": self.gender.as_str(),
            "gender_zh": self.gender.zh(),
            "nation_code": self.nation.card_text(),
            "nation": self.nation.display_name(),
            "birth": self.birth.to_string(),
            "address": self.address,
            "id_number": self.id_number,
            "issuing_authority": self.issuing_authority,
            "valid_from": self.valid_from.to_string(),
            "valid_until": self.valid_until.to_string(),
            "photo_wlt_bytes": self.photo_wlt.len(),
        })
    }
}

impl std::fmt::Debug for ResidentIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResidentIdentity")
            .field("card_type", &self.card_type)
            .field("name", &self.masked_name())
            .field("gender", &self.gender)
            .field("nation", &self.nation.name())
            .field("birth_year", &self.birth.year)
            .field("address", &self.masked_address())
            .field("id_number", &self.masked_id_number())
            .field("issuing_authority", &self.issuing_authority)
            .field("valid_from", &self.valid_from)
            .field("valid_until", &self.valid_until)
            .field("photo_wlt_bytes", &self.photo_wlt.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digit_follows_iso_7064() {
        // Worked example of GB 11643: 11010519491231002X.
        assert_eq!(id_number_check_char("11010519491231002"), Some('X'));
        assert_eq!(id_number_check_char("44052418800101001"), Some('4'));
        assert_eq!(id_number_check_char("1101051949123100"), None);
        assert_eq!(id_number_check_char("1101051949123100A"), None);
    }

    #[test]
    fn dates_are_validated() {
        assert_eq!(
            CardDate::from_card_text("20000229"),
            Some(CardDate {
                year: 2000,
                month: 2,
                day: 29
            })
        );
        assert_eq!(CardDate::from_card_text("19000229"), None);
        assert_eq!(CardDate::from_card_text("20231301"), None);
        assert_eq!(CardDate::from_card_text("2023011"), None);
        assert_eq!(
            CardDate::from_card_text("19900307")
                .map(|d| d.to_string())
                .as_deref(),
            Some("1990-03-07")
        );
    }

    #[test]
    fn civil_dates_from_unix_time() {
        let d = |y, m, day| CardDate {
            year: y,
            month: m,
            day,
        };
        assert_eq!(CardDate::from_unix_seconds(0, 0), d(1970, 1, 1));
        // 2024-02-29T16:00:00Z is 2024-03-01 00:00 in China.
        assert_eq!(
            CardDate::from_unix_seconds(1_709_222_400, 0),
            d(2024, 2, 29)
        );
        assert_eq!(
            CardDate::from_unix_seconds(1_709_222_400, 8 * 3600),
            d(2024, 3, 1)
        );
        assert_eq!(CardDate::from_unix_seconds(-5, 0), d(1970, 1, 1));
    }

    #[test]
    fn expiry_includes_the_end_date_and_long_term_never_expires() {
        let end = CardDate::from_card_text("20300101").expect("date");
        let day_before = CardDate::from_card_text("20291231").expect("date");
        let day_after = CardDate::from_card_text("20300102").expect("date");
        assert!(!ValidUntil::Date(end).is_expired(day_before));
        assert!(!ValidUntil::Date(end).is_expired(end));
        assert!(ValidUntil::Date(end).is_expired(day_after));
        assert!(!ValidUntil::LongTerm.is_expired(day_after));
    }

    #[test]
    fn gender_codes_decode() {
        assert_eq!(Gender::from_card_text("1").map(Gender::zh), Some("男"));
        assert_eq!(Gender::from_card_text("2").map(Gender::zh), Some("女"));
        assert_eq!(Gender::from_card_text("9"), Some(Gender::Unspecified));
        assert_eq!(Gender::from_card_text("0"), Some(Gender::Unknown));
        assert_eq!(Gender::from_card_text("3"), None);
    }
}

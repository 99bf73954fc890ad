//! The record the kiosk writes on a card, and its MAC.
//!
//! Layout (all integers big-endian; strings UTF-8 with a one-byte length in front):
//!
//! ```text
//! offset  size   field
//! 0       2      magic "EK" (0x45 0x4B)
//! 2       1      format version (1)
//! 3       1      body length L: bytes from offset 4 to the end of the kiosk id
//! 4       1+n    item id            (n ≤ 32, no control characters)
//! …       1+n    holder reference   (n ≤ 32, masked: contains '*', no control characters)
//! …       4      valid from         (YYYYMMDD as a number, e.g. 20250101)
//! …       4      valid until        (YYYYMMDD, not before valid from)
//! …       1+n    issuing kiosk id   (n ≤ 32, no control characters)
//! 4+L     16     MAC: HMAC-SHA256(key, bytes 0 .. 4+L), first 16 bytes
//! ```
//!
//! At most 123 bytes; on the card it is zero-padded to the record area
//! ([`super::layout::CardLayout`]). The MAC key comes from a key file: hex digits (16 to 64
//! bytes of key; whitespace and `#` comment lines ignored), see [`RecordKey::load`].

use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// First two bytes of every record.
pub const RECORD_MAGIC: [u8; 2] = *b"EK";
/// The format version this code writes and reads.
pub const RECORD_VERSION: u8 = 1;
/// Bytes of the truncated MAC.
pub const MAC_LEN: usize = 16;
/// Longest string field, in bytes.
pub const MAX_FIELD: usize = 32;
/// Longest encoded record.
pub const MAX_RECORD_LEN: usize = 4 + 3 * (1 + MAX_FIELD) + 8 + MAC_LEN;

/// Why a record cannot be written or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The card holds no record (all zero or all 0xFF).
    #[error("card holds no record")]
    Blank,
    /// Not a kiosk record.
    #[error("not a kiosk card record")]
    BadMagic,
    /// A format version this code does not read.
    #[error("card record format version {0} not supported")]
    UnsupportedVersion(u8),
    /// Shorter than its lengths say.
    #[error("card record truncated")]
    Truncated,
    /// A field is empty, too long, not UTF-8 or has control characters.
    #[error("card record field {0} is invalid")]
    BadField(&'static str),
    /// The holder reference is not masked.
    #[error("holder reference must be masked (contain '*')")]
    NotMasked,
    /// A date is not a calendar date, or the validity ends before it starts.
    #[error("card record date {0} is invalid")]
    BadDate(&'static str),
    /// The MAC does not verify: tampered data or another key.
    #[error("card record MAC does not verify")]
    BadMac,
    /// The key file is missing or unusable (never says anything about the key itself).
    #[error("record key: {0}")]
    Key(String),
}

/// A calendar date (Gregorian, years 2000–2999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordDate {
    year: u16,
    month: u8,
    day: u8,
}

impl RecordDate {
    /// The date, if it exists.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        ((2000..=2999).contains(&year) && (1..=days).contains(&day)).then_some(RecordDate {
            year,
            month,
            day,
        })
    }

    /// From the number YYYYMMDD.
    pub fn from_number(n: u32) -> Option<Self> {
        let year = u16::try_from(n / 10_000).ok()?;
        Self::new(year, ((n / 100) % 100) as u8, (n % 100) as u8)
    }

    /// The number YYYYMMDD.
    pub fn number(self) -> u32 {
        u32::from(self.year) * 10_000 + u32::from(self.month) * 100 + u32::from(self.day)
    }

    /// Year.
    pub fn year(self) -> u16 {
        self.year
    }

    /// Month 1–12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// Day of month.
    pub fn day(self) -> u8 {
        self.day
    }
}

impl std::fmt::Display for RecordDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// What the kiosk writes on a card. The holder appears only as a masked reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRecord {
    /// Catalogue item id (e.g. `residence-permit-endorsement`).
    pub item_id: String,
    /// The holder's masked reference (e.g. `3101**********1234`).
    pub holder_ref: String,
    /// First valid day.
    pub valid_from: RecordDate,
    /// Last valid day.
    pub valid_until: RecordDate,
    /// The issuing kiosk's id.
    pub kiosk_id: String,
}

/// The MAC key, loaded from the key file. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct RecordKey(Vec<u8>);

impl std::fmt::Debug for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecordKey({} bytes)", self.0.len())
    }
}

impl RecordKey {
    /// A key of 16 to 64 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RecordError> {
        if !(16..=64).contains(&bytes.len()) {
            return Err(RecordError::Key(format!(
                "{} bytes (16 to 64 needed)",
                bytes.len()
            )));
        }
        Ok(RecordKey(bytes.to_vec()))
    }

    /// Parse key-file text: hex digits, whitespace and `#` comment lines ignored.
    pub fn from_hex_text(text: &str) -> Result<Self, RecordError> {
        let digits: Vec<u8> = text
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .flat_map(|line| line.bytes())
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        if !digits.len().is_multiple_of(2) {
            return Err(RecordError::Key("odd number of hex digits".to_owned()));
        }
        let mut bytes = Vec::with_capacity(digits.len() / 2);
        for pair in digits.chunks(2) {
            let text = std::str::from_utf8(pair).map_err(|_| bad_hex())?;
            bytes.push(u8::from_str_radix(text, 16).map_err(|_| bad_hex())?);
        }
        Self::from_bytes(&bytes)
    }

    /// Load the key file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, RecordError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| RecordError::Key(format!("cannot read {}: {e}", path.display())))?;
        Self::from_hex_text(&text)
    }

    fn mac(&self, bytes: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .expect("HMAC accepts keys of any length");
        mac.update(bytes);
        mac
    }
}

fn bad_hex() -> RecordError {
    RecordError::Key("not hex digits".to_owned())
}

fn check_text(value: &str, field: &'static str) -> Result<(), RecordError> {
    if value.is_empty() || value.len() > MAX_FIELD || value.chars().any(char::is_control) {
        return Err(RecordError::BadField(field));
    }
    Ok(())
}

impl CardRecord {
    /// Check the fields: lengths, no control characters, a masked holder reference, dates
    /// in order.
    pub fn validate(&self) -> Result<(), RecordError> {
        check_text(&self.item_id, "item_id")?;
        check_text(&self.holder_ref, "holder_ref")?;
        check_text(&self.kiosk_id, "kiosk_id")?;
        if !self.holder_ref.contains('*') {
            return Err(RecordError::NotMasked);
        }
        if self.valid_until < self.valid_from {
            return Err(RecordError::BadDate("valid_until"));
        }
        Ok(())
    }

    /// The record bytes with their MAC.
    pub fn encode(&self, key: &RecordKey) -> Result<Vec<u8>, RecordError> {
        self.validate()?;
        let mut body = Vec::with_capacity(MAX_RECORD_LEN);
        for text in [&self.item_id, &self.holder_ref] {
            body.push(text.len() as u8);
            body.extend_from_slice(text.as_bytes());
        }
        body.extend_from_slice(&self.valid_from.number().to_be_bytes());
        body.extend_from_slice(&self.valid_until.number().to_be_bytes());
        body.push(self.kiosk_id.len() as u8);
        body.extend_from_slice(self.kiosk_id.as_bytes());
        let mut out = Vec::with_capacity(4 + body.len() + MAC_LEN);
        out.extend_from_slice(&RECORD_MAGIC);
        out.push(RECORD_VERSION);
        out.push(body.len() as u8);
        out.extend_from_slice(&body);
        let tag = key.mac(&out).finalize().into_bytes();
        out.extend_from_slice(&tag[..MAC_LEN]);
        Ok(out)
    }

    /// Decode a record (trailing padding allowed) and verify its MAC with `key`.
    pub fn decode_verified(bytes: &[u8], key: &RecordKey) -> Result<Self, RecordError> {
        let (record, signed_len) = Self::parse(bytes)?;
        let tag = &bytes[signed_len..signed_len + MAC_LEN];
        key.mac(&bytes[..signed_len])
            .verify_truncated_left(tag)
            .map_err(|_| RecordError::BadMac)?;
        record.validate()?;
        Ok(record)
    }

    /// The length of the encoded record at the start of `bytes` (MAC included).
    pub fn encoded_len(bytes: &[u8]) -> Result<usize, RecordError> {
        Ok(Self::parse(bytes)?.1 + MAC_LEN)
    }

    fn parse(bytes: &[u8]) -> Result<(Self, usize), RecordError> {
        if bytes.iter().all(|&b| b == 0) || bytes.iter().all(|&b| b == 0xFF) {
            return Err(RecordError::Blank);
        }
        let [m0, m1, version, len, rest @ ..] = bytes else {
            return Err(RecordError::Truncated);
        };
        if [*m0, *m1] != RECORD_MAGIC {
            return Err(RecordError::BadMagic);
        }
        if *version != RECORD_VERSION {
            return Err(RecordError::UnsupportedVersion(*version));
        }
        let len = usize::from(*len);
        if rest.len() < len + MAC_LEN {
            return Err(RecordError::Truncated);
        }
        let mut reader = Reader {
            bytes: &rest[..len],
        };
        let item_id = reader.text("item_id")?;
        let holder_ref = reader.text("holder_ref")?;
        let valid_from = reader.date("valid_from")?;
        let valid_until = reader.date("valid_until")?;
        let kiosk_id = reader.text("kiosk_id")?;
        if !reader.bytes.is_empty() {
            return Err(RecordError::BadField("body length"));
        }
        Ok((
            CardRecord {
                item_id,
                holder_ref,
                valid_from,
                valid_until,
                kiosk_id,
            },
            4 + len,
        ))
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], RecordError> {
        if self.bytes.len() < n {
            return Err(RecordError::Truncated);
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    fn text(&mut self, field: &'static str) -> Result<String, RecordError> {
        let len = usize::from(self.take(1)?[0]);
        let raw = self.take(len)?;
        let text = std::str::from_utf8(raw).map_err(|_| RecordError::BadField(field))?;
        check_text(text, field)?;
        Ok(text.to_owned())
    }

    fn date(&mut self, field: &'static str) -> Result<RecordDate, RecordError> {
        let raw = self.take(4)?;
        let n = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
        RecordDate::from_number(n).ok_or(RecordError::BadDate(field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> RecordKey {
        RecordKey::from_hex_text(
            "# test key\n00112233445566778899aabbccddeeff\n00112233445566778899AABBCCDDEEFF\n",
        )
        .expect("key")
    }

    fn record() -> CardRecord {
        CardRecord {
            item_id: "residence-permit-endorsement".to_owned(),
            holder_ref: "3101**********1234".to_owned(),
            valid_from: RecordDate::new(2025, 1, 1).expect("date"),
            valid_until: RecordDate::new(2026, 2, 28).expect("date"),
            kiosk_id: "KIOSK-SH-0001".to_owned(),
        }
    }

    #[test]
    fn encodes_the_documented_layout() {
        let bytes = record().encode(&key()).expect("encode");
        assert_eq!(&bytes[..3], b"EK\x01");
        let body_len = usize::from(bytes[3]);
        assert_eq!(bytes.len(), 4 + body_len + MAC_LEN);
        assert_eq!(bytes[4], 28);
        assert_eq!(&bytes[5..33], b"residence-permit-endorsement");
        assert_eq!(bytes[33], 18);
        let dates = &bytes[52..60];
        assert_eq!(&dates[..4], &20_250_101u32.to_be_bytes());
        assert_eq!(&dates[4..], &20_260_228u32.to_be_bytes());
        assert_eq!(bytes[60], 13);
        assert!(bytes.len() <= MAX_RECORD_LEN);
        // The MAC is the first 16 bytes of HMAC-SHA256 over everything before it.
        let mut mac = key().mac(&bytes[..bytes.len() - MAC_LEN]);
        mac.update(&[]);
        assert_eq!(
            &mac.finalize().into_bytes()[..MAC_LEN],
            &bytes[bytes.len() - MAC_LEN..]
        );
    }

    #[test]
    fn round_trips_with_padding() {
        let mut bytes = record().encode(&key()).expect("encode");
        let len = bytes.len();
        bytes.resize(144, 0);
        assert_eq!(CardRecord::encoded_len(&bytes), Ok(len));
        assert_eq!(CardRecord::decode_verified(&bytes, &key()), Ok(record()));
    }

    #[test]
    fn any_changed_byte_is_detected() {
        let bytes = record().encode(&key()).expect("encode");
        for i in 0..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[i] ^= 0x01;
            assert!(
                CardRecord::decode_verified(&tampered, &key()).is_err(),
                "byte {i} changed unnoticed"
            );
        }
        // A plausible forgery: another validity, MAC left as it was.
        let mut forged = bytes.clone();
        forged[56..60].copy_from_slice(&20_991_231u32.to_be_bytes());
        assert_eq!(
            CardRecord::decode_verified(&forged, &key()),
            Err(RecordError::BadMac)
        );
    }

    #[test]
    fn another_key_does_not_verify() {
        let bytes = record().encode(&key()).expect("encode");
        let other = RecordKey::from_bytes(&[0x42; 32]).expect("key");
        assert_eq!(
            CardRecord::decode_verified(&bytes, &other),
            Err(RecordError::BadMac)
        );
    }

    #[test]
    fn refuses_bad_records_and_keys() {
        let mut unmasked = record();
        unmasked.holder_ref = "310101199001011234".to_owned();
        assert_eq!(unmasked.encode(&key()), Err(RecordError::NotMasked));
        let mut backwards = record();
        backwards.valid_until = RecordDate::new(2024, 12, 31).expect("date");
        assert_eq!(
            backwards.encode(&key()),
            Err(RecordError::BadDate("valid_until"))
        );
        let mut long = record();
        long.kiosk_id = "K".repeat(33);
        assert_eq!(long.encode(&key()), Err(RecordError::BadField("kiosk_id")));
        assert_eq!(
            CardRecord::decode_verified(&[0; 144], &key()),
            Err(RecordError::Blank)
        );
        assert_eq!(
            CardRecord::decode_verified(b"XX\x01\x00", &key()),
            Err(RecordError::BadMagic)
        );
        let mut v2 = record().encode(&key()).expect("encode");
        v2[2] = 2;
        assert_eq!(
            CardRecord::decode_verified(&v2, &key()),
            Err(RecordError::UnsupportedVersion(2))
        );
        let bytes = record().encode(&key()).expect("encode");
        assert_eq!(
            CardRecord::decode_verified(&bytes[..bytes.len() - 1], &key()),
            Err(RecordError::Truncated)
        );
        assert!(RecordKey::from_bytes(&[1; 15]).is_err());
        assert!(RecordKey::from_hex_text("0011zz").is_err());
        assert!(RecordKey::load("/nonexistent/kiosk/card.key").is_err());
        assert_eq!(format!("{:?}", key()), "RecordKey(32 bytes)");
        assert!(RecordDate::new(2025, 2, 29).is_none());
        assert!(RecordDate::new(2024, 2, 29).is_some());
        assert_eq!(
            RecordDate::from_number(20_250_101)
                .map(|d| d.to_string())
                .as_deref(),
            Some("2025-01-01")
        );
    }

    #[test]
    fn key_file_loads() {
        let dir = std::env::temp_dir().join(format!("kiosk-record-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("card.key");
        std::fs::write(
            &path,
            "00112233445566778899aabbccddeeff 00112233445566778899AABBCCDDEEFF\n",
        )
        .expect("write");
        assert_eq!(RecordKey::load(&path), Ok(key()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! Kiosk identity actions shared by the admin API and the command line (issue 7 item 1):
//! one-time enrolment codes, revocation. The storage is in `storage::identity`; the signature
//! scheme in `kiosk_protocol::request_signing`.

use crate::clock::ServerTime;
use crate::config::is_valid_kiosk_id;
use crate::storage::{CentralStorage, KioskKeyRecord, StorageError};
use kiosk_protocol::request_signing::sha256_hex;
use std::time::Duration;

/// How long a code is valid when no TTL is given.
pub const DEFAULT_CODE_TTL: Duration = Duration::from_secs(24 * 3600);
/// Longest TTL accepted.
pub const MAX_CODE_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Characters of a code: Crockford's base-32 alphabet (no I, L, O, U: nothing to misread).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A code just made: shown once to the operator, never stored in the clear.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IssuedCode {
    pub kiosk_id: String,
    /// Five groups of four Crockford base-32 characters joined by dashes, e.g.
    /// `7KQ2-M9TD-0XRB-4HWE-PA1C` (100 random bits); case and dashes do not matter when typed.
    pub code: String,
    pub expires_at: String,
}

/// Why an identity action was refused.
#[derive(Debug, thiserror::Error)]
pub enum IdentityActionError {
    #[error("{0}")]
    Invalid(String),
    #[error("kiosk {0} has never enrolled")]
    NotEnrolled(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The code as compared: upper case, without dashes and spaces.
pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// What the store keeps of a code.
pub fn code_hash(code: &str) -> String {
    sha256_hex(normalise_code(code).as_bytes())
}

fn random_code() -> String {
    let mut bytes = [0u8; 20];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(b & 31)] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Makes a one-time code for `kiosk_id`, valid for `ttl`.
pub fn issue_code(
    store: &dyn CentralStorage,
    kiosk_id: &str,
    ttl: Duration,
    by: &str,
    now: &ServerTime,
) -> Result<IssuedCode, IdentityActionError> {
    if !is_valid_kiosk_id(kiosk_id) {
        return Err(IdentityActionError::Invalid(
            "kiosk id may only hold letters, digits, '-', '_' and '.' (1 to 64 characters)".into(),
        ));
    }
    if ttl.is_zero() || ttl > MAX_CODE_TTL {
        return Err(IdentityActionError::Invalid(format!(
            "ttl must be between 1 s and {} s",
            MAX_CODE_TTL.as_secs()
        )));
    }
    let code = random_code();
    let expires = ServerTime::from_unix_ms(now.unix_ms + ttl.as_millis() as i64);
    store.create_enrolment_code(kiosk_id, &code_hash(&code), by, now, expires.unix_ms)?;
    Ok(IssuedCode {
        kiosk_id: kiosk_id.to_string(),
        code,
        expires_at: expires.rfc3339,
    })
}

/// Revokes a kiosk: its signed requests are refused from now on, its outstanding codes die.
pub fn revoke(
    store: &dyn CentralStorage,
    kiosk_id: &str,
    by: &str,
    now: &ServerTime,
) -> Result<KioskKeyRecord, IdentityActionError> {
    store
        .revoke_kiosk(kiosk_id, by, now)?
        .ok_or_else(|| IdentityActionError::NotEnrolled(kiosk_id.to_string()))
}

/// Parses a TTL: seconds, or a number with `s`, `m`, `h` or `d`.
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c.to_ascii_lowercase()),
        _ => (text, 's'),
    };
    let value: u64 = number
        .parse()
        .map_err(|_| format!("ttl {text:?} is not a number with s, m, h or d"))?;
    let seconds = match unit {
        's' => value,
        'm' => value.saturating_mul(60),
        'h' => value.saturating_mul(3600),
        'd' => value.saturating_mul(86_400),
        _ => return Err(format!("ttl {text:?}: unit must be s, m, h or d")),
    };
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_grouped_and_normalised() {
        let code = random_code();
        assert_eq!(code.len(), 24);
        assert_eq!(code.matches('-').count(), 4);
        assert_ne!(code, random_code());
        assert_eq!(
            code_hash(&code),
            code_hash(&code.to_lowercase().replace('-', " "))
        );
    }

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_ttl("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_ttl("7d"), Ok(Duration::from_secs(604_800)));
        assert!(parse_ttl("x").is_err());
        assert!(parse_ttl("3w").is_err());
    }
}

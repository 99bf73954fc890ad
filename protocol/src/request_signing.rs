//! Kiosk identity and signed requests (DESIGN §7, issue 7 item 1).
//!
//! # Enrolment
//!
//! An operator creates a one-time enrolment code bound to a kiosk id (`kiosk-central kiosk
//! enrol-code --kiosk ID`, or the admin API). The kiosk generates its own Ed25519 key pair
//! (the secret never leaves it) and sends `POST /api/v1/enrol` ([`ENROL_PATH`]) with an
//! [`EnrolRequest`] `{kiosk_id, code, public_key}` (public key: 64 hex characters). The centre
//! consumes the code (a second use is refused) and stores the public key; from then on every
//! kiosk request must be signed with the matching secret key.
//!
//! # Signed requests
//!
//! Four headers ([`HEADER_KIOSK_ID`], [`HEADER_TIMESTAMP`], [`HEADER_NONCE`],
//! [`HEADER_SIGNATURE`]):
//!
//! ```text
//! X-Kiosk-Id: kiosk-001
//! X-Kiosk-Timestamp: 1767225600                          (unix seconds, decimal, UTC)
//! X-Kiosk-Nonce: 3f0c9a…                                 (32 lower-case hex = 128 random bits)
//! X-Kiosk-Signature: 9b1d…                               (128 lower-case hex = 64-byte Ed25519)
//! ```
//!
//! The signature is pure Ed25519 (RFC 8032) over the UTF-8 bytes of the **canonical string**
//! ([`canonical_string`]), seven lines joined by `\n` (one byte 0x0A, nothing after the last):
//!
//! ```text
//! kiosk-request-signature-v1
//! <kiosk id>
//! <METHOD, upper case>
//! <path with query, exactly as sent on the request line, e.g. /api/v1/catalogue/7?x=1>
//! <timestamp, decimal unix seconds as in X-Kiosk-Timestamp>
//! <nonce, as in X-Kiosk-Nonce>
//! <SHA-256 of the request body, 64 lower-case hex; of the empty string for a GET>
//! ```
//!
//! None of the fields may contain a line break (the kiosk id, nonce and timestamp have fixed
//! alphabets; a request target cannot contain one), so the encoding is unambiguous.
//!
//! The centre accepts a request when: all four headers are present and well formed, the kiosk
//! is enrolled and not revoked, the signature verifies under its stored public key, the
//! timestamp is within [`MAX_CLOCK_SKEW_S`] of the centre's clock (either direction), and the
//! nonce was not seen for this kiosk within the window (the centre keeps nonces for
//! 2 × [`MAX_CLOCK_SKEW_S`] and prunes older ones — a request older than that is refused on its
//! timestamp anyway). Failures are 401, a revoked kiosk 403.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// First line of the canonical string; names the scheme's version.
pub const REQUEST_SIGNATURE_DOMAIN: &str = "kiosk-request-signature-v1";

/// `POST` an [`EnrolRequest`] here (unsigned: the code is the credential), answered with an
/// [`EnrolReply`].
pub const ENROL_PATH: &str = "/api/v1/enrol";

pub const HEADER_KIOSK_ID: &str = "X-Kiosk-Id";
pub const HEADER_TIMESTAMP: &str = "X-Kiosk-Timestamp";
pub const HEADER_NONCE: &str = "X-Kiosk-Nonce";
pub const HEADER_SIGNATURE: &str = "X-Kiosk-Signature";

/// Largest accepted difference between the request's timestamp and the centre's clock.
pub const MAX_CLOCK_SKEW_S: i64 = 300;

/// Nonce length in hex characters (128 bits).
pub const NONCE_HEX_LEN: usize = 32;

/// The body of `POST /api/v1/enrol`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub kiosk_id: String,
    /// The one-time code the operator handed out.
    pub code: String,
    /// The kiosk's Ed25519 public key, 64 hex characters.
    pub public_key: String,
}

/// The centre's answer to a successful enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolReply {
    pub kiosk_id: String,
    /// RFC 3339.
    pub enrolled_at: String,
}

/// Why a signed request (or a key) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestSigningError {
    #[error("request is not signed (missing {0} header)")]
    MissingHeader(&'static str),
    #[error("malformed {0} header")]
    MalformedHeader(&'static str),
    #[error("request timestamp is more than {MAX_CLOCK_SKEW_S} s away from the centre's clock")]
    StaleTimestamp,
    #[error("request signature is not valid")]
    BadSignature,
    #[error("malformed public key: {0}")]
    MalformedKey(String),
}

/// The four signature headers of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    pub kiosk_id: String,
    /// Unix seconds.
    pub timestamp: i64,
    /// [`NONCE_HEX_LEN`] lower-case hex characters.
    pub nonce: String,
    /// 128 lower-case hex characters.
    pub signature: String,
}

impl SignatureHeaders {
    /// `(name, value)` pairs to put on the request.
    pub fn pairs(&self) -> [(&'static str, String); 4] {
        [
            (HEADER_KIOSK_ID, self.kiosk_id.clone()),
            (HEADER_TIMESTAMP, self.timestamp.to_string()),
            (HEADER_NONCE, self.nonce.clone()),
            (HEADER_SIGNATURE, self.signature.clone()),
        ]
    }

    /// Reads the headers through `get(name)` (case-insensitive lookup is the caller's), checking
    /// their form (not the signature).
    pub fn from_lookup<'a>(
        get: impl Fn(&'static str) -> Option<&'a str>,
    ) -> Result<Self, RequestSigningError> {
        let header = |name: &'static str| {
            get(name)
                .map(str::trim)
                .ok_or(RequestSigningError::MissingHeader(name))
        };
        let kiosk_id = header(HEADER_KIOSK_ID)?;
        if !is_valid_kiosk_id(kiosk_id) {
            return Err(RequestSigningError::MalformedHeader(HEADER_KIOSK_ID));
        }
        let timestamp_text = header(HEADER_TIMESTAMP)?;
        if timestamp_text.is_empty()
            || timestamp_text.len() > 12
            || !timestamp_text.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(RequestSigningError::MalformedHeader(HEADER_TIMESTAMP));
        }
        let timestamp = timestamp_text
            .parse::<i64>()
            .map_err(|_| RequestSigningError::MalformedHeader(HEADER_TIMESTAMP))?;
        let nonce = header(HEADER_NONCE)?;
        if !is_lower_hex(nonce, NONCE_HEX_LEN) {
            return Err(RequestSigningError::MalformedHeader(HEADER_NONCE));
        }
        let signature = header(HEADER_SIGNATURE)?;
        if !is_lower_hex(&signature.to_ascii_lowercase(), 128) {
            return Err(RequestSigningError::MalformedHeader(HEADER_SIGNATURE));
        }
        Ok(Self {
            kiosk_id: kiosk_id.to_string(),
            timestamp,
            nonce: nonce.to_string(),
            signature: signature.to_ascii_lowercase(),
        })
    }
}

/// Kiosk ids: 1–64 of `A-Za-z0-9._-` (the same rule as the centre's configuration).
pub fn is_valid_kiosk_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// SHA-256 of `bytes`, 64 lower-case hex characters.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A fresh nonce: 128 bits from the operating system, lower-case hex.
pub fn new_nonce() -> String {
    let mut bytes = [0u8; NONCE_HEX_LEN / 2];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    hex::encode(bytes)
}

/// The string the signature covers (see the module documentation).
pub fn canonical_string(
    kiosk_id: &str,
    method: &str,
    path_and_query: &str,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
) -> String {
    format!(
        "{REQUEST_SIGNATURE_DOMAIN}\n{kiosk_id}\n{}\n{path_and_query}\n{timestamp}\n{nonce}\n{}",
        method.to_ascii_uppercase(),
        sha256_hex(body)
    )
}

/// A kiosk's Ed25519 key pair.
#[derive(Clone)]
pub struct KioskKey {
    key: SigningKey,
}

impl std::fmt::Debug for KioskKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KioskKey(public {}, …)", self.public_key_hex())
    }
}

impl KioskKey {
    /// A fresh random key (operating-system randomness).
    pub fn generate() -> Self {
        Self {
            key: SigningKey::generate(&mut rand::rngs::OsRng),
        }
    }

    /// The key from its 32-byte secret (seed).
    pub fn from_secret(secret: [u8; 32]) -> Self {
        Self {
            key: SigningKey::from_bytes(&secret),
        }
    }

    /// The key from 64 hex characters of secret.
    pub fn from_secret_hex(text: &str) -> Result<Self, RequestSigningError> {
        Ok(Self::from_secret(decode_32(text)?))
    }

    /// The secret as 64 lower-case hex characters (for the key file only).
    pub fn secret_hex(&self) -> String {
        hex::encode(self.key.to_bytes())
    }

    /// The public half as 64 lower-case hex characters.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.verifying_key().to_bytes())
    }

    /// Signs one request at `timestamp` (unix seconds) with `nonce`.
    pub fn sign_request(
        &self,
        kiosk_id: &str,
        method: &str,
        path_and_query: &str,
        timestamp: i64,
        nonce: &str,
        body: &[u8],
    ) -> SignatureHeaders {
        let canonical = canonical_string(kiosk_id, method, path_and_query, timestamp, nonce, body);
        let signature = self.key.sign(canonical.as_bytes());
        SignatureHeaders {
            kiosk_id: kiosk_id.to_string(),
            timestamp,
            nonce: nonce.to_string(),
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// Signs one request now with a fresh nonce.
    pub fn sign_now(
        &self,
        kiosk_id: &str,
        method: &str,
        path_and_query: &str,
        body: &[u8],
    ) -> SignatureHeaders {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        self.sign_request(kiosk_id, method, path_and_query, now, &new_nonce(), body)
    }
}

fn decode_32(text: &str) -> Result<[u8; 32], RequestSigningError> {
    let bytes = hex::decode(text.trim())
        .map_err(|_| RequestSigningError::MalformedKey("not hexadecimal".into()))?;
    bytes.try_into().map_err(|_| {
        RequestSigningError::MalformedKey("must be 32 bytes (64 hex characters)".into())
    })
}

/// A kiosk's public key as the centre stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskPublicKey {
    key: VerifyingKey,
}

impl KioskPublicKey {
    /// Parses 64 hex characters; refuses weak (small-order) keys.
    pub fn from_hex(text: &str) -> Result<Self, RequestSigningError> {
        let key = VerifyingKey::from_bytes(&decode_32(text)?)
            .map_err(|_| RequestSigningError::MalformedKey("not an Ed25519 point".into()))?;
        if key.is_weak() {
            return Err(RequestSigningError::MalformedKey("weak key".into()));
        }
        Ok(Self { key })
    }

    /// 64 lower-case hex characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.key.to_bytes())
    }

    /// Checks the signature of a request (not the timestamp window nor the nonce: see
    /// [`check_timestamp`]; the nonce store is the centre's).
    pub fn verify_request(
        &self,
        headers: &SignatureHeaders,
        method: &str,
        path_and_query: &str,
        body: &[u8],
    ) -> Result<(), RequestSigningError> {
        let bytes: [u8; 64] = hex::decode(&headers.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(RequestSigningError::MalformedHeader(HEADER_SIGNATURE))?;
        let signature = Signature::from_bytes(&bytes);
        let canonical = canonical_string(
            &headers.kiosk_id,
            method,
            path_and_query,
            headers.timestamp,
            &headers.nonce,
            body,
        );
        self.key
            .verify_strict(canonical.as_bytes(), &signature)
            .map_err(|_| RequestSigningError::BadSignature)
    }
}

/// Refuses a timestamp more than [`MAX_CLOCK_SKEW_S`] away from `now` (unix seconds).
pub fn check_timestamp(timestamp: i64, now: i64) -> Result<(), RequestSigningError> {
    if (timestamp - now).abs() > MAX_CLOCK_SKEW_S {
        Err(RequestSigningError::StaleTimestamp)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> KioskKey {
        KioskKey::from_secret([7u8; 32])
    }

    const NONCE: &str = "00112233445566778899aabbccddeeff";

    #[test]
    fn canonical_string_is_exactly_the_documented_lines() {
        let text = canonical_string(
            "kiosk-001",
            "post",
            "/api/v1/outbox?x=1",
            1767225600,
            NONCE,
            b"{}",
        );
        assert_eq!(
            text,
            "kiosk-request-signature-v1\nkiosk-001\nPOST\n/api/v1/outbox?x=1\n1767225600\n\
             00112233445566778899aabbccddeeff\n\
             44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        // SHA-256 of the empty body for a GET.
        assert!(
            canonical_string("k", "GET", "/", 0, NONCE, b"")
                .ends_with("\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
    }

    #[test]
    fn signed_request_verifies_and_headers_round_trip() {
        let key = key();
        let public = KioskPublicKey::from_hex(&key.public_key_hex()).expect("public key");
        let headers = key.sign_request("kiosk-001", "POST", "/api/v1/outbox", 1000, NONCE, b"{}");
        let pairs = headers.pairs();
        let parsed = SignatureHeaders::from_lookup(|name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        })
        .expect("well formed");
        assert_eq!(parsed, headers);
        assert_eq!(
            public.verify_request(&parsed, "POST", "/api/v1/outbox", b"{}"),
            Ok(())
        );
    }

    #[test]
    fn tampering_with_any_field_breaks_the_signature() {
        let key = key();
        let public = KioskPublicKey::from_hex(&key.public_key_hex()).expect("public key");
        let good = key.sign_request("kiosk-001", "POST", "/api/v1/outbox", 1000, NONCE, b"{}");
        let bad = |headers: &SignatureHeaders, method: &str, path: &str, body: &[u8]| {
            assert_eq!(
                public.verify_request(headers, method, path, body),
                Err(RequestSigningError::BadSignature)
            );
        };
        let mut other_kiosk = good.clone();
        other_kiosk.kiosk_id = "kiosk-002".into();
        bad(&other_kiosk, "POST", "/api/v1/outbox", b"{}");
        bad(&good, "PUT", "/api/v1/outbox", b"{}");
        bad(&good, "POST", "/api/v1/heartbeat", b"{}");
        bad(&good, "POST", "/api/v1/outbox?a=1", b"{}");
        bad(&good, "POST", "/api/v1/outbox", b"{ }");
        let mut other_time = good.clone();
        other_time.timestamp += 1;
        bad(&other_time, "POST", "/api/v1/outbox", b"{}");
        let mut other_nonce = good.clone();
        other_nonce.nonce = "f0112233445566778899aabbccddeeff".into();
        bad(&other_nonce, "POST", "/api/v1/outbox", b"{}");
        let mut flipped = good.clone();
        flipped.signature.replace_range(
            0..2,
            if &good.signature[0..2] == "00" {
                "01"
            } else {
                "00"
            },
        );
        bad(&flipped, "POST", "/api/v1/outbox", b"{}");
        // Another kiosk's key does not verify.
        let other = KioskKey::from_secret([8u8; 32]);
        let forged = other.sign_request("kiosk-001", "POST", "/api/v1/outbox", 1000, NONCE, b"{}");
        bad(&forged, "POST", "/api/v1/outbox", b"{}");
    }

    #[test]
    fn malformed_and_missing_headers_are_named() {
        let headers = key().sign_request("kiosk-001", "GET", "/", 1000, NONCE, b"");
        let pairs = headers.pairs();
        for missing in [
            HEADER_KIOSK_ID,
            HEADER_TIMESTAMP,
            HEADER_NONCE,
            HEADER_SIGNATURE,
        ] {
            let result = SignatureHeaders::from_lookup(|name| {
                if name == missing {
                    None
                } else {
                    pairs
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| v.as_str())
                }
            });
            assert_eq!(result, Err(RequestSigningError::MissingHeader(missing)));
        }
        for (header, value) in [
            (HEADER_KIOSK_ID, "kiosk 1"),
            (HEADER_TIMESTAMP, "-5"),
            (HEADER_TIMESTAMP, "2026-01-01T00:00:00Z"),
            (HEADER_NONCE, "abc"),
            (HEADER_NONCE, "00112233445566778899AABBCCDDEEFF"),
            (HEADER_SIGNATURE, "zz"),
        ] {
            let result = SignatureHeaders::from_lookup(|name| {
                if name == header {
                    Some(value)
                } else {
                    pairs
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| v.as_str())
                }
            });
            assert_eq!(
                result,
                Err(RequestSigningError::MalformedHeader(header)),
                "{header}={value}"
            );
        }
    }

    #[test]
    fn timestamp_window_and_nonces() {
        assert_eq!(check_timestamp(1000, 1000 + MAX_CLOCK_SKEW_S), Ok(()));
        assert_eq!(check_timestamp(1000 + MAX_CLOCK_SKEW_S, 1000), Ok(()));
        assert_eq!(
            check_timestamp(1000, 1001 + MAX_CLOCK_SKEW_S),
            Err(RequestSigningError::StaleTimestamp)
        );
        assert_eq!(
            check_timestamp(1001 + MAX_CLOCK_SKEW_S, 1000),
            Err(RequestSigningError::StaleTimestamp)
        );
        let a = new_nonce();
        assert!(is_lower_hex(&a, NONCE_HEX_LEN));
        assert_ne!(a, new_nonce());
    }

    #[test]
    fn keys_round_trip_and_bad_keys_are_refused() {
        let key = KioskKey::generate();
        let again = KioskKey::from_secret_hex(&key.secret_hex()).expect("secret");
        assert_eq!(again.public_key_hex(), key.public_key_hex());
        assert!(!format!("{key:?}").contains(&key.secret_hex()));
        assert!(KioskPublicKey::from_hex("abc").is_err());
        assert!(KioskPublicKey::from_hex(&"00".repeat(32)).is_err());
        assert_eq!(
            KioskPublicKey::from_hex(&key.public_key_hex())
                .expect("ok")
                .to_hex(),
            key.public_key_hex()
        );
    }
}

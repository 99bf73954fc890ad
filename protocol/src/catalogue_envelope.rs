//! Signed catalogues: what the centre sends a kiosk on `GET /api/v1/catalogue/{version}`
//! (DESIGN §7 flow 3, issue 7 item 4).
//!
//! A [`SignedCatalogue`] carries the catalogue file text exactly as the centre stored it, its
//! version and publication time, the id of the signing key and an Ed25519 signature (RFC 8032,
//! pure Ed25519, no pre-hash) over the **canonical bytes** ([`canonical_bytes`]):
//!
//! ```text
//! kiosk-catalogue-signature-v1\n
//! version=<version in decimal, no leading zeros>\n
//! published_at=<published_at>\n
//! key_id=<key_id>\n
//! catalogue_bytes=<length of the catalogue text in UTF-8 bytes, decimal>\n
//! <the catalogue text, UTF-8, byte for byte>
//! ```
//!
//! (`\n` is one byte 0x0A; there is nothing after the catalogue text.) `published_at` and
//! `key_id` may not contain a line break, so the encoding is unambiguous.
//!
//! A kiosk verifies with a [`VerifyingKeySet`]: every public key it accepts, by key id, so that
//! the central office can rotate keys (kiosks carry the old and the new key for a while). After
//! [`VerifyingKeySet::verify`] succeeds the kiosk must still parse the text and check that the
//! catalogue's own `version` equals the envelope's `version` (the centre guarantees it), and
//! refuse a version that is not newer than the one it runs (anti-rollback).
//!
//! # Key files
//!
//! **Signing key** (private, central office only, mode 0600) — [`SigningKeyFile`]:
//!
//! ```text
//! # kiosk catalogue signing key (Ed25519). Keep secret.
//! key_id = central-2026a
//! ed25519_secret = <64 hex characters: the 32-byte RFC 8032 secret key (seed)>
//! ```
//!
//! **Verifying keys** (public, on every kiosk) — [`VerifyingKeySet`]: one key per line,
//! `<key_id> ed25519 <64 hex characters: the 32-byte public key>`; `#` starts a comment line;
//! blank lines are ignored; a key id may appear once.
//!
//! ```text
//! # kiosk catalogue verifying keys
//! central-2026a ed25519 3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c
//! central-2027a ed25519 fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025
//! ```
//!
//! A key id is 1–64 characters of ASCII letters, digits, `.`, `_` and `-`. Hex is accepted in
//! either case; writers use lower case.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The first line of the canonical bytes; names the signature scheme's version.
pub const SIGNATURE_DOMAIN: &str = "kiosk-catalogue-signature-v1";

/// `GET` this path followed by `/{version}` (or `/desired`) for a [`SignedCatalogue`], with the
/// kiosk's bearer token.
pub const CATALOGUE_PATH: &str = "/api/v1/catalogue";

/// The envelope's format number ([`SignedCatalogue::format`]).
pub const ENVELOPE_FORMAT: u32 = 1;

/// A catalogue as the centre serves it to kiosks (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCatalogue {
    /// Envelope format; [`ENVELOPE_FORMAT`].
    pub format: u32,
    /// The catalogue version (equal to the `version` inside `catalogue`).
    pub version: u32,
    /// When the central office published this version (RFC 3339; the catalogue's own
    /// `published_at`).
    pub published_at: String,
    /// Which signing key signed it.
    pub key_id: String,
    /// Ed25519 signature over [`canonical_bytes`], 128 lower-case hex characters.
    pub signature: String,
    /// The catalogue file (TOML, the format of `kiosk_core::catalogue`), byte for byte as signed.
    pub catalogue: String,
}

/// Why an envelope or a key file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The envelope is not well formed (format, field contents, signature encoding).
    #[error("malformed signed catalogue: {0}")]
    Malformed(String),
    /// The envelope names a key the verifier does not hold.
    #[error("catalogue is signed with unknown key id {0:?}")]
    UnknownKeyId(String),
    /// The signature does not match the content under the named key.
    #[error("catalogue signature is not valid for key {key_id:?} (content changed or wrong key)")]
    BadSignature { key_id: String },
    /// A key file could not be read or parsed.
    #[error("key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
}

/// The bytes the signature covers (see the module documentation).
pub fn canonical_bytes(version: u32, published_at: &str, key_id: &str, catalogue: &str) -> Vec<u8> {
    let header = format!(
        "{SIGNATURE_DOMAIN}\nversion={version}\npublished_at={published_at}\nkey_id={key_id}\ncatalogue_bytes={}\n",
        catalogue.len()
    );
    let mut bytes = Vec::with_capacity(header.len() + catalogue.len());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(catalogue.as_bytes());
    bytes
}

/// Whether `id` is a valid key id (1–64 of `A-Za-z0-9._-`).
pub fn is_valid_key_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn check_published_at(published_at: &str) -> Result<(), EnvelopeError> {
    if published_at.is_empty() || published_at.contains(['\n', '\r']) || published_at.len() > 64 {
        return Err(EnvelopeError::Malformed(
            "published_at must be one line of at most 64 characters".into(),
        ));
    }
    Ok(())
}

fn decode_32(hex_text: &str, what: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(hex_text.trim()).map_err(|_| format!("{what} is not hexadecimal"))?;
    bytes
        .try_into()
        .map_err(|_| format!("{what} must be 32 bytes (64 hex characters)"))
}

/// The central office's signing key with its id.
#[derive(Clone)]
pub struct SigningKeyFile {
    key_id: String,
    key: SigningKey,
}

impl std::fmt::Debug for SigningKeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKeyFile({}, …)", self.key_id)
    }
}

impl SigningKeyFile {
    /// A fresh random key (operating-system randomness).
    pub fn generate(key_id: &str) -> Result<Self, EnvelopeError> {
        if !is_valid_key_id(key_id) {
            return Err(EnvelopeError::Malformed(format!(
                "key id {key_id:?} must be 1-64 characters of letters, digits, '.', '_', '-'"
            )));
        }
        Ok(Self {
            key_id: key_id.to_string(),
            key: SigningKey::generate(&mut rand::rngs::OsRng),
        })
    }

    /// The key from its 32-byte secret (seed).
    pub fn from_secret(key_id: &str, secret: [u8; 32]) -> Result<Self, EnvelopeError> {
        if !is_valid_key_id(key_id) {
            return Err(EnvelopeError::Malformed(format!(
                "key id {key_id:?} must be 1-64 characters of letters, digits, '.', '_', '-'"
            )));
        }
        Ok(Self {
            key_id: key_id.to_string(),
            key: SigningKey::from_bytes(&secret),
        })
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The public half as 64 lower-case hex characters.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.verifying_key().to_bytes())
    }

    /// The key file text (see the module documentation).
    pub fn to_file_text(&self) -> String {
        format!(
            "# kiosk catalogue signing key (Ed25519). Keep secret.\nkey_id = {}\ned25519_secret = {}\n",
            self.key_id,
            hex::encode(self.key.to_bytes())
        )
    }

    /// One line of a verifying-key file for this key.
    pub fn verifying_key_line(&self) -> String {
        format!("{} ed25519 {}", self.key_id, self.public_key_hex())
    }

    /// Parses a signing-key file's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut key_id = None;
        let mut secret = None;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, value) = line
                .split_once('=')
                .ok_or_else(|| format!("line {}: expected `name = value`", n + 1))?;
            let value = value.trim();
            match name.trim() {
                "key_id" if key_id.is_none() => key_id = Some(value.to_string()),
                "ed25519_secret" if secret.is_none() => {
                    secret = Some(decode_32(value, "ed25519_secret")?)
                }
                "key_id" | "ed25519_secret" => {
                    return Err(format!("line {}: {} given twice", n + 1, name.trim()));
                }
                other => return Err(format!("line {}: unknown field {other:?}", n + 1)),
            }
        }
        let key_id = key_id.ok_or("key_id is missing")?;
        let secret = secret.ok_or("ed25519_secret is missing")?;
        Self::from_secret(&key_id, secret).map_err(|e| e.to_string())
    }

    /// Reads a signing-key file.
    pub fn load(path: &Path) -> Result<Self, EnvelopeError> {
        let err = |reason: String| EnvelopeError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        Self::parse(&text).map_err(err)
    }

    /// Signs a catalogue text for `version` published at `published_at`.
    pub fn sign(
        &self,
        version: u32,
        published_at: &str,
        catalogue: &str,
    ) -> Result<SignedCatalogue, EnvelopeError> {
        check_published_at(published_at)?;
        let bytes = canonical_bytes(version, published_at, &self.key_id, catalogue);
        let signature = self.key.sign(&bytes);
        Ok(SignedCatalogue {
            format: ENVELOPE_FORMAT,
            version,
            published_at: published_at.to_string(),
            key_id: self.key_id.clone(),
            signature: hex::encode(signature.to_bytes()),
            catalogue: catalogue.to_string(),
        })
    }
}

/// The public keys a kiosk accepts, by key id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyingKeySet {
    keys: BTreeMap<String, VerifyingKey>,
}

impl VerifyingKeySet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key; refuses a bad id, a duplicate id or bytes that are not a valid public key.
    pub fn insert(&mut self, key_id: &str, public_key: [u8; 32]) -> Result<(), String> {
        if !is_valid_key_id(key_id) {
            return Err(format!(
                "key id {key_id:?} must be 1-64 characters of letters, digits, '.', '_', '-'"
            ));
        }
        if self.keys.contains_key(key_id) {
            return Err(format!("key id {key_id:?} appears twice"));
        }
        let key = VerifyingKey::from_bytes(&public_key)
            .map_err(|_| format!("key {key_id:?} is not a valid Ed25519 public key"))?;
        self.keys.insert(key_id.to_string(), key);
        Ok(())
    }

    /// The key ids held, sorted.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Parses a verifying-key file's text (see the module documentation).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut set = Self::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [key_id, algorithm, public] = fields[..] else {
                return Err(format!(
                    "line {}: expected `<key_id> ed25519 <64 hex characters>`",
                    n + 1
                ));
            };
            if algorithm != "ed25519" {
                return Err(format!(
                    "line {}: algorithm {algorithm:?} is not supported (only ed25519)",
                    n + 1
                ));
            }
            let bytes =
                decode_32(public, "the public key").map_err(|e| format!("line {}: {e}", n + 1))?;
            set.insert(key_id, bytes)
                .map_err(|e| format!("line {}: {e}", n + 1))?;
        }
        if set.is_empty() {
            return Err("holds no key".into());
        }
        Ok(set)
    }

    /// Reads a verifying-key file.
    pub fn load(path: &Path) -> Result<Self, EnvelopeError> {
        let err = |reason: String| EnvelopeError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        Self::parse(&text).map_err(err)
    }

    /// Checks the envelope's form and signature. On success the catalogue text is exactly what
    /// the holder of `key_id`'s signing key signed for this version and publication time.
    pub fn verify(&self, envelope: &SignedCatalogue) -> Result<(), EnvelopeError> {
        if envelope.format != ENVELOPE_FORMAT {
            return Err(EnvelopeError::Malformed(format!(
                "envelope format {} is not supported (expected {ENVELOPE_FORMAT})",
                envelope.format
            )));
        }
        if !is_valid_key_id(&envelope.key_id) {
            return Err(EnvelopeError::Malformed(
                "key_id is not a valid key id".into(),
            ));
        }
        check_published_at(&envelope.published_at)?;
        let raw = hex::decode(&envelope.signature)
            .map_err(|_| EnvelopeError::Malformed("signature is not hexadecimal".into()))?;
        let raw: [u8; 64] = raw.try_into().map_err(|_| {
            EnvelopeError::Malformed("signature must be 64 bytes (128 hex characters)".into())
        })?;
        let key = self
            .keys
            .get(&envelope.key_id)
            .ok_or_else(|| EnvelopeError::UnknownKeyId(envelope.key_id.clone()))?;
        let bytes = canonical_bytes(
            envelope.version,
            &envelope.published_at,
            &envelope.key_id,
            &envelope.catalogue,
        );
        key.verify_strict(&bytes, &Signature::from_bytes(&raw))
            .map_err(|_| EnvelopeError::BadSignature {
                key_id: envelope.key_id.clone(),
            })
    }
}

impl SignedCatalogue {
    /// Parses the JSON of an envelope (as served by the centre).
    pub fn from_json(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        serde_json::from_slice(bytes).map_err(|e| EnvelopeError::Malformed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "format = 1\nversion = 7\npublished_at = \"2026-11-20T09:00:00+08:00\"\n";

    fn key(id: &str) -> SigningKeyFile {
        SigningKeyFile::generate(id).unwrap()
    }

    fn set_of(keys: &[&SigningKeyFile]) -> VerifyingKeySet {
        let text: String = keys
            .iter()
            .map(|k| format!("{}\n", k.verifying_key_line()))
            .collect();
        VerifyingKeySet::parse(&format!("# keys\n\n{text}")).unwrap()
    }

    #[test]
    fn canonical_bytes_are_exactly_as_documented() {
        let bytes = canonical_bytes(7, "2026-11-20T09:00:00+08:00", "k1", "ab\n");
        assert_eq!(
            bytes,
            b"kiosk-catalogue-signature-v1\nversion=7\npublished_at=2026-11-20T09:00:00+08:00\nkey_id=k1\ncatalogue_bytes=3\nab\n"
        );
    }

    #[test]
    fn sign_and_verify_round_trip_through_json() {
        let k = key("central-2026a");
        let envelope = k.sign(7, "2026-11-20T09:00:00+08:00", TEXT).unwrap();
        let json = serde_json::to_vec(&envelope).unwrap();
        let back = SignedCatalogue::from_json(&json).unwrap();
        assert_eq!(back, envelope);
        set_of(&[&k]).verify(&back).unwrap();
    }

    #[test]
    fn tampered_fields_are_refused() {
        let k = key("k");
        let set = set_of(&[&k]);
        let good = k.sign(7, "2026-11-20T09:00:00+08:00", TEXT).unwrap();
        let bad_sig = |e: SignedCatalogue| {
            assert_eq!(
                set.verify(&e),
                Err(EnvelopeError::BadSignature { key_id: "k".into() })
            )
        };
        let mut e = good.clone();
        e.catalogue = e.catalogue.replace("version = 7", "version = 8");
        bad_sig(e);
        let mut e = good.clone();
        e.catalogue.push(' ');
        bad_sig(e);
        let mut e = good.clone();
        e.version = 8;
        bad_sig(e);
        let mut e = good.clone();
        e.published_at = "2026-11-21T09:00:00+08:00".into();
        bad_sig(e);
        let mut e = good.clone();
        let mut sig = hex::decode(&e.signature).unwrap();
        sig[10] ^= 1;
        e.signature = hex::encode(sig);
        bad_sig(e);
    }

    #[test]
    fn wrong_key_and_unknown_key_id_are_refused() {
        let signer = key("k");
        let other = key("k");
        let envelope = signer.sign(7, "2026-11-20T09:00:00+08:00", TEXT).unwrap();
        // Same id, other key: the signature does not verify.
        assert!(matches!(
            set_of(&[&other]).verify(&envelope),
            Err(EnvelopeError::BadSignature { .. })
        ));
        // Key id not held.
        let elsewhere = key("other-id");
        assert_eq!(
            set_of(&[&elsewhere]).verify(&envelope),
            Err(EnvelopeError::UnknownKeyId("k".into()))
        );
        // Relabelled to a held id: still refused.
        let mut e = envelope.clone();
        e.key_id = "other-id".into();
        assert!(matches!(
            set_of(&[&elsewhere]).verify(&e),
            Err(EnvelopeError::BadSignature { .. })
        ));
    }

    #[test]
    fn rotated_keys_are_both_accepted() {
        let old = key("central-2026a");
        let new = key("central-2027a");
        let set = set_of(&[&old, &new]);
        set.verify(&old.sign(7, "2026-11-20T09:00:00+08:00", TEXT).unwrap())
            .unwrap();
        set.verify(&new.sign(8, "2027-01-02T09:00:00+08:00", TEXT).unwrap())
            .unwrap();
        // After the old key is withdrawn from the kiosks, its signatures stop being accepted.
        let only_new = set_of(&[&new]);
        assert_eq!(
            only_new.verify(&old.sign(9, "2027-01-03T09:00:00+08:00", TEXT).unwrap()),
            Err(EnvelopeError::UnknownKeyId("central-2026a".into()))
        );
    }

    #[test]
    fn malformed_envelopes_are_refused() {
        let k = key("k");
        let set = set_of(&[&k]);
        let good = k.sign(7, "2026-11-20T09:00:00+08:00", TEXT).unwrap();
        for (e, what) in [
            (
                SignedCatalogue {
                    format: 2,
                    ..good.clone()
                },
                "format",
            ),
            (
                SignedCatalogue {
                    signature: "zz".into(),
                    ..good.clone()
                },
                "hexadecimal",
            ),
            (
                SignedCatalogue {
                    signature: "abcd".into(),
                    ..good.clone()
                },
                "64 bytes",
            ),
            (
                SignedCatalogue {
                    key_id: "bad id".into(),
                    ..good.clone()
                },
                "key_id",
            ),
            (
                SignedCatalogue {
                    published_at: "a\nb".into(),
                    ..good.clone()
                },
                "published_at",
            ),
        ] {
            match set.verify(&e) {
                Err(EnvelopeError::Malformed(m)) => assert!(m.contains(what), "{m}"),
                other => panic!("{what}: {other:?}"),
            }
        }
        assert!(matches!(
            SignedCatalogue::from_json(b"{\"format\":1}"),
            Err(EnvelopeError::Malformed(_))
        ));
        assert!(k.sign(1, "a\nb", TEXT).is_err());
    }

    #[test]
    fn key_files_round_trip_and_bad_ones_say_why() {
        let k = key("central-2026a");
        let back = SigningKeyFile::parse(&k.to_file_text()).unwrap();
        assert_eq!(back.key_id(), "central-2026a");
        assert_eq!(back.public_key_hex(), k.public_key_hex());

        assert!(
            SigningKeyFile::parse("key_id = a\n")
                .unwrap_err()
                .contains("ed25519_secret is missing")
        );
        assert!(
            SigningKeyFile::parse("key_id = a\ned25519_secret = 12\n")
                .unwrap_err()
                .contains("32 bytes")
        );
        assert!(
            SigningKeyFile::parse("colour = red\n")
                .unwrap_err()
                .contains("unknown field")
        );
        assert!(
            SigningKeyFile::parse(&format!(
                "key_id = a b\ned25519_secret = {}\n",
                "00".repeat(32)
            ))
            .unwrap_err()
            .contains("key id")
        );

        assert_eq!(
            VerifyingKeySet::parse("# none\n").unwrap_err(),
            "holds no key"
        );
        assert!(
            VerifyingKeySet::parse("k rsa 00\n")
                .unwrap_err()
                .contains("only ed25519")
        );
        assert!(
            VerifyingKeySet::parse("k ed25519\n")
                .unwrap_err()
                .contains("line 1")
        );
        let line = k.verifying_key_line();
        assert!(
            VerifyingKeySet::parse(&format!("{line}\n{line}\n"))
                .unwrap_err()
                .contains("twice")
        );
        let upper = line
            .to_uppercase()
            .replace("CENTRAL-2026A ED25519", "central-2026a ed25519");
        let set = VerifyingKeySet::parse(&upper).unwrap();
        assert_eq!(set.key_ids().collect::<Vec<_>>(), ["central-2026a"]);
    }
}

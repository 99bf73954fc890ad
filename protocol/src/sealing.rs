//! Encryption at rest for personal data (DESIGN §6).
//!
//! A [`SealingKey`] is 32 random bytes kept in a root-only key file as 64 hex characters.
//! [`SealingKey::seal`] produces `nonce (24 bytes) ‖ ciphertext+tag`; [`SealingKey::open`]
//! reverses it and fails on any tampering.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use std::path::Path;

/// Encrypted bytes: a 24-byte nonce followed by the ciphertext and its tag.
pub type SealedBytes = Vec<u8>;

#[derive(Debug, thiserror::Error)]
pub enum SealingError {
    #[error("key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("sealed data is damaged or was sealed with another key")]
    Damaged,
}

/// The symmetric key that protects personal data at rest.
#[derive(Clone)]
pub struct SealingKey {
    key: [u8; 32],
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(…)")
    }
}

impl SealingKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self { key }
    }

    /// Reads a key file (64 hex characters, surrounding whitespace ignored).
    pub fn load(path: &Path) -> Result<Self, SealingError> {
        let err = |reason: String| SealingError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let bytes = hex::decode(text.trim()).map_err(|_| err("not hexadecimal".into()))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| err("must hold 32 bytes (64 hex characters)".into()))?;
        Ok(Self { key })
    }

    /// Reads the key file, or creates it with a fresh key (mode 0600) when it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, SealingError> {
        if path.exists() {
            return Self::load(path);
        }
        let key = Self::generate();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| SealingError::KeyFile {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        }
        write_private(path, hex::encode(key.key).as_bytes()).map_err(|e| {
            SealingError::KeyFile {
                path: path.display().to_string(),
                reason: e.to_string(),
            }
        })?;
        Ok(key)
    }

    pub fn seal(&self, plain: &[u8]) -> SealedBytes {
        let cipher = XChaCha20Poly1305::new((&self.key).into());
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let body = cipher
            .encrypt(XNonce::from_slice(&nonce), plain)
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&body);
        out
    }

    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, SealingError> {
        if sealed.len() < 24 + 16 {
            return Err(SealingError::Damaged);
        }
        let cipher = XChaCha20Poly1305::new((&self.key).into());
        let (nonce, body) = sealed.split_at(24);
        cipher
            .decrypt(XNonce::from_slice(nonce), body)
            .map_err(|_| SealingError::Damaged)
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper_detection() {
        let key = SealingKey::generate();
        let sealed = key.seal("张三 110105194912310021".as_bytes());
        assert!(!sealed.windows(6).any(|w| w == b"110105"));
        assert_eq!(
            key.open(&sealed).unwrap(),
            "张三 110105194912310021".as_bytes()
        );
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(matches!(key.open(&bad), Err(SealingError::Damaged)));
        assert!(matches!(
            SealingKey::generate().open(&sealed),
            Err(SealingError::Damaged)
        ));
    }

    #[test]
    fn key_file_is_created_then_reloaded() {
        let dir = std::env::temp_dir().join(format!("sealing-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("kiosk.key");
        let a = SealingKey::load_or_create(&path).unwrap();
        let b = SealingKey::load_or_create(&path).unwrap();
        assert_eq!(b.open(&a.seal(b"x")).unwrap(), b"x");
        std::fs::write(&path, "zz").unwrap();
        assert!(
            SealingKey::load(&path)
                .unwrap_err()
                .to_string()
                .contains("not hexadecimal")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

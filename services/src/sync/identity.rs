//! The kiosk's own identity (issue 7 item 1): its Ed25519 key pair in a root-only key file,
//! enrolment with a one-time code, and the signature headers of every request
//! (`kiosk_protocol::request_signing`).
//!
//! Key file (mode 0600, created when missing; a file readable by group or others is refused):
//!
//! ```text
//! # kiosk identity key (Ed25519). Keep secret.
//! kiosk_id = kiosk-001
//! ed25519_secret = <64 hex: the 32-byte RFC 8032 secret key>
//! enrolled_code_sha256 = <64 hex>     (after enrolment: which code enrolled this key)
//! enrolled_at = <RFC 3339>            (after enrolment, the centre's time)
//! ```
//!
//! Enrolment runs before the first request that needs it (so a centre unreachable at start is
//! no problem), once per configured code: when `[central] enrol_code` differs from the code that
//! enrolled the key (re-enrolment after a revocation: the operator sets the new code), the same
//! key enrols again. A code the centre refuses is not tried again until the program restarts.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use kiosk_protocol::request_signing::{
    EnrolReply, EnrolRequest, KioskKey, SignatureHeaders, sha256_hex,
};

/// Why the identity could not be loaded, created or enrolled.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("kiosk key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("enrolment refused by the centre (HTTP {status}): {message}")]
    Refused { status: u16, message: String },
    #[error("enrolment failed: {0}")]
    Unreachable(String),
}

#[derive(Debug, Clone, Default)]
struct Enrolment {
    code_sha256: Option<String>,
    enrolled_at: Option<String>,
}

/// The kiosk's key, where it lives, and whether (with which code) it enrolled.
pub struct KioskIdentity {
    kiosk_id: String,
    key: KioskKey,
    path: PathBuf,
    enrol_code: Option<String>,
    state: Mutex<EnrolState>,
}

#[derive(Debug, Default)]
struct EnrolState {
    enrolment: Enrolment,
    /// The configured code was refused: do not try again.
    refused: bool,
}

impl std::fmt::Debug for KioskIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KioskIdentity")
            .field("kiosk_id", &self.kiosk_id)
            .field("public_key", &self.key.public_key_hex())
            .field("path", &self.path)
            .finish()
    }
}

fn key_file_error(path: &Path, reason: impl ToString) -> IdentityError {
    IdentityError::KeyFile {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

fn code_sha256(code: &str) -> String {
    // The centre's normalisation: upper case, without dashes and spaces.
    let normal: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    sha256_hex(normal.as_bytes())
}

impl KioskIdentity {
    /// Loads the key file, or creates it (0600) with a fresh key when missing. `enrol_code` is
    /// the configured one-time code (`[central] enrol_code`), if any.
    pub fn load_or_create(
        path: &Path,
        kiosk_id: &str,
        enrol_code: Option<String>,
    ) -> Result<Self, IdentityError> {
        let (key, enrolment) = if path.exists() {
            Self::read(path, kiosk_id)?
        } else {
            let key = KioskKey::generate();
            write_key_file(path, kiosk_id, &key, &Enrolment::default())?;
            tracing::info!(path = %path.display(), public_key = %key.public_key_hex(), "kiosk key created");
            (key, Enrolment::default())
        };
        Ok(Self {
            kiosk_id: kiosk_id.to_string(),
            key,
            path: path.to_path_buf(),
            enrol_code: enrol_code.filter(|c| !c.trim().is_empty()),
            state: Mutex::new(EnrolState {
                enrolment,
                refused: false,
            }),
        })
    }

    fn read(path: &Path, kiosk_id: &str) -> Result<(KioskKey, Enrolment), IdentityError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)
                .map_err(|e| key_file_error(path, e))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(key_file_error(
                    path,
                    format!("readable by others (mode {:o}); chmod 600 it", mode & 0o777),
                ));
            }
        }
        let text = std::fs::read_to_string(path).map_err(|e| key_file_error(path, e))?;
        let mut secret = None;
        let mut file_kiosk = None;
        let mut enrolment = Enrolment::default();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, value) = line
                .split_once('=')
                .ok_or_else(|| key_file_error(path, "a line is not `name = value`"))?;
            let value = value.trim().to_string();
            match name.trim() {
                "kiosk_id" => file_kiosk = Some(value),
                "ed25519_secret" => secret = Some(value),
                "enrolled_code_sha256" => enrolment.code_sha256 = Some(value),
                "enrolled_at" => enrolment.enrolled_at = Some(value),
                other => return Err(key_file_error(path, format!("unknown key {other:?}"))),
            }
        }
        let secret = secret.ok_or_else(|| key_file_error(path, "ed25519_secret is missing"))?;
        let key = KioskKey::from_secret_hex(&secret).map_err(|e| key_file_error(path, e))?;
        if file_kiosk.as_deref() != Some(kiosk_id) {
            return Err(key_file_error(
                path,
                format!("it belongs to kiosk {file_kiosk:?}, not {kiosk_id:?}"),
            ));
        }
        Ok((key, enrolment))
    }

    pub fn kiosk_id(&self) -> &str {
        &self.kiosk_id
    }

    /// The public key, 64 hex.
    pub fn public_key_hex(&self) -> String {
        self.key.public_key_hex()
    }

    /// Whether the key enrolled (with some code).
    pub fn is_enrolled(&self) -> bool {
        self.lock().enrolment.enrolled_at.is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, EnrolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Enrols with the configured code when it has not enrolled this key yet; `Ok(false)` when
    /// there was nothing to do.
    pub fn ensure_enrolled(
        &self,
        agent: &ureq::Agent,
        base_url: &str,
    ) -> Result<bool, IdentityError> {
        let Some(code) = &self.enrol_code else {
            return Ok(false);
        };
        let mut state = self.lock();
        let hash = code_sha256(code);
        if state.refused || state.enrolment.code_sha256.as_deref() == Some(hash.as_str()) {
            return Ok(false);
        }
        let url = format!(
            "{}{}",
            base_url.trim_end_matches('/'),
            kiosk_protocol::request_signing::ENROL_PATH
        );
        let request = EnrolRequest {
            kiosk_id: self.kiosk_id.clone(),
            code: code.clone(),
            public_key: self.key.public_key_hex(),
        };
        let mut response = agent
            .post(&url)
            .send_json(&request)
            .map_err(|e| IdentityError::Unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let text = response.body_mut().read_to_string().unwrap_or_default();
            let message = serde_json::from_str::<kiosk_protocol::wire::ErrorBody>(&text)
                .map(|b| b.error)
                .unwrap_or(text);
            if (400..500).contains(&status) {
                state.refused = true;
            }
            return Err(IdentityError::Refused {
                status,
                message: message.chars().take(300).collect(),
            });
        }
        let reply: EnrolReply = response
            .body_mut()
            .read_json()
            .map_err(|e| IdentityError::Unreachable(e.to_string()))?;
        let enrolment = Enrolment {
            code_sha256: Some(hash),
            enrolled_at: Some(reply.enrolled_at),
        };
        write_key_file(&self.path, &self.kiosk_id, &self.key, &enrolment)?;
        state.enrolment = enrolment;
        tracing::info!(kiosk_id = %self.kiosk_id, "kiosk enrolled with the centre");
        Ok(true)
    }

    /// The signature headers of one request (a fresh nonce, the current time).
    pub fn sign(&self, method: &str, path_and_query: &str, body: &[u8]) -> SignatureHeaders {
        self.key
            .sign_now(&self.kiosk_id, method, path_and_query, body)
    }
}

/// Writes the key file atomically (a 0600 temporary file renamed over it).
fn write_key_file(
    path: &Path,
    kiosk_id: &str,
    key: &KioskKey,
    enrolment: &Enrolment,
) -> Result<(), IdentityError> {
    let mut text = format!(
        "# kiosk identity key (Ed25519). Keep secret.\nkiosk_id = {kiosk_id}\ned25519_secret = {}\n",
        key.secret_hex()
    );
    if let (Some(code), Some(at)) = (&enrolment.code_sha256, &enrolment.enrolled_at) {
        text.push_str(&format!(
            "enrolled_code_sha256 = {code}\nenrolled_at = {at}\n"
        ));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| key_file_error(path, e))?;
    }
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(|e| key_file_error(path, e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| key_file_error(path, e))?;
    std::fs::rename(&tmp, path).map_err(|e| key_file_error(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("kiosk-identity-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn key_file_is_created_0600_then_reloaded() {
        let dir = scratch("create");
        let path = dir.join("keys/kiosk-identity.key");
        let first = KioskIdentity::load_or_create(&path, "kiosk-001", None).expect("created");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = KioskIdentity::load_or_create(&path, "kiosk-001", None).expect("loaded");
        assert_eq!(first.public_key_hex(), again.public_key_hex());
        assert!(!again.is_enrolled());
        assert!(!format!("{again:?}").contains(&first.key.secret_hex()));
        // Another kiosk's file is refused.
        assert!(KioskIdentity::load_or_create(&path, "kiosk-002", None).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            let error = KioskIdentity::load_or_create(&path, "kiosk-001", None).unwrap_err();
            assert!(error.to_string().contains("chmod 600"), "{error}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn code_hash_matches_the_centres_normalisation() {
        assert_eq!(code_sha256("abcd-efgh"), code_sha256("ABCDEFGH"));
        assert_eq!(code_sha256("ABCDEFGH"), sha256_hex(b"ABCDEFGH"));
    }
}

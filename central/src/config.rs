//! What the central service needs to start: where its database and key live, where it listens,
//! and which bearer tokens it accepts.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

/// Start-up settings of the central service.
#[derive(Debug, Clone)]
pub struct CentralConfig {
    /// SQLite database file; created (with its folder) when missing. Unused when the service
    /// runs on PostgreSQL (`spawn_with_postgres`) or on a given store (`spawn_with_storage`).
    pub database_path: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The configured fleet: kiosk ids, each with an optional bearer token (`ID` or
    /// `ID=TOKEN`). Tokens are used only when `accept_bearer_tokens` is set.
    pub kiosks: Vec<KioskCredential>,
    /// Accept the legacy `Authorization: Bearer <kiosk token>` on the kiosk API besides signed
    /// requests. Off by default (`serve --accept-bearer-tokens`): enrolled kiosks sign every
    /// request (`kiosk_protocol::request_signing`).
    pub accept_bearer_tokens: bool,
    /// Bearer token that protects the admin read endpoints.
    pub admin_token: String,
    /// The centre's key file for personal data at rest; created when missing.
    pub sealing_key_path: PathBuf,
}

/// A configured kiosk and the legacy bearer token it may authenticate with (empty: none).
#[derive(Clone, PartialEq, Eq)]
pub struct KioskCredential {
    pub kiosk_id: String,
    pub token: String,
}

impl std::fmt::Debug for KioskCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KioskCredential")
            .field("kiosk_id", &self.kiosk_id)
            .field("token", &"…")
            .finish()
    }
}

/// A configuration the service refuses to start with.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("kiosk credential {0:?} must have the form ID=TOKEN")]
    CredentialFormat(String),
    #[error("kiosk id {0:?} may only hold letters, digits, '-', '_' and '.' (1 to 64 characters)")]
    KioskIdInvalid(String),
    #[error("kiosk {0}: token must not be empty or hold spaces")]
    KioskTokenUnusable(String),
    #[error("kiosk {0} is listed more than once")]
    KioskIdRepeated(String),
    #[error("kiosks {0} and {1} share a token; every kiosk needs its own")]
    TokenShared(String, String),
    #[error("admin token must not be empty or hold spaces")]
    AdminTokenUnusable,
    #[error("admin token must differ from every kiosk token (kiosk {0} uses it)")]
    AdminTokenIsKioskToken(String),
}

impl FromStr for KioskCredential {
    type Err = ConfigError;

    /// Parses `ID=TOKEN` or `ID` (no token), as given to `--kiosk`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (kiosk_id, token) = match text.split_once('=') {
            Some((id, token)) if !token.trim().is_empty() => (id, token),
            Some(_) => return Err(ConfigError::KioskTokenUnusable(redact_token(text))),
            None => (text, ""),
        };
        let credential = KioskCredential {
            kiosk_id: kiosk_id.trim().to_string(),
            token: token.trim().to_string(),
        };
        credential.validate()?;
        Ok(credential)
    }
}

impl KioskCredential {
    fn validate(&self) -> Result<(), ConfigError> {
        if !is_valid_kiosk_id(&self.kiosk_id) {
            return Err(ConfigError::KioskIdInvalid(self.kiosk_id.clone()));
        }
        if !self.token.is_empty() && !is_usable_token(&self.token) {
            return Err(ConfigError::KioskTokenUnusable(self.kiosk_id.clone()));
        }
        Ok(())
    }
}

impl CentralConfig {
    /// Checks the credentials: valid ids, one entry per kiosk, one token per kiosk, and an admin
    /// token no kiosk can use.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut ids = HashSet::new();
        for (index, credential) in self.kiosks.iter().enumerate() {
            credential.validate()?;
            if !ids.insert(credential.kiosk_id.as_str()) {
                return Err(ConfigError::KioskIdRepeated(credential.kiosk_id.clone()));
            }
            if let Some(other) = self.kiosks[..index]
                .iter()
                .find(|other| !other.token.is_empty() && other.token == credential.token)
            {
                return Err(ConfigError::TokenShared(
                    other.kiosk_id.clone(),
                    credential.kiosk_id.clone(),
                ));
            }
        }
        if !is_usable_token(&self.admin_token) {
            return Err(ConfigError::AdminTokenUnusable);
        }
        if let Some(kiosk) = self.kiosks.iter().find(|k| k.token == self.admin_token) {
            return Err(ConfigError::AdminTokenIsKioskToken(kiosk.kiosk_id.clone()));
        }
        Ok(())
    }
}

/// Kiosk ids travel in URLs, logs and file names later on: keep them plain.
pub fn is_valid_kiosk_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Catches typos such as `--kiosk k1=`; how tokens are issued is enrolment's job.
fn is_usable_token(token: &str) -> bool {
    !token.is_empty() && !token.chars().any(char::is_whitespace)
}

/// Shows what was given to `--kiosk` without the secret half, for error messages.
fn redact_token(text: &str) -> String {
    if text.len() > 64 {
        format!("{}…", text.chars().take(16).collect::<String>())
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(kiosks: &[(&str, &str)], admin: &str) -> CentralConfig {
        CentralConfig {
            database_path: "central.db".into(),
            listen: "127.0.0.1:0".parse().expect("literal address"),
            kiosks: kiosks
                .iter()
                .map(|(id, token)| KioskCredential {
                    kiosk_id: id.to_string(),
                    token: token.to_string(),
                })
                .collect(),
            admin_token: admin.to_string(),
            sealing_key_path: "central.key".into(),
            accept_bearer_tokens: false,
        }
    }

    #[test]
    fn credential_parses_id_equals_token() {
        let c: KioskCredential = "kiosk-001=s3cret-token".parse().expect("valid");
        assert_eq!(c.kiosk_id, "kiosk-001");
        assert_eq!(c.token, "s3cret-token");
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn credential_errors_name_the_problem() {
        let without_token: KioskCredential = "kiosk-001".parse().expect("id only");
        assert_eq!(without_token.token, "");
        assert!(matches!(
            "kiosk 1=long-enough-token".parse::<KioskCredential>(),
            Err(ConfigError::KioskIdInvalid(_))
        ));
        assert!(matches!(
            "kiosk-001=".parse::<KioskCredential>(),
            Err(ConfigError::KioskTokenUnusable(_))
        ));
    }

    #[test]
    fn config_rejects_repeats_and_shared_tokens() {
        let ok = config(&[("a", "token-aaaa"), ("b", "token-bbbb")], "admin-token");
        assert_eq!(ok.validate(), Ok(()));
        let repeated = config(&[("a", "token-aaaa"), ("a", "token-bbbb")], "admin-token");
        assert_eq!(
            repeated.validate(),
            Err(ConfigError::KioskIdRepeated("a".into()))
        );
        let shared = config(&[("a", "token-aaaa"), ("b", "token-aaaa")], "admin-token");
        assert_eq!(
            shared.validate(),
            Err(ConfigError::TokenShared("a".into(), "b".into()))
        );
        let empty_admin = config(&[("a", "token-aaaa")], "");
        assert_eq!(empty_admin.validate(), Err(ConfigError::AdminTokenUnusable));
        let admin_is_kiosk = config(&[("a", "token-aaaa")], "token-aaaa");
        assert_eq!(
            admin_is_kiosk.validate(),
            Err(ConfigError::AdminTokenIsKioskToken("a".into()))
        );
    }
}

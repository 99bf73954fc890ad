//! Bearer-token authentication: kiosk tokens for the kiosk API, the admin token for reads.

use super::{ApiError, AppState};
use crate::config::KioskCredential;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};

/// The tokens the service accepts.
pub struct Credentials {
    kiosks: Vec<KioskCredential>,
    admin_token: String,
}

impl Credentials {
    pub fn new(kiosks: Vec<KioskCredential>, admin_token: String) -> Self {
        Self {
            kiosks,
            admin_token,
        }
    }

    /// The kiosk a token belongs to. Compares against every token in constant time per token.
    fn kiosk_for_token(&self, token: &str) -> Option<&str> {
        let mut found = None;
        for credential in &self.kiosks {
            if constant_time_eq(credential.token.as_bytes(), token.as_bytes()) {
                found = Some(credential.kiosk_id.as_str());
            }
        }
        found
    }

    /// The configured kiosks, in configuration order.
    pub fn kiosk_ids(&self) -> impl Iterator<Item = &str> {
        self.kiosks.iter().map(|k| k.kiosk_id.as_str())
    }

    fn is_admin_token(&self, token: &str) -> bool {
        constant_time_eq(self.admin_token.as_bytes(), token.as_bytes())
    }
}

/// Equality whose run time depends only on the lengths, not on where the bytes differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `Authorization: Bearer` token of a request.
fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let unauthorized =
        || ApiError::new(StatusCode::UNAUTHORIZED, "missing or unknown bearer token");
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(unauthorized)?
        .to_str()
        .map_err(|_| unauthorized())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(unauthorized)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(unauthorized());
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(unauthorized());
    }
    Ok(token)
}

/// A request made with a kiosk's token: the kiosk it belongs to.
pub struct AuthenticatedKiosk {
    pub kiosk_id: String,
}

impl AuthenticatedKiosk {
    /// Refuses a body that speaks for another kiosk than the token's (403).
    pub fn require_same_kiosk(&self, body_kiosk_id: &str) -> Result<(), ApiError> {
        if self.kiosk_id == body_kiosk_id {
            Ok(())
        } else {
            tracing::warn!(
                token_kiosk = %self.kiosk_id,
                "request body names another kiosk than its token; refused"
            );
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "kiosk_id in the body does not match the kiosk of the bearer token",
            ))
        }
    }
}

impl FromRequestParts<AppState> for AuthenticatedKiosk {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts)?;
        match state.credentials.kiosk_for_token(token) {
            Some(kiosk_id) => Ok(Self {
                kiosk_id: kiosk_id.to_string(),
            }),
            None => {
                tracing::warn!(path = %parts.uri.path(), "kiosk request with an unknown token");
                Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "missing or unknown bearer token",
                ))
            }
        }
    }
}

/// A request made with the admin token.
pub struct AdminCaller;

impl FromRequestParts<AppState> for AdminCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts)?;
        if state.credentials.is_admin_token(token) {
            Ok(AdminCaller)
        } else {
            tracing::warn!(path = %parts.uri.path(), "admin request with a wrong token");
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing or unknown bearer token",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lookup() {
        let credentials = Credentials::new(
            vec![
                KioskCredential {
                    kiosk_id: "a".into(),
                    token: "token-a".into(),
                },
                KioskCredential {
                    kiosk_id: "b".into(),
                    token: "token-b".into(),
                },
            ],
            "admin".into(),
        );
        assert_eq!(credentials.kiosk_for_token("token-b"), Some("b"));
        assert_eq!(credentials.kiosk_for_token("token-"), None);
        assert!(credentials.is_admin_token("admin"));
        assert!(!credentials.is_admin_token("token-a"));
    }
}

//! Authentication: signed requests of enrolled kiosks (`kiosk_protocol::request_signing`) for
//! the kiosk API, the admin bearer token for the admin API, and — only when configured
//! (`accept_bearer_tokens`) — the legacy per-kiosk bearer tokens.
//!
//! [`verify_signed_requests`] is a middleware over every route: a request carrying any
//! `X-Kiosk-*` signature header is verified (headers, timestamp window, enrolled and not revoked,
//! signature over method, path with query, timestamp, nonce and body hash, nonce not seen) and
//! marked with [`VerifiedKiosk`], or refused there (401; 403 revoked). [`AuthenticatedKiosk`]
//! then accepts a verified request, or a bearer token when those are accepted.

use super::{ApiError, AppState, MAX_BODY_BYTES, with_store};
use crate::clock::ServerTime;
use crate::config::KioskCredential;
use crate::storage::{CentralStorage, KioskKeyRecord, StorageError};
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kiosk_protocol::request_signing::{
    HEADER_KIOSK_ID, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, KioskPublicKey,
    MAX_CLOCK_SKEW_S, RequestSigningError, SignatureHeaders, check_timestamp,
};

/// How long nonces are remembered: twice the clock-skew window, so a request whose timestamp is
/// still accepted can never reuse a forgotten nonce.
pub const NONCE_KEEP_MS: i64 = 2 * MAX_CLOCK_SKEW_S * 1000;

/// The tokens the service accepts.
pub struct Credentials {
    kiosks: Vec<KioskCredential>,
    admin_token: String,
    accept_bearer_tokens: bool,
}

impl Credentials {
    pub fn new(
        kiosks: Vec<KioskCredential>,
        admin_token: String,
        accept_bearer_tokens: bool,
    ) -> Self {
        Self {
            kiosks,
            admin_token,
            accept_bearer_tokens,
        }
    }

    /// The kiosk a token belongs to. Compares against every token in constant time per token.
    fn kiosk_for_token(&self, token: &str) -> Option<&str> {
        let mut found = None;
        for credential in &self.kiosks {
            if !credential.token.is_empty()
                && constant_time_eq(credential.token.as_bytes(), token.as_bytes())
            {
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

/// Set by [`verify_signed_requests`] on a request whose signature checked out.
#[derive(Debug, Clone)]
pub struct VerifiedKiosk(pub String);

fn unauthorized(message: &str) -> Response {
    ApiError::new(StatusCode::UNAUTHORIZED, message).into_response()
}

fn signing_headers_present(headers: &HeaderMap) -> bool {
    [
        HEADER_KIOSK_ID,
        HEADER_TIMESTAMP,
        HEADER_NONCE,
        HEADER_SIGNATURE,
    ]
    .iter()
    .any(|name| headers.contains_key(*name))
}

/// The middleware: reads the body, and verifies a signed request (see the module
/// documentation).
pub async fn verify_signed_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    // Every body is read here, before any handler can refuse the request: a request refused
    // unread (a wrong admin token) would otherwise cost the client its keep-alive connection,
    // and a client that already sent its next request on it sees "peer disconnected".
    let signed = signing_headers_present(request.headers());
    let (mut parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body is larger than {MAX_BODY_BYTES} bytes"),
            )
            .into_response();
        }
    };
    if !signed {
        return next.run(Request::from_parts(parts, Body::from(body))).await;
    }
    let path = parts.uri.path_and_query().map_or_else(
        || parts.uri.path().to_string(),
        |pq| pq.as_str().to_string(),
    );
    let headers = match SignatureHeaders::from_lookup(|name| {
        parts.headers.get(name).and_then(|v| v.to_str().ok())
    }) {
        Ok(headers) => headers,
        Err(error) => {
            tracing::warn!(path = %parts.uri.path(), %error, "kiosk request refused");
            return unauthorized(&error.to_string());
        }
    };
    let now = ServerTime::now();
    if let Err(error) = check_timestamp(headers.timestamp, now.unix_ms.div_euclid(1000)) {
        tracing::warn!(kiosk_id = %headers.kiosk_id, %error, "kiosk request refused");
        return unauthorized(&error.to_string());
    }
    // Key lookup, signature check and nonce in one trip to the blocking pool.
    let check = {
        let (headers, method, body) = (headers.clone(), parts.method.clone(), body.clone());
        with_store(&state, "check signed request", move |store| {
            check_signed_request(store, &headers, method.as_str(), &path, &body, now.unix_ms)
        })
        .await
    };
    match check {
        Ok(SignedRequestCheck::Verified) => {}
        Ok(SignedRequestCheck::NotEnrolled) => {
            tracing::warn!(kiosk_id = %headers.kiosk_id, "signed request from a kiosk that is not enrolled");
            return unauthorized("kiosk is not enrolled");
        }
        Ok(SignedRequestCheck::BadSignature(error)) => {
            tracing::warn!(kiosk_id = %headers.kiosk_id, %error, "kiosk request refused");
            return unauthorized(&RequestSigningError::BadSignature.to_string());
        }
        Ok(SignedRequestCheck::Revoked) => {
            tracing::warn!(kiosk_id = %headers.kiosk_id, "request from a revoked kiosk refused");
            return ApiError::new(StatusCode::FORBIDDEN, "kiosk is revoked; enrol it again")
                .into_response();
        }
        Ok(SignedRequestCheck::Replayed) => {
            tracing::warn!(kiosk_id = %headers.kiosk_id, "replayed request nonce refused");
            return unauthorized("request nonce was already used (replay)");
        }
        Err(error) => return error.into_response(),
    }
    parts.extensions.insert(VerifiedKiosk(headers.kiosk_id));
    next.run(Request::from_parts(parts, Body::from(body))).await
}

/// What [`check_signed_request`] found.
enum SignedRequestCheck {
    Verified,
    NotEnrolled,
    BadSignature(RequestSigningError),
    Revoked,
    Replayed,
}

/// The store's part of verifying a signed request (on the blocking pool): the kiosk's key, the
/// signature, revocation, then the nonce — remembered only for a request that verified, so
/// forged requests write nothing.
fn check_signed_request(
    store: &dyn CentralStorage,
    headers: &SignatureHeaders,
    method: &str,
    path: &str,
    body: &[u8],
    now_unix_ms: i64,
) -> Result<SignedRequestCheck, StorageError> {
    let verify = |record: &KioskKeyRecord| {
        KioskPublicKey::from_hex(&record.public_key)
            .and_then(|key| key.verify_request(headers, method, path, body))
    };
    let Some(mut record) = store.kiosk_key(&headers.kiosk_id)? else {
        return Ok(SignedRequestCheck::NotEnrolled);
    };
    if verify(&record).is_err() {
        // A key another instance replaced a moment ago may still be cached here: read it again.
        store.forget_cached_key(&headers.kiosk_id);
        match store.kiosk_key(&headers.kiosk_id)? {
            Some(fresh) => record = fresh,
            None => return Ok(SignedRequestCheck::NotEnrolled),
        }
        if let Err(error) = verify(&record) {
            return Ok(SignedRequestCheck::BadSignature(error));
        }
    }
    if record.revoked_at.is_some() {
        return Ok(SignedRequestCheck::Revoked);
    }
    if !store.remember_nonce(
        &headers.kiosk_id,
        &headers.nonce,
        now_unix_ms,
        NONCE_KEEP_MS,
    )? {
        return Ok(SignedRequestCheck::Replayed);
    }
    Ok(SignedRequestCheck::Verified)
}

/// A request made by a kiosk (signed, or with its bearer token when those are accepted).
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
                "kiosk_id in the body does not match the kiosk that made the request",
            ))
        }
    }
}

impl FromRequestParts<AppState> for AuthenticatedKiosk {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(VerifiedKiosk(kiosk_id)) = parts.extensions.get::<VerifiedKiosk>() {
            return Ok(Self {
                kiosk_id: kiosk_id.clone(),
            });
        }
        if !state.credentials.accept_bearer_tokens {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "request is not signed (X-Kiosk-Signature missing)",
            ));
        }
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
            true,
        );
        assert_eq!(credentials.kiosk_for_token("token-b"), Some("b"));
        assert_eq!(credentials.kiosk_for_token("token-"), None);
        assert!(credentials.is_admin_token("admin"));
        assert!(!credentials.is_admin_token("token-a"));
    }
}

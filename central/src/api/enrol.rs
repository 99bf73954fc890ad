//! Enrolment (`POST /api/v1/enrol`, unsigned: the one-time code is the credential) and the
//! admin endpoints of kiosk identity: enrolment codes, revocation, the list of enrolled keys.

use super::admin::{object_body, text_field};
use super::auth::AdminCaller;
use super::{ApiError, AppState, audit, with_store};
use crate::clock::ServerTime;
use crate::identity::{self as actions, IdentityActionError, code_hash};
use crate::storage::EnrolRefusal;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kiosk_protocol::request_signing::{
    EnrolReply, EnrolRequest, KioskPublicKey, is_valid_kiosk_id,
};
use serde_json::{Value, json};
use std::time::Duration;

impl From<IdentityActionError> for ApiError {
    fn from(error: IdentityActionError) -> Self {
        match error {
            IdentityActionError::Invalid(message) => ApiError::bad_request(message),
            IdentityActionError::NotEnrolled(_) => ApiError::not_found(error.to_string()),
            IdentityActionError::Storage(error) => ApiError::storage("kiosk identity", &error),
        }
    }
}

/// `POST /api/v1/enrol`, body [`EnrolRequest`]: consumes the code, stores the public key. 201
/// with an [`EnrolReply`]; 400 malformed; 401 unknown, expired or used code.
pub async fn enrol(
    State(state): State<AppState>,
    address: ClientAddress,
    body: Bytes,
) -> Result<(StatusCode, Json<EnrolReply>), ApiError> {
    let limiter = &state.limits.enrol_per_address;
    if let Err(wait) = limiter.check(&address.0) {
        tracing::warn!(address = %address.0, "enrolment refused: too many failed attempts");
        return Err(ApiError::too_many_requests(
            "too many failed enrolment attempts from this address; retry later",
            wait,
        ));
    }
    let outcome = enrol_checked(&state, &body).await;
    if let Err(error) = &outcome
        && matches!(
            error.status(),
            StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED
        )
    {
        limiter.hit(&address.0);
    }
    outcome
}

/// The client's IP address (from the connection), for per-address limits.
pub struct ClientAddress(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string()),
        ))
    }
}

async fn enrol_checked(
    state: &AppState,
    body: &Bytes,
) -> Result<(StatusCode, Json<EnrolReply>), ApiError> {
    let request: EnrolRequest = serde_json::from_slice(body)
        .map_err(|_| ApiError::bad_request("body must be {kiosk_id, code, public_key}"))?;
    if !is_valid_kiosk_id(&request.kiosk_id) {
        return Err(ApiError::bad_request("kiosk_id is not a valid kiosk id"));
    }
    let public_key = KioskPublicKey::from_hex(&request.public_key)
        .map_err(|e| ApiError::bad_request(e.to_string()))?
        .to_hex();
    let hash = code_hash(&request.code);
    let kiosk_id = request.kiosk_id.clone();
    let outcome = with_store(state, "enrol kiosk", move |store| {
        store.enrol_kiosk(&kiosk_id, &hash, &public_key, &ServerTime::now())
    })
    .await?;
    match outcome {
        Ok(record) => {
            tracing::info!(kiosk_id = %record.kiosk_id, "kiosk enrolled");
            Ok((
                StatusCode::CREATED,
                Json(EnrolReply {
                    kiosk_id: record.kiosk_id,
                    enrolled_at: record.enrolled_at,
                }),
            ))
        }
        Err(refusal) => {
            tracing::warn!(kiosk_id = %request.kiosk_id, %refusal, "enrolment refused");
            let status = match refusal {
                EnrolRefusal::UnknownCode | EnrolRefusal::Expired | EnrolRefusal::AlreadyUsed => {
                    StatusCode::UNAUTHORIZED
                }
            };
            Err(ApiError::new(status, refusal.to_string()))
        }
    }
}

fn by_of(body: &serde_json::Map<String, Value>) -> Result<String, ApiError> {
    Ok(text_field(body, "by", 64)?.unwrap_or_else(|| "admin".into()))
}

/// `POST /api/v1/admin/kiosks/{id}/enrolment-code`, body `{"ttl_s": 86400, "by": "…"}` (both
/// optional): a new one-time code. 201 `{kiosk_id, code, expires_at}`; the code is shown only
/// here.
pub async fn create_code(
    State(state): State<AppState>,
    _admin: AdminCaller,
    Path(kiosk_id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = object_body(&body)?;
    let ttl = match body.get("ttl_s") {
        None | Some(Value::Null) => actions::DEFAULT_CODE_TTL,
        Some(value) => Duration::from_secs(
            value
                .as_u64()
                .ok_or_else(|| ApiError::bad_request("ttl_s must be a whole number of seconds"))?,
        ),
    };
    let by = by_of(&body)?;
    let issued = tokio::task::spawn_blocking({
        let store = state.store.clone();
        move || actions::issue_code(store.as_ref(), &kiosk_id, ttl, &by, &ServerTime::now())
    })
    .await
    .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))??;
    tracing::info!(kiosk_id = %issued.kiosk_id, expires_at = %issued.expires_at, "enrolment code issued");
    audit(
        &state,
        "kiosk.enrolment_code",
        issued.kiosk_id.clone(),
        Some(format!("valid until {}", issued.expires_at)),
    )
    .await;
    Ok((StatusCode::CREATED, Json(json!(issued))))
}

/// `POST /api/v1/admin/kiosks/{id}/revoke`, body `{"by": "…"}` (optional): the kiosk's key,
/// now revoked; 404 when it never enrolled.
pub async fn revoke(
    State(state): State<AppState>,
    _admin: AdminCaller,
    Path(kiosk_id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = object_body(&body)?;
    let by = by_of(&body)?;
    let record = tokio::task::spawn_blocking({
        let store = state.store.clone();
        move || actions::revoke(store.as_ref(), &kiosk_id, &by, &ServerTime::now())
    })
    .await
    .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))??;
    tracing::warn!(kiosk_id = %record.kiosk_id, "kiosk revoked");
    audit(&state, "kiosk.revoke", record.kiosk_id.clone(), None).await;
    Ok(Json(json!(record)))
}

/// `GET /api/v1/admin/kiosk-keys`: every enrolled kiosk `{kiosk_id, public_key, enrolled_at,
/// revoked_at, revoked_by}`.
pub async fn list_keys(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> Result<Json<Value>, ApiError> {
    let keys = with_store(&state, "list kiosk keys", |store| store.kiosk_keys()).await?;
    Ok(Json(json!(keys)))
}

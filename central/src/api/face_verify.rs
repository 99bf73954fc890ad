//! `POST /api/v1/face/verify`: a kiosk asks whether the face on an aligned chip is the card
//! holder's (issue 6 item 6; wire types in `kiosk_protocol::face_verify`).
//!
//! A signed kiosk request like the other kiosk endpoints. The chip is checked (exactly one
//! 150×150 RGB chip), handed to the configured [`IdentityVerifier`] on a blocking thread, and
//! dropped (zeroed) after the call. Only the outcome, the score and the verifier's name are
//! kept, in the audit log (`face.verify`, target = the kiosk's request id); neither the chip nor
//! the ID number is ever stored or logged.
//!
//! Answers: 200 [`RemoteDecision`]; 400 malformed body, unusable chip or ID number; 401/403 from
//! the signature check; 503 when no verifier is configured or it is unavailable.

use super::auth::AuthenticatedKiosk;
use super::{ApiError, AppState, body_error, with_store};
use crate::clock::ServerTime;
use crate::identity_verification::{FaceChip, VerifierError, VerifyRequest};
use crate::storage::AuditEntry;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use kiosk_protocol::face_verify::{FaceVerifyRequest, RemoteDecision};
use std::sync::Arc;

/// Longest ID number accepted (resident numbers have 18 characters; other documents fewer).
const MAX_ID_NUMBER_CHARS: usize = 32;

pub async fn verify_face(
    State(state): State<AppState>,
    kiosk: Result<AuthenticatedKiosk, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<RemoteDecision>, ApiError> {
    // The body is read before the caller is judged, so that a refused request still leaves the
    // connection clean for the kiosk's next request.
    let body = body.map_err(body_error)?;
    let kiosk = kiosk?;
    let Some(verifier) = state.identity_verifier.clone() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "remote face verification is not configured at this centre; \
             confirm the citizen's identity another way",
        ));
    };
    // Serde's messages can quote values (an ID number): never passed on.
    let request: FaceVerifyRequest = serde_json::from_slice(&body).map_err(|_| {
        ApiError::bad_request(
            "body must be {kiosk_id, request_id, holder: {card_type, id_number}, chip_rgb_base64}",
        )
    })?;
    kiosk.require_same_kiosk(&request.kiosk_id)?;
    let id_number = request.holder.id_number.trim().to_string();
    if id_number.is_empty()
        || id_number.chars().count() > MAX_ID_NUMBER_CHARS
        || !id_number.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(ApiError::bad_request(
            "holder.id_number must be 1 to 32 letters or digits",
        ));
    }
    let card_type = request.holder.card_type.trim().to_string();
    if card_type.is_empty() || card_type.len() > 32 {
        return Err(ApiError::bad_request(
            "holder.card_type must be 1 to 32 characters",
        ));
    }
    let chip = request
        .chip_rgb()
        .ok()
        .and_then(FaceChip::new)
        .ok_or_else(|| {
            ApiError::bad_request(
                kiosk_protocol::face_verify::ChipError::Size.to_string()
                    + " (standard base64 with padding)",
            )
        })?;
    let request_id = request.request_id;
    // The encoded chip and the ID number are not needed any more.
    drop(request);
    drop(body);
    let kiosk_id = kiosk.kiosk_id.clone();
    let decided = tokio::task::spawn_blocking({
        let verifier = Arc::clone(&verifier);
        let kiosk_id = kiosk_id.clone();
        move || {
            let result = verifier.verify(&VerifyRequest {
                kiosk_id: &kiosk_id,
                request_id,
                card_type: &card_type,
                id_number: &id_number,
                chip: &chip,
            });
            drop(chip);
            result
        }
    })
    .await
    .map_err(|error| {
        tracing::error!(%error, "identity verifier task failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; retry later",
        )
    })?;
    let decision = match decided {
        Ok(decision) => decision,
        Err(VerifierError::Unavailable(reason)) => {
            tracing::warn!(kiosk_id = %kiosk_id, %request_id, %reason, "identity verifier unavailable");
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the identity verification service is unavailable; \
                 confirm the citizen's identity another way",
            ));
        }
        Err(VerifierError::Refused(reason)) => {
            tracing::warn!(kiosk_id = %kiosk_id, %request_id, %reason, "identity verifier refused the request");
            return Err(ApiError::bad_request(format!(
                "the identity verification service refused the request: {reason}"
            )));
        }
    };
    let decided_at = ServerTime::now();
    let entry = AuditEntry {
        id: 0,
        at: String::new(),
        actor: kiosk_id.clone(),
        source: "api".into(),
        action: "face.verify".into(),
        target: Some(request_id.to_string()),
        detail: Some(format!(
            "outcome={} score={} verifier={}",
            decision.outcome.as_str(),
            decision
                .score
                .map_or_else(|| "-".to_string(), |s| format!("{s:.3}")),
            decision.verifier
        )),
    };
    let at = decided_at.clone();
    with_store(&state, "audit face verification", move |store| {
        store.append_audit(&entry, &at)
    })
    .await?;
    tracing::info!(
        kiosk_id = %kiosk_id,
        %request_id,
        outcome = decision.outcome.as_str(),
        score = decision.score,
        verifier = %decision.verifier,
        "remote face verification decided"
    );
    Ok(Json(RemoteDecision {
        request_id,
        outcome: decision.outcome,
        score: decision.score,
        verifier: decision.verifier,
        decided_at: decided_at.rfc3339,
    }))
}

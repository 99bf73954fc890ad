//! `POST /api/v1/heartbeat`: a kiosk reports its state every 30 s.
//!
//! The kiosk's single state row is updated in place; a transition row is written only when its
//! connectivity or a device's state changes.

use super::auth::AuthenticatedKiosk;
use super::{ApiError, AppState, body_error, with_store};
use crate::clock::{ServerTime, is_rfc3339};
use crate::storage::TransitionSubject;
use crate::validation::redact_values;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use kiosk_protocol::wire::{Heartbeat, HeartbeatReply};
use std::sync::atomic::Ordering;

pub async fn receive_heartbeat(
    State(state): State<AppState>,
    kiosk: Result<AuthenticatedKiosk, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<HeartbeatReply>, ApiError> {
    // The body is read before the token is judged, so that a refused request still leaves the
    // connection clean for the kiosk's next request.
    let body = body.map_err(body_error)?;
    let kiosk = kiosk?;
    let heartbeat: Heartbeat = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "request body is not a heartbeat: {}",
            redact_values(&e.to_string())
        ))
    })?;
    kiosk.require_same_kiosk(&heartbeat.kiosk_id)?;
    if !is_rfc3339(&heartbeat.sent_at) {
        return Err(ApiError::bad_request(
            "sent_at is not an RFC 3339 date-time",
        ));
    }
    state.metrics.heartbeats.fetch_add(1, Ordering::Relaxed);
    let received_at = ServerTime::now();
    let server_time = received_at.rfc3339.clone();
    let answer = with_store(&state, "store heartbeat", move |store| {
        store.answer_heartbeat(&heartbeat, &received_at)
    })
    .await?;
    for transition in &answer.transitions {
        let subject = match &transition.subject {
            TransitionSubject::Connectivity => "connectivity",
            TransitionSubject::Device(class) => class.as_str(),
        };
        tracing::info!(
            kiosk_id = %kiosk.kiosk_id,
            subject,
            from = transition.from_state.as_deref().unwrap_or("-"),
            to = %transition.to_state,
            detail = transition.to_detail.as_deref().unwrap_or("-"),
            "kiosk state changed"
        );
    }
    tracing::debug!(kiosk_id = %kiosk.kiosk_id, "heartbeat stored");
    Ok(Json(HeartbeatReply {
        server_time,
        desired_catalogue_version: answer.desired_catalogue_version,
        next_heartbeat_s: u32::try_from(state.policy.heartbeat_interval.as_secs())
            .unwrap_or(u32::MAX)
            .max(1),
    }))
}

//! `POST /api/v1/outbox`: a kiosk uploads a batch of outbox events.
//!
//! The batch is checked event by event, stored in one transaction (events already stored under
//! the same kiosk and idempotency key are counted as duplicates), and acknowledged only after the
//! commit.

use super::auth::AuthenticatedKiosk;
use super::{ApiError, AppState, body_error, with_store};
use crate::clock::ServerTime;
use crate::validation::{check_batch, parse_batch};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use kiosk_protocol::wire::BatchAck;

pub async fn receive_batch(
    State(state): State<AppState>,
    kiosk: Result<AuthenticatedKiosk, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<BatchAck>, ApiError> {
    // The body is read before the token is judged, so that a refused request still leaves the
    // connection clean for the kiosk's next request.
    let body = body.map_err(body_error)?;
    let kiosk = kiosk?;
    let batch = parse_batch(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    kiosk.require_same_kiosk(&batch.kiosk_id)?;
    let event_count = batch.events.len();
    let checked = check_batch(batch, &state.sealing_key, ServerTime::now())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    for rejected in &checked.rejected {
        tracing::warn!(
            kiosk_id = %kiosk.kiosk_id,
            seq = rejected.seq,
            idempotency_key = %rejected.idempotency_key,
            reason = %rejected.reason,
            "outbox event rejected"
        );
    }
    let rejected = checked.rejected.clone();
    // Answer for this batch only: a kiosk checks that `acked_seq` is not beyond the last event it
    // sent, which the kiosk's all-time cursor could be (a resend of older events).
    let acked_seq = checked.highest_seq;
    let summary = with_store(&state, "store outbox batch", move |store| {
        store.ingest_batch(&checked)
    })
    .await?;
    state
        .metrics
        .record_batch(summary.stored, summary.duplicates, rejected.len());
    tracing::info!(
        kiosk_id = %kiosk.kiosk_id,
        events = event_count,
        stored = summary.stored,
        duplicates = summary.duplicates,
        rejected = rejected.len(),
        acked_seq,
        kiosk_cursor = summary.kiosk_cursor,
        "outbox batch committed"
    );
    Ok(Json(BatchAck {
        acked_seq,
        stored: summary.stored,
        duplicates: summary.duplicates,
        rejected,
    }))
}

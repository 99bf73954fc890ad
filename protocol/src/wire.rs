//! JSON bodies exchanged between a kiosk and the central service (DESIGN §7).
//!
//! Every request carries `Authorization: Bearer <kiosk token>`; the kiosk id inside a body must be
//! the one the token belongs to. Times are RFC 3339 strings in UTC.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Endpoint paths of the central service's kiosk API.
pub mod paths {
    /// `POST` an [`super::OutboxBatch`], answered with a [`super::BatchAck`].
    pub const OUTBOX: &str = "/api/v1/outbox";
    /// `POST` a [`super::Heartbeat`], answered with a [`super::HeartbeatReply`].
    pub const HEARTBEAT: &str = "/api/v1/heartbeat";
    /// `GET` the received transactions, masked: a JSON array of [`super::TransactionListing`].
    pub const TRANSACTIONS: &str = "/api/v1/transactions";
}

/// What an outbox event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Transaction,
    Rating,
    FaultOpened,
    FaultUpdated,
    FaultCleared,
    Disinfection,
    Consumable,
    Audit,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Transaction => "transaction",
            EventKind::Rating => "rating",
            EventKind::FaultOpened => "fault_opened",
            EventKind::FaultUpdated => "fault_updated",
            EventKind::FaultCleared => "fault_cleared",
            EventKind::Disinfection => "disinfection",
            EventKind::Consumable => "consumable",
            EventKind::Audit => "audit",
        }
    }
}

/// One event of a kiosk's outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEvent {
    /// Strictly increasing per kiosk, never reused.
    pub seq: i64,
    /// UUIDv7; the centre stores an event at most once per (kiosk, key).
    pub idempotency_key: Uuid,
    pub kind: EventKind,
    /// Kiosk clock, RFC 3339.
    pub created_at: String,
    /// The event body; for [`EventKind::Transaction`] a [`TransactionRecord`]. Masked values only.
    pub payload: serde_json::Value,
    /// The personal data the centre needs to act on the event; travels only inside the request,
    /// is kept encrypted at rest on both sides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal: Option<PersonalData>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxBatch {
    pub kiosk_id: String,
    pub events: Vec<OutboxEvent>,
}

/// The centre's answer to a batch, sent only after the batch is committed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchAck {
    /// Every event of the batch with `seq <= acked_seq` is durably stored or rejected.
    pub acked_seq: i64,
    /// Events stored by this request.
    pub stored: u32,
    /// Events already stored by an earlier request (same kiosk and key).
    pub duplicates: u32,
    /// Events refused for good; the kiosk moves them to its dead-letter table.
    pub rejected: Vec<RejectedEvent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedEvent {
    pub seq: i64,
    pub idempotency_key: Uuid,
    pub reason: String,
}

/// Personal data of an applicant. Never logged, never in a plain column.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PersonalData {
    pub name: String,
    pub id_number: String,
    #[serde(default)]
    pub address: String,
}

impl std::fmt::Debug for PersonalData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonalData")
            .field("name", &crate::mask_name(&self.name))
            .field("id_number", &crate::mask_id_number(&self.id_number))
            .field("address", &"…")
            .finish()
    }
}

/// How a citizen session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionOutcome {
    /// Submitted: committed at the kiosk and on its way to the centre.
    Completed,
    /// The citizen cancelled or went home before submitting.
    Cancelled,
    /// The session timed out before submitting.
    TimedOut,
    /// A device fault ended the session before submitting.
    Failed,
}

/// Payload of an [`EventKind::Transaction`] event, committed when the citizen submits (or, for an
/// abandoned session, when it ends — then without personal data). Masked values only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransactionRecord {
    pub transaction_id: String,
    pub item_code: String,
    pub item_name: String,
    pub department: String,
    pub outcome: TransactionOutcome,
    pub started_at: String,
    pub finished_at: String,
    /// Card type read (`resident`, …), masked name and ID number.
    pub applicant: Option<MaskedApplicant>,
    /// Form answers by field key (phone numbers masked).
    #[serde(default)]
    pub form: BTreeMap<String, String>,
    /// Step kinds the session went through, in order.
    #[serde(default)]
    pub steps: Vec<String>,
    /// The step the session ended in, when it did not complete.
    #[serde(default)]
    pub abandoned_at_step: Option<String>,
    pub catalogue_version: u32,
}

/// Payload of an [`EventKind::Rating`] event (好差评), sent after the transaction it rates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingRecord {
    pub transaction_id: String,
    pub item_code: String,
    /// 1 (very dissatisfied) … 5 (very satisfied); `None` when the citizen skipped rating.
    pub rating: Option<u8>,
    pub rated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaskedApplicant {
    pub card_type: String,
    pub masked_name: String,
    pub masked_id_number: String,
}

/// Status of one device as reported in a heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceReport {
    /// `id_card_reader`, `receipt_printer`, …
    pub class: String,
    /// `online`, `offline`, `no_device`, `hardware_error`, `user_error`, `busy`, `starting`.
    pub state: String,
    /// Class detail, e.g. `paper_low`.
    #[serde(default)]
    pub detail: Option<String>,
}

/// Sent every 30 s. Small on purpose: it is the fleet's main load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub kiosk_id: String,
    /// Monotonic per kiosk process run.
    pub seq: u64,
    pub sent_at: String,
    pub software_version: String,
    pub catalogue_version: u32,
    pub devices: Vec<DeviceReport>,
    pub items_offered: u32,
    pub items_available: u32,
    #[serde(default)]
    pub unavailable_items: Vec<String>,
    pub outbox_depth: u64,
    pub oldest_unsent_age_s: Option<u64>,
    pub dead_letter_count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeartbeatReply {
    pub server_time: String,
    /// The catalogue version this kiosk should run; `None` when the centre has no opinion.
    pub desired_catalogue_version: Option<u32>,
    pub next_heartbeat_s: u32,
}

/// One received transaction as listed by `GET /api/v1/transactions` (masked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransactionListing {
    pub kiosk_id: String,
    pub idempotency_key: Uuid,
    pub transaction_id: String,
    pub item_code: String,
    pub outcome: TransactionOutcome,
    pub masked_name: Option<String>,
    pub masked_id_number: Option<String>,
    pub rating: Option<u8>,
    pub finished_at: String,
    pub received_at: String,
}

/// Error body of every non-2xx answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_data_debug_is_masked() {
        let p = PersonalData {
            name: "王小明".into(),
            id_number: "110105194912310021".into(),
            address: "北京市东城区".into(),
        };
        let shown = format!("{p:?}");
        assert!(!shown.contains("19491231") && !shown.contains("小明") && !shown.contains("东城"));
    }

    #[test]
    fn event_round_trips_with_snake_case_kind() {
        let e = OutboxEvent {
            seq: 1,
            idempotency_key: Uuid::now_v7(),
            kind: EventKind::FaultOpened,
            created_at: "2026-11-21T10:00:00Z".into(),
            payload: serde_json::json!({"device": "receipt_printer"}),
            personal: None,
        };
        let text = serde_json::to_string(&e).unwrap();
        assert!(text.contains("\"fault_opened\"") && !text.contains("personal"));
        assert_eq!(serde_json::from_str::<OutboxEvent>(&text).unwrap(), e);
    }
}

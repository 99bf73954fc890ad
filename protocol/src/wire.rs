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

/// How bad a fault is for the kiosk's service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultSeverity {
    /// The kiosk cannot serve citizens at all.
    Critical,
    /// A device is out: the items that need it are not doable.
    Major,
    /// Degraded, items still doable (e.g. one of two paths fails).
    Minor,
    /// Something to look at on the next round (paper low, …).
    Warning,
}

impl FaultSeverity {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultSeverity::Critical => "critical",
            FaultSeverity::Major => "major",
            FaultSeverity::Minor => "minor",
            FaultSeverity::Warning => "warning",
        }
    }

    /// The severity with this snake_case name.
    pub fn from_name(name: &str) -> Option<FaultSeverity> {
        [
            FaultSeverity::Critical,
            FaultSeverity::Major,
            FaultSeverity::Minor,
            FaultSeverity::Warning,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// Who raised a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultSource {
    /// The device manager, from a lasting bad device state.
    Automatic,
    /// A member of staff, from the diagnostics screens.
    Staff,
}

impl FaultSource {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultSource::Automatic => "automatic",
            FaultSource::Staff => "staff",
        }
    }

    /// The source with this snake_case name.
    pub fn from_name(name: &str) -> Option<FaultSource> {
        [FaultSource::Automatic, FaultSource::Staff]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// Payload of the [`EventKind::FaultOpened`], [`EventKind::FaultUpdated`] and
/// [`EventKind::FaultCleared`] events: the fault as it stands after the change. Masked values
/// only (staff texts never hold a citizen's personal data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRecord {
    /// UUIDv7 chosen by the kiosk when the fault opened; stays the same through its updates.
    pub fault_id: String,
    /// A device class (`receipt_printer`, `id_card_reader`, …), or `kiosk` / `outbox`.
    pub device: String,
    /// Machine-readable cause, e.g. `paper_jam`, `offline`, `dead_letter`.
    pub code: String,
    pub severity: FaultSeverity,
    /// What staff read.
    pub message: String,
    pub source: FaultSource,
    /// RFC 3339.
    pub opened_at: String,
    /// RFC 3339; the time of the latest change (open, update or clear).
    pub updated_at: String,
    /// RFC 3339; set when the fault is cleared.
    #[serde(default)]
    pub cleared_at: Option<String>,
    /// The closing note (or a staff note on a manual report).
    #[serde(default)]
    pub note: Option<String>,
    /// The member of staff who reported, updated or closed the fault.
    #[serde(default)]
    pub staff_id: Option<String>,
}

/// Payload of an [`EventKind::Disinfection`] event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisinfectionRecord {
    /// UUIDv7 chosen by the kiosk.
    pub record_id: String,
    pub staff_id: String,
    /// RFC 3339: when the disinfection was done.
    pub at: String,
    /// E.g. `alcohol_wipe`, `uv_lamp`.
    pub method: String,
    /// `screen`, `card_reader`, `keypad`, `printer_outlet`, …
    pub surfaces: Vec<String>,
}

/// A supply the kiosk runs out of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Consumable {
    /// The receipt printer's thermal roll.
    ReceiptPaper,
    /// The document printer's A4 sheets.
    A4Paper,
    /// Blank cards in the card writer's hopper.
    CardStock,
}

impl Consumable {
    /// Every consumable, in a stable order.
    pub const ALL: [Consumable; 3] = [
        Consumable::ReceiptPaper,
        Consumable::A4Paper,
        Consumable::CardStock,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Consumable::ReceiptPaper => "receipt_paper",
            Consumable::A4Paper => "a4_paper",
            Consumable::CardStock => "card_stock",
        }
    }

    /// The consumable with this snake_case name.
    pub fn from_name(name: &str) -> Option<Consumable> {
        Consumable::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// How much of a consumable is left, in three steps. Ordered: `Ok < Low < Empty`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupplyLevel {
    Ok,
    Low,
    Empty,
}

impl SupplyLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            SupplyLevel::Ok => "ok",
            SupplyLevel::Low => "low",
            SupplyLevel::Empty => "empty",
        }
    }

    /// The level with this snake_case name.
    pub fn from_name(name: &str) -> Option<SupplyLevel> {
        [SupplyLevel::Ok, SupplyLevel::Low, SupplyLevel::Empty]
            .into_iter()
            .find(|l| l.as_str() == name)
    }
}

/// What a [`ConsumableRecord`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsumableEvent {
    /// Usage report (counters); not sent per receipt.
    Used,
    /// Staff refilled it; the counter starts again.
    Replenished,
    /// It became low (sent once until the next replenish).
    Low,
    /// It ran out (sent once until the next replenish).
    Empty,
}

/// Payload of an [`EventKind::Consumable`] event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumableRecord {
    pub consumable: Consumable,
    pub level: SupplyLevel,
    /// Units left by the counter (receipt length, sheets, cards), when the capacity is known.
    #[serde(default)]
    pub remaining: Option<u32>,
    /// Units after the last replenish, when known.
    #[serde(default)]
    pub capacity: Option<u32>,
    pub event: ConsumableEvent,
    /// The member of staff who replenished.
    #[serde(default)]
    pub staff_id: Option<String>,
    /// RFC 3339.
    pub at: String,
}

/// Payload of an [`EventKind::Audit`] event: one staff (or system) action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// A staff id, or `system`.
    pub actor: String,
    /// Dotted action name, e.g. `diagnostics.enter`, `fault.close`, `consumable.replenish`.
    pub action: String,
    /// Masked free text.
    pub detail: String,
    /// RFC 3339.
    pub at: String,
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

    fn round_trip<T>(value: &T) -> serde_json::Value
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
    {
        let json = serde_json::to_value(value).unwrap();
        assert_eq!(&serde_json::from_value::<T>(json.clone()).unwrap(), value);
        json
    }

    #[test]
    fn fault_record_round_trips_with_snake_case_names() {
        let fault = FaultRecord {
            fault_id: Uuid::now_v7().to_string(),
            device: "receipt_printer".into(),
            code: "paper_jam".into(),
            severity: FaultSeverity::Major,
            message: "receipt printer jammed".into(),
            source: FaultSource::Automatic,
            opened_at: "2026-11-21T10:00:00.000Z".into(),
            updated_at: "2026-11-21T10:05:00.000Z".into(),
            cleared_at: Some("2026-11-21T10:05:00.000Z".into()),
            note: Some("cleared the jam".into()),
            staff_id: Some("S-007".into()),
        };
        let json = round_trip(&fault);
        assert_eq!(json["severity"], "major");
        assert_eq!(json["source"], "automatic");
        // Optional fields may be left out by the sender.
        let minimal: FaultRecord = serde_json::from_value(serde_json::json!({
            "fault_id": "f", "device": "kiosk", "code": "c", "severity": "warning",
            "message": "m", "source": "staff", "opened_at": "t", "updated_at": "t"
        }))
        .unwrap();
        assert_eq!(minimal.cleared_at, None);
        assert_eq!(
            FaultSeverity::from_name("critical"),
            Some(FaultSeverity::Critical)
        );
        assert_eq!(FaultSource::from_name("staff"), Some(FaultSource::Staff));
        assert!(FaultSeverity::Critical < FaultSeverity::Warning);
    }

    #[test]
    fn disinfection_record_round_trips() {
        let record = DisinfectionRecord {
            record_id: Uuid::now_v7().to_string(),
            staff_id: "S-007".into(),
            at: "2026-11-21T14:05:00.000Z".into(),
            method: "alcohol_wipe".into(),
            surfaces: vec!["screen".into(), "card_reader".into(), "keypad".into()],
        };
        let json = round_trip(&record);
        assert_eq!(json["surfaces"][1], "card_reader");
    }

    #[test]
    fn consumable_record_round_trips_with_snake_case_names() {
        let record = ConsumableRecord {
            consumable: Consumable::A4Paper,
            level: SupplyLevel::Low,
            remaining: Some(40),
            capacity: Some(500),
            event: ConsumableEvent::Low,
            staff_id: None,
            at: "2026-11-21T14:05:00.000Z".into(),
        };
        let json = round_trip(&record);
        assert_eq!(json["consumable"], "a4_paper");
        assert_eq!(json["level"], "low");
        assert_eq!(json["event"], "low");
        for c in Consumable::ALL {
            assert_eq!(Consumable::from_name(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        for l in [SupplyLevel::Ok, SupplyLevel::Low, SupplyLevel::Empty] {
            assert_eq!(SupplyLevel::from_name(l.as_str()), Some(l));
        }
        assert!(SupplyLevel::Ok < SupplyLevel::Low && SupplyLevel::Low < SupplyLevel::Empty);
    }

    #[test]
    fn audit_record_round_trips() {
        let record = AuditRecord {
            actor: "S-007".into(),
            action: "diagnostics.enter".into(),
            detail: "PIN accepted".into(),
            at: "2026-11-21T14:05:00.000Z".into(),
        };
        round_trip(&record);
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

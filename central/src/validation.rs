//! The rules an outbox event must meet before the centre stores it.
//!
//! A batch is parsed leniently: every event is checked on its own, so one bad event is refused
//! (with a reason the kiosk keeps in its dead-letter table) while the rest are stored. Reasons
//! never echo values from the request, which could be personal data.

use crate::clock::{ServerTime, is_rfc3339};
use crate::storage::{
    AcceptedEvent, CheckedBatch, DisinfectionRow, EventProjection, FaultAction, FaultRow,
    RatingRow, TransactionRow,
};
use kiosk_protocol::wire::{
    EventKind, OutboxEvent, PersonalData, RatingRecord, RejectedEvent, TransactionRecord,
};
use kiosk_protocol::{SealingKey, mask_id_number, mask_name};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// Most events one batch may carry.
pub const MAX_EVENTS_PER_BATCH: usize = 1000;

/// Longest reason sent back for a refused event.
const MAX_REASON_LEN: usize = 300;

/// An outbox batch whose events are not yet checked.
#[derive(Debug, Deserialize)]
pub struct UncheckedBatch {
    pub kiosk_id: String,
    pub events: Vec<serde_json::Value>,
}

/// Why a whole batch is refused (answered with 400).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BatchError {
    #[error("request body is not an outbox batch: {0}")]
    Malformed(String),
    #[error("batch holds {0} events; at most {MAX_EVENTS_PER_BATCH} are accepted per request")]
    TooManyEvents(usize),
    #[error("event #{0} has no usable seq and idempotency_key, so it cannot be acknowledged")]
    Unidentifiable(usize),
}

/// Parses the request body as a batch whose events are checked one by one later.
pub fn parse_batch(body: &[u8]) -> Result<UncheckedBatch, BatchError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let batch: UncheckedBatch = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| BatchError::Malformed(describe_error(&e)))?;
    deserializer
        .end()
        .map_err(|e| BatchError::Malformed(redact_values(&e.to_string())))?;
    if batch.events.len() > MAX_EVENTS_PER_BATCH {
        return Err(BatchError::TooManyEvents(batch.events.len()));
    }
    Ok(batch)
}

/// Checks every event of a batch, sealing the personal data of those accepted.
pub fn check_batch(
    batch: UncheckedBatch,
    sealing_key: &SealingKey,
    received_at: ServerTime,
) -> Result<CheckedBatch, BatchError> {
    let mut accepted = Vec::new();
    let mut rejected = Vec::new();
    let mut highest_seq = 0i64;
    for (index, raw) in batch.events.into_iter().enumerate() {
        let (seq, idempotency_key) = identify(&raw).ok_or(BatchError::Unidentifiable(index))?;
        highest_seq = highest_seq.max(seq);
        match check_event(raw) {
            Ok(checked) => accepted.push(seal(checked, sealing_key)),
            Err(reason) => rejected.push(RejectedEvent {
                seq,
                idempotency_key,
                reason: truncate(reason),
            }),
        }
    }
    Ok(CheckedBatch {
        kiosk_id: batch.kiosk_id,
        received_at,
        accepted,
        rejected,
        highest_seq,
    })
}

/// An event that passed every rule, personal data still in the clear.
struct CheckedEvent {
    event: OutboxEvent,
    projection: EventProjection,
}

/// The seq and idempotency key of an event, even when the rest of it is malformed.
fn identify(raw: &serde_json::Value) -> Option<(i64, Uuid)> {
    let seq = raw.get("seq")?.as_i64()?;
    let key = Uuid::parse_str(raw.get("idempotency_key")?.as_str()?).ok()?;
    Some((seq, key))
}

fn check_event(raw: serde_json::Value) -> Result<CheckedEvent, String> {
    let event: OutboxEvent = from_value(raw).map_err(|e| format!("event is malformed: {e}"))?;
    if event.seq <= 0 {
        return Err("seq must be greater than 0".into());
    }
    if !is_rfc3339(&event.created_at) {
        return Err("created_at is not an RFC 3339 date-time".into());
    }
    if !event.payload.is_object() {
        return Err("payload must be a JSON object".into());
    }
    if let Some(personal) = &event.personal {
        check_payload_holds_no_personal_data(&event.payload, personal)?;
    }
    let projection = match event.kind {
        EventKind::Transaction => EventProjection::Transaction(check_transaction(&event)?),
        EventKind::Rating => EventProjection::Rating(check_rating(&event)?),
        EventKind::FaultOpened => EventProjection::Fault(check_fault(&event, FaultAction::Opened)?),
        EventKind::FaultUpdated => {
            EventProjection::Fault(check_fault(&event, FaultAction::Updated)?)
        }
        EventKind::FaultCleared => {
            EventProjection::Fault(check_fault(&event, FaultAction::Cleared)?)
        }
        EventKind::Disinfection => EventProjection::Disinfection(check_disinfection(&event)?),
        EventKind::Consumable | EventKind::Audit => EventProjection::LogOnly,
    };
    Ok(CheckedEvent { event, projection })
}

fn check_transaction(event: &OutboxEvent) -> Result<TransactionRow, String> {
    let record: TransactionRecord = from_value(event.payload.clone())
        .map_err(|e| format!("payload is not a transaction record: {e}"))?;
    if record.transaction_id.trim().is_empty() {
        return Err("payload.transaction_id is empty".into());
    }
    for (field, value) in [
        ("started_at", &record.started_at),
        ("finished_at", &record.finished_at),
    ] {
        if !is_rfc3339(value) {
            return Err(format!("payload.{field} is not an RFC 3339 date-time"));
        }
    }
    if let Some(applicant) = &record.applicant {
        // Masking is idempotent: a properly masked value is unchanged by masking it again.
        if mask_name(&applicant.masked_name) != applicant.masked_name {
            return Err("payload.applicant.masked_name is not masked".into());
        }
        if mask_id_number(&applicant.masked_id_number) != applicant.masked_id_number {
            return Err("payload.applicant.masked_id_number is not masked".into());
        }
    }
    let duration_ms = duration_ms(&record.started_at, &record.finished_at);
    Ok(TransactionRow {
        transaction_id: record.transaction_id,
        item_code: record.item_code,
        item_name: record.item_name,
        department: record.department,
        outcome: record.outcome,
        masked_name: record.applicant.as_ref().map(|a| a.masked_name.clone()),
        masked_id_number: record.applicant.map(|a| a.masked_id_number),
        started_at: record.started_at,
        duration_ms,
        finished_at: record.finished_at,
        catalogue_version: record.catalogue_version,
        abandoned_at_step: record
            .abandoned_at_step
            .map(|step| short_text(&step, 64))
            .filter(|step| !step.is_empty()),
    })
}

/// `finished − started` in milliseconds, when both parse (validation has checked they do).
fn duration_ms(started: &str, finished: &str) -> Option<i64> {
    let started = unix_ms(started)?;
    let finished = unix_ms(finished)?;
    Some(finished - started)
}

fn unix_ms(rfc3339: &str) -> Option<i64> {
    let at = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Trimmed, at most `max` characters.
fn short_text(text: &str, max: usize) -> String {
    text.trim().chars().take(max).collect()
}

/// An optional string field of a payload; refused when present but not a string.
fn optional_string(
    payload: &serde_json::Value,
    field: &str,
    max: usize,
) -> Result<Option<String>, String> {
    match payload.get(field) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(text)) => {
            Ok(Some(short_text(text, max)).filter(|t| !t.is_empty()))
        }
        Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(format!("payload.{field} must be a string")),
    }
}

/// A fault event: `device` is required (it names the alarm); `code`, `severity`, `message` and
/// `fault_id` are optional. An unknown severity counts as `major`.
fn check_fault(event: &OutboxEvent, action: FaultAction) -> Result<FaultRow, String> {
    let payload = &event.payload;
    let device = optional_string(payload, "device", 64)?
        .ok_or_else(|| "payload.device is missing or empty".to_string())?;
    if !device
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err("payload.device may only hold letters, digits, '-', '_' and '.'".into());
    }
    let severity = optional_string(payload, "severity", 16)?
        .map(|s| s.to_ascii_lowercase())
        .filter(|s| matches!(s.as_str(), "critical" | "major" | "minor" | "warning"))
        .unwrap_or_else(|| "major".into());
    Ok(FaultRow {
        action,
        device,
        code: optional_string(payload, "code", 64)?,
        severity,
        message: optional_string(payload, "message", 300)?,
        fault_id: optional_string(payload, "fault_id", 64)?,
        kiosk_time: event.created_at.clone(),
    })
}

/// A disinfection record: `at` (RFC 3339; the event's `created_at` when absent), optional
/// `staff_id`, `method` and `surfaces` (an array of strings).
fn check_disinfection(event: &OutboxEvent) -> Result<DisinfectionRow, String> {
    let payload = &event.payload;
    let at = match payload.get("at") {
        None | Some(serde_json::Value::Null) => event.created_at.clone(),
        Some(serde_json::Value::String(at)) if is_rfc3339(at) => at.clone(),
        Some(_) => return Err("payload.at is not an RFC 3339 date-time".into()),
    };
    let at_unix_ms = unix_ms(&at).ok_or("payload.at is not an RFC 3339 date-time")?;
    let surfaces: Vec<String> = match payload.get("surfaces") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(|s| short_text(s, 64))
                    .ok_or("payload.surfaces must be an array of strings")
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("payload.surfaces must be an array of strings".into()),
    };
    Ok(DisinfectionRow {
        at,
        at_unix_ms,
        staff_id: optional_string(payload, "staff_id", 64)?,
        method: optional_string(payload, "method", 64)?,
        surfaces_json: serde_json::to_string(&surfaces).unwrap_or_else(|_| "[]".into()),
    })
}

fn check_rating(event: &OutboxEvent) -> Result<RatingRow, String> {
    let record: RatingRecord = from_value(event.payload.clone())
        .map_err(|e| format!("payload is not a rating record: {e}"))?;
    if record.transaction_id.trim().is_empty() {
        return Err("payload.transaction_id is empty".into());
    }
    if let Some(rating) = record.rating
        && !(1..=5).contains(&rating)
    {
        return Err("payload.rating must be between 1 and 5".into());
    }
    if !is_rfc3339(&record.rated_at) {
        return Err("payload.rated_at is not an RFC 3339 date-time".into());
    }
    Ok(RatingRow {
        transaction_id: record.transaction_id,
        item_code: record.item_code,
        rating: record.rating,
        rated_at: record.rated_at,
    })
}

/// Refuses an event whose plain payload repeats its own unmasked personal data: the payload is
/// stored as it is, so that would put an ID number or a name in a plain column.
fn check_payload_holds_no_personal_data(
    payload: &serde_json::Value,
    personal: &PersonalData,
) -> Result<(), String> {
    let text = payload.to_string();
    let id_number = personal.id_number.trim();
    if id_number.chars().count() >= 6 && text.contains(id_number) {
        return Err("payload holds the unmasked ID number; send it in `personal` only".into());
    }
    let name = personal.name.trim();
    if is_distinctive_name(name) && text.contains(name) {
        return Err("payload holds the unmasked name; send it in `personal` only".into());
    }
    Ok(())
}

/// A name long enough that finding it in the payload is not a coincidence: two or more CJK (or
/// other non-ASCII) characters, or five or more Latin ones.
fn is_distinctive_name(name: &str) -> bool {
    let count = name.chars().count();
    if name.is_ascii() {
        count >= 5
    } else {
        count >= 2
    }
}

fn seal(checked: CheckedEvent, sealing_key: &SealingKey) -> AcceptedEvent {
    let CheckedEvent { event, projection } = checked;
    let sealed_personal = event.personal.as_ref().map(|personal| {
        // Serialising a struct of strings to JSON cannot fail.
        let plain = serde_json::to_vec(personal).unwrap_or_default();
        sealing_key.seal(&plain)
    });
    AcceptedEvent {
        seq: event.seq,
        idempotency_key: event.idempotency_key,
        kind: event.kind,
        created_at: event.created_at,
        payload_json: event.payload.to_string(),
        sealed_personal,
        projection,
    }
}

fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| describe_error(&e))
}

fn describe_error(error: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = error.path().to_string();
    let message = redact_values(&error.inner().to_string());
    if path == "." || path.is_empty() {
        message
    } else {
        format!("{path}: {message}")
    }
}

/// Removes the offending value from a serde message (`invalid type: string "…", expected u8`
/// becomes `invalid type: string, expected u8`); field names and expectations are kept.
pub fn redact_values(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: ", "unknown variant "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let expected = rest.find(", expected").map_or("", |at| &rest[at..]);
            let what = if prefix == "invalid type: " {
                // Keep the JSON type ("string", "integer", …), drop the value after it.
                let word = rest.split([' ', ',']).next().unwrap_or_default();
                format!("invalid type: {word}")
            } else {
                prefix.trim_end_matches([' ', ':']).to_string()
            };
            return format!("{what}{expected}");
        }
    }
    message.to_string()
}

fn truncate(reason: String) -> String {
    if reason.len() <= MAX_REASON_LEN {
        return reason;
    }
    let mut end = MAX_REASON_LEN;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &reason[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn transaction_payload() -> serde_json::Value {
        json!({
            "transaction_id": "T-1",
            "item_code": "GA-001",
            "item_name": "临时身份证明",
            "department": "公安",
            "outcome": "completed",
            "started_at": "2026-11-21T10:00:00+08:00",
            "finished_at": "2026-11-21T10:03:00+08:00",
            "applicant": {
                "card_type": "resident",
                "masked_name": "王**",
                "masked_id_number": "110105********0021"
            },
            "catalogue_version": 3
        })
    }

    fn event(seq: i64, kind: &str, payload: serde_json::Value) -> serde_json::Value {
        json!({
            "seq": seq,
            "idempotency_key": Uuid::now_v7(),
            "kind": kind,
            "created_at": "2026-11-21T10:03:00+08:00",
            "payload": payload,
        })
    }

    fn check_one(raw: serde_json::Value) -> Result<CheckedEvent, String> {
        check_event(raw)
    }

    #[test]
    fn valid_transaction_is_projected() {
        let checked = check_one(event(1, "transaction", transaction_payload())).expect("valid");
        match checked.projection {
            EventProjection::Transaction(row) => {
                assert_eq!(row.transaction_id, "T-1");
                assert_eq!(row.masked_id_number.as_deref(), Some("110105********0021"));
            }
            other => panic!("unexpected projection {other:?}"),
        }
    }

    #[test]
    fn malformed_payloads_are_refused_with_a_reason() {
        let mut missing = transaction_payload();
        missing.as_object_mut().expect("object").remove("item_code");
        let reason = check_one(event(1, "transaction", missing))
            .err()
            .expect("refused");
        assert!(reason.contains("missing field `item_code`"), "{reason}");

        let reason = check_one(event(0, "audit", json!({})))
            .err()
            .expect("refused");
        assert!(reason.contains("seq"), "{reason}");

        let mut bad_time = event(1, "audit", json!({}));
        bad_time["created_at"] = json!("yesterday");
        let reason = check_one(bad_time).err().expect("refused");
        assert!(reason.contains("created_at"), "{reason}");

        let reason = check_one(event(1, "audit", json!([1, 2])))
            .err()
            .expect("refused");
        assert!(reason.contains("JSON object"), "{reason}");

        let rating = json!({"transaction_id": "T-1", "item_code": "GA-001", "rating": 9,
                            "rated_at": "2026-11-21T10:04:00Z"});
        let reason = check_one(event(1, "rating", rating))
            .err()
            .expect("refused");
        assert!(reason.contains("between 1 and 5"), "{reason}");

        let reason = check_one(event(1, "teleport", json!({})))
            .err()
            .expect("refused");
        assert!(reason.contains("unknown variant"), "{reason}");
    }

    #[test]
    fn unmasked_personal_data_in_the_payload_is_refused() {
        let mut payload = transaction_payload();
        payload["applicant"]["masked_id_number"] = json!("110105194912310021");
        let reason = check_one(event(1, "transaction", payload))
            .err()
            .expect("refused");
        assert!(
            reason.contains("not masked") && !reason.contains("19491231"),
            "{reason}"
        );

        let mut leaking = event(1, "audit", json!({"note": "王小明 came by"}));
        leaking["personal"] = json!({"name": "王小明", "id_number": "110105194912310021"});
        let reason = check_one(leaking).err().expect("refused");
        assert!(
            reason.contains("unmasked name") && !reason.contains("小明"),
            "{reason}"
        );
    }

    #[test]
    fn reasons_do_not_echo_values() {
        let mut payload = transaction_payload();
        payload["catalogue_version"] = json!("110105194912310021");
        let reason = check_one(event(1, "transaction", payload))
            .err()
            .expect("refused");
        assert!(!reason.contains("110105"), "{reason}");
        assert!(
            reason.contains("catalogue_version: invalid type: string"),
            "{reason}"
        );
        assert_eq!(
            redact_values("invalid value: integer `12345678`, expected u8"),
            "invalid value, expected u8"
        );
    }

    #[test]
    fn batch_level_errors() {
        assert!(matches!(
            parse_batch(b"{not json"),
            Err(BatchError::Malformed(_))
        ));
        assert!(matches!(
            parse_batch(b"{\"kiosk_id\": \"k\"}"),
            Err(BatchError::Malformed(_))
        ));
        let batch =
            parse_batch(br#"{"kiosk_id": "k", "events": [{"kind": "audit"}]}"#).expect("parses");
        let result = check_batch(batch, &SealingKey::generate(), ServerTime::now());
        assert_eq!(result.err(), Some(BatchError::Unidentifiable(0)));
    }

    #[test]
    fn personal_data_is_sealed_not_kept_plain() {
        let key = SealingKey::generate();
        let mut raw = event(4, "transaction", transaction_payload());
        raw["personal"] = json!({"name": "王小明", "id_number": "110105194912310021"});
        let batch = UncheckedBatch {
            kiosk_id: "k".into(),
            events: vec![raw],
        };
        let checked = check_batch(batch, &key, ServerTime::now()).expect("checked");
        assert_eq!(checked.highest_seq, 4);
        let accepted = &checked.accepted[0];
        assert!(!accepted.payload_json.contains("19491231"));
        let sealed = accepted.sealed_personal.as_ref().expect("sealed");
        let plain = key.open(sealed).expect("opens");
        let personal: PersonalData = serde_json::from_slice(&plain).expect("json");
        assert_eq!(personal.id_number, "110105194912310021");
    }
}

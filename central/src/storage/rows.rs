//! Engine-neutral pieces shared by the SQLite and PostgreSQL engines: how a heartbeat turns
//! into transitions, and how stored rows are checked on the way back out. Keeping them here makes
//! both engines give the same answers for the same calls.

use super::{Connectivity, KioskState, KioskTransition, StorageError, TransitionSubject};
use crate::clock::ServerTime;
use kiosk_protocol::wire::{DeviceReport, Heartbeat, TransactionListing, TransactionOutcome};
use std::collections::BTreeMap;
use uuid::Uuid;

/// What the store held for a kiosk before a heartbeat: its connectivity and its devices.
pub(crate) struct PreviousState {
    pub connectivity: String,
    pub devices: Vec<DeviceReport>,
    /// What the fleet logic needs (bucket credit, alarms).
    pub fleet: super::fleet::PreviousFleetState,
}

/// The `kiosk_state` columns a heartbeat reads before it updates the row.
pub(crate) const PREVIOUS_STATE_COLUMNS: &str = "connectivity, devices, last_seen_unix_ms,
    items_offered, items_available, unavailable_items, oldest_unsent_age_s";

/// A [`PreviousState`] from the columns of [`PREVIOUS_STATE_COLUMNS`].
pub(crate) fn previous_state(row: &super::sql::SqlRow) -> Result<PreviousState, StorageError> {
    let connectivity = row.text(0)?;
    Ok(PreviousState {
        devices: parse_devices(&row.text(1)?)?,
        fleet: super::fleet::PreviousFleetState {
            connectivity: connectivity.clone(),
            last_seen_ms: row.int(2)?,
            items_offered: row.int(3)?,
            items_available: row.int(4)?,
            unavailable_items: super::fleet::parse_items(&row.text(5)?)?,
            oldest_unsent_age_s: row.opt_int(6)?,
        },
        connectivity,
    })
}

/// The transitions a heartbeat causes: the kiosk comes online unless it already was (from
/// `never_seen` when there was no row), and each device whose (state, detail) changed, appeared
/// or stopped being reported.
pub(crate) fn heartbeat_transitions(
    heartbeat: &Heartbeat,
    received_at: &ServerTime,
    previous: Option<&PreviousState>,
) -> Vec<KioskTransition> {
    let transition =
        |subject, from: Option<(String, Option<String>)>, to: (String, Option<String>)| {
            let (from_state, from_detail) = from.unzip();
            KioskTransition {
                kiosk_id: heartbeat.kiosk_id.clone(),
                at: received_at.rfc3339.clone(),
                subject,
                from_state,
                from_detail: from_detail.flatten(),
                to_state: to.0,
                to_detail: to.1,
            }
        };
    let (previous_connectivity, previous_devices) = match previous {
        Some(previous) => (previous.connectivity.clone(), previous.devices.clone()),
        None => ("never_seen".to_string(), Vec::new()),
    };
    let mut transitions = Vec::new();
    if previous_connectivity != Connectivity::Online.as_str() {
        transitions.push(transition(
            TransitionSubject::Connectivity,
            Some((previous_connectivity, None)),
            (Connectivity::Online.as_str().to_string(), None),
        ));
    }
    let before = devices_by_class(&previous_devices);
    let after = devices_by_class(&heartbeat.devices);
    for (class, now) in &after {
        let was = before.get(class);
        if was != Some(now) {
            transitions.push(transition(
                TransitionSubject::Device(class.to_string()),
                was.map(|(s, d)| (s.to_string(), d.map(str::to_string))),
                (now.0.to_string(), now.1.map(str::to_string)),
            ));
        }
    }
    for (class, was) in &before {
        if !after.contains_key(class) {
            transitions.push(transition(
                TransitionSubject::Device(class.to_string()),
                Some((was.0.to_string(), was.1.map(str::to_string))),
                ("not_reported".to_string(), None),
            ));
        }
    }
    transitions
}

/// The transition the offline sweep records for a kiosk it marks offline.
pub(crate) fn offline_transition(kiosk_id: String, now: &ServerTime) -> KioskTransition {
    KioskTransition {
        kiosk_id,
        at: now.rfc3339.clone(),
        subject: TransitionSubject::Connectivity,
        from_state: Some(Connectivity::Online.as_str().to_string()),
        from_detail: None,
        to_state: Connectivity::Offline.as_str().to_string(),
        to_detail: None,
    }
}

/// How a transition's subject is stored: (`subject_kind`, `subject`).
pub(crate) fn subject_columns(subject: &TransitionSubject) -> (&'static str, &str) {
    match subject {
        TransitionSubject::Connectivity => ("connectivity", "kiosk"),
        TransitionSubject::Device(class) => ("device", class.as_str()),
    }
}

/// The inverse of [`subject_columns`].
pub(crate) fn subject_from_columns(subject_kind: &str, subject: String) -> TransitionSubject {
    if subject_kind == "device" {
        TransitionSubject::Device(subject)
    } else {
        TransitionSubject::Connectivity
    }
}

/// (state, detail) of each reported device, by class.
fn devices_by_class(devices: &[DeviceReport]) -> BTreeMap<&str, (&str, Option<&str>)> {
    devices
        .iter()
        .map(|d| (d.class.as_str(), (d.state.as_str(), d.detail.as_deref())))
        .collect()
}

pub(crate) fn parse_devices(json: &str) -> Result<Vec<DeviceReport>, StorageError> {
    serde_json::from_str(json)
        .map_err(|e| StorageError::Corrupt(format!("kiosk_state.devices: {e}")))
}

/// The JSON texts of a heartbeat's devices and unavailable items, as `kiosk_state` keeps them.
pub(crate) fn heartbeat_json_columns(
    heartbeat: &Heartbeat,
) -> Result<(String, String), StorageError> {
    let devices = serde_json::to_string(&heartbeat.devices)
        .map_err(|e| StorageError::Corrupt(e.to_string()))?;
    let unavailable = serde_json::to_string(&heartbeat.unavailable_items)
        .map_err(|e| StorageError::Corrupt(e.to_string()))?;
    Ok((devices, unavailable))
}

pub(crate) fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(crate) fn outcome_text(outcome: TransactionOutcome) -> &'static str {
    match outcome {
        TransactionOutcome::Completed => "completed",
        TransactionOutcome::Cancelled => "cancelled",
        TransactionOutcome::TimedOut => "timed_out",
        TransactionOutcome::Failed => "failed",
    }
}

fn parse_outcome(text: &str) -> Result<TransactionOutcome, StorageError> {
    match text {
        "completed" => Ok(TransactionOutcome::Completed),
        "cancelled" => Ok(TransactionOutcome::Cancelled),
        "timed_out" => Ok(TransactionOutcome::TimedOut),
        "failed" => Ok(TransactionOutcome::Failed),
        other => Err(StorageError::Corrupt(format!(
            "transactions.outcome {other:?}"
        ))),
    }
}

/// A row of the transaction listing as read from an engine, before type checks.
pub(crate) struct StoredListing {
    pub kiosk_id: String,
    pub idempotency_key: Uuid,
    pub transaction_id: String,
    pub item_code: String,
    pub outcome: String,
    pub masked_name: Option<String>,
    pub masked_id_number: Option<String>,
    pub rating: Option<i64>,
    pub finished_at: String,
    pub received_at: String,
}

impl StoredListing {
    pub fn into_listing(self) -> Result<TransactionListing, StorageError> {
        let rating = self
            .rating
            .map(|r| {
                u8::try_from(r).map_err(|_| StorageError::Corrupt(format!("ratings.rating {r}")))
            })
            .transpose()?;
        Ok(TransactionListing {
            idempotency_key: self.idempotency_key,
            outcome: parse_outcome(&self.outcome)?,
            kiosk_id: self.kiosk_id,
            transaction_id: self.transaction_id,
            item_code: self.item_code,
            masked_name: self.masked_name,
            masked_id_number: self.masked_id_number,
            rating,
            finished_at: self.finished_at,
            received_at: self.received_at,
        })
    }
}

/// A `kiosk_state` row as read from an engine, before type checks.
pub(crate) struct StoredKioskState {
    pub connectivity: String,
    pub heartbeat_seq: i64,
    pub sent_at: String,
    pub software_version: String,
    pub catalogue_version: i64,
    pub devices: String,
    pub items_offered: i64,
    pub items_available: i64,
    pub unavailable_items: String,
    pub outbox_depth: i64,
    pub oldest_unsent_age_s: Option<i64>,
    pub dead_letter_count: i64,
    pub last_seen: String,
}

impl StoredKioskState {
    pub fn into_state(self, kiosk_id: &str) -> Result<KioskState, StorageError> {
        let unsigned = |value: i64| u64::try_from(value).unwrap_or(0);
        let small = |column: &str, value: i64| {
            u32::try_from(value)
                .map_err(|_| StorageError::Corrupt(format!("kiosk_state.{column} {value}")))
        };
        let connectivity = Connectivity::parse(&self.connectivity).ok_or_else(|| {
            StorageError::Corrupt(format!("kiosk_state.connectivity {:?}", self.connectivity))
        })?;
        let unavailable_items = serde_json::from_str(&self.unavailable_items)
            .map_err(|e| StorageError::Corrupt(format!("kiosk_state.unavailable_items: {e}")))?;
        Ok(KioskState {
            kiosk_id: kiosk_id.to_string(),
            connectivity,
            last_heartbeat: Heartbeat {
                kiosk_id: kiosk_id.to_string(),
                seq: unsigned(self.heartbeat_seq),
                sent_at: self.sent_at,
                software_version: self.software_version,
                catalogue_version: small("catalogue_version", self.catalogue_version)?,
                devices: parse_devices(&self.devices)?,
                items_offered: small("items_offered", self.items_offered)?,
                items_available: small("items_available", self.items_available)?,
                unavailable_items,
                outbox_depth: unsigned(self.outbox_depth),
                oldest_unsent_age_s: self.oldest_unsent_age_s.map(unsigned),
                dead_letter_count: unsigned(self.dead_letter_count),
            },
            last_seen: self.last_seen,
        })
    }
}

/// Records a transition through the shared SQL layer.
pub(crate) fn insert_transition(
    sql: &mut dyn super::sql::Sql,
    t: &KioskTransition,
) -> Result<(), StorageError> {
    use super::sql::Val;
    let (subject_kind, subject) = subject_columns(&t.subject);
    sql.execute(
        "record transition",
        "INSERT INTO kiosk_transitions
             (kiosk_id, at, subject_kind, subject, from_state, from_detail, to_state, to_detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            Val::from(&t.kiosk_id),
            Val::from(&t.at),
            Val::from(subject_kind),
            Val::from(subject),
            Val::Text(t.from_state.clone()),
            Val::Text(t.from_detail.clone()),
            Val::from(&t.to_state),
            Val::Text(t.to_detail.clone()),
        ],
    )?;
    Ok(())
}

/// The columns of `kiosk_state` a [`StoredKioskState`] is read from, after `kiosk_id`.
pub(crate) const KIOSK_STATE_COLUMNS: &str = "connectivity, heartbeat_seq, sent_at,
    software_version, catalogue_version, devices, items_offered, items_available,
    unavailable_items, outbox_depth, oldest_unsent_age_s, dead_letter_count, last_seen";

/// Every kiosk's state, by id.
pub(crate) fn all_kiosk_states(
    sql: &mut dyn super::sql::Sql,
) -> Result<Vec<KioskState>, StorageError> {
    let rows = sql.query(
        "read kiosk states",
        &format!("SELECT kiosk_id, {KIOSK_STATE_COLUMNS} FROM kiosk_state ORDER BY kiosk_id"),
        &[],
    )?;
    rows.iter()
        .map(|row| {
            let kiosk_id = row.text(0)?;
            StoredKioskState {
                connectivity: row.text(1)?,
                heartbeat_seq: row.int(2)?,
                sent_at: row.text(3)?,
                software_version: row.text(4)?,
                catalogue_version: row.int(5)?,
                devices: row.text(6)?,
                items_offered: row.int(7)?,
                items_available: row.int(8)?,
                unavailable_items: row.text(9)?,
                outbox_depth: row.int(10)?,
                oldest_unsent_age_s: row.opt_int(11)?,
                dead_letter_count: row.int(12)?,
                last_seen: row.text(13)?,
            }
            .into_state(&kiosk_id)
        })
        .collect()
}

/// Every kiosk's connectivity, by id.
pub(crate) fn kiosk_connectivity(
    sql: &mut dyn super::sql::Sql,
) -> Result<Vec<(String, Connectivity)>, StorageError> {
    sql.query(
        "read kiosk connectivity",
        "SELECT kiosk_id, connectivity FROM kiosk_state ORDER BY kiosk_id",
        &[],
    )?
    .iter()
    .map(|row| {
        let text = row.text(1)?;
        let connectivity = Connectivity::parse(&text)
            .ok_or_else(|| StorageError::Corrupt(format!("kiosk_state.connectivity {text:?}")))?;
        Ok((row.text(0)?, connectivity))
    })
    .collect()
}

/// The kiosk-local date (`YYYY-MM-DD`) of an RFC 3339 time.
pub(crate) fn local_day(rfc3339: &str) -> String {
    rfc3339.chars().take(10).collect()
}

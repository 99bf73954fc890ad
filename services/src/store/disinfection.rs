//! The disinfection log: who disinfected which surfaces how and when, each record written with
//! its `disinfection` event (and an audit entry) in one SQLite transaction; and whether the next
//! disinfection is due.

use std::time::Duration;

use kiosk_protocol::wire::{DisinfectionRecord, EventKind};
use rusqlite::{OptionalExtension, Row, params};
use time::OffsetDateTime;
use uuid::Uuid;

use super::audit::insert_audit;
use super::outbox::insert_event;
use super::{
    KioskStore, StoreError, mask_free_text, now_rfc3339, parse_record_time, record_time,
    required_name,
};

/// Whether the kiosk is due for a disinfection.
#[derive(Debug, Clone, PartialEq)]
pub struct DisinfectionStatus {
    /// The latest disinfection (by its time), if any was ever recorded.
    pub last: Option<DisinfectionRecord>,
    /// When the next one is due: the last one plus the interval; `None` if none was recorded.
    pub due_at: Option<OffsetDateTime>,
    /// `now` is at or past `due_at`, or no disinfection was ever recorded.
    pub overdue: bool,
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<(DisinfectionRecord, String)> {
    Ok((
        DisinfectionRecord {
            record_id: row.get(0)?,
            staff_id: row.get(1)?,
            at: row.get(2)?,
            method: row.get(3)?,
            surfaces: Vec::new(),
        },
        row.get(4)?,
    ))
}

fn decode(
    (mut record, surfaces_json): (DisinfectionRecord, String),
) -> Result<DisinfectionRecord, StoreError> {
    record.surfaces = serde_json::from_str(&surfaces_json)?;
    Ok(record)
}

impl KioskStore {
    /// Records a disinfection done at `at` and queues its `disinfection` event, with its audit
    /// entry (`disinfection.record`), in one SQLite transaction. Surfaces are trimmed, empty ones
    /// dropped, duplicates removed (order kept); at least one is required.
    pub fn record_disinfection<S: AsRef<str>>(
        &self,
        staff_id: &str,
        method: &str,
        surfaces: &[S],
        at: OffsetDateTime,
    ) -> Result<DisinfectionRecord, StoreError> {
        let staff_id = required_name("a disinfection's staff id", staff_id)?;
        let method = required_name("a disinfection's method", &mask_free_text(method))?;
        let mut kept: Vec<String> = Vec::new();
        for surface in surfaces {
            let surface = mask_free_text(surface.as_ref());
            if !surface.is_empty() && !kept.contains(&surface) {
                kept.push(required_name("a disinfected surface", &surface)?);
            }
        }
        if kept.is_empty() {
            return Err(StoreError::InvalidRecord {
                what: "a disinfection",
                problem: "no surface given".into(),
            });
        }
        let record = DisinfectionRecord {
            record_id: Uuid::now_v7().to_string(),
            staff_id,
            at: record_time(at),
            method,
            surfaces: kept,
        };
        let payload = serde_json::to_string(&record)?;
        let surfaces_json = serde_json::to_string(&record.surfaces)?;
        let created_at = now_rfc3339();

        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let entry = insert_event(&tx, EventKind::Disinfection, &payload, None, &created_at)?;
        tx.execute(
            "INSERT INTO disinfection_records (record_id, staff_id, at, method, surfaces_json,
                 outbox_seq, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                record.record_id,
                record.staff_id,
                record.at,
                record.method,
                surfaces_json,
                entry.seq,
                created_at
            ],
        )?;
        let detail = format!("{}: {}", record.method, record.surfaces.join(", "));
        insert_audit(
            &tx,
            &record.staff_id,
            "disinfection.record",
            &detail,
            &record.at,
        )?;
        tx.commit()?;
        Ok(record)
    }

    /// The latest disinfection by its time (not by when it was entered).
    pub fn last_disinfection(&self) -> Result<Option<DisinfectionRecord>, StoreError> {
        let row = self
            .lock()
            .query_row(
                "SELECT record_id, staff_id, at, method, surfaces_json FROM disinfection_records
                 ORDER BY at DESC, rowid DESC LIMIT 1",
                [],
                from_row,
            )
            .optional()?;
        row.map(decode).transpose()
    }

    /// The `n` latest disinfections by their time, newest first.
    pub fn recent_disinfections(&self, n: usize) -> Result<Vec<DisinfectionRecord>, StoreError> {
        let conn = self.lock();
        let mut statement = conn.prepare(
            "SELECT record_id, staff_id, at, method, surfaces_json FROM disinfection_records
             ORDER BY at DESC, rowid DESC LIMIT ?1",
        )?;
        let rows = statement
            .query_map([i64::try_from(n).unwrap_or(i64::MAX)], from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(decode).collect()
    }

    /// Whether a disinfection is due at `now`, given the required `interval` between two.
    pub fn disinfection_status(
        &self,
        now: OffsetDateTime,
        interval: Duration,
    ) -> Result<DisinfectionStatus, StoreError> {
        let last = self.last_disinfection()?;
        let due_at = last
            .as_ref()
            .and_then(|record| parse_record_time(&record.at))
            .map(|at| {
                at.saturating_add(time::Duration::try_from(interval).unwrap_or(time::Duration::MAX))
            });
        let overdue = match due_at {
            Some(due_at) => now >= due_at,
            None => true,
        };
        Ok(DisinfectionStatus {
            last,
            due_at,
            overdue,
        })
    }
}

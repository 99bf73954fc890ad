//! The outbox: events waiting for the centre, in `seq` order, and the dead-letter table for the
//! ones the centre refused for good.

use std::time::Duration;

use kiosk_protocol::wire::{BatchAck, EventKind, OutboxEvent, PersonalData};
use rusqlite::{OptionalExtension, Transaction, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::{KioskStore, OutboxEntryId, StoreError, ensure_no_plain_personal_data, now_rfc3339};

/// Longest error or rejection reason kept in a row.
const MAX_REASON_CHARS: usize = 500;

/// What [`KioskStore::mark_acked`] changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AckOutcome {
    /// Events marked synced (their sealed personal data purged).
    pub synced: u64,
    /// Rejected events moved to the dead-letter table.
    pub dead_lettered: u64,
}

/// An event the centre will never take, kept for the operator (masked payload only).
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub seq: i64,
    pub idempotency_key: String,
    pub kind: String,
    pub payload_json: String,
    pub created_at: String,
    pub attempts: u32,
    pub reason: String,
    pub dead_at: String,
}

/// Appends an event to the outbox inside the caller's SQLite transaction.
pub(super) fn insert_event(
    tx: &Transaction<'_>,
    kind: EventKind,
    payload_json: &str,
    sealed_personal: Option<Vec<u8>>,
    created_at: &str,
) -> Result<OutboxEntryId, StoreError> {
    let idempotency_key = Uuid::now_v7();
    tx.execute(
        "INSERT INTO outbox (idempotency_key, kind, payload_json, sealed_personal, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            idempotency_key.to_string(),
            kind.as_str(),
            payload_json,
            sealed_personal,
            created_at
        ],
    )?;
    Ok(OutboxEntryId {
        seq: tx.last_insert_rowid(),
        idempotency_key,
    })
}

/// Moves an unsynced outbox event to the dead-letter table and purges the sealed personal data
/// of the event and of its transaction row. Returns whether the event was found unsynced.
fn move_to_dead_letter_in(
    tx: &Transaction<'_>,
    seq: i64,
    reason: &str,
) -> Result<bool, StoreError> {
    let moved = tx.execute(
        "INSERT INTO dead_letter (seq, idempotency_key, kind, payload_json, created_at, attempts,
             reason, dead_at)
         SELECT seq, idempotency_key, kind, payload_json, created_at, attempts, ?2, ?3
         FROM outbox WHERE seq = ?1 AND synced_at IS NULL",
        params![seq, truncate(reason), now_rfc3339()],
    )?;
    if moved == 0 {
        return Ok(false);
    }
    tx.execute("DELETE FROM outbox WHERE seq = ?1", [seq])?;
    tx.execute(
        "UPDATE transactions SET sealed_personal = NULL WHERE outbox_seq = ?1",
        [seq],
    )?;
    tracing::warn!(seq, reason = %truncate(reason), "outbox event moved to the dead-letter table");
    Ok(true)
}

fn truncate(text: &str) -> String {
    text.chars().take(MAX_REASON_CHARS).collect()
}

/// An outbox row as read, before its parts are decoded.
struct OutboxRow {
    seq: i64,
    idempotency_key: String,
    kind: String,
    payload_json: String,
    sealed_personal: Option<Vec<u8>>,
    created_at: String,
}

impl KioskStore {
    /// Queues an event other than a transaction (rating, fault, disinfection, …). `payload` must
    /// hold masked values only; `personal` is written only sealed.
    pub fn enqueue_event(
        &self,
        kind: EventKind,
        payload: &serde_json::Value,
        personal: Option<&PersonalData>,
    ) -> Result<OutboxEntryId, StoreError> {
        if kind == EventKind::Transaction {
            return Err(StoreError::TransactionEventWithoutRecord);
        }
        let payload_json = serde_json::to_string(payload)?;
        ensure_no_plain_personal_data("the event payload", &payload_json, personal)?;
        let sealed = personal.map(|p| self.seal(p)).transpose()?;
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let entry = insert_event(&tx, kind, &payload_json, sealed, &now_rfc3339())?;
        tx.commit()?;
        tracing::debug!(seq = entry.seq, kind = kind.as_str(), "event queued");
        Ok(entry)
    }

    /// Up to `limit` unsynced events, oldest first, with their personal data unsealed.
    ///
    /// An event that cannot be decoded (damaged seal, unknown kind, broken JSON) would block the
    /// queue for ever; it is moved to the dead-letter table instead and left out of the batch.
    pub fn pending_batch(&self, limit: usize) -> Result<Vec<OutboxEvent>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let rows = {
            let mut statement = tx.prepare(
                "SELECT seq, idempotency_key, kind, payload_json, sealed_personal, created_at
                 FROM outbox WHERE synced_at IS NULL ORDER BY seq LIMIT ?1",
            )?;
            statement
                .query_map([limit], |row| {
                    Ok(OutboxRow {
                        seq: row.get(0)?,
                        idempotency_key: row.get(1)?,
                        kind: row.get(2)?,
                        payload_json: row.get(3)?,
                        sealed_personal: row.get(4)?,
                        created_at: row.get(5)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?
        };
        let mut events = Vec::with_capacity(rows.len());
        let mut undecodable = Vec::new();
        for row in rows {
            match self.decode(row) {
                Ok(event) => events.push(event),
                Err((seq, reason)) => undecodable.push((seq, reason)),
            }
        }
        for (seq, reason) in &undecodable {
            move_to_dead_letter_in(&tx, *seq, reason)?;
        }
        tx.commit()?;
        Ok(events)
    }

    fn decode(&self, row: OutboxRow) -> Result<OutboxEvent, (i64, String)> {
        let seq = row.seq;
        let damaged = |what: &str| (seq, format!("stored event cannot be read: {what}"));
        let idempotency_key =
            Uuid::parse_str(&row.idempotency_key).map_err(|_| damaged("idempotency key"))?;
        let kind: EventKind = serde_json::from_value(serde_json::Value::String(row.kind))
            .map_err(|_| damaged("unknown kind"))?;
        let payload =
            serde_json::from_str(&row.payload_json).map_err(|_| damaged("payload JSON"))?;
        let personal = match row.sealed_personal {
            Some(sealed) => Some(
                self.open_sealed(&sealed)
                    .ok_or_else(|| damaged("sealed personal data (damaged or another key)"))?,
            ),
            None => None,
        };
        Ok(OutboxEvent {
            seq,
            idempotency_key,
            kind,
            created_at: row.created_at,
            payload,
            personal,
        })
    }

    /// Records the centre's acknowledgement, in one SQLite transaction: rejected events move to
    /// the dead-letter table, every other unsynced event with `seq <= acked_seq` is marked synced,
    /// and the sealed personal data of all of them and of their transaction rows is purged.
    ///
    /// The caller checks that the acknowledgement answers the batch it sent (see
    /// `sync::uploader`); a rejection whose key does not match the stored event is ignored.
    pub fn mark_acked(&self, ack: &BatchAck) -> Result<AckOutcome, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let mut outcome = AckOutcome::default();
        for rejected in &ack.rejected {
            let stored_key: Option<String> = tx
                .query_row(
                    "SELECT idempotency_key FROM outbox WHERE seq = ?1",
                    [rejected.seq],
                    |row| row.get(0),
                )
                .optional()?;
            if stored_key.as_deref() != Some(rejected.idempotency_key.to_string().as_str()) {
                tracing::warn!(
                    seq = rejected.seq,
                    "the centre rejected an event this kiosk does not hold under that key; ignored"
                );
                continue;
            }
            let reason = format!("rejected by the centre: {}", rejected.reason);
            if move_to_dead_letter_in(&tx, rejected.seq, &reason)? {
                outcome.dead_lettered += 1;
            }
        }
        let synced = tx.execute(
            "UPDATE outbox SET synced_at = ?1, sealed_personal = NULL, last_error = NULL
             WHERE seq <= ?2 AND synced_at IS NULL",
            params![now_rfc3339(), ack.acked_seq],
        )?;
        outcome.synced = synced as u64;
        tx.execute(
            "UPDATE transactions SET sealed_personal = NULL
             WHERE outbox_seq <= ?1 AND sealed_personal IS NOT NULL",
            [ack.acked_seq],
        )?;
        tx.commit()?;
        Ok(outcome)
    }

    /// Moves one unsynced event to the dead-letter table (purging its sealed personal data).
    /// Returns `false` when no unsynced event has that `seq`.
    pub fn move_to_dead_letter(&self, seq: i64, reason: &str) -> Result<bool, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let moved = move_to_dead_letter_in(&tx, seq, reason)?;
        tx.commit()?;
        Ok(moved)
    }

    /// Counts a failed upload attempt against every unsynced event up to `through_seq` (the
    /// batch that was sent) and keeps the error text (which must hold no personal data).
    pub fn record_attempt_failure(&self, through_seq: i64, error: &str) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2
             WHERE seq <= ?1 AND synced_at IS NULL",
            params![through_seq, truncate(error)],
        )?;
        Ok(())
    }

    /// Number of events not yet acknowledged by the centre.
    pub fn outbox_depth(&self) -> Result<u64, StoreError> {
        let depth: i64 = self.lock().query_row(
            "SELECT count(*) FROM outbox WHERE synced_at IS NULL",
            [],
            |row| row.get(0),
        )?;
        Ok(depth.max(0) as u64)
    }

    /// How long the oldest unsynced event has waited (by the kiosk clock; zero if the clock went
    /// back), or `None` when the outbox is drained.
    pub fn oldest_unsent_age(&self, now: OffsetDateTime) -> Result<Option<Duration>, StoreError> {
        let created_at: Option<String> = self
            .lock()
            .query_row(
                "SELECT created_at FROM outbox WHERE synced_at IS NULL ORDER BY seq LIMIT 1",
                [],
                |row| row.get(0),
            )
            .optional()?;
        Ok(created_at.map(|text| {
            OffsetDateTime::parse(&text, &Rfc3339)
                .ok()
                .and_then(|created| Duration::try_from(now - created).ok())
                .unwrap_or(Duration::ZERO)
        }))
    }

    /// Number of events in the dead-letter table.
    pub fn dead_letter_count(&self) -> Result<u64, StoreError> {
        let count: i64 = self
            .lock()
            .query_row("SELECT count(*) FROM dead_letter", [], |row| row.get(0))?;
        Ok(count.max(0) as u64)
    }

    /// The dead-letter table, oldest event first.
    pub fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        let conn = self.lock();
        let mut statement = conn.prepare(
            "SELECT seq, idempotency_key, kind, payload_json, created_at, attempts, reason, dead_at
             FROM dead_letter ORDER BY seq",
        )?;
        let letters = statement
            .query_map([], |row| {
                Ok(DeadLetter {
                    seq: row.get(0)?,
                    idempotency_key: row.get(1)?,
                    kind: row.get(2)?,
                    payload_json: row.get(3)?,
                    created_at: row.get(4)?,
                    attempts: row.get(5)?,
                    reason: row.get(6)?,
                    dead_at: row.get(7)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(letters)
    }
}

//! The embedded SQLite engine of the central store: WAL, `synchronous=FULL`, one connection
//! behind a mutex (SQLite has a single writer anyway; a city's load is a few writes a second).

use super::migrations;
use super::rows::{
    PREVIOUS_STATE_COLUMNS, StoredKioskState, StoredListing, heartbeat_json_columns,
    heartbeat_transitions, local_day, offline_transition, outcome_text, previous_state,
    saturating_i64, subject_from_columns,
};
use super::sql::{Sql, SqliteSql};
use super::{
    AcceptedEvent, CentralStorage, CheckedBatch, EventProjection, FleetPolicy, HeartbeatAnswer,
    IngestSummary, KioskState, KioskTransition, RatingRow, StorageError, TransactionRow, fleet,
    fleet_methods,
};
use crate::clock::ServerTime;
use kiosk_protocol::SealedBytes;
use kiosk_protocol::wire::{Heartbeat, TransactionListing};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, RwLock};
use std::time::Duration;
use uuid::Uuid;

/// The central store on a SQLite file.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: PathBuf,
    policy: RwLock<FleetPolicy>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

/// Begins a transaction that takes SQLite's write lock at once (`BEGIN IMMEDIATE`). Another
/// process on the same file (the CLI beside a running service) then waits its busy timeout for
/// the lock, where a deferred transaction that reads first would fail with `SQLITE_BUSY` when it
/// later tries to write over a changed snapshot.
fn begin_write(conn: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
}

/// Turns an engine error into a [`StorageError`] naming what was being done.
fn engine(operation: &'static str) -> impl FnOnce(rusqlite::Error) -> StorageError {
    move |e| StorageError::Engine {
        operation,
        reason: e.to_string(),
    }
}

impl SqliteStore {
    /// Opens (creating when missing) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let open_error = |reason: String| StorageError::Open {
            path: path.display().to_string(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_error(e.to_string()))?;
        }
        let mut conn = Connection::open(path).map_err(|e| open_error(e.to_string()))?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(|e| open_error(e.to_string()))?;
        let journal_mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(|e| open_error(e.to_string()))?;
        if !journal_mode.eq_ignore_ascii_case("wal") {
            return Err(open_error(format!(
                "journal mode is {journal_mode}, WAL is required"
            )));
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| open_error(e.to_string()))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| open_error(e.to_string()))?;
        migrations::migrate(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
            policy: RwLock::new(FleetPolicy::default()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The applied schema version.
    pub fn schema_version(&self) -> Result<i64, StorageError> {
        migrations::current_version(&self.lock())
    }

    /// Runs shared fleet logic in one transaction.
    fn with_sql<T>(
        &self,
        operation: &'static str,
        work: impl FnOnce(&mut dyn Sql) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut conn = self.lock();
        let tx = begin_write(&mut conn).map_err(engine(operation))?;
        let value = work(&mut SqliteSql(&tx))?;
        tx.commit().map_err(engine(operation))?;
        Ok(value)
    }

    /// Runs shared logic that is a single statement, without an explicit transaction.
    fn with_statement<T>(
        &self,
        _operation: &'static str,
        work: impl FnOnce(&mut dyn Sql) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        work(&mut SqliteSql(&self.lock()))
    }

    /// [`Self::with_statement`] for writes that may be committed asynchronously (request
    /// nonces). SQLite keeps its one durable setting.
    fn with_relaxed_statement<T>(
        &self,
        operation: &'static str,
        work: impl FnOnce(&mut dyn Sql) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        self.with_statement(operation, work)
    }

    /// Kiosk keys are read from the file every time (one process, no network round trip).
    fn cached_key(
        &self,
        _kiosk_id: &str,
        read: impl FnOnce() -> Result<Option<super::KioskKeyRecord>, StorageError>,
    ) -> Result<Option<super::KioskKeyRecord>, StorageError> {
        read()
    }

    fn forget_key(&self, _kiosk_id: &str) {}

    fn announce_key_change(_sql: &mut dyn Sql, _kiosk_id: &str) -> Result<(), StorageError> {
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (an open transaction
        // is rolled back when dropped), so a poisoned lock is safe to keep using.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// See [`CentralStorage::count_events`].
    pub fn count_events(&self, kiosk_id: &str) -> Result<u64, StorageError> {
        self.count(
            "SELECT COUNT(*) FROM received_events WHERE kiosk_id = ?1",
            kiosk_id,
        )
    }

    /// See [`CentralStorage::count_rejected_events`].
    pub fn count_rejected_events(&self, kiosk_id: &str) -> Result<u64, StorageError> {
        self.count(
            "SELECT COUNT(*) FROM rejected_events WHERE kiosk_id = ?1",
            kiosk_id,
        )
    }

    fn count(&self, sql: &str, kiosk_id: &str) -> Result<u64, StorageError> {
        let n: i64 = self
            .lock()
            .query_row(sql, [kiosk_id], |row| row.get(0))
            .map_err(engine("count"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// See [`CentralStorage::transactions`].
    pub fn transactions(&self) -> Result<Vec<TransactionListing>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare(
                "SELECT t.kiosk_id, t.idempotency_key, t.transaction_id, t.item_code, t.outcome,
                        t.masked_name, t.masked_id_number, r.rating, t.finished_at, t.received_at
                   FROM transactions t
                   LEFT JOIN ratings r
                     ON r.kiosk_id = t.kiosk_id AND r.transaction_id = t.transaction_id
                  ORDER BY t.id",
            )
            .map_err(engine("list transactions"))?;
        let rows = stmt
            .query_map([], |row| {
                let key: String = row.get(1)?;
                Ok((
                    key,
                    StoredListing {
                        kiosk_id: row.get(0)?,
                        idempotency_key: Uuid::nil(),
                        transaction_id: row.get(2)?,
                        item_code: row.get(3)?,
                        outcome: row.get(4)?,
                        masked_name: row.get(5)?,
                        masked_id_number: row.get(6)?,
                        rating: row.get(7)?,
                        finished_at: row.get(8)?,
                        received_at: row.get(9)?,
                    },
                ))
            })
            .map_err(engine("list transactions"))?;
        let mut listings = Vec::new();
        for row in rows {
            let (key, mut stored) = row.map_err(engine("list transactions"))?;
            stored.idempotency_key = Uuid::parse_str(&key)
                .map_err(|e| StorageError::Corrupt(format!("transactions.idempotency_key: {e}")))?;
            listings.push(stored.into_listing()?);
        }
        Ok(listings)
    }

    /// See [`CentralStorage::acked_seq`].
    pub fn acked_seq(&self, kiosk_id: &str) -> Result<Option<i64>, StorageError> {
        self.lock()
            .query_row(
                "SELECT acked_seq FROM kiosk_ack_cursor WHERE kiosk_id = ?1",
                [kiosk_id],
                |row| row.get(0),
            )
            .optional()
            .map_err(engine("read ack cursor"))
    }

    /// See [`CentralStorage::kiosk_state`].
    pub fn kiosk_state(&self, kiosk_id: &str) -> Result<Option<KioskState>, StorageError> {
        let conn = self.lock();
        let row = conn
            .query_row(
                "SELECT connectivity, heartbeat_seq, sent_at, software_version, catalogue_version,
                        devices, items_offered, items_available, unavailable_items, outbox_depth,
                        oldest_unsent_age_s, dead_letter_count, last_seen
                   FROM kiosk_state WHERE kiosk_id = ?1",
                [kiosk_id],
                |row| {
                    Ok(StoredKioskState {
                        connectivity: row.get(0)?,
                        heartbeat_seq: row.get(1)?,
                        sent_at: row.get(2)?,
                        software_version: row.get(3)?,
                        catalogue_version: row.get(4)?,
                        devices: row.get(5)?,
                        items_offered: row.get(6)?,
                        items_available: row.get(7)?,
                        unavailable_items: row.get(8)?,
                        outbox_depth: row.get(9)?,
                        oldest_unsent_age_s: row.get(10)?,
                        dead_letter_count: row.get(11)?,
                        last_seen: row.get(12)?,
                    })
                },
            )
            .optional()
            .map_err(engine("read kiosk state"))?;
        row.map(|stored| stored.into_state(kiosk_id)).transpose()
    }

    /// See [`CentralStorage::kiosk_transitions`].
    pub fn kiosk_transitions(&self, kiosk_id: &str) -> Result<Vec<KioskTransition>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare(
                "SELECT at, subject_kind, subject, from_state, from_detail, to_state, to_detail
                   FROM kiosk_transitions WHERE kiosk_id = ?1 ORDER BY id",
            )
            .map_err(engine("list transitions"))?;
        let rows = stmt
            .query_map([kiosk_id], |row| {
                let subject_kind: String = row.get(1)?;
                Ok(KioskTransition {
                    kiosk_id: kiosk_id.to_string(),
                    at: row.get(0)?,
                    subject: subject_from_columns(&subject_kind, row.get(2)?),
                    from_state: row.get(3)?,
                    from_detail: row.get(4)?,
                    to_state: row.get(5)?,
                    to_detail: row.get(6)?,
                })
            })
            .map_err(engine("list transitions"))?;
        rows.collect::<Result<_, _>>()
            .map_err(engine("list transitions"))
    }

    /// See [`CentralStorage::sealed_personal_data`].
    pub fn sealed_personal_data(
        &self,
        kiosk_id: &str,
        idempotency_key: Uuid,
    ) -> Result<Option<SealedBytes>, StorageError> {
        self.lock()
            .query_row(
                "SELECT sealed_personal FROM received_events
                  WHERE kiosk_id = ?1 AND idempotency_key = ?2",
                params![kiosk_id, idempotency_key.to_string()],
                |row| row.get::<_, Option<Vec<u8>>>(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(engine("read sealed personal data"))
    }
}

impl CentralStorage for SqliteStore {
    fn ingest_batch(&self, batch: &CheckedBatch) -> Result<IngestSummary, StorageError> {
        let policy = CentralStorage::policy(self);
        let mut conn = self.lock();
        let tx = begin_write(&mut conn).map_err(engine("begin batch"))?;
        let mut stored = 0u32;
        let mut duplicates = 0u32;
        for event in &batch.accepted {
            if insert_event(&tx, &batch.kiosk_id, &batch.received_at, event)? {
                stored += 1;
                insert_projection(&tx, &batch.kiosk_id, &batch.received_at, event, &policy)?;
            } else {
                duplicates += 1;
            }
        }
        for rejected in &batch.rejected {
            tx.execute(
                "INSERT INTO rejected_events (kiosk_id, seq, idempotency_key, reason, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    batch.kiosk_id,
                    rejected.seq,
                    rejected.idempotency_key.to_string(),
                    rejected.reason,
                    batch.received_at.rfc3339
                ],
            )
            .map_err(engine("record rejected event"))?;
        }
        tx.execute(
            "INSERT INTO kiosk_ack_cursor (kiosk_id, acked_seq, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (kiosk_id) DO UPDATE
                SET acked_seq = MAX(acked_seq, excluded.acked_seq),
                    updated_at = excluded.updated_at",
            params![
                batch.kiosk_id,
                batch.highest_seq.max(0),
                batch.received_at.rfc3339
            ],
        )
        .map_err(engine("advance ack cursor"))?;
        let kiosk_cursor: i64 = tx
            .query_row(
                "SELECT acked_seq FROM kiosk_ack_cursor WHERE kiosk_id = ?1",
                [&batch.kiosk_id],
                |row| row.get(0),
            )
            .map_err(engine("read ack cursor"))?;
        tx.commit().map_err(engine("commit batch"))?;
        Ok(IngestSummary {
            kiosk_cursor,
            stored,
            duplicates,
        })
    }

    fn answer_heartbeat(
        &self,
        heartbeat: &Heartbeat,
        received_at: &ServerTime,
    ) -> Result<HeartbeatAnswer, StorageError> {
        let policy = CentralStorage::policy(self);
        let mut conn = self.lock();
        let tx = begin_write(&mut conn).map_err(engine("begin heartbeat"))?;
        let previous = SqliteSql(&tx)
            .query_opt(
                "read kiosk state",
                &format!("SELECT {PREVIOUS_STATE_COLUMNS} FROM kiosk_state WHERE kiosk_id = $1"),
                &[heartbeat.kiosk_id.as_str().into()],
            )?
            .map(|row| previous_state(&row))
            .transpose()?;
        let transitions = heartbeat_transitions(heartbeat, received_at, previous.as_ref());
        upsert_kiosk_state(&tx, heartbeat, received_at)?;
        for t in &transitions {
            super::rows::insert_transition(&mut SqliteSql(&tx), t)?;
        }
        fleet::on_heartbeat(
            &mut SqliteSql(&tx),
            heartbeat,
            received_at,
            previous.as_ref().map(|p| &p.fleet),
            &policy,
        )?;
        let desired_catalogue_version =
            super::catalogue::desired_version(&mut SqliteSql(&tx), &heartbeat.kiosk_id)?;
        tx.commit().map_err(engine("commit heartbeat"))?;
        Ok(HeartbeatAnswer {
            transitions,
            desired_catalogue_version,
        })
    }

    fn mark_silent_kiosks_offline(
        &self,
        silent_since: &ServerTime,
        now: &ServerTime,
    ) -> Result<Vec<KioskTransition>, StorageError> {
        let policy = CentralStorage::policy(self);
        self.with_sql("offline sweep", |sql| {
            let kiosks = fleet::mark_offline(sql, silent_since, now, &policy)?;
            let mut transitions = Vec::with_capacity(kiosks.len());
            for kiosk_id in kiosks {
                let t = offline_transition(kiosk_id, now);
                super::rows::insert_transition(sql, &t)?;
                transitions.push(t);
            }
            Ok(transitions)
        })
    }

    fn transactions(&self) -> Result<Vec<TransactionListing>, StorageError> {
        SqliteStore::transactions(self)
    }

    fn count_events(&self, kiosk_id: &str) -> Result<u64, StorageError> {
        SqliteStore::count_events(self, kiosk_id)
    }

    fn count_rejected_events(&self, kiosk_id: &str) -> Result<u64, StorageError> {
        SqliteStore::count_rejected_events(self, kiosk_id)
    }

    fn acked_seq(&self, kiosk_id: &str) -> Result<Option<i64>, StorageError> {
        SqliteStore::acked_seq(self, kiosk_id)
    }

    fn kiosk_state(&self, kiosk_id: &str) -> Result<Option<KioskState>, StorageError> {
        SqliteStore::kiosk_state(self, kiosk_id)
    }

    fn kiosk_transitions(&self, kiosk_id: &str) -> Result<Vec<KioskTransition>, StorageError> {
        SqliteStore::kiosk_transitions(self, kiosk_id)
    }

    fn sealed_personal_data(
        &self,
        kiosk_id: &str,
        idempotency_key: Uuid,
    ) -> Result<Option<SealedBytes>, StorageError> {
        SqliteStore::sealed_personal_data(self, kiosk_id, idempotency_key)
    }

    fn check_health(&self) -> Result<(), StorageError> {
        self.lock()
            .query_row("SELECT 1", [], |_| Ok(()))
            .map_err(engine("health check"))
    }

    fleet_methods!();
    super::catalogue::catalogue_methods!();
    crate::storage::identity::identity_methods!();
    crate::storage::console::console_methods!();
}

/// Inserts the event unless (kiosk, key) is already stored; `true` when it was inserted.
fn insert_event(
    tx: &Transaction<'_>,
    kiosk_id: &str,
    received_at: &ServerTime,
    event: &AcceptedEvent,
) -> Result<bool, StorageError> {
    let inserted = tx
        .execute(
            "INSERT INTO received_events
                 (kiosk_id, idempotency_key, seq, kind, payload, sealed_personal,
                  created_at, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (kiosk_id, idempotency_key) DO NOTHING",
            params![
                kiosk_id,
                event.idempotency_key.to_string(),
                event.seq,
                event.kind.as_str(),
                event.payload_json,
                event.sealed_personal,
                event.created_at,
                received_at.rfc3339
            ],
        )
        .map_err(engine("store event"))?;
    Ok(inserted == 1)
}

fn insert_projection(
    tx: &Transaction<'_>,
    kiosk_id: &str,
    received_at: &ServerTime,
    event: &AcceptedEvent,
    policy: &FleetPolicy,
) -> Result<(), StorageError> {
    match &event.projection {
        EventProjection::LogOnly => Ok(()),
        EventProjection::Fault(fault) => {
            fleet::apply_fault(&mut SqliteSql(tx), kiosk_id, fault, received_at, policy)?;
            Ok(())
        }
        EventProjection::Disinfection(row) => fleet::insert_disinfection(
            &mut SqliteSql(tx),
            kiosk_id,
            &event.idempotency_key.to_string(),
            row,
            received_at,
        ),
        EventProjection::Transaction(row) => {
            insert_transaction(tx, kiosk_id, received_at, event.idempotency_key, row)
        }
        EventProjection::Rating(row) => {
            insert_rating(tx, kiosk_id, received_at, event.idempotency_key, row)
        }
    }
}

/// A transaction id seen twice under different idempotency keys keeps its first row.
fn insert_transaction(
    tx: &Transaction<'_>,
    kiosk_id: &str,
    received_at: &ServerTime,
    idempotency_key: Uuid,
    row: &TransactionRow,
) -> Result<(), StorageError> {
    tx.execute(
        "INSERT INTO transactions
             (kiosk_id, transaction_id, idempotency_key, item_code, item_name, department,
              outcome, masked_name, masked_id_number, started_at, finished_at,
              catalogue_version, received_at, duration_ms, abandoned_at_step, finished_day)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
         ON CONFLICT (kiosk_id, transaction_id) DO NOTHING",
        params![
            kiosk_id,
            row.transaction_id,
            idempotency_key.to_string(),
            row.item_code,
            row.item_name,
            row.department,
            outcome_text(row.outcome),
            row.masked_name,
            row.masked_id_number,
            row.started_at,
            row.finished_at,
            row.catalogue_version,
            received_at.rfc3339,
            row.duration_ms,
            row.abandoned_at_step,
            local_day(&row.finished_at)
        ],
    )
    .map_err(engine("store transaction"))?;
    Ok(())
}

/// A transaction keeps the first rating received for it.
fn insert_rating(
    tx: &Transaction<'_>,
    kiosk_id: &str,
    received_at: &ServerTime,
    idempotency_key: Uuid,
    row: &RatingRow,
) -> Result<(), StorageError> {
    tx.execute(
        "INSERT INTO ratings
             (kiosk_id, transaction_id, idempotency_key, item_code, rating, rated_at, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (kiosk_id, transaction_id) DO NOTHING",
        params![
            kiosk_id,
            row.transaction_id,
            idempotency_key.to_string(),
            row.item_code,
            row.rating,
            row.rated_at,
            received_at.rfc3339
        ],
    )
    .map_err(engine("store rating"))?;
    Ok(())
}

fn upsert_kiosk_state(
    tx: &Transaction<'_>,
    heartbeat: &Heartbeat,
    received_at: &ServerTime,
) -> Result<(), StorageError> {
    let (devices, unavailable) = heartbeat_json_columns(heartbeat)?;
    tx.execute(
        "INSERT INTO kiosk_state
             (kiosk_id, connectivity, heartbeat_seq, sent_at, software_version, catalogue_version,
              devices, items_offered, items_available, unavailable_items, outbox_depth,
              oldest_unsent_age_s, dead_letter_count, last_seen, last_seen_unix_ms,
              first_seen_unix_ms)
         VALUES (?1, 'online', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)
         ON CONFLICT (kiosk_id) DO UPDATE SET
             connectivity = 'online',
             heartbeat_seq = excluded.heartbeat_seq,
             sent_at = excluded.sent_at,
             software_version = excluded.software_version,
             catalogue_version = excluded.catalogue_version,
             devices = excluded.devices,
             items_offered = excluded.items_offered,
             items_available = excluded.items_available,
             unavailable_items = excluded.unavailable_items,
             outbox_depth = excluded.outbox_depth,
             oldest_unsent_age_s = excluded.oldest_unsent_age_s,
             dead_letter_count = excluded.dead_letter_count,
             last_seen = excluded.last_seen,
             last_seen_unix_ms = excluded.last_seen_unix_ms",
        params![
            heartbeat.kiosk_id,
            saturating_i64(heartbeat.seq),
            heartbeat.sent_at,
            heartbeat.software_version,
            heartbeat.catalogue_version,
            devices,
            heartbeat.items_offered,
            heartbeat.items_available,
            unavailable,
            saturating_i64(heartbeat.outbox_depth),
            heartbeat.oldest_unsent_age_s.map(saturating_i64),
            saturating_i64(heartbeat.dead_letter_count),
            received_at.rfc3339,
            received_at.unix_ms
        ],
    )
    .map_err(engine("store kiosk state"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_db(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("central-sqlite-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("central.db")
    }

    #[test]
    fn database_runs_in_wal_with_full_sync() {
        let path = scratch_db("pragmas");
        let store = SqliteStore::open(&path).expect("open");
        let conn = store.lock();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .expect("journal_mode");
        let synchronous: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .expect("synchronous");
        assert_eq!(mode, "wal");
        assert_eq!(synchronous, 2, "2 is FULL");
        drop(conn);
        drop(store);
        let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
    }
}

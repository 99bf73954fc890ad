//! The PostgreSQL engine of the central store (DESIGN §8: production, a province-wide fleet on
//! one PostgreSQL behind stateless central instances).
//!
//! Synchronous `postgres` clients in an `r2d2` pool: the [`CentralStorage`] interface is
//! blocking and the service calls it on tokio's blocking pool, so nothing here is async. Batches
//! are stored in one transaction with `INSERT … ON CONFLICT (kiosk_id, idempotency_key) DO
//! NOTHING`, committed with PostgreSQL's default durable commit before the service acknowledges.
//! Unlike SQLite, several connections (and several central instances) write at once, so the
//! heartbeat path serialises per kiosk with a transaction-scoped advisory lock and a row lock.

mod key_cache;
pub mod migrations;
mod pool;

use super::rows::{
    PREVIOUS_STATE_COLUMNS, StoredKioskState, StoredListing, heartbeat_json_columns,
    heartbeat_transitions, local_day, offline_transition, outcome_text, previous_state,
    saturating_i64, subject_from_columns,
};
use super::sql::{PgSql, Sql};
use super::{
    AcceptedEvent, CentralStorage, CheckedBatch, EventProjection, FleetPolicy, HeartbeatAnswer,
    IngestSummary, KioskState, KioskTransition, StorageError, fleet, fleet_methods,
};
use crate::clock::ServerTime;
use ::postgres::{Config, Row, Transaction};
use kiosk_protocol::SealedBytes;
use kiosk_protocol::wire::{Heartbeat, TransactionListing};
pub(crate) use pool::StatementCache;
use pool::{Commit, Connection, PgConnection, Pool};
use std::sync::RwLock;
use std::time::Duration;
use uuid::Uuid;

/// First key of the per-kiosk heartbeat advisory lock (the second is a hash of the kiosk id).
const HEARTBEAT_LOCK_CLASS: i32 = 0x6b68_6274; // "khbt"

/// Pool settings of a [`PostgresStore`].
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Most connections the store opens to the server in each of its two pools (durable and
    /// relaxed commit, see `pool`).
    pub max_connections: u32,
    /// How long a caller waits for a free connection (or a new one) before the call fails.
    pub connection_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            connection_timeout: Duration::from_secs(5),
        }
    }
}

/// The central store on a PostgreSQL database.
pub struct PostgresStore {
    /// Always `Some` until dropped (see the `Drop` impl).
    pools: Option<Pools>,
    keys: key_cache::KeyCache,
    target: String,
    policy: RwLock<FleetPolicy>,
}

/// The durable and the relaxed pool (see `pool`).
struct Pools {
    durable: Pool,
    relaxed: Pool,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.target)
            .finish()
    }
}

/// The text of a client error, with the server's message when there is one. Only masked or
/// sealed values ever reach the store, so this holds no personal data.
pub(crate) fn error_text(error: &::postgres::Error) -> String {
    error.to_string()
}

fn engine(operation: &'static str) -> impl FnOnce(::postgres::Error) -> StorageError {
    move |e| StorageError::Engine {
        operation,
        reason: error_text(&e),
    }
}

/// `host:port/dbname` of a connection string, never its password: safe to log.
pub fn describe_target(url: &str) -> String {
    match url.parse::<Config>() {
        Ok(config) => {
            let host = config
                .get_hosts()
                .first()
                .map(|host| match host {
                    ::postgres::config::Host::Tcp(name) => name.clone(),
                    ::postgres::config::Host::Unix(path) => path.display().to_string(),
                })
                .unwrap_or_else(|| "localhost".into());
            let port = config.get_ports().first().copied().unwrap_or(5432);
            let dbname = config
                .get_dbname()
                .or(config.get_user())
                .unwrap_or("postgres");
            format!("postgres {host}:{port}/{dbname}")
        }
        Err(_) => "postgres (unparsable connection string)".into(),
    }
}

impl PostgresStore {
    /// Connects to the database named by `url` (`postgresql://user@host:port/db` or
    /// `host=… dbname=…`) and brings its schema up to date. Plain connections (no TLS): use a
    /// loopback address or a unix socket, or a TLS-terminating proxy on the same host.
    pub fn open(url: &str) -> Result<Self, StorageError> {
        Self::open_with(url, PostgresOptions::default())
    }

    /// [`Self::open`] with explicit pool settings.
    pub fn open_with(url: &str, options: PostgresOptions) -> Result<Self, StorageError> {
        let target = describe_target(url);
        let open_error = |reason: String| StorageError::Open {
            path: target.clone(),
            reason,
        };
        let mut config: Config = url
            .parse()
            .map_err(|e: ::postgres::Error| open_error(error_text(&e)))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connection_timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name("kiosk-central");
        }
        let max = options.max_connections.max(1);
        let durable = pool::build(
            config.clone(),
            Commit::Durable,
            max,
            options.connection_timeout,
        )
        .map_err(|e| open_error(e.to_string()))?;
        let mut conn = durable.get().map_err(|e| open_error(e.to_string()))?;
        migrations::migrate(&mut conn.client)?;
        drop(conn);
        let relaxed = pool::build(
            config.clone(),
            Commit::Relaxed,
            max,
            options.connection_timeout,
        )
        .map_err(|e| open_error(e.to_string()))?;
        let keys = key_cache::KeyCache::start(config);
        Ok(Self {
            pools: Some(Pools { durable, relaxed }),
            keys,
            target,
            policy: RwLock::new(FleetPolicy::default()),
        })
    }

    /// What the store is connected to, without credentials.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The applied schema version.
    pub fn schema_version(&self) -> Result<i64, StorageError> {
        migrations::current_version(&mut self.conn()?.client)
    }

    /// `synchronous_commit` as a session of the durable and of the relaxed pool sees it
    /// (`on` and `off` unless the server or the connection string says otherwise).
    pub fn commit_settings(&self) -> Result<(String, String), StorageError> {
        let show = |pool: &Pool| -> Result<String, StorageError> {
            Self::get(pool)?
                .client
                .query_one("SHOW synchronous_commit", &[])
                .and_then(|row| row.try_get(0))
                .map_err(engine("read commit setting"))
        };
        Ok((show(&self.pools().durable)?, show(&self.pools().relaxed)?))
    }

    /// Whether enrolled keys are served from memory (the key-change listener is connected).
    pub fn caches_kiosk_keys(&self) -> bool {
        self.keys.is_listening()
    }

    fn cached_key(
        &self,
        kiosk_id: &str,
        read: impl FnOnce() -> Result<Option<super::KioskKeyRecord>, StorageError>,
    ) -> Result<Option<super::KioskKeyRecord>, StorageError> {
        self.keys.get_or_read(kiosk_id, read)
    }

    fn forget_key(&self, kiosk_id: &str) {
        self.keys.forget(kiosk_id);
    }

    /// Tells every instance's key cache, at commit, that the kiosk's key changed.
    fn announce_key_change(sql: &mut dyn Sql, kiosk_id: &str) -> Result<(), StorageError> {
        sql.execute(
            "announce key change",
            "SELECT pg_notify($1, $2)::text",
            &[key_cache::KEY_CHANNEL.into(), kiosk_id.into()],
        )?;
        Ok(())
    }

    fn pools(&self) -> &Pools {
        self.pools.as_ref().expect("the pools live until drop")
    }

    fn get(pool: &Pool) -> Result<Connection, StorageError> {
        pool.get().map_err(|e| StorageError::Engine {
            operation: "get a connection",
            reason: e.to_string(),
        })
    }

    /// A session of the durable pool.
    fn conn(&self) -> Result<Connection, StorageError> {
        Self::get(&self.pools().durable)
    }

    /// Runs shared logic in one durable transaction.
    fn with_sql<T>(
        &self,
        operation: &'static str,
        work: impl FnOnce(&mut dyn Sql) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut conn = self.conn()?;
        let PgConnection { client, statements } = &mut *conn;
        let mut tx = client.transaction().map_err(engine(operation))?;
        let value = work(&mut PgSql::new(&mut tx, statements))?;
        tx.commit().map_err(engine(operation))?;
        Ok(value)
    }

    /// Runs shared logic that is a single statement (a read, or one write that is atomic on its
    /// own) without `BEGIN`/`COMMIT` round trips, on the durable pool.
    fn with_statement<T>(
        &self,
        _operation: &'static str,
        work: impl FnOnce(&mut dyn Sql) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        Self::statement_on(&self.pools().durable, work)
    }

    /// [`Self::with_statement`] on the relaxed pool (asynchronous commit; see `pool`): only for
    /// request nonces.
    fn with_relaxed_statement<T>(
        &self,
        _operation: &'static str,
        work: impl FnOnce(&mut dyn Sql) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        Self::statement_on(&self.pools().relaxed, work)
    }

    fn statement_on<T>(
        pool: &Pool,
        work: impl FnOnce(&mut dyn Sql) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut conn = Self::get(pool)?;
        let PgConnection { client, statements } = &mut *conn;
        work(&mut PgSql::new(client, statements))
    }

    fn count(&self, sql: &str, kiosk_id: &str) -> Result<u64, StorageError> {
        let n: i64 = self
            .conn()?
            .client
            .query_one(sql, &[&kiosk_id])
            .and_then(|row| row.try_get(0))
            .map_err(engine("count"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

impl Drop for PostgresStore {
    /// A `postgres` client runs its own small tokio runtime and may not be dropped inside an
    /// async context (the service's last reference can go away in one), so the pool is closed
    /// on a thread of its own.
    fn drop(&mut self) {
        if let Some(pools) = self.pools.take() {
            let closer = std::thread::Builder::new()
                .name("kiosk-central-pg-close".into())
                .spawn(move || drop(pools));
            if let Ok(closer) = closer {
                let _ = closer.join();
            }
        }
    }
}

impl CentralStorage for PostgresStore {
    fn ingest_batch(&self, batch: &CheckedBatch) -> Result<IngestSummary, StorageError> {
        let policy = CentralStorage::policy(self);
        let mut conn = self.conn()?;
        let PgConnection { client, statements } = &mut *conn;
        let mut tx = client.transaction().map_err(engine("begin batch"))?;
        let mut sql = PgSql::new(&mut tx, statements);
        if batch
            .accepted
            .iter()
            .any(|e| matches!(e.projection, EventProjection::Fault(_)))
        {
            // Alarms of one kiosk change one at a time (a heartbeat or a second batch of the
            // same kiosk would otherwise race for the same alarm row).
            lock_kiosk(&mut sql, "lock kiosk alarms", &batch.kiosk_id)?;
        }
        let mut stored = 0u32;
        let mut duplicates = 0u32;
        for event in &batch.accepted {
            let inserted = sql.execute_typed(
                "store event",
                "INSERT INTO received_events
                     (kiosk_id, idempotency_key, seq, kind, payload, sealed_personal,
                      created_at, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (kiosk_id, idempotency_key) DO NOTHING",
                &[
                    &batch.kiosk_id,
                    &event.idempotency_key,
                    &event.seq,
                    &event.kind.as_str(),
                    &event.payload_json,
                    &event.sealed_personal,
                    &event.created_at,
                    &batch.received_at.rfc3339,
                ],
            )?;
            if inserted == 1 {
                stored += 1;
                insert_projection(
                    &mut sql,
                    &batch.kiosk_id,
                    &batch.received_at,
                    event,
                    &policy,
                )?;
            } else {
                duplicates += 1;
            }
        }
        for rejected in &batch.rejected {
            sql.execute_typed(
                "record rejected event",
                "INSERT INTO rejected_events (kiosk_id, seq, idempotency_key, reason, received_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &batch.kiosk_id,
                    &rejected.seq,
                    &rejected.idempotency_key,
                    &rejected.reason,
                    &batch.received_at.rfc3339,
                ],
            )?;
        }
        let kiosk_cursor: i64 = sql
            .query_opt_typed(
                "advance ack cursor",
                "INSERT INTO kiosk_ack_cursor AS c (kiosk_id, acked_seq, updated_at)
                 VALUES ($1, $2, $3)
                 ON CONFLICT (kiosk_id) DO UPDATE
                    SET acked_seq = GREATEST(c.acked_seq, excluded.acked_seq),
                        updated_at = excluded.updated_at
                 RETURNING acked_seq",
                &[
                    &batch.kiosk_id,
                    &batch.highest_seq.max(0),
                    &batch.received_at.rfc3339,
                ],
            )?
            .map(|row| row.try_get(0))
            .transpose()
            .map_err(engine("advance ack cursor"))?
            .ok_or_else(|| StorageError::Corrupt("ack cursor upsert returned no row".into()))?;
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
        // The relaxed pool: this transaction commits asynchronously (see `pool`).
        let mut conn = Self::get(&self.pools().relaxed)?;
        let PgConnection { client, statements } = &mut *conn;
        let mut tx = client.transaction().map_err(engine("begin heartbeat"))?;
        let mut sql = PgSql::new(&mut tx, statements);
        // Two heartbeats of one kiosk (a retry racing the original, two central instances) must
        // not both see the old state: the advisory lock covers the kiosk's first heartbeat,
        // when there is no row to lock yet; FOR UPDATE keeps the offline sweep out meanwhile.
        lock_kiosk(&mut sql, "lock kiosk state", &heartbeat.kiosk_id)?;
        let previous = sql
            .query_opt(
                "read kiosk state",
                &format!(
                    "SELECT {PREVIOUS_STATE_COLUMNS} FROM kiosk_state WHERE kiosk_id = $1 \
                     FOR UPDATE"
                ),
                &[heartbeat.kiosk_id.as_str().into()],
            )?
            .map(|row| previous_state(&row))
            .transpose()?;
        let transitions = heartbeat_transitions(heartbeat, received_at, previous.as_ref());
        upsert_kiosk_state(&mut sql, heartbeat, received_at)?;
        for t in &transitions {
            super::rows::insert_transition(&mut sql, t)?;
        }
        fleet::on_heartbeat(
            &mut sql,
            heartbeat,
            received_at,
            previous.as_ref().map(|p| &p.fleet),
            &policy,
        )?;
        let desired_catalogue_version =
            super::catalogue::desired_version(&mut sql, &heartbeat.kiosk_id)?;
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
        let rows = self
            .conn()?
            .client
            .query(
                "SELECT t.kiosk_id, t.idempotency_key, t.transaction_id, t.item_code, t.outcome,
                        t.masked_name, t.masked_id_number, r.rating::BIGINT, t.finished_at,
                        t.received_at
                   FROM transactions t
                   LEFT JOIN ratings r
                     ON r.kiosk_id = t.kiosk_id AND r.transaction_id = t.transaction_id
                  ORDER BY t.id",
                &[],
            )
            .map_err(engine("list transactions"))?;
        rows.iter()
            .map(|row| {
                listing_row(row)
                    .map_err(engine("list transactions"))?
                    .into_listing()
            })
            .collect()
    }

    fn count_events(&self, kiosk_id: &str) -> Result<u64, StorageError> {
        self.count(
            "SELECT COUNT(*) FROM received_events WHERE kiosk_id = $1",
            kiosk_id,
        )
    }

    fn count_rejected_events(&self, kiosk_id: &str) -> Result<u64, StorageError> {
        self.count(
            "SELECT COUNT(*) FROM rejected_events WHERE kiosk_id = $1",
            kiosk_id,
        )
    }

    fn acked_seq(&self, kiosk_id: &str) -> Result<Option<i64>, StorageError> {
        self.conn()?
            .client
            .query_opt(
                "SELECT acked_seq FROM kiosk_ack_cursor WHERE kiosk_id = $1",
                &[&kiosk_id],
            )
            .and_then(|row| row.map(|row| row.try_get(0)).transpose())
            .map_err(engine("read ack cursor"))
    }

    fn kiosk_state(&self, kiosk_id: &str) -> Result<Option<KioskState>, StorageError> {
        let row = self
            .conn()?
            .client
            .query_opt(
                "SELECT connectivity, heartbeat_seq, sent_at, software_version, catalogue_version,
                        devices, items_offered, items_available, unavailable_items, outbox_depth,
                        oldest_unsent_age_s, dead_letter_count, last_seen
                   FROM kiosk_state WHERE kiosk_id = $1",
                &[&kiosk_id],
            )
            .map_err(engine("read kiosk state"))?;
        let Some(row) = row else {
            return Ok(None);
        };
        kiosk_state_row(&row)
            .map_err(engine("read kiosk state"))?
            .into_state(kiosk_id)
            .map(Some)
    }

    fn kiosk_transitions(&self, kiosk_id: &str) -> Result<Vec<KioskTransition>, StorageError> {
        let rows = self
            .conn()?
            .client
            .query(
                "SELECT at, subject_kind, subject, from_state, from_detail, to_state, to_detail
                   FROM kiosk_transitions WHERE kiosk_id = $1 ORDER BY id",
                &[&kiosk_id],
            )
            .map_err(engine("list transitions"))?;
        rows.iter()
            .map(|row| {
                let subject_kind: String = row.try_get(1)?;
                Ok(KioskTransition {
                    kiosk_id: kiosk_id.to_string(),
                    at: row.try_get(0)?,
                    subject: subject_from_columns(&subject_kind, row.try_get(2)?),
                    from_state: row.try_get(3)?,
                    from_detail: row.try_get(4)?,
                    to_state: row.try_get(5)?,
                    to_detail: row.try_get(6)?,
                })
            })
            .collect::<Result<_, ::postgres::Error>>()
            .map_err(engine("list transitions"))
    }

    fn sealed_personal_data(
        &self,
        kiosk_id: &str,
        idempotency_key: Uuid,
    ) -> Result<Option<SealedBytes>, StorageError> {
        self.conn()?
            .client
            .query_opt(
                "SELECT sealed_personal FROM received_events
                  WHERE kiosk_id = $1 AND idempotency_key = $2",
                &[&kiosk_id, &idempotency_key],
            )
            .and_then(|row| {
                row.map(|row| row.try_get::<_, Option<Vec<u8>>>(0))
                    .transpose()
            })
            .map(Option::flatten)
            .map_err(engine("read sealed personal data"))
    }

    fn check_health(&self) -> Result<(), StorageError> {
        self.conn()?
            .client
            .execute("SELECT 1", &[])
            .map(|_| ())
            .map_err(engine("health check"))
    }

    fn forget_cached_key(&self, kiosk_id: &str) {
        self.forget_key(kiosk_id);
    }

    fleet_methods!();
    crate::storage::catalogue::catalogue_methods!();
    crate::storage::identity::identity_methods!();
    crate::storage::console::console_methods!();
}

fn listing_row(row: &Row) -> Result<StoredListing, ::postgres::Error> {
    Ok(StoredListing {
        kiosk_id: row.try_get(0)?,
        idempotency_key: row.try_get(1)?,
        transaction_id: row.try_get(2)?,
        item_code: row.try_get(3)?,
        outcome: row.try_get(4)?,
        masked_name: row.try_get(5)?,
        masked_id_number: row.try_get(6)?,
        rating: row.try_get(7)?,
        finished_at: row.try_get(8)?,
        received_at: row.try_get(9)?,
    })
}

fn kiosk_state_row(row: &Row) -> Result<StoredKioskState, ::postgres::Error> {
    Ok(StoredKioskState {
        connectivity: row.try_get(0)?,
        heartbeat_seq: row.try_get(1)?,
        sent_at: row.try_get(2)?,
        software_version: row.try_get(3)?,
        catalogue_version: row.try_get(4)?,
        devices: row.try_get(5)?,
        items_offered: row.try_get(6)?,
        items_available: row.try_get(7)?,
        unavailable_items: row.try_get(8)?,
        outbox_depth: row.try_get(9)?,
        oldest_unsent_age_s: row.try_get(10)?,
        dead_letter_count: row.try_get(11)?,
        last_seen: row.try_get(12)?,
    })
}

/// Takes the kiosk's transaction-scoped advisory lock (heartbeat state and alarms).
fn lock_kiosk(
    sql: &mut PgSql<'_, Transaction<'_>>,
    operation: &'static str,
    kiosk_id: &str,
) -> Result<(), StorageError> {
    sql.execute_typed(
        operation,
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        &[&HEARTBEAT_LOCK_CLASS, &kiosk_id],
    )?;
    Ok(())
}

fn insert_projection(
    sql: &mut PgSql<'_, Transaction<'_>>,
    kiosk_id: &str,
    received_at: &ServerTime,
    event: &AcceptedEvent,
    policy: &FleetPolicy,
) -> Result<(), StorageError> {
    match &event.projection {
        EventProjection::LogOnly => Ok(()),
        EventProjection::Fault(fault) => {
            fleet::apply_fault(sql, kiosk_id, fault, received_at, policy)?;
            Ok(())
        }
        EventProjection::Disinfection(row) => fleet::insert_disinfection(
            sql,
            kiosk_id,
            &event.idempotency_key.to_string(),
            row,
            received_at,
        ),
        // A transaction id seen twice under different idempotency keys keeps its first row.
        EventProjection::Transaction(row) => sql
            .execute_typed(
                "store transaction",
                "INSERT INTO transactions
                     (kiosk_id, transaction_id, idempotency_key, item_code, item_name, department,
                      outcome, masked_name, masked_id_number, started_at, finished_at,
                      catalogue_version, received_at, duration_ms, abandoned_at_step,
                      finished_day)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
                 ON CONFLICT (kiosk_id, transaction_id) DO NOTHING",
                &[
                    &kiosk_id,
                    &row.transaction_id,
                    &event.idempotency_key,
                    &row.item_code,
                    &row.item_name,
                    &row.department,
                    &outcome_text(row.outcome),
                    &row.masked_name,
                    &row.masked_id_number,
                    &row.started_at,
                    &row.finished_at,
                    &i64::from(row.catalogue_version),
                    &received_at.rfc3339,
                    &row.duration_ms,
                    &row.abandoned_at_step,
                    &local_day(&row.finished_at),
                ],
            )
            .map(|_| ()),
        // A transaction keeps the first rating received for it.
        EventProjection::Rating(row) => sql
            .execute_typed(
                "store rating",
                "INSERT INTO ratings
                     (kiosk_id, transaction_id, idempotency_key, item_code, rating, rated_at,
                      received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (kiosk_id, transaction_id) DO NOTHING",
                &[
                    &kiosk_id,
                    &row.transaction_id,
                    &event.idempotency_key,
                    &row.item_code,
                    &row.rating.map(i16::from),
                    &row.rated_at,
                    &received_at.rfc3339,
                ],
            )
            .map(|_| ()),
    }
}

fn upsert_kiosk_state(
    sql: &mut PgSql<'_, Transaction<'_>>,
    heartbeat: &Heartbeat,
    received_at: &ServerTime,
) -> Result<(), StorageError> {
    let (devices, unavailable) = heartbeat_json_columns(heartbeat)?;
    sql.execute_typed(
        "store kiosk state",
        "INSERT INTO kiosk_state
             (kiosk_id, connectivity, heartbeat_seq, sent_at, software_version, catalogue_version,
              devices, items_offered, items_available, unavailable_items, outbox_depth,
              oldest_unsent_age_s, dead_letter_count, last_seen, last_seen_unix_ms,
              first_seen_unix_ms)
         VALUES ($1, 'online', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
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
        &[
            &heartbeat.kiosk_id,
            &saturating_i64(heartbeat.seq),
            &heartbeat.sent_at,
            &heartbeat.software_version,
            &i64::from(heartbeat.catalogue_version),
            &devices,
            &i64::from(heartbeat.items_offered),
            &i64::from(heartbeat.items_available),
            &unavailable,
            &saturating_i64(heartbeat.outbox_depth),
            &heartbeat.oldest_unsent_age_s.map(saturating_i64),
            &saturating_i64(heartbeat.dead_letter_count),
            &received_at.rfc3339,
            &received_at.unix_ms,
        ],
    )?;
    Ok(())
}

//! Numbered schema migrations of the PostgreSQL engine.
//!
//! The same steps as the SQLite engine's ([`crate::storage::migrations`]), written for
//! PostgreSQL: identity keys, `UUID` idempotency keys, `BYTEA` sealed data, `BIGINT` counters.
//! Times stay RFC 3339 text, as in SQLite, so both engines hand back exactly what they stored.
//!
//! `schema_version` holds one row per applied migration. Each migration runs in its own
//! transaction with its row (PostgreSQL's DDL is transactional), under an advisory lock, so that
//! several central instances starting at once against one database apply each step once. A
//! database written by a newer program is refused. Never edit a released migration: add the next
//! number, and add the matching step to the SQLite engine.

use crate::storage::StorageError;
use crate::storage::migrations::Migration;
use ::postgres::{Client, GenericClient};

/// Advisory lock key held while migrating (arbitrary, fixed: "kiosk-central migrate").
const MIGRATION_LOCK: i64 = 0x6b69_6f73_6b6d_6967;

/// Every migration, in order. The last one's number is the schema version this program writes.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "events, transactions, ratings, kiosk state",
        sql: r#"
CREATE TABLE received_events (
    id               BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kiosk_id         TEXT    NOT NULL,
    idempotency_key  UUID    NOT NULL,
    seq              BIGINT  NOT NULL,
    kind             TEXT    NOT NULL,
    payload          TEXT    NOT NULL,     -- JSON, masked values only
    sealed_personal  BYTEA,                -- personal data sealed with the centre's key
    created_at       TEXT    NOT NULL,     -- kiosk clock
    received_at      TEXT    NOT NULL,     -- server clock
    UNIQUE (kiosk_id, idempotency_key)
);
CREATE INDEX received_events_by_kiosk_seq ON received_events (kiosk_id, seq);

CREATE TABLE rejected_events (
    id               BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kiosk_id         TEXT    NOT NULL,
    seq              BIGINT  NOT NULL,
    idempotency_key  UUID    NOT NULL,
    reason           TEXT    NOT NULL,
    received_at      TEXT    NOT NULL
);
CREATE INDEX rejected_events_by_kiosk ON rejected_events (kiosk_id, seq);

CREATE TABLE transactions (
    id                 BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kiosk_id           TEXT    NOT NULL,
    transaction_id     TEXT    NOT NULL,
    idempotency_key    UUID    NOT NULL,
    item_code          TEXT    NOT NULL,
    item_name          TEXT    NOT NULL,
    department         TEXT    NOT NULL,
    outcome            TEXT    NOT NULL,
    masked_name        TEXT,
    masked_id_number   TEXT,
    started_at         TEXT    NOT NULL,
    finished_at        TEXT    NOT NULL,
    catalogue_version  BIGINT  NOT NULL,
    received_at        TEXT    NOT NULL,
    UNIQUE (kiosk_id, transaction_id)
);

CREATE TABLE ratings (
    id               BIGINT   GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kiosk_id         TEXT     NOT NULL,
    transaction_id   TEXT     NOT NULL,
    idempotency_key  UUID     NOT NULL,
    item_code        TEXT     NOT NULL,
    rating           SMALLINT,             -- NULL: the citizen skipped rating
    rated_at         TEXT     NOT NULL,
    received_at      TEXT     NOT NULL,
    UNIQUE (kiosk_id, transaction_id)
);

CREATE TABLE kiosk_ack_cursor (
    kiosk_id    TEXT    PRIMARY KEY,
    acked_seq   BIGINT  NOT NULL,
    updated_at  TEXT    NOT NULL
);

CREATE TABLE kiosk_state (
    kiosk_id             TEXT    PRIMARY KEY,
    connectivity         TEXT    NOT NULL,
    heartbeat_seq        BIGINT  NOT NULL,
    sent_at              TEXT    NOT NULL,
    software_version     TEXT    NOT NULL,
    catalogue_version    BIGINT  NOT NULL,
    devices              TEXT    NOT NULL,  -- JSON array of DeviceReport
    items_offered        BIGINT  NOT NULL,
    items_available      BIGINT  NOT NULL,
    unavailable_items    TEXT    NOT NULL,  -- JSON array of item codes
    outbox_depth         BIGINT  NOT NULL,
    oldest_unsent_age_s  BIGINT,
    dead_letter_count    BIGINT  NOT NULL,
    last_seen            TEXT    NOT NULL,
    last_seen_unix_ms    BIGINT  NOT NULL
);
CREATE INDEX kiosk_state_by_last_seen ON kiosk_state (connectivity, last_seen_unix_ms);

CREATE TABLE kiosk_transitions (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kiosk_id      TEXT   NOT NULL,
    at            TEXT   NOT NULL,
    subject_kind  TEXT   NOT NULL,          -- 'connectivity' or 'device'
    subject       TEXT   NOT NULL,          -- 'kiosk' or the device class
    from_state    TEXT,
    from_detail   TEXT,
    to_state      TEXT   NOT NULL,
    to_detail     TEXT
);
CREATE INDEX kiosk_transitions_by_kiosk ON kiosk_transitions (kiosk_id, id);
"#,
    },
    Migration {
        version: 2,
        name: "availability buckets, alarms, tickets, disinfection, transaction statistics",
        sql: r#"
ALTER TABLE transactions
    ADD COLUMN duration_ms BIGINT,                              -- finished_at - started_at
    ADD COLUMN abandoned_at_step TEXT,
    ADD COLUMN finished_day TEXT;                               -- kiosk-local date of finished_at
UPDATE transactions t SET
    duration_ms = (EXTRACT(EPOCH FROM (t.finished_at::timestamptz - t.started_at::timestamptz))
                   * 1000)::BIGINT,
    finished_day = substr(t.finished_at, 1, 10),
    abandoned_at_step = (SELECT e.payload::jsonb ->> 'abandoned_at_step'
                           FROM received_events e
                          WHERE e.kiosk_id = t.kiosk_id
                            AND e.idempotency_key = t.idempotency_key);
-- Kiosks seen before this step: their first heartbeat is not known, the last one stands in.
ALTER TABLE kiosk_state ADD COLUMN first_seen_unix_ms BIGINT;
UPDATE kiosk_state SET first_seen_unix_ms = last_seen_unix_ms;

CREATE TABLE availability_buckets (
    kiosk_id             TEXT    NOT NULL,
    bucket_start_ms      BIGINT  NOT NULL,   -- server clock, multiple of 5 minutes
    heartbeats           BIGINT  NOT NULL,
    items_offered_sum    BIGINT  NOT NULL,   -- summed over the bucket's heartbeats
    items_available_sum  BIGINT  NOT NULL,
    online_ms            BIGINT  NOT NULL,   -- time the kiosk was online in the bucket
    doable_ms            DOUBLE PRECISION  NOT NULL,   -- online time weighted by available / offered
    unavailable_ms       TEXT    NOT NULL,   -- JSON object: item code -> online ms unavailable
    PRIMARY KEY (kiosk_id, bucket_start_ms)
);
CREATE INDEX availability_buckets_by_time ON availability_buckets (bucket_start_ms);

CREATE TABLE alarms (
    id                      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kiosk_id                TEXT    NOT NULL,
    kind                    TEXT    NOT NULL,   -- device_fault:<device>, offline, outbox_backlog
    severity                TEXT    NOT NULL,
    status                  TEXT    NOT NULL,   -- active, cleared
    message                 TEXT,
    details                 TEXT,               -- JSON
    acknowledged_at         TEXT,
    acknowledged_by         TEXT,
    first_raised_at         TEXT    NOT NULL,
    first_raised_ms         BIGINT  NOT NULL,
    last_raised_at          TEXT    NOT NULL,
    raise_count             BIGINT  NOT NULL,
    reopen_count            BIGINT  NOT NULL,
    clear_pending_since_ms  BIGINT,             -- flapping: clear held since
    cleared_at              TEXT,
    cleared_ms              BIGINT,
    ticket_id               BIGINT
);
CREATE UNIQUE INDEX alarms_one_active ON alarms (kiosk_id, kind) WHERE status = 'active';
CREATE INDEX alarms_by_kiosk_kind ON alarms (kiosk_id, kind, id);
CREATE INDEX alarms_by_status ON alarms (status, first_raised_ms);

CREATE TABLE tickets (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alarm_id     BIGINT  NOT NULL UNIQUE,
    kiosk_id     TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    severity     TEXT    NOT NULL,
    status       TEXT    NOT NULL,   -- open, resolved
    title        TEXT    NOT NULL,
    opened_at    TEXT    NOT NULL,
    assignee     TEXT,
    assigned_at  TEXT,
    resolution   TEXT,
    resolved_at  TEXT
);
CREATE INDEX tickets_by_status ON tickets (status, id);

CREATE TABLE disinfections (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kiosk_id         TEXT    NOT NULL,
    idempotency_key  TEXT    NOT NULL,
    at               TEXT    NOT NULL,   -- as recorded (kiosk clock)
    at_unix_ms       BIGINT  NOT NULL,
    staff_id         TEXT,
    method           TEXT,
    surfaces         TEXT    NOT NULL,   -- JSON array
    received_at      TEXT    NOT NULL
);
CREATE INDEX disinfections_by_kiosk ON disinfections (kiosk_id, at_unix_ms);

CREATE INDEX received_events_by_kind_time ON received_events (kind, received_at);
CREATE INDEX transactions_by_day ON transactions (finished_day);
CREATE INDEX transactions_by_kiosk_day ON transactions (kiosk_id, finished_day);
"#,
    },
    Migration {
        version: 3,
        name: "catalogue versions, publications, kiosk groups",
        sql: r#"
CREATE TABLE catalogue_versions (
    version        BIGINT  PRIMARY KEY,     -- the catalogue's own `version`; only goes up
    published_at   TEXT    NOT NULL,        -- the catalogue's own `published_at`
    catalogue      TEXT    NOT NULL,        -- the TOML text, byte for byte as signed
    item_count     BIGINT  NOT NULL,
    note           TEXT    NOT NULL,        -- change log
    created_by     TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,        -- server clock
    key_id         TEXT,                    -- NULL until signed
    signature      TEXT,                    -- Ed25519, hex
    signed_at      TEXT
);

CREATE TABLE catalogue_publications (
    id             BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version        BIGINT  NOT NULL REFERENCES catalogue_versions (version),
    target_group   TEXT,                    -- NULL: every kiosk
    published_by   TEXT    NOT NULL,
    published_at   TEXT    NOT NULL
);
CREATE INDEX catalogue_publications_by_target ON catalogue_publications (target_group, version);

CREATE TABLE kiosk_groups (
    kiosk_id       TEXT    PRIMARY KEY,
    group_name     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL
);
CREATE INDEX kiosk_groups_by_group ON kiosk_groups (group_name);
"#,
    },
    Migration {
        version: 4,
        name: "kiosk enrolment codes, kiosk keys, request nonces",
        sql: r#"
CREATE TABLE enrolment_codes (
    code_hash      TEXT    PRIMARY KEY,     -- SHA-256 hex of the code; the code itself is not kept
    kiosk_id       TEXT    NOT NULL,        -- the only kiosk that may use it
    created_by     TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    expires_unix_ms BIGINT  NOT NULL,
    used_at        TEXT                     -- NULL until consumed; one use only
);
CREATE INDEX enrolment_codes_by_kiosk ON enrolment_codes (kiosk_id);

CREATE TABLE kiosk_keys (
    kiosk_id       TEXT    PRIMARY KEY,
    public_key     TEXT    NOT NULL,        -- Ed25519, 64 hex
    enrolled_at    TEXT    NOT NULL,
    revoked_at     TEXT,                    -- NULL: in service
    revoked_by     TEXT
);

CREATE TABLE request_nonces (
    kiosk_id       TEXT    NOT NULL,
    nonce          TEXT    NOT NULL,
    seen_unix_ms   BIGINT  NOT NULL,
    PRIMARY KEY (kiosk_id, nonce)
);
CREATE INDEX request_nonces_by_time ON request_nonces (seen_unix_ms);
"#,
    },
    Migration {
        version: 5,
        name: "console users, console sessions, audit log",
        sql: r#"
CREATE TABLE console_users (
    username       TEXT    PRIMARY KEY,     -- 1-32 of a-z 0-9 . _ -
    password_hash  TEXT    NOT NULL,        -- Argon2id PHC string
    role           TEXT    NOT NULL,        -- admin, operator, viewer
    disabled_at    TEXT,                    -- NULL: may log in
    created_by     TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL
);

CREATE TABLE console_sessions (
    token_hash     TEXT    PRIMARY KEY,     -- SHA-256 hex of the cookie's token; never the token
    username       TEXT    NOT NULL REFERENCES console_users (username),
    created_at     TEXT    NOT NULL,
    expires_unix_ms BIGINT  NOT NULL,       -- absolute end
    last_seen_unix_ms BIGINT  NOT NULL      -- for the idle limit
);
CREATE INDEX console_sessions_by_user ON console_sessions (username);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_unix_ms);

CREATE TABLE audit_log (
    id             BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             TEXT    NOT NULL,        -- server clock
    at_unix_ms     BIGINT  NOT NULL,
    actor          TEXT    NOT NULL,        -- console user name, "admin-token" or "cli:<name>"
    source         TEXT    NOT NULL,        -- console, api, cli
    action         TEXT    NOT NULL,        -- e.g. catalogue.publish
    target         TEXT,                    -- e.g. version 4, kiosk-001, alarm 12
    detail         TEXT                     -- short text; never a password, token or code
);
CREATE INDEX audit_log_by_time ON audit_log (at_unix_ms);
"#,
    },
];

/// The schema version this program writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

fn engine(operation: &'static str) -> impl FnOnce(::postgres::Error) -> StorageError {
    move |e| StorageError::Engine {
        operation,
        reason: super::error_text(&e),
    }
}

/// Brings the database up to [`latest_version`]; refuses a database written by a newer program.
pub fn migrate(client: &mut Client) -> Result<i64, StorageError> {
    let known = latest_version();
    loop {
        let mut tx = client.transaction().map_err(engine("begin migration"))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(engine("lock for migration"))?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_version (
                 version     BIGINT PRIMARY KEY,
                 name        TEXT NOT NULL,
                 applied_at  TEXT NOT NULL
             );",
        )
        .map_err(engine("create schema_version"))?;
        let current = current_version(&mut tx)?;
        if current > known {
            return Err(StorageError::SchemaTooNew {
                found: current,
                known,
            });
        }
        let Some(migration) = MIGRATIONS.iter().find(|m| m.version > current) else {
            tx.commit().map_err(engine("commit migration"))?;
            return Ok(known);
        };
        let failed = |e: ::postgres::Error| StorageError::Migration {
            version: migration.version,
            name: migration.name,
            reason: super::error_text(&e),
        };
        tx.batch_execute(migration.sql).map_err(failed)?;
        tx.execute(
            "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)",
            &[
                &migration.version,
                &migration.name,
                &crate::clock::ServerTime::now().rfc3339,
            ],
        )
        .map_err(failed)?;
        tx.commit().map_err(failed)?;
    }
}

/// The highest applied migration; 0 for a new database (or one without `schema_version`).
pub fn current_version(client: &mut impl GenericClient) -> Result<i64, StorageError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
        .and_then(|row| row.try_get(0))
        .map_err(engine("read schema_version"))?;
    if !exists {
        return Ok(0);
    }
    client
        .query_one("SELECT MAX(version) FROM schema_version", &[])
        .and_then(|row| row.try_get::<_, Option<i64>>(0))
        .map(|v| v.unwrap_or(0))
        .map_err(engine("read schema_version"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_numbered_from_one_without_gaps() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, index as i64 + 1, "{}", migration.name);
        }
    }

    #[test]
    fn both_engines_have_the_same_steps() {
        let sqlite = crate::storage::migrations::MIGRATIONS;
        assert_eq!(MIGRATIONS.len(), sqlite.len());
        for (pg, lite) in MIGRATIONS.iter().zip(sqlite) {
            assert_eq!((pg.version, pg.name), (lite.version, lite.name));
            assert_eq!(
                table_names(pg.sql),
                table_names(lite.sql),
                "migration {}",
                pg.version
            );
        }
    }

    fn table_names(sql: &str) -> Vec<&str> {
        sql.split("CREATE TABLE ")
            .skip(1)
            .filter_map(|rest| rest.split_whitespace().next())
            .collect()
    }
}

//! Numbered schema migrations. The schema version lives in SQLite's `user_version` header field;
//! each migration runs in its own SQLite transaction together with the version bump, so a crash
//! leaves the database at one version or the next, never in between.
//!
//! Rules: never edit a migration that has shipped; append a new one. Every migration is tested
//! from every earlier version (see the tests at the bottom and in `store::tests`).

use rusqlite::Connection;

use super::StoreError;

/// One numbered step of the schema history.
struct Migration {
    version: u32,
    what: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        what: "settings, transactions and the outbox",
        sql: "
            CREATE TABLE settings (
                key        TEXT PRIMARY KEY,
                value      TEXT NOT NULL,
                updated_at TEXT NOT NULL
            );
            CREATE TABLE transactions (
                transaction_id   TEXT PRIMARY KEY,
                item_code        TEXT NOT NULL,
                outcome          TEXT NOT NULL,
                masked_name      TEXT,
                masked_id_number TEXT,
                record_json      TEXT NOT NULL,
                sealed_personal  BLOB,
                outbox_seq       INTEGER NOT NULL,
                created_at       TEXT NOT NULL
            );
            CREATE TABLE outbox (
                seq             INTEGER PRIMARY KEY AUTOINCREMENT,
                idempotency_key TEXT NOT NULL UNIQUE,
                kind            TEXT NOT NULL,
                payload_json    TEXT NOT NULL,
                sealed_personal BLOB,
                created_at      TEXT NOT NULL,
                synced_at       TEXT
            );
        ",
    },
    Migration {
        version: 2,
        what: "upload attempt bookkeeping and the dead-letter table",
        sql: "
            ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE outbox ADD COLUMN last_error TEXT;
            CREATE INDEX outbox_unsynced ON outbox (seq) WHERE synced_at IS NULL;
            CREATE INDEX transactions_by_outbox_seq ON transactions (outbox_seq);
            CREATE TABLE dead_letter (
                seq             INTEGER PRIMARY KEY,
                idempotency_key TEXT NOT NULL UNIQUE,
                kind            TEXT NOT NULL,
                payload_json    TEXT NOT NULL,
                created_at      TEXT NOT NULL,
                attempts        INTEGER NOT NULL,
                reason          TEXT NOT NULL,
                dead_at         TEXT NOT NULL
            );
        ",
    },
    Migration {
        version: 3,
        what: "faults, disinfection records, consumables and the audit log",
        sql: "
            CREATE TABLE faults (
                fault_id   TEXT PRIMARY KEY,
                device     TEXT NOT NULL,
                code       TEXT NOT NULL,
                severity   TEXT NOT NULL,
                message    TEXT NOT NULL,
                source     TEXT NOT NULL,
                opened_at  TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                cleared_at TEXT,
                note       TEXT,
                staff_id   TEXT,
                outbox_seq INTEGER NOT NULL
            );
            CREATE UNIQUE INDEX faults_one_open_per_device_code
                ON faults (device, code) WHERE cleared_at IS NULL;
            CREATE TABLE disinfection_records (
                record_id     TEXT PRIMARY KEY,
                staff_id      TEXT NOT NULL,
                at            TEXT NOT NULL,
                method        TEXT NOT NULL,
                surfaces_json TEXT NOT NULL,
                outbox_seq    INTEGER NOT NULL,
                created_at    TEXT NOT NULL
            );
            CREATE INDEX disinfection_records_by_time ON disinfection_records (at);
            CREATE TABLE consumables (
                consumable           TEXT PRIMARY KEY,
                capacity             INTEGER,
                used_since_replenish INTEGER NOT NULL DEFAULT 0,
                used_total           INTEGER NOT NULL DEFAULT 0,
                low_threshold        INTEGER,
                sensor_level         TEXT,
                reported_level       TEXT NOT NULL DEFAULT 'ok',
                replenished_at       TEXT,
                replenished_by       TEXT,
                updated_at           TEXT NOT NULL
            );
            CREATE TABLE audit_log (
                id         INTEGER PRIMARY KEY AUTOINCREMENT,
                actor      TEXT NOT NULL,
                action     TEXT NOT NULL,
                detail     TEXT NOT NULL,
                at         TEXT NOT NULL,
                outbox_seq INTEGER NOT NULL
            );
        ",
    },
    Migration {
        version: 4,
        what: "printouts: what was printed for each transaction (masked), for reprints",
        sql: "
            CREATE TABLE printouts (
                transaction_id TEXT NOT NULL,
                kind           TEXT NOT NULL CHECK (kind IN ('receipt', 'document')),
                language       TEXT NOT NULL,
                content_json   TEXT NOT NULL,
                created_at     TEXT NOT NULL,
                PRIMARY KEY (transaction_id, kind)
            );
        ",
    },
    Migration {
        version: 5,
        what: "catalogues received from the centre (signed text), newest wins at start",
        sql: "
            CREATE TABLE catalogues (
                version     INTEGER PRIMARY KEY,
                text        TEXT NOT NULL,
                key_id      TEXT NOT NULL,
                signature   TEXT NOT NULL,
                received_at TEXT NOT NULL
            );
        ",
    },
];

/// The schema version this software writes.
pub const LATEST_SCHEMA_VERSION: u32 = 5;

/// The schema version recorded in the database (0 for a new, empty file).
pub fn schema_version(conn: &Connection) -> Result<u32, StoreError> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

/// Brings the database up to [`LATEST_SCHEMA_VERSION`].
pub fn migrate_to_latest(conn: &mut Connection) -> Result<u32, StoreError> {
    migrate_to(conn, LATEST_SCHEMA_VERSION)
}

/// Applies the migrations after the current version up to and including `target`.
pub(crate) fn migrate_to(conn: &mut Connection, target: u32) -> Result<u32, StoreError> {
    let found = schema_version(conn)?;
    if found > LATEST_SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: LATEST_SCHEMA_VERSION,
        });
    }
    for migration in MIGRATIONS
        .iter()
        .filter(|m| m.version > found && m.version <= target)
    {
        let tx = conn.transaction()?;
        tx.execute_batch(migration.sql)?;
        tx.pragma_update(None, "user_version", migration.version)?;
        tx.commit()?;
        tracing::info!(
            version = migration.version,
            what = migration.what,
            "kiosk store schema migrated"
        );
    }
    schema_version(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_numbered_one_by_one_up_to_latest() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version as usize, index + 1);
        }
        assert_eq!(
            MIGRATIONS.last().map(|m| m.version),
            Some(LATEST_SCHEMA_VERSION)
        );
    }

    #[test]
    fn every_earlier_version_migrates_to_latest() {
        for start in 0..=LATEST_SCHEMA_VERSION {
            let mut conn = Connection::open_in_memory().unwrap();
            assert_eq!(migrate_to(&mut conn, start).unwrap(), start);
            assert_eq!(migrate_to_latest(&mut conn).unwrap(), LATEST_SCHEMA_VERSION);
            // Running again is a no-op.
            assert_eq!(migrate_to_latest(&mut conn).unwrap(), LATEST_SCHEMA_VERSION);
            let tables: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' \
                     AND name IN ('settings', 'transactions', 'outbox', 'dead_letter', \
                     'faults', 'disinfection_records', 'consumables', 'audit_log')",
                    [],
                    |row| row.get(0),
                )
                .unwrap();
            assert_eq!(tables, 8, "from version {start}");
        }
    }

    #[test]
    fn a_database_from_newer_software_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", LATEST_SCHEMA_VERSION + 1)
            .unwrap();
        assert!(matches!(
            migrate_to_latest(&mut conn),
            Err(StoreError::SchemaTooNew { .. })
        ));
    }
}

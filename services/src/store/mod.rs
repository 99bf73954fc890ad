//! The kiosk's local store: one SQLite file in WAL mode with `synchronous=FULL` (kiosks lose
//! power; a commit must survive it).
//!
//! * [`transactions`] — citizen transactions; each is written together with its outbox event in
//!   one SQLite transaction.
//! * [`outbox`] — the events waiting for the centre, their acknowledgement and the dead-letter
//!   table.
//! * [`migrations`] — the numbered schema history.
//!
//! Personal data (name, ID number, address) is only ever written sealed with the kiosk's
//! [`SealingKey`]; plain columns and JSON hold masked values only. Sealed data is purged (set
//! NULL, with `secure_delete` on) in the same SQLite transaction that records the centre's
//! acknowledgement.

pub mod migrations;
mod outbox;
mod transactions;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use kiosk_protocol::wire::PersonalData;
use kiosk_protocol::{SealingKey, mask_id_number};
use rusqlite::Connection;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

pub use outbox::{AckOutcome, DeadLetter};
pub use transactions::StoredTransaction;

/// How long a writer waits for another connection's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the kiosk store {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("kiosk store: {0}")]
    Database(#[from] rusqlite::Error),
    #[error(
        "the kiosk store has schema version {found}, newer than this software supports ({supported})"
    )]
    SchemaTooNew { found: u32, supported: u32 },
    #[error("the kiosk store could not be put in WAL mode (journal mode is {0})")]
    NotWal(String),
    #[error("transaction {0} is already stored")]
    TransactionExists(String),
    #[error(
        "refused to store {what}: it holds the applicant's {field} in plain text (only masked values may be stored unsealed)"
    )]
    UnmaskedPersonalData {
        what: &'static str,
        field: &'static str,
    },
    #[error("transaction events are written with commit_transaction, together with their record")]
    TransactionEventWithoutRecord,
    #[error("kiosk store JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Where a committed event sits in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OutboxEntryId {
    /// Strictly increasing, never reused.
    pub seq: i64,
    /// The centre stores the event at most once per (kiosk, key).
    pub idempotency_key: Uuid,
}

/// The kiosk's SQLite store. Cheap to share: wrap it in an `Arc`; every method takes `&self` and
/// the connection is guarded by a mutex (SQLite writes are serialised anyway).
pub struct KioskStore {
    conn: Mutex<Connection>,
    sealing_key: SealingKey,
    path: PathBuf,
}

impl std::fmt::Debug for KioskStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KioskStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl KioskStore {
    /// Opens (creating if needed) the store at `path` and migrates it to the latest schema.
    pub fn open(path: &Path, sealing_key: SealingKey) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_err)?;
        configure(&conn)?;
        migrations::migrate_to_latest(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
            sealing_key,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        migrations::schema_version(&self.lock())
    }

    /// Copies the write-ahead log into the main file and truncates it.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.lock()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// A value from the settings table.
    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        use rusqlite::OptionalExtension;
        Ok(self
            .lock()
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()?)
    }

    /// Stores a value in the settings table (masked values only, like every plain column).
    pub fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            rusqlite::params![key, value, now_rfc3339()],
        )?;
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held cannot leave a half-written SQLite transaction behind
        // (rusqlite rolls back on drop), so a poisoned lock is safe to take over.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn seal(&self, personal: &PersonalData) -> Result<Vec<u8>, StoreError> {
        let plain = serde_json::to_vec(personal)?;
        Ok(self.sealing_key.seal(&plain))
    }

    fn open_sealed(&self, sealed: &[u8]) -> Option<PersonalData> {
        let plain = self.sealing_key.open(sealed).ok()?;
        serde_json::from_slice(&plain).ok()
    }

    #[cfg(test)]
    fn with_connection<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        f(&self.lock())
    }
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::NotWal(mode));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Overwrite deleted content (purged seals, dead rows) instead of leaving it in free pages.
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

pub(crate) fn now_rfc3339() -> String {
    format_rfc3339(OffsetDateTime::now_utc())
}

pub(crate) fn format_rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Refuses text bound for a plain column when it contains the applicant's unmasked ID number or
/// name. Masked values pass: masking is what the caller must do before handing a record over.
fn ensure_no_plain_personal_data(
    what: &'static str,
    text: &str,
    personal: Option<&PersonalData>,
) -> Result<(), StoreError> {
    let Some(personal) = personal else {
        return Ok(());
    };
    let id = personal.id_number.trim();
    if id.chars().count() >= 6 && id != mask_id_number(id) && text.contains(id) {
        return Err(StoreError::UnmaskedPersonalData {
            what,
            field: "ID number",
        });
    }
    let name = personal.name.trim();
    // A one-character name is its own mask; anything longer must not appear whole.
    if name.chars().count() >= 2 && text.contains(name) {
        return Err(StoreError::UnmaskedPersonalData {
            what,
            field: "name",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;

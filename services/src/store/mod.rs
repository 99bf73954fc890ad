//! The kiosk's local store: one SQLite file in WAL mode with `synchronous=FULL` (kiosks lose
//! power; a commit must survive it).
//!
//! * [`transactions`] — citizen transactions; each is written together with its outbox event in
//!   one SQLite transaction.
//! * [`outbox`] — the events waiting for the centre, their acknowledgement and the dead-letter
//!   table.
//! * [`faults`] — device and staff faults (opened, updated, cleared), one open fault per
//!   (device, code).
//! * [`disinfection`] — the disinfection log and whether the next one is due.
//! * [`consumables`] — paper and card stock: counters since replenish, the near-end sensor,
//!   low/empty events sent once.
//! * [`audit`] — the audit log of staff (and system) actions.
//! * [`migrations`] — the numbered schema history.
//!
//! Every write of a business row queues its outbox event in the same SQLite transaction. Staff
//! actions done through the store (fault report/update/close, disinfection, replenish) also
//! write their audit-log row and audit event in that transaction.
//!
//! Personal data (name, ID number, address) is only ever written sealed with the kiosk's
//! [`SealingKey`]; plain columns and JSON hold masked values only. Sealed data is purged (set
//! NULL, with `secure_delete` on) in the same SQLite transaction that records the centre's
//! acknowledgement.

mod audit;
mod catalogues;
mod consumables;
mod disinfection;
mod faults;
pub mod migrations;
mod outbox;
mod printouts;
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

pub use catalogues::StoredCatalogue;
pub use consumables::ConsumableLevel;
pub use disinfection::DisinfectionStatus;
pub use faults::{FaultChange, FaultOutcome, FaultReport, FaultUpdate};
pub use outbox::{AckOutcome, DeadLetter};
pub use printouts::{PrintoutKind, StoredPrintout};
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
    #[error("no open fault {0}")]
    FaultNotOpen(String),
    #[error("refused to store {what}: {problem}")]
    InvalidRecord { what: &'static str, problem: String },
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

/// Record times (`at`, `opened_at`, …) as fixed-width RFC 3339 in UTC with milliseconds, so that
/// they sort as text: `2026-11-21T14:05:00.000Z`.
pub(crate) fn record_time(at: OffsetDateTime) -> String {
    const FORMAT: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    let utc = at.to_offset(time::UtcOffset::UTC);
    utc.format(FORMAT).unwrap_or_else(|_| format_rfc3339(utc))
}

pub(crate) fn parse_record_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// Longest free text (fault message, note, audit detail, …) kept in a row.
const MAX_FREE_TEXT_CHARS: usize = 1000;

/// Free text typed by staff or made by the software, made fit for a plain column: trimmed, cut
/// to [`MAX_FREE_TEXT_CHARS`], and every run of 11 or more digits (with an optional trailing
/// `X`) masked — an 18- or 15-digit ID number with [`mask_id_number`] (birth date hidden), an
/// 11-digit mobile number as `138****0000`, any other long number (bank card, …) all but its
/// first and last two digits. No citizen is in scope of these writes, so this is the plain-text
/// guard that applies; the short numbers of transaction ids and counters pass unchanged.
pub(crate) fn mask_free_text(text: &str) -> String {
    let chars: Vec<char> = text.trim().chars().take(MAX_FREE_TEXT_CHARS).collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        if i - start == 17 && i < chars.len() && matches!(chars[i], 'X' | 'x') {
            i += 1;
        }
        let run: String = chars[start..i].iter().collect();
        let len = i - start;
        if len < 11 {
            out.push_str(&run);
        } else if len == 11 && run.starts_with('1') {
            out.push_str(&run[..3]);
            out.push_str("****");
            out.push_str(&run[7..]);
        } else {
            out.push_str(&mask_id_number(&run));
        }
    }
    out
}

/// A required identifier (device class, fault code, consumable, staff id, action): trimmed,
/// non-empty, at most 64 characters, no control characters.
pub(crate) fn required_name(what: &'static str, value: &str) -> Result<String, StoreError> {
    let value = value.trim();
    let problem = if value.is_empty() {
        Some("it is empty".to_string())
    } else if value.chars().count() > 64 {
        Some("it is longer than 64 characters".to_string())
    } else if value.chars().any(char::is_control) {
        Some("it holds control characters".to_string())
    } else {
        None
    };
    match problem {
        Some(problem) => Err(StoreError::InvalidRecord { what, problem }),
        None => Ok(value.to_string()),
    }
}

/// A machine-readable name (fault device or code): [`required_name`] restricted to ASCII letters,
/// digits, `_`, `-` and `.` (what the centre accepts as a device name).
pub(crate) fn required_code(what: &'static str, value: &str) -> Result<String, StoreError> {
    let value = required_name(what, value)?;
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(StoreError::InvalidRecord {
            what,
            problem: "only ASCII letters, digits, '_', '-' and '.' are allowed".into(),
        });
    }
    Ok(value)
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

#[cfg(test)]
mod maintenance_tests;

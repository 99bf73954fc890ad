//! The central store, behind one interface so that a PostgreSQL engine can sit beside the
//! embedded SQLite one (DESIGN §8).
//!
//! The interface speaks in the service's own terms (checked events, heartbeats, listings), never
//! in SQL. Every method is blocking; async callers run them on the blocking pool.

pub mod migrations;
pub mod postgres;
mod rows;
pub mod sqlite;

use crate::clock::ServerTime;
use kiosk_protocol::SealedBytes;
use kiosk_protocol::wire::{
    EventKind, Heartbeat, RejectedEvent, TransactionListing, TransactionOutcome,
};
use uuid::Uuid;

/// A failure of the storage engine. Messages never hold personal data: only masked or sealed
/// values are ever handed to the store.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot open the central database {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("database schema version {found} is newer than this program understands ({known})")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("migration {version} ({name}) failed: {reason}")]
    Migration {
        version: i64,
        name: &'static str,
        reason: String,
    },
    #[error("database {operation} failed: {reason}")]
    Engine {
        operation: &'static str,
        reason: String,
    },
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
}

/// One outbox upload after validation: what to store, what was refused, and the highest seq
/// the kiosk sent (the ack cursor moves up to it once the batch is committed).
#[derive(Debug, Clone)]
pub struct CheckedBatch {
    pub kiosk_id: String,
    pub received_at: ServerTime,
    pub accepted: Vec<AcceptedEvent>,
    pub rejected: Vec<RejectedEvent>,
    /// Highest positive seq among all events of the batch, accepted or rejected; 0 if none.
    pub highest_seq: i64,
}

/// An event that passed validation, ready to store.
#[derive(Debug, Clone)]
pub struct AcceptedEvent {
    pub seq: i64,
    pub idempotency_key: Uuid,
    pub kind: EventKind,
    /// Kiosk clock, RFC 3339.
    pub created_at: String,
    /// The payload as JSON text; masked values only (validation refuses anything else).
    pub payload_json: String,
    /// The event's personal data, encrypted with the centre's sealing key.
    pub sealed_personal: Option<SealedBytes>,
    /// What the event adds to the query tables besides the event log.
    pub projection: EventProjection,
}

#[derive(Debug, Clone)]
pub enum EventProjection {
    /// Only kept in the event log (faults, disinfection, consumables, audit — for now).
    LogOnly,
    Transaction(TransactionRow),
    Rating(RatingRow),
}

/// The masked listing columns of a transaction.
#[derive(Debug, Clone)]
pub struct TransactionRow {
    pub transaction_id: String,
    pub item_code: String,
    pub item_name: String,
    pub department: String,
    pub outcome: TransactionOutcome,
    pub masked_name: Option<String>,
    pub masked_id_number: Option<String>,
    pub started_at: String,
    pub finished_at: String,
    pub catalogue_version: u32,
}

/// A 好差评 rating of one transaction; may arrive before the transaction it rates.
#[derive(Debug, Clone)]
pub struct RatingRow {
    pub transaction_id: String,
    pub item_code: String,
    pub rating: Option<u8>,
    pub rated_at: String,
}

/// What storing a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestSummary {
    /// The kiosk's ack cursor after the commit: the highest seq ever acknowledged to it (kept for
    /// operators; the reply's `acked_seq` is the batch's own highest seq).
    pub kiosk_cursor: i64,
    pub stored: u32,
    pub duplicates: u32,
}

/// Whether the centre currently hears from a kiosk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connectivity {
    Online,
    Offline,
}

impl Connectivity {
    pub fn as_str(self) -> &'static str {
        match self {
            Connectivity::Online => "online",
            Connectivity::Offline => "offline",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "online" => Some(Connectivity::Online),
            "offline" => Some(Connectivity::Offline),
            _ => None,
        }
    }
}

/// The latest reported state of one kiosk (one row per kiosk, updated in place).
#[derive(Debug, Clone, PartialEq)]
pub struct KioskState {
    pub kiosk_id: String,
    pub connectivity: Connectivity,
    /// The last heartbeat as the kiosk sent it.
    pub last_heartbeat: Heartbeat,
    /// Server time of the last heartbeat.
    pub last_seen: String,
}

/// What a [`KioskTransition`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionSubject {
    /// The kiosk's connectivity (`never_seen` → `online` → `offline` …).
    Connectivity,
    /// One device, by class (`receipt_printer`, …).
    Device(String),
}

/// A recorded change of a kiosk's connectivity or of one of its devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskTransition {
    pub kiosk_id: String,
    /// Server time.
    pub at: String,
    pub subject: TransitionSubject,
    /// `None` when the subject had no state before (first heartbeat, new device).
    pub from_state: Option<String>,
    pub from_detail: Option<String>,
    pub to_state: String,
    pub to_detail: Option<String>,
}

/// The operations of the central store. Implementations must make [`Self::ingest_batch`]
/// atomic: either the whole batch (events, projections, rejections, cursor) is committed
/// durably, or nothing is.
pub trait CentralStorage: Send + Sync + 'static {
    /// Stores a checked batch in one transaction, ignoring events whose
    /// (kiosk, idempotency key) is already stored, and advances the kiosk's ack cursor.
    fn ingest_batch(&self, batch: &CheckedBatch) -> Result<IngestSummary, StorageError>;

    /// Updates the kiosk's state row in place and records transitions when its connectivity or
    /// a device's state changed. Returns the transitions recorded.
    fn record_heartbeat(
        &self,
        heartbeat: &Heartbeat,
        received_at: &ServerTime,
    ) -> Result<Vec<KioskTransition>, StorageError>;

    /// Marks kiosks not heard from since `silent_since` as offline; returns the transitions.
    fn mark_silent_kiosks_offline(
        &self,
        silent_since: &ServerTime,
        now: &ServerTime,
    ) -> Result<Vec<KioskTransition>, StorageError>;

    /// Every received transaction, masked, oldest first (newest last), with its rating if one
    /// has arrived.
    fn transactions(&self) -> Result<Vec<TransactionListing>, StorageError>;

    /// Number of events stored for a kiosk.
    fn count_events(&self, kiosk_id: &str) -> Result<u64, StorageError>;

    /// Number of events of a kiosk refused at validation.
    fn count_rejected_events(&self, kiosk_id: &str) -> Result<u64, StorageError>;

    /// The kiosk's ack cursor; `None` before its first batch.
    fn acked_seq(&self, kiosk_id: &str) -> Result<Option<i64>, StorageError>;

    /// The kiosk's latest state; `None` when it never sent a heartbeat.
    fn kiosk_state(&self, kiosk_id: &str) -> Result<Option<KioskState>, StorageError>;

    /// The kiosk's recorded transitions, oldest first.
    fn kiosk_transitions(&self, kiosk_id: &str) -> Result<Vec<KioskTransition>, StorageError>;

    /// The sealed personal data of a stored event, if it carried any.
    fn sealed_personal_data(
        &self,
        kiosk_id: &str,
        idempotency_key: Uuid,
    ) -> Result<Option<SealedBytes>, StorageError>;

    /// A cheap round trip to the engine, for `/healthz`.
    fn check_health(&self) -> Result<(), StorageError>;
}

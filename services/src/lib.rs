//! Kiosk services: the kiosk's local store and its sync with the central service.
//!
//! * [`store`] — the SQLite database (WAL, `synchronous=FULL`): transactions, the outbox, the
//!   dead-letter table, settings, faults, disinfection records, consumables and the audit log;
//!   personal data only sealed, purged once acknowledged.
//! * [`sync`] — the [`sync::OutboxUploader`] (outbox → centre, exactly once as seen by the
//!   centre) and the [`sync::HeartbeatSender`].

pub mod store;
pub mod sync;

pub use store::{KioskStore, OutboxEntryId, StoreError};

pub use sync::{HeartbeatSender, OutboxUploader};

//! `kiosk-central`: the central service of the e政务 kiosk fleet (DESIGN §7, §8).
//!
//! It receives kiosks' outbox batches (transactions, ratings, faults, …) and heartbeats over
//! HTTP, stores them durably behind the [`CentralStorage`] interface — in SQLite
//! ([`SqliteStore`], the embedded default) or PostgreSQL ([`PostgresStore`], for large fleets) —
//! and lists the received transactions (masked) for the central office.
//!
//! ```no_run
//! # fn demo() -> anyhow::Result<()> {
//! use kiosk_central::{CentralConfig, KioskCredential, spawn_in_thread};
//! let central = spawn_in_thread(CentralConfig {
//!     database_path: "/var/lib/kiosk-central/central.db".into(),
//!     listen: "127.0.0.1:0".parse()?,
//!     kiosks: vec![KioskCredential { kiosk_id: "kiosk-001".into(), token: "demo-token".into() }],
//!     admin_token: "admin-token".into(),
//!     sealing_key_path: "/var/lib/kiosk-central/central.key".into(),
//!     accept_bearer_tokens: false,
//! })?;
//! println!("central service at {}", central.url());
//! central.shutdown();
//! # Ok(()) }
//! ```

mod api;
pub mod catalogue;
pub mod clock;
pub mod config;
mod console;
pub mod identity;
pub mod identity_verification;
pub mod ratelimit;
mod server;
pub mod storage;
pub mod tls;
pub mod users;
pub mod validation;

pub use api::MAX_BODY_BYTES;
pub use config::{CentralConfig, ConfigError, KioskCredential};
pub use server::{
    CentralBuilder, CentralThread, OFFLINE_AFTER, RunningCentral, StartError, spawn,
    spawn_in_thread, spawn_in_thread_with_postgres, spawn_in_thread_with_storage,
    spawn_with_postgres, spawn_with_storage,
};
pub use storage::postgres::{PostgresOptions, PostgresStore};
pub use storage::sqlite::SqliteStore;
pub use storage::{
    Alarm, CentralStorage, Connectivity, FleetPolicy, IngestSummary, KioskState, KioskTransition,
    StorageError, SweepReport, Ticket, TicketUpdate, TransitionSubject,
};
pub use storage::{
    CataloguePublication, CatalogueRefusal, CatalogueVersion, CatalogueVersionInfo, EnrolRefusal,
    KioskKeyRecord, RolloutRow,
};

/// The store the service runs on by default: SQLite. Open it beside a running service (or after
/// one stopped) to inspect what was received. On PostgreSQL, open a [`PostgresStore`] instead.
pub type CentralStore = SqliteStore;

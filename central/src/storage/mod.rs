//! The central store, behind one interface so that a PostgreSQL engine can sit beside the
//! embedded SQLite one (DESIGN §8).
//!
//! The interface speaks in the service's own terms (checked events, heartbeats, listings), never
//! in SQL. Every method is blocking; async callers run them on the blocking pool.

pub mod catalogue;
pub mod console;
pub mod fleet;
pub mod identity;
pub mod migrations;
pub mod postgres;
mod rows;
mod sql;
pub mod sqlite;

use crate::clock::ServerTime;
pub use catalogue::{
    CataloguePublication, CatalogueRefusal, CatalogueVersion, CatalogueVersionInfo,
    NewCatalogueVersion, RolloutRow,
};
pub use console::{AuditEntry, AuditQuery, ConsoleUser, Role, UserChange};
pub use fleet::{
    AbandonmentRow, Alarm, AlarmStatusFilter, AvailabilityPoint, DayRange, DisinfectionRecord,
    DisinfectionRow, Escalation, FaultAction, FaultRow, FleetPolicy, KioskActivity, StatsGroup,
    StatsRow, SweepReport, Ticket, TicketStatusFilter, TicketUpdate,
};
pub use identity::{EnrolRefusal, KioskKeyRecord};
use kiosk_protocol::SealedBytes;
use kiosk_protocol::wire::{
    EventKind, Heartbeat, RejectedEvent, TransactionListing, TransactionOutcome,
};
use std::collections::BTreeMap;
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
    /// Only kept in the event log (consumables, audit — for now).
    LogOnly,
    Transaction(TransactionRow),
    Rating(RatingRow),
    /// `fault_opened` / `fault_updated` / `fault_cleared`: also raises or clears an alarm.
    Fault(FaultRow),
    /// Also kept in the disinfection table for compliance.
    Disinfection(DisinfectionRow),
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
    /// `finished_at − started_at`; `None` when either time does not parse.
    pub duration_ms: Option<i64>,
    /// The step an abandoned session ended in.
    pub abandoned_at_step: Option<String>,
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

/// What storing a heartbeat did, and what to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatAnswer {
    /// The transitions recorded (connectivity, devices).
    pub transitions: Vec<KioskTransition>,
    /// The highest catalogue version published to every kiosk or to the kiosk's group.
    pub desired_catalogue_version: Option<u32>,
}

/// The operations of the central store. Implementations must make [`Self::ingest_batch`]
/// atomic: either the whole batch (events, projections, rejections, cursor) is committed
/// durably, or nothing is.
pub trait CentralStorage: Send + Sync + 'static {
    /// Stores a checked batch in one transaction, ignoring events whose
    /// (kiosk, idempotency key) is already stored, and advances the kiosk's ack cursor.
    fn ingest_batch(&self, batch: &CheckedBatch) -> Result<IngestSummary, StorageError>;

    /// Updates the kiosk's state row in place and records transitions when its connectivity or
    /// a device's state changed, and reads the catalogue version the kiosk should run — in one
    /// transaction. A heartbeat may be committed asynchronously (a crash can lose the last
    /// fraction of a second of heartbeats; the kiosk's next one puts its state right).
    fn answer_heartbeat(
        &self,
        heartbeat: &Heartbeat,
        received_at: &ServerTime,
    ) -> Result<HeartbeatAnswer, StorageError>;

    /// [`Self::answer_heartbeat`] without the catalogue version: the transitions recorded.
    fn record_heartbeat(
        &self,
        heartbeat: &Heartbeat,
        received_at: &ServerTime,
    ) -> Result<Vec<KioskTransition>, StorageError> {
        Ok(self.answer_heartbeat(heartbeat, received_at)?.transitions)
    }

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

    // ---- fleet: availability, alarms, tickets, disinfection, statistics -------------------

    /// Sets the rules the store applies from now on (heartbeat interval and offline limit for
    /// bucket credit, alarm windows, escalation). Stores open with [`FleetPolicy::default`].
    fn set_policy(&self, policy: FleetPolicy);

    /// The rules in force.
    fn policy(&self) -> FleetPolicy;

    /// The periodic sweep, in one transaction: marks kiosks silent for `offline_after` offline
    /// (and raises their `offline` alarm), completes held clears of flapping alarms, and
    /// escalates alarms open longer than `escalate_after` to tickets.
    fn sweep(&self, now: &ServerTime) -> Result<SweepReport, StorageError>;

    /// Every kiosk that ever sent a heartbeat, by id.
    fn kiosk_states(&self) -> Result<Vec<KioskState>, StorageError>;

    /// Availability over `[from, to)` in steps of `step_ms` (a multiple of 5 minutes),
    /// fleet-wide or for one kiosk, optionally with one item's availability.
    fn availability_series(
        &self,
        from: &ServerTime,
        to: &ServerTime,
        step_ms: i64,
        kiosk_id: Option<&str>,
        item_code: Option<&str>,
        now: &ServerTime,
    ) -> Result<Vec<AvailabilityPoint>, StorageError>;

    /// Alarms, newest first (at most 1000).
    fn alarms(
        &self,
        status: AlarmStatusFilter,
        kiosk_id: Option<&str>,
    ) -> Result<Vec<Alarm>, StorageError>;

    /// Acknowledges an alarm (the first acknowledgement is kept); `None` if there is no such
    /// alarm.
    fn acknowledge_alarm(
        &self,
        id: i64,
        by: &str,
        now: &ServerTime,
    ) -> Result<Option<Alarm>, StorageError>;

    /// Tickets, newest first (at most 1000).
    fn tickets(&self, status: TicketStatusFilter) -> Result<Vec<Ticket>, StorageError>;

    /// Assigns an open ticket to someone.
    fn assign_ticket(
        &self,
        id: i64,
        assignee: &str,
        now: &ServerTime,
    ) -> Result<TicketUpdate, StorageError>;

    /// Resolves an open ticket with a resolution note.
    fn resolve_ticket(
        &self,
        id: i64,
        resolution: &str,
        now: &ServerTime,
    ) -> Result<TicketUpdate, StorageError>;

    /// The latest disinfection record of each kiosk that has one.
    fn last_disinfections(&self) -> Result<Vec<DisinfectionRecord>, StorageError>;

    /// Transactions and ratings grouped by item, department, kiosk or day.
    fn transaction_stats(
        &self,
        group: StatsGroup,
        range: &DayRange,
    ) -> Result<Vec<StatsRow>, StorageError>;

    /// Cancelled and timed-out sessions by item and step.
    fn abandonment(&self, range: &DayRange) -> Result<Vec<AbandonmentRow>, StorageError>;

    /// Fault reports received since `since` and transactions finished on or after `since_day`
    /// (`YYYY-MM-DD`), per kiosk that has either.
    fn kiosk_activity(
        &self,
        since: &ServerTime,
        since_day: &str,
    ) -> Result<Vec<KioskActivity>, StorageError>;

    /// Every kiosk that ever sent a heartbeat, with its connectivity (cheap: for `/metrics`).
    fn kiosk_connectivity(&self) -> Result<Vec<(String, Connectivity)>, StorageError>;

    /// Active alarms by severity and the number of open tickets (for `/metrics`).
    fn alarm_counts(&self) -> Result<(BTreeMap<String, i64>, i64), StorageError>;

    // ---- catalogue: versions, signatures, publications, groups (see [`catalogue`]) --------

    /// Stores a new catalogue version (already checked by the catalogue parser). Refused,
    /// storing nothing, when its number is not above every stored version.
    fn insert_catalogue_version(
        &self,
        new: &NewCatalogueVersion,
    ) -> Result<Result<(), CatalogueRefusal>, StorageError>;

    /// The highest stored catalogue version.
    fn latest_catalogue_version(&self) -> Result<Option<u32>, StorageError>;

    /// Every stored version without its text, newest first (the change log).
    fn catalogue_versions(&self) -> Result<Vec<CatalogueVersionInfo>, StorageError>;

    /// One version with its text.
    fn catalogue_version(&self, version: u32) -> Result<Option<CatalogueVersion>, StorageError>;

    /// Sets (or replaces) a version's signature.
    fn sign_catalogue_version(
        &self,
        version: u32,
        key_id: &str,
        signature: &str,
        signed_at: &ServerTime,
    ) -> Result<Result<(), CatalogueRefusal>, StorageError>;

    /// Publishes a signed version to every kiosk (`target_group` `None`) or to one group.
    fn publish_catalogue(
        &self,
        version: u32,
        target_group: Option<&str>,
        by: &str,
        at: &ServerTime,
    ) -> Result<Result<CataloguePublication, CatalogueRefusal>, StorageError>;

    /// Every publication, newest first.
    fn catalogue_publications(&self) -> Result<Vec<CataloguePublication>, StorageError>;

    /// The highest version published to every kiosk or to the kiosk's group.
    fn desired_catalogue_version(&self, kiosk_id: &str) -> Result<Option<u32>, StorageError>;

    /// Whether `version` was published to every kiosk or to the kiosk's group.
    fn catalogue_published_to(&self, kiosk_id: &str, version: u32) -> Result<bool, StorageError>;

    /// Puts a kiosk in a group (replacing its group), or in none.
    fn set_kiosk_group(
        &self,
        kiosk_id: &str,
        group: Option<&str>,
        at: &ServerTime,
    ) -> Result<(), StorageError>;

    /// Every (kiosk, group), by kiosk id.
    fn kiosk_groups(&self) -> Result<Vec<(String, String)>, StorageError>;

    /// Desired and reported versions of every kiosk that sent a heartbeat or is in a group, by
    /// id, and the version published to all (what any other kiosk is asked to run).
    fn catalogue_rollout(&self) -> Result<(Vec<RolloutRow>, Option<u32>), StorageError>;

    // ---- kiosk identity: enrolment codes, keys, nonces (see [`identity`]) ------------------

    /// Stores a one-time enrolment code (its SHA-256 hex) for a kiosk, valid until
    /// `expires_unix_ms`.
    fn create_enrolment_code(
        &self,
        kiosk_id: &str,
        code_hash: &str,
        by: &str,
        at: &ServerTime,
        expires_unix_ms: i64,
    ) -> Result<(), StorageError>;

    /// Consumes the code and stores (or replaces) the kiosk's public key, clearing a revocation.
    fn enrol_kiosk(
        &self,
        kiosk_id: &str,
        code_hash: &str,
        public_key: &str,
        at: &ServerTime,
    ) -> Result<Result<KioskKeyRecord, EnrolRefusal>, StorageError>;

    /// The kiosk's enrolled key (revoked or not). An engine may serve it from memory when it
    /// hears every change of the table (PostgreSQL: LISTEN/NOTIFY across instances).
    fn kiosk_key(&self, kiosk_id: &str) -> Result<Option<KioskKeyRecord>, StorageError>;

    /// Drops the kiosk's key from the engine's memory, if it keeps keys there, so that the next
    /// [`Self::kiosk_key`] reads the table.
    fn forget_cached_key(&self, kiosk_id: &str) {
        let _ = kiosk_id;
    }

    /// Every enrolled kiosk's key, by kiosk id.
    fn kiosk_keys(&self) -> Result<Vec<KioskKeyRecord>, StorageError>;

    /// Revokes the kiosk's key and consumes its outstanding codes; `None`: never enrolled.
    fn revoke_kiosk(
        &self,
        kiosk_id: &str,
        by: &str,
        at: &ServerTime,
    ) -> Result<Option<KioskKeyRecord>, StorageError>;

    /// Remembers a request nonce; `false` when the kiosk used it within `keep_ms`.
    fn remember_nonce(
        &self,
        kiosk_id: &str,
        nonce: &str,
        now_unix_ms: i64,
        keep_ms: i64,
    ) -> Result<bool, StorageError>;

    /// Forgets nonces seen before `before_unix_ms`, at most `limit` of them, oldest first (a
    /// backlog is worked off over several calls instead of one long delete); how many.
    fn prune_nonces(&self, before_unix_ms: i64, limit: u64) -> Result<u64, StorageError>;

    // ---- console: users, sessions, audit log (see [`console`]) ----------------------------

    /// Stores a new console user; `false` (nothing stored) when the name is taken.
    fn create_console_user(&self, user: &ConsoleUser) -> Result<bool, StorageError>;

    fn console_user(&self, username: &str) -> Result<Option<ConsoleUser>, StorageError>;

    /// Every console user, by name.
    fn console_users(&self) -> Result<Vec<ConsoleUser>, StorageError>;

    /// Changes role, disabled state or password hash; ends the user's sessions when any of them
    /// changed. `None`: no such user.
    fn update_console_user(
        &self,
        username: &str,
        change: &UserChange,
        at: &ServerTime,
    ) -> Result<Option<ConsoleUser>, StorageError>;

    /// Stores a session by the SHA-256 hex of its token.
    fn create_console_session(
        &self,
        token_hash: &str,
        username: &str,
        at: &ServerTime,
        expires_unix_ms: i64,
    ) -> Result<(), StorageError>;

    /// The user of a live session (not expired, used within `idle_ms`, user not disabled).
    fn console_session_user(
        &self,
        token_hash: &str,
        now_unix_ms: i64,
        idle_ms: i64,
    ) -> Result<Option<ConsoleUser>, StorageError>;

    /// Ends a session; whether there was one.
    fn delete_console_session(&self, token_hash: &str) -> Result<bool, StorageError>;

    /// Deletes expired and idle sessions; how many.
    fn prune_console_sessions(&self, now_unix_ms: i64, idle_ms: i64) -> Result<u64, StorageError>;

    /// Appends an audit log entry (its `id` and `at` are set by the store); the new id.
    fn append_audit(&self, entry: &AuditEntry, at: &ServerTime) -> Result<i64, StorageError>;

    /// Audit entries, newest first.
    fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StorageError>;

    /// Escalates an active alarm to a fault ticket now (the sweep does it after
    /// `escalate_after`).
    fn escalate_alarm(&self, id: i64, now: &ServerTime) -> Result<Escalation, StorageError>;
}

/// The fleet methods of [`CentralStorage`], the same on every engine: each runs the shared
/// logic of [`fleet`] in one transaction of the engine (`self.with_sql`).
macro_rules! fleet_methods {
    () => {
        fn set_policy(&self, policy: $crate::storage::FleetPolicy) {
            *self
                .policy
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = policy;
        }

        fn policy(&self) -> $crate::storage::FleetPolicy {
            self.policy
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clone()
        }

        fn sweep(&self, now: &ServerTime) -> Result<$crate::storage::SweepReport, StorageError> {
            let policy = CentralStorage::policy(self);
            let limit = $crate::storage::fleet::duration_ms(policy.offline_after);
            let silent_since = ServerTime::from_unix_ms(now.unix_ms.saturating_sub(limit));
            self.with_sql("sweep", |sql| {
                let mut report = $crate::storage::SweepReport {
                    went_offline: $crate::storage::fleet::mark_offline(
                        sql,
                        &silent_since,
                        now,
                        &policy,
                    )?,
                    ..Default::default()
                };
                if !report.went_offline.is_empty() {
                    for kiosk_id in &report.went_offline {
                        let t = $crate::storage::rows::offline_transition(kiosk_id.clone(), now);
                        $crate::storage::rows::insert_transition(sql, &t)?;
                    }
                }
                $crate::storage::fleet::sweep_alarms(sql, now, &policy, &mut report)?;
                Ok(report)
            })
        }

        fn kiosk_states(&self) -> Result<Vec<KioskState>, StorageError> {
            self.with_sql("read kiosk states", $crate::storage::rows::all_kiosk_states)
        }

        fn availability_series(
            &self,
            from: &ServerTime,
            to: &ServerTime,
            step_ms: i64,
            kiosk_id: Option<&str>,
            item_code: Option<&str>,
            now: &ServerTime,
        ) -> Result<Vec<$crate::storage::AvailabilityPoint>, StorageError> {
            let policy = CentralStorage::policy(self);
            self.with_sql("availability series", |sql| {
                $crate::storage::fleet::availability_series(
                    sql,
                    from.unix_ms,
                    to.unix_ms,
                    step_ms,
                    kiosk_id,
                    item_code,
                    now,
                    &policy,
                )
            })
        }

        fn alarms(
            &self,
            status: $crate::storage::AlarmStatusFilter,
            kiosk_id: Option<&str>,
        ) -> Result<Vec<$crate::storage::Alarm>, StorageError> {
            let policy = CentralStorage::policy(self);
            self.with_sql("list alarms", |sql| {
                $crate::storage::fleet::alarms(sql, status, kiosk_id, &policy)
            })
        }

        fn acknowledge_alarm(
            &self,
            id: i64,
            by: &str,
            now: &ServerTime,
        ) -> Result<Option<$crate::storage::Alarm>, StorageError> {
            let policy = CentralStorage::policy(self);
            self.with_sql("acknowledge alarm", |sql| {
                $crate::storage::fleet::acknowledge_alarm(sql, id, by, now, &policy)
            })
        }

        fn tickets(
            &self,
            status: $crate::storage::TicketStatusFilter,
        ) -> Result<Vec<$crate::storage::Ticket>, StorageError> {
            self.with_sql("list tickets", |sql| {
                $crate::storage::fleet::tickets(sql, status)
            })
        }

        fn assign_ticket(
            &self,
            id: i64,
            assignee: &str,
            now: &ServerTime,
        ) -> Result<$crate::storage::TicketUpdate, StorageError> {
            self.with_sql("assign ticket", |sql| {
                $crate::storage::fleet::assign_ticket(sql, id, assignee, now)
            })
        }

        fn resolve_ticket(
            &self,
            id: i64,
            resolution: &str,
            now: &ServerTime,
        ) -> Result<$crate::storage::TicketUpdate, StorageError> {
            self.with_sql("resolve ticket", |sql| {
                $crate::storage::fleet::resolve_ticket(sql, id, resolution, now)
            })
        }

        fn last_disinfections(
            &self,
        ) -> Result<Vec<$crate::storage::DisinfectionRecord>, StorageError> {
            self.with_sql(
                "read disinfections",
                $crate::storage::fleet::last_disinfections,
            )
        }

        fn transaction_stats(
            &self,
            group: $crate::storage::StatsGroup,
            range: &$crate::storage::DayRange,
        ) -> Result<Vec<$crate::storage::StatsRow>, StorageError> {
            self.with_sql("transaction statistics", |sql| {
                $crate::storage::fleet::transaction_stats(sql, group, range)
            })
        }

        fn abandonment(
            &self,
            range: &$crate::storage::DayRange,
        ) -> Result<Vec<$crate::storage::AbandonmentRow>, StorageError> {
            self.with_sql("abandonment statistics", |sql| {
                $crate::storage::fleet::abandonment(sql, range)
            })
        }

        fn kiosk_activity(
            &self,
            since: &ServerTime,
            since_day: &str,
        ) -> Result<Vec<$crate::storage::KioskActivity>, StorageError> {
            self.with_sql("kiosk activity", |sql| {
                $crate::storage::fleet::kiosk_activity(sql, since, since_day)
            })
        }

        fn kiosk_connectivity(
            &self,
        ) -> Result<Vec<(String, $crate::storage::Connectivity)>, StorageError> {
            self.with_sql(
                "read kiosk connectivity",
                $crate::storage::rows::kiosk_connectivity,
            )
        }

        fn alarm_counts(
            &self,
        ) -> Result<(std::collections::BTreeMap<String, i64>, i64), StorageError> {
            self.with_sql("count alarms", |sql| {
                Ok((
                    $crate::storage::fleet::open_alarm_counts(sql)?,
                    $crate::storage::fleet::open_ticket_count(sql)?,
                ))
            })
        }
    };
}
pub(crate) use fleet_methods;

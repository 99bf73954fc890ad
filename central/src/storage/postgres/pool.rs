//! The PostgreSQL connection pools: connections that carry their own statement cache, and the
//! two pools a [`super::PostgresStore`] keeps.
//!
//! * **durable**: PostgreSQL's default commit, which waits for the WAL flush. Everything that
//!   must survive a crash once acknowledged — outbox batches, catalogue versions and
//!   publications, enrolment, console changes — runs here.
//! * **relaxed**: sessions opened with `synchronous_commit = off`. Only the kiosk's latest state
//!   (heartbeats) and request nonces are written here: a crash may lose the last fraction of a
//!   second of them, which the next heartbeat puts right (fleet-and-sync reference §5.4), and a
//!   lost nonce is still covered by the request's timestamp window.
//!
//! A separate pool, rather than `SET LOCAL` in chosen transactions, means a path that forgets to
//! choose gets the durable commit, and the relaxed setting costs no round trip.

use r2d2_postgres::PostgresConnectionManager;
use std::collections::HashMap;
use std::time::Duration;

/// Most statements one connection keeps prepared. The service's statements are fixed texts, so
/// this is never reached in practice; it bounds memory should a caller ever build texts.
const MAX_CACHED_STATEMENTS: usize = 512;

/// The prepared statements of one connection, by SQL text.
#[derive(Default)]
pub struct StatementCache {
    statements: HashMap<String, ::postgres::Statement>,
}

impl StatementCache {
    /// The statement prepared for `sql` on this connection, preparing it the first time.
    ///
    /// Prepared statements belong to the session, not to a transaction, so one prepared inside a
    /// transaction that later rolls back stays usable.
    pub fn get_or_prepare(
        &mut self,
        sql: &str,
        prepare: impl FnOnce(&str) -> Result<::postgres::Statement, ::postgres::Error>,
    ) -> Result<::postgres::Statement, ::postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = prepare(sql)?;
        if self.statements.len() >= MAX_CACHED_STATEMENTS {
            self.statements.clear();
        }
        self.statements.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }
}

/// A pooled PostgreSQL session with its statement cache.
pub struct PgConnection {
    pub client: ::postgres::Client,
    pub statements: StatementCache,
}

/// Opens [`PgConnection`]s (the `r2d2_postgres` manager underneath).
pub struct CachingManager(PostgresConnectionManager<::postgres::NoTls>);

impl r2d2::ManageConnection for CachingManager {
    type Connection = PgConnection;
    type Error = ::postgres::Error;

    fn connect(&self) -> Result<PgConnection, ::postgres::Error> {
        Ok(PgConnection {
            client: self.0.connect()?,
            statements: StatementCache::default(),
        })
    }

    fn is_valid(&self, conn: &mut PgConnection) -> Result<(), ::postgres::Error> {
        self.0.is_valid(&mut conn.client)
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        self.0.has_broken(&mut conn.client)
    }
}

pub type Pool = r2d2::Pool<CachingManager>;
pub type Connection = r2d2::PooledConnection<CachingManager>;

/// How a pool's sessions commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// PostgreSQL's default: the commit returns once the WAL is flushed.
    Durable,
    /// `synchronous_commit = off` for the whole session.
    Relaxed,
}

/// Builds a pool of at most `max_size` sessions to the server `config` names.
pub fn build(
    mut config: ::postgres::Config,
    commit: Commit,
    max_size: u32,
    connection_timeout: Duration,
) -> Result<Pool, r2d2::Error> {
    if commit == Commit::Relaxed {
        let options = match config.get_options() {
            Some(given) if !given.trim().is_empty() => format!("{given} -c synchronous_commit=off"),
            _ => "-c synchronous_commit=off".to_string(),
        };
        config.options(&options);
    }
    let manager = CachingManager(PostgresConnectionManager::new(config, ::postgres::NoTls));
    r2d2::Pool::builder()
        .max_size(max_size.max(1))
        .min_idle(Some(1))
        .idle_timeout(Some(Duration::from_secs(300)))
        .connection_timeout(connection_timeout)
        // A connection the server closed is dropped at check-in (`has_broken`); testing each
        // one at check-out would add a round trip to every heartbeat.
        .test_on_check_out(false)
        .build(manager)
}

//! Starting and stopping the service: inside the caller's tokio runtime ([`spawn`]) or on a
//! thread with its own runtime ([`spawn_in_thread`]) for callers that are not async.
//!
//! Each comes in three flavours of storage: the SQLite file of `CentralConfig::database_path`
//! (`spawn`, `spawn_in_thread`), a PostgreSQL database (`spawn_with_postgres`,
//! `spawn_in_thread_with_postgres`; `database_path` is then unused), or a store the caller opened
//! (`spawn_with_storage`, `spawn_in_thread_with_storage`).

use crate::api::{AppState, Credentials, router};
use crate::clock::ServerTime;
use crate::config::{CentralConfig, ConfigError};
use crate::storage::postgres::{PostgresStore, describe_target};
use crate::storage::sqlite::SqliteStore;
use crate::storage::{CentralStorage, StorageError};
use kiosk_protocol::{SealingError, SealingKey};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A kiosk silent for this long (three missed heartbeats) is marked offline.
pub const OFFLINE_AFTER: Duration = Duration::from_secs(90);

/// How often the offline sweep runs.
const OFFLINE_SWEEP_EVERY: Duration = Duration::from_secs(15);

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("sealing key: {0}")]
    SealingKey(#[from] SealingError),
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: SocketAddr, reason: String },
    #[error("cannot start the service thread: {0}")]
    Thread(String),
}

/// The service running in the caller's tokio runtime. Dropping it stops the service without
/// waiting; [`RunningCentral::shutdown`] waits for requests in flight.
pub struct RunningCentral {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

impl RunningCentral {
    /// The address actually bound (the real port when the configuration asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections, lets requests in flight finish, and waits for the server.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        if let Err(error) = self.server.await {
            tracing::error!(%error, "central server task ended abnormally");
        }
        tracing::info!(addr = %self.addr, "central service stopped");
    }
}

/// Where the service keeps its data.
enum StoreSource {
    Sqlite(PathBuf),
    Postgres(String),
    Given(Arc<dyn CentralStorage>),
}

impl StoreSource {
    /// For the log: never a password.
    fn describe(&self) -> String {
        match self {
            StoreSource::Sqlite(path) => format!("sqlite {}", path.display()),
            StoreSource::Postgres(url) => describe_target(url),
            StoreSource::Given(_) => "store given by the caller".into(),
        }
    }

    fn open(self) -> Result<Arc<dyn CentralStorage>, StorageError> {
        Ok(match self {
            StoreSource::Sqlite(path) => Arc::new(SqliteStore::open(&path)?),
            StoreSource::Postgres(url) => Arc::new(PostgresStore::open(&url)?),
            StoreSource::Given(store) => store,
        })
    }
}

/// Opens the SQLite store at `config.database_path` and the sealing key, binds the listener and
/// starts serving in a tokio task.
pub async fn spawn(config: CentralConfig) -> anyhow::Result<RunningCentral> {
    let source = StoreSource::Sqlite(config.database_path.clone());
    Ok(start(config, source).await?)
}

/// [`spawn`] on a PostgreSQL database (`postgresql://user@host:port/db` or `host=… dbname=…`);
/// `config.database_path` is not used. The schema is created or migrated at start.
pub async fn spawn_with_postgres(
    config: CentralConfig,
    postgres_url: &str,
) -> anyhow::Result<RunningCentral> {
    Ok(start(config, StoreSource::Postgres(postgres_url.to_string())).await?)
}

/// [`spawn`] on a store the caller opened (either engine, or another [`CentralStorage`]);
/// `config.database_path` is not used.
pub async fn spawn_with_storage(
    config: CentralConfig,
    store: Arc<dyn CentralStorage>,
) -> anyhow::Result<RunningCentral> {
    Ok(start(config, StoreSource::Given(store)).await?)
}

async fn start(config: CentralConfig, source: StoreSource) -> Result<RunningCentral, StartError> {
    config.validate()?;
    let key_path = config.sealing_key_path.clone();
    let database = source.describe();
    let (store, sealing_key) = tokio::task::spawn_blocking(move || {
        let store = source.open()?;
        let key = SealingKey::load_or_create(&key_path)?;
        Ok::<_, StartError>((store, key))
    })
    .await
    .map_err(|e| StartError::Thread(e.to_string()))??;

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| StartError::Listen {
            addr: config.listen,
            reason: e.to_string(),
        })?;
    let addr = listener.local_addr().map_err(|e| StartError::Listen {
        addr: config.listen,
        reason: e.to_string(),
    })?;

    let state = AppState {
        store: Arc::clone(&store),
        sealing_key: Arc::new(sealing_key),
        credentials: Arc::new(Credentials::new(config.kiosks, config.admin_token)),
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let sweeper = tokio::spawn(sweep_offline_kiosks(store));
        // Dropping the RunningCentral drops the sender, which stops the server too.
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(error) = axum::serve(listener, router(state))
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(%error, "central server failed");
        }
        sweeper.abort();
    });
    tracing::info!(
        %addr,
        %database,
        "central service listening"
    );
    Ok(RunningCentral { addr, stop, server })
}

/// Marks kiosks offline once they miss three heartbeats (DESIGN §8: offline detection from
/// missed heartbeats, never from connection state).
async fn sweep_offline_kiosks(store: Arc<dyn CentralStorage>) {
    let mut ticks = tokio::time::interval(OFFLINE_SWEEP_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let store = Arc::clone(&store);
        let swept = tokio::task::spawn_blocking(move || {
            let now = ServerTime::now();
            let limit = i64::try_from(OFFLINE_AFTER.as_millis()).unwrap_or(i64::MAX);
            let silent_since = ServerTime::from_unix_ms(now.unix_ms.saturating_sub(limit));
            store.mark_silent_kiosks_offline(&silent_since, &now)
        })
        .await;
        match swept {
            Ok(Ok(transitions)) => {
                for t in transitions {
                    tracing::warn!(kiosk_id = %t.kiosk_id, "kiosk missed its heartbeats; offline");
                }
            }
            Ok(Err(error)) => tracing::error!(%error, "offline sweep failed"),
            Err(error) => tracing::error!(%error, "offline sweep task failed"),
        }
    }
}

/// The service running on its own thread and tokio runtime.
pub struct CentralThread {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CentralThread {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, the base URL kiosks are configured with.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the service and waits for its thread to end.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("central service thread panicked");
        }
    }
}

impl Drop for CentralThread {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// Starts the service on the SQLite store at `config.database_path`, on a new thread with its own
/// tokio runtime; returns once it listens.
pub fn spawn_in_thread(config: CentralConfig) -> anyhow::Result<CentralThread> {
    let source = StoreSource::Sqlite(config.database_path.clone());
    start_in_thread(config, source)
}

/// [`spawn_in_thread`] on a PostgreSQL database; `config.database_path` is not used.
pub fn spawn_in_thread_with_postgres(
    config: CentralConfig,
    postgres_url: &str,
) -> anyhow::Result<CentralThread> {
    start_in_thread(config, StoreSource::Postgres(postgres_url.to_string()))
}

/// [`spawn_in_thread`] on a store the caller opened; `config.database_path` is not used.
pub fn spawn_in_thread_with_storage(
    config: CentralConfig,
    store: Arc<dyn CentralStorage>,
) -> anyhow::Result<CentralThread> {
    start_in_thread(config, StoreSource::Given(store))
}

fn start_in_thread(config: CentralConfig, source: StoreSource) -> anyhow::Result<CentralThread> {
    let (started_tx, started_rx) = std::sync::mpsc::channel::<Result<SocketAddr, StartError>>();
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("kiosk-central".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("kiosk-central-worker")
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => {
                    let _ = started_tx.send(Err(StartError::Thread(error.to_string())));
                    return;
                }
            };
            runtime.block_on(async move {
                match start(config, source).await {
                    Ok(running) => {
                        let _ = started_tx.send(Ok(running.addr()));
                        let _ = stopped.await;
                        running.shutdown().await;
                    }
                    Err(error) => {
                        let _ = started_tx.send(Err(error));
                    }
                }
            });
        })
        .map_err(|e| StartError::Thread(e.to_string()))?;
    match started_rx.recv() {
        Ok(Ok(addr)) => Ok(CentralThread {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }),
        Ok(Err(error)) => {
            let _ = thread.join();
            Err(error.into())
        }
        Err(_) => {
            let _ = thread.join();
            Err(StartError::Thread("the service thread ended before it started".into()).into())
        }
    }
}

//! Starting and stopping the service: inside the caller's tokio runtime ([`spawn`]) or on a
//! thread with its own runtime ([`spawn_in_thread`]) for callers that are not async.
//!
//! Each comes in three flavours of storage: the SQLite file of `CentralConfig::database_path`
//! (`spawn`, `spawn_in_thread`), a PostgreSQL database (`spawn_with_postgres`,
//! `spawn_in_thread_with_postgres`; `database_path` is then unused), or a store the caller opened
//! (`spawn_with_storage`, `spawn_in_thread_with_storage`).

use crate::api::{AppState, Credentials, Metrics, router};
use crate::clock::ServerTime;
use crate::config::{CentralConfig, ConfigError};
use crate::identity_verification::IdentityVerifier;
use crate::storage::postgres::{PostgresStore, describe_target};
use crate::storage::sqlite::SqliteStore;
use crate::storage::{CentralStorage, FleetPolicy, StorageError, SweepReport};
use crate::tls::{ServedCertificate, TlsError, TlsFiles, TlsListener};
use axum::serve::ListenerExt;
use kiosk_protocol::catalogue_envelope::SigningKeyFile;
use kiosk_protocol::{SealingError, SealingKey};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A kiosk silent for this long (three missed heartbeats) is marked offline (the default; see
/// [`CentralBuilder::heartbeat_interval`]).
pub const OFFLINE_AFTER: Duration = Duration::from_secs(90);

/// How often the sweep (offline detection, held alarm clears, escalation) runs at most.
const OFFLINE_SWEEP_EVERY: Duration = Duration::from_secs(15);

/// Starts the service with settings beyond [`CentralConfig`]: the storage engine, the heartbeat
/// interval and the other fleet rules ([`FleetPolicy`]).
///
/// ```no_run
/// # fn demo(config: kiosk_central::CentralConfig) -> anyhow::Result<()> {
/// use std::time::Duration;
/// let central = kiosk_central::CentralBuilder::new(config)
///     .heartbeat_interval(Duration::from_secs(60)) // offline after 180 s
///     .spawn_in_thread()?;
/// # Ok(()) }
/// ```
pub struct CentralBuilder {
    config: CentralConfig,
    source: StoreSource,
    policy: FleetPolicy,
    sweep_every: Option<Duration>,
    catalogue_signer: Option<Arc<SigningKeyFile>>,
    identity_verifier: Option<Arc<dyn IdentityVerifier>>,
    tls: Option<TlsFiles>,
    tls_reload_every: Duration,
}

impl CentralBuilder {
    /// SQLite at `config.database_path`, the default policy (30 s heartbeats).
    pub fn new(config: CentralConfig) -> Self {
        Self {
            source: StoreSource::Sqlite(config.database_path.clone()),
            config,
            policy: FleetPolicy::default(),
            sweep_every: None,
            catalogue_signer: None,
            identity_verifier: None,
            tls: None,
            tls_reload_every: TLS_RELOAD_EVERY,
        }
    }

    /// Serves HTTPS with this certificate chain and key instead of plain HTTP (files read at
    /// start; a bad file stops the start with the reason).
    pub fn tls(mut self, files: TlsFiles) -> Self {
        self.tls = Some(files);
        self
    }

    /// How often the TLS files are looked at for a renewal (default 30 s).
    pub fn tls_reload_every(mut self, every: Duration) -> Self {
        self.tls_reload_every = every.max(Duration::from_millis(10));
        self
    }

    /// Runs on a PostgreSQL database instead (`config.database_path` is then unused).
    pub fn postgres(mut self, url: &str) -> Self {
        self.source = StoreSource::Postgres(url.to_string());
        self
    }

    /// Runs on a store the caller opened.
    pub fn storage(mut self, store: Arc<dyn CentralStorage>) -> Self {
        self.source = StoreSource::Given(store);
        self
    }

    /// The interval kiosks are told to keep; a kiosk is offline after three missed ones. Resets
    /// the rest of the policy to its defaults for that interval.
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        let previous = self.policy.clone();
        self.policy = FleetPolicy {
            backlog_alarm_after: previous.backlog_alarm_after,
            flap_window: previous.flap_window,
            flap_hold_after: previous.flap_hold_after,
            escalate_after: previous.escalate_after,
            disinfection_interval: previous.disinfection_interval,
            ..FleetPolicy::with_heartbeat_interval(interval)
        };
        self
    }

    /// All fleet rules at once.
    pub fn policy(mut self, policy: FleetPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// How often the sweep runs (default: every 15 s, or half the heartbeat interval when that
    /// is shorter).
    pub fn sweep_every(mut self, every: Duration) -> Self {
        self.sweep_every = Some(every.max(Duration::from_millis(50)));
        self
    }

    /// The central office's catalogue signing key: catalogues imported over the admin API are
    /// signed with it, and "suspend an item" can sign its new version. Without it, imported
    /// versions stay unsigned until signed with `kiosk-central catalogue sign`.
    pub fn catalogue_signing_key(mut self, key: SigningKeyFile) -> Self {
        self.catalogue_signer = Some(Arc::new(key));
        self
    }

    /// The identity-verification service `POST /api/v1/face/verify` forwards face chips to
    /// (without one the endpoint answers 503).
    pub fn identity_verifier(mut self, verifier: Arc<dyn IdentityVerifier>) -> Self {
        self.identity_verifier = Some(verifier);
        self
    }

    fn options(&self) -> ServiceOptions {
        ServiceOptions {
            catalogue_signer: self.catalogue_signer.clone(),
            identity_verifier: self.identity_verifier.clone(),
            policy: self.policy.clone(),
            sweep_every: self.sweep_every.unwrap_or_else(|| {
                OFFLINE_SWEEP_EVERY
                    .min(self.policy.heartbeat_interval / 2)
                    .max(Duration::from_millis(50))
            }),
            tls: self.tls.clone(),
            tls_reload_every: self.tls_reload_every,
        }
    }

    /// Starts in the caller's tokio runtime.
    pub async fn spawn(self) -> anyhow::Result<RunningCentral> {
        let options = self.options();
        Ok(start(self.config, self.source, options).await?)
    }

    /// Starts on a thread of its own with its own runtime.
    pub fn spawn_in_thread(self) -> anyhow::Result<CentralThread> {
        let options = self.options();
        start_in_thread(self.config, self.source, options)
    }
}

#[derive(Clone)]
struct ServiceOptions {
    catalogue_signer: Option<Arc<SigningKeyFile>>,
    identity_verifier: Option<Arc<dyn IdentityVerifier>>,
    policy: FleetPolicy,
    sweep_every: Duration,
    tls: Option<TlsFiles>,
    tls_reload_every: Duration,
}

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
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// The service running in the caller's tokio runtime. Dropping it stops the service without
/// waiting; [`RunningCentral::shutdown`] waits for requests in flight.
pub struct RunningCentral {
    addr: SocketAddr,
    url: String,
    stop: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

impl RunningCentral {
    /// The address actually bound (the real port when the configuration asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, or `https://ADDR` when serving TLS: the base URL kiosks are configured
    /// with.
    pub fn url(&self) -> String {
        self.url.clone()
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
    CentralBuilder::new(config).spawn().await
}

/// [`spawn`] on a PostgreSQL database (`postgresql://user@host:port/db` or `host=… dbname=…`);
/// `config.database_path` is not used. The schema is created or migrated at start.
pub async fn spawn_with_postgres(
    config: CentralConfig,
    postgres_url: &str,
) -> anyhow::Result<RunningCentral> {
    CentralBuilder::new(config)
        .postgres(postgres_url)
        .spawn()
        .await
}

/// [`spawn`] on a store the caller opened (either engine, or another [`CentralStorage`]);
/// `config.database_path` is not used.
pub async fn spawn_with_storage(
    config: CentralConfig,
    store: Arc<dyn CentralStorage>,
) -> anyhow::Result<RunningCentral> {
    CentralBuilder::new(config).storage(store).spawn().await
}

async fn start(
    config: CentralConfig,
    source: StoreSource,
    options: ServiceOptions,
) -> Result<RunningCentral, StartError> {
    config.validate()?;
    let served_certificate = options
        .tls
        .as_ref()
        .map(ServedCertificate::load)
        .transpose()?;
    let tls = served_certificate
        .as_ref()
        .map(ServedCertificate::server_config)
        .transpose()?;
    let key_path = config.sealing_key_path.clone();
    let database = source.describe();
    let policy = options.policy.clone();
    let (store, sealing_key) = tokio::task::spawn_blocking(move || {
        let store = source.open()?;
        store.set_policy(policy);
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
        credentials: Arc::new(Credentials::new(
            config.kiosks,
            config.admin_token,
            config.accept_bearer_tokens,
        )),
        policy: options.policy.clone(),
        metrics: Arc::new(Metrics::default()),
        catalogue_signer: options.catalogue_signer.clone(),
        identity_verifier: options.identity_verifier.clone(),
        limits: Arc::new(crate::ratelimit::Limits::default()),
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let sweep_every = options.sweep_every;
    let tls_on = tls.is_some();
    let server = tokio::spawn(async move {
        let pruner = tokio::spawn(periodically(
            Arc::clone(&store),
            NONCE_PRUNE_EVERY,
            "pruning request nonces",
            prune_nonces,
            |_| {},
        ));
        let reloader = served_certificate.map(|certificate| {
            tokio::spawn(reload_certificate(certificate, options.tls_reload_every))
        });
        let sweeper = tokio::spawn(periodically(
            store,
            sweep_every,
            "sweep",
            sweep,
            report_sweep,
        ));
        // Dropping the RunningCentral drops the sender, which stops the server too.
        let shutdown = async {
            let _ = stopped.await;
        };
        let app = if tls.is_some() {
            router(state).layer(axum::middleware::map_request(served_over_tls))
        } else {
            router(state)
        };
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        let served = match tls {
            None => {
                axum::serve(listener, service)
                    .with_graceful_shutdown(shutdown)
                    .await
            }
            Some(tls) => match TlsListener::new(listener, tls) {
                Ok(listener) => {
                    let listener = listener.tap_io(|tls| {
                        let _ = tls.get_ref().0.set_nodelay(true);
                    });
                    axum::serve(listener, service)
                        .with_graceful_shutdown(shutdown)
                        .await
                }
                Err(error) => Err(error),
            },
        };
        if let Err(error) = served {
            tracing::error!(%error, "central server failed");
        }
        sweeper.abort();
        pruner.abort();
        if let Some(reloader) = reloader {
            reloader.abort();
        }
    });
    let url = format!("{}://{addr}", if tls_on { "https" } else { "http" });
    tracing::info!(%addr, %url, %database, "central service listening");
    Ok(RunningCentral {
        addr,
        url,
        stop,
        server,
    })
}

/// Looks at the certificate files every `every` and serves a renewal once it loads.
async fn reload_certificate(certificate: Arc<ServedCertificate>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let certificate = Arc::clone(&certificate);
        let _ = tokio::task::spawn_blocking(move || certificate.reload_if_changed()).await;
    }
}

/// Requests the centre decrypted itself say so as a TLS proxy would (`X-Forwarded-Proto:
/// https`, replacing whatever the client sent), so the console marks its cookies `Secure`.
async fn served_over_tls(mut request: axum::extract::Request) -> axum::extract::Request {
    request.headers_mut().insert(
        "x-forwarded-proto",
        axum::http::HeaderValue::from_static("https"),
    );
    request
}

/// How often the certificate files are looked at for a renewal.
const TLS_RELOAD_EVERY: Duration = Duration::from_secs(30);

/// How often old request nonces are forgotten, and the most at a time: pruning every second
/// keeps each delete small (a few hundred rows at a province's request rate) instead of one
/// burst per sweep that other requests would wait behind; the batch is above any request rate.
const NONCE_PRUNE_EVERY: Duration = Duration::from_secs(1);
const NONCE_PRUNE_BATCH: u64 = 5_000;

/// A sweep taking this long is logged (it runs beside the kiosks' requests).
const SLOW_SWEEP: Duration = Duration::from_millis(250);

/// Runs `job` on the blocking pool every `every` (a late tick is not made up) and hands what it
/// did to `report`; a failure is logged as `what` failed.
async fn periodically<T: Send + 'static>(
    store: Arc<dyn CentralStorage>,
    every: Duration,
    what: &'static str,
    job: fn(&dyn CentralStorage) -> Result<T, StorageError>,
    report: fn(T),
) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let store = Arc::clone(&store);
        match tokio::task::spawn_blocking(move || job(store.as_ref())).await {
            Ok(Ok(done)) => report(done),
            Ok(Err(error)) => tracing::error!(%error, "{what} failed"),
            Err(error) => tracing::error!(%error, "{what} task failed"),
        }
    }
}

/// Forgets request nonces older than the replay window, a bounded batch at a time.
fn prune_nonces(store: &dyn CentralStorage) -> Result<u64, StorageError> {
    let before = ServerTime::now().unix_ms - crate::api::NONCE_KEEP_MS;
    store.prune_nonces(before, NONCE_PRUNE_BATCH)
}

/// The periodic sweep: marks kiosks offline once they miss three heartbeats (DESIGN §8: offline
/// detection from missed heartbeats, never from connection state), completes held alarm clears
/// and escalates long-open alarms to tickets; also forgets expired console sessions.
fn sweep(store: &dyn CentralStorage) -> Result<(SweepReport, Duration), StorageError> {
    let now = ServerTime::now();
    let started = std::time::Instant::now();
    if let Err(error) = store.prune_console_sessions(now.unix_ms, crate::console::SESSION_IDLE_MS) {
        tracing::error!(%error, "pruning console sessions failed");
    }
    store.sweep(&now).map(|report| (report, started.elapsed()))
}

fn report_sweep((report, took): (SweepReport, Duration)) {
    if took >= SLOW_SWEEP {
        tracing::warn!(
            took_ms = took.as_millis() as u64,
            went_offline = report.went_offline.len(),
            escalated = report.escalated.len(),
            "sweep was slow"
        );
    }
    for kiosk_id in &report.went_offline {
        tracing::warn!(%kiosk_id, "kiosk missed its heartbeats; offline");
    }
    for ticket in &report.escalated {
        tracing::warn!(ticket, "long-open alarm escalated to a fault ticket");
    }
    for alarm in &report.cleared_alarms {
        tracing::info!(alarm, "flapping alarm stayed resolved; cleared");
    }
}

/// The service running on its own thread and tokio runtime.
pub struct CentralThread {
    addr: SocketAddr,
    url: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CentralThread {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` (or `https://ADDR`), the base URL kiosks are configured with.
    pub fn url(&self) -> String {
        self.url.clone()
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
    CentralBuilder::new(config).spawn_in_thread()
}

/// [`spawn_in_thread`] on a PostgreSQL database; `config.database_path` is not used.
pub fn spawn_in_thread_with_postgres(
    config: CentralConfig,
    postgres_url: &str,
) -> anyhow::Result<CentralThread> {
    CentralBuilder::new(config)
        .postgres(postgres_url)
        .spawn_in_thread()
}

/// [`spawn_in_thread`] on a store the caller opened; `config.database_path` is not used.
pub fn spawn_in_thread_with_storage(
    config: CentralConfig,
    store: Arc<dyn CentralStorage>,
) -> anyhow::Result<CentralThread> {
    CentralBuilder::new(config).storage(store).spawn_in_thread()
}

fn start_in_thread(
    config: CentralConfig,
    source: StoreSource,
    options: ServiceOptions,
) -> anyhow::Result<CentralThread> {
    let (started_tx, started_rx) =
        std::sync::mpsc::channel::<Result<(SocketAddr, String), StartError>>();
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
                match start(config, source, options).await {
                    Ok(running) => {
                        let _ = started_tx.send(Ok((running.addr(), running.url())));
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
        Ok(Ok((addr, url))) => Ok(CentralThread {
            addr,
            url,
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

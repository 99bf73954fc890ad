//! `kiosk-central` command line: `kiosk-central serve (--db PATH | --postgres URL) --listen ADDR
//! --kiosk ID …`, kiosk identity (`kiosk-central kiosk enrol-code|revoke|list`), console users
//! (`kiosk-central user add|list|disable|enable|password`), and catalogue management on the store directly: `kiosk-central catalogue
//! keygen|import|sign|publish|suspend|group|list|export …`, `kiosk-central export`.

use anyhow::Context;
use clap::{Parser, Subcommand};
use kiosk_central::{CentralConfig, KioskCredential};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

mod cli_catalogue;
mod cli_kiosk;
mod cli_user;
use cli_catalogue::{CatalogueCommand, ExportArgs};
use cli_kiosk::KioskCommand;
use cli_user::UserCommand;

#[derive(Parser)]
#[command(
    name = "kiosk-central",
    version,
    about = "Central service of the e政务 kiosk fleet"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the kiosk API (outbox, heartbeat) and the admin read API.
    Serve(ServeArgs),
    /// Catalogue management: keys, import, sign, publish, suspend, groups, change log, export.
    #[command(subcommand)]
    Catalogue(CatalogueCommand),
    /// Kiosk identity: one-time enrolment codes, revocation, enrolled kiosks.
    #[command(subcommand)]
    Kiosk(KioskCommand),
    /// Console users: add (password from stdin or a file), list, disable, enable, password.
    #[command(subcommand)]
    User(UserCommand),
    /// Write the current catalogue file (same as `catalogue export`).
    Export(ExportArgs),
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("storage").required(true).args(["db", "postgres"])))]
struct ServeArgs {
    /// SQLite database file (created when missing): the embedded engine.
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// PostgreSQL connection string instead of --db, e.g.
    /// postgresql://central@127.0.0.1:5432/central or "host=/run/postgresql dbname=central"
    /// (no TLS: loopback or unix socket). The schema is created or migrated at start.
    #[arg(
        long,
        value_name = "URL",
        env = "KIOSK_CENTRAL_POSTGRES_URL",
        hide_env_values = true
    )]
    postgres: Option<String>,
    /// Address to listen on, e.g. 0.0.0.0:8080 (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// A kiosk of the fleet (`ID`, or `ID=TOKEN` for a legacy bearer token used only with
    /// --accept-bearer-tokens); repeat for every kiosk. Kiosks authenticate by signing their
    /// requests with the key they enrolled (`kiosk enrol-code`).
    #[arg(long = "kiosk", value_name = "ID[=TOKEN]", value_parser = parse_kiosk)]
    kiosks: Vec<KioskCredential>,
    /// Also accept `Authorization: Bearer <kiosk token>` (the `--kiosk ID=TOKEN` tokens) on the
    /// kiosk API, for kiosks not yet enrolled. Off by default.
    #[arg(long)]
    accept_bearer_tokens: bool,
    /// Bearer token for the admin read API.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "KIOSK_CENTRAL_ADMIN_TOKEN",
        hide_env_values = true
    )]
    admin_token: String,
    /// Key file for personal data at rest (64 hex characters; created when missing).
    #[arg(long, value_name = "PATH")]
    key_file: PathBuf,
    /// Serve HTTPS with this certificate chain (PEM, leaf first); needs --tls-key. Without it
    /// the service speaks plain HTTP (behind a TLS-terminating proxy, or the demo on loopback).
    #[arg(long, value_name = "PATH", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "PATH", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Heartbeat interval kiosks are told to keep; offline after three missed ones.
    #[arg(long, value_name = "SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    heartbeat_interval_s: u64,
    /// Alarms open this long are escalated to fault tickets.
    #[arg(long, value_name = "MINUTES", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    escalate_after_min: u64,
    /// A kiosk should be disinfected at least this often (overdue list).
    #[arg(long, value_name = "HOURS", default_value_t = 24,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    disinfection_interval_h: u64,
    /// The central office's catalogue signing key (see `catalogue keygen`): catalogues imported
    /// over the admin API are signed with it, and suspending an item needs it.
    #[arg(long, value_name = "PATH")]
    catalogue_key: Option<PathBuf>,
    /// Remote face verification (`POST /api/v1/face/verify`): `none` (the endpoint answers 503;
    /// kiosks offer the other ways to confirm identity) or `scripted:FILE`, the scripted test
    /// double answering per ID reference from FILE (demos and tests, never production).
    #[arg(long, value_name = "none|scripted:FILE", default_value = "none",
          value_parser = parse_face_verifier)]
    face_verifier: FaceVerifierChoice,
}

/// The `--face-verifier` setting.
#[derive(Debug, Clone)]
enum FaceVerifierChoice {
    None,
    Scripted(PathBuf),
}

fn parse_face_verifier(text: &str) -> Result<FaceVerifierChoice, String> {
    match text.split_once(':') {
        None if text == "none" => Ok(FaceVerifierChoice::None),
        Some(("scripted", path)) if !path.is_empty() => {
            Ok(FaceVerifierChoice::Scripted(PathBuf::from(path)))
        }
        _ => Err("expected `none` or `scripted:FILE`".into()),
    }
}

fn parse_kiosk(text: &str) -> Result<KioskCredential, String> {
    text.parse()
        .map_err(|e: kiosk_central::ConfigError| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The catalogue commands print one line; the log only speaks up for problems.
    init_logging(if matches!(cli.command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    });
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Catalogue(command) => return cli_catalogue::run(command),
        Command::Kiosk(command) => return cli_kiosk::run(command),
        Command::User(command) => return cli_user::run(command),
        Command::Export(args) => return cli_catalogue::run(CatalogueCommand::Export(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("kiosk-central: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let postgres = args.postgres;
    let catalogue_key = args.catalogue_key;
    let tls = args
        .tls_cert
        .zip(args.tls_key)
        .map(|(cert_chain, private_key)| kiosk_central::tls::TlsFiles {
            cert_chain,
            private_key,
        });
    let face_verifier = match &args.face_verifier {
        FaceVerifierChoice::None => None,
        FaceVerifierChoice::Scripted(path) => {
            let verifier = kiosk_central::identity_verification::ScriptedVerifier::from_file(path)?;
            tracing::warn!(
                script = %path.display(),
                "remote face verification answered by the scripted test double (not for production)"
            );
            Some(std::sync::Arc::new(verifier))
        }
    };
    let policy = kiosk_central::FleetPolicy {
        escalate_after: Duration::from_secs(args.escalate_after_min * 60),
        disinfection_interval: Duration::from_secs(args.disinfection_interval_h * 3600),
        ..kiosk_central::FleetPolicy::with_heartbeat_interval(Duration::from_secs(
            args.heartbeat_interval_s,
        ))
    };
    let config = CentralConfig {
        // Unused on PostgreSQL.
        database_path: args.db.unwrap_or_default(),
        listen: args.listen,
        kiosks: args.kiosks,
        admin_token: args.admin_token,
        sealing_key_path: args.key_file,
        accept_bearer_tokens: args.accept_bearer_tokens,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        // Listen for stop signals before the service announces itself, so that a SIGTERM sent
        // as soon as it is up stops it cleanly instead of killing it.
        let stop_signal = StopSignal::install()?;
        let mut builder = kiosk_central::CentralBuilder::new(config).policy(policy);
        if let Some(verifier) = face_verifier {
            builder = builder.identity_verifier(verifier);
        }
        if let Some(files) = tls {
            builder = builder.tls(files);
        }
        if let Some(path) = &catalogue_key {
            builder = builder.catalogue_signing_key(
                kiosk_protocol::SigningKeyFile::load(path)
                    .context("cannot read the catalogue signing key")?,
            );
        }
        let central = match &postgres {
            Some(url) => builder.postgres(url).spawn().await?,
            None => builder.spawn().await?,
        };
        stop_signal.wait().await?;
        tracing::info!("stop signal received; shutting down");
        central.shutdown().await;
        Ok(())
    })
}

/// Ctrl-C or, on Unix, SIGTERM (what systemd sends).
struct StopSignal {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl StopSignal {
    fn install() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                terminate: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
                interrupt: signal(SignalKind::interrupt()).context("cannot listen for Ctrl-C")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    #[cfg(unix)]
    async fn wait(mut self) -> anyhow::Result<()> {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        Ok(())
    }

    #[cfg(not(unix))]
    async fn wait(self) -> anyhow::Result<()> {
        tokio::signal::ctrl_c()
            .await
            .context("cannot listen for Ctrl-C")
    }
}

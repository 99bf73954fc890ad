//! `kiosk-central catalogue …` and `kiosk-central export`: catalogue management on the store
//! directly (`--db PATH` or `--postgres URL`, as `serve`), for the central office's operators
//! and its signing host. Errors are one line on stderr; bad input (a file that cannot be read,
//! a catalogue the parser refuses, a version not newer, an unknown version, a bad key file)
//! exits 2, a store that cannot be reached exits 1.

use kiosk_central::catalogue::{self, CatalogueActionError};
use kiosk_central::clock::ServerTime;
use kiosk_central::{CatalogueRefusal, CentralStorage, PostgresStore, SqliteStore};
use kiosk_protocol::SigningKeyFile;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum CatalogueCommand {
    /// Make a signing key: DIR/catalogue-signing.key (secret, 0600; never overwritten) and
    /// DIR/catalogue-verifying.keys (public; the line is appended, so it can hold several keys
    /// for rotation). Copy the verifying-keys file to the kiosks.
    Keygen {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Key id (letters, digits, '.', '_', '-'); default `central-<UTC YYYYMMDDhhmmss>`.
        #[arg(long, value_name = "ID")]
        key_id: Option<String>,
    },
    /// Import a catalogue file as a new version (its own `version` must be above every stored
    /// one); signed when --key is given.
    Import {
        file: PathBuf,
        /// Change log entry.
        #[arg(long, value_name = "TEXT")]
        note: String,
        #[arg(long, value_name = "NAME", default_value = "cli")]
        by: String,
        /// Signing key file to sign with at import.
        #[arg(long, value_name = "KEYFILE")]
        key: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Sign (or re-sign with another key) a stored version.
    Sign {
        version: u32,
        #[arg(long, value_name = "KEYFILE")]
        key: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Publish a signed version to every kiosk, or to one group.
    Publish {
        version: u32,
        #[arg(long, value_name = "GROUP")]
        group: Option<String>,
        #[arg(long, value_name = "NAME", default_value = "cli")]
        by: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Suspend an item everywhere: a new signed version without it, published to every kiosk.
    Suspend {
        item_code: String,
        #[arg(long, value_name = "TEXT")]
        note: String,
        #[arg(long, value_name = "KEYFILE")]
        key: PathBuf,
        #[arg(long, value_name = "NAME", default_value = "cli")]
        by: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Put a kiosk in a group (without GROUP: in none).
    Group {
        kiosk_id: String,
        group: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// The change log and the publications.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Write a catalogue file.
    Export(ExportArgs),
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// Where to write (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Which version; default the current one: the highest published, else the latest stored.
    #[arg(long, value_name = "N")]
    version: Option<u32>,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("storage").required(true).args(["db", "postgres"])))]
pub struct StoreArgs {
    /// SQLite database file of the central service.
    #[arg(long, value_name = "PATH")]
    pub(crate) db: Option<PathBuf>,
    /// PostgreSQL connection string instead of --db.
    #[arg(
        long,
        value_name = "URL",
        env = "KIOSK_CENTRAL_POSTGRES_URL",
        hide_env_values = true
    )]
    pub(crate) postgres: Option<String>,
}

/// A failure: bad input (exit 2) or anything else (exit 1).
pub(crate) enum Fail {
    Input(String),
    Other(String),
}

impl From<CatalogueActionError> for Fail {
    fn from(error: CatalogueActionError) -> Self {
        match error {
            CatalogueActionError::Storage(e) => Fail::Other(e.to_string()),
            other => Fail::Input(other.to_string()),
        }
    }
}

impl From<kiosk_central::StorageError> for Fail {
    fn from(error: kiosk_central::StorageError) -> Self {
        Fail::Other(error.to_string())
    }
}

pub fn run(command: CatalogueCommand) -> ExitCode {
    exit_code(execute(command))
}

/// A command's exit code, its failure printed as one line on stderr.
pub(crate) fn exit_code(result: Result<(), Fail>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail::Input(message)) => {
            eprintln!("kiosk-central: error: {}", one_line(&message));
            ExitCode::from(2)
        }
        Err(Fail::Other(message)) => {
            eprintln!("kiosk-central: error: {}", one_line(&message));
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn open(args: &StoreArgs) -> Result<Box<dyn CentralStorage>, Fail> {
    match (&args.db, &args.postgres) {
        (Some(path), _) => Ok(Box::new(SqliteStore::open(path)?)),
        (None, Some(url)) => Ok(Box::new(PostgresStore::open(url)?)),
        (None, None) => Err(Fail::Input("give --db PATH or --postgres URL".into())),
    }
}

fn load_key(path: &Path) -> Result<SigningKeyFile, Fail> {
    SigningKeyFile::load(path).map_err(|e| Fail::Input(e.to_string()))
}

fn execute(command: CatalogueCommand) -> Result<(), Fail> {
    let now = ServerTime::now();
    match command {
        CatalogueCommand::Keygen { out, key_id } => keygen(&out, key_id, &now),
        CatalogueCommand::Import {
            file,
            note,
            by,
            key,
            store,
        } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Fail::Input(format!("cannot read {}: {e}", file.display())))?;
            let signer = key.as_deref().map(load_key).transpose()?;
            let store = open(&store)?;
            let info = catalogue::import(store.as_ref(), &text, &note, &by, signer.as_ref(), &now)?;
            println!(
                "imported catalogue version {} ({} items, {})",
                info.version,
                info.item_count,
                match &info.key_id {
                    Some(id) => format!("signed with {id}"),
                    None => "unsigned: sign it before publishing".into(),
                }
            );
            Ok(())
        }
        CatalogueCommand::Sign {
            version,
            key,
            store,
        } => {
            let signer = load_key(&key)?;
            let store = open(&store)?;
            catalogue::sign(store.as_ref(), version, &signer, &now)?;
            println!(
                "catalogue version {version} signed with {}",
                signer.key_id()
            );
            Ok(())
        }
        CatalogueCommand::Publish {
            version,
            group,
            by,
            store,
        } => {
            let store = open(&store)?;
            let p = catalogue::publish(store.as_ref(), version, group.as_deref(), &by, &now)?;
            println!(
                "catalogue version {} published to {}",
                p.version,
                p.target_group
                    .map_or("every kiosk".to_string(), |g| format!("group {g}"))
            );
            Ok(())
        }
        CatalogueCommand::Suspend {
            item_code,
            note,
            key,
            by,
            store,
        } => {
            let signer = load_key(&key)?;
            let store = open(&store)?;
            let s = catalogue::suspend_item(
                store.as_ref(),
                &item_code,
                &note,
                &by,
                Some(&signer),
                &now,
            )?;
            println!(
                "item {} suspended: catalogue version {} (from {}) published to every kiosk",
                s.item_code, s.version.version, s.based_on
            );
            Ok(())
        }
        CatalogueCommand::Group {
            kiosk_id,
            group,
            store,
        } => {
            if let Some(group) = &group {
                catalogue::check_group(group)?;
            }
            let store = open(&store)?;
            store.set_kiosk_group(&kiosk_id, group.as_deref(), &now)?;
            println!(
                "kiosk {kiosk_id}: {}",
                group.map_or("in no group".to_string(), |g| format!("in group {g}"))
            );
            Ok(())
        }
        CatalogueCommand::List { store } => {
            let store = open(&store)?;
            for v in store.catalogue_versions()? {
                println!(
                    "version {}\t{} items\t{}\t{} by {}\t{}",
                    v.version,
                    v.item_count,
                    v.key_id.as_deref().unwrap_or("unsigned"),
                    v.created_at,
                    v.created_by,
                    one_line(&v.note)
                );
            }
            for p in store.catalogue_publications()? {
                println!(
                    "published version {} to {} at {} by {}",
                    p.version,
                    p.target_group.as_deref().unwrap_or("all"),
                    p.published_at,
                    p.published_by
                );
            }
            Ok(())
        }
        CatalogueCommand::Export(args) => export(args),
    }
}

fn export(args: ExportArgs) -> Result<(), Fail> {
    let store = open(&args.store)?;
    let version = match args.version {
        Some(v) => v,
        None => store
            .catalogue_publications()?
            .iter()
            .map(|p| p.version)
            .max()
            .or(store.latest_catalogue_version()?)
            .ok_or_else(|| Fail::Input("no catalogue version is stored".into()))?,
    };
    let stored = store
        .catalogue_version(version)?
        .ok_or_else(|| Fail::Input(CatalogueRefusal::UnknownVersion(version).to_string()))?;
    if args.out.as_os_str() == "-" {
        print!("{}", stored.catalogue);
    } else {
        std::fs::write(&args.out, &stored.catalogue)
            .map_err(|e| Fail::Input(format!("cannot write {}: {e}", args.out.display())))?;
        eprintln!(
            "catalogue version {version} written to {}",
            args.out.display()
        );
    }
    Ok(())
}

fn keygen(out: &Path, key_id: Option<String>, now: &ServerTime) -> Result<(), Fail> {
    let key_id = key_id.unwrap_or_else(|| {
        let stamp: String = now
            .rfc3339
            .chars()
            .take(19)
            .filter(char::is_ascii_digit)
            .collect();
        format!("central-{stamp}")
    });
    let key = SigningKeyFile::generate(&key_id).map_err(|e| Fail::Input(e.to_string()))?;
    std::fs::create_dir_all(out)
        .map_err(|e| Fail::Input(format!("cannot create {}: {e}", out.display())))?;
    let secret_path = out.join("catalogue-signing.key");
    let public_path = out.join("catalogue-verifying.keys");
    write_secret(&secret_path, &key.to_file_text())?;
    let mut public = std::fs::read_to_string(&public_path).unwrap_or_else(|_| {
        "# kiosk catalogue verifying keys: <key_id> ed25519 <public key, 64 hex>\n".into()
    });
    if !public.ends_with('\n') {
        public.push('\n');
    }
    public.push_str(&key.verifying_key_line());
    public.push('\n');
    std::fs::write(&public_path, public)
        .map_err(|e| Fail::Input(format!("cannot write {}: {e}", public_path.display())))?;
    println!(
        "key {} written: {} (secret), {} (public: {})",
        key.key_id(),
        secret_path.display(),
        public_path.display(),
        key.public_key_hex()
    );
    Ok(())
}

fn write_secret(path: &Path, text: &str) -> Result<(), Fail> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        Fail::Input(if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!(
                "{} already exists; not overwriting a signing key",
                path.display()
            )
        } else {
            format!("cannot create {}: {e}", path.display())
        })
    })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Fail::Other(format!("cannot write {}: {e}", path.display())))
}

//! The real central service (`kiosk-central`) on loopback, and what the tests read from it.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use std::sync::{Arc, OnceLock};

use kiosk_central::clock::ServerTime;
use kiosk_central::{CentralConfig, CentralStorage, CentralStore, CentralThread, KioskCredential};
use kiosk_protocol::request_signing::KioskKey;
use kiosk_protocol::wire::{TransactionListing, paths};
use kiosk_services::sync::{CentralClient, CentralEndpoint, KioskIdentity};

use super::ScratchDir;

pub const KIOSK_ID: &str = "K-0001";
/// The test kiosk's secret key (fixed, so a restarted centre on the same database knows it).
const KIOSK_SECRET: [u8; 32] = [0x42; 32];
pub const ADMIN_TOKEN: &str = "admin-token";

pub fn central_db(dir: &ScratchDir) -> std::path::PathBuf {
    dir.path("central.db")
}

/// The centre's configuration: its database and sealing key in `dir`, listening on `listen`
/// (port 0: any), the test kiosk known, signed requests only.
pub fn central_config(dir: &ScratchDir, listen: SocketAddr) -> CentralConfig {
    CentralConfig {
        database_path: central_db(dir),
        listen,
        kiosks: vec![KioskCredential {
            kiosk_id: KIOSK_ID.into(),
            token: String::new(),
        }],
        admin_token: ADMIN_TOKEN.into(),
        sealing_key_path: dir.path("central.key"),
        accept_bearer_tokens: false,
    }
}

/// Starts the centre with its database in `dir`, listening on `listen` (port 0: any).
pub fn start_central(dir: &ScratchDir, listen: SocketAddr) -> CentralThread {
    let central = kiosk_central::spawn_in_thread(central_config(dir, listen))
        .expect("central service starts");
    enrol_test_kiosk(&central_db(dir));
    central
}

/// Enrols the test kiosk's key in the centre's store, as `POST /api/v1/enrol` would with an
/// operator's code (the HTTP enrolment itself is tested in `signed_sync.rs`).
pub fn enrol_test_kiosk(db: &Path) {
    let store = CentralStore::open(db).expect("open the centre's database");
    let now = ServerTime::now();
    let issued = kiosk_central::identity::issue_code(
        &store,
        KIOSK_ID,
        Duration::from_secs(60),
        "test",
        &now,
    )
    .expect("code");
    store
        .enrol_kiosk(
            KIOSK_ID,
            &kiosk_central::identity::code_hash(&issued.code),
            &KioskKey::from_secret(KIOSK_SECRET).public_key_hex(),
            &now,
        )
        .expect("store")
        .expect("enrolled");
}

/// The test kiosk's identity, from a key file written once per test process.
pub fn test_identity() -> Arc<KioskIdentity> {
    static IDENTITY: OnceLock<Arc<KioskIdentity>> = OnceLock::new();
    Arc::clone(IDENTITY.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("kiosk-services-id-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("key folder");
        let path = dir.join("kiosk-identity.key");
        let text = format!(
            "kiosk_id = {KIOSK_ID}\ned25519_secret = {}\n",
            KioskKey::from_secret(KIOSK_SECRET).secret_hex()
        );
        std::fs::write(&path, text).expect("key file");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        Arc::new(KioskIdentity::load_or_create(&path, KIOSK_ID, None).expect("identity"))
    }))
}

pub fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A client for this kiosk at `base_url`: every request signed with its key.
pub fn kiosk_client(base_url: &str) -> CentralClient {
    let mut endpoint = CentralEndpoint::signed(base_url, test_identity());
    endpoint.request_timeout = Duration::from_secs(10);
    CentralClient::new(endpoint)
}

/// `GET /api/v1/transactions` with the admin token.
pub fn listing(central_url: &str) -> Vec<TransactionListing> {
    let mut response = ureq::get(&format!("{central_url}{}", paths::TRANSACTIONS))
        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
        .call()
        .expect("listing request");
    response.body_mut().read_json().expect("listing JSON")
}

/// Events the centre has stored for the test kiosk, read from its database.
pub fn stored_event_count(db: &Path) -> u64 {
    CentralStore::open(db)
        .expect("open the centre's database")
        .count_events(KIOSK_ID)
        .expect("count events")
}

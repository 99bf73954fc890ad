//! The real central service (`kiosk-central`) on loopback, and what the tests read from it.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use kiosk_central::{CentralConfig, CentralStore, CentralThread, KioskCredential};
use kiosk_protocol::wire::{TransactionListing, paths};
use kiosk_services::sync::{CentralClient, CentralEndpoint};

use super::ScratchDir;

pub const KIOSK_ID: &str = "K-0001";
pub const KIOSK_TOKEN: &str = "kiosk-token-K-0001";
pub const ADMIN_TOKEN: &str = "admin-token";

pub fn central_db(dir: &ScratchDir) -> std::path::PathBuf {
    dir.path("central.db")
}

/// Starts the centre with its database in `dir`, listening on `listen` (port 0: any).
pub fn start_central(dir: &ScratchDir, listen: SocketAddr) -> CentralThread {
    kiosk_central::spawn_in_thread(CentralConfig {
        database_path: central_db(dir),
        listen,
        kiosks: vec![KioskCredential {
            kiosk_id: KIOSK_ID.into(),
            token: KIOSK_TOKEN.into(),
        }],
        admin_token: ADMIN_TOKEN.into(),
        sealing_key_path: dir.path("central.key"),
    })
    .expect("central service starts")
}

pub fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A client for this kiosk's credentials at `base_url`.
pub fn kiosk_client(base_url: &str) -> CentralClient {
    let mut endpoint = CentralEndpoint::new(base_url, KIOSK_ID, KIOSK_TOKEN);
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

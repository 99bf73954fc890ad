//! Enrolment and signed requests against the real centre (issue 7 item 1): a kiosk with a new
//! key file and a one-time code enrols on its first request, then the uploader and the
//! heartbeat sender work signed; a code the centre refuses leaves requests refused; after a
//! revocation the centre answers 403 until a new code re-enrols the same key.

mod support;

use std::sync::Arc;
use std::time::Duration;

use kiosk_central::clock::ServerTime;
use kiosk_central::{CentralStorage, CentralStore};
use kiosk_protocol::SealingKey;
use kiosk_services::KioskStore;
use kiosk_services::sync::{
    CentralClient, CentralEndpoint, HeartbeatConfig, HeartbeatSender, KioskIdentity, KioskSnapshot,
    OutboxDrainer, PostError,
};
use support::central::{KIOSK_ID, any_port, central_db, start_central, stored_event_count};
use support::{ScratchDir, eventually, transaction};

fn issue_code(db: &std::path::Path) -> String {
    let store = CentralStore::open(db).unwrap();
    kiosk_central::identity::issue_code(
        &store,
        KIOSK_ID,
        Duration::from_secs(600),
        "test",
        &ServerTime::now(),
    )
    .unwrap()
    .code
}

fn client(url: &str, identity: &Arc<KioskIdentity>) -> CentralClient {
    let mut endpoint = CentralEndpoint::signed(url, Arc::clone(identity));
    endpoint.request_timeout = Duration::from_secs(10);
    CentralClient::new(endpoint)
}

#[test]
fn a_new_kiosk_enrols_with_its_code_then_uploads_and_heartbeats_signed() {
    let dir = ScratchDir::new("signed-sync");
    let central = start_central(&dir, any_port());
    let code = issue_code(&central_db(&dir));
    let key_file = dir.path("identity/kiosk.key");
    let identity =
        Arc::new(KioskIdentity::load_or_create(&key_file, KIOSK_ID, Some(code.clone())).unwrap());
    assert!(!identity.is_enrolled());

    let store = Arc::new(KioskStore::open(&dir.path("k.db"), SealingKey::generate()).unwrap());
    store.commit_transaction(&transaction("T-1"), None).unwrap();
    let report = OutboxDrainer::new(client(&central.url(), &identity), 100)
        .drain(&store)
        .expect("signed upload accepted");
    assert_eq!(report.synced, 1);
    assert!(identity.is_enrolled());
    assert_eq!(stored_event_count(&central_db(&dir)), 1);
    let public = CentralStore::open(&central_db(&dir))
        .unwrap()
        .kiosk_key(KIOSK_ID)
        .unwrap()
        .unwrap()
        .public_key;
    assert_eq!(public, identity.public_key_hex());

    // The enrolment is remembered in the key file: the same code is not sent again.
    let reloaded = KioskIdentity::load_or_create(&key_file, KIOSK_ID, Some(code)).unwrap();
    assert!(reloaded.is_enrolled());

    let heartbeat = HeartbeatSender::spawn(
        Arc::clone(&store),
        client(&central.url(), &identity),
        KioskSnapshot::default,
        HeartbeatConfig {
            interval: Duration::from_secs(30),
            software_version: "1.2.3".into(),
        },
    )
    .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || heartbeat
            .status()
            .last_success_at
            .is_some()),
        "signed heartbeat accepted: {:?}",
        heartbeat.status().last_error
    );
    drop(heartbeat);
    let state = CentralStore::open(&central_db(&dir))
        .unwrap()
        .kiosk_state(KIOSK_ID)
        .unwrap();
    assert!(state.is_some());
    central.shutdown();
}

#[test]
fn a_refused_code_and_a_revocation_leave_requests_refused_until_a_new_code() {
    let dir = ScratchDir::new("signed-revoke");
    let central = start_central(&dir, any_port());
    let db = central_db(&dir);
    let store = Arc::new(KioskStore::open(&dir.path("k.db"), SealingKey::generate()).unwrap());
    store.commit_transaction(&transaction("T-1"), None).unwrap();

    // A wrong code: enrolment refused, the request refused (not enrolled).
    let key_file = dir.path("kiosk.key");
    let wrong = Arc::new(
        KioskIdentity::load_or_create(&key_file, KIOSK_ID, Some("NOT-A-CODE".into())).unwrap(),
    );
    let failure = OutboxDrainer::new(client(&central.url(), &wrong), 100)
        .drain(&store)
        .unwrap_err();
    assert!(!wrong.is_enrolled());
    assert!(format!("{failure:?}").contains("401"), "{failure:?}");

    // The right code for the same key file.
    let identity = Arc::new(
        KioskIdentity::load_or_create(&key_file, KIOSK_ID, Some(issue_code(&db))).unwrap(),
    );
    let c = client(&central.url(), &identity);
    OutboxDrainer::new(c.clone(), 100)
        .drain(&store)
        .expect("enrolled");

    // Revoked: 403.
    let central_store = CentralStore::open(&db).unwrap();
    kiosk_central::identity::revoke(&central_store, KIOSK_ID, "test", &ServerTime::now()).unwrap();
    store.commit_transaction(&transaction("T-2"), None).unwrap();
    match c.get_desired_catalogue() {
        Err(PostError::Status { status: 403, .. }) => {}
        other => panic!("expected 403, got {other:?}"),
    }

    // A new code re-enrols the same key.
    let again = Arc::new(
        KioskIdentity::load_or_create(&key_file, KIOSK_ID, Some(issue_code(&db))).unwrap(),
    );
    assert_eq!(again.public_key_hex(), identity.public_key_hex());
    OutboxDrainer::new(client(&central.url(), &again), 100)
        .drain(&store)
        .expect("re-enrolled");
    assert_eq!(stored_event_count(&db), 2);
    central.shutdown();
}

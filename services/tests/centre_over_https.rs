//! The kiosk reaches the real central service over HTTPS (DESIGN §7): it trusts the CA it is
//! configured with and nothing else, keeps what it could not send, and the centre keeps serving
//! while broken or stalled connections are turned away.

mod support;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use kiosk_central::CentralBuilder;
use kiosk_central::tls::LocalCa;
use kiosk_protocol::SealingKey;
use kiosk_services::KioskStore;
use kiosk_services::sync::{
    CentralClient, CentralEndpoint, OutboxDrainer, PostError, SyncProblem, TrustedRoots,
};
use support::central::{
    any_port, central_config, central_db, enrol_test_kiosk, stored_event_count, test_identity,
};
use support::{ScratchDir, applicant, transaction};

/// The centre on HTTPS with `pki`'s certificate, the test kiosk enrolled.
fn start_https_centre(dir: &ScratchDir, pki: &LocalCa) -> kiosk_central::CentralThread {
    let central = CentralBuilder::new(central_config(dir, any_port()))
        .tls(pki.centre.clone())
        .spawn_in_thread()
        .expect("the centre starts on HTTPS");
    enrol_test_kiosk(&central_db(dir));
    central
}

fn client(url: &str, roots: TrustedRoots) -> CentralClient {
    let mut endpoint = CentralEndpoint::signed(url, test_identity());
    endpoint.request_timeout = Duration::from_secs(10);
    endpoint.trusted_roots = roots;
    CentralClient::new(endpoint)
}

fn store_with_two_transactions(dir: &ScratchDir) -> Arc<KioskStore> {
    let store = Arc::new(KioskStore::open(&dir.path("kiosk.db"), SealingKey::generate()).unwrap());
    for id in ["T-1", "T-2"] {
        store
            .commit_transaction(&transaction(id), Some(&applicant()))
            .unwrap();
    }
    store
}

#[test]
fn a_kiosk_that_trusts_the_centres_ca_uploads_over_https() {
    let dir = ScratchDir::new("https-upload");
    let pki = support::pki::issue(&dir, "gov");
    let central = start_https_centre(&dir, &pki);
    assert!(central.url().starts_with("https://"), "{}", central.url());
    let store = store_with_two_transactions(&dir);
    let roots = TrustedRoots::from_pem_file(&pki.ca_file).unwrap();
    let mut drainer = OutboxDrainer::new(client(&central.url(), roots), 100);
    let report = drainer.drain(&store).expect("the upload is acknowledged");
    assert_eq!(report.synced, 2);
    assert_eq!(store.outbox_depth().unwrap(), 0);
    assert_eq!(stored_event_count(&central_db(&dir)), 2);
}

#[test]
fn a_centre_certificate_from_another_ca_is_refused_and_nothing_is_lost() {
    let dir = ScratchDir::new("https-untrusted");
    let pki = support::pki::issue(&dir, "gov");
    let impostor_ca = support::pki::issue(&dir, "other");
    let central = start_https_centre(&dir, &pki);
    let store = store_with_two_transactions(&dir);
    for roots in [
        TrustedRoots::PublicCas,
        TrustedRoots::from_pem_file(&impostor_ca.ca_file).unwrap(),
    ] {
        let mut drainer = OutboxDrainer::new(client(&central.url(), roots), 100);
        let failure = drainer.drain(&store).unwrap_err();
        assert_eq!(failure.problem, SyncProblem::CentreUnreachable);
        assert!(
            failure.message.to_lowercase().contains("certificate")
                || failure.message.contains("UnknownIssuer"),
            "{}",
            failure.message
        );
    }
    // Nothing reached the centre; the kiosk still holds both transactions to send.
    assert_eq!(stored_event_count(&central_db(&dir)), 0);
    assert_eq!(store.outbox_depth().unwrap(), 2);
}

#[test]
fn plain_http_and_stalled_handshakes_do_not_stop_the_https_centre() {
    let dir = ScratchDir::new("https-robust");
    let pki = support::pki::issue(&dir, "gov");
    let central = start_https_centre(&dir, &pki);
    // A client that connects and says nothing, and one that speaks plain HTTP to the TLS port.
    let _silent = std::net::TcpStream::connect(central.addr()).unwrap();
    let mut plain = std::net::TcpStream::connect(central.addr()).unwrap();
    plain
        .write_all(b"POST /api/v1/heartbeat HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        .unwrap();
    let plain_url = central.url().replacen("https://", "http://", 1);
    let over_plain = client(&plain_url, TrustedRoots::PublicCas).post_outbox(
        &kiosk_protocol::wire::OutboxBatch {
            kiosk_id: support::central::KIOSK_ID.into(),
            events: Vec::new(),
        },
    );
    assert!(
        matches!(over_plain, Err(PostError::Unreachable(_))),
        "{over_plain:?}"
    );
    // The kiosk that trusts the CA is served at once all the same.
    let store = store_with_two_transactions(&dir);
    let roots = TrustedRoots::from_pem_file(&pki.ca_file).unwrap();
    let started = std::time::Instant::now();
    let report = OutboxDrainer::new(client(&central.url(), roots), 100)
        .drain(&store)
        .expect("served beside the stalled connection");
    assert_eq!(report.synced, 2);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_ca_file_without_a_certificate_is_a_clear_error() {
    let dir = ScratchDir::new("https-bad-ca");
    let path = dir.path("empty.pem");
    std::fs::write(&path, "not a certificate\n").unwrap();
    let error = TrustedRoots::from_pem_file(&path).unwrap_err();
    assert!(error.contains("no CERTIFICATE"), "{error}");
    let missing = TrustedRoots::from_pem_file(&dir.path("missing.pem")).unwrap_err();
    assert!(missing.contains("missing.pem"), "{missing}");
}

/// `GET /healthz` over HTTPS trusting only `ca_file`: the status, or why there was none.
fn health_trusting(url: &str, ca_file: &std::path::Path) -> Result<u16, String> {
    let roots = TrustedRoots::from_pem_file(ca_file).unwrap();
    let agent = ureq::Agent::config_builder()
        .tls_config(roots.tls_config())
        .build()
        .new_agent();
    agent
        .get(format!("{url}/healthz"))
        .call()
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string())
}

#[test]
fn a_renewed_certificate_is_served_without_a_restart_once_it_is_whole() {
    let dir = ScratchDir::new("https-renewal");
    let first = support::pki::issue(&dir, "gov");
    let central = CentralBuilder::new(central_config(&dir, any_port()))
        .tls(first.centre.clone())
        .tls_reload_every(Duration::from_millis(50))
        .spawn_in_thread()
        .expect("the centre starts on HTTPS");
    let url = central.url();
    let renewal = support::pki::issue(&dir, "renewed");
    assert_eq!(health_trusting(&url, &first.ca_file), Ok(200));
    assert!(health_trusting(&url, &renewal.ca_file).is_err());

    // Half a renewal on disk (the new key, the old certificate): the old pair stays served.
    std::fs::copy(&renewal.centre.private_key, &first.centre.private_key).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(health_trusting(&url, &first.ca_file), Ok(200));

    // The whole renewal: served without a restart.
    std::fs::copy(&renewal.centre.cert_chain, &first.centre.cert_chain).unwrap();
    assert!(support::eventually(Duration::from_secs(10), || {
        health_trusting(&url, &renewal.ca_file) == Ok(200)
    }));
    assert!(health_trusting(&url, &first.ca_file).is_err());
}

//! A catalogue published at the centre reaches a running kiosk (issue 7, kiosk side): the
//! heartbeat reply names the desired version, the kiosk fetches the signed envelope, checks the
//! Ed25519 signature against its verifying keys, keeps it in the store and swaps it in — never
//! during a citizen's session. A catalogue signed with a key the kiosk does not trust is refused
//! and the refusal reaches the centre; an older version is refused.

mod support;

use kiosk::demo::rig::DEMO_ADMIN_TOKEN;
use kiosk::ui::driver::tap;
use kiosk_core::catalogue::Catalogue;
use kiosk_protocol::SigningKeyFile;
use std::time::Duration;
use support::staff::wait_until;
use support::{TestKiosk, config_dir, start_kiosk_with};

const SUSPENDED: &str = "marriage-appointment";

fn admin_post(kiosk: &TestKiosk, path: &str, body: serde_json::Value) -> serde_json::Value {
    let url = format!("{}{path}", kiosk.rig.central.url());
    let mut response = kiosk
        .rig
        .admin_agent()
        .unwrap()
        .post(&url)
        .header("Authorization", &format!("Bearer {DEMO_ADMIN_TOKEN}"))
        .send_json(&body)
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    response.body_mut().read_json().unwrap()
}

fn admin_get(kiosk: &TestKiosk, path: &str) -> serde_json::Value {
    let url = format!("{}{path}", kiosk.rig.central.url());
    let mut response = kiosk
        .rig
        .admin_agent()
        .unwrap()
        .get(&url)
        .header("Authorization", &format!("Bearer {DEMO_ADMIN_TOKEN}"))
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    response.body_mut().read_json().unwrap()
}

/// The kiosk learns of a publication from the next heartbeat reply; send one now.
fn heartbeat(kiosk: &TestKiosk) {
    kiosk.ui.runtime.borrow().send_heartbeat_now();
}

fn version(kiosk: &TestKiosk) -> u32 {
    kiosk.ui.runtime.borrow().controller.catalogue_version()
}

fn offers(kiosk: &TestKiosk, code: &str) -> bool {
    kiosk
        .ui
        .runtime
        .borrow()
        .controller
        .catalogue()
        .item(code)
        .is_some()
}

#[test]
fn a_published_catalogue_reaches_the_kiosk_between_sessions_and_a_forged_one_is_refused() {
    let kiosk = start_kiosk_with("catalogue", |c| c.central.heartbeat_interval_s = 1);
    let ui = &kiosk.ui;
    let demo = std::fs::read_to_string(config_dir().join("catalogue.toml")).unwrap();
    assert_eq!(version(&kiosk), 3);
    assert!(offers(&kiosk, SUSPENDED));

    // The office imports version 4 (signed at import) and publishes it to every kiosk.
    let v4 = demo.replacen("version = 3", "version = 4", 1);
    admin_post(
        &kiosk,
        "/api/v1/admin/catalogue/versions",
        serde_json::json!({"catalogue": v4, "note": "spring update", "by": "office"}),
    );
    // A citizen is in a session when it arrives: it waits for the session to end.
    tap(&ui.window, "item-gjj-withdrawal").unwrap();
    ui.pump();
    admin_post(
        &kiosk,
        "/api/v1/admin/catalogue/publish",
        serde_json::json!({"version": 4, "by": "office"}),
    );
    heartbeat(&kiosk);
    wait_until(ui, "version 4 fetched", 30, |_| {
        kiosk
            .ui
            .runtime
            .borrow()
            .controller
            .pending_catalogue_version()
            == Some(4)
    });
    assert_eq!(version(&kiosk), 3, "not swapped during the session");
    tap(&ui.window, "btn-home").unwrap();
    wait_until(ui, "version 4 in use", 10, |_| version(&kiosk) == 4);

    // Suspending an item everywhere: a new signed version without it.
    admin_post(
        &kiosk,
        "/api/v1/admin/catalogue/suspend",
        serde_json::json!({"item_code": SUSPENDED, "note": "office closed", "by": "office"}),
    );
    heartbeat(&kiosk);
    wait_until(ui, "version 5 in use", 30, |_| version(&kiosk) == 5);
    assert!(!offers(&kiosk, SUSPENDED));
    let stored = kiosk
        .ui
        .runtime
        .borrow()
        .store()
        .latest_catalogue()
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, 5, "kept for the next start");
    heartbeat(&kiosk);
    wait_until(ui, "rollout up to date", 30, |_| {
        admin_get(&kiosk, "/api/v1/admin/catalogue/rollout")["kiosks"][0]["status"] == "up_to_date"
    });

    // The kiosk stops trusting the office's key (a rotation it has not been given): the next
    // publication is refused, reported, and the kiosk keeps version 5.
    let keys = kiosk.rig.config.catalogue.verifying_keys.clone().unwrap();
    let other = SigningKeyFile::generate("another-office").unwrap();
    std::fs::write(&keys, format!("{}\n", other.verifying_key_line())).unwrap();
    let v6 = demo.replacen("version = 3", "version = 6", 1);
    admin_post(
        &kiosk,
        "/api/v1/admin/catalogue/versions",
        serde_json::json!({"catalogue": v6, "note": "autumn update", "by": "office"}),
    );
    admin_post(
        &kiosk,
        "/api/v1/admin/catalogue/publish",
        serde_json::json!({"version": 6, "by": "office"}),
    );
    heartbeat(&kiosk);
    let refusals = || {
        kiosk
            .ui
            .runtime
            .borrow()
            .store()
            .recent_audit(50)
            .unwrap()
            .into_iter()
            .filter(|a| a.action == "catalogue.refused")
            .map(|a| a.detail)
            .collect::<Vec<_>>()
    };
    wait_until(ui, "version 6 refused", 30, |_| !refusals().is_empty());
    let refused = refusals();
    assert!(
        refused[0].contains("version 6") && refused[0].contains("signature"),
        "{refused:?}"
    );
    assert_eq!(version(&kiosk), 5);
    assert!(
        kiosk
            .ui
            .runtime
            .borrow()
            .wait_for_outbox_drained(Duration::from_secs(20))
    );
    let central = rusqlite::Connection::open(kiosk.dir.join("central.sqlite")).unwrap();
    let reported: i64 = central
        .query_row(
            "SELECT COUNT(*) FROM received_events WHERE kind = 'audit' AND payload LIKE '%catalogue.refused%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(reported, 1, "the refusal reached the centre once");

    // An older catalogue is refused outright.
    let older = Catalogue::parse(&demo).unwrap();
    let err = kiosk
        .ui
        .runtime
        .borrow_mut()
        .controller
        .offer_catalogue(older)
        .unwrap_err();
    assert!(err.contains("not newer"), "{err}");
}

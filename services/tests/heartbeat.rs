//! The heartbeat sender against a scripted centre.

mod support;

use std::sync::Arc;
use std::time::Duration;

use kiosk_protocol::SealingKey;
use kiosk_protocol::wire::{DeviceReport, EventKind, HeartbeatReply, paths};
use kiosk_services::KioskStore;
use kiosk_services::sync::{
    CentralClient, CentralEndpoint, HeartbeatConfig, HeartbeatSender, KioskSnapshot,
};
use serde_json::json;
use support::scripted_central::{Reply, ScriptedCentral};
use support::{ScratchDir, eventually, transaction};

fn snapshot() -> KioskSnapshot {
    KioskSnapshot {
        catalogue_version: 7,
        devices: vec![DeviceReport {
            class: "receipt_printer".into(),
            state: "online".into(),
            detail: Some("paper_low".into()),
        }],
        items_offered: 93,
        items_available: 90,
        unavailable_items: vec!["HJ-002".into()],
    }
}

fn sender(url: &str, store: &Arc<KioskStore>, interval: Duration) -> HeartbeatSender {
    HeartbeatSender::spawn(
        Arc::clone(store),
        CentralClient::new(CentralEndpoint::new(url, "K-0001", "tok")),
        snapshot,
        HeartbeatConfig {
            interval,
            software_version: "1.2.3".into(),
        },
    )
    .unwrap()
}

#[test]
fn heartbeats_report_the_kiosk_and_its_outbox_and_keep_the_last_reply() {
    let dir = ScratchDir::new("heartbeat");
    let store = Arc::new(KioskStore::open(&dir.path("k.db"), SealingKey::generate()).unwrap());
    store.commit_transaction(&transaction("T-1"), None).unwrap();
    let bad = store
        .enqueue_event(EventKind::Audit, &json!({}), None)
        .unwrap();
    store.move_to_dead_letter(bad.seq, "test").unwrap();
    let server = ScriptedCentral::start(|_| {
        Reply::json(
            200,
            json!({ "server_time": "2026-11-21T10:00:00Z", "desired_catalogue_version": 9,
                    "next_heartbeat_s": 0 }),
        )
    });
    let heartbeats = sender(&server.url(), &store, Duration::from_millis(50));
    assert!(eventually(Duration::from_secs(10), || {
        server.requests_to(paths::HEARTBEAT).len() >= 3
    }));
    assert_eq!(
        heartbeats.last_reply(),
        Some(HeartbeatReply {
            server_time: "2026-11-21T10:00:00Z".into(),
            desired_catalogue_version: Some(9),
            next_heartbeat_s: 0,
        })
    );
    heartbeats.stop();
    let sent = server.requests_to(paths::HEARTBEAT);
    let seqs: Vec<u64> = sent
        .iter()
        .map(|r| r.body["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs[..3], [1, 2, 3]);
    let first = &sent[0].body;
    assert_eq!(sent[0].authorization.as_deref(), Some("Bearer tok"));
    assert_eq!(first["kiosk_id"], "K-0001");
    assert_eq!(first["software_version"], "1.2.3");
    assert_eq!(first["catalogue_version"], 7);
    assert_eq!(first["devices"][0]["detail"], "paper_low");
    assert_eq!(first["items_available"], 90);
    assert_eq!(first["unavailable_items"], json!(["HJ-002"]));
    assert_eq!(first["outbox_depth"], 1);
    assert!(first["oldest_unsent_age_s"].is_u64());
    assert_eq!(first["dead_letter_count"], 1);
}

#[test]
fn the_interval_the_centre_asks_for_replaces_the_default() {
    let dir = ScratchDir::new("heartbeat-interval");
    let store = Arc::new(KioskStore::open(&dir.path("k.db"), SealingKey::generate()).unwrap());
    let server = ScriptedCentral::start(|_| {
        Reply::json(
            200,
            json!({ "server_time": "2026-11-21T10:00:00Z", "desired_catalogue_version": null,
                    "next_heartbeat_s": 60 }),
        )
    });
    let heartbeats = sender(&server.url(), &store, Duration::from_millis(20));
    assert!(eventually(Duration::from_secs(5), || heartbeats
        .last_reply()
        .is_some()));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        server.requests_to(paths::HEARTBEAT).len(),
        1,
        "waits the 60 s asked for"
    );
    heartbeats.stop();
}

#[test]
fn failed_heartbeats_are_counted_and_retried() {
    let dir = ScratchDir::new("heartbeat-fail");
    let store = Arc::new(KioskStore::open(&dir.path("k.db"), SealingKey::generate()).unwrap());
    let server = ScriptedCentral::start(|_| Reply::json(500, json!({ "error": "boom" })));
    let heartbeats = sender(&server.url(), &store, Duration::from_millis(20));
    assert!(eventually(Duration::from_secs(5), || heartbeats
        .status()
        .consecutive_failures
        >= 3));
    let status = heartbeats.status();
    assert!(status.last_error.unwrap().contains("500"));
    assert!(status.last_reply.is_none());
    assert!(status.last_seq >= 3);
    heartbeats.stop();
}

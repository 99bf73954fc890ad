//! Helpers shared by the HTTP tests: a scratch folder, a service on a loopback port, a client.

#![allow(dead_code)]

use kiosk_central::{CentralConfig, KioskCredential};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use uuid::Uuid;

pub const KIOSK_1: &str = "kiosk-001";
pub const TOKEN_1: &str = "token-for-kiosk-001";
pub const KIOSK_2: &str = "kiosk-002";
pub const TOKEN_2: &str = "token-for-kiosk-002";
pub const ADMIN_TOKEN: &str = "admin-token-for-tests";

pub const FULL_ID_NUMBER: &str = "110105194912310021";
pub const MASKED_ID_NUMBER: &str = "110105********0021";
pub const FULL_NAME: &str = "王小明";
pub const MASKED_NAME: &str = "王**";
pub const ADDRESS: &str = "北京市东城区景山前街4号";

/// A folder under the system temp dir, removed when dropped.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "kiosk-central-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create scratch dir");
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn db(&self) -> PathBuf {
        self.0.join("central.db")
    }

    pub fn key(&self) -> PathBuf {
        self.0.join("central.key")
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn config(dir: &ScratchDir) -> CentralConfig {
    CentralConfig {
        database_path: dir.db(),
        listen: "127.0.0.1:0".parse().expect("literal address"),
        kiosks: vec![
            KioskCredential {
                kiosk_id: KIOSK_1.into(),
                token: TOKEN_1.into(),
            },
            KioskCredential {
                kiosk_id: KIOSK_2.into(),
                token: TOKEN_2.into(),
            },
        ],
        admin_token: ADMIN_TOKEN.into(),
        sealing_key_path: dir.key(),
    }
}

/// A blocking HTTP client that returns every status instead of failing on non-2xx.
pub struct Client {
    agent: ureq::Agent,
    base: String,
}

impl Client {
    pub fn new(base: String) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        Self { agent, base }
    }

    pub fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        self.post_raw(path, token, body.to_string().as_bytes())
    }

    pub fn post_raw(&self, path: &str, token: Option<&str>, body: &[u8]) -> (u16, Value) {
        let mut request = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json");
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let response = request.send(body).expect("request sent");
        read(response)
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        read(request.call().expect("request sent"))
    }

    /// The raw text of `GET path`, for checks on exactly what was sent.
    pub fn get_text(&self, path: &str, token: &str) -> String {
        self.agent
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {token}"))
            .call()
            .expect("request sent")
            .body_mut()
            .read_to_string()
            .expect("body")
    }
}

fn read(mut response: ureq::http::Response<ureq::Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("body");
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

pub fn transaction_payload(transaction_id: &str) -> Value {
    json!({
        "transaction_id": transaction_id,
        "item_code": "GA-LSSFZM",
        "item_name": "临时身份证明",
        "department": "公安局",
        "outcome": "completed",
        "started_at": "2026-11-21T10:00:00+08:00",
        "finished_at": "2026-11-21T10:03:00+08:00",
        "applicant": {
            "card_type": "resident",
            "masked_name": MASKED_NAME,
            "masked_id_number": MASKED_ID_NUMBER
        },
        "form": {"phone": "138****0000"},
        "steps": ["identify", "face_check", "print_document"],
        "catalogue_version": 3
    })
}

pub fn rating_payload(transaction_id: &str, rating: u8) -> Value {
    json!({
        "transaction_id": transaction_id,
        "item_code": "GA-LSSFZM",
        "rating": rating,
        "rated_at": "2026-11-21T10:03:30+08:00"
    })
}

pub fn event(seq: i64, kind: &str, payload: Value) -> Value {
    json!({
        "seq": seq,
        "idempotency_key": Uuid::now_v7(),
        "kind": kind,
        "created_at": "2026-11-21T10:03:00+08:00",
        "payload": payload,
    })
}

/// A transaction event carrying the applicant's personal data.
pub fn transaction_event_with_personal_data(seq: i64, transaction_id: &str) -> Value {
    let mut e = event(seq, "transaction", transaction_payload(transaction_id));
    e["personal"] = json!({"name": FULL_NAME, "id_number": FULL_ID_NUMBER, "address": ADDRESS});
    e
}

pub fn batch(kiosk_id: &str, events: Vec<Value>) -> Value {
    json!({"kiosk_id": kiosk_id, "events": events})
}

pub fn heartbeat(
    kiosk_id: &str,
    seq: u64,
    printer_state: &str,
    printer_detail: Option<&str>,
) -> Value {
    json!({
        "kiosk_id": kiosk_id,
        "seq": seq,
        "sent_at": "2026-11-21T10:00:30+08:00",
        "software_version": "0.1.0",
        "catalogue_version": 3,
        "devices": [
            {"class": "id_card_reader", "state": "online"},
            {"class": "receipt_printer", "state": printer_state, "detail": printer_detail}
        ],
        "items_offered": 9,
        "items_available": 9,
        "unavailable_items": [],
        "outbox_depth": seq,
        "oldest_unsent_age_s": 12,
        "dead_letter_count": 0
    })
}

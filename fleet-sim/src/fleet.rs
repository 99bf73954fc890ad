//! The virtual kiosks: ids, Ed25519 keys, enrolment, and the requests they send.
//!
//! Each kiosk signs its requests exactly as the real kiosk does
//! (`kiosk_protocol::request_signing::KioskKey::sign_now`, the function behind the kiosk's
//! `KioskIdentity::sign`), so every request passes the centre's signature middleware: enrolled
//! key lookup, timestamp window, signature, nonce store. Keys are derived from a seed and the
//! kiosk id, so two runs with the same seed speak for the same enrolled kiosks.

use anyhow::{Context, bail};
use kiosk_protocol::request_signing::{ENROL_PATH, KioskKey, sha256_hex};
use kiosk_protocol::wire::{
    DeviceReport, EventKind, Heartbeat, MaskedApplicant, OutboxBatch, OutboxEvent, PersonalData,
    RatingRecord, TransactionOutcome, TransactionRecord, paths,
};
use kiosk_protocol::{mask_id_number, mask_name};
use rand::Rng;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::stats::{Outcome, RequestKind, Sample};

/// One virtual kiosk.
pub struct VirtualKiosk {
    pub id: String,
    key: KioskKey,
    heartbeat_seq: AtomicU64,
    outbox_seq: AtomicI64,
}

impl VirtualKiosk {
    pub fn new(id: String, seed: &str) -> Self {
        // 32 bytes of SHA-256 over seed and id: the same kiosk gets the same key in every run.
        let secret = sha256_hex(format!("fleet-sim-key-v1\n{seed}\n{id}").as_bytes());
        let key = KioskKey::from_secret_hex(&secret).expect("64 hex characters");
        Self {
            id,
            key,
            heartbeat_seq: AtomicU64::new(0),
            // Start above anything an earlier run with the same ids sent.
            outbox_seq: AtomicI64::new(unix_ms(OffsetDateTime::now_utc()) * 1000),
        }
    }

    pub fn public_key_hex(&self) -> String {
        self.key.public_key_hex()
    }

    /// The kiosk's next heartbeat, shaped like the real kiosk's (`compose_heartbeat`).
    pub fn heartbeat(&self) -> Heartbeat {
        let seq = self.heartbeat_seq.fetch_add(1, Ordering::Relaxed) + 1;
        let device = |class: &str, state: &str, detail: Option<&str>| DeviceReport {
            class: class.into(),
            state: state.into(),
            detail: detail.map(Into::into),
        };
        Heartbeat {
            kiosk_id: self.id.clone(),
            seq,
            sent_at: now_rfc3339(),
            software_version: "0.1.0".into(),
            catalogue_version: 1,
            devices: vec![
                device("id_card_reader", "online", None),
                device("receipt_printer", "online", Some("paper_ok")),
                device("document_printer", "online", None),
                device("camera", "online", None),
                device("qr_scanner", "online", None),
                device("pin_pad", "online", None),
            ],
            items_offered: 93,
            items_available: 93,
            unavailable_items: Vec::new(),
            outbox_depth: 0,
            oldest_unsent_age_s: None,
            dead_letter_count: 0,
        }
    }

    /// The outbox batches of one citizen transaction, as the kiosk uploads them: the transaction
    /// event (masked payload, personal data in `personal`, sealed by the centre) when it is
    /// committed, then the rating event once the citizen rated. `transactions` > 1 puts that many
    /// transactions and ratings into one batch (a kiosk catching up after an outage).
    pub fn transaction_batches(&self, transactions: usize) -> Vec<OutboxBatch> {
        let mut rng = rand::thread_rng();
        let mut events = Vec::with_capacity(transactions * 2);
        let mut ratings = Vec::with_capacity(transactions);
        for _ in 0..transactions {
            let transaction_id = format!("T-{}", uuid::Uuid::now_v7().simple());
            let id_number = fake_id_number(&mut rng);
            let name = "张三丰".to_string();
            let finished = OffsetDateTime::now_utc();
            let started = finished - Duration::from_secs(rng.gen_range(60..400));
            let record = TransactionRecord {
                transaction_id: transaction_id.clone(),
                item_code: "GA-LSSFZM".into(),
                item_name: "临时身份证明".into(),
                department: "公安局".into(),
                outcome: TransactionOutcome::Completed,
                started_at: rfc3339(started),
                finished_at: rfc3339(finished),
                applicant: Some(MaskedApplicant {
                    card_type: "resident".into(),
                    masked_name: mask_name(&name),
                    masked_id_number: mask_id_number(&id_number),
                }),
                form: BTreeMap::from([("phone".to_string(), "138****0000".to_string())]),
                steps: vec![
                    "identify".into(),
                    "face_check".into(),
                    "form".into(),
                    "print_document".into(),
                ],
                abandoned_at_step: None,
                catalogue_version: 1,
            };
            events.push(self.event(
                EventKind::Transaction,
                serde_json::to_value(&record).expect("serialisable"),
                Some(PersonalData {
                    name,
                    id_number,
                    address: "北京市东城区景山前街4号".into(),
                }),
            ));
            let rating = RatingRecord {
                transaction_id,
                item_code: "GA-LSSFZM".into(),
                rating: Some(rng.gen_range(3..=5)),
                rated_at: now_rfc3339(),
            };
            ratings.push(serde_json::to_value(&rating).expect("serialisable"));
        }
        if transactions == 1 {
            let rating = self.event(EventKind::Rating, ratings.remove(0), None);
            return vec![self.batch(events), self.batch(vec![rating])];
        }
        for rating in ratings {
            events.push(self.event(EventKind::Rating, rating, None));
        }
        vec![self.batch(events)]
    }

    fn event(
        &self,
        kind: EventKind,
        payload: serde_json::Value,
        personal: Option<PersonalData>,
    ) -> OutboxEvent {
        OutboxEvent {
            seq: self.outbox_seq.fetch_add(1, Ordering::Relaxed) + 1,
            idempotency_key: uuid::Uuid::now_v7(),
            kind,
            created_at: now_rfc3339(),
            payload,
            personal,
        }
    }

    fn batch(&self, events: Vec<OutboxEvent>) -> OutboxBatch {
        OutboxBatch {
            kiosk_id: self.id.clone(),
            events,
        }
    }
}

/// A made-up 18-character resident ID number (random digits; never a real person's).
fn fake_id_number(rng: &mut impl Rng) -> String {
    let mut id = String::from("990000");
    for _ in 0..12 {
        id.push(char::from(b'0' + rng.gen_range(0..10u8)));
    }
    id
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn now_rfc3339() -> String {
    rfc3339(OffsetDateTime::now_utc())
}

fn unix_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The fleet: `count` kiosks named `<prefix>-00001` ….
pub struct Fleet {
    pub kiosks: Vec<VirtualKiosk>,
    /// The kiosk whose heartbeat is next: runs one after the other continue the round, so no
    /// kiosk stays silent longer than one round.
    pub next_heartbeat: std::sync::atomic::AtomicUsize,
}

impl Fleet {
    pub fn new(prefix: &str, count: usize, seed: &str) -> Self {
        let kiosks = (1..=count)
            .map(|n| VirtualKiosk::new(format!("{prefix}-{n:05}"), seed))
            .collect();
        Self {
            kiosks,
            next_heartbeat: std::sync::atomic::AtomicUsize::new(0),
        }
    }
}

/// One HTTP client of the simulator (one keep-alive connection at a time).
pub struct Client {
    agent: ureq::Agent,
    base: String,
}

impl Client {
    pub fn new(base: &str, timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .proxy(None)
            .user_agent("fleet-sim")
            .build()
            .new_agent();
        Self {
            agent,
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// A signed `POST` of `body` as `kiosk`; the sample measured from `due`.
    pub fn post_signed(
        &self,
        kiosk: &VirtualKiosk,
        kind: RequestKind,
        path: &str,
        body: &[u8],
        due: Instant,
    ) -> Sample {
        let started = Instant::now();
        let headers = kiosk.key.sign_now(&kiosk.id, "POST", path, body);
        let mut request = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json");
        for (name, value) in headers.pairs() {
            request = request.header(name, value);
        }
        let outcome = match request.send(body) {
            Ok(mut response) => {
                let status = response.status().as_u16();
                // Read to the end so the connection is reused.
                let text = response.body_mut().read_to_string().unwrap_or_default();
                if (200..300).contains(&status) {
                    let stored = match kind {
                        RequestKind::Outbox => serde_json::from_str::<serde_json::Value>(&text)
                            .ok()
                            .and_then(|v| v["stored"].as_u64())
                            .and_then(|n| u32::try_from(n).ok())
                            .unwrap_or(0),
                        RequestKind::Heartbeat => 0,
                    };
                    Outcome::Ok { stored }
                } else {
                    Outcome::Status(status)
                }
            }
            Err(_) => Outcome::Transport,
        };
        let finished = Instant::now();
        Sample {
            kind,
            latency: finished.saturating_duration_since(due),
            service: finished - started,
            outcome,
        }
    }

    pub fn heartbeat(&self, kiosk: &VirtualKiosk, due: Instant) -> Sample {
        let body = serde_json::to_vec(&kiosk.heartbeat()).expect("serialisable");
        self.post_signed(kiosk, RequestKind::Heartbeat, paths::HEARTBEAT, &body, due)
    }

    pub fn outbox(&self, kiosk: &VirtualKiosk, batch: &OutboxBatch, due: Instant) -> Sample {
        let body = serde_json::to_vec(batch).expect("serialisable");
        self.post_signed(kiosk, RequestKind::Outbox, paths::OUTBOX, &body, due)
    }

    fn admin(
        &self,
        method: &str,
        path: &str,
        admin_token: &str,
        body: Option<&serde_json::Value>,
    ) -> anyhow::Result<(u16, serde_json::Value)> {
        let url = format!("{}{path}", self.base);
        let auth = format!("Bearer {admin_token}");
        let response = match (method, body) {
            ("GET", _) => self.agent.get(&url).header("Authorization", &auth).call(),
            (_, body) => self
                .agent
                .post(&url)
                .header("Authorization", &auth)
                .header("Content-Type", "application/json")
                .send(body.map(|b| b.to_string()).unwrap_or_default()),
        };
        let mut response = response.with_context(|| format!("{method} {path}"))?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        ))
    }

    /// The public keys the centre has enrolled (and not revoked), by kiosk id.
    pub fn enrolled_keys(&self, admin_token: &str) -> anyhow::Result<BTreeMap<String, String>> {
        let (status, reply) = self.admin("GET", "/api/v1/admin/kiosk-keys", admin_token, None)?;
        if status != 200 {
            bail!("listing enrolled kiosks: HTTP {status}: {reply}");
        }
        Ok(reply
            .as_array()
            .map(|keys| {
                keys.iter()
                    .filter(|k| k["revoked_at"].is_null())
                    .filter_map(|k| {
                        Some((
                            k["kiosk_id"].as_str()?.to_string(),
                            k["public_key"].as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Enrols one kiosk the way an operator and the kiosk do: a one-time code from the admin
    /// API, then `POST /api/v1/enrol` with the code and the kiosk's public key.
    pub fn enrol(&self, kiosk: &VirtualKiosk, admin_token: &str) -> anyhow::Result<()> {
        let (status, reply) = self.admin(
            "POST",
            &format!("/api/v1/admin/kiosks/{}/enrolment-code", kiosk.id),
            admin_token,
            Some(&serde_json::json!({"ttl_s": 600, "by": "fleet-sim"})),
        )?;
        if status != 201 {
            bail!("enrolment code for {}: HTTP {status}: {reply}", kiosk.id);
        }
        let code = reply["code"].as_str().context("no code in the reply")?;
        let body = serde_json::json!({
            "kiosk_id": kiosk.id,
            "code": code,
            "public_key": kiosk.public_key_hex(),
        });
        let mut response = self
            .agent
            .post(format!("{}{ENROL_PATH}", self.base))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .context("POST enrol")?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        if status != 201 {
            bail!("enrolling {}: HTTP {status}: {text}", kiosk.id);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_per_seed_and_id() {
        let a = VirtualKiosk::new("sim-00001".into(), "s");
        let b = VirtualKiosk::new("sim-00001".into(), "s");
        let c = VirtualKiosk::new("sim-00002".into(), "s");
        assert_eq!(a.public_key_hex(), b.public_key_hex());
        assert_ne!(a.public_key_hex(), c.public_key_hex());
    }

    #[test]
    fn transaction_batches_are_masked_and_sequenced() {
        let kiosk = VirtualKiosk::new("sim-00001".into(), "s");
        let batches = kiosk.transaction_batches(1);
        assert_eq!(batches.len(), 2);
        let transaction = &batches[0].events[0];
        let rating = &batches[1].events[0];
        assert!(rating.seq > transaction.seq);
        let personal = transaction.personal.as_ref().expect("personal data");
        let payload = transaction.payload.to_string();
        assert!(!payload.contains(&personal.id_number));
        assert!(!payload.contains(&personal.name));
        let backlog = kiosk.transaction_batches(5);
        assert_eq!(backlog.len(), 1);
        assert_eq!(backlog[0].events.len(), 10);
    }

    #[test]
    fn heartbeat_sequence_increases() {
        let kiosk = VirtualKiosk::new("sim-00001".into(), "s");
        assert_eq!(kiosk.heartbeat().seq, 1);
        assert_eq!(kiosk.heartbeat().seq, 2);
    }
}

//! Kiosk enrolment and signed requests (issue 7 item 1) on both engines: enrolment with a
//! one-time code (accepted, wrong code, another kiosk's code, expired, reused), signed requests
//! accepted on every kiosk endpoint, and every rejection — unsigned, bearer token when not
//! configured, forged, tampered, replayed nonce, stale or future timestamp, not enrolled,
//! revoked — then re-enrolment after revocation; nonce pruning; the `kiosk` command line.

mod common;

use common::*;
use kiosk_central::clock::ServerTime;
use kiosk_central::identity;
use kiosk_central::{CentralStorage, CentralThread};
use kiosk_protocol::request_signing::{
    ENROL_PATH, KioskKey, MAX_CLOCK_SKEW_S, SignatureHeaders, new_nonce,
};
use serde_json::{Value, json};

fn signed_service(fx: &Fixture) -> CentralThread {
    let mut config = fx.config();
    config.accept_bearer_tokens = false;
    fx.start_with(config).expect("central starts")
}

fn unix_now() -> i64 {
    ServerTime::now().unix_ms / 1000
}

/// Sends one request with exactly the given signature headers.
fn send(
    base: &str,
    method: &str,
    path: &str,
    body: &[u8],
    headers: Option<&SignatureHeaders>,
    bearer: Option<&str>,
) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{base}{path}");
    let mut builder = ureq::http::Request::builder()
        .method(method)
        .uri(&url)
        .header("Content-Type", "application/json");
    if let Some(headers) = headers {
        for (name, value) in headers.pairs() {
            builder = builder.header(name, value);
        }
    }
    if let Some(token) = bearer {
        builder = builder.header("Authorization", format!("Bearer {token}"));
    }
    let request = builder.body(body.to_vec()).expect("request");
    let mut response = agent.run(request).expect("request sent");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A kiosk with its key, signing like the real client.
struct Kiosk<'a> {
    base: &'a str,
    id: &'a str,
    key: KioskKey,
}

impl Kiosk<'_> {
    fn sign(&self, method: &str, path: &str, body: &[u8]) -> SignatureHeaders {
        self.key.sign_now(self.id, method, path, body)
    }

    fn call(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let bytes = if method == "GET" {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let headers = self.sign(method, path, &bytes);
        send(self.base, method, path, &bytes, Some(&headers), None)
    }

    fn enrol(&self, code: &str) -> (u16, Value) {
        let body =
            json!({"kiosk_id": self.id, "code": code, "public_key": self.key.public_key_hex()});
        send(
            self.base,
            "POST",
            ENROL_PATH,
            body.to_string().as_bytes(),
            None,
            None,
        )
    }
}

fn issue_code(client: &Client, kiosk_id: &str, body: Value) -> String {
    let (status, reply) = client.post_json(
        &format!("/api/v1/admin/kiosks/{kiosk_id}/enrolment-code"),
        Some(ADMIN_TOKEN),
        &body,
    );
    assert_eq!(status, 201, "{reply}");
    assert_eq!(reply["kiosk_id"], kiosk_id);
    reply["code"].as_str().expect("code").to_string()
}

on_both_engines!(
    enrolment_with_a_one_time_code,
    signed_requests_are_accepted_on_every_kiosk_endpoint,
    unsigned_forged_tampered_replayed_and_stale_requests_are_refused,
    revoked_kiosk_is_refused_and_can_enrol_again,
    nonces_are_remembered_within_the_window_then_pruned,
    kiosk_command_line,
);

fn enrolment_with_a_one_time_code(engine: Engine) {
    let fx = Fixture::new(engine, "enrol_code");
    let central = signed_service(&fx);
    let base = central.url();
    let client = Client::new(base.clone());
    let kiosk = Kiosk {
        base: &base,
        id: KIOSK_1,
        key: KioskKey::generate(),
    };

    // Only the admin makes codes.
    let (status, _) = client.post_json(
        &format!("/api/v1/admin/kiosks/{KIOSK_1}/enrolment-code"),
        None,
        &json!({}),
    );
    assert_eq!(status, 401);

    let code = issue_code(&client, KIOSK_1, json!({"ttl_s": 600, "by": "ops"}));
    let (status, reply) = kiosk.enrol("WRONG-CODE-0000");
    assert_eq!(status, 401, "wrong code: {reply}");
    // Another kiosk cannot use kiosk-001's code.
    let other = Kiosk {
        base: &base,
        id: KIOSK_2,
        key: KioskKey::generate(),
    };
    assert_eq!(other.enrol(&code).0, 401, "code bound to another kiosk");
    // A malformed key is a bad request and does not consume the code.
    let (status, _) = send(
        &base,
        "POST",
        ENROL_PATH,
        json!({"kiosk_id": KIOSK_1, "code": code, "public_key": "abcd"})
            .to_string()
            .as_bytes(),
        None,
        None,
    );
    assert_eq!(status, 400);
    // Case and dashes do not matter.
    let typed = code.to_lowercase().replace('-', "");
    let (status, reply) = kiosk.enrol(&typed);
    assert_eq!(status, 201, "{reply}");
    assert_eq!(reply["kiosk_id"], KIOSK_1);
    // One use only.
    let (status, reply) = kiosk.enrol(&code);
    assert_eq!(status, 401);
    assert!(
        reply["error"].as_str().unwrap().contains("already"),
        "{reply}"
    );

    // Expired.
    let store = fx.store();
    let now = ServerTime::now();
    store
        .create_enrolment_code(
            KIOSK_2,
            &identity::code_hash("EXPIRED-CODE"),
            "test",
            &now,
            now.unix_ms - 1,
        )
        .expect("code stored");
    let (status, reply) = other.enrol("EXPIRED-CODE");
    assert_eq!(status, 401);
    assert!(
        reply["error"].as_str().unwrap().contains("expired"),
        "{reply}"
    );

    // The store keeps only the hash of a code, and the key.
    let keys = store.kiosk_keys().expect("keys");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].public_key, kiosk.key.public_key_hex());
    assert!(!String::from_utf8_lossy(&fx.stored_bytes()).contains(&code));
    let (status, listed) = client.get("/api/v1/admin/kiosk-keys", Some(ADMIN_TOKEN));
    assert_eq!(status, 200);
    assert_eq!(listed[0]["kiosk_id"], KIOSK_1);
    assert_eq!(listed[0]["revoked_at"], Value::Null);
    central.shutdown();
}

fn enrolled(base: &str, client: &Client, id: &'static str) -> Kiosk<'static> {
    let base: &'static str = Box::leak(base.to_string().into_boxed_str());
    let kiosk = Kiosk {
        base,
        id,
        key: KioskKey::generate(),
    };
    let code = issue_code(client, id, json!({}));
    assert_eq!(kiosk.enrol(&code).0, 201);
    kiosk
}

fn signed_requests_are_accepted_on_every_kiosk_endpoint(engine: Engine) {
    let fx = Fixture::new(engine, "enrol_accept");
    let central = signed_service(&fx);
    let client = Client::new(central.url());
    let kiosk = enrolled(&central.url(), &client, KIOSK_1);

    let (status, reply) = kiosk.call(
        "POST",
        "/api/v1/heartbeat",
        &heartbeat(KIOSK_1, 1, "online", None),
    );
    assert_eq!(status, 200, "{reply}");
    let events = vec![event(1, "transaction", transaction_payload("T-1"))];
    let (status, reply) = kiosk.call("POST", "/api/v1/outbox", &batch(KIOSK_1, events));
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["stored"], 1);
    // Catalogue pulls: authenticated (404: nothing published), with a query string too.
    let (status, reply) = kiosk.call("GET", "/api/v1/catalogue/desired", &Value::Null);
    assert_eq!(status, 404, "{reply}");
    let (status, _) = kiosk.call("GET", "/api/v1/catalogue/3?x=1", &Value::Null);
    assert_eq!(status, 404);
    // A signed request whose body speaks for another kiosk: 403.
    let (status, _) = kiosk.call(
        "POST",
        "/api/v1/heartbeat",
        &heartbeat(KIOSK_2, 1, "online", None),
    );
    assert_eq!(status, 403);
    assert_eq!(fx.store().count_events(KIOSK_1).expect("count"), 1);
    central.shutdown();
}

fn unsigned_forged_tampered_replayed_and_stale_requests_are_refused(engine: Engine) {
    let fx = Fixture::new(engine, "enrol_refuse");
    let central = signed_service(&fx);
    let base = central.url();
    let client = Client::new(base.clone());
    let kiosk = enrolled(&base, &client, KIOSK_1);
    let path = "/api/v1/heartbeat";
    let body = heartbeat(KIOSK_1, 1, "online", None)
        .to_string()
        .into_bytes();

    // Unsigned; and the configured bearer token is not accepted unless configured.
    assert_eq!(send(&base, "POST", path, &body, None, None).0, 401);
    assert_eq!(send(&base, "POST", path, &body, None, Some(TOKEN_1)).0, 401);
    // Forged: signed with another key.
    let forger = KioskKey::generate();
    let forged = forger.sign_now(KIOSK_1, "POST", path, &body);
    assert_eq!(send(&base, "POST", path, &body, Some(&forged), None).0, 401);
    // Tampered: the body, the path, the kiosk id after signing.
    let good = kiosk.sign("POST", path, &body);
    let mut other_body = body.clone();
    other_body.push(b' ');
    assert_eq!(
        send(&base, "POST", path, &other_body, Some(&good), None).0,
        401
    );
    let good = kiosk.sign("POST", path, &body);
    assert_eq!(
        send(&base, "POST", "/api/v1/outbox", &body, Some(&good), None).0,
        401
    );
    let mut renamed = kiosk.sign("POST", path, &body);
    renamed.kiosk_id = KIOSK_2.into();
    assert_eq!(
        send(&base, "POST", path, &body, Some(&renamed), None).0,
        401
    );
    // Malformed headers.
    let mut short_nonce = kiosk.sign("POST", path, &body);
    short_nonce.nonce = "abcd".into();
    assert_eq!(
        send(&base, "POST", path, &body, Some(&short_nonce), None).0,
        401
    );
    // Replayed: the same request twice.
    let once = kiosk.sign("POST", path, &body);
    let (status, reply) = send(&base, "POST", path, &body, Some(&once), None);
    assert_eq!(status, 200, "{reply}");
    let (status, reply) = send(&base, "POST", path, &body, Some(&once), None);
    assert_eq!(status, 401, "replay");
    assert!(
        reply["error"].as_str().unwrap().contains("replay"),
        "{reply}"
    );
    // Stale and future timestamps (correctly signed).
    for skew in [-(MAX_CLOCK_SKEW_S + 60), MAX_CLOCK_SKEW_S + 60] {
        let headers = kiosk.key.sign_request(
            KIOSK_1,
            "POST",
            path,
            unix_now() + skew,
            &new_nonce(),
            &body,
        );
        let (status, reply) = send(&base, "POST", path, &body, Some(&headers), None);
        assert_eq!(status, 401, "skew {skew}");
        assert!(
            reply["error"].as_str().unwrap().contains("timestamp"),
            "{reply}"
        );
    }
    // A kiosk that never enrolled.
    let stranger = Kiosk {
        base: &base,
        id: KIOSK_2,
        key: KioskKey::generate(),
    };
    let (status, _) = stranger.call("POST", path, &heartbeat(KIOSK_2, 1, "online", None));
    assert_eq!(status, 401);
    // Nothing of the refused requests reached the store.
    let state = fx
        .store()
        .kiosk_state(KIOSK_1)
        .expect("state")
        .expect("row");
    assert_eq!(state.last_heartbeat.seq, 1);
    assert!(fx.store().kiosk_state(KIOSK_2).expect("state").is_none());
    central.shutdown();
}

fn revoked_kiosk_is_refused_and_can_enrol_again(engine: Engine) {
    let fx = Fixture::new(engine, "enrol_revoke");
    let central = signed_service(&fx);
    let base = central.url();
    let client = Client::new(base.clone());
    let kiosk = enrolled(&base, &client, KIOSK_1);
    let hb = |seq| heartbeat(KIOSK_1, seq, "online", None);
    assert_eq!(kiosk.call("POST", "/api/v1/heartbeat", &hb(1)).0, 200);

    // A code handed out before the revocation dies with it.
    let stale_code = issue_code(&client, KIOSK_1, json!({}));
    let (status, revoked) = client.post_json(
        &format!("/api/v1/admin/kiosks/{KIOSK_1}/revoke"),
        Some(ADMIN_TOKEN),
        &json!({"by": "ops"}),
    );
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(revoked["revoked_by"], "ops");
    assert!(revoked["revoked_at"].is_string());
    let (status, reply) = kiosk.call("POST", "/api/v1/heartbeat", &hb(2));
    assert_eq!(status, 403, "{reply}");
    assert_eq!(
        kiosk
            .call("GET", "/api/v1/catalogue/desired", &Value::Null)
            .0,
        403
    );
    assert_eq!(kiosk.enrol(&stale_code).0, 401, "outstanding code consumed");
    // Unknown kiosk: 404.
    let (status, _) = client.post_json(
        "/api/v1/admin/kiosks/kiosk-999/revoke",
        Some(ADMIN_TOKEN),
        &json!({}),
    );
    assert_eq!(status, 404);

    // Re-enrolment: a new code, a new key.
    let renewed = Kiosk {
        base: &base,
        id: KIOSK_1,
        key: KioskKey::generate(),
    };
    let code = issue_code(&client, KIOSK_1, json!({}));
    assert_eq!(renewed.enrol(&code).0, 201);
    assert_eq!(renewed.call("POST", "/api/v1/heartbeat", &hb(3)).0, 200);
    // The old key stays out.
    assert_eq!(kiosk.call("POST", "/api/v1/heartbeat", &hb(4)).0, 401);
    let key = fx.store().kiosk_key(KIOSK_1).expect("key").expect("row");
    assert_eq!(key.revoked_at, None);
    assert_eq!(key.public_key, renewed.key.public_key_hex());
    central.shutdown();
}

fn nonces_are_remembered_within_the_window_then_pruned(engine: Engine) {
    let fx = Fixture::new(engine, "enrol_nonce");
    let store = fx.store();
    let keep = 600_000;
    let t0 = 1_800_000_000_000;
    assert!(store.remember_nonce("a", "n1", t0, keep).expect("nonce"));
    assert!(
        !store
            .remember_nonce("a", "n1", t0 + 1000, keep)
            .expect("nonce")
    );
    assert!(
        store
            .remember_nonce("b", "n1", t0, keep)
            .expect("other kiosk")
    );
    // After the window the kiosk's old nonce is accepted again (stamped anew), before any prune.
    assert!(
        store
            .remember_nonce("a", "n1", t0 + keep + 1, keep)
            .expect("nonce")
    );
    assert_eq!(
        store.prune_nonces(t0 + 1, 1000).expect("prune"),
        1,
        "b's old nonce"
    );
    assert_eq!(fx.query_i64("SELECT COUNT(*) FROM request_nonces"), 1);
    // A backlog goes a bounded batch at a time, oldest first.
    for n in 0..5 {
        assert!(
            store
                .remember_nonce("c", &format!("old-{n}"), t0 + n, keep)
                .expect("nonce")
        );
    }
    assert_eq!(store.prune_nonces(t0 + 100, 2).expect("prune"), 2);
    assert_eq!(store.prune_nonces(t0 + 100, 2).expect("prune"), 2);
    assert_eq!(
        fx.query_i64("SELECT COUNT(*) FROM request_nonces WHERE kiosk_id = 'c'"),
        1
    );
    assert_eq!(
        fx.query_i64("SELECT MIN(seen_unix_ms) FROM request_nonces WHERE kiosk_id = 'c'"),
        t0 + 4,
        "the oldest went first"
    );
    assert_eq!(store.prune_nonces(t0 + 100, 2).expect("prune"), 1);
}

fn kiosk_command_line(engine: Engine) {
    let fx = Fixture::new(engine, "enrol_cli");
    // Creates the schema.
    drop(fx.store());
    let store_args: Vec<String> = match &fx.postgres_url {
        Some(url) => vec!["--postgres".into(), url.clone()],
        None => vec!["--db".into(), fx.dir.db().display().to_string()],
    };
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_kiosk-central"))
            .args(args)
            .args(&store_args)
            .env_remove("KIOSK_CENTRAL_POSTGRES_URL")
            .output()
            .expect("binary runs");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(&["kiosk", "enrol-code", "--kiosk", KIOSK_1, "--ttl", "2h"]);
    assert_eq!(code, 0, "{err}");
    let issued = out
        .split_whitespace()
        .find(|w| w.len() == 24 && w.matches('-').count() == 4)
        .expect("code printed")
        .to_string();
    assert_eq!(run(&["kiosk", "enrol-code", "--kiosk", "bad id"]).0, 2);
    assert_eq!(
        run(&["kiosk", "enrol-code", "--kiosk", KIOSK_1, "--ttl", "x"]).0,
        2
    );
    assert_eq!(run(&["kiosk", "revoke", KIOSK_1]).0, 2, "never enrolled");

    let central = signed_service(&fx);
    let base = central.url();
    let kiosk = Kiosk {
        base: &base,
        id: KIOSK_1,
        key: KioskKey::generate(),
    };
    assert_eq!(kiosk.enrol(&issued).0, 201);
    let hb = |seq| heartbeat(KIOSK_1, seq, "online", None);
    assert_eq!(kiosk.call("POST", "/api/v1/heartbeat", &hb(1)).0, 200);

    let (code, out, err) = run(&["kiosk", "revoke", KIOSK_1]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("revoked"), "{out}");
    assert_eq!(kiosk.call("POST", "/api/v1/heartbeat", &hb(2)).0, 403);
    let (_, listed, _) = run(&["kiosk", "list"]);
    assert!(
        listed.starts_with(&format!("{KIOSK_1}\trevoked\t")),
        "{listed}"
    );

    let (_, out, _) = run(&["kiosk", "enrol-code", "--kiosk", KIOSK_1]);
    let again = out
        .split_whitespace()
        .find(|w| w.len() == 24 && w.matches('-').count() == 4)
        .expect("code printed")
        .to_string();
    assert_eq!(kiosk.enrol(&again).0, 201, "same key may enrol again");
    assert_eq!(kiosk.call("POST", "/api/v1/heartbeat", &hb(3)).0, 200);
    central.shutdown();
}

/// Several central instances on one PostgreSQL: each keeps enrolled keys in memory and hears
/// every change another instance (or the CLI) makes, so a kiosk revoked or re-enrolled anywhere
/// is judged by its current key everywhere.
#[test]
fn postgres_instances_hear_each_others_key_changes() {
    let fx = Fixture::new(Engine::Postgres, "key_cache");
    let url = fx.postgres_url.clone().expect("postgres");
    let a = kiosk_central::PostgresStore::open(&url).expect("instance a");
    let b = kiosk_central::PostgresStore::open(&url).expect("instance b");
    wait_for("both listeners", || {
        a.caches_kiosk_keys() && b.caches_kiosk_keys()
    });
    let enrol = |store: &kiosk_central::PostgresStore, code: &str, key: &KioskKey| {
        let now = ServerTime::now();
        store
            .create_enrolment_code(
                KIOSK_1,
                &identity::code_hash(code),
                "test",
                &now,
                now.unix_ms + 60_000,
            )
            .expect("code");
        store
            .enrol_kiosk(
                KIOSK_1,
                &identity::code_hash(code),
                &key.public_key_hex(),
                &now,
            )
            .expect("store")
            .expect("enrolled");
    };
    let first = KioskKey::generate();
    enrol(&b, "CODE-ONE", &first);
    let seen = a.kiosk_key(KIOSK_1).expect("read").expect("enrolled");
    assert_eq!(seen.public_key, first.public_key_hex());

    // Served from memory: a change behind the service's back (no announcement) is not seen.
    // (A lookup racing the enrolment's own announcement is not kept, hence the retries.)
    let set_key = |key: &str| {
        fx.execute_sql(&format!(
            "UPDATE kiosk_keys SET public_key = '{key}' WHERE kiosk_id = '{KIOSK_1}'"
        ))
    };
    wait_for("a serves the key from memory", || {
        set_key(&first.public_key_hex());
        a.kiosk_key(KIOSK_1).expect("read");
        set_key("not-a-key");
        a.kiosk_key(KIOSK_1).expect("read").expect("row").public_key == first.public_key_hex()
    });

    // Revoked through b: a hears it.
    b.revoke_kiosk(KIOSK_1, "ops", &ServerTime::now())
        .expect("store")
        .expect("was enrolled");
    wait_for("a sees the revocation", || {
        a.kiosk_key(KIOSK_1)
            .expect("read")
            .is_some_and(|k| k.revoked_at.is_some())
    });

    // Enrolled again with a new key through b: a judges by the new key.
    let second = KioskKey::generate();
    enrol(&b, "CODE-TWO", &second);
    wait_for("a sees the new key", || {
        a.kiosk_key(KIOSK_1)
            .expect("read")
            .is_some_and(|k| k.revoked_at.is_none() && k.public_key == second.public_key_hex())
    });
}

/// A kiosk re-enrolled through another instance is accepted by a running service straight away,
/// before that service has heard the announcement: a signature that fails against a cached key
/// is checked again against the table.
#[test]
fn postgres_service_accepts_a_key_enrolled_elsewhere_at_once() {
    let fx = Fixture::new(Engine::Postgres, "key_cache_service");
    let central = signed_service(&fx);
    let base = central.url();
    let client = Client::new(base.clone());
    let kiosk = enrolled(&base, &client, KIOSK_1);
    let hb = |seq| heartbeat(KIOSK_1, seq, "online", None);
    assert_eq!(kiosk.call("POST", "/api/v1/heartbeat", &hb(1)).0, 200);
    let elsewhere = fx.store();
    for round in 0..5u64 {
        let renewed = Kiosk {
            base: &base,
            id: KIOSK_1,
            key: KioskKey::generate(),
        };
        let now = ServerTime::now();
        let code = format!("CODE-ROUND-{round}");
        elsewhere
            .create_enrolment_code(
                KIOSK_1,
                &identity::code_hash(&code),
                "t",
                &now,
                now.unix_ms + 60_000,
            )
            .expect("code");
        elsewhere
            .enrol_kiosk(
                KIOSK_1,
                &identity::code_hash(&code),
                &renewed.key.public_key_hex(),
                &now,
            )
            .expect("store")
            .expect("enrolled");
        let (status, reply) = renewed.call("POST", "/api/v1/heartbeat", &hb(2 + round));
        assert_eq!(status, 200, "round {round}: {reply}");
    }
    // The first key is out.
    assert_eq!(kiosk.call("POST", "/api/v1/heartbeat", &hb(10)).0, 401);
    central.shutdown();
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

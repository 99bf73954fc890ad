//! The central service over real HTTP on loopback: outbox, heartbeat, transaction listing,
//! authentication, privacy at rest, restart, and the command line. The storage-facing tests run
//! once on SQLite and once on PostgreSQL (`sqlite::…`, `postgres::…`).

mod common;

use common::*;
use kiosk_central::{Connectivity, TransitionSubject, spawn_in_thread};
use kiosk_protocol::SealingKey;
use kiosk_protocol::wire::{
    BatchAck, ErrorBody, HeartbeatReply, PersonalData, TransactionListing, paths,
};
use serde_json::{Value, json};

fn ack(value: Value) -> BatchAck {
    serde_json::from_value(value).expect("a BatchAck")
}

fn error_message(value: Value) -> String {
    serde_json::from_value::<ErrorBody>(value)
        .expect("an ErrorBody")
        .error
}

fn listings(client: &Client) -> Vec<TransactionListing> {
    let (status, body) = client.get(paths::TRANSACTIONS, Some(ADMIN_TOKEN));
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).expect("a listing")
}

fn the_same_batch_posted_twice_is_stored_once(engine: Engine) {
    let fx = Fixture::new(engine, "dedupe");
    let central = fx.start();
    let client = Client::new(central.url());
    let body = batch(
        KIOSK_1,
        vec![
            transaction_event_with_personal_data(1, "T-1"),
            event(2, "rating", rating_payload("T-1", 5)),
            event(
                3,
                "disinfection",
                json!({"method": "wipe", "areas": ["screen"]}),
            ),
        ],
    );

    let (status, first) = client.post_json(paths::OUTBOX, signed(KIOSK_1), &body);
    assert_eq!(status, 200, "{first}");
    let first = ack(first);
    assert_eq!((first.stored, first.duplicates, first.acked_seq), (3, 0, 3));
    assert!(first.rejected.is_empty());

    let (status, second) = client.post_json(paths::OUTBOX, signed(KIOSK_1), &body);
    assert_eq!(status, 200, "{second}");
    let second = ack(second);
    assert_eq!(
        (second.stored, second.duplicates, second.acked_seq),
        (0, 3, 3)
    );

    // A resend of older events only is acknowledged up to its own last event.
    let older = batch(KIOSK_1, vec![body["events"][0].clone()]);
    let (status, third) = client.post_json(paths::OUTBOX, signed(KIOSK_1), &older);
    assert_eq!(status, 200, "{third}");
    let third = ack(third);
    assert_eq!((third.stored, third.duplicates, third.acked_seq), (0, 1, 1));

    let store = fx.store();
    assert_eq!(store.count_events(KIOSK_1).expect("count"), 3);
    assert_eq!(store.acked_seq(KIOSK_1).expect("cursor"), Some(3));
    assert_eq!(listings(&client).len(), 1);
    central.shutdown();
}

fn a_malformed_event_is_rejected_and_the_rest_stored(engine: Engine) {
    let fx = Fixture::new(engine, "reject");
    let central = fx.start();
    let client = Client::new(central.url());
    let mut broken = transaction_payload("T-2");
    broken.as_object_mut().expect("object").remove("item_code");
    let broken_event = event(2, "transaction", broken);
    let broken_key = broken_event["idempotency_key"].clone();
    let body = batch(
        KIOSK_1,
        vec![
            event(1, "transaction", transaction_payload("T-1")),
            broken_event,
            event(3, "fault_opened", json!({"device": "receipt_printer"})),
        ],
    );

    let (status, reply) = client.post_json(paths::OUTBOX, signed(KIOSK_1), &body);
    assert_eq!(status, 200, "{reply}");
    let reply = ack(reply);
    assert_eq!((reply.stored, reply.duplicates, reply.acked_seq), (2, 0, 3));
    assert_eq!(reply.rejected.len(), 1);
    let rejected = &reply.rejected[0];
    assert_eq!(rejected.seq, 2);
    assert_eq!(json!(rejected.idempotency_key), broken_key);
    assert!(rejected.reason.contains("item_code"), "{}", rejected.reason);

    let store = fx.store();
    assert_eq!(store.count_events(KIOSK_1).expect("count"), 2);
    assert_eq!(store.count_rejected_events(KIOSK_1).expect("count"), 1);
    let ids: Vec<String> = listings(&client)
        .into_iter()
        .map(|l| l.transaction_id)
        .collect();
    assert_eq!(ids, ["T-1"]);
    central.shutdown();
}

fn unauthenticated_and_wrong_kiosk_requests_are_refused_and_store_nothing(engine: Engine) {
    let fx = Fixture::new(engine, "auth");
    let central = fx.start();
    let client = Client::new(central.url());
    let body = batch(KIOSK_1, vec![event(1, "audit", json!({"action": "login"}))]);

    let (status, reply) = client.post_json(paths::OUTBOX, None, &body);
    assert_eq!(status, 401);
    assert!(error_message(reply).contains("not signed"));

    // Bearer tokens are refused, a kiosk's legacy token included (not accepted by default).
    for token in ["not-a-known-token", ADMIN_TOKEN, TOKEN_1] {
        let (status, reply) = client.post_json(paths::OUTBOX, Some(token), &body);
        assert_eq!(status, 401, "{reply}");
    }
    // A kiosk that never enrolled cannot sign.
    let stranger = batch(
        "kiosk-999",
        vec![event(1, "audit", json!({"action": "login"}))],
    );
    let (status, reply) = client.post_json(paths::OUTBOX, signed("kiosk-999"), &stranger);
    assert_eq!(status, 401, "{reply}");

    let (status, reply) = client.post_json(paths::OUTBOX, signed(KIOSK_2), &body);
    assert_eq!(status, 403);
    assert!(error_message(reply).contains("kiosk_id"));

    let hb = heartbeat(KIOSK_1, 1, "online", None);
    assert_eq!(client.post_json(paths::HEARTBEAT, None, &hb).0, 401);
    assert_eq!(
        client.post_json(paths::HEARTBEAT, signed(KIOSK_2), &hb).0,
        403
    );

    assert_eq!(client.get(paths::TRANSACTIONS, None).0, 401);
    // A kiosk's signature is no admin credential.
    assert_eq!(client.get(paths::TRANSACTIONS, signed(KIOSK_1)).0, 401);

    let store = fx.store();
    for kiosk in [KIOSK_1, KIOSK_2] {
        assert_eq!(store.count_events(kiosk).expect("count"), 0);
        assert_eq!(store.acked_seq(kiosk).expect("cursor"), None);
        assert_eq!(store.kiosk_state(kiosk).expect("state"), None);
    }
    central.shutdown();
}

fn malformed_and_oversized_bodies_get_an_error_body(engine: Engine) {
    let fx = Fixture::new(engine, "malformed");
    let central = fx.start();
    let client = Client::new(central.url());

    let (status, reply) = client.post_raw(paths::OUTBOX, signed(KIOSK_1), b"{\"kiosk_id\": ");
    assert_eq!(status, 400);
    assert!(error_message(reply).contains("not an outbox batch"));

    let (status, reply) = client.post_raw(paths::HEARTBEAT, signed(KIOSK_1), b"[]");
    assert_eq!(status, 400);
    assert!(error_message(reply).contains("not a heartbeat"));

    let huge = vec![b' '; kiosk_central::MAX_BODY_BYTES + 1];
    let (status, reply) = client.post_raw(paths::OUTBOX, signed(KIOSK_1), &huge);
    assert_eq!(status, 413);
    assert!(error_message(reply).contains("larger than"));

    let (status, reply) = client.get("/no/such/path", None);
    assert_eq!(status, 404);
    assert!(!error_message(reply).is_empty());

    let (status, reply) = client.get("/healthz", None);
    assert_eq!((status, reply), (200, json!({"status": "ok"})));
    central.shutdown();
}

fn heartbeats_update_one_state_row_and_record_only_changes(engine: Engine) {
    let fx = Fixture::new(engine, "heartbeat");
    let central = fx.start();
    let client = Client::new(central.url());

    for seq in [1, 2] {
        let (status, reply) = client.post_json(
            paths::HEARTBEAT,
            signed(KIOSK_1),
            &heartbeat(KIOSK_1, seq, "online", None),
        );
        assert_eq!(status, 200, "{reply}");
        let reply: HeartbeatReply = serde_json::from_value(reply).expect("a HeartbeatReply");
        assert_eq!(reply.next_heartbeat_s, 30);
        assert_eq!(reply.desired_catalogue_version, None);
        assert!(kiosk_central::clock::is_rfc3339(&reply.server_time));
    }

    let rows = fx.query_i64("SELECT COUNT(*) FROM kiosk_state");
    assert_eq!(rows, 1, "one state row per kiosk, not one per heartbeat");

    let store = fx.store();
    let state = store
        .kiosk_state(KIOSK_1)
        .expect("state")
        .expect("kiosk seen");
    assert_eq!(state.last_heartbeat.seq, 2);
    assert_eq!(state.last_heartbeat.outbox_depth, 2);
    assert_eq!(state.connectivity, Connectivity::Online);
    // First heartbeat: the kiosk came online and both devices appeared; the second changed nothing.
    let transitions = store.kiosk_transitions(KIOSK_1).expect("transitions");
    assert_eq!(transitions.len(), 3, "{transitions:?}");
    assert_eq!(transitions[0].subject, TransitionSubject::Connectivity);
    assert_eq!(transitions[0].from_state.as_deref(), Some("never_seen"));
    assert_eq!(transitions[0].to_state, "online");

    let (status, _) = client.post_json(
        paths::HEARTBEAT,
        signed(KIOSK_1),
        &heartbeat(KIOSK_1, 3, "online", Some("paper_low")),
    );
    assert_eq!(status, 200);
    let transitions = store.kiosk_transitions(KIOSK_1).expect("transitions");
    assert_eq!(transitions.len(), 4, "{transitions:?}");
    let last = &transitions[3];
    assert_eq!(
        last.subject,
        TransitionSubject::Device("receipt_printer".into())
    );
    assert_eq!(last.to_detail.as_deref(), Some("paper_low"));
    assert_eq!(
        store
            .kiosk_state(KIOSK_1)
            .expect("state")
            .expect("seen")
            .last_heartbeat
            .seq,
        3
    );
    central.shutdown();
}

fn a_rating_fills_the_listing_whether_it_arrives_before_or_after_its_transaction(engine: Engine) {
    let fx = Fixture::new(engine, "rating");
    let central = fx.start();
    let client = Client::new(central.url());

    // T-2's rating arrives before T-2; T-1's rating arrives after T-1.
    let first = batch(
        KIOSK_1,
        vec![
            event(1, "transaction", transaction_payload("T-1")),
            event(2, "rating", rating_payload("T-2", 2)),
        ],
    );
    let second = batch(
        KIOSK_1,
        vec![
            event(3, "transaction", transaction_payload("T-2")),
            event(4, "rating", rating_payload("T-1", 5)),
            event(5, "transaction", transaction_payload("T-3")),
        ],
    );
    for body in [&first, &second] {
        let (status, reply) = client.post_json(paths::OUTBOX, signed(KIOSK_1), body);
        assert_eq!(status, 200, "{reply}");
        assert!(ack(reply).rejected.is_empty());
    }

    let listed: Vec<(String, Option<u8>)> = listings(&client)
        .into_iter()
        .map(|l| (l.transaction_id, l.rating))
        .collect();
    assert_eq!(
        listed,
        [
            ("T-1".to_string(), Some(5)),
            ("T-2".to_string(), Some(2)),
            ("T-3".to_string(), None)
        ],
        "newest last, ratings joined in either order"
    );
    central.shutdown();
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

fn personal_data_is_masked_in_the_listing_and_sealed_in_the_database(engine: Engine) {
    let fx = Fixture::new(engine, "privacy");
    let central = fx.start();
    let client = Client::new(central.url());
    let transaction = transaction_event_with_personal_data(1, "T-1");
    let key: uuid::Uuid =
        serde_json::from_value(transaction["idempotency_key"].clone()).expect("uuid");
    let (status, reply) = client.post_json(
        paths::OUTBOX,
        signed(KIOSK_1),
        &batch(KIOSK_1, vec![transaction]),
    );
    assert_eq!(status, 200, "{reply}");
    assert_eq!(ack(reply).stored, 1);

    let listing_text = client.get_text(paths::TRANSACTIONS, ADMIN_TOKEN);
    let secrets = [FULL_ID_NUMBER, "19491231", FULL_NAME, "小明", ADDRESS];
    for secret in secrets {
        assert!(!listing_text.contains(secret), "listing shows {secret}");
    }
    let listed: Vec<TransactionListing> = serde_json::from_str(&listing_text).expect("listing");
    assert_eq!(
        listed[0].masked_id_number.as_deref(),
        Some(MASKED_ID_NUMBER)
    );
    assert_eq!(listed[0].masked_name.as_deref(), Some(MASKED_NAME));

    // On SQLite, while the service runs the data is in the WAL; after shutdown it is
    // checkpointed. On PostgreSQL the check reads a dump of the whole database.
    if engine == Engine::Sqlite {
        let wal = std::path::PathBuf::from(format!("{}-wal", fx.dir.db().display()));
        assert!(wal.exists(), "the database runs in WAL mode");
    }
    let running = fx.stored_bytes();
    assert!(
        contains(&running, MASKED_ID_NUMBER),
        "the masked value is stored"
    );
    central.shutdown();
    let stopped = fx.stored_bytes();
    for bytes in [&running, &stopped] {
        for secret in secrets {
            assert!(!contains(bytes, secret), "database file holds {secret}");
        }
    }

    // The personal data is there, sealed with the centre's key.
    let store = fx.store();
    let sealed = store
        .sealed_personal_data(KIOSK_1, key)
        .expect("read")
        .expect("sealed data stored");
    let centre_key = SealingKey::load(&fx.dir.key()).expect("key file");
    let personal: PersonalData =
        serde_json::from_slice(&centre_key.open(&sealed).expect("opens")).expect("json");
    assert_eq!(personal.id_number, FULL_ID_NUMBER);
    assert_eq!(personal.address, ADDRESS);
}

fn a_payload_repeating_the_unmasked_id_number_is_rejected_not_stored(engine: Engine) {
    let fx = Fixture::new(engine, "leak");
    let central = fx.start();
    let client = Client::new(central.url());
    let mut leaking = event(
        1,
        "audit",
        json!({"note": format!("card {FULL_ID_NUMBER} read")}),
    );
    leaking["personal"] = json!({"name": FULL_NAME, "id_number": FULL_ID_NUMBER});
    let (status, reply) = client.post_json(
        paths::OUTBOX,
        signed(KIOSK_1),
        &batch(KIOSK_1, vec![leaking]),
    );
    assert_eq!(status, 200, "{reply}");
    let reply = ack(reply);
    assert_eq!(
        (reply.stored, reply.acked_seq, reply.rejected.len()),
        (0, 1, 1)
    );
    assert!(!reply.rejected[0].reason.contains(FULL_ID_NUMBER));
    central.shutdown();
    assert!(!contains(&fx.stored_bytes(), FULL_ID_NUMBER));
}

fn a_restart_on_the_same_database_keeps_the_data_and_the_dedupe(engine: Engine) {
    let fx = Fixture::new(engine, "restart");
    let body = batch(
        KIOSK_1,
        vec![
            transaction_event_with_personal_data(1, "T-1"),
            event(2, "rating", rating_payload("T-1", 4)),
        ],
    );
    let central = fx.start();
    let client = Client::new(central.url());
    assert_eq!(
        ack(client.post_json(paths::OUTBOX, signed(KIOSK_1), &body).1).stored,
        2
    );
    let hb = heartbeat(KIOSK_1, 7, "online", None);
    assert_eq!(
        client.post_json(paths::HEARTBEAT, signed(KIOSK_1), &hb).0,
        200
    );
    central.shutdown();

    let central = fx.start();
    let client = Client::new(central.url());
    let listed = listings(&client);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].rating, Some(4));
    let again = ack(client.post_json(paths::OUTBOX, signed(KIOSK_1), &body).1);
    assert_eq!((again.stored, again.duplicates, again.acked_seq), (0, 2, 2));
    let store = fx.store();
    assert_eq!(store.count_events(KIOSK_1).expect("count"), 2);
    let state = store.kiosk_state(KIOSK_1).expect("state").expect("seen");
    assert_eq!(state.last_heartbeat.seq, 7);
    drop(store);
    assert_eq!(
        fx.schema_version(),
        kiosk_central::storage::migrations::latest_version(),
        "every migration applied"
    );
    central.shutdown();
}

fn spawn_serves_inside_the_callers_runtime_and_shuts_down(engine: Engine) {
    let fx = Fixture::new(engine, "async");
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(spawn_and_stop(&fx));
}

async fn spawn_and_stop(fx: &Fixture) {
    let central = fx.spawn().await;
    let base = format!("http://{}", central.addr());
    assert_ne!(central.addr().port(), 0);
    let health = tokio::task::spawn_blocking(move || Client::new(base).get("/healthz", None))
        .await
        .expect("request task");
    assert_eq!(health.0, 200);
    let addr = central.addr();
    central.shutdown().await;
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "stopped listening"
    );
}

/// The legacy bearer tokens (`--kiosk ID=TOKEN`): refused unless `accept_bearer_tokens` is set
/// (`serve --accept-bearer-tokens`); then a kiosk's token works on the kiosk API for that kiosk
/// only, next to signed requests. The only test that still speaks with kiosk bearer tokens.
fn bearer_token_fallback_stays_off_by_default_and_works_when_enabled(engine: Engine) {
    let fx = Fixture::new(engine, "bearer");
    let body = batch(KIOSK_1, vec![event(1, "audit", json!({"action": "login"}))]);
    let hb = heartbeat(KIOSK_1, 1, "online", None);

    // Tokens configured but not accepted: the default.
    let mut off = config_with_bearer_tokens(&fx.dir);
    off.accept_bearer_tokens = false;
    let central = fx.start_with(off).expect("central starts");
    fx.enrol_test_kiosks();
    let client = Client::new(central.url());
    let (status, reply) = client.post_json(paths::OUTBOX, Some(TOKEN_1), &body);
    assert_eq!(status, 401, "{reply}");
    assert!(error_message(reply).contains("not signed"));
    assert_eq!(
        client.post_json(paths::HEARTBEAT, Some(TOKEN_1), &hb).0,
        401
    );
    assert_eq!(fx.store().count_events(KIOSK_1).expect("count"), 0);
    central.shutdown();

    // Accepted when enabled: the token speaks for its own kiosk only; signatures still work.
    let central = fx
        .start_with(config_with_bearer_tokens(&fx.dir))
        .expect("central starts");
    let client = Client::new(central.url());
    let (status, reply) = client.post_json(paths::OUTBOX, Some(TOKEN_1), &body);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(ack(reply).stored, 1);
    assert_eq!(
        client.post_json(paths::HEARTBEAT, Some(TOKEN_1), &hb).0,
        200
    );
    let (status, reply) = client.post_json(paths::OUTBOX, Some(TOKEN_2), &body);
    assert_eq!(status, 403, "{reply}");
    for token in ["not-a-known-token", ADMIN_TOKEN] {
        assert_eq!(client.post_json(paths::OUTBOX, Some(token), &body).0, 401);
    }
    let signed_batch = batch(KIOSK_2, vec![event(1, "audit", json!({"action": "login"}))]);
    assert_eq!(
        client
            .post_json(paths::OUTBOX, signed(KIOSK_2), &signed_batch)
            .0,
        200
    );
    assert_eq!(fx.store().count_events(KIOSK_1).expect("count"), 1);
    central.shutdown();
}

on_both_engines!(
    bearer_token_fallback_stays_off_by_default_and_works_when_enabled,
    the_same_batch_posted_twice_is_stored_once,
    a_malformed_event_is_rejected_and_the_rest_stored,
    unauthenticated_and_wrong_kiosk_requests_are_refused_and_store_nothing,
    malformed_and_oversized_bodies_get_an_error_body,
    heartbeats_update_one_state_row_and_record_only_changes,
    a_rating_fills_the_listing_whether_it_arrives_before_or_after_its_transaction,
    personal_data_is_masked_in_the_listing_and_sealed_in_the_database,
    a_payload_repeating_the_unmasked_id_number_is_rejected_not_stored,
    a_restart_on_the_same_database_keeps_the_data_and_the_dedupe,
    spawn_serves_inside_the_callers_runtime_and_shuts_down,
);

#[test]
fn an_invalid_configuration_is_refused_at_start() {
    let dir = ScratchDir::new("badconfig");
    let mut bad = config(&dir);
    bad.admin_token = String::new();
    let error = spawn_in_thread(bad).err().expect("refused");
    assert!(error.to_string().contains("admin token"), "{error}");

    let mut shared = config_with_bearer_tokens(&dir);
    shared.kiosks[1].token = TOKEN_1.into();
    let error = spawn_in_thread(shared).err().expect("refused");
    assert!(error.to_string().contains("share a token"), "{error}");
}

mod command_line {
    use super::*;
    use common::cli::{agent_trusting, binary, listening_field, serve_sqlite};
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    #[test]
    fn a_bad_kiosk_argument_is_a_clear_error() {
        let output = binary()
            .args([
                "serve",
                "--db",
                "x.db",
                "--key-file",
                "x.key",
                "--admin-token",
                "admin-t",
            ])
            .args(["--kiosk", "kiosk 001"])
            .output()
            .expect("runs");
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first_line = stderr.lines().next().unwrap_or_default();
        assert!(first_line.contains("may only hold"), "{stderr}");
    }

    #[test]
    fn serve_needs_exactly_one_of_db_and_postgres() {
        let common = [
            "serve",
            "--key-file",
            "x.key",
            "--admin-token",
            "admin-t",
            "--kiosk",
            "kiosk-001",
        ];
        for storage in [
            &[][..],
            &[
                "--db",
                "x.db",
                "--postgres",
                "postgresql://u@127.0.0.1:1/db",
            ][..],
        ] {
            let output = binary()
                .args(common)
                .args(storage)
                .env_remove("KIOSK_CENTRAL_POSTGRES_URL")
                .output()
                .expect("runs");
            assert!(!output.status.success(), "{storage:?} accepted");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                stderr.contains("--db") && stderr.contains("--postgres"),
                "{stderr}"
            );
        }
    }

    #[test]
    fn an_unreachable_postgres_is_a_clear_error_without_the_password() {
        let dir = ScratchDir::new("cli-nopg");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let output = binary()
            .arg("serve")
            .arg("--key-file")
            .arg(dir.key())
            .args(["--admin-token", ADMIN_TOKEN, "--listen", "127.0.0.1:0"])
            .args(["--kiosk", KIOSK_1])
            .arg("--postgres")
            .arg(format!(
                "postgresql://central:pg-s3cret@127.0.0.1:{port}/central?connect_timeout=2"
            ))
            .output()
            .expect("runs");
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("central database"), "{stderr}");
        assert!(
            stderr.contains(&format!("127.0.0.1:{port}/central")),
            "{stderr}"
        );
        assert!(!stderr.contains("pg-s3cret"), "{stderr}");
    }

    fn serve_starts_answers_and_stops_on_sigterm(engine: Engine) {
        let fx = Fixture::new(engine, "cli");
        let mut command = binary();
        command.arg("serve");
        match &fx.postgres_url {
            None => command.arg("--db").arg(fx.dir.db()),
            Some(url) => command.arg("--postgres").arg(url),
        };
        let mut child = command
            .arg("--key-file")
            .arg(fx.dir.key())
            .args(["--listen", "127.0.0.1:0", "--admin-token", ADMIN_TOKEN])
            .args(["--kiosk", KIOSK_1])
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .spawn()
            .expect("starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let addr = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| listening_field(&line, "addr"))
            .expect("logs the address it listens on");
        let client = Client::new(format!("http://{addr}"));
        assert_eq!(client.get("/healthz", None).0, 200);

        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let exit = child.wait().expect("exits");
        assert!(exit.success(), "clean exit on SIGTERM: {exit:?}");
        assert!(fx.dir.key().exists());
        assert_eq!(fx.dir.db().exists(), engine == Engine::Sqlite);
    }

    #[test]
    fn serve_with_a_certificate_speaks_https_only() {
        let dir = ScratchDir::new("cli-tls");
        let ca = kiosk_central::tls::LocalCa::issue(dir.path(), "cli").expect("certificates");
        let only_cert = binary()
            .args(["serve", "--db", "x.db", "--key-file", "x.key"])
            .args(["--admin-token", ADMIN_TOKEN, "--kiosk", KIOSK_1])
            .arg("--tls-cert")
            .arg(&ca.centre.cert_chain)
            .output()
            .expect("runs");
        assert!(!only_cert.status.success());
        assert!(String::from_utf8_lossy(&only_cert.stderr).contains("--tls-key"));

        let mut child = serve_sqlite(&dir)
            .arg("--tls-cert")
            .arg(&ca.centre.cert_chain)
            .arg("--tls-key")
            .arg(&ca.centre.private_key)
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .spawn()
            .expect("starts");
        let stderr = child.stderr.take().expect("stderr");
        let url = BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .find_map(|line| listening_field(&line, "url"))
            .expect("logs the URL it serves");
        assert!(url.starts_with("https://"), "{url}");
        let agent = agent_trusting(&ca.ca_file);
        let health = agent
            .get(format!("{url}/healthz"))
            .call()
            .expect("HTTPS answers");
        assert_eq!(health.status().as_u16(), 200);
        let plain = ureq::get(url.replacen("https://", "http://", 1) + "/healthz").call();
        assert!(plain.is_err(), "plain HTTP answered: {plain:?}");
        let _ = child.kill();
        let _ = child.wait();
    }

    crate::on_both_engines!(serve_starts_answers_and_stops_on_sigterm);
}

//! Remote face verification (issue 6 item 6) over real HTTP, on both engines: a signed kiosk
//! request with an aligned 150×150 RGB chip and the card holder's ID number is forwarded to the
//! configured identity verifier (here the `ScriptedVerifier` test double); match and no match;
//! forged, unsigned and other-kiosk requests refused before the verifier is asked; malformed and
//! wrongly sized chips and bad ID numbers refused with 400; no verifier or a verifier that is down
//! → 503; only the outcome and score reach the audit log — never the chip or the ID number, in
//! the store or (through the binary, `serve --face-verifier scripted:FILE`) in the log.

mod common;

use common::*;
use kiosk_central::identity_verification::{IdentityVerifier, Scripted, ScriptedVerifier};
use kiosk_central::storage::AuditQuery;
use kiosk_central::{CentralBuilder, CentralThread};
use kiosk_protocol::face_verify::{
    CHIP_RGB_BYTES, FACE_VERIFY_PATH, FaceVerifyRequest, HolderReference, RemoteDecision,
    VerifyOutcome, base64_encode,
};
use kiosk_protocol::request_signing::KioskKey;
use serde_json::{Value, json};
use std::sync::Arc;
use uuid::Uuid;

/// The holder the scripted verifier says no to.
const OTHER_ID_NUMBER: &str = "11010519800101002X";

/// A chip of pseudo-random bytes (no 32-byte window of it turns up anywhere by chance).
fn chip(len: usize) -> Vec<u8> {
    let mut state: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        })
        .collect()
}

fn holder(id_number: &str) -> HolderReference {
    HolderReference {
        card_type: "resident".into(),
        id_number: id_number.into(),
    }
}

fn request_body(kiosk_id: &str, id_number: &str, chip_rgb: &[u8]) -> (Uuid, Vec<u8>) {
    let request_id = Uuid::now_v7();
    let request = FaceVerifyRequest::new(kiosk_id, request_id, holder(id_number), chip_rgb);
    (request_id, serde_json::to_vec(&request).expect("json"))
}

fn verifier() -> Arc<ScriptedVerifier> {
    Arc::new(
        ScriptedVerifier::new()
            .decide(FULL_ID_NUMBER, VerifyOutcome::Match, Some(0.93))
            .decide(OTHER_ID_NUMBER, VerifyOutcome::NoMatch, Some(0.12)),
    )
}

/// The service with `verifier` (or none), the test kiosks enrolled.
fn service(fx: &Fixture, verifier: Option<Arc<ScriptedVerifier>>) -> CentralThread {
    let mut builder = CentralBuilder::new(fx.config());
    if let Some(verifier) = verifier {
        builder = builder.identity_verifier(verifier as Arc<dyn IdentityVerifier>);
    }
    let builder = match &fx.postgres_url {
        Some(url) => builder.postgres(url),
        None => builder,
    };
    let central = builder.spawn_in_thread().expect("central starts");
    fx.enrol_test_kiosks();
    central
}

fn error(reply: &Value) -> String {
    reply["error"].as_str().unwrap_or_default().to_string()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn a_match_and_a_no_match_are_answered_and_only_the_decision_is_kept(engine: Engine) {
    let fx = Fixture::new(engine, "face_accept");
    let verifier = verifier();
    let central = service(&fx, Some(Arc::clone(&verifier)));
    let client = Client::new(central.url());
    let chip_rgb = chip(CHIP_RGB_BYTES);

    let (request_id, body) = request_body(KIOSK_1, FULL_ID_NUMBER, &chip_rgb);
    let (status, reply) = client.post_raw(FACE_VERIFY_PATH, signed(KIOSK_1), &body);
    assert_eq!(status, 200, "{reply}");
    let decision: RemoteDecision = serde_json::from_value(reply).expect("a RemoteDecision");
    assert_eq!(decision.request_id, request_id);
    assert_eq!(decision.outcome, VerifyOutcome::Match);
    assert_eq!(decision.score, Some(0.93));
    assert_eq!(decision.verifier, "scripted");
    assert!(kiosk_central::clock::is_rfc3339(&decision.decided_at));

    let (_, body) = request_body(KIOSK_2, OTHER_ID_NUMBER, &chip_rgb);
    let (status, reply) = client.post_raw(FACE_VERIFY_PATH, signed(KIOSK_2), &body);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["outcome"], "no_match");
    // An ID the script does not know: the double's default, inconclusive.
    let (_, body) = request_body(KIOSK_1, "110105195001010011", &chip_rgb);
    let (status, reply) = client.post_raw(FACE_VERIFY_PATH, signed(KIOSK_1), &body);
    assert_eq!(
        (status, reply["outcome"].clone()),
        (200, json!("inconclusive"))
    );
    assert_eq!(verifier.calls(), 3);

    // The audit log has the decisions — outcome, score, verifier — and nothing of the person.
    let store = fx.store();
    let entries = store
        .audit_log(&AuditQuery {
            action_prefix: Some("face.".into()),
            limit: 10,
            ..AuditQuery::default()
        })
        .expect("audit log");
    assert_eq!(entries.len(), 3, "{entries:?}");
    let first = entries
        .iter()
        .find(|e| e.target.as_deref() == Some(request_id.to_string().as_str()))
        .expect("the first decision");
    assert_eq!(
        (first.actor.as_str(), first.action.as_str()),
        (KIOSK_1, "face.verify")
    );
    assert_eq!(
        first.detail.as_deref(),
        Some("outcome=match score=0.930 verifier=scripted")
    );
    drop(store);
    central.shutdown();

    // Neither the chip nor the ID number is anywhere in what the engine keeps.
    let stored = fx.stored_bytes();
    let encoded = base64_encode(&chip_rgb);
    for secret in [
        FULL_ID_NUMBER,
        OTHER_ID_NUMBER,
        "19491231",
        MASKED_ID_NUMBER,
    ] {
        assert!(
            !contains(&stored, secret.as_bytes()),
            "store holds {secret}"
        );
    }
    assert!(!contains(&stored, &encoded.as_bytes()[1000..1064]));
    assert!(!contains(&stored, &chip_rgb[5000..5032]));
}

fn forged_unsigned_and_other_kiosk_requests_never_reach_the_verifier(engine: Engine) {
    let fx = Fixture::new(engine, "face_forged");
    let verifier = verifier();
    let central = service(&fx, Some(Arc::clone(&verifier)));
    let client = Client::new(central.url());
    let (_, body) = request_body(KIOSK_1, FULL_ID_NUMBER, &chip(CHIP_RGB_BYTES));

    // Signed with a key that is not kiosk-001's.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let forged = KioskKey::generate().sign_now(KIOSK_1, "POST", FACE_VERIFY_PATH, &body);
    let mut request = agent
        .post(format!("{}{FACE_VERIFY_PATH}", central.url()))
        .header("Content-Type", "application/json");
    for (name, value) in forged.pairs() {
        request = request.header(name, value);
    }
    let response = request.send(&body[..]).expect("request sent");
    assert_eq!(response.status().as_u16(), 401);

    // Unsigned, the admin token, and kiosk-002 speaking for kiosk-001.
    assert_eq!(client.post_raw(FACE_VERIFY_PATH, None, &body).0, 401);
    assert_eq!(
        client
            .post_raw(FACE_VERIFY_PATH, Some(ADMIN_TOKEN), &body)
            .0,
        401
    );
    let (status, reply) = client.post_raw(FACE_VERIFY_PATH, signed(KIOSK_2), &body);
    assert_eq!(status, 403, "{reply}");
    assert_eq!(verifier.calls(), 0, "the verifier was never asked");
    central.shutdown();
}

fn malformed_and_wrongly_sized_chips_are_refused_with_400(engine: Engine) {
    let fx = Fixture::new(engine, "face_malformed");
    let verifier = verifier();
    let central = service(&fx, Some(Arc::clone(&verifier)));
    let client = Client::new(central.url());

    for len in [
        CHIP_RGB_BYTES + 3,
        CHIP_RGB_BYTES * 4,
        CHIP_RGB_BYTES - 3,
        0,
    ] {
        let (_, body) = request_body(KIOSK_1, FULL_ID_NUMBER, &chip(len));
        let (status, reply) = client.post_raw(FACE_VERIFY_PATH, signed(KIOSK_1), &body);
        assert_eq!(status, 400, "{len} bytes: {reply}");
        assert!(error(&reply).contains("150×150"), "{reply}");
    }
    // The right length, but not base64.
    let (_, body) = request_body(KIOSK_1, FULL_ID_NUMBER, &chip(CHIP_RGB_BYTES));
    let mut garbled: Value = serde_json::from_slice(&body).expect("json");
    let text = garbled["chip_rgb_base64"]
        .as_str()
        .expect("chip")
        .to_string();
    garbled["chip_rgb_base64"] = json!(format!("!!!!{}", &text[4..]));
    let (status, _) = client.post_json(FACE_VERIFY_PATH, signed(KIOSK_1), &garbled);
    assert_eq!(status, 400);
    // Not the request's shape; an unusable ID number (never echoed).
    let (status, reply) = client.post_raw(FACE_VERIFY_PATH, signed(KIOSK_1), b"{\"chip\": 1}");
    assert_eq!(status, 400, "{reply}");
    assert!(error(&reply).contains("holder"), "{reply}");
    for id_number in ["", "110105-19491231-0021", &"1".repeat(40)] {
        let (_, body) = request_body(KIOSK_1, id_number, &chip(CHIP_RGB_BYTES));
        let (status, reply) = client.post_raw(FACE_VERIFY_PATH, signed(KIOSK_1), &body);
        assert_eq!(status, 400, "{id_number:?}: {reply}");
        assert!(!error(&reply).contains("19491231"), "{reply}");
    }
    assert_eq!(
        verifier.calls(),
        0,
        "nothing malformed reached the verifier"
    );
    central.shutdown();
}

fn no_verifier_or_a_verifier_that_is_down_answers_503(engine: Engine) {
    let fx = Fixture::new(engine, "face_down");
    let (_, body) = request_body(KIOSK_1, FULL_ID_NUMBER, &chip(CHIP_RGB_BYTES));

    // `--face-verifier none`: a clear 503.
    let central = service(&fx, None);
    let client = Client::new(central.url());
    let (status, reply) = client.post_raw(FACE_VERIFY_PATH, signed(KIOSK_1), &body);
    assert_eq!(status, 503, "{reply}");
    assert!(error(&reply).contains("not configured"), "{reply}");
    central.shutdown();

    let verifier = verifier();
    let central = service(&fx, Some(Arc::clone(&verifier)));
    let client = Client::new(central.url());
    verifier.set_down(true);
    let (status, reply) = client.post_raw(FACE_VERIFY_PATH, signed(KIOSK_1), &body);
    assert_eq!(status, 503, "{reply}");
    assert!(error(&reply).contains("unavailable"), "{reply}");
    // Down for one ID only, up again for the rest.
    verifier.set_down(false);
    verifier.set(FULL_ID_NUMBER, Scripted::Unavailable);
    assert_eq!(
        client.post_raw(FACE_VERIFY_PATH, signed(KIOSK_1), &body).0,
        503
    );
    let (_, other) = request_body(KIOSK_1, OTHER_ID_NUMBER, &chip(CHIP_RGB_BYTES));
    assert_eq!(
        client.post_raw(FACE_VERIFY_PATH, signed(KIOSK_1), &other).0,
        200
    );
    // Nothing was decided for the refused requests: one audit entry, for the last one.
    let entries = fx
        .store()
        .audit_log(&AuditQuery {
            action_prefix: Some("face.".into()),
            limit: 10,
            ..AuditQuery::default()
        })
        .expect("audit");
    assert_eq!(entries.len(), 1, "{entries:?}");
    central.shutdown();
}

on_both_engines!(
    a_match_and_a_no_match_are_answered_and_only_the_decision_is_kept,
    forged_unsigned_and_other_kiosk_requests_never_reach_the_verifier,
    malformed_and_wrongly_sized_chips_are_refused_with_400,
    no_verifier_or_a_verifier_that_is_down_answers_503,
);

mod command_line {
    use super::*;
    use common::cli::{binary, listening_field, serve_sqlite};
    use std::io::{BufRead, BufReader, Read};
    use std::process::{Command, Stdio};

    #[test]
    fn a_bad_face_verifier_setting_is_a_clear_error() {
        let dir = ScratchDir::new("face-cli-bad");
        for (setting, expected) in [
            ("remote", "none` or `scripted:FILE"),
            ("scripted:", "none` or `scripted:FILE"),
            ("scripted:/no/such/script", "face verifier script"),
        ] {
            let output = binary()
                .arg("serve")
                .arg("--db")
                .arg(dir.db())
                .arg("--key-file")
                .arg(dir.key())
                .args(["--admin-token", ADMIN_TOKEN, "--listen", "127.0.0.1:0"])
                .args(["--face-verifier", setting])
                .output()
                .expect("runs");
            assert!(!output.status.success(), "{setting} accepted");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains(expected), "{setting}: {stderr}");
        }
    }

    /// `serve --face-verifier scripted:FILE` answers from the file, and with the log at debug
    /// level nothing of the chip or the ID number is logged.
    #[test]
    fn serve_with_a_scripted_verifier_answers_and_logs_no_personal_data() {
        let dir = ScratchDir::new("face-cli");
        let script = dir.path().join("face-verifier.script");
        std::fs::write(
            &script,
            format!("# demo\n{FULL_ID_NUMBER} match 0.9\n* no_match 0.2\n"),
        )
        .expect("script");
        let mut child = serve_sqlite(&dir)
            .arg("--face-verifier")
            .arg(format!("scripted:{}", script.display()))
            .env("RUST_LOG", "debug")
            .stderr(Stdio::piped())
            .spawn()
            .expect("starts");
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
        let mut log = String::new();
        let addr = loop {
            let mut line = String::new();
            assert!(
                stderr.read_line(&mut line).expect("log line") > 0,
                "no address logged: {log}"
            );
            log.push_str(&line);
            if let Some(addr) = listening_field(&line, "addr") {
                break addr;
            }
        };
        let store = kiosk_central::SqliteStore::open(&dir.db()).expect("store");
        enrol_kiosks(&store, &[KIOSK_1]);
        drop(store);

        let client = Client::new(format!("http://{addr}"));
        let chip_rgb = chip(CHIP_RGB_BYTES);
        for (id_number, outcome) in [(FULL_ID_NUMBER, "match"), (OTHER_ID_NUMBER, "no_match")] {
            let (_, body) = request_body(KIOSK_1, id_number, &chip_rgb);
            let (status, reply) = client.post_raw(FACE_VERIFY_PATH, signed(KIOSK_1), &body);
            assert_eq!((status, reply["outcome"].clone()), (200, json!(outcome)));
        }
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        stderr.read_to_string(&mut log).expect("rest of the log");
        assert!(child.wait().expect("exits").success());

        assert!(log.contains("scripted test double"), "{log}");
        assert!(log.contains("remote face verification decided"), "{log}");
        let encoded = base64_encode(&chip_rgb);
        for secret in [
            FULL_ID_NUMBER,
            OTHER_ID_NUMBER,
            "19491231",
            &encoded[2000..2040],
        ] {
            assert!(!log.contains(secret), "the log holds {secret}");
        }
    }
}

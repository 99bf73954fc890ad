//! The kiosk's remote face verification call (`CentralClient::verify_face_remote`, issue 6
//! item 6) against the real centre with its scripted identity verifier: a match and a no-match
//! come back with the request's id, a chip of the wrong size is refused (400), and a centre
//! without a verifier or with its verifier down answers 503 — the kiosk's cue to offer another
//! way to confirm identity.

mod support;

use std::sync::Arc;

use kiosk_central::identity_verification::{IdentityVerifier, ScriptedVerifier};
use kiosk_central::{CentralBuilder, CentralThread};
use kiosk_protocol::face_verify::CHIP_RGB_BYTES;
use kiosk_services::sync::{HolderReference, PostError, VerifyOutcome};
use support::central::{central_config, central_db, enrol_test_kiosk, kiosk_client};
use support::{ID_NUMBER, ScratchDir};

const STRANGER_ID_NUMBER: &str = "11010519800101002X";

fn start(dir: &ScratchDir, verifier: Option<Arc<ScriptedVerifier>>) -> CentralThread {
    let mut builder = CentralBuilder::new(central_config(dir, "127.0.0.1:0".parse().unwrap()));
    if let Some(verifier) = verifier {
        builder = builder.identity_verifier(verifier as Arc<dyn IdentityVerifier>);
    }
    let central = builder.spawn_in_thread().expect("central starts");
    enrol_test_kiosk(&central_db(dir));
    central
}

fn holder(id_number: &str) -> HolderReference {
    HolderReference {
        card_type: "resident".into(),
        id_number: id_number.into(),
    }
}

/// The centre refused the call with `status` and a message holding `needle`.
fn assert_refused(result: Result<impl std::fmt::Debug, PostError>, status: u16, needle: &str) {
    match result {
        Err(PostError::Status {
            status: got,
            message,
            ..
        }) if got == status => assert!(message.contains(needle), "{message}"),
        other => panic!("expected {status}, got {other:?}"),
    }
}

/// An aligned chip as the face pipeline hands it over: 150 × 150 RGB.
fn chip() -> Vec<u8> {
    (0..CHIP_RGB_BYTES).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn the_centre_decides_match_and_no_match_for_the_card_holder() {
    let dir = ScratchDir::new("face-remote");
    let verifier = Arc::new(
        ScriptedVerifier::new()
            .decide(ID_NUMBER, VerifyOutcome::Match, Some(0.91))
            .decide(STRANGER_ID_NUMBER, VerifyOutcome::NoMatch, Some(0.2)),
    );
    let central = start(&dir, Some(Arc::clone(&verifier)));
    let client = kiosk_client(&central.url());

    let decision = client
        .verify_face_remote(&chip(), &holder(ID_NUMBER))
        .expect("decided");
    assert_eq!(decision.outcome, VerifyOutcome::Match);
    assert_eq!(decision.score, Some(0.91));
    assert_eq!(decision.verifier, "scripted");
    assert!(!decision.request_id.is_nil());
    let other = client
        .verify_face_remote(&chip(), &holder(STRANGER_ID_NUMBER))
        .expect("decided");
    assert_eq!(other.outcome, VerifyOutcome::NoMatch);
    assert_ne!(other.request_id, decision.request_id);

    // A frame instead of a chip is refused before the verifier is asked.
    let frame = vec![0u8; 640 * 480 * 3];
    assert_refused(
        client.verify_face_remote(&frame, &holder(ID_NUMBER)),
        400,
        "150×150",
    );
    assert_eq!(verifier.calls(), 2);

    // The verifier goes down: 503, and the message says what to do.
    verifier.set_down(true);
    assert_refused(
        client.verify_face_remote(&chip(), &holder(ID_NUMBER)),
        503,
        "another way",
    );
    central.shutdown();
}

#[test]
fn a_centre_without_a_verifier_answers_503() {
    let dir = ScratchDir::new("face-remote-none");
    let central = start(&dir, None);
    assert_refused(
        kiosk_client(&central.url()).verify_face_remote(&chip(), &holder(ID_NUMBER)),
        503,
        "not configured",
    );
    central.shutdown();
}

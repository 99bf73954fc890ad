//! The live check end to end on the real models: the simulated card holder (one still photo made
//! to blink and turn by `synthetic`) passes and matches for every step order; a still or hand-held
//! print fails the first step; another person does the challenge but does not match; a face swap
//! mid-check is caught; liveness off, the remote reference, repeated outcomes and time-outs.
//!
//! Frames are analysed at 7.5 per second (every second frame of the 15 fps clip), as a kiosk that
//! analyses the latest camera frame would.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use image::imageops::flip_horizontal;
use image::{Rgb, RgbImage};
use kiosk_face::mesh::FaceMesh;
use kiosk_face::synthetic::{
    Pose, SyntheticCitizen, clip_poses, held_photo_sequence, live_sequence, still_sequence,
};
use kiosk_face::{
    ChallengeStep, FaceEngine, FaceError, LiveCheck, LiveCheckConfig, LiveOutcome, LivenessConfig,
    LivenessFailure, LivenessMode, ModelPaths, Reference, load_rgb, simulate_id_photo,
};

const FPS: u32 = 15;
const SIZE: (u32, u32) = (640, 480);
/// Analyse every second frame.
const EVERY: usize = 2;

fn face(rel: &str) -> RgbImage {
    load_rgb(common::fixtures().join("identities").join(rel)).unwrap()
}

const HOLDER_LIVE: &str = "John_Salley/000179_02159509.jpg";
const HOLDER_CARD: &str = "John_Salley/000183_02159543.jpg";
const OTHER_LIVE: &str = "John_Savage/000264_01099001.jpg";

struct Fixtures {
    engine: Arc<FaceEngine>,
    mesh: Arc<FaceMesh>,
    card: kiosk_face::Embedding,
    holder: Vec<RgbImage>,
    other: Vec<RgbImage>,
}

fn fx() -> &'static Fixtures {
    static FX: OnceLock<Fixtures> = OnceLock::new();
    FX.get_or_init(|| {
        let engine =
            Arc::new(FaceEngine::load(&ModelPaths::bundled(), Default::default()).expect("models"));
        let mesh = Arc::new(FaceMesh::load(ModelPaths::bundled().mesh).expect("mesh"));
        let card = engine
            .card_embedding(&simulate_id_photo(&face(HOLDER_CARD)))
            .expect("card photo has one face");
        let holder = live_sequence(&engine, &face(HOLDER_LIVE), SIZE, FPS).unwrap();
        let other = live_sequence(&engine, &face(OTHER_LIVE), SIZE, FPS).unwrap();
        Fixtures {
            engine,
            mesh,
            card,
            holder,
            other,
        }
    })
}

fn check(reference: Reference, config: LiveCheckConfig, seed: u64) -> LiveCheck {
    let f = fx();
    LiveCheck::new(
        Arc::clone(&f.engine),
        Some(Arc::clone(&f.mesh)),
        reference,
        config,
        seed,
    )
}

/// A seed whose challenge has exactly these steps.
fn seed_for(steps: [ChallengeStep; 2]) -> u64 {
    (0..1000)
        .find(|&s| {
            kiosk_face::LivenessChallenge::new(LivenessConfig::default(), s).steps() == steps
        })
        .expect("seed")
}

/// Feeds the looped clip (frame i at i/FPS s) until an outcome or `max_s` seconds; returns the
/// outcome, the prompt codes seen (in order, without repeats) and the time of the outcome.
fn run(
    live: &mut LiveCheck,
    clip: &[RgbImage],
    max_s: u64,
) -> (Option<LiveOutcome>, Vec<&'static str>, u64) {
    let mut prompts: Vec<&'static str> = Vec::new();
    let frames = (max_s * u64::from(FPS)) as usize;
    for i in (0..frames).step_by(EVERY) {
        let at = i as u64 * 1000 / u64::from(FPS);
        let r = live.process(&clip[i % clip.len()], at).unwrap();
        if prompts.last() != Some(&r.prompt.code) {
            prompts.push(r.prompt.code);
        }
        if let Some(b) = r.face_box {
            assert!(b.2 > 50.0 && b.3 > 50.0, "face box {b:?}");
        }
        if r.outcome.is_some() {
            return (r.outcome, prompts, at);
        }
    }
    (None, prompts, max_s * 1000)
}

#[test]
fn the_card_holder_passes_and_matches_in_every_step_order() {
    let f = fx();
    for steps in [
        [ChallengeStep::Blink, ChallengeStep::TurnLeft],
        [ChallengeStep::Blink, ChallengeStep::TurnRight],
        [ChallengeStep::TurnLeft, ChallengeStep::Blink],
        [ChallengeStep::TurnRight, ChallengeStep::Blink],
    ] {
        let seed = seed_for(steps);
        let mut live = check(
            Reference::Card(f.card.clone()),
            LiveCheckConfig::default(),
            seed,
        );
        assert_eq!(live.steps(), steps);
        let (outcome, prompts, at) = run(&mut live, &f.holder, 25);
        let Some(LiveOutcome::Matched(v)) = outcome else {
            panic!("{steps:?}: {outcome:?} after prompts {prompts:?}");
        };
        assert!(v.liveness_passed && v.liveness == LivenessMode::Active);
        let d = v.distance.expect("distance");
        assert!(d < 0.45, "{d}");
        assert_eq!(v.threshold, kiosk_face::DEFAULT_THRESHOLD);
        // Each step was asked, in order, and the turn was followed by "turn back".
        let code = |s: ChallengeStep| s.prompt().code;
        let first = prompts.iter().position(|p| *p == code(steps[0])).unwrap();
        let second = prompts.iter().position(|p| *p == code(steps[1])).unwrap();
        assert!(first < second, "{prompts:?}");
        assert!(prompts.contains(&"turn_back"), "{prompts:?}");
        assert!(at < 20_000, "took {at} ms");
    }
}

#[test]
fn left_is_the_citizens_left_also_with_a_mirrored_camera() {
    let f = fx();
    // A clip whose only turn is to the citizen's left (the synthetic turn > 0).
    let citizen = SyntheticCitizen::new(&f.engine, &face(HOLDER_LIVE), SIZE).unwrap();
    let only_left: Vec<RgbImage> = clip_poses(FPS)
        .into_iter()
        .map(|p| {
            citizen.render(&Pose {
                turn: p.turn.max(0.0),
                ..p
            })
        })
        .collect();
    let mirrored: Vec<RgbImage> = only_left.iter().map(flip_horizontal).collect();
    for (clip, is_mirrored) in [(&only_left, false), (&mirrored, true)] {
        let config = LiveCheckConfig {
            mirrored: is_mirrored,
            ..LiveCheckConfig::default()
        };
        let left = seed_for([ChallengeStep::TurnLeft, ChallengeStep::Blink]);
        let mut live = check(Reference::Card(f.card.clone()), config, left);
        let (outcome, prompts, _) = run(&mut live, clip, 25);
        assert!(
            matches!(outcome, Some(LiveOutcome::Matched(_))),
            "mirrored {is_mirrored}: {outcome:?} after {prompts:?}"
        );
        let right = seed_for([ChallengeStep::TurnRight, ChallengeStep::Blink]);
        let mut live = check(Reference::Card(f.card.clone()), config, right);
        let (outcome, prompts, _) = run(&mut live, clip, 25);
        assert!(
            matches!(
                outcome,
                Some(LiveOutcome::LivenessFailed(LivenessFailure::TooSlow {
                    step: ChallengeStep::TurnRight
                }))
            ),
            "mirrored {is_mirrored}: {outcome:?} after {prompts:?}"
        );
    }
}

#[test]
fn a_still_print_fails_on_the_first_step() {
    let f = fx();
    let still = still_sequence(&face(HOLDER_LIVE), SIZE);
    assert_eq!(still.len(), 1);
    for steps in [
        [ChallengeStep::Blink, ChallengeStep::TurnLeft],
        [ChallengeStep::TurnRight, ChallengeStep::Blink],
    ] {
        let mut live = check(
            Reference::Card(f.card.clone()),
            LiveCheckConfig::default(),
            seed_for(steps),
        );
        let (outcome, prompts, at) = run(&mut live, &still, 25);
        match outcome {
            Some(LiveOutcome::LivenessFailed(LivenessFailure::TooSlow { step })) => {
                assert_eq!(step, steps[0])
            }
            other => panic!("{other:?} after {prompts:?}"),
        }
        let limit = LivenessConfig::default().step_timeout_ms;
        assert!((limit..limit + 500).contains(&at), "failed at {at}");
    }
}

#[test]
fn a_hand_held_print_fails_too() {
    let f = fx();
    let held = held_photo_sequence(&face(HOLDER_LIVE), SIZE, FPS);
    let steps = [ChallengeStep::Blink, ChallengeStep::TurnRight];
    let mut live = check(
        Reference::Card(f.card.clone()),
        LiveCheckConfig::default(),
        seed_for(steps),
    );
    let (outcome, prompts, _) = run(&mut live, &held, 25);
    assert!(
        matches!(
            outcome,
            Some(LiveOutcome::LivenessFailed(LivenessFailure::TooSlow {
                step: ChallengeStep::Blink
            }))
        ),
        "{outcome:?} after {prompts:?}"
    );
}

#[test]
fn another_person_passes_liveness_but_does_not_match() {
    let f = fx();
    let mut live = check(
        Reference::Card(f.card.clone()),
        LiveCheckConfig::default(),
        3,
    );
    let (outcome, prompts, _) = run(&mut live, &f.other, 25);
    let Some(LiveOutcome::NotMatched(v)) = outcome else {
        panic!("{outcome:?} after {prompts:?}");
    };
    assert!(v.liveness_passed);
    assert!(v.distance.unwrap() > 0.55, "{v:?}");
}

#[test]
fn a_face_swapped_during_the_challenge_is_caught() {
    let f = fx();
    let steps = [ChallengeStep::Blink, ChallengeStep::TurnLeft];
    let mut live = check(
        Reference::Card(f.card.clone()),
        LiveCheckConfig::default(),
        seed_for(steps),
    );
    // The holder for the first 0.5 s (no blink yet), then the other person in the same place.
    let mut clip: Vec<RgbImage> = f.holder[..7].to_vec();
    clip.extend(f.other.iter().cloned());
    let mut outcome = None;
    for i in (0..clip.len()).step_by(EVERY) {
        let r = live
            .process(&clip[i], i as u64 * 1000 / u64::from(FPS))
            .unwrap();
        if r.outcome.is_some() {
            outcome = r.outcome;
            break;
        }
    }
    assert!(
        matches!(
            outcome,
            Some(LiveOutcome::LivenessFailed(LivenessFailure::FaceChanged))
        ),
        "{outcome:?}"
    );
}

#[test]
fn with_liveness_off_the_first_good_frame_decides() {
    let f = fx();
    let config = LiveCheckConfig {
        liveness: LivenessMode::Off,
        ..LiveCheckConfig::default()
    };
    let mut live = check(Reference::Card(f.card.clone()), config, 0);
    assert!(live.steps().is_empty());
    let (outcome, _, at) = run(&mut live, &f.holder, 5);
    let Some(LiveOutcome::Matched(v)) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(at, 0, "the first frame is good and frontal");
    assert!(!v.liveness_passed && v.liveness == LivenessMode::Off);
    // Off needs no mesh.
    let mut live = LiveCheck::new(
        Arc::clone(&f.engine),
        None,
        Reference::Card(f.card.clone()),
        config,
        0,
    );
    let r = live.process(&f.holder[0], 0).unwrap();
    assert!(matches!(r.outcome, Some(LiveOutcome::Matched(_))));
}

#[test]
fn active_liveness_without_the_mesh_is_a_configuration_error() {
    let f = fx();
    let mut live = LiveCheck::new(
        Arc::clone(&f.engine),
        None,
        Reference::Remote,
        LiveCheckConfig::default(),
        0,
    );
    assert!(matches!(
        live.process(&f.holder[0], 0),
        Err(FaceError::Config(_))
    ));
}

#[test]
fn the_remote_reference_ends_with_the_chip_and_the_outcome_repeats() {
    let f = fx();
    let mut live = check(Reference::Remote, LiveCheckConfig::default(), 1);
    let (outcome, _, at) = run(&mut live, &f.holder, 25);
    let Some(LiveOutcome::ChipForRemote { chip, verdict }) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(chip.image.dimensions(), (150, 150));
    assert!(verdict.distance.is_none() && verdict.liveness_passed);
    // The chip is the holder's face.
    let e = f.engine.embedder.embed(&chip.image).unwrap();
    assert!(e.distance(&f.card) < 0.45);
    // Later frames (even empty ones) return the same outcome without analysing.
    let grey = RgbImage::from_pixel(SIZE.0, SIZE.1, Rgb([128, 128, 128]));
    let again = live.process(&grey, at + 100).unwrap();
    assert!(matches!(
        again.outcome,
        Some(LiveOutcome::ChipForRemote { .. })
    ));
    assert_eq!(again.prompt.code, "verifying_remotely");
    assert!(again.face_box.is_none());
}

#[test]
fn no_face_prompts_and_times_out() {
    let f = fx();
    let config = LiveCheckConfig {
        overall_timeout_ms: 2_000,
        ..LiveCheckConfig::default()
    };
    let mut live = check(Reference::Card(f.card.clone()), config, 0);
    let grey = vec![RgbImage::from_pixel(SIZE.0, SIZE.1, Rgb([128, 128, 128]))];
    let (outcome, prompts, at) = run(&mut live, &grey, 5);
    assert_eq!(prompts, ["no_face", "timed_out"]);
    assert!(matches!(outcome, Some(LiveOutcome::TimedOut(v)) if !v.liveness_passed));
    assert!((2_000..2_200).contains(&at), "{at}");
}

#[test]
fn the_check_can_move_to_the_camera_thread() {
    fn send<T: Send>() {}
    send::<LiveCheck>();
    send::<LiveOutcome>();
}

#[test]
fn card_embedding_needs_exactly_one_face() {
    let f = fx();
    let fixtures: PathBuf = common::fixtures();
    let cat = load_rgb(fixtures.join("nonfaces/chelsea.png")).unwrap();
    assert!(matches!(
        f.engine.card_embedding(&cat),
        Err(FaceError::FaceCount { count: 0 })
    ));
    let group = load_rgb(fixtures.join("groups/2008_002506.jpg")).unwrap();
    assert!(matches!(
        f.engine.card_embedding(&group),
        Err(FaceError::FaceCount { count }) if count > 1
    ));
}

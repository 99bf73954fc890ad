//! The liveness challenge on synthetic observation tracks (no models): the order of the steps, what
//! counts as a blink and a turn, the time limits and same-face tracking.

use kiosk_face::{
    BBox, ChallengeStep, LivenessChallenge, LivenessConfig, LivenessFailure, LivenessObservation,
    LivenessProgress,
};

const OPEN: f32 = 0.28;
const CLOSED: f32 = 0.05;
/// Frames every 100 ms.
const DT: u64 = 100;

/// Builds observations frame by frame for one face that moves a little.
struct Track {
    at: u64,
    x: f32,
    obs: Vec<LivenessObservation>,
}

impl Track {
    fn new() -> Self {
        Self {
            at: 1_000,
            x: 220.0,
            obs: Vec::new(),
        }
    }

    fn face(&self) -> BBox {
        BBox {
            x1: self.x,
            y1: 120.0,
            x2: self.x + 200.0,
            y2: 360.0,
        }
    }

    fn push(&mut self, faces: usize, ear: f32, yaw: f32, n: usize) -> &mut Self {
        for _ in 0..n {
            self.x += 1.5; // natural drift: consecutive boxes overlap well
            self.obs.push(LivenessObservation {
                at_ms: self.at,
                faces,
                face_box: (faces > 0).then(|| self.face()),
                ear: (faces > 0).then_some((ear, ear + 0.01)),
                yaw: (faces > 0).then_some(yaw),
                identity_distance: None,
            });
            self.at += DT;
        }
        self
    }

    fn still(&mut self, n: usize) -> &mut Self {
        self.push(1, OPEN, 0.0, n)
    }

    fn blink(&mut self) -> &mut Self {
        self.push(1, 0.15, 0.0, 1) // closing (between the thresholds)
            .push(1, CLOSED, 0.0, 3)
            .push(1, OPEN, 0.0, 1)
    }

    /// Turn to `sign` (+1 = the citizen's left) up to 25° and back.
    fn turn(&mut self, sign: f32) -> &mut Self {
        for yaw in [5.0, 12.0, 20.0, 25.0, 20.0, 10.0, 3.0] {
            self.push(1, OPEN, sign * yaw, 1);
        }
        self
    }
}

/// Runs the track; returns the last progress and the progress after every frame.
fn run(ch: &mut LivenessChallenge, track: &Track) -> (LivenessProgress, Vec<LivenessProgress>) {
    let all: Vec<LivenessProgress> = track.obs.iter().map(|o| ch.observe(o)).collect();
    (*all.last().expect("observations"), all)
}

fn seed_for(first: ChallengeStep) -> u64 {
    (0..1000)
        .find(|&s| LivenessChallenge::new(LivenessConfig::default(), s).steps()[0] == first)
        .expect("a seed with that first step")
}

#[test]
fn seeds_choose_a_blink_and_one_turn_in_both_orders() {
    let mut orders = std::collections::HashSet::new();
    for seed in 0..64 {
        let ch = LivenessChallenge::new(LivenessConfig::default(), seed);
        let steps = ch.steps().to_vec();
        assert_eq!(steps.len(), 2);
        assert_eq!(
            steps.iter().filter(|s| **s == ChallengeStep::Blink).count(),
            1
        );
        assert!(
            steps
                .iter()
                .any(|s| matches!(s, ChallengeStep::TurnLeft | ChallengeStep::TurnRight))
        );
        // Same seed, same challenge.
        assert_eq!(
            LivenessChallenge::new(LivenessConfig::default(), seed).steps(),
            ch.steps()
        );
        orders.insert(steps);
    }
    // Blink first / turn first, left / right: all four appear.
    assert_eq!(orders.len(), 4, "{orders:?}");
}

#[test]
fn blink_then_turn_passes() {
    let steps = [ChallengeStep::Blink, ChallengeStep::TurnLeft];
    let mut ch = LivenessChallenge::with_steps(LivenessConfig::default(), steps);
    let mut t = Track::new();
    t.still(3);
    let (p, _) = run(&mut ch, &t);
    assert!(matches!(
        p,
        LivenessProgress::InProgress {
            step: ChallengeStep::Blink,
            instruction
        } if instruction.code == "blink"
    ));
    let mut t = Track::new();
    t.still(3).blink().still(2);
    let mut ch = LivenessChallenge::with_steps(LivenessConfig::default(), steps);
    let (p, _) = run(&mut ch, &t);
    assert!(
        matches!(
            p,
            LivenessProgress::InProgress {
                step: ChallengeStep::TurnLeft,
                instruction
            } if instruction.code == "turn_left"
        ),
        "{p:?}"
    );
    let mut t = Track::new();
    t.still(3).blink().still(2).turn(1.0).still(2);
    let mut ch = LivenessChallenge::with_steps(LivenessConfig::default(), steps);
    let (p, all) = run(&mut ch, &t);
    assert_eq!(p, LivenessProgress::Passed);
    assert!(ch.passed());
    // Once the turn was reached the citizen is asked to turn back.
    assert!(all.iter().any(|p| matches!(
        p,
        LivenessProgress::InProgress { instruction, .. } if instruction.code == "turn_back"
    )));
}

#[test]
fn turn_then_blink_passes_with_a_seed_that_starts_with_the_turn() {
    let seed = seed_for(ChallengeStep::TurnRight);
    let mut ch = LivenessChallenge::new(LivenessConfig::default(), seed);
    assert_eq!(
        ch.steps(),
        &[ChallengeStep::TurnRight, ChallengeStep::Blink]
    );
    let mut t = Track::new();
    t.still(3).turn(-1.0).still(2).blink().still(1);
    let (p, _) = run(&mut ch, &t);
    assert_eq!(p, LivenessProgress::Passed);
}

#[test]
fn turn_in_the_wrong_direction_does_not_count() {
    let steps = [ChallengeStep::TurnLeft, ChallengeStep::Blink];
    let mut ch = LivenessChallenge::with_steps(LivenessConfig::default(), steps);
    let mut t = Track::new();
    t.still(2).turn(-1.0).still(2).blink().still(2);
    let (p, _) = run(&mut ch, &t);
    assert!(
        matches!(
            p,
            LivenessProgress::InProgress {
                step: ChallengeStep::TurnLeft,
                ..
            }
        ),
        "{p:?}"
    );
    // A turn that never comes back to frontal does not complete the step either.
    let mut ch = LivenessChallenge::with_steps(LivenessConfig::default(), steps);
    let mut t = Track::new();
    t.still(2).push(1, OPEN, 20.0, 10);
    let (p, _) = run(&mut ch, &t);
    assert!(
        matches!(p, LivenessProgress::InProgress { instruction, .. } if instruction.code == "turn_back"),
        "{p:?}"
    );
}

#[test]
fn too_slow_fails_with_the_step_being_asked() {
    let steps = [ChallengeStep::Blink, ChallengeStep::TurnRight];
    let config = LivenessConfig::default();
    let mut ch = LivenessChallenge::with_steps(config, steps);
    // The blink comes in time, then the citizen does nothing for longer than a step may take.
    let frames = (config.step_timeout_ms / DT) as usize + 2;
    let mut t = Track::new();
    t.still(3).blink().still(frames);
    let (p, all) = run(&mut ch, &t);
    assert_eq!(
        p,
        LivenessProgress::Failed(LivenessFailure::TooSlow {
            step: ChallengeStep::TurnRight
        })
    );
    // It failed just after the step's time ran out, not before.
    let failed_at = all
        .iter()
        .position(|p| matches!(p, LivenessProgress::Failed(_)))
        .unwrap();
    let step_started = t.obs[3 + 5 - 1].at_ms; // the frame that completed the blink
    let elapsed = t.obs[failed_at].at_ms - step_started;
    assert!(
        elapsed > config.step_timeout_ms && elapsed <= config.step_timeout_ms + DT,
        "{elapsed}"
    );
    // A failed challenge stays failed.
    let mut t2 = Track::new();
    t2.at = t.at;
    t2.turn(-1.0);
    for o in &t2.obs {
        assert_eq!(ch.observe(o), p);
    }
}

#[test]
fn the_whole_challenge_has_its_own_time_limit() {
    let config = LivenessConfig {
        step_timeout_ms: 8_000,
        total_timeout_ms: 10_000,
        ..LivenessConfig::default()
    };
    let steps = [ChallengeStep::Blink, ChallengeStep::TurnLeft];
    let mut ch = LivenessChallenge::with_steps(config, steps);
    // Blink after 7 s (in time for its step), then nothing: the total limit strikes first.
    let mut t = Track::new();
    t.still(70).blink().still(40);
    let (p, all) = run(&mut ch, &t);
    assert_eq!(
        p,
        LivenessProgress::Failed(LivenessFailure::TooSlow {
            step: ChallengeStep::TurnLeft
        })
    );
    let failed_at = all
        .iter()
        .position(|p| matches!(p, LivenessProgress::Failed(_)))
        .unwrap();
    let elapsed = t.obs[failed_at].at_ms - t.obs[0].at_ms;
    assert!((10_000..=10_100).contains(&elapsed), "{elapsed}");
}

#[test]
fn a_still_face_fails_too_slow_on_the_first_step() {
    for first in [
        ChallengeStep::Blink,
        ChallengeStep::TurnLeft,
        ChallengeStep::TurnRight,
    ] {
        let seed = seed_for(first);
        let mut ch = LivenessChallenge::new(LivenessConfig::default(), seed);
        let mut t = Track::new();
        t.still(100);
        let (p, _) = run(&mut ch, &t);
        assert_eq!(
            p,
            LivenessProgress::Failed(LivenessFailure::TooSlow { step: first })
        );
    }
}

#[test]
fn a_blink_before_it_was_asked_does_not_count() {
    let steps = [ChallengeStep::TurnLeft, ChallengeStep::Blink];
    let mut ch = LivenessChallenge::with_steps(LivenessConfig::default(), steps);
    let mut t = Track::new();
    t.still(2).blink().still(2).turn(1.0).still(3);
    let (p, _) = run(&mut ch, &t);
    assert!(
        matches!(
            p,
            LivenessProgress::InProgress {
                step: ChallengeStep::Blink,
                ..
            }
        ),
        "the early blink must not count: {p:?}"
    );
    // Eyes that are closed when the blink is asked and open afterwards are no blink either:
    // the open eyes have to be seen first.
    let steps = [ChallengeStep::Blink, ChallengeStep::TurnLeft];
    let mut ch = LivenessChallenge::with_steps(LivenessConfig::default(), steps);
    let mut t = Track::new();
    t.push(1, CLOSED, 0.0, 4).still(3);
    let (p, _) = run(&mut ch, &t);
    assert!(
        matches!(
            p,
            LivenessProgress::InProgress {
                step: ChallengeStep::Blink,
                ..
            }
        ),
        "{p:?}"
    );
}

#[test]
fn a_blink_needs_enough_closed_frames() {
    let config = LivenessConfig {
        min_closed_frames: 2,
        ..LivenessConfig::default()
    };
    let steps = [ChallengeStep::Blink, ChallengeStep::TurnLeft];
    let mut ch = LivenessChallenge::with_steps(config, steps);
    let mut t = Track::new();
    // One closed frame only (flicker), then open.
    t.still(3).push(1, CLOSED, 0.0, 1).still(3);
    let (p, _) = run(&mut ch, &t);
    assert!(
        matches!(
            p,
            LivenessProgress::InProgress {
                step: ChallengeStep::Blink,
                ..
            }
        ),
        "{p:?}"
    );
    // Two closed frames do.
    t.push(1, CLOSED, 0.0, 2).still(1);
    let mut ch = LivenessChallenge::with_steps(config, steps);
    let (p, _) = run(&mut ch, &t);
    assert!(
        matches!(
            p,
            LivenessProgress::InProgress {
                step: ChallengeStep::TurnLeft,
                ..
            }
        ),
        "{p:?}"
    );
}

#[test]
fn a_face_swapped_mid_challenge_fails_face_changed() {
    let steps = [ChallengeStep::Blink, ChallengeStep::TurnLeft];
    // The box jumps (another face in another place).
    let mut ch = LivenessChallenge::with_steps(LivenessConfig::default(), steps);
    let mut t = Track::new();
    t.still(3).blink().still(2);
    t.x += 180.0;
    t.turn(1.0);
    let (p, all) = run(&mut ch, &t);
    assert_eq!(p, LivenessProgress::Failed(LivenessFailure::FaceChanged));
    assert!(matches!(
        all[all.len() - 8],
        LivenessProgress::InProgress { .. }
    ));

    // Same place, but the identity drifts: the embedding is another person's.
    let mut ch = LivenessChallenge::with_steps(LivenessConfig::default(), steps);
    let mut t = Track::new();
    t.still(3).blink();
    for o in &mut t.obs {
        o.identity_distance = Some(0.2);
    }
    t.still(1);
    t.obs.last_mut().unwrap().identity_distance = Some(0.75);
    t.turn(1.0);
    let (p, all) = run(&mut ch, &t);
    assert_eq!(p, LivenessProgress::Failed(LivenessFailure::FaceChanged));
    let failed_at = all
        .iter()
        .position(|p| matches!(p, LivenessProgress::Failed(_)))
        .unwrap();
    assert_eq!(failed_at, 8, "fails on the frame with the large distance");
}

#[test]
fn a_face_change_after_passing_still_fails() {
    let steps = [ChallengeStep::Blink, ChallengeStep::TurnRight];
    let mut ch = LivenessChallenge::with_steps(LivenessConfig::default(), steps);
    let mut t = Track::new();
    t.still(2).blink().turn(-1.0).still(2);
    let (p, _) = run(&mut ch, &t);
    assert_eq!(p, LivenessProgress::Passed);
    t.obs.clear();
    t.x += 200.0;
    t.still(1);
    let (p, _) = run(&mut ch, &t);
    assert_eq!(p, LivenessProgress::Failed(LivenessFailure::FaceChanged));
}

#[test]
fn a_second_face_fails_second_face() {
    let steps = [ChallengeStep::Blink, ChallengeStep::TurnLeft];
    let mut ch = LivenessChallenge::with_steps(LivenessConfig::default(), steps);
    let mut t = Track::new();
    t.still(3).blink().push(2, OPEN, 0.0, 3).turn(1.0);
    let (p, all) = run(&mut ch, &t);
    assert_eq!(p, LivenessProgress::Failed(LivenessFailure::SecondFace));
    // A single frame with a false second detection is tolerated (second_face_frames = 2).
    assert!(matches!(all[8], LivenessProgress::InProgress { .. }));
    assert_eq!(
        all[9],
        LivenessProgress::Failed(LivenessFailure::SecondFace)
    );
    let mut ch = LivenessChallenge::with_steps(LivenessConfig::default(), steps);
    let mut t = Track::new();
    t.still(3).push(2, OPEN, 0.0, 1).still(1).blink().turn(1.0);
    let (p, _) = run(&mut ch, &t);
    assert_eq!(p, LivenessProgress::Passed);
}

#[test]
fn a_face_lost_longer_than_the_grace_fails_face_lost() {
    let steps = [ChallengeStep::Blink, ChallengeStep::TurnLeft];
    let config = LivenessConfig::default();
    // Lost for 0.5 s: fine.
    let mut ch = LivenessChallenge::with_steps(config, steps);
    let mut t = Track::new();
    t.still(3).push(0, OPEN, 0.0, 5).blink().turn(1.0);
    let (p, _) = run(&mut ch, &t);
    assert_eq!(p, LivenessProgress::Passed);
    // Lost for 1.5 s: fails once the grace is over, even before the face comes back.
    let mut ch = LivenessChallenge::with_steps(config, steps);
    let mut t = Track::new();
    t.still(3).push(0, OPEN, 0.0, 15).still(2);
    let (p, all) = run(&mut ch, &t);
    assert_eq!(p, LivenessProgress::Failed(LivenessFailure::FaceLost));
    let failed_at = all
        .iter()
        .position(|p| matches!(p, LivenessProgress::Failed(_)))
        .unwrap();
    assert_eq!(t.obs[failed_at].faces, 0);
    assert!(t.obs[failed_at].at_ms - t.obs[2].at_ms > config.lost_grace_ms);
}

#[test]
fn a_slow_analysis_seeing_the_face_seconds_apart_is_not_a_lost_face() {
    // A loaded kiosk analyses a frame every 2.5 s; the face is there every time.
    let steps = [ChallengeStep::Blink, ChallengeStep::TurnLeft];
    let config = LivenessConfig {
        step_timeout_ms: 60_000,
        total_timeout_ms: 120_000,
        ..LivenessConfig::default()
    };
    let mut ch = LivenessChallenge::with_steps(config, steps);
    let mut t = Track::new();
    t.still(1);
    t.at += 2_500;
    t.still(1);
    t.at += 2_500;
    t.blink().still(1).turn(1.0);
    let (p, _) = run(&mut ch, &t);
    assert_eq!(p, LivenessProgress::Passed);
    // One frame without a face after a long gap is not yet a lost face either.
    let mut ch = LivenessChallenge::with_steps(config, steps);
    let mut t = Track::new();
    t.still(2);
    t.at += 2_500;
    t.push(0, OPEN, 0.0, 1).still(1).blink().turn(1.0);
    let (p, _) = run(&mut ch, &t);
    assert_eq!(p, LivenessProgress::Passed);
}

#[test]
fn nothing_runs_before_the_first_face() {
    let steps = [ChallengeStep::Blink, ChallengeStep::TurnLeft];
    let mut ch = LivenessChallenge::with_steps(LivenessConfig::default(), steps);
    // 30 s of an empty frame: no time-out, no face lost, the challenge has not started.
    let mut t = Track::new();
    t.push(0, OPEN, 0.0, 300);
    let (p, _) = run(&mut ch, &t);
    assert!(matches!(p, LivenessProgress::InProgress { .. }), "{p:?}");
    assert!(!ch.started());
    t.obs.clear();
    t.still(2).blink().turn(1.0);
    let (p, _) = run(&mut ch, &t);
    assert_eq!(p, LivenessProgress::Passed);
}

#[test]
fn failures_have_codes_and_texts() {
    let all = [
        LivenessFailure::TooSlow {
            step: ChallengeStep::Blink,
        },
        LivenessFailure::TooSlow {
            step: ChallengeStep::TurnLeft,
        },
        LivenessFailure::TooSlow {
            step: ChallengeStep::TurnRight,
        },
        LivenessFailure::FaceLost,
        LivenessFailure::FaceChanged,
        LivenessFailure::SecondFace,
    ];
    let codes: Vec<&str> = all.iter().map(|f| f.prompt().code).collect();
    assert_eq!(
        codes,
        [
            "too_slow:blink",
            "too_slow:turn_left",
            "too_slow:turn_right",
            "face_lost",
            "face_changed",
            "second_face"
        ]
    );
    for f in all {
        assert!(!f.instruction_zh().is_empty() && f.instruction_en().is_ascii());
    }
    let json = serde_json::to_string(&all[0]).unwrap();
    assert_eq!(json, r#"{"failure":"too_slow","step":"blink"}"#);
}

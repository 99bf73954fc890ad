//! Active liveness: a blink and one head turn (left or right) in random order, each within a time
//! limit, by the same face throughout. Pure logic over per-frame observations; no model here
//! (the orchestrator in [`crate::live`] measures the frames).
//!
//! Conventions:
//! - `yaw` is in degrees, **positive = the citizen turned to their own left**. In an unmirrored
//!   camera frame (the camera looks at the citizen) the nose then moves towards the frame's right
//!   (+x). [`crate::live`] converts, and flips it for mirrored cameras.
//! - `ear` is an eye openness per eye that reads like an eye aspect ratio (open ≈ 0.2–0.35,
//!   closed ≲ 0.1); see [`crate::eyes`].
//! - An action only counts after its step was asked: a blink needs open → closed for at least
//!   `min_closed_frames` observations → open again, with the open eyes seen after the ask; a turn
//!   needs the yaw beyond `turn_yaw` in the asked direction (starting from a head not already
//!   turned that way) and then back within `frontal_yaw`.
//! - Same face: consecutive face boxes overlap by at least `min_iou`, the identity distance to the
//!   first frame (when measured) stays at or below `max_identity_drift`, no second face for
//!   `second_face_frames` observations in a row, and the face is not missing for longer than
//!   `lost_grace_ms` (counted over analysed frames without a face, not gaps between frames).

use serde::{Deserialize, Serialize};

use crate::{BBox, Prompt};

/// One action of the challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeStep {
    Blink,
    /// The citizen turns the head to their own left (positive yaw).
    TurnLeft,
    /// The citizen turns the head to their own right (negative yaw).
    TurnRight,
}

impl ChallengeStep {
    /// The instruction asking for this step.
    pub fn prompt(&self) -> Prompt {
        match self {
            ChallengeStep::Blink => Prompt::new("blink", "请眨眨眼", "Please blink"),
            ChallengeStep::TurnLeft => Prompt::new(
                "turn_left",
                "请慢慢向左转头",
                "Please slowly turn your head to your left",
            ),
            ChallengeStep::TurnRight => Prompt::new(
                "turn_right",
                "请慢慢向右转头",
                "Please slowly turn your head to your right",
            ),
        }
    }

    /// +1 for a turn to the citizen's left, −1 to the right, 0 for a blink.
    fn yaw_sign(&self) -> f32 {
        match self {
            ChallengeStep::Blink => 0.0,
            ChallengeStep::TurnLeft => 1.0,
            ChallengeStep::TurnRight => -1.0,
        }
    }
}

/// After a turn was seen: asks the citizen to face the screen again.
pub const TURN_BACK: Prompt = Prompt::new(
    "turn_back",
    "请把头转回正面",
    "Now turn your head back to face the screen",
);

/// Why the challenge failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "failure", rename_all = "snake_case")]
pub enum LivenessFailure {
    /// The step was not completed within its time (or the whole challenge ran out of time).
    TooSlow { step: ChallengeStep },
    /// No face for longer than the grace period.
    FaceLost,
    /// The face box jumped or the identity drifted: another face took over.
    FaceChanged,
    /// A second face was in the picture.
    SecondFace,
}

impl LivenessFailure {
    /// Code (`too_slow:blink`, `too_slow:turn_left`, `too_slow:turn_right`, `face_lost`,
    /// `face_changed`, `second_face`) and voice-ready text.
    pub fn prompt(&self) -> Prompt {
        match self {
            LivenessFailure::TooSlow {
                step: ChallengeStep::Blink,
            } => Prompt::new(
                "too_slow:blink",
                "没有检测到眨眼，请重新核验",
                "No blink was seen in time; please try again",
            ),
            LivenessFailure::TooSlow {
                step: ChallengeStep::TurnLeft,
            } => Prompt::new(
                "too_slow:turn_left",
                "没有检测到向左转头，请重新核验",
                "No turn to your left was seen in time; please try again",
            ),
            LivenessFailure::TooSlow {
                step: ChallengeStep::TurnRight,
            } => Prompt::new(
                "too_slow:turn_right",
                "没有检测到向右转头，请重新核验",
                "No turn to your right was seen in time; please try again",
            ),
            LivenessFailure::FaceLost => Prompt::new(
                "face_lost",
                "未检测到人脸，请重新核验",
                "Your face left the camera's view; please try again",
            ),
            LivenessFailure::FaceChanged => Prompt::new(
                "face_changed",
                "检测到人脸发生变化，请重新核验",
                "The face in front of the camera changed; please try again",
            ),
            LivenessFailure::SecondFace => Prompt::new(
                "second_face",
                "画面中出现多人，请确保只有您一人",
                "More than one person was seen; only you may be in the picture",
            ),
        }
    }

    pub fn instruction_zh(&self) -> &'static str {
        self.prompt().zh
    }

    pub fn instruction_en(&self) -> &'static str {
        self.prompt().en
    }
}

/// Limits of the challenge. Times in milliseconds of the observations' clock.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LivenessConfig {
    /// Time for each step, from the moment it is asked.
    pub step_timeout_ms: u64,
    /// Time for the whole challenge, from its first observation of a face.
    pub total_timeout_ms: u64,
    /// Mean eye openness at or below which the eyes count as closed.
    pub ear_closed: f32,
    /// Mean eye openness at or above which the eyes count as open.
    pub ear_open: f32,
    /// Consecutive closed observations a blink needs.
    pub min_closed_frames: u32,
    /// Yaw (degrees) the asked turn must reach.
    pub turn_yaw: f32,
    /// |yaw| (degrees) at or below which the head counts as frontal again.
    pub frontal_yaw: f32,
    /// Minimum IoU of consecutive face boxes.
    pub min_iou: f32,
    /// Maximum embedding distance of a frame to the first frame.
    pub max_identity_drift: f32,
    /// How long the face may be missing.
    pub lost_grace_ms: u64,
    /// Consecutive observations with more than one face before the challenge fails.
    pub second_face_frames: u32,
}

impl Default for LivenessConfig {
    fn default() -> Self {
        Self {
            step_timeout_ms: 8_000,
            total_timeout_ms: 20_000,
            ear_closed: 0.12,
            ear_open: 0.18,
            min_closed_frames: 2,
            turn_yaw: 12.0,
            frontal_yaw: 7.0,
            min_iou: 0.3,
            max_identity_drift: 0.5,
            lost_grace_ms: 1_000,
            second_face_frames: 2,
        }
    }
}

/// What one frame showed, as far as liveness is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LivenessObservation {
    /// Time of the frame (ms, any monotonic origin).
    pub at_ms: u64,
    /// Faces counted in the frame (tiny background faces excluded).
    pub faces: usize,
    /// The tracked face's box (the one overlapping the previous box best when there are more).
    pub face_box: Option<BBox>,
    /// Eye openness (person's right, left), when measured on this frame.
    pub ear: Option<(f32, f32)>,
    /// Head yaw in degrees (positive = the citizen's left), when measured.
    pub yaw: Option<f32>,
    /// Embedding distance of this frame's face to the first frame's, when computed.
    pub identity_distance: Option<f32>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LivenessProgress {
    /// `step` is being asked; `instruction` is what to show / say now.
    InProgress {
        step: ChallengeStep,
        instruction: Prompt,
    },
    /// All steps done. Later observations still check that the face stays the same.
    Passed,
    Failed(LivenessFailure),
}

/// Progress inside the current step.
#[derive(Debug, Clone, Copy, PartialEq)]
enum StepState {
    Blink { open_seen: bool, closed_frames: u32 },
    Turn { armed: bool, reached: bool },
}

impl StepState {
    fn fresh(step: ChallengeStep) -> Self {
        match step {
            ChallengeStep::Blink => StepState::Blink {
                open_seen: false,
                closed_frames: 0,
            },
            _ => StepState::Turn {
                armed: false,
                reached: false,
            },
        }
    }
}

/// Seeded choice of the steps: a blink and one turn (left or right), in random order.
pub struct LivenessChallenge {
    config: LivenessConfig,
    steps: [ChallengeStep; 2],
    index: usize,
    state: StepState,
    started_at: Option<u64>,
    step_started_at: u64,
    last_box: Option<BBox>,
    /// The first analysed frame of the current run without a face, and how many there were:
    /// a face is lost only when frames keep coming without it (a slow analysis, seeing a frame
    /// every few seconds, must not count as a lost face).
    missing_since: Option<u64>,
    missing_frames: u32,
    multi_frames: u32,
    failed: Option<LivenessFailure>,
}

/// splitmix64: a tiny well-mixed generator, enough to pick order and direction from a seed.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl LivenessChallenge {
    pub fn new(config: LivenessConfig, seed: u64) -> Self {
        let mut s = seed;
        let r = splitmix64(&mut s);
        let turn = if r & 1 == 0 {
            ChallengeStep::TurnLeft
        } else {
            ChallengeStep::TurnRight
        };
        let steps = if r & 2 == 0 {
            [ChallengeStep::Blink, turn]
        } else {
            [turn, ChallengeStep::Blink]
        };
        Self::with_steps(config, steps)
    }

    /// A challenge with fixed steps (for tests and replays).
    pub fn with_steps(config: LivenessConfig, steps: [ChallengeStep; 2]) -> Self {
        Self {
            config,
            steps,
            index: 0,
            state: StepState::fresh(steps[0]),
            started_at: None,
            step_started_at: 0,
            last_box: None,
            missing_since: None,
            missing_frames: 0,
            multi_frames: 0,
            failed: None,
        }
    }

    pub fn config(&self) -> &LivenessConfig {
        &self.config
    }

    pub fn steps(&self) -> &[ChallengeStep] {
        &self.steps
    }

    /// The step being asked, `None` once all are done.
    pub fn current_step(&self) -> Option<ChallengeStep> {
        self.steps.get(self.index).copied()
    }

    /// Whether the first face was seen (the clocks run from then).
    pub fn started(&self) -> bool {
        self.started_at.is_some()
    }

    pub fn passed(&self) -> bool {
        self.failed.is_none() && self.index >= self.steps.len()
    }

    /// Whether the head is turned away for the current turn step (the orchestrator then does not
    /// show the "look straight" quality prompt).
    pub fn turn_in_progress(&self) -> bool {
        matches!(self.state, StepState::Turn { .. }) && self.current_step().is_some()
    }

    /// The instruction for the current state.
    pub fn instruction(&self) -> Prompt {
        match (self.current_step(), self.state) {
            (None, _) => Prompt::HOLD_STILL,
            (Some(_), StepState::Turn { reached: true, .. }) => TURN_BACK,
            (Some(step), _) => step.prompt(),
        }
    }

    fn fail(&mut self, failure: LivenessFailure) -> LivenessProgress {
        self.failed = Some(failure);
        LivenessProgress::Failed(failure)
    }

    fn progress(&self) -> LivenessProgress {
        match self.current_step() {
            Some(step) => LivenessProgress::InProgress {
                step,
                instruction: self.instruction(),
            },
            None => LivenessProgress::Passed,
        }
    }

    /// Feeds one frame's observation. After a failure, returns the failure; after passing, keeps
    /// checking that the face stays the same (a face change then still fails).
    pub fn observe(&mut self, obs: &LivenessObservation) -> LivenessProgress {
        if let Some(f) = self.failed {
            return LivenessProgress::Failed(f);
        }
        let Some(started) = self.started_at else {
            if obs.faces == 1 && obs.face_box.is_some() {
                self.started_at = Some(obs.at_ms);
                self.step_started_at = obs.at_ms;
                self.last_box = obs.face_box;
                // The first frame can already carry an open-eye or frontal reading.
                self.advance(obs);
            }
            return self.progress();
        };
        let c = self.config;
        if let Some(step) = self.current_step() {
            let now = obs.at_ms;
            if now.saturating_sub(started) > c.total_timeout_ms
                || now.saturating_sub(self.step_started_at) > c.step_timeout_ms
            {
                return self.fail(LivenessFailure::TooSlow { step });
            }
        }
        if obs.faces >= 2 {
            self.multi_frames += 1;
            if self.multi_frames >= c.second_face_frames.max(1) {
                return self.fail(LivenessFailure::SecondFace);
            }
        } else {
            self.multi_frames = 0;
        }
        let Some(bbox) = obs.face_box.filter(|_| obs.faces > 0) else {
            let since = *self.missing_since.get_or_insert(obs.at_ms);
            self.missing_frames += 1;
            if self.missing_frames >= 2 && obs.at_ms.saturating_sub(since) > c.lost_grace_ms {
                return self.fail(LivenessFailure::FaceLost);
            }
            return self.progress();
        };
        self.missing_since = None;
        self.missing_frames = 0;
        if let Some(prev) = self.last_box
            && prev.iou(&bbox) < c.min_iou
        {
            return self.fail(LivenessFailure::FaceChanged);
        }
        if obs
            .identity_distance
            .is_some_and(|d| d > c.max_identity_drift)
        {
            return self.fail(LivenessFailure::FaceChanged);
        }
        self.last_box = Some(bbox);
        if obs.faces == 1 {
            self.advance(obs);
        }
        self.progress()
    }

    /// Moves the current step on with this observation's eye and yaw readings.
    fn advance(&mut self, obs: &LivenessObservation) {
        let Some(step) = self.current_step() else {
            return;
        };
        let c = self.config;
        let done = match (&mut self.state, step) {
            (
                StepState::Blink {
                    open_seen,
                    closed_frames,
                },
                ChallengeStep::Blink,
            ) => match obs.ear {
                Some((r, l)) => {
                    let m = (r + l) / 2.0;
                    if m >= c.ear_open {
                        if *open_seen && *closed_frames >= c.min_closed_frames.max(1) {
                            true
                        } else {
                            *open_seen = true;
                            *closed_frames = 0;
                            false
                        }
                    } else {
                        if m <= c.ear_closed && *open_seen {
                            *closed_frames += 1;
                        }
                        false
                    }
                }
                None => false,
            },
            (StepState::Turn { armed, reached }, _) => match obs.yaw {
                Some(yaw) => {
                    let towards = yaw * step.yaw_sign();
                    if !*armed {
                        // Only a head not already turned the asked way starts the turn.
                        *armed = towards < c.turn_yaw;
                    }
                    if *armed && !*reached && towards >= c.turn_yaw {
                        *reached = true;
                        false
                    } else {
                        *reached && yaw.abs() <= c.frontal_yaw
                    }
                }
                None => false,
            },
            _ => false,
        };
        if done {
            self.index += 1;
            self.step_started_at = obs.at_ms;
            if let Some(next) = self.current_step() {
                self.state = StepState::fresh(next);
                // The same frame can already be the next step's starting point.
                self.advance(obs);
            }
        }
    }
}

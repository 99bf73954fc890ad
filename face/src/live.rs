//! The per-frame live check the kiosk calls from its camera thread: detect, quality gates, the
//! liveness challenge on the face mesh, same-face tracking, and the 1:1 decision on the best
//! frontal frame from inside the challenge.
//!
//! Per frame ([`LiveCheck::process`]): detection (the tracked face is the one overlapping the
//! previous box best) → gates → when the frame is good apart from the head turn, the mesh gives
//! yaw and eye openness for the challenge → every `identity_every_ms` a frontal, gate-passing
//! frame is embedded and compared with the first one (identity continuity). Frontal, gate-passing
//! frames with open eyes are match candidates; only the best chip is kept, in memory, and dropped
//! once the check is decided. With [`LivenessMode::Off`] the first good frontal frame decides.
//! Images, chips and embeddings are never written or logged.

use std::sync::Arc;

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::eyes::eye_openness;
use crate::liveness::{LivenessChallenge, LivenessConfig, LivenessObservation, LivenessProgress};
use crate::mesh::FaceMesh;
use crate::models::MODEL_VERSION;
use crate::quality::{self, QualityIssue};
use crate::{
    AlignedChip, BBox, DEFAULT_THRESHOLD, Detection, Embedding, FaceEngine, FaceError,
    LivenessFailure, Prompt, align_to_chip,
};

/// Face-presence logit below which the mesh's readings are ignored (faces: ≈ 20–50, a cat: −7).
const MIN_MESH_PRESENCE: f32 = 0.0;

/// Whether the active liveness challenge runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LivenessMode {
    Active,
    Off,
}

/// Where the blink signal comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EyeSignal {
    /// Pixels inside the eyes the mesh located ([`crate::eyes`]); the default.
    Appearance,
    /// The mesh's own eye aspect ratio (hardly moves on closed eyes with this model).
    MeshAspectRatio,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LiveCheckConfig {
    pub liveness: LivenessMode,
    pub challenge: LivenessConfig,
    /// Distance at or below which the live face matches the card photo.
    pub threshold: f32,
    /// The check gives up ([`LiveOutcome::TimedOut`]) this long after its first frame.
    pub overall_timeout_ms: u64,
    /// The camera delivers mirrored (selfie-view) frames: the measured yaw is flipped so that
    /// "left" stays the citizen's left.
    pub mirrored: bool,
    /// Minimum time between two identity embeddings (each costs one embedder run).
    pub identity_every_ms: u64,
    pub eye_signal: EyeSignal,
}

impl Default for LiveCheckConfig {
    fn default() -> Self {
        Self {
            liveness: LivenessMode::Active,
            challenge: LivenessConfig::default(),
            threshold: DEFAULT_THRESHOLD,
            overall_timeout_ms: 30_000,
            mirrored: false,
            identity_every_ms: 500,
            eye_signal: EyeSignal::Appearance,
        }
    }
}

/// What the live face is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum Reference {
    /// The ID-card photo's embedding ([`FaceEngine::card_embedding`]).
    Card(Embedding),
    /// No local photo: the check ends with the chip for the centre's identity service.
    Remote,
}

/// The serialisable summary of a decision (no image data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveVerdict {
    /// Card photo ↔ live frame distance (`None` for the centre's check or when not computed).
    pub distance: Option<f32>,
    pub threshold: f32,
    pub liveness: LivenessMode,
    /// `true` when the active challenge passed; always `false` with [`LivenessMode::Off`].
    pub liveness_passed: bool,
    pub model_version: String,
}

#[derive(Debug, Clone)]
pub enum LiveOutcome {
    Matched(LiveVerdict),
    NotMatched(LiveVerdict),
    LivenessFailed(LivenessFailure),
    /// [`Reference::Remote`]: the aligned 150×150 chip of the best frontal frame, to be sent to
    /// the centre and dropped.
    ChipForRemote {
        chip: AlignedChip,
        verdict: LiveVerdict,
    },
    /// No usable face (or, after the challenge, no usable frontal frame) within
    /// `overall_timeout_ms`.
    TimedOut(LiveVerdict),
}

impl LiveOutcome {
    /// What to show once decided.
    pub fn prompt(&self) -> Prompt {
        match self {
            LiveOutcome::Matched(_) => Prompt::new("matched", "核验通过", "Verified"),
            LiveOutcome::NotMatched(_) => Prompt::new(
                "not_matched",
                "人脸与证件照片不一致",
                "Your face does not match the photo on the card",
            ),
            LiveOutcome::LivenessFailed(f) => f.prompt(),
            LiveOutcome::ChipForRemote { .. } => Prompt::new(
                "verifying_remotely",
                "正在联网核验，请稍候",
                "Checking with the identity service, please wait",
            ),
            LiveOutcome::TimedOut(_) => {
                Prompt::new("timed_out", "人脸核验超时", "The face check took too long")
            }
        }
    }
}

/// The result of one frame.
#[derive(Debug, Clone)]
pub struct LiveFrame {
    /// The tracked face: x, y, width, height in frame pixels (for the on-screen outline).
    pub face_box: Option<(f32, f32, f32, f32)>,
    /// What to show / say now.
    pub prompt: Prompt,
    /// Set once decided; every later call returns the same outcome (without analysing).
    pub outcome: Option<LiveOutcome>,
}

/// The best frontal frame so far (in memory only).
struct Candidate {
    chip: AlignedChip,
    /// Lower is better: |yaw ratio| of the 5 points.
    badness: f32,
    embedding: Option<Embedding>,
}

pub struct LiveCheck {
    engine: Arc<FaceEngine>,
    mesh: Option<Arc<FaceMesh>>,
    reference: Reference,
    config: LiveCheckConfig,
    challenge: Option<LivenessChallenge>,
    started_at: Option<u64>,
    last_box: Option<BBox>,
    anchor: Option<Embedding>,
    last_identity_at: Option<u64>,
    best: Option<Candidate>,
    outcome: Option<LiveOutcome>,
}

impl LiveCheck {
    pub fn new(
        engine: Arc<FaceEngine>,
        mesh: Option<Arc<FaceMesh>>,
        reference: Reference,
        config: LiveCheckConfig,
        seed: u64,
    ) -> Self {
        let challenge = (config.liveness == LivenessMode::Active)
            .then(|| LivenessChallenge::new(config.challenge, seed));
        Self {
            engine,
            mesh,
            reference,
            config,
            challenge,
            started_at: None,
            last_box: None,
            anchor: None,
            last_identity_at: None,
            best: None,
            outcome: None,
        }
    }

    /// The challenge's steps (empty with liveness off), e.g. for logging the order.
    pub fn steps(&self) -> &[crate::ChallengeStep] {
        self.challenge.as_ref().map_or(&[], |c| c.steps())
    }

    pub fn outcome(&self) -> Option<&LiveOutcome> {
        self.outcome.as_ref()
    }

    fn verdict(&self, distance: Option<f32>) -> LiveVerdict {
        LiveVerdict {
            distance,
            threshold: self.config.threshold,
            liveness: self.config.liveness,
            liveness_passed: self.challenge.as_ref().is_some_and(|c| c.passed()),
            model_version: MODEL_VERSION.to_string(),
        }
    }

    fn finish(&mut self, outcome: LiveOutcome, face_box: Option<BBox>) -> LiveFrame {
        self.best = None;
        self.anchor = None;
        let prompt = outcome.prompt();
        self.outcome = Some(outcome.clone());
        LiveFrame {
            face_box: face_box.map(xywh),
            prompt,
            outcome: Some(outcome),
        }
    }

    /// Analyses one camera frame taken at `at_ms` (monotonic milliseconds).
    pub fn process(&mut self, frame: &RgbImage, at_ms: u64) -> Result<LiveFrame, FaceError> {
        if let Some(outcome) = &self.outcome {
            return Ok(LiveFrame {
                face_box: None,
                prompt: outcome.prompt(),
                outcome: Some(outcome.clone()),
            });
        }
        if self.challenge.is_some() && self.mesh.is_none() {
            return Err(FaceError::Config(
                "active liveness needs the face mesh model".into(),
            ));
        }
        let started = *self.started_at.get_or_insert(at_ms);
        if at_ms.saturating_sub(started) > self.config.overall_timeout_ms {
            let verdict = self.verdict(None);
            return Ok(self.finish(LiveOutcome::TimedOut(verdict), None));
        }

        let engine = Arc::clone(&self.engine);
        let qc = &engine.config.quality;
        let dets = engine.detector.detect(frame)?;
        let counted = qc.counted(&dets);
        let tracked: Option<Detection> = match (counted.as_slice(), self.last_box) {
            ([], _) => None,
            ([one], _) => Some(**one),
            (many, Some(prev)) => many
                .iter()
                .max_by(|a, b| prev.iou(&a.bbox).total_cmp(&prev.iou(&b.bbox)))
                .map(|d| **d),
            (many, None) => Some(*many[0]),
        };
        let face_box = tracked.map(|d| d.bbox);

        // Gates (only for a single face).
        let mut chip = None;
        let mut metrics = None;
        let issues: Vec<QualityIssue> = match counted.len() {
            0 => vec![QualityIssue::NoFace],
            1 => {
                let det = tracked.expect("one counted face");
                chip = align_to_chip(frame, &det.landmarks);
                let m = quality::measure(
                    frame.width(),
                    frame.height(),
                    &det,
                    chip.as_ref().map(|c| &c.image),
                );
                metrics = Some(m);
                qc.issues(&m)
            }
            n => vec![QualityIssue::MultipleFaces { count: n }],
        };
        let good = counted.len() == 1 && issues.is_empty();
        // Good for the challenge: everything but the head turn may fail.
        let good_for_challenge = counted.len() == 1
            && issues
                .iter()
                .all(|i| matches!(i, QualityIssue::HeadTurned { .. }));

        // Mesh: yaw and eyes.
        let (mut yaw, mut ear) = (None, None);
        if self.challenge.is_some()
            && good_for_challenge
            && let (Some(mesh), Some(det)) = (&self.mesh, tracked)
        {
            let m = mesh.run(frame, &det)?;
            // A crop the mesh does not take for a face gives no readings.
            if m.presence > MIN_MESH_PRESENCE {
                let y = m.yaw_deg();
                yaw = Some(if self.config.mirrored { -y } else { y });
                ear = Some(match self.config.eye_signal {
                    EyeSignal::Appearance => eye_openness(frame, &m),
                    EyeSignal::MeshAspectRatio => m.eye_aspect_ratios(),
                });
            }
        }
        let frontal = match (&self.challenge, yaw) {
            (None, _) => true,
            (Some(c), Some(y)) => y.abs() <= c.config().frontal_yaw,
            (Some(_), None) => false,
        };
        let eyes_open = match (&self.challenge, ear) {
            (None, _) => true,
            (Some(c), Some((r, l))) => (r + l) / 2.0 >= c.config().ear_open,
            (Some(_), None) => false,
        };

        // Identity continuity and the match candidate, on good frontal frames only.
        let mut identity_distance = None;
        if good && frontal {
            let chip = chip.take().expect("good frame has a chip");
            let due = self
                .last_identity_at
                .is_none_or(|t| at_ms.saturating_sub(t) >= self.config.identity_every_ms);
            let mut embedding = None;
            if self.challenge.is_some() && due {
                let e = engine.embedder.embed(&chip.image)?;
                match &self.anchor {
                    Some(a) => identity_distance = Some(a.distance(&e)),
                    None => self.anchor = Some(e.clone()),
                }
                self.last_identity_at = Some(at_ms);
                embedding = Some(e);
            }
            let badness = metrics.map_or(1.0, |m| m.yaw_ratio.abs());
            if eyes_open && self.best.as_ref().is_none_or(|b| badness < b.badness) {
                self.best = Some(Candidate {
                    chip,
                    badness,
                    embedding,
                });
            }
        }

        // The challenge.
        let mut prompt = None;
        if let Some(challenge) = self.challenge.as_mut() {
            let obs = LivenessObservation {
                at_ms,
                faces: counted.len(),
                face_box,
                ear,
                yaw,
                identity_distance,
            };
            match challenge.observe(&obs) {
                LivenessProgress::Failed(f) => {
                    return Ok(self.finish(LiveOutcome::LivenessFailed(f), face_box));
                }
                LivenessProgress::InProgress { instruction, .. } => prompt = Some(instruction),
                LivenessProgress::Passed => {}
            }
        }
        if face_box.is_some() {
            self.last_box = face_box;
        }

        let passed = self.challenge.as_ref().is_none_or(|c| c.passed());
        if passed && self.best.is_some() {
            return self.decide(face_box);
        }

        // What to show: a failing gate first (the head turn only outside a turn step), then
        // the challenge's instruction.
        let turning = self
            .challenge
            .as_ref()
            .is_some_and(|c| c.turn_in_progress());
        let shown_issue = issues
            .iter()
            .find(|i| !(turning && matches!(i, QualityIssue::HeadTurned { .. })));
        let prompt = match (shown_issue, prompt) {
            (Some(issue), _) => issue.prompt(),
            (None, Some(p)) => p,
            (None, None) => Prompt::FACE_SCREEN,
        };
        Ok(LiveFrame {
            face_box: face_box.map(xywh),
            prompt,
            outcome: None,
        })
    }

    /// The challenge passed (or is off) and a frontal chip is there: compare and finish.
    fn decide(&mut self, face_box: Option<BBox>) -> Result<LiveFrame, FaceError> {
        let best = self.best.take().expect("candidate present");
        let embedding = match best.embedding {
            Some(e) => e,
            None => self.engine.embedder.embed(&best.chip.image)?,
        };
        if let Some(anchor) = &self.anchor
            && anchor.distance(&embedding) > self.config.challenge.max_identity_drift
        {
            return Ok(self.finish(
                LiveOutcome::LivenessFailed(LivenessFailure::FaceChanged),
                face_box,
            ));
        }
        let outcome = match &self.reference {
            Reference::Card(card) => {
                let d = card.distance(&embedding);
                let verdict = self.verdict(Some(d));
                if d <= self.config.threshold {
                    LiveOutcome::Matched(verdict)
                } else {
                    LiveOutcome::NotMatched(verdict)
                }
            }
            Reference::Remote => LiveOutcome::ChipForRemote {
                chip: best.chip,
                verdict: self.verdict(None),
            },
        };
        Ok(self.finish(outcome, face_box))
    }
}

fn xywh(b: BBox) -> (f32, f32, f32, f32) {
    (b.x1, b.y1, b.width(), b.height())
}

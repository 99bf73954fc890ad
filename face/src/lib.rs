//! `kiosk-face`: the kiosk's camera face check without UI or camera — detect (CenterFace), quality
//! gates, 5-point alignment to the dlib chip, embedding (dlib ResNet converted to ONNX), 1:1
//! decision, ID-photo simulation and an evaluation over a folder of identities.
//!
//! Everything runs on the CPU with `tract-onnx`. Images and chips only live in memory; nothing here
//! writes or logs image data.
//!
//! ```no_run
//! use kiosk_face::{FaceEngine, ModelPaths, load_rgb};
//! let engine = FaceEngine::load(&ModelPaths::bundled(), Default::default())?;
//! let report = engine.compare(&load_rgb("a.jpg")?, &load_rgb("b.jpg")?)?;
//! println!("{}", serde_json::to_string_pretty(&report).unwrap());
//! # Ok::<(), kiosk_face::FaceError>(())
//! ```

pub mod align;
pub mod detector;
pub mod embed;
pub mod error;
pub mod eval;
pub mod eyes;
pub mod geometry;
pub mod idphoto;
pub mod imageio;
pub mod live;
pub mod liveness;
pub mod matcher;
pub mod mesh;
pub mod models;
pub mod pipeline;
pub mod prompt;
pub mod quality;
pub mod synthetic;

pub use align::{AlignedChip, CHIP_SIZE, DLIB_CHIP_TEMPLATE, align_to_chip};
pub use detector::{Detection, Detector, DetectorConfig};
pub use embed::{EMBEDDING_LEN, Embedder, Embedding};
pub use error::FaceError;
pub use eval::{EvalConfig, EvalReport, evaluate_dir};
pub use geometry::{BBox, Point};
pub use idphoto::{ID_PHOTO_HEIGHT, ID_PHOTO_WIDTH, simulate_id_photo};
pub use imageio::{decode_rgb, load_rgb, pad_image};
pub use live::{
    LiveCheck, LiveCheckConfig, LiveFrame, LiveOutcome, LiveVerdict, LivenessMode, Reference,
};
pub use liveness::{
    ChallengeStep, LivenessChallenge, LivenessConfig, LivenessFailure, LivenessObservation,
    LivenessProgress,
};
pub use matcher::{DEFAULT_THRESHOLD, Decision, MatchResult, decide, distance};
pub use models::ModelPaths;
pub use pipeline::{CompareReport, EngineConfig, FaceAnalysis, FaceEngine, FaceSummary};
pub use prompt::Prompt;
pub use quality::{QualityConfig, QualityIssue, QualityMetrics};

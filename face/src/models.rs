//! Where the model files are.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub const CENTERFACE_FILE: &str = "centerface/centerface.onnx";
pub const DLIB_RESNET_FILE: &str = "dlib-resnet/dlib_face_recognition_resnet_model_v1.onnx";
pub const FACE_MESH_FILE: &str = "mediapipe-face-mesh/face_landmark.onnx";
/// Reported with every decision (the store keeps decision, score and model version only).
pub const MODEL_VERSION: &str = "centerface-bnmerged+dlib-resnet-v1-onnx-b55e2a43";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelPaths {
    pub detector: PathBuf,
    pub embedder: PathBuf,
    /// MediaPipe face mesh for liveness (loaded separately, see [`crate::mesh::FaceMesh`]).
    pub mesh: PathBuf,
}

impl ModelPaths {
    /// The standard file names inside a models folder laid out like the repo's `assets/models/`.
    pub fn in_dir(dir: impl AsRef<Path>) -> Self {
        let dir = dir.as_ref();
        Self {
            detector: dir.join(CENTERFACE_FILE),
            embedder: dir.join(DLIB_RESNET_FILE),
            mesh: dir.join(FACE_MESH_FILE),
        }
    }

    /// The repo's `assets/models/` (resolved at compile time; for tests, tools and development).
    /// An installed kiosk passes its own folder to [`ModelPaths::in_dir`].
    pub fn bundled() -> Self {
        Self::in_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/models"))
    }
}

// Shared by the integration tests (each test file includes it with `mod common;`).
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use kiosk_face::{FaceEngine, ModelPaths};

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/faces")
}

pub fn engine() -> &'static FaceEngine {
    static ENGINE: OnceLock<FaceEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        FaceEngine::load(&ModelPaths::bundled(), Default::default()).expect("models load")
    })
}

//! The crate's error type.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    #[error("cannot read image {path}: {message}")]
    Image { path: PathBuf, message: String },
    #[error("cannot decode image: {0}")]
    Decode(String),
    #[error("model {path}: {message}")]
    Model { path: PathBuf, message: String },
    #[error("inference failed: {0}")]
    Inference(String),
    /// A photo that must show exactly one face (the ID-card photo) shows `count`.
    #[error("expected exactly one face, found {count}")]
    FaceCount { count: usize },
    /// The configuration cannot work (for example active liveness without the face mesh).
    #[error("face check misconfigured: {0}")]
    Config(String),
    #[error("cannot read folder {path}: {message}")]
    Io { path: PathBuf, message: String },
}

pub(crate) fn inference(e: impl std::fmt::Display) -> FaceError {
    FaceError::Inference(e.to_string())
}

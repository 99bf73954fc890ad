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
    #[error("cannot read folder {path}: {message}")]
    Io { path: PathBuf, message: String },
}

pub(crate) fn inference(e: impl std::fmt::Display) -> FaceError {
    FaceError::Inference(e.to_string())
}

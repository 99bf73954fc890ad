//! Image files as camera frames: listing a folder's JPEG and PNG files in name order and
//! decoding one file to RGB24.

use std::path::{Path, PathBuf};

use crate::traits::{CapturedFrame, DeviceError};

/// File extensions a sequence plays (compared without case).
pub const IMAGE_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

/// Whether `path` names a JPEG or PNG file by its extension.
pub fn is_image_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// The JPEG and PNG files directly in `dir`, sorted by file name (byte order, so
/// `frame-001.png` before `frame-002.png`). Other files and sub-folders are ignored. A missing
/// folder is `Disconnected`; a folder without images is `Hardware`.
pub fn list_images(dir: &Path) -> Result<Vec<PathBuf>, DeviceError> {
    if !dir.is_dir() {
        return Err(DeviceError::Disconnected(format!(
            "camera sequence folder {} does not exist",
            dir.display()
        )));
    }
    let entries = std::fs::read_dir(dir).map_err(|e| {
        DeviceError::Hardware(format!(
            "cannot list camera sequence folder {}: {e}",
            dir.display()
        ))
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && is_image_file(path))
        .collect();
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    if files.is_empty() {
        return Err(DeviceError::Hardware(format!(
            "camera sequence folder {} holds no .jpg, .jpeg or .png files",
            dir.display()
        )));
    }
    Ok(files)
}

/// Reads and decodes one JPEG or PNG file to an RGB24 frame (sequence 0, taken now). A
/// missing file is `Disconnected`; an unreadable or undecodable one is `Hardware`; both name
/// the file.
pub fn load_image(path: &Path) -> Result<CapturedFrame, DeviceError> {
    let bytes = std::fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            DeviceError::Disconnected(format!("camera image {} does not exist", path.display()))
        } else {
            DeviceError::Hardware(format!("cannot read camera image {}: {e}", path.display()))
        }
    })?;
    let image = image::load_from_memory(&bytes)
        .map_err(|e| {
            DeviceError::Hardware(format!(
                "cannot decode camera image {}: {e}",
                path.display()
            ))
        })?
        .into_rgb8();
    let (width, height) = image.dimensions();
    Ok(CapturedFrame::rgb24(width, height, image.into_raw()))
}

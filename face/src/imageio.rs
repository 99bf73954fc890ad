//! Image loading (JPEG/PNG) into 8-bit RGB, and padding.

use std::path::Path;

use image::{Rgb, RgbImage};

use crate::FaceError;

/// Loads a JPEG or PNG file as 8-bit RGB (grey and alpha images are converted).
pub fn load_rgb(path: impl AsRef<Path>) -> Result<RgbImage, FaceError> {
    let path = path.as_ref();
    let img = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| FaceError::Image {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?
        .decode()
        .map_err(|e| FaceError::Image {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    Ok(img.into_rgb8())
}

/// Decodes JPEG or PNG bytes (for example a decoded ID-card photo) as 8-bit RGB.
pub fn decode_rgb(bytes: &[u8]) -> Result<RgbImage, FaceError> {
    let img = image::load_from_memory(bytes).map_err(|e| FaceError::Decode(e.to_string()))?;
    Ok(img.into_rgb8())
}

/// Adds a uniform border of `border` pixels in `colour` on every side. CenterFace needs context
/// around a face: tight 150×150 chips are only found after about 50 px of border.
pub fn pad_image(img: &RgbImage, border: u32, colour: [u8; 3]) -> RgbImage {
    let mut out = RgbImage::from_pixel(
        img.width() + 2 * border,
        img.height() + 2 * border,
        Rgb(colour),
    );
    image::imageops::replace(&mut out, img, i64::from(border), i64::from(border));
    out
}

//! RGB24 frames: building and checking a [`CapturedFrame`], and fitting one into another size
//! (scaled with its aspect ratio kept, centred on black: letterbox or pillarbox).

use image::{RgbImage, imageops};

use crate::traits::{CapturedFrame, DeviceError};

impl CapturedFrame {
    /// The one pixel format the camera drivers deliver.
    pub const RGB24: &'static str = "rgb24";

    /// An RGB24 frame. `bytes` must hold `width * height * 3` bytes; [`Self::check_rgb24`]
    /// says whether it does.
    pub fn rgb24(width: u32, height: u32, bytes: Vec<u8>) -> Self {
        CapturedFrame {
            width,
            height,
            bytes,
            format: Self::RGB24,
        }
    }

    /// Checks that this is an RGB24 frame whose byte count matches its size.
    pub fn check_rgb24(&self) -> Result<(), String> {
        if self.format != Self::RGB24 {
            return Err(format!("format is {:?}, not \"rgb24\"", self.format));
        }
        if self.width == 0 || self.height == 0 {
            return Err(format!("empty frame {}x{}", self.width, self.height));
        }
        let expected = rgb24_len(self.width, self.height);
        if self.bytes.len() != expected {
            return Err(format!(
                "{}x{} RGB24 needs {expected} bytes, the frame has {}",
                self.width,
                self.height,
                self.bytes.len()
            ));
        }
        Ok(())
    }

    /// The RGB value at (`x`, `y`), `None` outside the frame or for a frame that is not RGB24.
    pub fn pixel(&self, x: u32, y: u32) -> Option<[u8; 3]> {
        if self.format != Self::RGB24 || x >= self.width || y >= self.height {
            return None;
        }
        let at = (y as usize * self.width as usize + x as usize) * 3;
        self.bytes.get(at..at + 3).map(|p| [p[0], p[1], p[2]])
    }
}

/// Bytes of an RGB24 image of this size.
pub(crate) fn rgb24_len(width: u32, height: u32) -> usize {
    width as usize * height as usize * 3
}

/// `frame` scaled to `width` × `height`: unchanged when it already has that size, otherwise
/// scaled (bilinear) as large as fits with its aspect ratio kept and centred on black.
pub fn fit_frame(
    frame: CapturedFrame,
    width: u32,
    height: u32,
) -> Result<CapturedFrame, DeviceError> {
    frame
        .check_rgb24()
        .map_err(|e| DeviceError::Hardware(format!("cannot scale frame: {e}")))?;
    if frame.width == width && frame.height == height {
        return Ok(frame);
    }
    let CapturedFrame {
        width: src_w,
        height: src_h,
        bytes,
        ..
    } = frame;
    let source = RgbImage::from_raw(src_w, src_h, bytes)
        .ok_or_else(|| DeviceError::Hardware("cannot scale frame: bad buffer".into()))?;
    let (fit_w, fit_h) = fitted_size(src_w, src_h, width, height);
    let scaled = if (fit_w, fit_h) == (src_w, src_h) {
        source
    } else {
        imageops::resize(&source, fit_w, fit_h, imageops::FilterType::Triangle)
    };
    let mut canvas = RgbImage::new(width, height);
    let left = i64::from((width - fit_w) / 2);
    let top = i64::from((height - fit_h) / 2);
    imageops::replace(&mut canvas, &scaled, left, top);
    Ok(CapturedFrame::rgb24(width, height, canvas.into_raw()))
}

/// The largest size with the aspect ratio of `src_w` × `src_h` that fits in `max_w` × `max_h`
/// (at least 1 × 1).
fn fitted_size(src_w: u32, src_h: u32, max_w: u32, max_h: u32) -> (u32, u32) {
    // Compare src_w / src_h with max_w / max_h without floating point.
    let (sw, sh, mw, mh) = (
        u64::from(src_w),
        u64::from(src_h),
        u64::from(max_w),
        u64::from(max_h),
    );
    let (w, h) = if sw * mh >= mw * sh {
        // Wider than the target: full width, bars top and bottom.
        (mw, (sh * mw + sw / 2) / sw)
    } else {
        // Taller: full height, bars left and right.
        ((sw * mh + sh / 2) / sh, mh)
    };
    (w.clamp(1, mw) as u32, h.clamp(1, mh) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(width: u32, height: u32, rgb: [u8; 3]) -> CapturedFrame {
        CapturedFrame::rgb24(width, height, rgb.repeat((width * height) as usize))
    }

    #[test]
    fn fitted_sizes_keep_the_aspect_ratio() {
        assert_eq!(fitted_size(640, 480, 320, 240), (320, 240));
        assert_eq!(fitted_size(1280, 720, 640, 480), (640, 360));
        assert_eq!(fitted_size(480, 640, 640, 480), (360, 480));
        assert_eq!(fitted_size(10, 10, 640, 480), (480, 480));
        assert_eq!(fitted_size(10_000, 1, 64, 48), (64, 1));
    }

    #[test]
    fn same_size_is_returned_untouched() {
        let frame = solid(32, 24, [1, 2, 3]);
        let fitted = fit_frame(frame.clone(), 32, 24).unwrap();
        assert_eq!(fitted, frame);
    }

    #[test]
    fn wide_frame_is_letterboxed() {
        let fitted = fit_frame(solid(64, 16, [200, 100, 50]), 32, 32).unwrap();
        assert_eq!((fitted.width, fitted.height), (32, 32));
        assert!(fitted.check_rgb24().is_ok());
        assert_eq!(fitted.pixel(16, 0), Some([0, 0, 0]), "bar on top");
        assert_eq!(fitted.pixel(16, 31), Some([0, 0, 0]), "bar at the bottom");
        assert_eq!(fitted.pixel(16, 16), Some([200, 100, 50]));
    }

    #[test]
    fn bad_frames_are_refused() {
        let mut short = solid(4, 4, [0, 0, 0]);
        short.bytes.pop();
        assert!(fit_frame(short.clone(), 8, 8).is_err());
        assert!(short.check_rgb24().unwrap_err().contains("48 bytes"));
        let mut jpeg = solid(4, 4, [0, 0, 0]);
        jpeg.format = "jpeg";
        assert!(jpeg.check_rgb24().is_err());
        assert_eq!(jpeg.pixel(0, 0), None);
    }
}

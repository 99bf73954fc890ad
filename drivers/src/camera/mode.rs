//! Choosing among the modes a camera offers the one closest to what was asked.

use crate::camera::decode::PixelFormat;
use crate::camera::settings::{CameraMode, CameraSettings};

/// One mode a camera offers: a raw pixel format at a size and rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SourceMode {
    /// Raw pixel format.
    pub format: PixelFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
}

impl SourceMode {
    /// The frames this mode delivers once decoded to RGB24.
    pub fn camera_mode(&self) -> CameraMode {
        CameraMode {
            width: self.width,
            height: self.height,
            fps: self.fps,
        }
    }
}

impl std::fmt::Display for SourceMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}x{} at {} fps",
            self.format, self.width, self.height, self.fps
        )
    }
}

/// The offered mode closest to `wanted`: first the size nearest in width plus height (on a
/// tie the larger), then the frame rate nearest (on a tie the higher), then the format that
/// is cheapest to decode (YUYV, MJPEG, RGB24, BGR24, NV12, grey). `None` when nothing is
/// offered.
pub fn choose_mode(offered: &[SourceMode], wanted: &CameraSettings) -> Option<SourceMode> {
    offered.iter().copied().min_by_key(|m| {
        let size_distance = m.width.abs_diff(wanted.width) + m.height.abs_diff(wanted.height);
        let fps_distance = m.fps.abs_diff(wanted.fps);
        (
            size_distance,
            std::cmp::Reverse(u64::from(m.width) * u64::from(m.height)),
            fps_distance,
            std::cmp::Reverse(m.fps),
            format_rank(m.format),
        )
    })
}

fn format_rank(format: PixelFormat) -> u8 {
    match format {
        PixelFormat::Yuyv => 0,
        PixelFormat::Mjpeg => 1,
        PixelFormat::Rgb24 => 2,
        PixelFormat::Bgr24 => 3,
        PixelFormat::Nv12 => 4,
        PixelFormat::Gray => 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(format: PixelFormat, width: u32, height: u32, fps: u32) -> SourceMode {
        SourceMode {
            format,
            width,
            height,
            fps,
        }
    }

    fn want(width: u32, height: u32, fps: u32) -> CameraSettings {
        CameraSettings { width, height, fps }
    }

    #[test]
    fn exact_match_wins() {
        let offered = [
            m(PixelFormat::Mjpeg, 1280, 720, 30),
            m(PixelFormat::Yuyv, 640, 480, 30),
            m(PixelFormat::Yuyv, 640, 480, 15),
        ];
        assert_eq!(choose_mode(&offered, &want(640, 480, 15)), Some(offered[2]));
    }

    #[test]
    fn closest_size_then_rate_then_cheapest_format() {
        let offered = [
            m(PixelFormat::Mjpeg, 1920, 1080, 30),
            m(PixelFormat::Mjpeg, 1280, 720, 30),
            m(PixelFormat::Yuyv, 1280, 720, 10),
            m(PixelFormat::Yuyv, 320, 240, 30),
        ];
        // 1280x720 is nearest to 1024x768; MJPEG has the rate asked for.
        assert_eq!(
            choose_mode(&offered, &want(1024, 768, 30)),
            Some(offered[1])
        );
        // Same size and rate in two formats: YUYV.
        let both = [
            m(PixelFormat::Mjpeg, 640, 480, 30),
            m(PixelFormat::Yuyv, 640, 480, 30),
        ];
        assert_eq!(choose_mode(&both, &want(640, 480, 30)), Some(both[1]));
        assert_eq!(choose_mode(&[], &want(640, 480, 30)), None);
    }
}

//! What the kiosk asks of a camera ([`CameraSettings`], from `[devices.camera]` `width`,
//! `height`, `fps`) and what a camera delivers ([`CameraMode`]).

use crate::traits::DeviceError;

/// The frame size and rate asked for. A real camera grants the closest mode it has; a file
/// sequence scales its frames to exactly this size and plays at exactly this rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CameraSettings {
    /// Frame width in pixels (16 to 4096).
    pub width: u32,
    /// Frame height in pixels (16 to 4096).
    pub height: u32,
    /// Frames per second (1 to 120).
    pub fps: u32,
}

impl Default for CameraSettings {
    /// 640 × 480 at 15 frames per second: enough for a face check, light on a kiosk's CPU.
    fn default() -> Self {
        CameraSettings {
            width: Self::DEFAULT_WIDTH,
            height: Self::DEFAULT_HEIGHT,
            fps: Self::DEFAULT_FPS,
        }
    }
}

impl CameraSettings {
    /// Width when none is configured.
    pub const DEFAULT_WIDTH: u32 = 640;
    /// Height when none is configured.
    pub const DEFAULT_HEIGHT: u32 = 480;
    /// Frame rate when none is configured.
    pub const DEFAULT_FPS: u32 = 15;
    /// Smallest and largest width or height accepted.
    pub const SIZE_RANGE: std::ops::RangeInclusive<u32> = 16..=4096;
    /// Frame rates accepted.
    pub const FPS_RANGE: std::ops::RangeInclusive<u32> = 1..=120;

    /// Settings from the optional config values; missing ones take the defaults. Width and
    /// height come together (one without the other is an error), and each must be in range.
    pub fn from_options(
        width: Option<u32>,
        height: Option<u32>,
        fps: Option<u32>,
    ) -> Result<Self, DeviceError> {
        let (width, height) = match (width, height) {
            (Some(w), Some(h)) => (w, h),
            (None, None) => (Self::DEFAULT_WIDTH, Self::DEFAULT_HEIGHT),
            (Some(_), None) => return Err(invalid("width is set but height is not; give both")),
            (None, Some(_)) => return Err(invalid("height is set but width is not; give both")),
        };
        let settings = CameraSettings {
            width,
            height,
            fps: fps.unwrap_or(Self::DEFAULT_FPS),
        };
        settings.validate()?;
        Ok(settings)
    }

    /// Checks the ranges: width and height 16 to 4096, fps 1 to 120.
    pub fn validate(&self) -> Result<(), DeviceError> {
        if !Self::SIZE_RANGE.contains(&self.width) {
            return Err(invalid(&format!(
                "width {} is out of range (16 to 4096)",
                self.width
            )));
        }
        if !Self::SIZE_RANGE.contains(&self.height) {
            return Err(invalid(&format!(
                "height {} is out of range (16 to 4096)",
                self.height
            )));
        }
        if !Self::FPS_RANGE.contains(&self.fps) {
            return Err(invalid(&format!(
                "fps {} is out of range (1 to 120)",
                self.fps
            )));
        }
        Ok(())
    }

    /// The mode these settings ask for.
    pub fn mode(&self) -> CameraMode {
        CameraMode {
            width: self.width,
            height: self.height,
            fps: self.fps,
        }
    }
}

fn invalid(what: &str) -> DeviceError {
    DeviceError::Unsupported(format!("camera settings: {what}"))
}

/// What a camera delivers: the size of its RGB24 frames and its frame rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CameraMode {
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
}

impl std::fmt::Display for CameraMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{} at {} fps", self.width, self.height, self.fps)
    }
}

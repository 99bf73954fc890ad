//! The camera's `port` in the kiosk config, and [`open_camera`], which opens the driver it
//! names:
//!
//! | port | camera |
//! |---|---|
//! | `/dev/video0`, `/dev/v4l/by-id/…` | V4L2 ([`crate::camera::V4l2Camera`], feature `camera-v4l`) |
//! | `sequence:/path/to/folder` | the folder's JPEG/PNG files in name order, looping |
//! | `sequence-once:/path/to/folder` | the same, played once (then "sequence ended") |
//! | `still:/path/to/image.jpg` | one image, repeated |
//!
//! Each scheme also takes the URL form, `sequence:///srv/demo/face` = `sequence:/srv/demo/face`
//! (`sequence://demo/face` is the relative `demo/face`).
//!
//! `simulator` is not opened here: the demo builds its frames and passes them to
//! [`SequenceCamera::from_frames`].

use std::path::{Path, PathBuf};

use crate::camera::sequence::SequenceCamera;
use crate::camera::settings::CameraSettings;
use crate::traits::{CameraDevice, DeviceError};

/// Where the camera's frames come from, as read from `port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraPort {
    /// A V4L2 device node (`/dev/videoN` or a link to one).
    V4l2(PathBuf),
    /// A folder of images; `looping` for `sequence:`, not for `sequence-once:`.
    Sequence {
        /// The folder.
        dir: PathBuf,
        /// Start again after the last image.
        looping: bool,
    },
    /// One image shown over and over.
    Still(PathBuf),
}

impl CameraPort {
    /// Reads a `port` value. `simulator` and anything not in the table above is
    /// `DeviceError::Unsupported` with a message listing the accepted forms.
    pub fn parse(port: &str) -> Result<CameraPort, DeviceError> {
        let port = port.trim();
        let path_after = |prefix: &str| -> Option<Result<PathBuf, DeviceError>> {
            let rest = port.strip_prefix(prefix)?.trim();
            // URL form, `sequence:///srv/demo` (what a URL-minded config check lets through).
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            Some(if rest.is_empty() {
                Err(DeviceError::Unsupported(format!(
                    "camera port {port:?}: a path must follow {prefix:?}"
                )))
            } else {
                Ok(PathBuf::from(rest))
            })
        };
        if let Some(dir) = path_after("sequence:") {
            return Ok(CameraPort::Sequence {
                dir: dir?,
                looping: true,
            });
        }
        if let Some(dir) = path_after("sequence-once:") {
            return Ok(CameraPort::Sequence {
                dir: dir?,
                looping: false,
            });
        }
        if let Some(path) = path_after("still:") {
            return Ok(CameraPort::Still(path?));
        }
        if port.starts_with("/dev/") {
            return Ok(CameraPort::V4l2(PathBuf::from(port)));
        }
        let hint = if port == "simulator" {
            " (the demo's simulated camera is made by the caller with SequenceCamera::from_frames)"
        } else {
            ""
        };
        Err(DeviceError::Unsupported(format!(
            "unknown camera port {port:?}: use /dev/videoN, sequence:/folder, \
             sequence-once:/folder or still:/image.jpg{hint}"
        )))
    }
}

/// The V4L2 index of a device node: `N` of `/dev/videoN`, following symlinks (udev's
/// `/dev/v4l/by-id/…`). `None` when the name (or the link's target) is not `videoN`.
pub fn v4l2_index(path: &Path) -> Option<u32> {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let name = real.file_name()?.to_str()?;
    let digits = name.strip_prefix("video")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Opens the camera `port` names, with `settings` (see the table in [`crate::camera::port`]).
/// Errors: an unknown port, or a V4L2 port in a build without the `camera-v4l` feature, is
/// `Unsupported`; a missing device, folder or image is `Disconnected`; a folder without
/// images, an unreadable image or a device that refuses to open is `Hardware`.
pub fn open_camera(
    port: &str,
    settings: &CameraSettings,
) -> Result<Box<dyn CameraDevice + Send>, DeviceError> {
    settings.validate()?;
    match CameraPort::parse(port)? {
        CameraPort::V4l2(device) => open_v4l2_boxed(&device, settings),
        CameraPort::Sequence { dir, looping } => Ok(Box::new(SequenceCamera::open_folder(
            dir, settings, looping,
        )?)),
        CameraPort::Still(path) => Ok(Box::new(SequenceCamera::open_still(path, settings)?)),
    }
}

#[cfg(feature = "camera-v4l")]
fn open_v4l2_boxed(
    device: &Path,
    settings: &CameraSettings,
) -> Result<Box<dyn CameraDevice + Send>, DeviceError> {
    Ok(Box::new(crate::camera::v4l2::open_v4l2(device, settings)?))
}

#[cfg(not(feature = "camera-v4l"))]
fn open_v4l2_boxed(
    device: &Path,
    _settings: &CameraSettings,
) -> Result<Box<dyn CameraDevice + Send>, DeviceError> {
    Err(DeviceError::Unsupported(format!(
        "camera port {}: this build has no V4L2 camera driver (kiosk-drivers feature camera-v4l)",
        device.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_parse() {
        assert_eq!(
            CameraPort::parse("/dev/video0").unwrap(),
            CameraPort::V4l2("/dev/video0".into())
        );
        assert_eq!(
            CameraPort::parse(" sequence:/srv/demo/face ").unwrap(),
            CameraPort::Sequence {
                dir: "/srv/demo/face".into(),
                looping: true
            }
        );
        assert_eq!(
            CameraPort::parse("sequence-once:clips/a").unwrap(),
            CameraPort::Sequence {
                dir: "clips/a".into(),
                looping: false
            }
        );
        assert_eq!(
            CameraPort::parse("still:/x/face.png").unwrap(),
            CameraPort::Still("/x/face.png".into())
        );
        assert_eq!(
            CameraPort::parse("sequence:///srv/demo/face").unwrap(),
            CameraPort::Sequence {
                dir: "/srv/demo/face".into(),
                looping: true
            }
        );
        assert_eq!(
            CameraPort::parse("still://rel/face.png").unwrap(),
            CameraPort::Still("rel/face.png".into())
        );
        assert!(CameraPort::parse("still:").is_err());
        assert!(CameraPort::parse("still://").is_err());
        let unknown = CameraPort::parse("rtsp://cam/1").unwrap_err().to_string();
        assert!(
            unknown.contains("rtsp://cam/1") && unknown.contains("sequence:"),
            "{unknown}"
        );
        let sim = CameraPort::parse("simulator").unwrap_err().to_string();
        assert!(sim.contains("from_frames"), "{sim}");
    }

    #[test]
    fn v4l2_indexes() {
        assert_eq!(v4l2_index(Path::new("/dev/video9")), Some(9));
        assert_eq!(v4l2_index(Path::new("/dev/video12")), Some(12));
        assert_eq!(v4l2_index(Path::new("/dev/ttyUSB0")), None);
        assert_eq!(v4l2_index(Path::new("/dev/video")), None);
        assert_eq!(v4l2_index(Path::new("/dev/video1x")), None);
    }
}

//! The real camera: V4L2 through `nokhwa` (feature `camera-v4l`). [`V4l2Camera`] is a
//! [`LiveCamera`] over [`V4l2Opener`], which opens `/dev/videoN` (or a udev symlink to it such
//! as `/dev/v4l/by-id/…`), lists the modes the camera offers, picks the closest to the
//! settings ([`choose_mode`]) and hands raw frames to the live camera for decoding.
//!
//! Not tested against a real camera here (the build machine has none): what is tested is the
//! missing-device path, and the live camera's unplug / timeout / re-open logic with a stand-in
//! backend.

use std::path::{Path, PathBuf};

use nokhwa::Camera;
use nokhwa::utils::{
    CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType, Resolution,
};

use crate::camera::decode::PixelFormat;
use crate::camera::live::{BackendError, BackendOpener, CaptureBackend, LiveCamera, RawFrame};
use crate::camera::mode::{SourceMode, choose_mode};
use crate::camera::port::v4l2_index;
use crate::camera::settings::CameraSettings;
use crate::traits::DeviceError;

/// The V4L2 camera driver: a [`LiveCamera`] whose backend is nokhwa's V4L2 capture.
pub type V4l2Camera = LiveCamera;

/// Every raw format nokhwa reports that the driver can decode.
const FORMATS: [FrameFormat; 6] = [
    FrameFormat::YUYV,
    FrameFormat::MJPEG,
    FrameFormat::RAWRGB,
    FrameFormat::RAWBGR,
    FrameFormat::NV12,
    FrameFormat::GRAY,
];

/// Opens a V4L2 camera through nokhwa and returns it as a [`V4l2Camera`]. A missing node is
/// `Disconnected` ("no camera at /dev/video9").
pub fn open_v4l2(
    device: impl AsRef<Path>,
    settings: &CameraSettings,
) -> Result<V4l2Camera, DeviceError> {
    LiveCamera::open(Box::new(V4l2Opener::new(device)), settings)
}

/// Opens `/dev/videoN` (or a symlink to it) with nokhwa.
#[derive(Debug, Clone)]
pub struct V4l2Opener {
    path: PathBuf,
}

impl V4l2Opener {
    /// An opener for this device node.
    pub fn new(device: impl AsRef<Path>) -> Self {
        V4l2Opener {
            path: device.as_ref().to_path_buf(),
        }
    }
}

impl BackendOpener for V4l2Opener {
    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn is_present(&self) -> bool {
        self.path.exists()
    }

    fn open(&mut self, settings: &CameraSettings) -> Result<Box<dyn CaptureBackend>, BackendError> {
        let index = v4l2_index(&self.path).ok_or_else(|| {
            BackendError::Failed(format!(
                "{} is not a V4L2 video node (/dev/videoN or a link to one)",
                self.path.display()
            ))
        })?;
        let failed = |what: &str, e: nokhwa::NokhwaError| {
            if self.path.exists() {
                BackendError::Failed(format!("{what}: {e}"))
            } else {
                BackendError::Gone(format!("{what}: {e}"))
            }
        };
        // Open in any decodable format, then choose among everything the camera offers.
        let any = RequestedFormat::with_formats(RequestedFormatType::None, &FORMATS);
        let mut camera =
            Camera::new(CameraIndex::Index(index), any).map_err(|e| failed("open", e))?;
        let offered: Vec<SourceMode> = camera
            .compatible_camera_formats()
            .map_err(|e| failed("list modes", e))?
            .into_iter()
            .filter_map(|f| source_mode(&f))
            .collect();
        let chosen = choose_mode(&offered, settings).ok_or_else(|| {
            BackendError::Failed("the camera offers no mode in a format the driver decodes".into())
        })?;
        let exact = CameraFormat::new(
            Resolution::new(chosen.width, chosen.height),
            frame_format(chosen.format),
            chosen.fps,
        );
        let current = camera.camera_format();
        if current != exact {
            camera
                .set_camera_requset(RequestedFormat::with_formats(
                    RequestedFormatType::Exact(exact),
                    &FORMATS,
                ))
                .map_err(|e| failed(&format!("set mode {chosen}"), e))?;
        }
        let mode = source_mode(&camera.camera_format()).unwrap_or(chosen);
        Ok(Box::new(NokhwaBackend { camera, mode }))
    }
}

struct NokhwaBackend {
    camera: Camera,
    mode: SourceMode,
}

impl CaptureBackend for NokhwaBackend {
    fn mode(&self) -> SourceMode {
        self.mode
    }

    fn start(&mut self) -> Result<(), BackendError> {
        self.camera
            .open_stream()
            .map_err(|e| BackendError::Gone(e.to_string()))
    }

    fn stop(&mut self) {
        let _ = self.camera.stop_stream();
    }

    fn next_frame(&mut self) -> Result<RawFrame, BackendError> {
        let buffer = self
            .camera
            .frame()
            .map_err(|e| BackendError::Gone(e.to_string()))?;
        let resolution = buffer.resolution();
        let format = pixel_format(buffer.source_frame_format()).unwrap_or(self.mode.format);
        Ok(RawFrame {
            format,
            width: resolution.width(),
            height: resolution.height(),
            data: buffer.buffer().to_vec(),
        })
    }
}

fn pixel_format(format: FrameFormat) -> Option<PixelFormat> {
    Some(match format {
        FrameFormat::MJPEG => PixelFormat::Mjpeg,
        FrameFormat::YUYV => PixelFormat::Yuyv,
        FrameFormat::NV12 => PixelFormat::Nv12,
        FrameFormat::GRAY => PixelFormat::Gray,
        FrameFormat::RAWRGB => PixelFormat::Rgb24,
        FrameFormat::RAWBGR => PixelFormat::Bgr24,
    })
}

fn frame_format(format: PixelFormat) -> FrameFormat {
    match format {
        PixelFormat::Mjpeg => FrameFormat::MJPEG,
        PixelFormat::Yuyv => FrameFormat::YUYV,
        PixelFormat::Nv12 => FrameFormat::NV12,
        PixelFormat::Gray => FrameFormat::GRAY,
        PixelFormat::Rgb24 => FrameFormat::RAWRGB,
        PixelFormat::Bgr24 => FrameFormat::RAWBGR,
    }
}

fn source_mode(format: &CameraFormat) -> Option<SourceMode> {
    Some(SourceMode {
        format: pixel_format(format.format())?,
        width: format.width(),
        height: format.height(),
        fps: format.frame_rate(),
    })
}

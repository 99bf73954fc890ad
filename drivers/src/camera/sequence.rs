//! [`SequenceCamera`]: a camera that plays image files or frames held in memory, for demos
//! and tests. It behaves like a camera: frames come at the configured rate (a capture waits
//! until the next one is due), it streams only between `start_stream` and `stop_stream`, and
//! a folder that disappears looks like an unplugged camera.

use std::path::{Path, PathBuf};

use crate::camera::files::{list_images, load_image};
use crate::camera::frame::fit_frame;
use crate::camera::pacing::FramePacer;
use crate::camera::settings::{CameraMode, CameraSettings};
use crate::status::{DeviceClass, DeviceState, DeviceStatus, StatusDetail};
use crate::traits::{CameraDevice, CapturedFrame, Device, DeviceError};

/// How every "sequence ended" error message begins (the error is
/// `DeviceError::Disconnected`); see [`is_sequence_end`].
pub const SEQUENCE_ENDED: &str = "camera sequence ended";

/// Whether `error` is the end of a sequence played once (rather than a device gone).
pub fn is_sequence_end(error: &DeviceError) -> bool {
    matches!(error, DeviceError::Disconnected(m) if m.starts_with(SEQUENCE_ENDED))
}

enum Source {
    /// Image files, decoded one at a time as they are played.
    Folder { dir: PathBuf, files: Vec<PathBuf> },
    /// Frames already decoded.
    Frames(Vec<CapturedFrame>),
}

/// Plays a folder of JPEG/PNG files (in file-name order), one still image, or frames given in
/// memory, as a [`CameraDevice`].
///
/// * **Pacing**: `capture_frame` blocks until the next frame is due (1 / fps after the one
///   before; the first at once). Frames are never dropped: a slow reader slows the playback.
/// * **Looping**: a looping sequence starts again after its last frame; one played once
///   returns `DeviceError::Disconnected("camera sequence ended …")` ([`is_sequence_end`])
///   from then on, and its status is `offline`. `start_stream` (after `stop_stream`) or
///   `reset` plays it again from the first frame.
/// * **Size**: folder and still frames are fitted to the configured width × height (scaled
///   with the aspect ratio kept, black bars: [`fit_frame`]). In-memory frames pass through
///   unchanged unless [`SequenceCamera::scaled_to`] sets a size.
/// * **Bad files**: a file that cannot be read or decoded makes that one `capture_frame`
///   return `DeviceError::Hardware` naming the file; its turn is used up, the next call plays
///   the next file, and the status stays `online` with the error as `last_error`. A bad
///   in-memory frame given to [`SequenceCamera::from_frames`] is treated the same way.
/// * **Unplug**: when the folder disappears, captures return `DeviceError::Disconnected` and
///   the status is `offline`; when it is back, the next `capture_frame`, `start_stream`,
///   `status` or `reset` reads it again and playback goes on.
pub struct SequenceCamera {
    source: Source,
    description: String,
    output: Option<(u32, u32)>,
    fps: u32,
    looping: bool,
    position: usize,
    streaming: bool,
    ended: bool,
    gone: Option<String>,
    pacer: FramePacer,
    last_error: Option<String>,
}

impl SequenceCamera {
    /// Plays the JPEG and PNG files in `dir`, sorted by file name, fitted to the settings'
    /// size at their rate; `looping` starts again after the last file. A missing folder is
    /// `Disconnected`, one without images `Hardware`.
    pub fn open_folder(
        dir: impl AsRef<Path>,
        settings: &CameraSettings,
        looping: bool,
    ) -> Result<Self, DeviceError> {
        settings.validate()?;
        let dir = dir.as_ref().to_path_buf();
        let files = list_images(&dir)?;
        let description = format!("camera sequence folder {}", dir.display());
        Ok(Self::new(
            Source::Folder { dir, files },
            description,
            Some((settings.width, settings.height)),
            settings.fps,
            looping,
        ))
    }

    /// Shows one image file over and over, fitted to the settings' size, at their rate. The
    /// file is decoded once, now: a missing file is `Disconnected`, a bad one `Hardware`.
    pub fn open_still(
        path: impl AsRef<Path>,
        settings: &CameraSettings,
    ) -> Result<Self, DeviceError> {
        settings.validate()?;
        let path = path.as_ref();
        let frame = fit_frame(load_image(path)?, settings.width, settings.height)?;
        Ok(Self::new(
            Source::Frames(vec![frame]),
            format!("camera still image {}", path.display()),
            Some((settings.width, settings.height)),
            settings.fps,
            true,
        ))
    }

    /// Plays `frames` (RGB24, any sizes, passed through unchanged) at `fps` (clamped to 1 to
    /// 120); `looping` starts again after the last one. Never fails: a frame that is not valid
    /// RGB24 is a `Hardware` error when its turn comes, and with no frames at all every capture
    /// is one and the status is `offline`. [`Self::try_from_frames`] checks them now instead.
    pub fn from_frames(frames: Vec<CapturedFrame>, fps: u32, looping: bool) -> Self {
        let fps = fps.clamp(
            *CameraSettings::FPS_RANGE.start(),
            *CameraSettings::FPS_RANGE.end(),
        );
        Self::new(
            Source::Frames(frames),
            "in-memory camera sequence".into(),
            None,
            fps,
            looping,
        )
    }

    /// [`Self::from_frames`], checking first: an empty list, a rate outside 1 to 120 or a frame
    /// that is not valid RGB24 is `DeviceError::Unsupported`.
    pub fn try_from_frames(
        frames: Vec<CapturedFrame>,
        fps: u32,
        looping: bool,
    ) -> Result<Self, DeviceError> {
        if frames.is_empty() {
            return Err(DeviceError::Unsupported(
                "camera sequence: no frames given".into(),
            ));
        }
        if !CameraSettings::FPS_RANGE.contains(&fps) {
            return Err(DeviceError::Unsupported(format!(
                "camera sequence: fps {fps} is out of range (1 to 120)"
            )));
        }
        for (i, frame) in frames.iter().enumerate() {
            frame.check_rgb24().map_err(|e| {
                DeviceError::Unsupported(format!("camera sequence: frame {i}: {e}"))
            })?;
        }
        Ok(Self::from_frames(frames, fps, looping))
    }

    /// Fits every frame to `width` × `height` as it is played (see [`fit_frame`]).
    pub fn scaled_to(mut self, width: u32, height: u32) -> Self {
        self.output = Some((width.max(1), height.max(1)));
        self
    }

    fn new(
        source: Source,
        description: String,
        output: Option<(u32, u32)>,
        fps: u32,
        looping: bool,
    ) -> Self {
        SequenceCamera {
            source,
            description,
            output,
            fps,
            looping,
            position: 0,
            streaming: false,
            ended: false,
            gone: None,
            pacer: FramePacer::new(fps),
            last_error: None,
        }
    }

    /// Number of frames (files) in the sequence.
    pub fn len(&self) -> usize {
        match &self.source {
            Source::Folder { files, .. } => files.len(),
            Source::Frames(frames) => frames.len(),
        }
    }

    /// Whether there is nothing to play (only possible with [`Self::from_frames`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Index of the frame the next capture plays.
    pub fn position(&self) -> usize {
        self.position
    }

    /// Whether the sequence starts again after its last frame.
    pub fn is_looping(&self) -> bool {
        self.looping
    }

    /// Whether a sequence played once has played its last frame.
    pub fn has_ended(&self) -> bool {
        self.ended
    }

    /// The files played, in order (empty for in-memory frames and stills).
    pub fn files(&self) -> &[PathBuf] {
        match &self.source {
            Source::Folder { files, .. } => files,
            Source::Frames(_) => &[],
        }
    }

    /// Checks that the folder is still there; re-reads it when it has come back.
    fn check_source(&mut self) -> Result<(), DeviceError> {
        let Source::Folder { dir, files } = &mut self.source else {
            return Ok(());
        };
        if !dir.is_dir() {
            let message = format!("{} has disappeared", self.description);
            self.gone = Some(message.clone());
            self.last_error = Some(message.clone());
            return Err(DeviceError::Disconnected(message));
        }
        if self.gone.is_some() {
            *files = list_images(dir).inspect_err(|e| self.last_error = Some(e.to_string()))?;
            self.gone = None;
            self.position = self.position.min(files.len() - 1);
            tracing::info!(source = %self.description, "camera sequence is back");
        }
        Ok(())
    }

    fn ended_error(&self) -> DeviceError {
        DeviceError::Disconnected(format!(
            "{SEQUENCE_ENDED}: all {} frames of the {} were played",
            self.len(),
            self.description
        ))
    }

    fn rewind(&mut self) {
        self.position = 0;
        self.ended = false;
        self.pacer.restart();
    }

    fn no_frames(&self) -> DeviceError {
        DeviceError::Hardware(format!("the {} has no frames", self.description))
    }

    /// The frame at `index`, decoded and fitted to the output size.
    fn frame_at(&self, index: usize) -> Result<CapturedFrame, DeviceError> {
        let frame = match &self.source {
            Source::Frames(frames) => {
                let frame = frames.get(index).ok_or_else(|| self.no_frames())?;
                frame.check_rgb24().map_err(|e| {
                    DeviceError::Hardware(format!(
                        "skipped frame {} of {} of the {}: {e}",
                        index + 1,
                        frames.len(),
                        self.description
                    ))
                })?;
                frame.clone()
            }
            Source::Folder { files, .. } => load_image(&files[index]).map_err(|e| {
                let cause = match e {
                    DeviceError::Disconnected(m) | DeviceError::Hardware(m) => m,
                    other => other.to_string(),
                };
                DeviceError::Hardware(format!(
                    "skipped frame {} of {}: {cause}",
                    index + 1,
                    files.len()
                ))
            })?,
        };
        match self.output {
            Some((w, h)) => fit_frame(frame, w, h),
            None => Ok(frame),
        }
    }
}

impl Device for SequenceCamera {
    type Error = DeviceError;

    fn class(&self) -> DeviceClass {
        DeviceClass::Camera
    }

    /// `online`, or `offline` when the folder has disappeared or a sequence played once has
    /// ended; `streaming` between `start_stream` and `stop_stream` while frames can come.
    fn status(&mut self) -> DeviceStatus {
        let present = self.check_source().is_ok() && !self.is_empty();
        let state = if present && !self.ended {
            DeviceState::Online
        } else {
            DeviceState::Offline
        };
        let status =
            DeviceStatus::new(DeviceClass::Camera, state).with_detail(StatusDetail::Camera {
                streaming: self.streaming && state == DeviceState::Online,
            });
        if self.is_empty() {
            return status.with_error(self.no_frames().to_string());
        }
        match (&self.gone, self.ended, &self.last_error) {
            (Some(gone), _, _) => status.with_error(gone.clone()),
            (None, true, _) => status.with_error(self.ended_error().to_string()),
            (None, false, Some(error)) => status.with_error(error.clone()),
            (None, false, None) => status,
        }
    }

    /// Checks the source is there and the frame to play next decodes.
    fn self_test(&mut self) -> Result<DeviceStatus, DeviceError> {
        self.check_source()?;
        let index = self.position.min(self.len().saturating_sub(1));
        self.frame_at(index)
            .inspect_err(|e| self.last_error = Some(e.to_string()))?;
        Ok(self.status())
    }

    /// Stops the stream, re-reads the folder, clears the last error and goes back to the first
    /// frame.
    fn reset(&mut self) -> Result<(), DeviceError> {
        self.streaming = false;
        self.last_error = None;
        if let Source::Folder { dir, files } = &mut self.source {
            *files = list_images(dir).inspect_err(|e| {
                self.last_error = Some(e.to_string());
                if matches!(e, DeviceError::Disconnected(_)) {
                    self.gone = Some(e.to_string());
                }
            })?;
            self.gone = None;
        }
        self.rewind();
        Ok(())
    }
}

impl CameraDevice for SequenceCamera {
    /// Starts playing from the first frame (a no-op while already streaming).
    fn start_stream(&mut self) -> Result<(), DeviceError> {
        self.check_source()?;
        if !self.streaming || self.ended {
            self.rewind();
            self.streaming = true;
        }
        Ok(())
    }

    fn stop_stream(&mut self) -> Result<(), DeviceError> {
        self.streaming = false;
        Ok(())
    }

    fn capture_frame(&mut self) -> Result<CapturedFrame, DeviceError> {
        if !self.streaming {
            return Err(DeviceError::User(
                "camera stream is not started (call start_stream first)".into(),
            ));
        }
        if self.ended {
            return Err(self.ended_error());
        }
        self.check_source()?;
        if self.is_empty() {
            return Err(self.no_frames());
        }
        if self.position >= self.len() {
            if self.looping {
                self.position = 0;
            } else {
                self.ended = true;
                return Err(self.ended_error());
            }
        }
        self.pacer.wait();
        let index = self.position;
        self.position += 1;
        self.frame_at(index).inspect_err(|e| {
            tracing::warn!(source = %self.description, error = %e, "camera frame skipped");
            self.last_error = Some(e.to_string());
        })
    }

    /// The output size (for unscaled in-memory frames, the first frame's size) and the rate.
    fn mode(&self) -> CameraMode {
        let (width, height) = self.output.unwrap_or_else(|| match &self.source {
            Source::Frames(frames) => frames.first().map_or((0, 0), |f| (f.width, f.height)),
            Source::Folder { .. } => (0, 0),
        });
        CameraMode {
            width,
            height,
            fps: self.fps,
        }
    }
}

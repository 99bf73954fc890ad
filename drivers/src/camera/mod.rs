//! The camera (face check, document photos): every driver delivers RGB24 frames
//! ([`CapturedFrame`](crate::traits::CapturedFrame)) through [`CameraDevice`](crate::traits::CameraDevice).
//!
//! * [`port`]: the config's `port` ([`CameraPort`]) and [`open_camera`].
//! * [`settings`]: asked-for size and rate ([`CameraSettings`]) and what a camera delivers
//!   ([`CameraMode`]).
//! * [`sequence`]: [`SequenceCamera`], a folder of images, one still or in-memory frames played
//!   at the configured rate, for demos and tests.
//! * [`live`]: [`LiveCamera`], a real device behind a capture backend: worker thread, frame
//!   timeout, unplug detection and re-opening.
//! * `v4l2` (feature `camera-v4l`): `V4l2Camera`, the live camera over V4L2 through nokhwa.
//! * [`decode`]: raw camera formats (MJPEG, YUYV, NV12, grey, RGB, BGR) to RGB24.
//! * [`mode`]: choosing the offered mode closest to the settings.
//! * [`frame`]: frame helpers and [`fit_frame`] (scale with black bars).
//! * [`files`]: listing and decoding JPEG/PNG files.

pub mod decode;
pub mod files;
pub mod frame;
pub mod live;
pub mod mode;
mod pacing;
pub mod port;
pub mod sequence;
pub mod settings;
#[cfg(feature = "camera-v4l")]
pub mod v4l2;

pub use decode::{DecodeError, PixelFormat};
pub use frame::fit_frame;
pub use live::{BackendError, BackendOpener, CaptureBackend, LiveCamera, RawFrame};
pub use mode::{SourceMode, choose_mode};
pub use port::{CameraPort, open_camera, v4l2_index};
pub use sequence::{SEQUENCE_ENDED, SequenceCamera, is_sequence_end};
pub use settings::{CameraMode, CameraSettings};
#[cfg(feature = "camera-v4l")]
pub use v4l2::{V4l2Camera, V4l2Opener, open_v4l2};

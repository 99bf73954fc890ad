//! [`LiveCamera`]: a camera device over a capture backend (V4L2 through nokhwa, or a stand-in
//! in tests), with what a kiosk needs around it: frames decoded to RGB24, a worker thread so a
//! camera that stops sending cannot hang the caller (`DeviceError::Timeout` after the frame
//! timeout), unplug detection (a capture error or the device node vanishing) and re-opening
//! when the device is back.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::camera::decode::{DecodeError, PixelFormat, to_rgb24};
use crate::camera::mode::SourceMode;
use crate::camera::settings::{CameraMode, CameraSettings};
use crate::status::{DeviceClass, DeviceState, DeviceStatus, StatusDetail};
use crate::traits::{CameraDevice, CapturedFrame, Device, DeviceError};

/// A frame as the backend got it from the device, before decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    /// Its pixel format.
    pub format: PixelFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The bytes as the device sent them.
    pub data: Vec<u8>,
}

/// Why a backend failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// The device is gone (unplugged, node missing): `DeviceError::Disconnected`.
    #[error("{0}")]
    Gone(String),
    /// Anything else (busy, permission, no usable format): `DeviceError::Hardware`.
    #[error("{0}")]
    Failed(String),
}

/// An open capture device. Runs on the camera's worker thread.
pub trait CaptureBackend: Send + 'static {
    /// The mode the device granted.
    fn mode(&self) -> SourceMode;
    /// Starts streaming.
    fn start(&mut self) -> Result<(), BackendError>;
    /// Stops streaming.
    fn stop(&mut self);
    /// Waits for the next frame. Any error here is taken as the device being gone.
    fn next_frame(&mut self) -> Result<RawFrame, BackendError>;
}

/// Opens (and re-opens) one capture device.
pub trait BackendOpener: Send {
    /// The device in messages, e.g. `/dev/video0`.
    fn describe(&self) -> String;
    /// Whether the device looks present now (its node exists); cheap, called by `status`.
    fn is_present(&self) -> bool;
    /// Opens the device in the mode closest to `settings`.
    fn open(&mut self, settings: &CameraSettings) -> Result<Box<dyn CaptureBackend>, BackendError>;
}

enum Request {
    Start,
    Stop,
    Capture,
}

enum Reply {
    Started(Result<(), BackendError>),
    Stopped,
    Frame(Result<(u32, u32, Vec<u8>), CaptureFailure>),
}

enum CaptureFailure {
    Backend(BackendError),
    Decode(DecodeError),
}

/// Raw frames that fail to decode in a row before the capture reports an error (USB cameras
/// send the odd broken MJPEG frame).
const DECODE_ATTEMPTS: usize = 3;

struct Worker {
    requests: Sender<Request>,
    replies: Receiver<Reply>,
    thread: Option<JoinHandle<()>>,
    /// A request whose reply did not come in time; its reply is still owed.
    pending: Option<PendingKind>,
    streaming: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PendingKind {
    Capture,
    Other,
}

enum CallError {
    Timeout,
    WorkerGone,
}

impl Worker {
    fn spawn(backend: Box<dyn CaptureBackend>, name: &str) -> Result<Worker, DeviceError> {
        let (requests, request_rx) = mpsc::channel();
        let (reply_tx, replies) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("camera {name}"))
            .spawn(move || run_worker(backend, request_rx, reply_tx))
            .map_err(|e| DeviceError::Hardware(format!("cannot start the camera thread: {e}")))?;
        Ok(Worker {
            requests,
            replies,
            thread: Some(thread),
            pending: None,
            streaming: false,
        })
    }

    /// Sends `request` and waits up to `timeout` for its reply. A reply still owed from an
    /// earlier timed-out request is awaited first (and, for two captures, taken as this one's).
    fn call(&mut self, request: Request, timeout: Duration) -> Result<Reply, CallError> {
        let kind = match request {
            Request::Capture => PendingKind::Capture,
            _ => PendingKind::Other,
        };
        let deadline = Instant::now() + timeout;
        if let Some(pending) = self.pending {
            let reply = self.receive(deadline)?;
            self.pending = None;
            if pending == PendingKind::Capture && kind == PendingKind::Capture {
                return Ok(reply);
            }
        }
        self.requests
            .send(request)
            .map_err(|_| CallError::WorkerGone)?;
        self.receive(deadline).inspect_err(|e| {
            if matches!(e, CallError::Timeout) {
                self.pending = Some(kind);
            }
        })
    }

    /// Takes the owed reply if it has come, without waiting.
    fn poll_pending(&mut self) -> Option<Result<Reply, CallError>> {
        self.pending?;
        match self.replies.try_recv() {
            Ok(reply) => {
                self.pending = None;
                Some(Ok(reply))
            }
            Err(mpsc::TryRecvError::Empty) => None,
            Err(mpsc::TryRecvError::Disconnected) => Some(Err(CallError::WorkerGone)),
        }
    }

    fn receive(&mut self, deadline: Instant) -> Result<Reply, CallError> {
        let wait = deadline.saturating_duration_since(Instant::now());
        match self.replies.recv_timeout(wait) {
            Ok(reply) => Ok(reply),
            Err(RecvTimeoutError::Timeout) => Err(CallError::Timeout),
            Err(RecvTimeoutError::Disconnected) => Err(CallError::WorkerGone),
        }
    }

    /// Closes the request channel so the thread stops and drops (closes) the device; waits up
    /// to `grace` for that unless the thread is stuck.
    fn shut_down(mut self, grace: Duration) {
        let Worker {
            requests, thread, ..
        } = &mut self;
        let (closed, _) = mpsc::channel();
        drop(std::mem::replace(requests, closed));
        if let Some(thread) = thread.take() {
            let deadline = Instant::now() + grace;
            while !thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if thread.is_finished() {
                let _ = thread.join();
            }
        }
    }
}

fn run_worker(
    mut backend: Box<dyn CaptureBackend>,
    requests: Receiver<Request>,
    replies: Sender<Reply>,
) {
    while let Ok(request) = requests.recv() {
        let reply = match request {
            Request::Start => Reply::Started(backend.start()),
            Request::Stop => {
                backend.stop();
                Reply::Stopped
            }
            Request::Capture => Reply::Frame(capture(&mut *backend)),
        };
        if replies.send(reply).is_err() {
            break;
        }
    }
    backend.stop();
}

fn capture(backend: &mut dyn CaptureBackend) -> Result<(u32, u32, Vec<u8>), CaptureFailure> {
    let mut last = None;
    for _ in 0..DECODE_ATTEMPTS {
        let raw = backend.next_frame().map_err(CaptureFailure::Backend)?;
        match to_rgb24(raw.format, raw.width, raw.height, &raw.data) {
            Ok(decoded) => return Ok(decoded),
            Err(e) => last = Some(e),
        }
    }
    Err(CaptureFailure::Decode(last.expect("at least one attempt")))
}

/// A camera over a [`BackendOpener`]. `V4l2Camera` is this over nokhwa; tests use stand-ins.
///
/// * Frames are decoded to RGB24 on the worker thread and delivered at the size the device
///   granted ([`CameraDevice::mode`]), not scaled.
/// * A frame that does not come within the frame timeout (default 5 s) is
///   `DeviceError::Timeout`; the status is `offline` until the owed frame comes (seen by the
///   next `capture_frame` or `status`).
/// * A capture error, or the device node vanishing (seen by `status`), closes the device:
///   `DeviceError::Disconnected`, status `offline` with `last_error`. The next
///   `capture_frame`, `start_stream`, `status`, `self_test` or `reset` re-opens it once its
///   node is back, and streaming resumes if it was on.
pub struct LiveCamera {
    opener: Box<dyn BackendOpener>,
    settings: CameraSettings,
    frame_timeout: Duration,
    worker: Option<Worker>,
    granted: Option<SourceMode>,
    want_stream: bool,
    stalled: bool,
    last_error: Option<String>,
}

impl LiveCamera {
    /// Default wait for one frame.
    pub const DEFAULT_FRAME_TIMEOUT: Duration = Duration::from_secs(5);

    /// Opens the device now. A missing device is `Disconnected`; one that cannot be opened
    /// (busy, no permission, no usable format) is `Hardware`.
    pub fn open(
        opener: Box<dyn BackendOpener>,
        settings: &CameraSettings,
    ) -> Result<Self, DeviceError> {
        settings.validate()?;
        let mut camera = LiveCamera {
            opener,
            settings: *settings,
            frame_timeout: Self::DEFAULT_FRAME_TIMEOUT,
            worker: None,
            granted: None,
            want_stream: false,
            stalled: false,
            last_error: None,
        };
        camera.ensure_open()?;
        Ok(camera)
    }

    /// How long `capture_frame` (and start/stop) wait before `DeviceError::Timeout`.
    pub fn set_frame_timeout(&mut self, timeout: Duration) {
        self.frame_timeout = timeout.max(Duration::from_millis(1));
    }

    /// The device's mode as granted (raw format, size, rate), once it has been opened.
    pub fn granted(&self) -> Option<SourceMode> {
        self.granted
    }

    /// Whether the device is open now.
    pub fn is_open(&self) -> bool {
        self.worker.is_some()
    }

    fn ensure_open(&mut self) -> Result<(), DeviceError> {
        if self.worker.is_some() {
            return Ok(());
        }
        let name = self.opener.describe();
        if !self.opener.is_present() {
            let e = DeviceError::Disconnected(format!("no camera at {name}"));
            self.last_error = Some(e.to_string());
            return Err(e);
        }
        let backend = self.opener.open(&self.settings).map_err(|e| {
            let e = match e {
                BackendError::Gone(m) => DeviceError::Disconnected(format!("camera {name}: {m}")),
                BackendError::Failed(m) => {
                    DeviceError::Hardware(format!("cannot open camera {name}: {m}"))
                }
            };
            self.last_error = Some(e.to_string());
            e
        })?;
        let granted = backend.mode();
        tracing::info!(camera = %name, asked = %self.settings.mode(), granted = %granted, "camera opened");
        self.granted = Some(granted);
        self.worker = Some(Worker::spawn(backend, &name)?);
        self.stalled = false;
        if self.want_stream {
            self.start_worker_stream()?;
        }
        self.last_error = None;
        Ok(())
    }

    fn start_worker_stream(&mut self) -> Result<(), DeviceError> {
        let timeout = self.frame_timeout;
        let Some(worker) = self.worker.as_mut() else {
            return Err(self.not_open());
        };
        if worker.streaming {
            return Ok(());
        }
        match worker.call(Request::Start, timeout) {
            Ok(Reply::Started(Ok(()))) => {
                worker.streaming = true;
                Ok(())
            }
            Ok(Reply::Started(Err(e))) => Err(self.lost(format!("cannot start streaming: {e}"))),
            Ok(_) => Err(self.lost("camera thread answered out of turn".into())),
            Err(CallError::Timeout) => Err(self.timed_out("start streaming")),
            Err(CallError::WorkerGone) => Err(self.lost("camera thread stopped".into())),
        }
    }

    fn not_open(&self) -> DeviceError {
        DeviceError::Disconnected(format!("camera {} is not open", self.opener.describe()))
    }

    /// The device is gone: close it, remember why.
    fn lost(&mut self, why: String) -> DeviceError {
        let name = self.opener.describe();
        let message = format!("camera {name} disconnected: {why}");
        tracing::warn!(camera = %name, error = %why, "camera lost");
        if let Some(worker) = self.worker.take() {
            worker.shut_down(Duration::from_secs(1));
        }
        self.stalled = false;
        self.last_error = Some(message.clone());
        DeviceError::Disconnected(message)
    }

    fn timed_out(&mut self, what: &str) -> DeviceError {
        self.stalled = true;
        let message = format!(
            "camera {}: no answer to {what} within {} ms",
            self.opener.describe(),
            self.frame_timeout.as_millis()
        );
        tracing::warn!("{message}");
        self.last_error = Some(message);
        DeviceError::Timeout
    }
}

impl Drop for LiveCamera {
    fn drop(&mut self) {
        if let Some(worker) = self.worker.take() {
            worker.shut_down(Duration::from_millis(500));
        }
    }
}

impl Device for LiveCamera {
    type Error = DeviceError;

    fn class(&self) -> DeviceClass {
        DeviceClass::Camera
    }

    /// `online` while the device is open and answering; `offline` with `last_error` when it
    /// is gone or has stopped sending frames. Notices a vanished node, and re-opens a device
    /// whose node is back.
    fn status(&mut self) -> DeviceStatus {
        // A stalled camera that has sent its owed frame since is answering again.
        match self.worker.as_mut().and_then(Worker::poll_pending) {
            Some(Ok(Reply::Frame(Err(CaptureFailure::Backend(e))))) => {
                let _ = self.lost(e.to_string());
            }
            Some(Ok(_)) => {
                self.stalled = false;
                self.last_error = None;
            }
            Some(Err(_)) => {
                let _ = self.lost("camera thread stopped".into());
            }
            None => {}
        }
        if self.worker.is_some() && !self.opener.is_present() {
            let _ = self.lost("device node disappeared".into());
        } else if self.worker.is_none() && self.opener.is_present() {
            let _ = self.ensure_open();
        }
        let online = self.worker.is_some() && !self.stalled;
        let streaming = online && self.worker.as_ref().is_some_and(|w| w.streaming);
        let state = if online {
            DeviceState::Online
        } else {
            DeviceState::Offline
        };
        let status = DeviceStatus::new(DeviceClass::Camera, state)
            .with_detail(StatusDetail::Camera { streaming });
        match (&self.last_error, online) {
            (Some(e), _) => status.with_error(e.clone()),
            (None, false) => status.with_error(self.not_open().to_string()),
            (None, true) => status,
        }
    }

    /// Opens the device if needed and, when not streaming, takes one frame (start, capture,
    /// stop).
    fn self_test(&mut self) -> Result<DeviceStatus, DeviceError> {
        self.ensure_open()?;
        let streaming = self.worker.as_ref().is_some_and(|w| w.streaming);
        if !streaming {
            self.start_stream()?;
            let frame = self.capture_frame();
            self.stop_stream()?;
            frame?;
        }
        Ok(self.status())
    }

    /// Stops streaming, closes and re-opens the device.
    fn reset(&mut self) -> Result<(), DeviceError> {
        self.want_stream = false;
        if let Some(worker) = self.worker.take() {
            worker.shut_down(Duration::from_secs(1));
        }
        self.stalled = false;
        self.last_error = None;
        self.ensure_open()
    }
}

impl CameraDevice for LiveCamera {
    fn start_stream(&mut self) -> Result<(), DeviceError> {
        self.want_stream = true;
        self.ensure_open()?;
        self.start_worker_stream()
    }

    fn stop_stream(&mut self) -> Result<(), DeviceError> {
        self.want_stream = false;
        let timeout = self.frame_timeout;
        let Some(worker) = self.worker.as_mut() else {
            return Ok(());
        };
        if !worker.streaming && worker.pending.is_none() {
            return Ok(());
        }
        worker.streaming = false;
        match worker.call(Request::Stop, timeout) {
            Ok(_) => Ok(()),
            Err(CallError::Timeout) => Err(self.timed_out("stop streaming")),
            Err(CallError::WorkerGone) => Err(self.lost("camera thread stopped".into())),
        }
    }

    fn capture_frame(&mut self) -> Result<CapturedFrame, DeviceError> {
        if !self.want_stream {
            return Err(DeviceError::User(
                "camera stream is not started (call start_stream first)".into(),
            ));
        }
        self.ensure_open()?;
        self.start_worker_stream()?;
        let timeout = self.frame_timeout;
        let Some(worker) = self.worker.as_mut() else {
            return Err(self.not_open());
        };
        match worker.call(Request::Capture, timeout) {
            Ok(Reply::Frame(Ok((width, height, bytes)))) => {
                self.stalled = false;
                Ok(CapturedFrame::rgb24(width, height, bytes))
            }
            Ok(Reply::Frame(Err(CaptureFailure::Decode(e)))) => {
                self.stalled = false;
                let message = format!(
                    "camera {}: {DECODE_ATTEMPTS} frames in a row could not be decoded: {e}",
                    self.opener.describe()
                );
                self.last_error = Some(message.clone());
                Err(DeviceError::Hardware(message))
            }
            Ok(Reply::Frame(Err(CaptureFailure::Backend(e)))) => Err(self.lost(e.to_string())),
            Ok(_) => Err(self.lost("camera thread answered out of turn".into())),
            Err(CallError::Timeout) => Err(self.timed_out("a frame request")),
            Err(CallError::WorkerGone) => Err(self.lost("camera thread stopped".into())),
        }
    }

    /// The granted size and rate (the asked-for ones before the device was first opened).
    fn mode(&self) -> CameraMode {
        self.granted
            .map(|m| m.camera_mode())
            .unwrap_or_else(|| self.settings.mode())
    }
}

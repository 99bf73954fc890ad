//! The camera's worker thread: runs a session's face check when the flow asks for one and
//! keeps the camera's status on the board between checks.
//!
//! The camera is only open while a check runs (a citizen agreed on the consent screen). Each
//! check: decode the card photo into a reference embedding (or, without a photo decoder or when
//! the item asks for it, end with a face chip for the centre), stream frames into the preview,
//! run the liveness challenge and the match on the latest frame, and report each new
//! instruction as `DeviceProgress` and the end as `StepCompleted` / `StepRefused` /
//! `StepFailed`. Frames, chips and embeddings stay in memory and are dropped when the check
//! ends; only the decision, the distance and the model version are reported.

use super::face_check_run::{CheckOutcome, CheckRequest, run_check};
use super::face_preview::FacePreview;
use super::worker::WorkerHandle;
use super::{DeviceEvent, StatusBoard};
use kiosk_core::device::DeviceClass;
use kiosk_core::flow::FlowEvent;
use kiosk_drivers::idcard::PhotoDecoder;
use kiosk_drivers::status::{DeviceClass as DriverClass, DeviceState, DeviceStatus, StatusDetail};
use kiosk_drivers::traits::{CameraDevice, DeviceError};
use kiosk_face::mesh::FaceMesh;
use kiosk_face::{FaceEngine, ModelPaths};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

/// Why the camera is opened: to see whether it is there (between checks; must be cheap and
/// must not start streaming) or for a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenFor {
    Probe,
    Check,
}

/// Opens the camera (a real one from the configuration, or the demo's simulated one).
pub type CameraOpener =
    Arc<dyn Fn(OpenFor) -> Result<Box<dyn CameraDevice + Send>, DeviceError> + Send + Sync>;

/// Asks the centre's identity-verification service whether a face chip is the card holder.
pub trait RemoteFaceVerifier: Send + Sync {
    /// `chip_rgb`: the aligned 150 × 150 face chip, RGB24; `subject`: whose card it is.
    /// `Err` = the service could not decide (the citizen is offered the other ways).
    fn verify(&self, chip_rgb: &[u8], subject: &FaceSubject) -> Result<RemoteVerdict, String>;
}

/// The centre's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteVerdict {
    pub confirmed: bool,
    /// The service's score, when it gives one.
    pub score: Option<f32>,
}

#[derive(Clone)]
pub struct FaceCheckSettings {
    pub open_camera: CameraOpener,
    pub models: ModelPaths,
    /// The active liveness challenge (blink, head turn) runs.
    pub liveness_active: bool,
    pub threshold: f32,
    /// The whole check's time limit.
    pub timeout: Duration,
    /// Turns the card's WLT photo into pixels; `None` → the centre verifies.
    pub photo_decoder: Option<Arc<dyn PhotoDecoder>>,
    /// The centre's verification; `None` → only local checks.
    pub remote: Option<Arc<dyn RemoteFaceVerifier>>,
    /// How often the idle camera is looked for (unplugged → offline).
    pub probe_interval: Duration,
}

impl std::fmt::Debug for FaceCheckSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceCheckSettings")
            .field("models", &self.models)
            .field("liveness_active", &self.liveness_active)
            .field("threshold", &self.threshold)
            .field("timeout", &self.timeout)
            .field("photo_decoder", &self.photo_decoder.is_some())
            .field("remote", &self.remote.is_some())
            .finish_non_exhaustive()
    }
}

/// Who the face is checked against. Memory only; dropped with the check.
pub struct FaceSubject {
    /// The card's 1024-byte WLT photo, when the card has one.
    pub photo_wlt: Option<Vec<u8>>,
    /// The card's number and type (`resident`, …), for verification by the centre.
    pub id_number: String,
    pub card_type: String,
}

impl std::fmt::Debug for FaceSubject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FaceSubject { .. }")
    }
}

enum Command {
    Start {
        subject: Box<FaceSubject>,
        remote: bool,
    },
    Stop,
    /// Staff's test: frames for two seconds, the frame rate, faces on the last frame.
    SelfTest,
    Shutdown,
}

pub(crate) struct Handle(WorkerHandle<Command>);

impl Handle {
    pub(crate) fn start(&self, subject: FaceSubject, remote: bool) {
        self.0.send(Command::Start {
            subject: Box::new(subject),
            remote,
        });
    }

    pub(crate) fn stop(&self) {
        self.0.send(Command::Stop);
    }

    pub(crate) fn self_test(&self) {
        self.0.send(Command::SelfTest);
    }

    pub(crate) fn shutdown(self) {
        self.0.shutdown(Command::Shutdown);
    }
}

pub(crate) fn spawn(
    settings: FaceCheckSettings,
    preview: FacePreview,
    board: StatusBoard,
    events: Sender<DeviceEvent>,
) -> Handle {
    Handle(WorkerHandle::spawn("camera", move |commands| {
        run(settings, preview, commands, board, events)
    }))
}

pub(crate) fn status(state: DeviceState, streaming: bool, error: Option<String>) -> DeviceStatus {
    let mut status = DeviceStatus::new(DriverClass::Camera, state);
    status.detail = StatusDetail::Camera { streaming };
    match error {
        Some(e) => status.with_error(e),
        None => status,
    }
}

/// The models, loaded at the first check (a kiosk without citizens waiting does not pay for
/// them at start-up).
struct Models {
    engine: Arc<FaceEngine>,
    mesh: Option<Arc<FaceMesh>>,
}

fn load_models(paths: &ModelPaths, liveness: bool) -> Result<Models, String> {
    let engine = FaceEngine::load(paths, Default::default()).map_err(|e| e.to_string())?;
    let mesh = if liveness {
        Some(Arc::new(
            FaceMesh::load(&paths.mesh).map_err(|e| e.to_string())?,
        ))
    } else {
        None
    };
    Ok(Models {
        engine: Arc::new(engine),
        mesh,
    })
}

fn run(
    settings: FaceCheckSettings,
    preview: FacePreview,
    commands: Receiver<Command>,
    board: StatusBoard,
    events: Sender<DeviceEvent>,
) {
    let class = DeviceClass::Camera;
    let mut models: Option<Models> = None;
    probe(&settings, &board, &events);
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(7);
    loop {
        match commands.recv_timeout(settings.probe_interval) {
            Ok(Command::Start { subject, remote }) => {
                if models.is_none() {
                    match load_models(&settings.models, settings.liveness_active) {
                        Ok(m) => models = Some(m),
                        Err(e) => {
                            tracing::error!(error = %e, "face models not loaded");
                            board.update(
                                class,
                                status(
                                    DeviceState::HardwareError,
                                    false,
                                    Some(format!("face models: {e}")),
                                ),
                                &events,
                            );
                            let _ = events.send(DeviceEvent::Flow(FlowEvent::StepFailed {
                                reason: "face models not loaded".into(),
                            }));
                            continue;
                        }
                    }
                }
                let Some(m) = models.as_ref() else { continue };
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let request = CheckRequest {
                    subject: *subject,
                    remote,
                    seed,
                };
                let outcome = run_check(
                    &settings,
                    &m.engine,
                    m.mesh.as_ref(),
                    request,
                    &preview,
                    &StopSignal {
                        commands: &commands,
                    },
                    &board,
                    &events,
                );
                preview.clear();
                match outcome {
                    CheckOutcome::Shutdown => return,
                    CheckOutcome::Reported | CheckOutcome::Stopped => {}
                }
            }
            Ok(Command::Stop) => {}
            Ok(Command::SelfTest) => {
                if models.is_none() {
                    models = load_models(&settings.models, settings.liveness_active).ok();
                }
                let outcome = self_test(&settings, models.as_ref().map(|m| &*m.engine));
                if outcome.is_err() {
                    probe(&settings, &board, &events);
                }
                let _ = events.send(DeviceEvent::CameraTested(outcome));
            }
            Ok(Command::Shutdown) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => probe(&settings, &board, &events),
        }
    }
}

/// Streams for two seconds and reports the frame size, the frame rate and the faces seen on
/// the last frame (staff stand in front of it). The frames are dropped.
fn self_test(settings: &FaceCheckSettings, engine: Option<&FaceEngine>) -> Result<String, String> {
    let mut camera = (settings.open_camera)(OpenFor::Check).map_err(|e| e.to_string())?;
    camera.start_stream().map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let mut frames = 0u32;
    let mut last = None;
    while started.elapsed() < Duration::from_secs(2) {
        match camera.capture_frame() {
            Ok(frame) => {
                frames += 1;
                last = Some(frame);
            }
            Err(e) => {
                let _ = camera.stop_stream();
                return Err(e.to_string());
            }
        }
    }
    let _ = camera.stop_stream();
    let fps = f64::from(frames) / started.elapsed().as_secs_f64();
    let frame = last.ok_or("no frame in two seconds")?;
    let faces = engine
        .zip(image::RgbImage::from_raw(
            frame.width,
            frame.height,
            frame.bytes,
        ))
        .and_then(|(engine, image)| engine.analyze(&image).ok())
        .map(|analysis| analysis.detections.len());
    let liveness = if settings.liveness_active {
        "on"
    } else {
        "OFF"
    };
    Ok(format!(
        "{}×{}, {fps:.1} fps, faces: {}, liveness {liveness}, models {}",
        frame.width,
        frame.height,
        faces.map_or("models not loaded".to_string(), |n| n.to_string()),
        kiosk_face::models::MODEL_VERSION,
    ))
}

/// Between checks: can the camera be opened? (Opening does not start streaming, so no light
/// comes on.) A camera that disappeared is reported offline, and back when it returns.
fn probe(settings: &FaceCheckSettings, board: &StatusBoard, events: &Sender<DeviceEvent>) {
    let state = match (settings.open_camera)(OpenFor::Probe) {
        Ok(_camera) => status(DeviceState::Online, false, None),
        Err(e) => status(DeviceState::NoDevice, false, Some(e.to_string())),
    };
    board.update(DeviceClass::Camera, state, events);
}

/// A check in progress polls the worker's commands through this: `Stop` ends the check,
/// `Shutdown` ends the worker too, and a new `Start` (not expected mid-check) is dropped.
pub(crate) struct StopSignal<'a> {
    commands: &'a Receiver<Command>,
}

impl StopSignal<'_> {
    /// `Some(true)` shutdown, `Some(false)` stop, `None` go on.
    pub(crate) fn poll(&self) -> Option<bool> {
        loop {
            match self.commands.try_recv() {
                Ok(Command::Stop) => return Some(false),
                Ok(Command::Shutdown) => return Some(true),
                Ok(Command::Start { .. } | Command::SelfTest) => continue,
                Err(std::sync::mpsc::TryRecvError::Empty) => return None,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => return Some(true),
            }
        }
    }
}

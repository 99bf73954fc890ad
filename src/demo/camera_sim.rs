//! The demo's camera and card photos.
//!
//! The demo citizen's card carries a simulator photo; the demo's photo decoder turns it into an
//! ID-photo simulation (grey portrait canvas, 102 × 126) of one public test identity
//! (`face/tests/fixtures/faces`, photos from the dlib examples). The simulated camera plays a
//! scene in front of the kiosk, made from a *different* photo of someone:
//!
//! * [`CameraScene::Holder`]: the card holder, alive — a looping clip warped from one still
//!   photo in which the person blinks and turns the head both ways
//!   (`kiosk_face::synthetic::live_sequence`), so the real detector, mesh and challenge pass;
//! * [`CameraScene::HolderPhoto`]: a still photo of the card holder held up to the camera (no
//!   blink, no turn: liveness must fail);
//! * [`CameraScene::OtherPerson`]: someone else, alive (the match must fail);
//! * [`CameraScene::Nobody`]: an empty grey room.
//!
//! Frames are made once per scene and kept in memory.

use crate::devices::{CameraOpener, OpenFor};
use image::RgbImage;
use kiosk_drivers::camera::SequenceCamera;
use kiosk_drivers::idcard::photo::{DecodedPhoto, PhotoDecoder, PhotoError, SimulatedPhotoDecoder};
use kiosk_drivers::traits::{CameraDevice, CapturedFrame, DeviceError};
use kiosk_face::{FaceEngine, ModelPaths};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Frame size and rate of the simulated camera (a usual USB camera gives 25–30 frames a
/// second; the preview shows them all, the analysis takes the latest when it is free).
pub const SIM_FRAME: (u32, u32) = (640, 480);
pub const SIM_FPS: u32 = 25;

/// Who stands in front of the simulated camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CameraScene {
    Holder,
    HolderPhoto,
    OtherPerson,
    Nobody,
}

/// The public test photos the demo uses (none of a real citizen).
fn faces_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("face/tests/fixtures/faces/identities")
}

/// The card holder's card photo and camera photo are two different pictures of one person.
const HOLDER_CARD_PHOTO: &str = "John_Salley/000183_02159543.jpg";
const HOLDER_CAMERA_PHOTO: &str = "John_Salley/000179_02159509.jpg";
const OTHER_CAMERA_PHOTO: &str = "John_Savage/000264_01099001.jpg";

fn load(relative: &str) -> Result<RgbImage, String> {
    kiosk_face::load_rgb(faces_dir().join(relative)).map_err(|e| format!("{relative}: {e}"))
}

/// The simulated camera: a scene, its frames, and an opener for the face-check worker.
#[derive(Clone, Default)]
pub struct SimulatedCamera {
    scene: Arc<Mutex<Option<CameraScene>>>,
    frames: Arc<Mutex<HashMap<CameraScene, Arc<Vec<CapturedFrame>>>>>,
}

/// The face models the demo's simulators use (the simulated citizen, the demo centre's
/// identity service), loaded once per process at first use.
pub fn demo_engine() -> Result<Arc<FaceEngine>, String> {
    static ENGINE: OnceLock<Result<Arc<FaceEngine>, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            FaceEngine::load(&ModelPaths::bundled(), Default::default())
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
}

impl SimulatedCamera {
    /// The card holder stands in front of the camera.
    pub fn new() -> Self {
        let camera = Self::default();
        camera.set_scene(CameraScene::Holder);
        camera
    }

    pub fn set_scene(&self, scene: CameraScene) {
        if let Ok(mut current) = self.scene.lock() {
            *current = Some(scene);
        }
    }

    pub fn scene(&self) -> CameraScene {
        self.scene
            .lock()
            .ok()
            .and_then(|s| *s)
            .unwrap_or(CameraScene::Holder)
    }

    /// What the face-check worker opens: a probe is a one-frame camera (cheap); a check plays
    /// the current scene at [`SIM_FPS`], looping.
    pub fn opener(&self) -> CameraOpener {
        let camera = self.clone();
        Arc::new(
            move |purpose| -> Result<Box<dyn CameraDevice + Send>, DeviceError> {
                let frames = match purpose {
                    OpenFor::Probe => vec![grey_frame()],
                    OpenFor::Check => camera
                        .frames_of(camera.scene())
                        .map_err(DeviceError::Hardware)?
                        .as_ref()
                        .clone(),
                };
                Ok(Box::new(SequenceCamera::from_frames(frames, SIM_FPS, true)))
            },
        )
    }

    fn frames_of(&self, scene: CameraScene) -> Result<Arc<Vec<CapturedFrame>>, String> {
        if let Some(frames) = self.frames.lock().ok().and_then(|f| f.get(&scene).cloned()) {
            return Ok(frames);
        }
        let images = match scene {
            CameraScene::Holder => kiosk_face::synthetic::live_sequence(
                &*demo_engine()?,
                &load(HOLDER_CAMERA_PHOTO)?,
                SIM_FRAME,
                SIM_FPS,
            )
            .map_err(|e| e.to_string())?,
            CameraScene::OtherPerson => kiosk_face::synthetic::live_sequence(
                &*demo_engine()?,
                &load(OTHER_CAMERA_PHOTO)?,
                SIM_FRAME,
                SIM_FPS,
            )
            .map_err(|e| e.to_string())?,
            CameraScene::HolderPhoto => kiosk_face::synthetic::held_photo_sequence(
                &load(HOLDER_CAMERA_PHOTO)?,
                SIM_FRAME,
                SIM_FPS,
            ),
            CameraScene::Nobody => vec![RgbImage::from_pixel(
                SIM_FRAME.0,
                SIM_FRAME.1,
                image::Rgb([128, 128, 128]),
            )],
        };
        let frames: Arc<Vec<CapturedFrame>> = Arc::new(images.into_iter().map(to_frame).collect());
        if let Ok(mut cache) = self.frames.lock() {
            cache.insert(scene, Arc::clone(&frames));
        }
        Ok(frames)
    }
}

fn to_frame(image: RgbImage) -> CapturedFrame {
    CapturedFrame {
        width: image.width(),
        height: image.height(),
        bytes: image.into_raw(),
        format: "rgb24",
    }
}

fn grey_frame() -> CapturedFrame {
    to_frame(RgbImage::from_pixel(64, 48, image::Rgb([128, 128, 128])))
}

/// The demo card holder's ID photo (what the demo card decodes to, and what the demo centre's
/// identity service holds).
pub fn holder_reference_photo() -> Result<RgbImage, String> {
    Ok(kiosk_face::simulate_id_photo(&load(HOLDER_CARD_PHOTO)?))
}

/// Decodes the simulator's card photos into the demo card holder's ID photo; refuses anything
/// else like the simulator's own decoder.
pub struct DemoPhotoDecoder {
    photo: Vec<u8>,
}

impl DemoPhotoDecoder {
    pub fn new() -> Result<Self, String> {
        // Already 102 × 126, the size a card photo decodes to.
        let id_photo = holder_reference_photo()?;
        Ok(Self {
            photo: id_photo.into_raw(),
        })
    }
}

impl PhotoDecoder for DemoPhotoDecoder {
    fn decode(&self, wlt: &[u8]) -> Result<DecodedPhoto, PhotoError> {
        SimulatedPhotoDecoder.decode(wlt)?;
        DecodedPhoto::from_rgb(self.photo.clone())
    }
}

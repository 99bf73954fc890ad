//! One face check, from the card photo to the decision: the camera streams on a capture thread
//! into the preview and a "latest frame" slot; this thread analyses the latest frame whenever
//! it is free (so the preview keeps the camera's frame rate however long analysis takes).

use super::face_check_worker::{FaceCheckSettings, FaceSubject, OpenFor, StopSignal, status};
use super::face_preview::FacePreview;
use super::{DeviceEvent, StatusBoard};
use kiosk_core::device::DeviceClass;
use kiosk_core::flow::FlowEvent;
use kiosk_core::text::LocalizedText;
use kiosk_drivers::status::DeviceState;
use kiosk_drivers::traits::{CapturedFrame, DeviceError};
use kiosk_face::live::{
    LiveCheck, LiveCheckConfig, LiveOutcome, LiveVerdict, LivenessMode, Reference,
};
use kiosk_face::mesh::FaceMesh;
use kiosk_face::{FaceEngine, Prompt};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(crate) struct CheckRequest {
    pub subject: FaceSubject,
    pub remote: bool,
    pub seed: u64,
}

pub(crate) enum CheckOutcome {
    /// The result went to the controller.
    Reported,
    /// The flow stopped the check (back, cancel, time-out).
    Stopped,
    /// The kiosk is shutting down.
    Shutdown,
}

/// What is recorded of a check (an audit event synced to the centre): never an image.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceCheckRecord {
    /// `matched`, `not_matched`, `liveness_failed`, `confirmed_by_centre`,
    /// `refused_by_centre`, `centre_unavailable`, `no_reference`.
    pub decision: &'static str,
    /// Why, as a code (`too_slow:blink`, `face_changed`, …), when not passed.
    pub reason: Option<String>,
    pub distance: Option<f32>,
    pub threshold: f32,
    /// `active` or `off`.
    pub liveness: &'static str,
    pub model_version: String,
    /// Local match or the centre.
    pub verified_by: &'static str,
}

type Latest = Arc<Mutex<Option<(u64, Arc<image::RgbImage>)>>>;

#[allow(clippy::too_many_arguments)]
pub(crate) fn run_check(
    settings: &FaceCheckSettings,
    engine: &Arc<FaceEngine>,
    mesh: Option<&Arc<FaceMesh>>,
    request: CheckRequest,
    preview: &FacePreview,
    stop: &StopSignal<'_>,
    board: &StatusBoard,
    events: &Sender<DeviceEvent>,
) -> CheckOutcome {
    let liveness = if settings.liveness_active {
        LivenessMode::Active
    } else {
        LivenessMode::Off
    };
    let report = |record: FaceCheckRecord, event: FlowEvent| {
        let _ = events.send(DeviceEvent::FaceChecked(record));
        let _ = events.send(DeviceEvent::Flow(event));
    };
    let Some(reference) = reference(settings, engine, &request) else {
        report(
            FaceCheckRecord {
                decision: "no_reference",
                reason: Some("card photo not decodable and no verification by the centre".into()),
                distance: None,
                threshold: settings.threshold,
                liveness: liveness_name(liveness),
                model_version: kiosk_face::models::MODEL_VERSION.into(),
                verified_by: "kiosk",
            },
            FlowEvent::StepRefused {
                message: LocalizedText::new(
                    "本机暂时无法核验此证件的照片",
                    "This kiosk cannot check against this card's photo right now",
                ),
            },
        );
        return CheckOutcome::Reported;
    };
    let remote = matches!(reference, Reference::Remote);

    let mut camera = match (settings.open_camera)(OpenFor::Check) {
        Ok(camera) => camera,
        Err(e) => {
            camera_gone(board, events, &e);
            return CheckOutcome::Reported;
        }
    };
    if let Err(e) = camera.start_stream() {
        camera_gone(board, events, &e);
        return CheckOutcome::Reported;
    }
    board.update(
        DeviceClass::Camera,
        status(DeviceState::Online, true, None),
        events,
    );

    let timeout_ms = settings.timeout.as_millis() as u64;
    let config = LiveCheckConfig {
        liveness,
        threshold: settings.threshold,
        // The whole challenge within the configured time; each instruction gets 12 s (older
        // citizens need a moment to understand it), and a face may leave the picture for 2 s
        // (a head turned far, a slow frame) before it counts as lost.
        challenge: kiosk_face::LivenessConfig {
            step_timeout_ms: 12_000,
            total_timeout_ms: timeout_ms,
            lost_grace_ms: 2_000,
            ..kiosk_face::LivenessConfig::default()
        },
        overall_timeout_ms: timeout_ms + 5_000,
        ..LiveCheckConfig::default()
    };
    let mut live = LiveCheck::new(
        Arc::clone(engine),
        mesh.cloned(),
        reference,
        config,
        request.seed,
    );
    let latest: Latest = Arc::new(Mutex::new(None));
    let capture_stop = AtomicBool::new(false);
    let capture_error: Mutex<Option<DeviceError>> = Mutex::new(None);
    let started = Instant::now();
    let outcome = std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut seq = 0u64;
            while !capture_stop.load(Ordering::Relaxed) {
                match camera.capture_frame() {
                    Ok(frame) => {
                        let Some(image) = to_rgb(frame) else { continue };
                        preview.publish_frame(image.width(), image.height(), image.as_raw());
                        seq += 1;
                        if let Ok(mut slot) = latest.lock() {
                            *slot = Some((seq, Arc::new(image)));
                        }
                    }
                    Err(e) => {
                        if let Ok(mut slot) = capture_error.lock() {
                            *slot = Some(e);
                        }
                        return;
                    }
                }
            }
        });
        let outcome = analyse(
            &mut live,
            &latest,
            &capture_error,
            started,
            settings,
            preview,
            stop,
            board,
            events,
            &request.subject,
            remote,
        );
        capture_stop.store(true, Ordering::Relaxed);
        outcome
    });
    // The latest frame goes with `latest`; the preview is cleared by the worker.
    drop(latest);
    let _ = camera.stop_stream();
    if !matches!(outcome, Analysed::CameraGone) {
        board.update(
            DeviceClass::Camera,
            status(DeviceState::Online, false, None),
            events,
        );
    }
    match outcome {
        Analysed::Shutdown => CheckOutcome::Shutdown,
        Analysed::Stopped => CheckOutcome::Stopped,
        Analysed::CameraGone | Analysed::Reported => CheckOutcome::Reported,
    }
}

enum Analysed {
    Reported,
    Stopped,
    Shutdown,
    CameraGone,
}

#[allow(clippy::too_many_arguments)]
fn analyse(
    live: &mut LiveCheck,
    latest: &Latest,
    capture_error: &Mutex<Option<DeviceError>>,
    started: Instant,
    settings: &FaceCheckSettings,
    preview: &FacePreview,
    stop: &StopSignal<'_>,
    board: &StatusBoard,
    events: &Sender<DeviceEvent>,
    subject: &FaceSubject,
    remote: bool,
) -> Analysed {
    let mut seen = 0u64;
    let mut last_prompt: Option<&'static str> = None;
    let mut errors = 0u32;
    // A safety net over the challenge's own limits: a check never outlives this.
    let hard_limit = settings.timeout + Duration::from_secs(10);
    loop {
        match stop.poll() {
            Some(true) => return Analysed::Shutdown,
            Some(false) => return Analysed::Stopped,
            None => {}
        }
        if let Some(e) = capture_error.lock().ok().and_then(|mut e| e.take()) {
            camera_gone(board, events, &e);
            return Analysed::CameraGone;
        }
        if started.elapsed() > hard_limit {
            let _ = events.send(DeviceEvent::Flow(FlowEvent::StepRefused {
                message: LocalizedText::new("人脸核验超时", "The face check took too long"),
            }));
            return Analysed::Reported;
        }
        let frame = latest
            .lock()
            .ok()
            .and_then(|slot| slot.as_ref().filter(|(s, _)| *s > seen).cloned());
        let Some((seq, image)) = frame else {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        seen = seq;
        let at_ms = started.elapsed().as_millis() as u64;
        let result = match live.process(&image, at_ms) {
            Ok(result) => result,
            Err(e) => {
                errors += 1;
                tracing::warn!(error = %e, "face analysis failed on a frame");
                if errors > 20 {
                    let _ = events.send(DeviceEvent::Flow(FlowEvent::StepFailed {
                        reason: format!("face analysis keeps failing: {e}"),
                    }));
                    return Analysed::Reported;
                }
                continue;
            }
        };
        let (w, h) = (image.width() as f32, image.height() as f32);
        let face_box = result
            .face_box
            .map(|(x, y, bw, bh)| (x / w, y / h, bw / w, bh / h));
        preview.set_overlay(face_box, prompt_text(&result.prompt));
        if last_prompt != Some(result.prompt.code) {
            last_prompt = Some(result.prompt.code);
            let _ = events.send(DeviceEvent::Flow(FlowEvent::DeviceProgress(prompt_text(
                &result.prompt,
            ))));
        }
        if let Some(outcome) = result.outcome {
            finish(outcome, settings, subject, remote, events);
            return Analysed::Reported;
        }
    }
}

/// Reports the decision: the record for the audit trail and the flow event.
fn finish(
    outcome: LiveOutcome,
    settings: &FaceCheckSettings,
    subject: &FaceSubject,
    remote: bool,
    events: &Sender<DeviceEvent>,
) {
    let record =
        |decision: &'static str, reason: Option<String>, v: &LiveVerdict, by| FaceCheckRecord {
            decision,
            reason,
            distance: v.distance,
            threshold: v.threshold,
            liveness: liveness_name(v.liveness),
            model_version: v.model_version.clone(),
            verified_by: by,
        };
    let (record, event) = match outcome {
        LiveOutcome::Matched(v) => (
            record("matched", None, &v, "kiosk"),
            FlowEvent::StepCompleted,
        ),
        LiveOutcome::NotMatched(v) => (
            record("not_matched", None, &v, "kiosk"),
            FlowEvent::StepRefused {
                message: LocalizedText::new(
                    "人脸与证件照片不一致",
                    "Your face does not match the photo on the card",
                ),
            },
        ),
        LiveOutcome::TimedOut(v) => {
            let prompt = LiveOutcome::TimedOut(v.clone()).prompt();
            (
                record(
                    "timed_out",
                    Some("timed_out".into()),
                    &v,
                    if remote { "centre" } else { "kiosk" },
                ),
                FlowEvent::StepRefused {
                    message: prompt_text(&prompt),
                },
            )
        }
        LiveOutcome::LivenessFailed(failure) => {
            let prompt = failure.prompt();
            (
                FaceCheckRecord {
                    decision: "liveness_failed",
                    reason: Some(prompt.code.to_string()),
                    distance: None,
                    threshold: settings.threshold,
                    liveness: "active",
                    model_version: kiosk_face::models::MODEL_VERSION.into(),
                    verified_by: if remote { "centre" } else { "kiosk" },
                },
                FlowEvent::StepRefused {
                    message: prompt_text(&prompt),
                },
            )
        }
        LiveOutcome::ChipForRemote { chip, verdict } => {
            let answer = settings
                .remote
                .as_ref()
                .ok_or_else(|| "no verification by the centre configured".to_string())
                .and_then(|r| r.verify(chip.image.as_raw(), subject));
            drop(chip);
            match answer {
                Ok(answer) if answer.confirmed => (
                    FaceCheckRecord {
                        distance: answer.score,
                        ..record("confirmed_by_centre", None, &verdict, "centre")
                    },
                    FlowEvent::StepCompleted,
                ),
                Ok(answer) => (
                    FaceCheckRecord {
                        distance: answer.score,
                        ..record("refused_by_centre", None, &verdict, "centre")
                    },
                    FlowEvent::StepRefused {
                        message: LocalizedText::new(
                            "身份核验服务未能确认您是证件持有人",
                            "The identity-verification service could not confirm you are the card holder",
                        ),
                    },
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "verification by the centre failed");
                    (
                        record(
                            "centre_unavailable",
                            Some("centre_unavailable".into()),
                            &verdict,
                            "centre",
                        ),
                        FlowEvent::StepRefused {
                            message: LocalizedText::new(
                                "远程身份核验暂时无法连接",
                                "The remote identity check cannot be reached right now",
                            ),
                        },
                    )
                }
            }
        }
    };
    tracing::info!(
        decision = record.decision,
        distance = record.distance,
        liveness = record.liveness,
        "face check decided"
    );
    let _ = events.send(DeviceEvent::FaceChecked(record));
    let _ = events.send(DeviceEvent::Flow(event));
}

/// The reference the live face is compared with: the card photo's embedding, or the centre.
fn reference(
    settings: &FaceCheckSettings,
    engine: &FaceEngine,
    request: &CheckRequest,
) -> Option<Reference> {
    let centre = settings.remote.is_some().then_some(Reference::Remote);
    if request.remote {
        return centre;
    }
    let (Some(decoder), Some(wlt)) = (&settings.photo_decoder, &request.subject.photo_wlt) else {
        tracing::info!("no card photo decoder: the centre verifies");
        return centre;
    };
    let photo = match decoder.decode(wlt) {
        Ok(photo) => photo,
        Err(e) => {
            tracing::warn!(error = %e, "card photo not decoded: the centre verifies");
            return centre;
        }
    };
    let image = image::RgbImage::from_raw(
        photo.width() as u32,
        photo.height() as u32,
        photo.rgb().to_vec(),
    )?;
    match engine.card_embedding(&image) {
        Ok(embedding) => Some(Reference::Card(embedding)),
        Err(e) => {
            tracing::warn!(error = %e, "no face found on the card photo: the centre verifies");
            centre
        }
    }
}

fn camera_gone(board: &StatusBoard, events: &Sender<DeviceEvent>, e: &DeviceError) {
    tracing::warn!(error = %e, "camera lost");
    board.update(
        DeviceClass::Camera,
        status(DeviceState::NoDevice, false, Some(e.to_string())),
        events,
    );
}

fn to_rgb(frame: CapturedFrame) -> Option<image::RgbImage> {
    match frame.format {
        "rgb24" => image::RgbImage::from_raw(frame.width, frame.height, frame.bytes),
        _ => kiosk_face::decode_rgb(&frame.bytes).ok(),
    }
}

fn prompt_text(prompt: &Prompt) -> LocalizedText {
    LocalizedText::new(prompt.zh, prompt.en)
}

fn liveness_name(mode: LivenessMode) -> &'static str {
    match mode {
        LivenessMode::Active => "active",
        LivenessMode::Off => "off",
    }
}

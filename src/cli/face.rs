//! `kiosk face compare IMG_A IMG_B` and `kiosk face eval DIR`: the face check's decision on two
//! pictures, and the evaluation over a folder of identities (genuine and impostor pairs, the
//! ID-photo simulation, non-face images), as JSON on stdout. For tuning the threshold on real
//! camera frames and card photos; nothing is written anywhere.

use anyhow::Context;
use kiosk_face::{EvalConfig, FaceEngine, ModelPaths, evaluate_dir, load_rgb, pad_image};
use std::path::Path;

fn engine(models: Option<&Path>) -> anyhow::Result<FaceEngine> {
    let paths = models
        .map(ModelPaths::in_dir)
        .unwrap_or_else(ModelPaths::bundled);
    FaceEngine::load(&paths, Default::default()).context("loading the face models")
}

/// Prints detections, distance and decision; exit code 0 when the two are the same person,
/// 1 when not (or a picture does not have exactly one face).
pub fn compare(a: &Path, b: &Path, pad: u32, models: Option<&Path>) -> anyhow::Result<i32> {
    let engine = engine(models)?;
    let load = |path: &Path| -> anyhow::Result<image::RgbImage> {
        let image = load_rgb(path).with_context(|| format!("{}", path.display()))?;
        Ok(if pad > 0 {
            pad_image(&image, pad, [128, 128, 128])
        } else {
            image
        })
    };
    let report = engine.compare(&load(a)?, &load(b)?)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    let same = report
        .result
        .as_ref()
        .is_some_and(|r| r.decision == kiosk_face::Decision::Match);
    Ok(if same { 0 } else { 1 })
}

/// Prints the evaluation; exit code 0 when there were no false accepts, false rejects or
/// detections on non-faces at the threshold, 1 otherwise.
pub fn eval(dir: &Path, models: Option<&Path>) -> anyhow::Result<i32> {
    let engine = engine(models)?;
    let report = evaluate_dir(&engine, dir, &EvalConfig::default())
        .with_context(|| format!("evaluating {}", dir.display()))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    let pairs_clean =
        |p: &kiosk_face::eval::PairReport| p.false_accepts.is_empty() && p.false_rejects.is_empty();
    let clean = pairs_clean(&report.pairs)
        && report.detection_failures.is_empty()
        && report.detector_false_positives == 0
        && report
            .id_photo
            .as_ref()
            .is_none_or(|i| pairs_clean(&i.pairs) && i.detection_failures.is_empty());
    Ok(if clean { 0 } else { 1 })
}

//! Evaluation over a folder: `DIR/<identity>/*.jpg` or `DIR/identities/<identity>/*.jpg` (+ optional
//! `DIR/nonfaces/`, `DIR/groups/`).
//!
//! Every identity image is padded (CenterFace needs context around tight chips), detected, aligned
//! and embedded; every pair is scored (genuine = same folder). Each image is also turned into a
//! simulated ID-card photo (102×126) and compared with every *other* image. Non-face images must
//! give no detection; group photos are only counted.

use std::path::{Path, PathBuf};

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::{Embedding, FaceEngine, FaceError, load_rgb, pad_image, simulate_id_photo};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalConfig {
    /// Border added around identity images before detection (pixels).
    pub pad_px: u32,
    pub pad_colour: [u8; 3],
    /// Also compare simulated ID photos against the other images.
    pub id_photo: bool,
    /// Pairs of file stems known to be (near-)duplicates, left out of genuine statistics.
    pub near_duplicates: Vec<(String, String)>,
    /// Width of a histogram bin of distances.
    pub histogram_bin: f32,
}

impl Default for EvalConfig {
    fn default() -> Self {
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        Self {
            pad_px: 50,
            pad_colour: [128, 128, 128],
            id_photo: true,
            // From the provenance of dlib's "johns" examples (face-check reference §5).
            near_duplicates: vec![
                pair("000189_02159361", "000192_02159531"),
                pair("000375_02161138", "000376_02161199"),
                pair("000378_02340151", "000378_03227610"),
            ],
            histogram_bin: 0.05,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageFaces {
    /// Path relative to the evaluated folder.
    pub image: String,
    pub faces: usize,
    pub best_score: Option<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairDistance {
    pub a: String,
    pub b: String,
    pub distance: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistanceStats {
    pub count: usize,
    pub min: Option<f32>,
    pub max: Option<f32>,
    pub mean: Option<f32>,
    pub median: Option<f32>,
    /// Counts per bin of `histogram_bin` starting at 0 (last bin: everything beyond).
    pub histogram: Vec<usize>,
}

impl DistanceStats {
    fn new(mut d: Vec<f32>, bin: f32) -> Self {
        d.sort_by(f32::total_cmp);
        let n = d.len();
        let bins = (1.5 / bin).ceil() as usize + 1;
        let mut histogram = vec![0; bins];
        for v in &d {
            histogram[((v / bin) as usize).min(bins - 1)] += 1;
        }
        Self {
            count: n,
            min: d.first().copied(),
            max: d.last().copied(),
            mean: (n > 0).then(|| d.iter().sum::<f32>() / n as f32),
            median: (n > 0).then(|| {
                if n % 2 == 1 {
                    d[n / 2]
                } else {
                    (d[n / 2 - 1] + d[n / 2]) / 2.0
                }
            }),
            histogram,
        }
    }
}

/// Scores of one set of pairs at the threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairReport {
    pub genuine: DistanceStats,
    pub impostor: DistanceStats,
    pub false_accepts: Vec<PairDistance>,
    pub false_rejects: Vec<PairDistance>,
    /// Genuine pairs left out as near-duplicates, with their distances.
    pub excluded_near_duplicates: Vec<PairDistance>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub threshold: f32,
    pub model_version: String,
    pub identities: usize,
    pub images: usize,
    /// Identity images (after padding) without exactly one face; they take part in no pair.
    pub detection_failures: Vec<ImageFaces>,
    pub pairs: PairReport,
    /// Simulated ID photo of each image vs every other image.
    pub id_photo: Option<IdPhotoReport>,
    pub nonfaces: Vec<ImageFaces>,
    /// Total faces reported on `nonfaces/` (should be 0).
    pub detector_false_positives: usize,
    pub groups: Vec<ImageFaces>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdPhotoReport {
    pub photos: usize,
    /// Simulated photos without exactly one face.
    pub detection_failures: Vec<ImageFaces>,
    pub pairs: PairReport,
}

struct Sample {
    identity: String,
    rel: String,
    /// The identity image this sample comes from (differs from `rel` for ID photos).
    source: String,
    stem: String,
    embedding: Embedding,
}

fn io_err(path: &Path, e: std::io::Error) -> FaceError {
    FaceError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, FaceError> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io_err(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    v.sort();
    Ok(v)
}

fn is_image(p: &Path) -> bool {
    p.is_file()
        && p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png"))
}

fn count_faces(engine: &FaceEngine, img: &RgbImage, rel: String) -> Result<ImageFaces, FaceError> {
    let dets = engine.detector.detect(img)?;
    Ok(ImageFaces {
        image: rel,
        faces: dets.len(),
        best_score: dets.first().map(|d| d.score),
    })
}

/// Runs the evaluation of `dir` with `engine` (its threshold is the one reported).
pub fn evaluate_dir(
    engine: &FaceEngine,
    dir: &Path,
    config: &EvalConfig,
) -> Result<EvalReport, FaceError> {
    let threshold = engine.config.threshold;
    let mut live = Vec::new();
    let mut id_photos = Vec::new();
    let mut failures = Vec::new();
    let mut id_failures = Vec::new();
    let mut identities = 0;
    let mut images = 0;
    let mut nonfaces = Vec::new();
    let mut groups = Vec::new();
    // Identities are `DIR/<identity>/` or, in the shared test-data layout, `DIR/identities/<identity>/`.
    let mut subs = sorted_entries(dir)?;
    let nested = dir.join("identities");
    if nested.is_dir() {
        subs.retain(|p| p != &nested);
        subs.extend(sorted_entries(&nested)?);
    }
    for sub in subs {
        if !sub.is_dir() {
            continue;
        }
        let name = sub
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let files: Vec<PathBuf> = sorted_entries(&sub)?
            .into_iter()
            .filter(|p| is_image(p))
            .collect();
        if name == "nonfaces" || name == "groups" {
            for f in files {
                let rel = format!(
                    "{name}/{}",
                    f.file_name().and_then(|n| n.to_str()).unwrap_or_default()
                );
                let faces = count_faces(engine, &load_rgb(&f)?, rel)?;
                if name == "nonfaces" {
                    nonfaces.push(faces)
                } else {
                    groups.push(faces)
                }
            }
            continue;
        }
        if files.is_empty() {
            continue;
        }
        identities += 1;
        for f in files {
            images += 1;
            let file = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let rel = format!("{name}/{file}");
            let stem = f
                .file_stem()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let img = load_rgb(&f)?;
            let padded = pad_image(&img, config.pad_px, config.pad_colour);
            let a = engine.analyze(&padded)?;
            match (a.detections.len(), a.embedding) {
                (1, Some(embedding)) => live.push(Sample {
                    identity: name.clone(),
                    rel: rel.clone(),
                    source: rel.clone(),
                    stem: stem.clone(),
                    embedding,
                }),
                (n, _) => failures.push(ImageFaces {
                    image: rel.clone(),
                    faces: n,
                    best_score: a.detections.first().map(|d| d.score),
                }),
            }
            if config.id_photo {
                let photo = simulate_id_photo(&img);
                let p = engine.analyze_card_photo(&photo)?;
                match (p.detections.len(), p.embedding) {
                    (1, Some(embedding)) => id_photos.push(Sample {
                        identity: name.clone(),
                        rel: format!("id-photo({rel})"),
                        source: rel.clone(),
                        stem,
                        embedding,
                    }),
                    (n, _) => id_failures.push(ImageFaces {
                        image: format!("id-photo({rel})"),
                        faces: n,
                        best_score: p.detections.first().map(|d| d.score),
                    }),
                }
            }
        }
    }

    let is_dup = |a: &Sample, b: &Sample| {
        config
            .near_duplicates
            .iter()
            .any(|(x, y)| (a.stem == *x && b.stem == *y) || (a.stem == *y && b.stem == *x))
    };
    let mut all_pairs = Vec::new();
    for (i, a) in live.iter().enumerate() {
        for b in &live[i + 1..] {
            all_pairs.push((a, b));
        }
    }
    let pairs = score_pairs(all_pairs, threshold, config.histogram_bin, &is_dup);
    let id_photo = config.id_photo.then(|| {
        let mut p = Vec::new();
        for a in &id_photos {
            for b in live.iter().filter(|b| b.rel != a.source) {
                p.push((a, b));
            }
        }
        IdPhotoReport {
            photos: id_photos.len() + id_failures.len(),
            detection_failures: id_failures,
            pairs: score_pairs(p, threshold, config.histogram_bin, &is_dup),
        }
    });
    let detector_false_positives = nonfaces.iter().map(|n| n.faces).sum();
    Ok(EvalReport {
        threshold,
        model_version: crate::models::MODEL_VERSION.to_string(),
        identities,
        images,
        detection_failures: failures,
        pairs,
        id_photo,
        nonfaces,
        detector_false_positives,
        groups,
    })
}

fn score_pairs(
    pairs: Vec<(&Sample, &Sample)>,
    threshold: f32,
    bin: f32,
    is_dup: &dyn Fn(&Sample, &Sample) -> bool,
) -> PairReport {
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    let (mut fa, mut fr, mut dups) = (Vec::new(), Vec::new(), Vec::new());
    for (a, b) in pairs {
        let d = a.embedding.distance(&b.embedding);
        let pd = || PairDistance {
            a: a.rel.clone(),
            b: b.rel.clone(),
            distance: d,
        };
        if a.identity == b.identity {
            if is_dup(a, b) {
                dups.push(pd());
                continue;
            }
            genuine.push(d);
            if d > threshold {
                fr.push(pd());
            }
        } else {
            impostor.push(d);
            if d <= threshold {
                fa.push(pd());
            }
        }
    }
    PairReport {
        genuine: DistanceStats::new(genuine, bin),
        impostor: DistanceStats::new(impostor, bin),
        false_accepts: fa,
        false_rejects: fr,
        excluded_near_duplicates: dups,
    }
}

//! The face check end to end: detect → gates → align → embed → compare.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::models::MODEL_VERSION;
use crate::quality::{self, QualityConfig, QualityIssue, QualityMetrics};
use crate::{
    AlignedChip, DEFAULT_THRESHOLD, Detection, Detector, DetectorConfig, Embedder, Embedding,
    FaceError, MatchResult, ModelPaths, align_to_chip, decide,
};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EngineConfig {
    /// Detector for camera frames.
    pub detector: DetectorConfig,
    /// Detector for the (small) ID-card photo, see [`FaceEngine::analyze_card_photo`].
    pub card_detector: DetectorConfig,
    pub quality: QualityConfig,
    /// Euclidean distance at or below which two faces are the same person.
    pub threshold: f32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            detector: DetectorConfig::default(),
            card_detector: DetectorConfig::card_photo(),
            quality: QualityConfig::default(),
            threshold: DEFAULT_THRESHOLD,
        }
    }
}

/// One image analysed: its faces, and for a single face the gates' findings and the embedding.
#[derive(Debug, Clone)]
pub struct FaceAnalysis {
    pub width: u32,
    pub height: u32,
    pub detections: Vec<Detection>,
    /// The face used (exactly one counted face), or the count issue.
    pub face: Result<Detection, QualityIssue>,
    pub metrics: Option<QualityMetrics>,
    /// Failing gates after the face count (empty = good frame).
    pub issues: Vec<QualityIssue>,
    pub chip: Option<AlignedChip>,
    pub embedding: Option<Embedding>,
}

impl FaceAnalysis {
    /// The first instruction to show, if any gate fails.
    pub fn first_issue(&self) -> Option<QualityIssue> {
        match &self.face {
            Err(issue) => Some(*issue),
            Ok(_) => self.issues.first().copied(),
        }
    }

    pub fn summary(&self) -> FaceSummary {
        FaceSummary {
            width: self.width,
            height: self.height,
            faces: self.detections.clone(),
            issues: match &self.face {
                Err(issue) => vec![*issue],
                Ok(_) => self.issues.clone(),
            },
            metrics: self.metrics,
        }
    }
}

/// Serialisable description of one analysed image (no image data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceSummary {
    pub width: u32,
    pub height: u32,
    pub faces: Vec<Detection>,
    pub issues: Vec<QualityIssue>,
    pub metrics: Option<QualityMetrics>,
}

/// Result of comparing two images (`kiosk face compare A B`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareReport {
    pub a: FaceSummary,
    pub b: FaceSummary,
    /// Present when both images have exactly one face.
    pub result: Option<MatchResult>,
    pub model_version: String,
}

pub struct FaceEngine {
    pub detector: Detector,
    pub card_detector: Detector,
    pub embedder: Embedder,
    pub config: EngineConfig,
}

impl FaceEngine {
    pub fn load(paths: &ModelPaths, config: EngineConfig) -> Result<Self, FaceError> {
        Ok(Self {
            detector: Detector::load(&paths.detector, config.detector)?,
            card_detector: Detector::load(&paths.detector, config.card_detector)?,
            embedder: Embedder::load(&paths.embedder)?,
            config,
        })
    }

    /// Detect, gate, align and embed a camera frame. The embedding is computed whenever there is
    /// exactly one face, even if later gates fail (the caller decides whether to use it).
    pub fn analyze(&self, img: &RgbImage) -> Result<FaceAnalysis, FaceError> {
        self.analyze_with(&self.detector, img, true)
    }

    /// The ID-card chip photo: detected with the small card detector; only the face-count gate
    /// applies (the photo is small and often washed out), metrics are still reported. Done once
    /// per card read, not per camera frame.
    pub fn analyze_card_photo(&self, img: &RgbImage) -> Result<FaceAnalysis, FaceError> {
        self.analyze_with(&self.card_detector, img, false)
    }

    fn analyze_with(
        &self,
        detector: &Detector,
        img: &RgbImage,
        gates: bool,
    ) -> Result<FaceAnalysis, FaceError> {
        let detections = detector.detect(img)?;
        let face = self.config.quality.single_face(&detections).copied();
        let (mut metrics, mut issues, mut chip, mut embedding) = (None, Vec::new(), None, None);
        if let Ok(det) = &face {
            let aligned = align_to_chip(img, &det.landmarks);
            let m = quality::measure(
                img.width(),
                img.height(),
                det,
                aligned.as_ref().map(|c| &c.image),
            );
            if gates {
                issues = self.config.quality.issues(&m);
            }
            metrics = Some(m);
            if let Some(c) = aligned {
                embedding = Some(self.embedder.embed(&c.image)?);
                chip = Some(c);
            }
        }
        Ok(FaceAnalysis {
            width: img.width(),
            height: img.height(),
            detections,
            face,
            metrics,
            issues,
            chip,
            embedding,
        })
    }

    /// The embedding of the ID-card photo's face (card detector, align, embed), computed once per
    /// card read; an error unless the photo shows exactly one face.
    pub fn card_embedding(&self, photo: &RgbImage) -> Result<Embedding, FaceError> {
        let analysis = self.analyze_card_photo(photo)?;
        let count = self.config.quality.counted(&analysis.detections).len();
        match (analysis.face, analysis.embedding) {
            (Ok(_), Some(embedding)) => Ok(embedding),
            _ => Err(FaceError::FaceCount { count }),
        }
    }

    /// Compares the single faces of two images, both analysed as camera frames.
    pub fn compare(&self, a: &RgbImage, b: &RgbImage) -> Result<CompareReport, FaceError> {
        self.report(self.analyze(a)?, self.analyze(b)?)
    }

    /// Compares the ID-card photo with a camera frame (report `a` = card, `b` = live).
    pub fn compare_card(
        &self,
        card: &RgbImage,
        live: &RgbImage,
    ) -> Result<CompareReport, FaceError> {
        self.report(self.analyze_card_photo(card)?, self.analyze(live)?)
    }

    fn report(&self, fa: FaceAnalysis, fb: FaceAnalysis) -> Result<CompareReport, FaceError> {
        let result = match (&fa.embedding, &fb.embedding) {
            (Some(ea), Some(eb)) => Some(decide(ea, eb, self.config.threshold)),
            _ => None,
        };
        Ok(CompareReport {
            a: fa.summary(),
            b: fb.summary(),
            result,
            model_version: MODEL_VERSION.to_string(),
        })
    }
}

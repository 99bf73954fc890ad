//! Face detector: CenterFace (ONNX, run with tract) at a fixed input size.
//!
//! The frame is scaled to fit the input (aspect ratio kept, black padding right/bottom), fed as
//! NCHW RGB raw 0–255 floats, and the four stride-4 outputs are decoded: heatmap score, log-scale
//! box size, centre offset and 10 landmark channels (y before x, relative to the box), followed by
//! non-maximum suppression.

use std::path::Path;

use image::RgbImage;
use serde::{Deserialize, Serialize};
use tract_onnx::prelude::*;

use crate::error::inference;
use crate::{BBox, FaceError, Point};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DetectorConfig {
    /// Network input width in pixels (rounded up to a multiple of 32).
    pub input_width: u32,
    /// Network input height in pixels (rounded up to a multiple of 32).
    pub input_height: u32,
    /// Minimum heatmap score of a face.
    pub score_threshold: f32,
    /// Boxes overlapping a better one by at least this IoU are dropped.
    pub nms_iou: f32,
}

impl Default for DetectorConfig {
    /// 320×256: a 640×480 camera frame at half size; 26 ms single-thread in the reference
    /// measurements, and it still finds all faces of the group fixture.
    fn default() -> Self {
        Self {
            input_width: 320,
            input_height: 256,
            score_threshold: 0.5,
            nms_iou: 0.3,
        }
    }
}

impl DetectorConfig {
    /// For the ID-card photo (102×126): 128×160 input scales it by 1.25, enough for CenterFace and
    /// a quarter of the camera-frame cost.
    pub fn card_photo() -> Self {
        Self {
            input_width: 128,
            input_height: 160,
            ..Self::default()
        }
    }
}

/// One detected face in the coordinates of the frame given to [`Detector::detect`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub bbox: BBox,
    pub score: f32,
    /// Left eye, right eye (in image order: smaller x first for a frontal face), nose tip,
    /// left mouth corner, right mouth corner.
    pub landmarks: [Point; 5],
}

impl Detection {
    pub fn eye_distance(&self) -> f32 {
        self.landmarks[0].distance(self.landmarks[1])
    }
}

pub struct Detector {
    model: Arc<TypedRunnableModel>,
    config: DetectorConfig,
    width: usize,
    height: usize,
}

fn round32(v: u32) -> usize {
    (v.max(32).div_ceil(32) * 32) as usize
}

impl Detector {
    pub fn load(path: impl AsRef<Path>, config: DetectorConfig) -> Result<Self, FaceError> {
        let path = path.as_ref();
        let err = |e: TractError| FaceError::Model {
            path: path.to_path_buf(),
            message: format!("{e:#}"),
        };
        let width = round32(config.input_width);
        let height = round32(config.input_height);
        let model = tract_onnx::onnx()
            .model_for_path(path)
            .map_err(err)?
            .with_input_fact(0, f32::fact([1, 3, height, width]).into())
            .map_err(err)?
            .into_optimized()
            .map_err(err)?
            .into_runnable()
            .map_err(err)?;
        Ok(Self {
            model,
            config,
            width,
            height,
        })
    }

    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// The network input size actually used (multiples of 32).
    pub fn input_size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// Faces in `img`, best score first.
    pub fn detect(&self, img: &RgbImage) -> Result<Vec<Detection>, FaceError> {
        if img.width() == 0 || img.height() == 0 {
            return Ok(Vec::new());
        }
        let (input, scale) = self.preprocess(img);
        let outputs = self.run_model(input)?;
        if outputs.len() < 4 {
            return Err(FaceError::Inference(format!(
                "CenterFace gave {} outputs, expected 4",
                outputs.len()
            )));
        }
        let view = |i: usize| outputs[i].to_plain_array_view::<f32>().map_err(inference);
        let (heat, scales, offsets, lms) = (view(0)?, view(1)?, view(2)?, view(3)?);
        let heat = heat
            .as_slice()
            .ok_or_else(|| inference("heatmap not contiguous"))?;
        let scales = scales
            .as_slice()
            .ok_or_else(|| inference("scale not contiguous"))?;
        let offsets = offsets
            .as_slice()
            .ok_or_else(|| inference("offset not contiguous"))?;
        let lms = lms
            .as_slice()
            .ok_or_else(|| inference("landmarks not contiguous"))?;
        let grid = Grid {
            w: self.width / 4,
            h: self.height / 4,
        };
        if heat.len() != grid.w * grid.h || lms.len() != 10 * grid.w * grid.h {
            return Err(inference("unexpected CenterFace output shapes"));
        }
        let raw = decode(
            &grid,
            heat,
            scales,
            offsets,
            lms,
            self.config.score_threshold,
        );
        let kept = nms(raw, self.config.nms_iou);
        let (w, h) = (img.width() as f32, img.height() as f32);
        Ok(kept.into_iter().map(|d| unscale(d, scale, w, h)).collect())
    }

    /// Runs the network alone on a prepared input (for benchmarks).
    #[doc(hidden)]
    pub fn run_model(&self, input: Tensor) -> Result<TVec<TValue>, FaceError> {
        self.model.run(tvec!(input.into())).map_err(inference)
    }

    /// Scales the image to fit the input (aspect kept) with bilinear sampling into an NCHW
    /// tensor; returns it with the scale factor (input pixels per image pixel).
    #[doc(hidden)]
    pub fn preprocess(&self, img: &RgbImage) -> (Tensor, f32) {
        let (iw, ih) = (img.width() as usize, img.height() as usize);
        let scale = (self.width as f32 / iw as f32).min(self.height as f32 / ih as f32);
        let nw = ((iw as f32 * scale).round() as usize).clamp(1, self.width);
        let nh = ((ih as f32 * scale).round() as usize).clamp(1, self.height);
        let plane = self.width * self.height;
        let mut data = vec![0f32; 3 * plane];
        let raw = img.as_raw();
        let sx = iw as f32 / nw as f32;
        let sy = ih as f32 / nh as f32;
        let xs: Vec<(usize, usize, f32)> = (0..nw)
            .map(|x| taps((x as f32 + 0.5) * sx - 0.5, iw))
            .collect();
        for y in 0..nh {
            let (y0, y1, fy) = taps((y as f32 + 0.5) * sy - 0.5, ih);
            let (r0, r1) = (y0 * iw * 3, y1 * iw * 3);
            for (x, &(x0, x1, fx)) in xs.iter().enumerate() {
                for c in 0..3 {
                    let p00 = f32::from(raw[r0 + x0 * 3 + c]);
                    let p01 = f32::from(raw[r0 + x1 * 3 + c]);
                    let p10 = f32::from(raw[r1 + x0 * 3 + c]);
                    let p11 = f32::from(raw[r1 + x1 * 3 + c]);
                    let top = p00 + (p01 - p00) * fx;
                    let bottom = p10 + (p11 - p10) * fx;
                    data[c * plane + y * self.width + x] = top + (bottom - top) * fy;
                }
            }
        }
        let tensor = Tensor::from_shape(&[1, 3, self.height, self.width], &data)
            .expect("shape matches data length");
        (tensor, scale)
    }
}

/// Bilinear source taps for a source coordinate: lower index, upper index, weight of the upper.
fn taps(pos: f32, len: usize) -> (usize, usize, f32) {
    let pos = pos.clamp(0.0, (len - 1) as f32);
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(len - 1);
    (lo, hi, pos - lo as f32)
}

struct Grid {
    w: usize,
    h: usize,
}

/// Decodes every heatmap cell above `threshold` into a box and landmarks, in network input pixels.
fn decode(
    grid: &Grid,
    heat: &[f32],
    scales: &[f32],
    offsets: &[f32],
    lms: &[f32],
    threshold: f32,
) -> Vec<Detection> {
    let n = grid.w * grid.h;
    let mut out = Vec::new();
    for cy in 0..grid.h {
        for cx in 0..grid.w {
            let i = cy * grid.w + cx;
            let score = heat[i];
            if score <= threshold {
                continue;
            }
            let bh = scales[i].exp() * 4.0;
            let bw = scales[n + i].exp() * 4.0;
            let (oy, ox) = (offsets[i], offsets[n + i]);
            let x1 = ((cx as f32 + ox + 0.5) * 4.0 - bw / 2.0).max(0.0);
            let y1 = ((cy as f32 + oy + 0.5) * 4.0 - bh / 2.0).max(0.0);
            let mut landmarks = [Point::new(0.0, 0.0); 5];
            for (j, p) in landmarks.iter_mut().enumerate() {
                p.y = lms[(2 * j) * n + i] * bh + y1;
                p.x = lms[(2 * j + 1) * n + i] * bw + x1;
            }
            out.push(Detection {
                bbox: BBox {
                    x1,
                    y1,
                    x2: x1 + bw,
                    y2: y1 + bh,
                },
                score,
                landmarks,
            });
        }
    }
    out
}

/// Greedy non-maximum suppression; result sorted by score, best first.
pub fn nms(mut dets: Vec<Detection>, iou: f32) -> Vec<Detection> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::new();
    for d in dets {
        if kept.iter().all(|k| k.bbox.iou(&d.bbox) < iou) {
            kept.push(d);
        }
    }
    kept
}

fn unscale(d: Detection, scale: f32, w: f32, h: f32) -> Detection {
    let p = |v: f32, max: f32| (v / scale).clamp(0.0, max);
    Detection {
        bbox: BBox {
            x1: p(d.bbox.x1, w),
            y1: p(d.bbox.y1, h),
            x2: p(d.bbox.x2, w),
            y2: p(d.bbox.y2, h),
        },
        score: d.score,
        landmarks: d.landmarks.map(|q| Point::new(q.x / scale, q.y / scale)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x1: f32, score: f32) -> Detection {
        Detection {
            bbox: BBox {
                x1,
                y1: 0.0,
                x2: x1 + 10.0,
                y2: 10.0,
            },
            score,
            landmarks: [Point::new(0.0, 0.0); 5],
        }
    }

    #[test]
    fn nms_keeps_best_of_overlapping_and_separate_boxes() {
        let kept = nms(vec![det(0.0, 0.6), det(1.0, 0.9), det(50.0, 0.7)], 0.3);
        let scores: Vec<f32> = kept.iter().map(|d| d.score).collect();
        assert_eq!(scores, vec![0.9, 0.7]);
    }

    #[test]
    fn decode_places_box_and_landmarks() {
        let grid = Grid { w: 2, h: 2 };
        let n = 4;
        let mut heat = vec![0.0; n];
        heat[3] = 0.8; // cell (1, 1)
        let scales = vec![(8.0f32 / 4.0).ln(); 2 * n]; // 8×8 box
        let offsets = vec![0.0; 2 * n];
        let mut lms = vec![0.0; 10 * n];
        lms[3] = 0.25; // landmark 0 y
        lms[n + 3] = 0.5; // landmark 0 x
        let d = decode(&grid, &heat, &scales, &offsets, &lms, 0.5);
        assert_eq!(d.len(), 1);
        // centre (1 + 0.5) * 4 = 6, size 8 → x1 = y1 = 2
        assert!((d[0].bbox.x1 - 2.0).abs() < 1e-5 && (d[0].bbox.x2 - 10.0).abs() < 1e-5);
        assert!((d[0].landmarks[0].x - 6.0).abs() < 1e-5);
        assert!((d[0].landmarks[0].y - 4.0).abs() < 1e-5);
    }
}

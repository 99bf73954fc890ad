//! MediaPipe face mesh (468 points) for the liveness challenge: crop around a detected face, run
//! the converted ONNX; head yaw from the mesh's depth, eye corners for [`crate::eyes`]. Its eye
//! aspect ratio hardly changes when the eyes close (see `eyes`), so blinks are read from the
//! pixels there. The challenge logic is in [`crate::liveness`].

use std::path::Path;

use image::RgbImage;
use tract_onnx::prelude::*;

use crate::align::{Similarity, warp};
use crate::error::inference;
use crate::{Detection, FaceError, Point};

pub const MESH_INPUT: u32 = 192;
pub const MESH_POINTS: usize = 468;
/// Eye contour points (p1…p6 of the eye-aspect-ratio formula) of the person's right and left eye.
pub const RIGHT_EYE: [usize; 6] = [33, 160, 158, 133, 153, 144];
pub const LEFT_EYE: [usize; 6] = [362, 385, 387, 263, 373, 380];
/// Face-outline points at the person's right and left cheek (the widest points of the face).
pub const CHEEK_RIGHT: usize = 234;
pub const CHEEK_LEFT: usize = 454;

pub struct FaceMesh {
    model: Arc<TypedRunnableModel>,
}

/// Mesh points mapped back to frame coordinates (x, y; z in crop pixel units) and the
/// face-presence logit (large positive on a face).
#[derive(Debug, Clone)]
pub struct MeshResult {
    pub points: Vec<[f32; 3]>,
    pub presence: f32,
}

impl MeshResult {
    /// Eye aspect ratio (right eye, left eye): ≈ 0.2–0.3 open, well below when closed.
    pub fn eye_aspect_ratios(&self) -> (f32, f32) {
        (ear(&self.points, &RIGHT_EYE), ear(&self.points, &LEFT_EYE))
    }

    /// Head yaw in degrees from the depth of the two cheek outline points (234, 454): positive
    /// when the nose points towards +x of the frame (in an unmirrored camera frame: the person
    /// turned to their own left). About ±15–20° for a 30° turn (synthetic turns; the mesh
    /// underestimates) and within ±8° for the fixtures' frontal faces.
    pub fn yaw_deg(&self) -> f32 {
        let (a, b) = (self.points[CHEEK_RIGHT], self.points[CHEEK_LEFT]);
        (b[2] - a[2]).atan2(b[0] - a[0]).to_degrees()
    }
}

fn ear(p: &[[f32; 3]], idx: &[usize; 6]) -> f32 {
    let pt = |i: usize| Point::new(p[idx[i]][0], p[idx[i]][1]);
    let horizontal = pt(0).distance(pt(3)).max(1e-3);
    (pt(1).distance(pt(5)) + pt(2).distance(pt(4))) / (2.0 * horizontal)
}

/// The square crop the mesh expects: centred on the face box, `1.5 ×` its larger side.
pub fn crop_transform(det: &Detection) -> Similarity {
    let c = det.bbox.centre();
    let side = 1.5 * det.bbox.width().max(det.bbox.height()).max(1.0);
    let s = side / MESH_INPUT as f32; // crop pixel → frame pixel
    Similarity {
        a: s,
        b: 0.0,
        tx: c.x - side / 2.0,
        ty: c.y - side / 2.0,
    }
}

impl FaceMesh {
    pub fn load(path: impl AsRef<Path>) -> Result<Self, FaceError> {
        let path = path.as_ref();
        let err = |e: TractError| FaceError::Model {
            path: path.to_path_buf(),
            message: format!("{e:#}"),
        };
        let n = MESH_INPUT as usize;
        let model = tract_onnx::onnx()
            .model_for_path(path)
            .map_err(err)?
            .with_input_fact(0, f32::fact([1, 3, n, n]).into())
            .map_err(err)?
            .into_optimized()
            .map_err(err)?
            .into_runnable()
            .map_err(err)?;
        Ok(Self { model })
    }

    /// Runs the mesh on the crop around `det` in `frame`.
    pub fn run(&self, frame: &RgbImage, det: &Detection) -> Result<MeshResult, FaceError> {
        let to_frame = crop_transform(det);
        let crop = warp(frame, &to_frame, MESH_INPUT, MESH_INPUT);
        let n = MESH_INPUT as usize;
        let plane = n * n;
        let mut data = vec![0f32; 3 * plane];
        for (i, px) in crop.pixels().enumerate() {
            for c in 0..3 {
                data[c * plane + i] = f32::from(px.0[c]) / 255.0;
            }
        }
        let input = Tensor::from_shape(&[1, 3, n, n], &data).map_err(inference)?;
        let out = self.model.run(tvec!(input.into())).map_err(inference)?;
        if out.len() < 2 {
            return Err(inference("face mesh gave fewer than 2 outputs"));
        }
        let lm = out[0].to_plain_array_view::<f32>().map_err(inference)?;
        let presence = out[1].to_plain_array_view::<f32>().map_err(inference)?;
        let lm: Vec<f32> = lm.iter().copied().collect();
        if lm.len() != 3 * MESH_POINTS {
            return Err(FaceError::Inference(format!(
                "face mesh gave {} values",
                lm.len()
            )));
        }
        let points = lm
            .chunks_exact(3)
            .map(|p| {
                let q = to_frame.apply(Point::new(p[0], p[1]));
                [q.x, q.y, p[2] * to_frame.a]
            })
            .collect();
        Ok(MeshResult {
            points,
            presence: presence.iter().copied().next().unwrap_or(f32::NEG_INFINITY),
        })
    }
}

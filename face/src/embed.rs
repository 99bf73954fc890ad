//! Face embedding: dlib ResNet v1 (converted to ONNX) on the 150×150 aligned chip → 128-d vector.

use std::path::Path;

use image::RgbImage;
use serde::{Deserialize, Serialize};
use tract_onnx::prelude::*;

use crate::error::inference;
use crate::{CHIP_SIZE, FaceError};

pub const EMBEDDING_LEN: usize = 128;

/// A 128-d dlib face descriptor (not normalised; compare with Euclidean distance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedding(pub Vec<f32>);

impl Embedding {
    pub fn distance(&self, other: &Embedding) -> f32 {
        self.0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f32>()
            .sqrt()
    }
}

pub struct Embedder {
    model: Arc<TypedRunnableModel>,
}

impl Embedder {
    pub fn load(path: impl AsRef<Path>) -> Result<Self, FaceError> {
        let path = path.as_ref();
        let err = |e: TractError| FaceError::Model {
            path: path.to_path_buf(),
            message: format!("{e:#}"),
        };
        let s = CHIP_SIZE as usize;
        let model = tract_onnx::onnx()
            .model_for_path(path)
            .map_err(err)?
            .with_input_fact(0, f32::fact([1, 3, s, s]).into())
            .map_err(err)?
            .into_optimized()
            .map_err(err)?
            .into_runnable()
            .map_err(err)?;
        Ok(Self { model })
    }

    /// Embeds a 150×150 RGB chip (see [`crate::align_to_chip`]).
    pub fn embed(&self, chip: &RgbImage) -> Result<Embedding, FaceError> {
        if chip.dimensions() != (CHIP_SIZE, CHIP_SIZE) {
            return Err(FaceError::Inference(format!(
                "chip is {:?}, expected 150×150",
                chip.dimensions()
            )));
        }
        let s = CHIP_SIZE as usize;
        let plane = s * s;
        let mut data = vec![0f32; 3 * plane];
        for (i, px) in chip.pixels().enumerate() {
            for c in 0..3 {
                data[c * plane + i] = f32::from(px.0[c]);
            }
        }
        let input = Tensor::from_shape(&[1, 3, s, s], &data).map_err(inference)?;
        let out = self.model.run(tvec!(input.into())).map_err(inference)?;
        let view = out[0].to_plain_array_view::<f32>().map_err(inference)?;
        let v: Vec<f32> = view.iter().copied().collect();
        if v.len() != EMBEDDING_LEN {
            return Err(FaceError::Inference(format!(
                "embedding has {} values",
                v.len()
            )));
        }
        Ok(Embedding(v))
    }
}

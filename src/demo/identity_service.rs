//! The demo centre's identity-verification service: a stand-in for the public-security
//! service that holds the reference photo of every ID number. It knows the demo card holder's
//! reference photo (the same public test photo the demo card decodes to) and compares the
//! kiosk's face chip with it using the kiosk's own embedder; other numbers are inconclusive.
//! Never a real person's photo; chips are neither stored nor logged.

use super::camera_sim::{demo_engine, holder_reference_photo};
use kiosk_central::identity_verification::{
    IdentityVerifier, VerifierError, VerifyDecision, VerifyRequest,
};
use kiosk_face::{Embedding, FaceEngine};
use kiosk_protocol::face_verify::VerifyOutcome;
use std::sync::{Arc, OnceLock};

pub struct DemoIdentityService {
    /// The demo card holder's ID number.
    holder_id: String,
    /// Loaded at the first request.
    state: OnceLock<Result<(Arc<FaceEngine>, Embedding), String>>,
}

impl DemoIdentityService {
    pub fn new(holder_id: impl Into<String>) -> Self {
        Self {
            holder_id: holder_id.into(),
            state: OnceLock::new(),
        }
    }

    fn state(&self) -> Result<&(Arc<FaceEngine>, Embedding), VerifierError> {
        self.state
            .get_or_init(|| {
                let engine = demo_engine()?;
                let reference = engine
                    .card_embedding(&holder_reference_photo()?)
                    .map_err(|e| e.to_string())?;
                Ok((engine, reference))
            })
            .as_ref()
            .map_err(|e| VerifierError::Unavailable(e.clone()))
    }
}

impl IdentityVerifier for DemoIdentityService {
    fn verify(&self, request: &VerifyRequest<'_>) -> Result<VerifyDecision, VerifierError> {
        let verifier = "demo-identity-service (dlib resnet)".to_string();
        if request.id_number != self.holder_id {
            return Ok(VerifyDecision {
                outcome: VerifyOutcome::Inconclusive,
                score: None,
                verifier,
            });
        }
        let (engine, reference) = self.state()?;
        let side = request.chip.side() as u32;
        let chip = image::RgbImage::from_raw(side, side, request.chip.rgb().to_vec())
            .ok_or_else(|| VerifierError::Refused("chip size".into()))?;
        let embedding = engine
            .embedder
            .embed(&chip)
            .map_err(|e| VerifierError::Unavailable(e.to_string()))?;
        let distance = embedding.distance(reference);
        Ok(VerifyDecision {
            outcome: if distance <= kiosk_face::DEFAULT_THRESHOLD {
                VerifyOutcome::Match
            } else {
                VerifyOutcome::NoMatch
            },
            score: Some(distance),
            verifier,
        })
    }
}

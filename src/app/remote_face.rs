//! Verification by the centre: the face check's aligned chip and the card holder's number go to
//! the central service (`POST /api/v1/face/verify`, a signed request), which asks the
//! identity-verification service. Nothing is kept here.

use crate::devices::{FaceSubject, RemoteFaceVerifier, RemoteVerdict};
use kiosk_protocol::face_verify::{HolderReference, VerifyOutcome};
use kiosk_services::sync::CentralClient;

pub struct CentreFaceVerifier {
    client: CentralClient,
}

impl CentreFaceVerifier {
    pub fn new(client: CentralClient) -> Self {
        Self { client }
    }
}

impl RemoteFaceVerifier for CentreFaceVerifier {
    fn verify(&self, chip_rgb: &[u8], subject: &FaceSubject) -> Result<RemoteVerdict, String> {
        let holder = HolderReference {
            card_type: subject.card_type.clone(),
            id_number: subject.id_number.clone(),
        };
        let decision = self
            .client
            .verify_face_remote(chip_rgb, &holder)
            .map_err(|e| e.to_string())?;
        match decision.outcome {
            VerifyOutcome::Match => Ok(RemoteVerdict {
                confirmed: true,
                score: decision.score,
            }),
            VerifyOutcome::NoMatch => Ok(RemoteVerdict {
                confirmed: false,
                score: decision.score,
            }),
            VerifyOutcome::Inconclusive => Err(format!("{} could not decide", decision.verifier)),
        }
    }
}

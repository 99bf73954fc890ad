//! The kiosk ↔ central wire types and the personal-data rules both sides follow.
//!
//! * [`wire`] — JSON bodies of the outbox upload and heartbeat endpoints.
//! * [`masking`] — how ID numbers and names are shown wherever they are not encrypted.
//! * [`catalogue_envelope`] — signed catalogues (Ed25519) and the signing/verifying key files.
//! * [`request_signing`] — kiosk enrolment and Ed25519-signed kiosk requests.
//! * [`face_verify`] — remote face verification through the centre (chip + card holder).
//! * [`sealing`] — encryption at rest of personal data (XChaCha20-Poly1305, key from a key file).

pub mod catalogue_envelope;
pub mod face_verify;
pub mod masking;
pub mod request_signing;
pub mod sealing;
pub mod wire;

pub use catalogue_envelope::{EnvelopeError, SignedCatalogue, SigningKeyFile, VerifyingKeySet};
pub use masking::{mask_id_number, mask_name};
pub use sealing::{SealedBytes, SealingError, SealingKey};

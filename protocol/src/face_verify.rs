//! Remote face verification (issue 6 item 6): when the kiosk cannot compare the face with the
//! card photo itself (no photo decoder, or the catalogue asks for it), it sends the aligned face
//! chip — never the camera frame — to the centre, which asks an identity-verification service.
//!
//! `POST` [`FACE_VERIFY_PATH`], a signed kiosk request (`request_signing`), body
//! [`FaceVerifyRequest`]; `200` with a [`RemoteDecision`]. Other answers: `400` malformed body
//! or a chip that is not 150×150 RGB, `401`/`403` signature, `503` no verifier configured or the
//! verifier unavailable (the kiosk offers the other ways to confirm identity).
//!
//! # Personal data in the request
//!
//! * The chip is biometric data: it travels only inside this request (TLS), lives in memory at
//!   the centre while the verifier runs, and is never stored or logged on either side.
//! * The card holder's ID number travels in [`HolderReference`], the same way an outbox event's
//!   [`crate::wire::PersonalData`] does: in the clear **inside the request body only** (the
//!   connection is TLS), never in a header, a URL, a log line or a plain column. It is not
//!   hashed: a resident ID number has too little entropy (region, birth date, three digits and
//!   a check digit) for an unkeyed hash to hide it, and the identity service needs the number
//!   itself to find the reference photo. It is not sealed either: [`crate::SealingKey`] is each
//!   side's own at-rest key, not shared with the other side. Wherever it must be shown it is
//!   masked ([`crate::mask_id_number`]); the `Debug` output here masks it too.
//!
//! The chip is sent as standard base64 (RFC 4648, with padding) of the 150 × 150 × 3 bytes,
//! row by row, R G B — exactly [`CHIP_BASE64_LEN`] characters.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where the kiosk posts a [`FaceVerifyRequest`].
pub const FACE_VERIFY_PATH: &str = "/api/v1/face/verify";

/// Side of the aligned face chip (the dlib chip), in pixels.
pub const CHIP_SIDE: usize = 150;
/// Bytes of a chip: 150 × 150 pixels × RGB.
pub const CHIP_RGB_BYTES: usize = CHIP_SIDE * CHIP_SIDE * 3;
/// Characters of a chip in base64 (with padding).
pub const CHIP_BASE64_LEN: usize = CHIP_RGB_BYTES.div_ceil(3) * 4;

/// Which card holder the face should belong to.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderReference {
    /// `resident` (居民身份证), … as read from the card.
    pub card_type: String,
    /// The full ID number from the card (personal data; see the module documentation).
    pub id_number: String,
}

impl std::fmt::Debug for HolderReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HolderReference")
            .field("card_type", &self.card_type)
            .field("id_number", &crate::mask_id_number(&self.id_number))
            .finish()
    }
}

/// Body of `POST` [`FACE_VERIFY_PATH`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaceVerifyRequest {
    /// The kiosk that signs the request.
    pub kiosk_id: String,
    /// Chosen by the kiosk (UUIDv7); echoed in the reply and kept in the centre's audit trail,
    /// so the kiosk can link the decision to its session.
    pub request_id: Uuid,
    pub holder: HolderReference,
    /// The aligned 150×150 RGB chip, base64 (see the module documentation).
    pub chip_rgb_base64: String,
}

impl std::fmt::Debug for FaceVerifyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceVerifyRequest")
            .field("kiosk_id", &self.kiosk_id)
            .field("request_id", &self.request_id)
            .field("holder", &self.holder)
            .field(
                "chip_rgb_base64",
                &format_args!("<{} chars>", self.chip_rgb_base64.len()),
            )
            .finish()
    }
}

impl FaceVerifyRequest {
    /// A request for `chip_rgb` (must be [`CHIP_RGB_BYTES`] long; checked by the centre).
    pub fn new(
        kiosk_id: impl Into<String>,
        request_id: Uuid,
        holder: HolderReference,
        chip_rgb: &[u8],
    ) -> Self {
        Self {
            kiosk_id: kiosk_id.into(),
            request_id,
            holder,
            chip_rgb_base64: base64_encode(chip_rgb),
        }
    }

    /// The chip's bytes, checked to be exactly one 150×150 RGB chip.
    pub fn chip_rgb(&self) -> Result<Vec<u8>, ChipError> {
        if self.chip_rgb_base64.len() != CHIP_BASE64_LEN {
            return Err(ChipError::Size);
        }
        let bytes = base64_decode(&self.chip_rgb_base64).ok_or(ChipError::Encoding)?;
        if bytes.len() != CHIP_RGB_BYTES {
            return Err(ChipError::Size);
        }
        Ok(bytes)
    }
}

/// Why a chip in a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChipError {
    #[error(
        "chip_rgb_base64 must hold one 150×150 RGB chip: {CHIP_RGB_BYTES} bytes, {CHIP_BASE64_LEN} base64 characters"
    )]
    Size,
    #[error("chip_rgb_base64 is not standard base64")]
    Encoding,
}

/// What the identity service decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyOutcome {
    /// The face is the card holder's.
    Match,
    /// The face is not the card holder's.
    NoMatch,
    /// No decision (no reference photo, chip unusable): the kiosk offers another way.
    Inconclusive,
}

impl VerifyOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyOutcome::Match => "match",
            VerifyOutcome::NoMatch => "no_match",
            VerifyOutcome::Inconclusive => "inconclusive",
        }
    }
}

/// The centre's `200` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteDecision {
    pub request_id: Uuid,
    pub outcome: VerifyOutcome,
    /// The service's similarity score (its own scale), when it gives one.
    pub score: Option<f32>,
    /// Which service (and version) decided.
    pub verifier: String,
    /// Centre's clock, RFC 3339.
    pub decided_at: String,
}

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let b = [
            group[0],
            group.get(1).copied().unwrap_or(0),
            group.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= group.len() {
                out.push(char::from(
                    BASE64_ALPHABET[((n >> (18 - 6 * i)) & 63) as usize],
                ));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 with padding; `None` for anything else (wrong length, characters
/// outside the alphabet, misplaced padding, non-zero bits after the last byte).
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let groups = text.len() / 4;
    for (index, group) in text.chunks(4).enumerate() {
        let last = index + 1 == groups;
        let padding = group.iter().rev().take_while(|&&c| c == b'=').count();
        if padding > 2 || (padding > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &group[..4 - padding] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * padding as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let keep = 3 - padding;
        // The bits below the last kept byte must be zero (one encoding per byte string).
        if padding > 0 && (n & ((1 << (8 * padding)) - 1)) != 0 {
            return None;
        }
        out.extend_from_slice(&bytes[..keep]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), encoded);
            assert_eq!(base64_decode(encoded).as_deref(), Some(plain.as_bytes()));
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(base64_decode(&base64_encode(&all)), Some(all));
    }

    #[test]
    fn base64_refuses_what_is_not_canonical() {
        for bad in [
            "Zg=", "Z===", "Zg==Zg==", "Zh==", "Zm9v!A==", "Zm 9v", "Zm9v\n",
        ] {
            assert_eq!(base64_decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn chip_size_is_checked() {
        let holder = HolderReference {
            card_type: "resident".into(),
            id_number: "110105194912310021".into(),
        };
        let chip = vec![7u8; CHIP_RGB_BYTES];
        let request = FaceVerifyRequest::new("k", Uuid::nil(), holder.clone(), &chip);
        assert_eq!(request.chip_rgb_base64.len(), CHIP_BASE64_LEN);
        assert_eq!(request.chip_rgb().unwrap(), chip);
        let small = FaceVerifyRequest::new("k", Uuid::nil(), holder.clone(), &chip[..300]);
        assert_eq!(small.chip_rgb(), Err(ChipError::Size));
        let mut garbled = request.clone();
        garbled.chip_rgb_base64.replace_range(0..4, "!!!!");
        assert_eq!(garbled.chip_rgb(), Err(ChipError::Encoding));
    }

    #[test]
    fn debug_output_masks_the_id_number_and_hides_the_chip() {
        let request = FaceVerifyRequest::new(
            "k",
            Uuid::nil(),
            HolderReference {
                card_type: "resident".into(),
                id_number: "110105194912310021".into(),
            },
            &[1, 2, 3],
        );
        let text = format!("{request:?}");
        assert!(text.contains("110105********0021"), "{text}");
        assert!(!text.contains("19491231"), "{text}");
        assert!(!text.contains(&request.chip_rgb_base64), "{text}");
    }

    #[test]
    fn outcome_names() {
        assert_eq!(
            serde_json::to_string(&VerifyOutcome::NoMatch).unwrap(),
            "\"no_match\""
        );
        assert_eq!(VerifyOutcome::Inconclusive.as_str(), "inconclusive");
    }
}

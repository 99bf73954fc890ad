//! Remote face verification (issue 6 item 6): the interface to an identity-verification service
//! ([`IdentityVerifier`]) that `POST /api/v1/face/verify` forwards a kiosk's face chip to, and a
//! scripted test double ([`ScriptedVerifier`]) for tests and demos.
//!
//! A production verifier (the national population database, the 国家网络身份认证 service, a
//! provincial 人证核验 platform) implements [`IdentityVerifier`]; none ships yet, so a centre
//! runs either without one (`serve --face-verifier none`: the endpoint answers 503 and kiosks
//! offer the other ways to confirm identity) or with the scripted double
//! (`--face-verifier scripted:FILE`).
//!
//! The chip and the ID number handed to a verifier live in memory for the call only: the service
//! keeps just the outcome, the score and the verifier's name in its audit log.

use kiosk_protocol::face_verify::{CHIP_RGB_BYTES, CHIP_SIDE, VerifyOutcome};
use kiosk_protocol::request_signing::sha256_hex;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use uuid::Uuid;

/// One aligned face chip: 150 × 150 pixels, RGB, row by row.
pub struct FaceChip(Vec<u8>);

impl FaceChip {
    /// `None` unless `rgb` is exactly [`CHIP_RGB_BYTES`] long.
    pub fn new(rgb: Vec<u8>) -> Option<Self> {
        (rgb.len() == CHIP_RGB_BYTES).then_some(Self(rgb))
    }

    pub fn side(&self) -> usize {
        CHIP_SIDE
    }

    pub fn rgb(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for FaceChip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FaceChip({CHIP_SIDE}×{CHIP_SIDE})")
    }
}

impl Drop for FaceChip {
    /// The chip is biometric data: overwritten before the memory is given back.
    fn drop(&mut self) {
        self.0.fill(0);
        // Keeps the zeroing of memory about to be freed from being optimised away.
        std::hint::black_box(&self.0);
    }
}

/// What a verifier is asked.
pub struct VerifyRequest<'a> {
    /// The kiosk that asked (signed request).
    pub kiosk_id: &'a str,
    /// The kiosk's id for this verification (in the audit log and the reply).
    pub request_id: Uuid,
    /// `resident`, … as read from the card.
    pub card_type: &'a str,
    /// The card holder's full ID number (personal data: never log it; mask it to show it).
    pub id_number: &'a str,
    pub chip: &'a FaceChip,
}

impl std::fmt::Debug for VerifyRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyRequest")
            .field("kiosk_id", &self.kiosk_id)
            .field("request_id", &self.request_id)
            .field("card_type", &self.card_type)
            .field("id_number", &kiosk_protocol::mask_id_number(self.id_number))
            .field("chip", self.chip)
            .finish()
    }
}

/// A verifier's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyDecision {
    pub outcome: VerifyOutcome,
    /// The service's score on its own scale, if it gives one.
    pub score: Option<f32>,
    /// Which service and version decided, e.g. `scripted` or `nciic-2026.1`.
    pub verifier: String,
}

/// Why a verifier gave no decision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifierError {
    /// The service cannot be reached or is overloaded: the kiosk gets 503 and offers another way.
    #[error("identity verification service unavailable: {0}")]
    Unavailable(String),
    /// The service refused the request as malformed (400 to the kiosk).
    #[error("identity verification service refused the request: {0}")]
    Refused(String),
}

/// An identity-verification service: is the face on this chip the holder of this ID?
///
/// Called on a blocking thread (a real service is a network call); must not log the chip or
/// the unmasked ID number.
pub trait IdentityVerifier: Send + Sync {
    fn verify(&self, request: &VerifyRequest<'_>) -> Result<VerifyDecision, VerifierError>;
}

/// What the scripted verifier answers for one ID reference.
#[derive(Debug, Clone, PartialEq)]
pub enum Scripted {
    Decide {
        outcome: VerifyOutcome,
        score: Option<f32>,
    },
    /// Behave as a service that is down.
    Unavailable,
}

/// The test double: answers configured per ID reference (the ID number, or `sha256:<hex>` of
/// it so a demo file need not hold the number), a default for every other ID, and a switch that
/// makes the whole service "down". Records how often it was asked (never what).
pub struct ScriptedVerifier {
    by_reference: Mutex<HashMap<String, Scripted>>,
    default: Mutex<Scripted>,
    down: AtomicBool,
    calls: AtomicUsize,
}

impl Default for ScriptedVerifier {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a script file was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("face verifier script {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("face verifier script {path}, line {line}: {reason}")]
    Line {
        path: String,
        line: usize,
        reason: String,
    },
}

/// The key an ID number is scripted under when given as a digest.
fn digest_key(id_number: &str) -> String {
    format!(
        "sha256:{}",
        sha256_hex(id_number.trim().to_ascii_uppercase().as_bytes())
    )
}

impl ScriptedVerifier {
    /// Every ID inconclusive until told otherwise.
    pub fn new() -> Self {
        Self {
            by_reference: Mutex::new(HashMap::new()),
            default: Mutex::new(Scripted::Decide {
                outcome: VerifyOutcome::Inconclusive,
                score: None,
            }),
            down: AtomicBool::new(false),
            calls: AtomicUsize::new(0),
        }
    }

    /// Answers `scripted` for the ID number (or `sha256:<hex>` reference) `reference`.
    pub fn with(self, reference: &str, scripted: Scripted) -> Self {
        self.set(reference, scripted);
        self
    }

    /// Answers `outcome` with `score` for `reference`.
    pub fn decide(self, reference: &str, outcome: VerifyOutcome, score: Option<f32>) -> Self {
        self.with(reference, Scripted::Decide { outcome, score })
    }

    pub fn set(&self, reference: &str, scripted: Scripted) {
        let key = if reference.starts_with("sha256:") {
            reference.to_ascii_lowercase()
        } else {
            digest_key(reference)
        };
        lock(&self.by_reference).insert(key, scripted);
    }

    /// The answer for every ID not scripted.
    pub fn set_default(&self, scripted: Scripted) {
        *lock(&self.default) = scripted;
    }

    /// Makes the service unavailable (every call fails) or available again.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// How many verifications were asked for.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Reads a script file: one answer per line, `#` comments:
    ///
    /// ```text
    /// # ID reference                                   outcome        score
    /// 110105194912310021                                 match          0.93
    /// sha256:5f2c…(64 hex of the upper-case ID number)   no_match       0.12
    /// 11010519800101002X                                 unavailable
    /// *                                                  inconclusive
    /// ```
    ///
    /// Outcomes: `match`, `no_match`, `inconclusive`, `unavailable` (behaves as a service that is
    /// down for that ID). `*` sets the answer for every other ID (default: `inconclusive`).
    pub fn from_file(path: &Path) -> Result<Self, ScriptError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScriptError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::from_script(&text).map_err(|(line, reason)| ScriptError::Line {
            path: path.display().to_string(),
            line,
            reason,
        })
    }

    /// [`Self::from_file`] on the text; the error names the line (1-based) and the problem.
    pub fn from_script(text: &str) -> Result<Self, (usize, String)> {
        let verifier = Self::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let fail = |reason: &str| (index + 1, reason.to_string());
            let mut words = line.split_whitespace();
            let (Some(reference), Some(outcome)) = (words.next(), words.next()) else {
                return Err(fail("expected `<ID reference> <outcome> [score]`"));
            };
            let score = match words.next() {
                None => None,
                Some(word) => Some(
                    word.parse::<f32>()
                        .ok()
                        .filter(|s| s.is_finite())
                        .ok_or_else(|| fail("the score must be a number"))?,
                ),
            };
            if words.next().is_some() {
                return Err(fail("too many words"));
            }
            let scripted = match outcome {
                "match" => Scripted::Decide {
                    outcome: VerifyOutcome::Match,
                    score,
                },
                "no_match" => Scripted::Decide {
                    outcome: VerifyOutcome::NoMatch,
                    score,
                },
                "inconclusive" => Scripted::Decide {
                    outcome: VerifyOutcome::Inconclusive,
                    score,
                },
                "unavailable" => Scripted::Unavailable,
                _ => {
                    return Err(fail(
                        "outcome must be match, no_match, inconclusive or unavailable",
                    ));
                }
            };
            if reference == "*" {
                verifier.set_default(scripted);
            } else if let Some(hex) = reference.strip_prefix("sha256:") {
                if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(fail("a sha256: reference needs 64 hex characters"));
                }
                verifier.set(reference, scripted);
            } else if reference.chars().all(|c| c.is_ascii_alphanumeric()) {
                verifier.set(reference, scripted);
            } else {
                return Err(fail(
                    "an ID reference is an ID number (letters and digits), sha256:<hex> or *",
                ));
            }
        }
        Ok(verifier)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl IdentityVerifier for ScriptedVerifier {
    fn verify(&self, request: &VerifyRequest<'_>) -> Result<VerifyDecision, VerifierError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(VerifierError::Unavailable(
                "scripted verifier is down".into(),
            ));
        }
        let scripted = lock(&self.by_reference)
            .get(&digest_key(request.id_number))
            .cloned()
            .unwrap_or_else(|| lock(&self.default).clone());
        match scripted {
            Scripted::Decide { outcome, score } => Ok(VerifyDecision {
                outcome,
                score,
                verifier: "scripted".into(),
            }),
            Scripted::Unavailable => Err(VerifierError::Unavailable(
                "scripted verifier: unavailable for this ID".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(verifier: &ScriptedVerifier, id_number: &str) -> Result<VerifyDecision, VerifierError> {
        let chip = FaceChip::new(vec![0; CHIP_RGB_BYTES]).expect("chip");
        verifier.verify(&VerifyRequest {
            kiosk_id: "k",
            request_id: Uuid::nil(),
            card_type: "resident",
            id_number,
            chip: &chip,
        })
    }

    #[test]
    fn script_file_answers_per_reference() {
        let digest = digest_key("11010519800101002x");
        let script = format!(
            "# test\n110105194912310021 match 0.93\n{digest} no_match 0.1 # by digest\n\
             110105195001010011 unavailable\n* no_match\n"
        );
        let verifier = ScriptedVerifier::from_script(&script).expect("script");
        assert_eq!(
            ask(&verifier, "110105194912310021").unwrap(),
            VerifyDecision {
                outcome: VerifyOutcome::Match,
                score: Some(0.93),
                verifier: "scripted".into()
            }
        );
        // Digest references match the upper-cased number.
        assert_eq!(
            ask(&verifier, "11010519800101002X").unwrap().outcome,
            VerifyOutcome::NoMatch
        );
        assert!(matches!(
            ask(&verifier, "110105195001010011"),
            Err(VerifierError::Unavailable(_))
        ));
        assert_eq!(ask(&verifier, "other").unwrap().score, None);
        verifier.set_down(true);
        assert!(ask(&verifier, "110105194912310021").is_err());
        assert_eq!(verifier.calls(), 5);
    }

    #[test]
    fn script_errors_name_the_line() {
        for (text, line) in [
            ("110105194912310021\n", 1),
            ("# ok\n110105194912310021 maybe\n", 2),
            ("x match high\n", 1),
            ("sha256:12 match\n", 1),
            ("1101-05 match\n", 1),
            ("a match 1 extra\n", 1),
        ] {
            let error = ScriptedVerifier::from_script(text).err().expect("refused");
            assert_eq!(error.0, line, "{text:?}: {}", error.1);
        }
    }

    #[test]
    fn chips_have_one_size_and_debug_shows_no_personal_data() {
        assert!(FaceChip::new(vec![0; 10]).is_none());
        let chip = FaceChip::new(vec![9; CHIP_RGB_BYTES]).expect("chip");
        let request = VerifyRequest {
            kiosk_id: "k",
            request_id: Uuid::nil(),
            card_type: "resident",
            id_number: "110105194912310021",
            chip: &chip,
        };
        let text = format!("{request:?}");
        assert!(text.contains("110105********0021") && !text.contains("19491231"));
        assert!(text.contains("FaceChip(150×150)"));
    }
}

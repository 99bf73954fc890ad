//! Distance and the 1:1 decision.

use serde::{Deserialize, Serialize};

use crate::Embedding;

/// Euclidean-distance threshold: at or below → same person. Chosen from the evaluation of the
/// fixtures (face/README.md): the largest genuine distance was 0.449 (simulated ID photo vs live)
/// and the smallest impostor distance 0.658; 0.55 is the centre of that gap (≈ 0.10 margin on each
/// side), below dlib's published 0.6 — at a government kiosk a false accept is the costlier error
/// (a false reject falls back to staff or remote verification). Re-tune on real card reads.
pub const DEFAULT_THRESHOLD: f32 = 0.55;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Match,
    NoMatch,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MatchResult {
    pub distance: f32,
    pub threshold: f32,
    pub decision: Decision,
}

pub fn distance(a: &Embedding, b: &Embedding) -> f32 {
    a.distance(b)
}

pub fn decide(a: &Embedding, b: &Embedding, threshold: f32) -> MatchResult {
    let distance = distance(a, b);
    let decision = if distance <= threshold {
        Decision::Match
    } else {
        Decision::NoMatch
    };
    MatchResult {
        distance,
        threshold,
        decision,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_follows_threshold() {
        let a = Embedding(vec![0.0; 128]);
        let mut b = a.clone();
        b.0[0] = 0.5;
        assert_eq!(decide(&a, &b, 0.6).decision, Decision::Match);
        b.0[1] = 0.5; // distance √0.5 ≈ 0.707
        let r = decide(&a, &b, 0.6);
        assert_eq!(r.decision, Decision::NoMatch);
        assert!((r.distance - 0.5f32.sqrt()).abs() < 1e-6);
    }
}

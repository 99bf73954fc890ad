//! Quality gates: each failing gate is a typed [`QualityIssue`] that the UI turns into an
//! instruction for the citizen ([`QualityIssue::instruction_zh`]).
//!
//! Measuring ([`measure`]) and judging ([`QualityConfig::issues`]) are separate and pure, so the
//! limits can be tuned on the real camera without touching the measurements.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::{Detection, Point, Prompt};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QualityConfig {
    /// Faces whose eye distance is below this are background faces and not counted.
    pub ignore_eye_px_below: f32,
    /// Minimum eye distance in the frame (pixels) — closer to the camera below this.
    pub min_eye_px: f32,
    /// Maximum face-box height as a fraction of the frame height — further away above this.
    pub max_face_height_frac: f32,
    /// Maximum offset of the face-box centre from the frame centre, as a fraction of the frame
    /// width / height (1/6 = the middle third).
    pub max_centre_offset: f32,
    /// Maximum head roll (eye-line angle) in degrees.
    pub max_roll_deg: f32,
    /// Maximum |yaw ratio|: horizontal nose offset from the eye midpoint / eye distance.
    pub max_yaw_ratio: f32,
    /// Allowed range of the pitch ratio: nose height between the eye line (0) and mouth line (1).
    pub pitch_ratio_range: (f32, f32),
    /// Minimum variance of the Laplacian of the grey chip.
    pub min_sharpness: f32,
    /// Allowed mean luminance (0–255) of the chip's face region.
    pub luminance_range: (f32, f32),
    /// Maximum fraction of blown-out (≥ 250) pixels in the chip's face region.
    pub max_clipped_frac: f32,
}

impl Default for QualityConfig {
    fn default() -> Self {
        Self {
            ignore_eye_px_below: 12.0,
            min_eye_px: 60.0,
            max_face_height_frac: 0.85,
            max_centre_offset: 1.0 / 6.0,
            max_roll_deg: 15.0,
            max_yaw_ratio: 0.25,
            pitch_ratio_range: (0.30, 0.72),
            min_sharpness: 12.0,
            luminance_range: (50.0, 210.0),
            max_clipped_frac: 0.15,
        }
    }
}

/// Which way the face is off the frame centre (in frame coordinates; the UI mirrors it if the
/// preview is mirrored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Left,
    Right,
    Up,
    Down,
}

/// Why a frame cannot be used; one variant per instruction shown to the citizen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "issue", rename_all = "snake_case")]
pub enum QualityIssue {
    NoFace,
    MultipleFaces {
        count: usize,
    },
    /// The face is off-centre, towards `towards` (frame coordinates).
    NotCentred {
        towards: Direction,
        offset: f32,
    },
    TooFar {
        eye_px: f32,
        min_eye_px: f32,
    },
    TooClose {
        face_height_frac: f32,
    },
    HeadTilted {
        roll_deg: f32,
    },
    /// `towards` = the side of the frame the nose points to.
    HeadTurned {
        towards: Direction,
        yaw_ratio: f32,
    },
    /// `towards` = Up: chin raised; Down: head lowered.
    HeadPitched {
        towards: Direction,
        pitch_ratio: f32,
    },
    Blurry {
        sharpness: f32,
        min: f32,
    },
    TooDark {
        luminance: f32,
    },
    TooBright {
        luminance: f32,
        clipped_frac: f32,
    },
}

impl QualityIssue {
    /// What to show and say: stable code, Chinese and English text.
    pub fn prompt(&self) -> Prompt {
        let (code, en) = match self {
            QualityIssue::NoFace => ("no_face", "Please face the camera"),
            QualityIssue::MultipleFaces { .. } => (
                "multiple_faces",
                "Please make sure only you are in the picture",
            ),
            QualityIssue::NotCentred { .. } => ("not_centred", "Please move to the middle"),
            QualityIssue::TooFar { .. } => ("too_far", "Please come a little closer"),
            QualityIssue::TooClose { .. } => ("too_close", "Please move back a little"),
            QualityIssue::HeadTilted { .. } => ("head_tilted", "Please hold your head straight"),
            QualityIssue::HeadTurned { .. } => {
                ("head_turned", "Please look straight at the camera")
            }
            QualityIssue::HeadPitched {
                towards: Direction::Up,
                ..
            } => ("head_pitched_up", "Please lower your chin a little"),
            QualityIssue::HeadPitched { .. } => {
                ("head_pitched_down", "Please raise your head a little")
            }
            QualityIssue::Blurry { .. } => ("blurry", "Please hold still"),
            QualityIssue::TooDark { .. } => (
                "too_dark",
                "It is too dark: please come closer to the screen or move",
            ),
            QualityIssue::TooBright { .. } => {
                ("too_bright", "Too much light: please avoid the glare")
            }
        };
        Prompt::new(code, self.instruction_zh(), en)
    }

    /// Short, voice-ready instruction (Simplified Chinese).
    pub fn instruction_zh(&self) -> &'static str {
        match self {
            QualityIssue::NoFace => "请正对摄像头",
            QualityIssue::MultipleFaces { .. } => "请确保画面中只有您一人",
            QualityIssue::NotCentred { .. } => "请移动到画面中央",
            QualityIssue::TooFar { .. } => "请靠近一些",
            QualityIssue::TooClose { .. } => "请离远一些",
            QualityIssue::HeadTilted { .. } => "请把头摆正",
            QualityIssue::HeadTurned { .. } => "请正视摄像头，不要转头",
            QualityIssue::HeadPitched {
                towards: Direction::Up,
                ..
            } => "请稍微低头",
            QualityIssue::HeadPitched { .. } => "请稍微抬头",
            QualityIssue::Blurry { .. } => "请保持不动",
            QualityIssue::TooDark { .. } => "光线太暗，请靠近屏幕或调整位置",
            QualityIssue::TooBright { .. } => "光线太强，请避开强光",
        }
    }
}

/// Everything the gates look at, for one face in one frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QualityMetrics {
    pub eye_px: f32,
    pub face_height_frac: f32,
    /// Face-box centre minus frame centre, as fractions of frame width / height.
    pub centre_offset: (f32, f32),
    pub roll_deg: f32,
    pub yaw_ratio: f32,
    pub pitch_ratio: f32,
    /// `None` when no chip was measured (frame gates only).
    pub sharpness: Option<f32>,
    pub luminance: Option<f32>,
    pub clipped_frac: Option<f32>,
}

/// Roll (degrees), yaw ratio and pitch ratio from the five landmarks.
pub fn pose(landmarks: &[Point; 5]) -> (f32, f32, f32) {
    let [le, re, nose, ml, mr] = *landmarks;
    let roll = (re.y - le.y).atan2(re.x - le.x);
    let (c, s) = (roll.cos(), roll.sin());
    let eyes = le.midpoint(re);
    // Rotate into the eye-line frame (x along the eyes, y down the face).
    let local = |p: Point| {
        let (dx, dy) = (p.x - eyes.x, p.y - eyes.y);
        Point::new(c * dx + s * dy, -s * dx + c * dy)
    };
    let eye_d = le.distance(re).max(1e-3);
    let n = local(nose);
    let mouth = local(ml.midpoint(mr));
    let yaw = n.x / eye_d;
    let pitch = if mouth.y.abs() < 1e-3 {
        0.0
    } else {
        n.y / mouth.y
    };
    (roll.to_degrees(), yaw, pitch)
}

/// Measures the frame-level values of `det` in a `width`×`height` frame and, with a chip, its
/// sharpness and exposure.
pub fn measure(
    width: u32,
    height: u32,
    det: &Detection,
    chip: Option<&RgbImage>,
) -> QualityMetrics {
    let (w, h) = (width.max(1) as f32, height.max(1) as f32);
    let c = det.bbox.centre();
    let (roll_deg, yaw_ratio, pitch_ratio) = pose(&det.landmarks);
    let (sharpness, luminance, clipped_frac) = match chip {
        Some(chip) => {
            let (l, cl) = exposure(chip);
            (Some(sharpness(chip)), Some(l), Some(cl))
        }
        None => (None, None, None),
    };
    QualityMetrics {
        eye_px: det.eye_distance(),
        face_height_frac: det.bbox.height() / h,
        centre_offset: ((c.x - w / 2.0) / w, (c.y - h / 2.0) / h),
        roll_deg,
        yaw_ratio,
        pitch_ratio,
        sharpness,
        luminance,
        clipped_frac,
    }
}

fn grey(chip: &RgbImage) -> Vec<f32> {
    chip.pixels()
        .map(|p| 0.299 * f32::from(p.0[0]) + 0.587 * f32::from(p.0[1]) + 0.114 * f32::from(p.0[2]))
        .collect()
}

/// The face region of the chip (skips the chip's outer band of background).
fn face_region(chip: &RgbImage) -> (usize, usize, usize, usize) {
    let (w, h) = (chip.width() as usize, chip.height() as usize);
    (w / 5, h / 5, w - w / 5, h - h / 10)
}

/// Variance of the 3×3 Laplacian of the grey chip's face region.
pub fn sharpness(chip: &RgbImage) -> f32 {
    let g = grey(chip);
    let w = chip.width() as usize;
    let (x0, y0, x1, y1) = face_region(chip);
    let (mut sum, mut sum2, mut n) = (0f64, 0f64, 0f64);
    for y in y0.max(1)..y1.min(chip.height() as usize - 1) {
        for x in x0.max(1)..x1.min(w - 1) {
            let i = y * w + x;
            let l = f64::from(g[i - 1] + g[i + 1] + g[i - w] + g[i + w] - 4.0 * g[i]);
            sum += l;
            sum2 += l * l;
            n += 1.0;
        }
    }
    if n == 0.0 {
        return 0.0;
    }
    let mean = sum / n;
    (sum2 / n - mean * mean) as f32
}

/// Mean luminance and fraction of blown-out (≥ 250) pixels of the chip's face region.
pub fn exposure(chip: &RgbImage) -> (f32, f32) {
    let g = grey(chip);
    let w = chip.width() as usize;
    let (x0, y0, x1, y1) = face_region(chip);
    let (mut sum, mut clipped, mut n) = (0f32, 0usize, 0usize);
    for y in y0..y1 {
        for &v in &g[y * w + x0..y * w + x1] {
            sum += v;
            clipped += usize::from(v >= 250.0);
            n += 1;
        }
    }
    if n == 0 {
        return (0.0, 1.0);
    }
    (sum / n as f32, clipped as f32 / n as f32)
}

impl QualityConfig {
    /// The faces that count (not tiny background faces), best score first.
    pub fn counted<'a>(&self, dets: &'a [Detection]) -> Vec<&'a Detection> {
        dets.iter()
            .filter(|d| d.eye_distance() >= self.ignore_eye_px_below)
            .collect()
    }

    /// Gate 1: exactly one face.
    pub fn single_face<'a>(&self, dets: &'a [Detection]) -> Result<&'a Detection, QualityIssue> {
        match self.counted(dets).as_slice() {
            [] => Err(QualityIssue::NoFace),
            [one] => Ok(one),
            many => Err(QualityIssue::MultipleFaces { count: many.len() }),
        }
    }

    /// All failing gates for a measured face, in the order the citizen should fix them.
    pub fn issues(&self, m: &QualityMetrics) -> Vec<QualityIssue> {
        let mut out = Vec::new();
        let (dx, dy) = m.centre_offset;
        if dx.abs() > self.max_centre_offset || dy.abs() > self.max_centre_offset {
            let (towards, offset) = if dx.abs() >= dy.abs() {
                (
                    if dx < 0.0 {
                        Direction::Left
                    } else {
                        Direction::Right
                    },
                    dx.abs(),
                )
            } else {
                (
                    if dy < 0.0 {
                        Direction::Up
                    } else {
                        Direction::Down
                    },
                    dy.abs(),
                )
            };
            out.push(QualityIssue::NotCentred { towards, offset });
        }
        if m.eye_px < self.min_eye_px {
            out.push(QualityIssue::TooFar {
                eye_px: m.eye_px,
                min_eye_px: self.min_eye_px,
            });
        }
        if m.face_height_frac > self.max_face_height_frac {
            out.push(QualityIssue::TooClose {
                face_height_frac: m.face_height_frac,
            });
        }
        if m.roll_deg.abs() > self.max_roll_deg {
            out.push(QualityIssue::HeadTilted {
                roll_deg: m.roll_deg,
            });
        }
        if m.yaw_ratio.abs() > self.max_yaw_ratio {
            let towards = if m.yaw_ratio < 0.0 {
                Direction::Left
            } else {
                Direction::Right
            };
            out.push(QualityIssue::HeadTurned {
                towards,
                yaw_ratio: m.yaw_ratio,
            });
        }
        let (lo, hi) = self.pitch_ratio_range;
        if m.pitch_ratio < lo {
            out.push(QualityIssue::HeadPitched {
                towards: Direction::Up,
                pitch_ratio: m.pitch_ratio,
            });
        } else if m.pitch_ratio > hi {
            out.push(QualityIssue::HeadPitched {
                towards: Direction::Down,
                pitch_ratio: m.pitch_ratio,
            });
        }
        if let Some(s) = m.sharpness.filter(|s| *s < self.min_sharpness) {
            out.push(QualityIssue::Blurry {
                sharpness: s,
                min: self.min_sharpness,
            });
        }
        if let (Some(l), Some(c)) = (m.luminance, m.clipped_frac) {
            let (lo, hi) = self.luminance_range;
            if l < lo {
                out.push(QualityIssue::TooDark { luminance: l });
            } else if l > hi || c > self.max_clipped_frac {
                out.push(QualityIssue::TooBright {
                    luminance: l,
                    clipped_frac: c,
                });
            }
        }
        out
    }
}

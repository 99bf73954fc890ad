//! Eye openness from the pixels, for blink detection.
//!
//! The face mesh places the eyes well but its lid points hardly move when the eyes close (its eye
//! aspect ratio stayed at 0.18–0.23 even with the eyes painted over with skin colour or black;
//! a known limitation of this model, which MediaPipe solves with its separate iris model). So the
//! openness is read from the image inside the eye the mesh located: an open eye shows iris and
//! sclera, which differ from the surrounding skin over the height of the lid opening; a closed
//! eye only shows the thin line of the lashes.
//!
//! [`eye_openness`] samples a strip across the middle of each eye (between the mesh's eye
//! corners, rotated with them), takes the skin brightness from a band below the eye, and measures in each column how much of the height around the eye centre differs from
//! the skin; the median over the columns, as a fraction of the eye width, reads like an eye
//! aspect ratio (open ≈ 0.2–0.35, closed ≲ 0.1).

use image::RgbImage;

use crate::Point;
use crate::mesh::{LEFT_EYE, MeshResult, RIGHT_EYE};

/// Columns sampled across the middle of the eye (fractions of the corner-to-corner width).
const COLUMNS: (f32, f32, usize) = (0.3, 0.7, 13);
/// Sampling step across the eye, as a fraction of the eye width.
const STEP: f32 = 0.02;
/// Half height of the band searched for iris / sclera (fraction of the eye width).
const SEARCH: f32 = 0.30;
/// Skin reference band below the eye: from … to (fraction of the eye width) below the centre
/// (above the eye the brow can be close).
const SKIN_BAND: (f32, f32) = (0.36, 0.50);
/// A pixel differs from the skin when its luminance is off by this fraction of the skin's …
const REL_DIFF: f32 = 0.2;
/// … and at least this much (0–255).
const MIN_DIFF: f32 = 14.0;

/// Openness of the (person's right, person's left) eye; see the module documentation.
pub fn eye_openness(frame: &RgbImage, mesh: &MeshResult) -> (f32, f32) {
    (
        openness(frame, &mesh.points, &RIGHT_EYE),
        openness(frame, &mesh.points, &LEFT_EYE),
    )
}

fn luminance(frame: &RgbImage, p: Point) -> Option<f32> {
    let (w, h) = (frame.width() as i64, frame.height() as i64);
    let (x0, y0) = (p.x.floor() as i64, p.y.floor() as i64);
    if x0 < 0 || y0 < 0 || x0 + 1 >= w || y0 + 1 >= h {
        return None;
    }
    let (fx, fy) = (p.x - x0 as f32, p.y - y0 as f32);
    let l = |x: i64, y: i64| {
        let c = frame.get_pixel(x as u32, y as u32).0;
        0.299 * f32::from(c[0]) + 0.587 * f32::from(c[1]) + 0.114 * f32::from(c[2])
    };
    let top = l(x0, y0) + (l(x0 + 1, y0) - l(x0, y0)) * fx;
    let bottom = l(x0, y0 + 1) + (l(x0 + 1, y0 + 1) - l(x0, y0 + 1)) * fx;
    Some(top + (bottom - top) * fy)
}

fn median(v: &mut [f32]) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    Some(v[v.len() / 2])
}

/// One eye: `idx` = the six eye-aspect-ratio points (corner, 2 upper, corner, 2 lower).
fn openness(frame: &RgbImage, points: &[[f32; 3]], idx: &[usize; 6]) -> f32 {
    let pt = |i: usize| Point::new(points[idx[i]][0], points[idx[i]][1]);
    let (a, b) = (pt(0), pt(3));
    let width = a.distance(b);
    if width < 4.0 {
        return 0.0;
    }
    let centre = idx.iter().fold(Point::new(0.0, 0.0), |s, &i| {
        Point::new(s.x + points[i][0] / 6.0, s.y + points[i][1] / 6.0)
    });
    // Along the eye (corner to corner) and across it (pointing down the face).
    let along = Point::new((b.x - a.x) / width, (b.y - a.y) / width);
    let mut across = Point::new(-along.y, along.x);
    if across.y < 0.0 {
        across = Point::new(-across.x, -across.y);
    }
    let at = |u: f32, v: f32| {
        // u: fraction from corner a to b; v: fraction of the width across, from the centre line.
        let base = Point::new(a.x + (b.x - a.x) * u, a.y + (b.y - a.y) * u);
        let off = Point::new(base.x - a.midpoint(b).x, base.y - a.midpoint(b).y);
        Point::new(
            centre.x + off.x + across.x * v * width,
            centre.y + off.y + across.y * v * width,
        )
    };
    let (u0, u1, n) = COLUMNS;
    let mut skin = Vec::new();
    for c in 0..n {
        let u = u0 + (u1 - u0) * c as f32 / (n - 1) as f32;
        let mut v = SKIN_BAND.0;
        while v <= SKIN_BAND.1 {
            if let Some(l) = luminance(frame, at(u, v)) {
                skin.push(l);
            }
            v += STEP;
        }
    }
    let Some(skin) = median(&mut skin) else {
        return 0.0;
    };
    let limit = (REL_DIFF * skin).max(MIN_DIFF);
    let rows = (SEARCH / STEP).round() as i32;
    let mut heights: Vec<f32> = (0..n)
        .map(|c| {
            let u = u0 + (u1 - u0) * c as f32 / (n - 1) as f32;
            let count = (-rows..=rows)
                .filter(|&r| {
                    luminance(frame, at(u, r as f32 * STEP))
                        .is_some_and(|l| (l - skin).abs() > limit)
                })
                .count();
            count as f32 * STEP
        })
        .collect();
    median(&mut heights).unwrap_or(0.0)
}

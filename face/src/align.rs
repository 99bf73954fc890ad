//! 5-point similarity alignment to dlib's 150×150 face chip.
//!
//! A least-squares 2-D similarity (rotation, uniform scale, shift) maps the detector's five
//! landmarks onto [`DLIB_CHIP_TEMPLATE`]; the chip is then sampled bilinearly (outside the image:
//! black, as dlib's `extract_image_chip`).

use image::{Rgb, RgbImage};
use serde::{Deserialize, Serialize};

use crate::Point;

/// Side of the chip the dlib ResNet takes.
pub const CHIP_SIZE: u32 = 150;

/// dlib's 150×150 chip (padding 0.25) in CenterFace's five points: left eye, right eye, nose,
/// left and right mouth corner — the mean CenterFace landmarks over dlib's own chips (reference
/// face-check.md §3.4).
pub const DLIB_CHIP_TEMPLATE: [Point; 5] = [
    Point::new(46.45, 47.82),
    Point::new(103.30, 48.49),
    Point::new(73.80, 76.69),
    Point::new(49.39, 102.69),
    Point::new(96.56, 103.14),
];

/// `x' = a·x − b·y + tx`, `y' = b·x + a·y + ty`: scale = √(a²+b²), rotation = atan2(b, a).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Similarity {
    pub a: f32,
    pub b: f32,
    pub tx: f32,
    pub ty: f32,
}

impl Similarity {
    pub fn apply(&self, p: Point) -> Point {
        Point::new(
            self.a * p.x - self.b * p.y + self.tx,
            self.b * p.x + self.a * p.y + self.ty,
        )
    }

    pub fn scale(&self) -> f32 {
        self.a.hypot(self.b)
    }

    /// Rotation in degrees (counter-clockwise in image coordinates with y down = clockwise on screen).
    pub fn rotation_deg(&self) -> f32 {
        self.b.atan2(self.a).to_degrees()
    }

    pub fn inverse(&self) -> Similarity {
        let d = self.a * self.a + self.b * self.b;
        let (a, b) = (self.a / d, -self.b / d);
        // inverse maps p' → R⁻¹(p' − t)
        Similarity {
            a,
            b,
            tx: -(a * self.tx - b * self.ty),
            ty: -(b * self.tx + a * self.ty),
        }
    }

    /// Least-squares similarity taking `src[i]` to `dst[i]`; `None` if the source points coincide.
    pub fn fit(src: &[Point], dst: &[Point]) -> Option<Similarity> {
        let n = src.len().min(dst.len());
        if n < 2 {
            return None;
        }
        let mean = |ps: &[Point]| {
            let (sx, sy) = ps[..n]
                .iter()
                .fold((0.0, 0.0), |(x, y), p| (x + p.x, y + p.y));
            Point::new(sx / n as f32, sy / n as f32)
        };
        let (ms, md) = (mean(src), mean(dst));
        let (mut dot, mut cross, mut norm) = (0.0f32, 0.0f32, 0.0f32);
        for (p, q) in src[..n].iter().zip(&dst[..n]) {
            let (px, py) = (p.x - ms.x, p.y - ms.y);
            let (qx, qy) = (q.x - md.x, q.y - md.y);
            dot += px * qx + py * qy;
            cross += px * qy - py * qx;
            norm += px * px + py * py;
        }
        if norm <= f32::EPSILON {
            return None;
        }
        let (a, b) = (dot / norm, cross / norm);
        Some(Similarity {
            a,
            b,
            tx: md.x - (a * ms.x - b * ms.y),
            ty: md.y - (b * ms.x + a * ms.y),
        })
    }
}

/// A face cut out and aligned for the embedder.
#[derive(Debug, Clone)]
pub struct AlignedChip {
    pub image: RgbImage,
    /// Frame → chip transform.
    pub transform: Similarity,
    /// Mean distance (chip pixels) between the transformed landmarks and the template.
    pub fit_error: f32,
}

/// Aligns the face with landmarks `landmarks` (frame coordinates) onto the 150×150 dlib chip.
pub fn align_to_chip(frame: &RgbImage, landmarks: &[Point; 5]) -> Option<AlignedChip> {
    let transform = Similarity::fit(landmarks, &DLIB_CHIP_TEMPLATE)?;
    let fit_error = landmarks
        .iter()
        .zip(&DLIB_CHIP_TEMPLATE)
        .map(|(p, q)| transform.apply(*p).distance(*q))
        .sum::<f32>()
        / 5.0;
    let image = warp(frame, &transform.inverse(), CHIP_SIZE, CHIP_SIZE);
    Some(AlignedChip {
        image,
        transform,
        fit_error,
    })
}

/// Samples `src` at `chip_to_src(x, y)` for every output pixel (bilinear, black outside).
pub fn warp(src: &RgbImage, chip_to_src: &Similarity, width: u32, height: u32) -> RgbImage {
    let (sw, sh) = (src.width() as i64, src.height() as i64);
    let raw = src.as_raw();
    let px = |x: i64, y: i64| -> [f32; 3] {
        if x < 0 || y < 0 || x >= sw || y >= sh {
            return [0.0; 3];
        }
        let i = ((y * sw + x) * 3) as usize;
        [
            f32::from(raw[i]),
            f32::from(raw[i + 1]),
            f32::from(raw[i + 2]),
        ]
    };
    RgbImage::from_fn(width, height, |x, y| {
        let p = chip_to_src.apply(Point::new(x as f32, y as f32));
        let (x0, y0) = (p.x.floor(), p.y.floor());
        let (fx, fy) = (p.x - x0, p.y - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let (p00, p01, p10, p11) = (
            px(x0, y0),
            px(x0 + 1, y0),
            px(x0, y0 + 1),
            px(x0 + 1, y0 + 1),
        );
        let mut out = [0u8; 3];
        for c in 0..3 {
            let top = p00[c] + (p01[c] - p00[c]) * fx;
            let bottom = p10[c] + (p11[c] - p10[c]) * fx;
            out[c] = (top + (bottom - top) * fy).round().clamp(0.0, 255.0) as u8;
        }
        Rgb(out)
    })
}

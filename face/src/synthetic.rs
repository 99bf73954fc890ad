//! A simulated citizen for demos and tests: one still photo turned into a short looping clip in
//! which the person sits in the middle of the frame with slight natural motion, blinks, and turns
//! the head to the left and to the right — by painting and warping the image only (no model).
//!
//! - Blink: over each of the detector's eye points an elliptical lid comes down, in the colour
//!   of the skin just below the eye, with a dark line of lashes along its edge (the brow can sit
//!   right above the eye, so the skin is not taken from there).
//! - Turn: the face region is treated as a shallow head shell with a protruding nose and rotated
//!   about the vertical axis (nearest surface wins per output pixel), while the photo outside the
//!   face outline stays: the nose moves sideways relative to the outline, the far cheek narrows.
//!
//! The frames only live in memory.

use image::{Rgb, RgbImage};

use crate::{FaceEngine, FaceError, Point, pad_image};

/// Length of the clip [`live_sequence`] produces.
pub const CLIP_SECONDS: f32 = 6.0;
/// Grey border added around the photo to find the face in a tight chip.
const DETECT_PAD: u32 = 50;
/// Head turn at `Pose::turn` = ±1.
const MAX_TURN_DEG: f32 = 30.0;
/// Head model in eye distances: half width of the turning region, depth of the head shell at the
/// middle, extra depth of the nose tip.
const HEAD_HALF_WIDTH: f32 = 1.15;
const HEAD_DEPTH: f32 = 0.9;
const NOSE_DEPTH: f32 = 0.45;
/// The painted lid: an ellipse around the detector's eye point, in eye distances.
const LID_HALF_WIDTH: f32 = 0.34;
const LID_HALF_HEIGHT: f32 = 0.12;

/// The citizen's pose in one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pose {
    /// Shift of the whole face in frame pixels.
    pub shift: (f32, f32),
    /// Scale factor around the face centre (1 = as placed).
    pub zoom: f32,
    /// 0 = eyes open, 1 = closed.
    pub blink: f32,
    /// −1…1: positive = turned to the citizen's left (nose towards the frame's right in an
    /// unmirrored camera frame), negative = to the citizen's right.
    pub turn: f32,
}

impl Default for Pose {
    fn default() -> Self {
        Self {
            shift: (0.0, 0.0),
            zoom: 1.0,
            blink: 0.0,
            turn: 0.0,
        }
    }
}

/// A photo prepared for rendering: where its face is and how it sits in the frame.
pub struct SyntheticCitizen {
    photo: RgbImage,
    /// Eye centres (image order), nose tip and mouth centre in photo pixels.
    eyes: [Point; 2],
    nose: Point,
    mouth: Point,
    eye_d: f32,
    /// Photo pixel → frame pixel: `frame = photo * scale + offset`.
    scale: f32,
    offset: (f32, f32),
    frame_size: (u32, u32),
}

impl SyntheticCitizen {
    /// Finds the face in `photo` (exactly one) and places it in the middle of a `frame_size` frame
    /// with an eye distance of 13 % of the frame width (≈ 83 px at 640×480).
    pub fn new(
        engine: &FaceEngine,
        photo: &RgbImage,
        frame_size: (u32, u32),
    ) -> Result<Self, FaceError> {
        let padded = pad_image(photo, DETECT_PAD, [128, 128, 128]);
        let dets = engine.detector.detect(&padded)?;
        let det = engine.config.quality.single_face(&dets).map_err(|issue| {
            FaceError::Inference(format!("synthetic citizen needs one face: {issue:?}"))
        })?;
        let p = DETECT_PAD as f32;
        let lm = det.landmarks.map(|q| Point::new(q.x - p, q.y - p));
        let eyes = [lm[0], lm[1]];
        let eye_d = lm[0].distance(lm[1]).max(1.0);
        let mouth = lm[3].midpoint(lm[4]);
        let scale = 0.13 * frame_size.0 as f32 / eye_d;
        let centre = lm[0].midpoint(lm[1]).midpoint(mouth);
        let offset = (
            frame_size.0 as f32 / 2.0 - centre.x * scale,
            frame_size.1 as f32 * 0.47 - centre.y * scale,
        );
        Ok(Self {
            photo: photo.clone(),
            eyes,
            nose: lm[2],
            mouth,
            eye_d,
            scale,
            offset,
            frame_size,
        })
    }

    /// Renders one frame: the photo posed (turn, blink) in its own coordinates, then placed in
    /// the frame (shift, zoom).
    pub fn render(&self, pose: &Pose) -> RgbImage {
        let posed = self.posed_photo(pose);
        let (fw, fh) = self.frame_size;
        let mut frame = background(fw, fh);
        let centre = self.eyes[0].midpoint(self.eyes[1]).midpoint(self.mouth);
        let s = self.scale * pose.zoom;
        let cx = centre.x * self.scale + self.offset.0 + pose.shift.0;
        let cy = centre.y * self.scale + self.offset.1 + pose.shift.1;
        let (pw, ph) = (posed.width() as f32, posed.height() as f32);
        let x0 = ((cx - centre.x * s).floor().max(0.0)) as u32;
        let y0 = ((cy - centre.y * s).floor().max(0.0)) as u32;
        let x1 = ((cx + (pw - centre.x) * s).ceil().min(fw as f32)) as u32;
        let y1 = ((cy + (ph - centre.y) * s).ceil().min(fh as f32)) as u32;
        for y in y0..y1 {
            for x in x0..x1 {
                let px = (x as f32 + 0.5 - cx) / s + centre.x - 0.5;
                let py = (y as f32 + 0.5 - cy) / s + centre.y - 0.5;
                if px < 0.0 || py < 0.0 || px > pw - 1.0 || py > ph - 1.0 {
                    continue;
                }
                let c = sample(&posed, px, py);
                frame.put_pixel(x, y, Rgb(c.map(|v| v.round().clamp(0.0, 255.0) as u8)));
            }
        }
        frame
    }

    /// The photo with the head turned (depth model, nearest surface wins per output pixel) and
    /// the lids closed.
    fn posed_photo(&self, pose: &Pose) -> RgbImage {
        const SUB: usize = 4;
        let (w, h) = self.photo.dimensions();
        let blink = pose.blink.clamp(0.0, 1.0);
        let theta = pose.turn.clamp(-1.0, 1.0) * MAX_TURN_DEG.to_radians();
        let (sin, cos) = theta.sin_cos();
        let mid = self.eyes[0].midpoint(self.eyes[1]).x;
        let mut out = RgbImage::new(w, h);
        let mut src_x = vec![0f32; w as usize];
        let mut depth = vec![f32::NEG_INFINITY; w as usize];
        for y in 0..h {
            let yf = y as f32;
            for (x, (sx, d)) in src_x.iter_mut().zip(depth.iter_mut()).enumerate() {
                *sx = x as f32;
                *d = f32::NEG_INFINITY;
            }
            if theta != 0.0 {
                for i in 0..(w as usize * SUB) {
                    let xp = i as f32 / SUB as f32;
                    let (z, wt) = self.depth(xp, yf);
                    if wt <= 0.0 {
                        continue;
                    }
                    let xo = xp + wt * ((xp - mid) * (cos - 1.0) + z * sin);
                    let zo = -(xp - mid) * sin + z * cos;
                    let k = xo.round();
                    if k < 0.0 || k >= w as f32 {
                        continue;
                    }
                    let k = k as usize;
                    if zo > depth[k] {
                        depth[k] = zo;
                        src_x[k] = xp;
                    }
                }
            }
            for x in 0..w {
                let sx = src_x[x as usize];
                let c = self.lid(sx, yf, blink);
                out.put_pixel(x, y, Rgb(c.map(|v| v.round().clamp(0.0, 255.0) as u8)));
            }
        }
        out
    }

    /// Depth (photo pixels towards the camera) of the head at photo point (x, y), and how much
    /// of the point turns with the head (1 inside the face, fading to 0 at its outline).
    fn depth(&self, x: f32, y: f32) -> (f32, f32) {
        let e = self.eye_d;
        let mid = self.eyes[0].midpoint(self.eyes[1]);
        let cy = (mid.y + self.mouth.y) / 2.0;
        let (u, v) = ((x - mid.x) / (HEAD_HALF_WIDTH * e), (y - cy) / (1.55 * e));
        let r2 = u * u + v * v;
        if r2 >= 1.0 {
            return (0.0, 0.0);
        }
        let shell = (1.0 - r2).sqrt();
        let weight = (shell / 0.45).min(1.0);
        let weight = weight * weight * (3.0 - 2.0 * weight);
        let nose = bump(x, self.nose.x, 0.32 * e)
            * bump(y, (mid.y + self.nose.y) / 2.0 + 0.12 * e, 0.62 * e);
        let sockets = self
            .eyes
            .iter()
            .map(|p| bump(x, p.x, 0.3 * e) * bump(y, p.y, 0.2 * e))
            .sum::<f32>();
        (
            (HEAD_DEPTH * shell + NOSE_DEPTH * nose - 0.12 * sockets) * e,
            weight,
        )
    }

    /// The photo's colour at (x, y) with the lids closed by `blink` (0…1): inside an ellipse
    /// over each eye the lid comes down from the top, in the colour of the skin just below the
    /// eye in that column, with a dark line of lashes along its edge.
    fn lid(&self, x: f32, y: f32, blink: f32) -> [f32; 3] {
        let own = sample(&self.photo, x, y);
        if blink <= 0.0 {
            return own;
        }
        let e = self.eye_d;
        let (hw, hh) = (LID_HALF_WIDTH * e, LID_HALF_HEIGHT * e);
        for eye in &self.eyes {
            let cy = eye.y - 0.02 * e;
            let u = (x - eye.x) / hw;
            if u.abs() >= 1.0 {
                continue;
            }
            let half = hh * (1.0 - u * u).sqrt();
            let v = (y - cy) / half.max(1e-3);
            if v.abs() > 1.0 {
                continue;
            }
            // The lid's edge moves from the top (−1) down to 0.75 of the way when closed.
            let edge = -1.0 + 1.75 * blink;
            let lash = (1.0 - ((v - edge) * half).abs() / 1.0).clamp(0.0, 1.0);
            if v > edge && lash == 0.0 {
                return own;
            }
            // Lid skin: the skin just below the eye in this column, a little shaded (the brow
            // can sit right above the eye, so not from there).
            let below = sample(&self.photo, x, cy + half * 1.3 + 1.0);
            // Fade out towards the eye corners.
            let alpha = ((1.0 - u.abs()) / 0.15).clamp(0.0, 1.0);
            let mut out = own;
            for i in 0..3 {
                let covered = if v <= edge { below[i] * 0.96 } else { own[i] };
                let lid = covered * (1.0 - 0.55 * lash);
                out[i] = own[i] + (lid - own[i]) * alpha;
            }
            return out;
        }
        own
    }
}

/// Smooth bump: 1 at `c`, 0 beyond `c ± r` (cos²).
fn bump(v: f32, c: f32, r: f32) -> f32 {
    let t = (v - c) / r;
    if t.abs() >= 1.0 {
        0.0
    } else {
        let k = (t * std::f32::consts::FRAC_PI_2).cos();
        k * k
    }
}

fn sample(img: &RgbImage, x: f32, y: f32) -> [f32; 3] {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let at = |xx: i64, yy: i64| {
        let p = img
            .get_pixel(xx.clamp(0, w - 1) as u32, yy.clamp(0, h - 1) as u32)
            .0;
        p.map(f32::from)
    };
    let (x0, y0) = (x0 as i64, y0 as i64);
    let (a, b, c, d) = (
        at(x0, y0),
        at(x0 + 1, y0),
        at(x0, y0 + 1),
        at(x0 + 1, y0 + 1),
    );
    let mut out = [0.0; 3];
    for i in 0..3 {
        let top = a[i] + (b[i] - a[i]) * fx;
        let bottom = c[i] + (d[i] - c[i]) * fx;
        out[i] = top + (bottom - top) * fy;
    }
    out
}

/// A plain wall: soft vertical gradient.
fn background(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |_, y| {
        let t = y as f32 / h.max(1) as f32;
        let v = (150.0 - 30.0 * t) as u8;
        Rgb([v, v, (f32::from(v) * 1.04) as u8])
    })
}

/// The clip's script at `fps`: looped natural motion, one blink, a turn to the citizen's left and
/// one to the right, frontal between them.
pub fn clip_poses(fps: u32) -> Vec<Pose> {
    let fps = fps.max(1);
    let n = (CLIP_SECONDS * fps as f32).round() as usize;
    let tau = std::f32::consts::TAU;
    (0..n)
        .map(|i| {
            let t = i as f32 / fps as f32;
            let phase = t / CLIP_SECONDS; // 0…1 over the loop: motion is periodic
            Pose {
                shift: (
                    4.0 * (tau * 2.0 * phase).sin(),
                    2.5 * (tau * 3.0 * phase + 1.0).sin(),
                ),
                zoom: 1.0 + 0.012 * (tau * phase).sin(),
                // Deliberate, as a citizen asked to blink does: eyes shut for most of a second
                // and each turn held about a second, so a slow analysis (a loaded kiosk
                // analyses a few frames a second) still sees them.
                blink: envelope(t, 0.5, 0.08, 0.8, 0.08),
                turn: envelope(t, 1.9, 0.4, 0.9, 0.4) - envelope(t, 3.9, 0.4, 0.9, 0.4),
            }
        })
        .collect()
}

/// 0 before `start`, rises over `rise` to 1, holds `hold`, falls over `fall` (smoothstep).
fn envelope(t: f32, start: f32, rise: f32, hold: f32, fall: f32) -> f32 {
    let smooth = |x: f32| {
        let x = x.clamp(0.0, 1.0);
        x * x * (3.0 - 2.0 * x)
    };
    let u = t - start;
    if u <= 0.0 {
        0.0
    } else if u < rise {
        smooth(u / rise)
    } else if u < rise + hold {
        1.0
    } else {
        1.0 - smooth((u - rise - hold) / fall)
    }
}

/// A looping clip (see [`CLIP_SECONDS`]) of the person in `photo` (exactly one face) at `fps`:
/// slight natural motion, a blink, a head turn to the citizen's left and one to the right.
pub fn live_sequence(
    engine: &FaceEngine,
    photo: &RgbImage,
    frame_size: (u32, u32),
    fps: u32,
) -> Result<Vec<RgbImage>, FaceError> {
    let citizen = SyntheticCitizen::new(engine, photo, frame_size)?;
    Ok(clip_poses(fps).iter().map(|p| citizen.render(p)).collect())
}

/// "A printed photo held up", as still as a print on a stand: `photo` scaled to a third of the
/// frame width in the middle of a `frame_size` frame — one frame, to be repeated.
pub fn still_sequence(photo: &RgbImage, frame_size: (u32, u32)) -> Vec<RgbImage> {
    vec![place_print(photo, frame_size, &Pose::default())]
}

/// A printed photo held up by hand: the still of [`still_sequence`] moved rigidly like the live
/// clip (same motion, no blink, no turn), [`CLIP_SECONDS`] at `fps`.
pub fn held_photo_sequence(photo: &RgbImage, frame_size: (u32, u32), fps: u32) -> Vec<RgbImage> {
    clip_poses(fps)
        .iter()
        .map(|pose| place_print(photo, frame_size, pose))
        .collect()
}

fn place_print(photo: &RgbImage, frame_size: (u32, u32), pose: &Pose) -> RgbImage {
    let (fw, fh) = frame_size;
    let (pw, ph) = (photo.width() as f32, photo.height() as f32);
    let s = fw as f32 / 3.0 / pw.max(1.0) * pose.zoom;
    let mut frame = background(fw, fh);
    let ox = fw as f32 / 2.0 + pose.shift.0 - pw * s / 2.0;
    let oy = fh as f32 / 2.0 + pose.shift.1 - ph * s / 2.0;
    for y in 0..fh {
        for x in 0..fw {
            let px = (x as f32 + 0.5 - ox) / s - 0.5;
            let py = (y as f32 + 0.5 - oy) / s - 0.5;
            if px < 0.0 || py < 0.0 || px > pw - 1.0 || py > ph - 1.0 {
                continue;
            }
            let c = sample(photo, px, py);
            frame.put_pixel(x, y, Rgb(c.map(|v| v.round().clamp(0.0, 255.0) as u8)));
        }
    }
    frame
}

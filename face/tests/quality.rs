//! Quality gates: each failing gate gives its own typed reason.

mod common;

use image::{Rgb, RgbImage};
use kiosk_face::quality::{self, Direction, QualityConfig, QualityIssue, QualityMetrics};
use kiosk_face::{BBox, DLIB_CHIP_TEMPLATE, Detection, Point, align_to_chip, load_rgb, pad_image};

/// A frontal face with the template's landmark geometry scaled by `s` and centred at (cx, cy).
fn face(cx: f32, cy: f32, s: f32) -> Detection {
    let landmarks =
        DLIB_CHIP_TEMPLATE.map(|p| Point::new(cx + (p.x - 75.0) * s, cy + (p.y - 75.0) * s));
    Detection {
        bbox: BBox {
            x1: cx - 50.0 * s,
            y1: cy - 65.0 * s,
            x2: cx + 50.0 * s,
            y2: cy + 65.0 * s,
        },
        score: 0.9,
        landmarks,
    }
}

fn good() -> QualityMetrics {
    quality::measure(640, 480, &face(320.0, 240.0, 1.4), None)
}

fn cfg() -> QualityConfig {
    QualityConfig::default()
}

#[test]
fn a_good_frontal_face_passes() {
    let m = good();
    assert!(m.eye_px > 70.0);
    assert!(cfg().issues(&m).is_empty(), "{:?}", cfg().issues(&m));
}

#[test]
fn face_count() {
    let c = cfg();
    assert_eq!(c.single_face(&[]), Err(QualityIssue::NoFace));
    let two = [face(200.0, 240.0, 1.0), face(440.0, 240.0, 1.0)];
    assert_eq!(
        c.single_face(&two),
        Err(QualityIssue::MultipleFaces { count: 2 })
    );
    // A tiny face in the background does not count.
    let with_tiny = [face(320.0, 240.0, 1.4), face(600.0, 40.0, 0.1)];
    assert_eq!(
        c.single_face(&with_tiny).unwrap().landmarks,
        with_tiny[0].landmarks
    );
}

#[test]
fn off_centre_names_the_direction() {
    let m = quality::measure(640, 480, &face(120.0, 240.0, 1.4), None);
    assert!(matches!(
        cfg().issues(&m)[..],
        [QualityIssue::NotCentred {
            towards: Direction::Left,
            ..
        }]
    ));
    let m = quality::measure(640, 480, &face(320.0, 420.0, 1.0), None);
    assert!(cfg().issues(&m).contains(&QualityIssue::NotCentred {
        towards: Direction::Down,
        offset: m.centre_offset.1
    }));
}

#[test]
fn distance_gates() {
    let far = quality::measure(640, 480, &face(320.0, 240.0, 0.6), None);
    assert!(matches!(
        cfg().issues(&far)[..],
        [QualityIssue::TooFar { .. }]
    ));
    let close = quality::measure(640, 480, &face(320.0, 240.0, 3.5), None);
    assert!(
        cfg()
            .issues(&close)
            .iter()
            .any(|i| matches!(i, QualityIssue::TooClose { .. }))
    );
}

#[test]
fn pose_gates() {
    let c = cfg();
    let mut m = good();
    m.roll_deg = 25.0;
    assert!(matches!(
        c.issues(&m)[..],
        [QualityIssue::HeadTilted { .. }]
    ));
    let mut m = good();
    m.yaw_ratio = -0.4;
    assert!(matches!(
        c.issues(&m)[..],
        [QualityIssue::HeadTurned {
            towards: Direction::Left,
            ..
        }]
    ));
    let mut m = good();
    m.pitch_ratio = 0.2;
    assert!(matches!(
        c.issues(&m)[..],
        [QualityIssue::HeadPitched {
            towards: Direction::Up,
            ..
        }]
    ));
    m.pitch_ratio = 0.85;
    assert!(matches!(
        c.issues(&m)[..],
        [QualityIssue::HeadPitched {
            towards: Direction::Down,
            ..
        }]
    ));
}

#[test]
fn pose_is_measured_from_landmarks() {
    let (roll, yaw, pitch) = quality::pose(&DLIB_CHIP_TEMPLATE);
    assert!(
        roll.abs() < 1.0 && yaw.abs() < 0.05 && (0.45..0.6).contains(&pitch),
        "{roll} {yaw} {pitch}"
    );
    // Rotate the landmarks by 30° → roll 30°, yaw and pitch unchanged.
    let (s, c) = 30f32.to_radians().sin_cos();
    let rot = DLIB_CHIP_TEMPLATE.map(|p| Point::new(c * p.x - s * p.y, s * p.x + c * p.y));
    let (r2, y2, p2) = quality::pose(&rot);
    assert!(
        (r2 - roll - 30.0).abs() < 0.1 && (y2 - yaw).abs() < 1e-3 && (p2 - pitch).abs() < 1e-3,
        "{r2} {y2} {p2}"
    );
    // Nose moved sideways by a third of the eye distance → yaw ratio ≈ 0.33.
    let mut turned = DLIB_CHIP_TEMPLATE;
    turned[2].x += (turned[1].x - turned[0].x) / 3.0;
    let (_, y3, _) = quality::pose(&turned);
    assert!((y3 - yaw - 0.333).abs() < 0.01, "{y3}");
    let m = quality::measure(640, 480, &face(320.0, 240.0, 1.4), None);
    assert!(m.sharpness.is_none());
}

fn real_chip() -> RgbImage {
    let chip =
        load_rgb(common::fixtures().join("identities/John_Salley/000183_02159543.jpg")).unwrap();
    let frame = pad_image(&chip, 50, [128, 128, 128]);
    let det = common::engine().detector.detect(&frame).unwrap()[0];
    align_to_chip(&frame, &det.landmarks).unwrap().image
}

fn box_blur(img: &RgbImage, r: i64) -> RgbImage {
    let (w, h) = (img.width() as i64, img.height() as i64);
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let mut acc = [0u32; 3];
        let mut n = 0;
        for dy in -r..=r {
            for dx in -r..=r {
                let (sx, sy) = (
                    (x as i64 + dx).clamp(0, w - 1),
                    (y as i64 + dy).clamp(0, h - 1),
                );
                let p = img.get_pixel(sx as u32, sy as u32).0;
                for c in 0..3 {
                    acc[c] += u32::from(p[c]);
                }
                n += 1;
            }
        }
        Rgb(acc.map(|v| (v / n) as u8))
    })
}

#[test]
fn sharpness_gate_catches_blur() {
    let chip = real_chip();
    let sharp = quality::sharpness(&chip);
    let blurred = quality::sharpness(&box_blur(&chip, 3));
    assert!(sharp >= cfg().min_sharpness, "sharp chip {sharp}");
    assert!(blurred < cfg().min_sharpness, "blurred chip {blurred}");
    let mut m = good();
    m.sharpness = Some(blurred);
    assert!(matches!(
        cfg().issues(&m)[..],
        [QualityIssue::Blurry { .. }]
    ));
}

#[test]
fn exposure_gates() {
    let chip = real_chip();
    let (l, clipped) = quality::exposure(&chip);
    let c = cfg();
    assert!(
        l > c.luminance_range.0 && l < c.luminance_range.1 && clipped < c.max_clipped_frac,
        "{l} {clipped}"
    );
    let dark = RgbImage::from_fn(150, 150, |x, y| {
        let p = chip.get_pixel(x, y).0;
        Rgb(p.map(|v| v / 6))
    });
    let bright = RgbImage::from_fn(150, 150, |x, y| {
        let p = chip.get_pixel(x, y).0;
        Rgb(p.map(|v| v.saturating_mul(3)))
    });
    let with = |img: &RgbImage| {
        let mut m = good();
        let (l, cl) = quality::exposure(img);
        m.luminance = Some(l);
        m.clipped_frac = Some(cl);
        c.issues(&m)
    };
    assert!(with(&chip).is_empty());
    assert!(matches!(with(&dark)[..], [QualityIssue::TooDark { .. }]));
    assert!(matches!(
        with(&bright)[..],
        [QualityIssue::TooBright { .. }]
    ));
}

#[test]
fn every_issue_has_an_instruction() {
    let issues = [
        QualityIssue::NoFace,
        QualityIssue::MultipleFaces { count: 2 },
        QualityIssue::TooFar {
            eye_px: 30.0,
            min_eye_px: 60.0,
        },
        QualityIssue::HeadPitched {
            towards: Direction::Up,
            pitch_ratio: 0.1,
        },
        QualityIssue::HeadPitched {
            towards: Direction::Down,
            pitch_ratio: 0.9,
        },
    ];
    let texts: Vec<&str> = issues.iter().map(|i| i.instruction_zh()).collect();
    assert!(texts.iter().all(|t| !t.is_empty()));
    assert_ne!(texts[3], texts[4]);
    let json = serde_json::to_string(&issues[1]).unwrap();
    assert_eq!(json, r#"{"issue":"multiple_faces","count":2}"#);
}

#[test]
fn fixture_faces_pass_pose_sharpness_and_exposure_gates() {
    // The padded 150 px chips are small for a camera frame (eye distance 52–60 px), so only
    // "come closer" may be reported for them.
    for dir in std::fs::read_dir(common::fixtures().join("identities")).unwrap() {
        for file in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            let frame = pad_image(&load_rgb(&path).unwrap(), 50, [128, 128, 128]);
            let a = common::engine().analyze(&frame).unwrap();
            assert!(a.face.is_ok(), "{}", path.display());
            let other: Vec<_> = a
                .issues
                .iter()
                .filter(|i| !matches!(i, QualityIssue::TooFar { .. }))
                .collect();
            assert!(
                other.is_empty(),
                "{}: {other:?} {:?}",
                path.display(),
                a.metrics
            );
        }
    }
}

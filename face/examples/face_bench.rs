//! Single-thread timing of the face check (run in release: `scripts/bench-face.sh`).
//!
//! Frame: a fixture chip scaled 1.4× (eye distance ≈ 80 px) in the middle of a 640×480 grey frame;
//! card photo: the simulated 102×126 ID photo of another image of the same person. Prints medians
//! and minima in milliseconds as JSON.

use std::time::Instant;

use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};
use kiosk_face::{FaceEngine, ModelPaths, align_to_chip, decide, load_rgb, simulate_id_photo};

/// (median, minimum) in milliseconds; the minimum is the better estimate on a busy machine.
fn stats(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0])
}

fn time<T>(n: usize, mut f: impl FnMut() -> T) -> (f64, f64) {
    f(); // warm-up
    stats(
        (0..n)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect(),
    )
}

fn bench_frame(chip: &RgbImage) -> RgbImage {
    let big = imageops::resize(chip, 210, 210, FilterType::Triangle);
    let mut frame = RgbImage::from_pixel(640, 480, Rgb([128, 128, 128]));
    imageops::replace(&mut frame, &big, 215, 135);
    frame
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(30);
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/faces/identities/John_Savage");
    let frame = bench_frame(&load_rgb(fixtures.join("000264_01099001.jpg"))?);
    let card = simulate_id_photo(&load_rgb(fixtures.join("000290_01099067.jpg"))?);
    let t_load = Instant::now();
    let engine = FaceEngine::load(&ModelPaths::bundled(), Default::default())?;
    let load_ms = t_load.elapsed().as_secs_f64() * 1e3;

    let dets = engine.detector.detect(&frame)?;
    assert_eq!(dets.len(), 1, "bench frame must have one face");
    let lm = dets[0].landmarks;
    let chip = align_to_chip(&frame, &lm).expect("aligns").image;

    let detect = time(n, || engine.detector.detect(&frame).unwrap());
    let (input, _) = engine.detector.preprocess(&frame);
    let detector_model_only = time(n, || engine.detector.run_model(input.clone()).unwrap());
    let preprocess = time(n, || engine.detector.preprocess(&frame));
    let align = time(n, || align_to_chip(&frame, &lm).unwrap());
    let embed = time(n, || engine.embedder.embed(&chip).unwrap());
    let per_frame = time(n, || {
        let d = engine.detector.detect(&frame).unwrap();
        let c = align_to_chip(&frame, &d[0].landmarks).unwrap();
        engine.embedder.embed(&c.image).unwrap()
    });
    let analyze = time(n, || engine.analyze(&frame).unwrap());
    let card_photo = time(n, || engine.analyze_card_photo(&card).unwrap());
    let verification = time(n, || {
        let a = engine.analyze_card_photo(&card).unwrap();
        let b = engine.analyze(&frame).unwrap();
        decide(
            a.embedding.as_ref().unwrap(),
            b.embedding.as_ref().unwrap(),
            engine.config.threshold,
        )
    });
    let (w, h) = engine.detector.input_size();
    let distance = {
        let a = engine.analyze_card_photo(&card)?;
        let b = engine.analyze(&frame)?;
        decide(
            a.embedding.as_ref().unwrap(),
            b.embedding.as_ref().unwrap(),
            engine.config.threshold,
        )
    };
    let out = serde_json::json!({
        "iterations": n,
        "threads": 1,
        "detector_input": [w, h],
        "frame": [640, 480],
        "model_load_ms": load_ms,
        "median_ms": {
            "detect": detect.0,
            "detector_model_only": detector_model_only.0,
            "detector_preprocess": preprocess.0,
            "align": align.0,
            "embed": embed.0,
            "detect_align_embed": per_frame.0,
            "analyze_with_gates": analyze.0,
            "card_photo": card_photo.0,
            "verification": verification.0,
        },
        "min_ms": {
            "detect": detect.1,
            "detector_model_only": detector_model_only.1,
            "detector_preprocess": preprocess.1,
            "align": align.1,
            "embed": embed.1,
            "detect_align_embed": per_frame.1,
            "analyze_with_gates": analyze.1,
            "card_photo": card_photo.1,
            "verification": verification.1,
        },
        "verification_result": distance,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

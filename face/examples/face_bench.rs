//! Single-thread timing of the face check (run in release: `scripts/bench-face.sh`).
//!
//! Frame: a fixture chip scaled 1.4× (eye distance ≈ 80 px) in the middle of a 640×480 grey frame;
//! card photo: the simulated 102×126 ID photo of another image of the same person. Prints medians
//! and minima in milliseconds as JSON.
//!
//! Liveness: the face mesh and the pixel eye openness on the same frame, one challenge step
//! (pure logic), and `LiveCheck::process` per frame over the synthetic clip of the same person
//! (15 fps, every frame analysed; a new check starts whenever one is decided), with its 90th
//! percentile and maximum (frames that also embed for identity or decide).

use std::time::Instant;

use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};
use std::sync::Arc;

use kiosk_face::eyes::eye_openness;
use kiosk_face::mesh::FaceMesh;
use kiosk_face::synthetic::live_sequence;
use kiosk_face::{
    FaceEngine, LiveCheck, LiveCheckConfig, LivenessChallenge, LivenessConfig, LivenessObservation,
    ModelPaths, Reference, align_to_chip, decide, load_rgb, simulate_id_photo,
};

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

    // Liveness.
    let mesh = Arc::new(FaceMesh::load(ModelPaths::bundled().mesh)?);
    let mesh_run = time(n, || mesh.run(&frame, &dets[0]).unwrap());
    let mesh_result = mesh.run(&frame, &dets[0])?;
    let eyes = time(n, || eye_openness(&frame, &mesh_result));
    let mut challenge = LivenessChallenge::new(LivenessConfig::default(), 1);
    let mut at = 0u64;
    let observe = time(n, || {
        at += 66;
        challenge.observe(&LivenessObservation {
            at_ms: at,
            faces: 1,
            face_box: Some(dets[0].bbox),
            ear: Some((0.3, 0.3)),
            yaw: Some(0.0),
            identity_distance: None,
        })
    });
    let liveness_per_frame = time(n, || {
        let m = mesh.run(&frame, &dets[0]).unwrap();
        (m.yaw_deg(), eye_openness(&frame, &m))
    });
    let engine = Arc::new(engine);
    let card_embedding = engine.card_embedding(&card)?;
    let clip = live_sequence(
        &engine,
        &load_rgb(fixtures.join("000264_01099001.jpg"))?,
        (640, 480),
        15,
    )?;
    let new_check = |seed| {
        LiveCheck::new(
            Arc::clone(&engine),
            Some(Arc::clone(&mesh)),
            Reference::Card(card_embedding.clone()),
            LiveCheckConfig::default(),
            seed,
        )
    };
    let mut live = new_check(0);
    let (mut decided, mut process_ms) = (0u32, Vec::new());
    let frames = n.max(clip.len() * 3);
    for i in 0..frames {
        let t = Instant::now();
        let r = live.process(&clip[i % clip.len()], (i as u64) * 1000 / 15)?;
        process_ms.push(t.elapsed().as_secs_f64() * 1e3);
        if r.outcome.is_some() {
            decided += 1;
            live = new_check(u64::from(decided));
        }
    }
    process_ms.sort_by(f64::total_cmp);
    let p90 = process_ms[process_ms.len() * 9 / 10];
    let max = process_ms[process_ms.len() - 1];
    let process = stats(process_ms);

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
            "mesh": mesh_run.0,
            "eye_openness": eyes.0,
            "challenge_observe": observe.0,
            "liveness_mesh_eyes_observe": liveness_per_frame.0 + observe.0,
            "live_check_process": process.0,
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
            "mesh": mesh_run.1,
            "eye_openness": eyes.1,
            "challenge_observe": observe.1,
            "liveness_mesh_eyes_observe": liveness_per_frame.1 + observe.1,
            "live_check_process": process.1,
        },
        "live_check": {
            "frames": frames,
            "checks_decided": decided,
            "process_p90_ms": p90,
            "process_max_ms": max,
        },
        "verification_result": distance,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

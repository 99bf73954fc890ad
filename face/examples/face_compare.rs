//! `cargo run -p kiosk-face --example face_compare -- IMG_A IMG_B [--pad PX]` — detections,
//! quality findings, distance and decision as JSON (what `kiosk face compare` will print).
//! `--pad` adds a grey border first (needed for tight 150×150 chips).

use kiosk_face::{FaceEngine, ModelPaths, load_rgb, pad_image};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pad = args
        .iter()
        .position(|a| a == "--pad")
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse::<u32>());
    let pad = pad.transpose()?.unwrap_or(0);
    let files: Vec<&String> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| !a.starts_with("--") && (*i == 0 || args[i - 1] != "--pad"))
        .map(|(_, a)| a)
        .collect();
    let [a, b] = files[..] else {
        eprintln!("usage: face_compare IMG_A IMG_B [--pad PX]");
        std::process::exit(2);
    };
    let engine = FaceEngine::load(&ModelPaths::bundled(), Default::default())?;
    let load = |p: &str| load_rgb(p).map(|i| pad_image(&i, pad, [128, 128, 128]));
    let report = engine.compare(&load(a)?, &load(b)?)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

//! `cargo run -p kiosk-face --example face_eval -- DIR [--no-id-photo]` — the evaluation as JSON
//! (what `kiosk face eval DIR` will print).

use kiosk_face::{EvalConfig, FaceEngine, ModelPaths, evaluate_dir};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: face_eval DIR [--no-id-photo]");
        std::process::exit(2);
    };
    let config = EvalConfig {
        id_photo: !args.iter().any(|a| a == "--no-id-photo"),
        ..EvalConfig::default()
    };
    let engine = FaceEngine::load(&ModelPaths::bundled(), Default::default())?;
    let report = evaluate_dir(&engine, std::path::Path::new(dir), &config)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

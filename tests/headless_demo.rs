//! The demo command's headless mode, run as a citizen-facing program: every doable journey
//! succeeds, screenshots and the transcript are written, and nothing it prints or logs carries
//! an unmasked name or ID number.

use std::path::Path;
use std::process::Command;

fn copy_demo_config(to: &Path) -> std::path::PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-config");
    std::fs::create_dir_all(to.join("cards")).unwrap();
    for file in [
        "demo.toml",
        "catalogue.toml",
        "cards/demo-resident.toml",
        "cards/demo-hk-permit.toml",
        "cards/demo-foreigner-2017.toml",
        "cards/demo-foreigner-2023.toml",
    ] {
        std::fs::copy(from.join(file), to.join(file)).unwrap();
    }
    let config = to.join("demo.toml");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("../target/demo/", "data/");
    std::fs::write(&config, text).unwrap();
    config
}

#[test]
fn headless_demo_walks_every_doable_item_and_logs_nothing_personal() {
    let dir = std::env::temp_dir().join(format!("kiosk-headless-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = copy_demo_config(&dir.join("config"));
    let shots = dir.join("shots");
    let out = Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .arg("--config")
        .arg(&config)
        .arg("--headless")
        .arg("--shots")
        .arg(&shots)
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");

    let transcript: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(shots.join("transcript.json")).unwrap())
            .unwrap();
    let journeys = transcript["journeys"].as_array().unwrap();
    assert!(journeys.len() >= 4, "{transcript}");
    let mut languages = std::collections::BTreeSet::new();
    for j in journeys {
        assert_eq!(j["outcome"], "completed", "{j}");
        assert_eq!(j["centre_acknowledged"], true, "{j}");
        assert!(
            j["transaction_id"]
                .as_str()
                .is_some_and(|t| t.starts_with("KSK-")),
            "{j}"
        );
        let screens: Vec<&str> = j["screens"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s.as_str())
            .collect();
        assert_eq!(screens.first(), Some(&"home"));
        assert!(
            screens.contains(&"identify") && screens.contains(&"goodbye"),
            "{screens:?}"
        );
        for shot in j["screenshots"].as_array().unwrap() {
            assert!(shots.join(shot.as_str().unwrap()).is_file());
        }
        languages.insert(j["language"].as_str().unwrap().to_string());
    }
    assert!(languages.contains("zh") && languages.contains("en"));
    let cards: std::collections::BTreeSet<&str> =
        journeys.iter().filter_map(|j| j["card"].as_str()).collect();
    // Every other card type, plus an identification by QR code.
    assert_eq!(cards.len(), 4, "every other card type walked: {cards:?}");
    assert!(cards.contains("qr-code"), "{cards:?}");

    // The synthetic card's personal data never appears in what the program printed or logged.
    for text in [&stdout, &stderr] {
        assert!(
            !text.contains("110101199003070011"),
            "unmasked ID number in output"
        );
        assert!(!text.contains("测试居民"), "unmasked name in output");
        assert!(!text.contains("测试街道"), "address in output");
    }
    assert!(
        stderr.contains("transaction committed"),
        "logs expected at debug level"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

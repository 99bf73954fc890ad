//! The maintenance CLI: `kiosk idcard decode` prints masked JSON, `--unmasked` the full fields,
//! and bad input gets a one-line error with exit code 2.

mod support;

use support::cli::{json_output, kiosk, one_line_error};

fn fixture(name: &str) -> String {
    format!(
        "{}/drivers/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn decode_prints_masked_fields_by_default() {
    let out = kiosk()
        .args(["idcard", "decode", &fixture("read-reply-long-term.hex")])
        .output()
        .unwrap();
    let json = json_output(&out);
    let id = json["card"]["id_number"].as_str().unwrap();
    assert!(id.contains("********"), "ID number must be masked: {id}");
    let name = json["card"]["name"].as_str().unwrap();
    assert!(
        name.chars().skip(1).all(|c| c == '*'),
        "name must be masked: {name}"
    );
}

#[test]
fn decode_unmasked_shows_the_full_number() {
    let out = kiosk()
        .args([
            "idcard",
            "decode",
            "--unmasked",
            &fixture("read-reply-long-term.hex"),
        ])
        .output()
        .unwrap();
    let json = json_output(&out);
    let id = json["card"]["id_number"].as_str().unwrap();
    assert_eq!(id.len(), 18);
    assert!(!id.contains('*'));
}

#[test]
fn bad_files_get_one_line_and_exit_code_2() {
    let dir = std::env::temp_dir().join(format!("kiosk-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let not_hex = dir.join("not-hex.txt");
    std::fs::write(&not_hex, "this is not a reply").unwrap();
    let truncated = dir.join("truncated.hex");
    std::fs::write(&truncated, "AA AA AA 96 69 05 08 00 00 90 01 00 04 00").unwrap();
    for file in [not_hex, truncated, dir.join("missing.hex")] {
        let out = kiosk()
            .args(["idcard", "decode", file.to_str().unwrap()])
            .output()
            .unwrap();
        eprintln!("decoding {}", file.display());
        one_line_error(&out);
        assert!(out.stdout.is_empty());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn refuses_to_start_without_a_cjk_font() {
    let empty = std::env::temp_dir().join(format!("kiosk-no-fonts-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let out = kiosk()
        .args([
            "--headless",
            "--shots",
            empty.join("shots").to_str().unwrap(),
        ])
        .env("KIOSK_FONT_DIRS", &empty)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no Chinese (CJK) font"), "{err}");
    assert!(err.contains("fonts-noto-cjk"), "{err}");
    assert!(
        !empty.join("shots").exists(),
        "nothing may run without a font"
    );
    let _ = std::fs::remove_dir_all(&empty);
}

#[test]
fn a_bad_configuration_names_the_key() {
    let dir = std::env::temp_dir().join(format!("kiosk-bad-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let demo = std::fs::read_to_string(format!(
        "{}/kiosk-config/demo.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let bad = demo.replace("orientation = \"landscape\"", "orientation = \"sideways\"");
    assert_ne!(bad, demo);
    let path = dir.join("bad.toml");
    std::fs::write(&path, bad).unwrap();
    let out = kiosk()
        .args(["--config", path.to_str().unwrap(), "--headless", "--shots"])
        .arg(dir.join("shots"))
        .output()
        .unwrap();
    let err = one_line_error(&out);
    assert!(err.contains("ui.orientation"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn idcard_read_reads_a_reader_and_prints_masked_json() {
    use kiosk_drivers::idcard::{IdCardSimulator, TestCard};
    let card = TestCard::load(format!(
        "{}/kiosk-config/cards/demo-foreigner-2023.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let sim = IdCardSimulator::spawn_with_card(&card).unwrap();
    let out = kiosk()
        .args(["idcard", "read", "--port", sim.path(), "--wait", "5"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(!text.contains(&card.id_number), "{text}");
    assert!(json.to_string().contains('*'), "{text}");

    // A reader that does not answer is a one-line error, exit code 2.
    let out = kiosk()
        .args([
            "idcard",
            "read",
            "--port",
            "/dev/does-not-exist",
            "--wait",
            "1",
        ])
        .output()
        .unwrap();
    one_line_error(&out);
}

#[test]
fn qr_listen_prints_each_code() {
    use kiosk_drivers::qr::QrScannerSimulator;
    use std::io::{BufRead, BufReader};
    let sim = QrScannerSimulator::spawn_continuous().unwrap();
    let mut child = kiosk()
        .args(["qr", "listen", "--port", sim.path()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    std::thread::sleep(std::time::Duration::from_millis(500));
    sim.show_code("APPT-20261121-0042");
    let first = lines.next().unwrap().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(first, "APPT-20261121-0042");
}

#[test]
fn diag_prints_health_faults_and_devices_as_json() {
    let dir = std::env::temp_dir().join(format!("kiosk-cli-diag-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config_dir = format!("{}/kiosk-config", env!("CARGO_MANIFEST_DIR"));
    let demo = std::fs::read_to_string(format!("{config_dir}/demo.toml")).unwrap();
    let config = demo
        .replace(
            "../target/demo/kiosk.sqlite",
            &format!("{}/kiosk.sqlite", dir.display()),
        )
        .replace(
            "../target/demo/personal-data.key",
            &format!("{}/kiosk.key", dir.display()),
        )
        .replace(
            "\"catalogue.toml\"",
            &format!("\"{config_dir}/catalogue.toml\""),
        );
    let path = dir.join("kiosk.toml");
    std::fs::write(&path, config).unwrap();
    // Without a store yet: versions and devices only, and no store is created.
    let out = kiosk()
        .args(["diag", "--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    let json = json_output(&out);
    assert_eq!(json["kiosk_id"], "KSK-DEMO-0001");
    assert!(json["health"].is_null());
    assert!(!dir.join("kiosk.sqlite").exists());
    assert_eq!(json["devices"].as_array().unwrap().len(), 6);
    assert_eq!(json["devices"][0]["state"], "not_probed");

    // With a store holding a fault: health, the fault and the disinfection state.
    let key = kiosk_protocol::SealingKey::load_or_create(&dir.join("kiosk.key")).unwrap();
    let store = kiosk_services::store::KioskStore::open(&dir.join("kiosk.sqlite"), key).unwrap();
    store
        .open_fault(
            &kiosk_services::store::FaultReport::automatic(
                "receipt_printer",
                "paper_out",
                kiosk_protocol::wire::FaultSeverity::Major,
                "paper end",
            ),
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
    drop(store);
    let out = kiosk()
        .args(["diag", "--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    let json = json_output(&out);
    assert_eq!(json["health"]["outbox_depth"], 1);
    assert_eq!(json["open_faults"][0]["code"], "paper_out");
    assert_eq!(json["disinfection"]["overdue"], true);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sim_idcard_plays_a_script_and_refuses_a_bad_one() {
    let dir = std::env::temp_dir().join(format!("kiosk-sim-script-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let card = format!(
        "{}/kiosk-config/cards/demo-resident.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[[step]]\naction = \"explode\"\n").unwrap();
    let out = kiosk()
        .args(["sim", "idcard", "--card", &card, "--script"])
        .arg(&bad)
        .output()
        .unwrap();
    one_line_error(&out);

    let good = dir.join("good.toml");
    std::fs::write(
        &good,
        format!("[cards]\nresident = \"{card}\"\n\n[[step]]\naction = \"remove\"\n\n[[step]]\nafter_ms = 100\naction = \"place\"\ncard = \"resident\"\n"),
    )
    .unwrap();
    use std::io::{BufRead, BufReader};
    let mut child = kiosk()
        .args(["sim", "idcard", "--card", &card, "--script"])
        .arg(&good)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let path = lines.next().unwrap().unwrap();
    assert!(path.starts_with("/dev/"), "{path}");
    let done = lines.next().unwrap().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(done.starts_with("script finished"), "{done}");
    let _ = std::fs::remove_dir_all(&dir);
}

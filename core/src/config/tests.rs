use super::*;
use crate::device::DeviceClass;
use std::path::Path;

const VALID: &str = r#"
[kiosk]
id = "KSK-SZ-FT-0001"
name = "福田区民服务中心 1 号机"
location = "福田区民服务中心一楼"

[central]
url = "https://central.example.gov.cn"
token = "t0ken"

[store]
path = "data/kiosk.sqlite"
key_file = "/etc/kiosk/store.key"

[catalogue]
path = "catalogue.toml"

[devices.id_card_reader]
port = "/dev/ttyUSB0"
model = "gat467"
baud = 115200

[devices.receipt_printer]
port = "simulator"
baud = 38400

[devices.document_printer]
port = "ipp://localhost/printers/a4"
"#;

fn parse(text: &str) -> Result<KioskConfig, ConfigError> {
    KioskConfig::parse_with_base(text, Path::new("/srv/kiosk"))
}

fn error_of(text: &str) -> String {
    match parse(text) {
        Ok(_) => panic!("configuration unexpectedly valid"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn valid_config_gets_defaults_and_resolved_paths() {
    let c = parse(VALID).expect("valid");
    assert_eq!(c.kiosk.id, "KSK-SZ-FT-0001");
    assert_eq!(c.kiosk.service_phone, "12345");
    assert_eq!(c.central.heartbeat_interval_s, 30);
    assert_eq!(c.timeouts.step_s, 60);
    assert_eq!(c.timeouts.warning_s, 15);
    assert_eq!(c.ui.orientation, Orientation::Landscape);
    assert!(!c.ui.elder_mode);
    assert_eq!(c.store.path, Path::new("/srv/kiosk/data/kiosk.sqlite"));
    assert_eq!(c.store.key_file, Path::new("/etc/kiosk/store.key"));
    assert_eq!(c.catalogue.path, Path::new("/srv/kiosk/catalogue.toml"));
}

#[test]
fn device_tables_map_to_presence_and_ports() {
    let c = parse(VALID).expect("valid");
    let presence = c.device_presence();
    assert!(presence.is_usable(DeviceClass::IdCardReader));
    assert!(presence.is_usable(DeviceClass::ReceiptPrinter));
    assert!(presence.is_usable(DeviceClass::DocumentPrinter));
    assert!(!presence.is_present(DeviceClass::Camera));
    let reader = c.devices.get(DeviceClass::IdCardReader).expect("reader");
    assert_eq!(reader.port_kind(), DevicePort::Path("/dev/ttyUSB0".into()));
    let printer = c.devices.get(DeviceClass::ReceiptPrinter).expect("printer");
    assert_eq!(printer.port_kind(), DevicePort::Simulator);
    let a4 = c.devices.get(DeviceClass::DocumentPrinter).expect("a4");
    assert!(matches!(a4.port_kind(), DevicePort::Url(_)));
}

#[test]
fn unsupported_baud_names_the_key() {
    let text = VALID.replace("baud = 38400", "baud = 12345");
    assert_eq!(
        error_of(&text),
        "devices.receipt_printer.baud: 12345 is not a supported baud rate \
         (use 9600, 19200, 38400, 57600 or 115200)"
    );
}

#[test]
fn missing_required_key_names_the_key() {
    let text = VALID.replace("id = \"KSK-SZ-FT-0001\"\n", "");
    assert_eq!(error_of(&text), "kiosk.id: missing required key");
    let text = VALID.replace("token = \"t0ken\"\n", "");
    assert_eq!(
        error_of(&text),
        "central.key_file: missing: give the kiosk's key file (or a legacy token)"
    );
    // The key file alone is enough; the code is optional.
    let text = VALID.replace(
        "token = \"t0ken\"\n",
        "key_file = \"/var/lib/kiosk/kiosk-identity.key\"\nenrol_code = \"ABCD-EFGH\"\n",
    );
    let config = parse(&text).expect("key file without token");
    assert_eq!(config.central.enrol_code.as_deref(), Some("ABCD-EFGH"));
}

#[test]
fn missing_section_names_it() {
    let text = VALID.replace("[catalogue]\npath = \"catalogue.toml\"\n", "");
    assert_eq!(error_of(&text), "catalogue: missing required key");
}

#[test]
fn unknown_key_names_the_full_path() {
    let text = format!("{VALID}\n[ui]\norienttion = \"portrait\"\n");
    let msg = error_of(&text);
    assert!(msg.starts_with("ui.orienttion: unknown key"), "{msg}");
    assert!(msg.contains("orientation"), "{msg}");
    let text = VALID.replace("model = \"gat467\"", "modle = \"gat467\"");
    let msg = error_of(&text);
    assert!(
        msg.starts_with("devices.id_card_reader.modle: unknown key"),
        "{msg}"
    );
}

#[test]
fn unknown_device_class_is_an_unknown_key() {
    let text = format!("{VALID}\n[devices.fax]\nport = \"simulator\"\n");
    let msg = error_of(&text);
    assert!(msg.starts_with("devices.fax: unknown key"), "{msg}");
}

#[test]
fn unknown_top_level_section_is_named() {
    let msg = error_of(&format!("{VALID}\n[network]\nproxy = \"x\"\n"));
    assert!(msg.starts_with("network: unknown key"), "{msg}");
}

#[test]
fn wrong_type_names_the_key() {
    let text = VALID.replace("baud = 38400", "baud = \"fast\"");
    let msg = error_of(&text);
    assert!(
        msg.starts_with("devices.receipt_printer.baud: invalid type"),
        "{msg}"
    );
}

#[test]
fn bad_enum_value_lists_the_choices() {
    let msg = error_of(&format!("{VALID}\n[ui]\norientation = \"diagonal\"\n"));
    assert!(
        msg.starts_with("ui.orientation: `diagonal` is not a valid value"),
        "{msg}"
    );
    assert!(
        msg.contains("landscape") && msg.contains("portrait"),
        "{msg}"
    );
}

#[test]
fn bad_kiosk_id_is_explained() {
    let msg = error_of(&VALID.replace("KSK-SZ-FT-0001", "kiosk one"));
    assert!(msg.starts_with("kiosk.id: "), "{msg}");
    let msg = error_of(&VALID.replace("KSK-SZ-FT-0001", "KSK-福田"));
    assert!(msg.starts_with("kiosk.id: "), "{msg}");
}

#[test]
fn bad_url_is_explained() {
    let msg = error_of(&VALID.replace("https://central.example.gov.cn", "ftp://x"));
    assert!(msg.starts_with("central.url: "), "{msg}");
}

#[test]
fn plain_http_reaches_only_a_centre_on_this_machine() {
    for remote in [
        "http://central.example.gov.cn",
        "http://10.1.2.3:8080",
        "http://[2001:db8::1]:8080/api",
        "http://localhost.evil.example",
    ] {
        let msg = error_of(&VALID.replace("https://central.example.gov.cn", remote));
        assert!(msg.starts_with("central.url: "), "{remote}: {msg}");
        assert!(msg.contains("https://"), "{msg}");
    }
    for local in [
        "http://127.0.0.1:8080",
        "http://localhost:8080",
        "http://[::1]:8080",
    ] {
        let config = parse(&VALID.replace("https://central.example.gov.cn", local));
        assert!(config.is_ok(), "{local}: {config:?}");
    }
}

#[test]
fn the_centres_ca_file_is_relative_to_the_configuration() {
    let dir = std::env::temp_dir().join(format!("kiosk-config-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = VALID.replace(
        "url = \"https://central.example.gov.cn\"",
        "url = \"https://central.example.gov.cn\"\nca_file = \"centre-ca.pem\"",
    );
    std::fs::write(dir.join("kiosk.toml"), text).unwrap();
    let config = KioskConfig::load(dir.join("kiosk.toml")).unwrap();
    assert_eq!(config.central.ca_file, Some(dir.join("centre-ca.pem")));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_port_is_explained() {
    let msg = error_of(&VALID.replace("\"/dev/ttyUSB0\"", "\"COM3\""));
    assert!(msg.starts_with("devices.id_card_reader.port: "), "{msg}");
}

#[test]
fn warning_must_be_shorter_than_step() {
    let msg = error_of(&format!(
        "{VALID}\n[timeouts]\nstep_s = 20\nwarning_s = 20\n"
    ));
    assert_eq!(
        msg,
        "timeouts.warning_s: 20 must be less than timeouts.step_s (20)"
    );
}

#[test]
fn zero_timeout_is_rejected() {
    let msg = error_of(&format!("{VALID}\n[timeouts]\nprocessing_s = 0\n"));
    assert_eq!(msg, "timeouts.processing_s: must be greater than 0");
}

#[test]
fn syntax_error_is_reported() {
    assert!(matches!(
        parse("[kiosk\nid = 1"),
        Err(ConfigError::Syntax { .. })
    ));
}

#[test]
fn missing_file_is_a_read_error() {
    assert!(matches!(
        KioskConfig::load("/nonexistent/kiosk.toml"),
        Err(ConfigError::Read { .. })
    ));
}

#[test]
fn demo_config_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../kiosk-config/demo.toml");
    let c = KioskConfig::load(&path).expect("demo config is valid");
    let presence = c.device_presence();
    assert!(presence.is_usable(DeviceClass::IdCardReader));
    assert!(presence.is_usable(DeviceClass::ReceiptPrinter));
    assert!(presence.is_usable(DeviceClass::QrScanner));
    assert!(presence.is_usable(DeviceClass::DocumentPrinter));
    assert!(presence.is_usable(DeviceClass::CardWriter));
    assert!(presence.is_usable(DeviceClass::Camera));
    assert!(c.face.liveness_active());
    assert!(c.catalogue.path.ends_with("kiosk-config/catalogue.toml"));
}

#[test]
fn maintenance_defaults_and_staff_hashes_are_checked() {
    let c = parse(VALID).expect("valid");
    assert_eq!(c.maintenance.fault_after_s, 5);
    assert!(c.staff.is_empty());
    let hash = crate::staff_auth::hash_pin_with_cost("246810", 64, 1, 1).unwrap();
    let ok = format!("{VALID}\n[[staff]]\nid = \"W0001\"\npin_hash = \"{hash}\"\n");
    let c = parse(&ok).expect("valid staff");
    assert_eq!(c.staff[0].id, "W0001");
    assert!(!format!("{:?}", c.staff[0]).contains("argon2"));
    let bad = format!("{VALID}\n[[staff]]\nid = \"W0001\"\npin_hash = \"246810\"\n");
    assert!(
        error_of(&bad).starts_with("staff[0].pin_hash: "),
        "{}",
        error_of(&bad)
    );
    let dup = format!("{ok}\n[[staff]]\nid = \"W0001\"\npin_hash = \"{hash}\"\n");
    assert!(
        error_of(&dup).starts_with("staff[1].id: "),
        "{}",
        error_of(&dup)
    );
    let zero = format!("{VALID}\n[maintenance]\nfault_after_s = 0\n");
    assert_eq!(
        error_of(&zero),
        "maintenance.fault_after_s: must be greater than 0"
    );
}

#[test]
fn photo_decoder_and_poll_interval_belong_to_the_card_reader() {
    let text = VALID.replace(
        "model = \"gat467\"",
        "model = \"gat467\"\nphoto_decoder = \"lib/libwlt.so\"\npoll_interval_ms = 150",
    );
    let c = parse(&text).expect("valid");
    let reader = c.devices.get(DeviceClass::IdCardReader).expect("reader");
    assert_eq!(
        reader.photo_decoder.as_deref(),
        Some(Path::new("/srv/kiosk/lib/libwlt.so"))
    );
    assert_eq!(reader.poll_interval_ms, Some(150));

    let slow = VALID.replace(
        "model = \"gat467\"",
        "model = \"gat467\"\npoll_interval_ms = 5000",
    );
    assert_eq!(
        error_of(&slow),
        "devices.id_card_reader.poll_interval_ms: 5000 is out of range (50 to 1000 ms)"
    );
    let misplaced = VALID.replace("baud = 38400", "baud = 38400\nphoto_decoder = \"x.so\"");
    assert_eq!(
        error_of(&misplaced),
        "devices.receipt_printer.photo_decoder: only the ID card reader has a photo decoder"
    );
}

#[test]
fn card_writer_settings_are_checked() {
    let with = |table: &str| format!("{VALID}\n[devices.card_writer]\n{table}\n");
    let ok = parse(&with(
        "port = \"/dev/ttyS3\"\nmodel = \"k720\"\nkey_file = \"/etc/kiosk/card.key\"\ntake_timeout_s = 45",
    ))
    .expect("valid card writer");
    let cw = ok.devices.get(DeviceClass::CardWriter).unwrap();
    assert_eq!(cw.take_timeout_s, Some(45));
    let model = error_of(&with(
        "port = \"/dev/ttyS3\"\nmodel = \"crt310\"\nkey_file = \"/k\"",
    ));
    assert!(
        model.contains("devices.card_writer.model") && model.contains("crt591"),
        "{model}"
    );
    let key = error_of(&with("port = \"/dev/ttyS3\""));
    assert!(key.contains("devices.card_writer.key_file"), "{key}");
    assert!(
        parse(&with("port = \"simulator\"")).is_ok(),
        "the simulator makes its key"
    );
    let take = error_of(&with("port = \"simulator\"\ntake_timeout_s = 1"));
    assert!(take.contains("take_timeout_s"), "{take}");
    let elsewhere = error_of(&VALID.replace(
        "port = \"ipp://localhost/printers/a4\"",
        "port = \"ipp://localhost/printers/a4\"\nkey_file = \"/k\"",
    ));
    assert!(
        elsewhere.contains("devices.document_printer.key_file"),
        "{elsewhere}"
    );
}

#[test]
fn face_section_defaults_to_active_liveness_and_refuses_unknown_modes() {
    let c = parse(VALID).expect("minimal config");
    assert!(c.face.liveness_active());
    assert_eq!(c.face.timeout_s, 30);
    let off = format!("{VALID}\n[face]\nliveness = \"off\"\n");
    assert!(!parse(&off).expect("off parses").face.liveness_active());
    let err = parse(&format!("{VALID}\n[face]\nliveness = \"maybe\"\n")).expect_err("unknown mode");
    assert!(err.to_string().contains("face.liveness"), "{err}");
    let err = parse(&format!("{VALID}\n[face]\nthreshold = 7.0\n")).expect_err("bad threshold");
    assert!(err.to_string().contains("face.threshold"), "{err}");
}

#[test]
fn camera_size_and_rate_are_read() {
    let text = format!(
        "{VALID}\n[devices.camera]\nport = \"/dev/video0\"\nwidth = 1280\nheight = 720\nfps = 30\n"
    );
    let c = parse(&text).expect("valid camera table");
    let camera = c.devices.get(DeviceClass::Camera).expect("camera");
    assert_eq!(camera.port_kind(), DevicePort::Path("/dev/video0".into()));
    assert_eq!(
        (camera.width, camera.height, camera.fps),
        (Some(1280), Some(720), Some(30))
    );
    // The URL form of the drivers' `sequence:/dir` port passes the port check.
    let bare = parse(&format!(
        "{VALID}\n[devices.camera]\nport = \"sequence:///srv/demo/face\"\n"
    ))
    .expect("valid without size");
    let camera = bare.devices.get(DeviceClass::Camera).unwrap();
    assert_eq!(
        (camera.width, camera.height, camera.fps),
        (None, None, None)
    );
}

#[test]
fn camera_ports_and_modes_are_checked() {
    let with_camera = |table: &str| format!("{VALID}\n[devices.camera]\n{table}\n");
    assert!(parse(&with_camera("port = \"sequence:/srv/frames\"")).is_ok());
    assert!(parse(&with_camera("port = \"still:/srv/face.jpg\"\nfps = 15")).is_ok());
    let msg = error_of(&with_camera("port = \"/dev/video0\"\nfps = 0"));
    assert!(msg.contains("devices.camera.fps"), "{msg}");
    let msg = error_of(&with_camera("port = \"sequence:\""));
    assert!(msg.contains("devices.camera.port"), "{msg}");
    let printer_fps = VALID.replace(
        "port = \"ipp://localhost/printers/a4\"",
        "port = \"ipp://localhost/printers/a4\"\nfps = 10",
    );
    let msg = error_of(&printer_fps);
    assert!(msg.contains("only the camera"), "{msg}");
}

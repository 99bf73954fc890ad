//! Shared set-up for the terminal's end-to-end tests: a demo rig (embedded centre + simulators)
//! and the kiosk UI on the headless software renderer, with its data in a temporary folder.

#![allow(dead_code)]

pub mod cli;
pub mod staff;

use kiosk::app::KioskRuntime;
use kiosk::demo::DemoRig;
use kiosk::ui::KioskUi;
use kiosk::ui::driver::install_headless_platform;
use kiosk_core::config::KioskConfig;
use slint::ComponentHandle;
use std::path::{Path, PathBuf};

pub struct TestKiosk {
    pub ui: KioskUi,
    pub rig: DemoRig,
    /// Dropped last, after the kiosk and the rig have stopped writing into it.
    pub dir: TestDir,
}

/// A test's data folder: removed when the test passes, kept for a post-mortem when it fails
/// (or when `KIOSK_KEEP_TEST_DIRS` is set).
pub struct TestDir(PathBuf);

impl std::ops::Deref for TestDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if std::thread::panicking() || std::env::var_os("KIOSK_KEEP_TEST_DIRS").is_some() {
            eprintln!("test data kept in {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

pub fn config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-config")
}

/// A kiosk from the demo configuration with its store in a fresh temporary folder.
pub fn start_kiosk(name: &str) -> TestKiosk {
    start_kiosk_with(name, |_| {})
}

/// Like [`start_kiosk`], with the configuration changed by `adjust` first.
pub fn start_kiosk_with(name: &str, adjust: impl FnOnce(&mut KioskConfig)) -> TestKiosk {
    install_headless_platform().expect("headless platform");
    {
        // The kiosk's recent-log layer, as the binary installs it (health screen).
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        let _ = tracing_subscriber::registry()
            .with(tracing_subscriber::EnvFilter::new("info"))
            .with(kiosk::app::recent_log::RecentLogLayer)
            .try_init();
    }
    let dir = std::env::temp_dir().join(format!("kiosk-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut config = KioskConfig::load(config_dir().join("demo.toml")).expect("demo config");
    config.store.path = dir.join("kiosk.sqlite");
    config.store.key_file = dir.join("kiosk.key");
    adjust(&mut config);
    let rig = DemoRig::start(config, &config_dir()).expect("demo rig");
    let runtime = KioskRuntime::start(rig.config.clone(), rig.ports.clone()).expect("runtime");
    let ui = KioskUi::new(runtime).expect("kiosk UI");
    ui.window
        .window()
        .set_size(slint::PhysicalSize::new(1920, 1080));
    ui.window.show().unwrap();
    ui.pump();
    TestKiosk {
        ui,
        rig,
        dir: TestDir(dir),
    }
}

/// Every string the `Kiosk` global currently shows, for "nothing personal on screen" checks.
pub fn visible_text(ui: &KioskUi) -> String {
    use slint::Model;
    let k = ui.window.global::<kiosk::Kiosk>();
    let mut out = vec![
        k.get_item_name().to_string(),
        k.get_headline().to_string(),
        k.get_detail().to_string(),
        k.get_transaction_id().to_string(),
        k.get_consent_text().to_string(),
    ];
    for line in k.get_summary().iter() {
        out.push(format!("{} {}", line.label, line.value));
    }
    for field in k.get_fields().iter() {
        out.push(format!("{} {}", field.label, field.value));
    }
    for step in k.get_next_steps().iter() {
        out.push(step.to_string());
    }
    out.join("\n")
}

/// The raw bytes of a SQLite database and its -wal/-shm files.
pub fn database_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        if let Ok(b) = std::fs::read(&file) {
            bytes.extend(b);
        }
    }
    bytes
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

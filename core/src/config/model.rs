//! The sections of `kiosk.toml` and their defaults.

use crate::device::DeviceClass;
use crate::text::Language;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The whole kiosk configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskConfig {
    /// Who this kiosk is.
    pub kiosk: KioskSection,
    /// The central service it reports to.
    pub central: CentralSection,
    /// The local SQLite store.
    pub store: StoreSection,
    /// Where the current catalogue lives.
    pub catalogue: CatalogueSection,
    /// The peripherals; a class without a table is a class this kiosk lacks.
    #[serde(default)]
    pub devices: DevicesSection,
    /// Countdowns of the citizen session.
    #[serde(default)]
    pub timeouts: TimeoutsSection,
    /// Screen and language.
    #[serde(default)]
    pub ui: UiSection,
    /// Maintenance: fault detection, disinfection interval, diagnostics mode, consumables.
    #[serde(default)]
    pub maintenance: MaintenanceSection,
    /// `[[staff]]`: maintenance staff who may open diagnostics mode with their PIN.
    #[serde(default)]
    pub staff: Vec<StaffEntry>,
    /// The camera face check.
    #[serde(default)]
    pub face: FaceSection,
}

/// `[face]`: the camera face check (人证比对).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceSection {
    /// Folder holding the face models (`centerface.onnx`, `dlib_face_recognition_resnet.onnx`,
    /// `face_mesh.onnx`); the models shipped in the source tree when absent.
    #[serde(default)]
    pub models_dir: Option<PathBuf>,
    /// The active liveness challenge (blink and head turn): `"active"` (default) or `"off"`.
    /// Off is for bench set-ups only: it shows on the diagnostics screen, in the log at every
    /// start and in every heartbeat (the camera reports `liveness_off`).
    #[serde(default = "default_liveness")]
    pub liveness: String,
    /// Largest embedding distance accepted as the same person (default 0.55, chosen from the
    /// evaluation in face/README.md).
    #[serde(default)]
    pub threshold: Option<f32>,
    /// Seconds the whole check (liveness and match) may take before it fails (default 30).
    #[serde(default = "default_face_timeout")]
    pub timeout_s: u32,
}

impl Default for FaceSection {
    fn default() -> Self {
        FaceSection {
            models_dir: None,
            liveness: default_liveness(),
            threshold: None,
            timeout_s: default_face_timeout(),
        }
    }
}

impl FaceSection {
    /// Whether the liveness challenge runs.
    pub fn liveness_active(&self) -> bool {
        self.liveness != "off"
    }
}

fn default_liveness() -> String {
    "active".into()
}

fn default_face_timeout() -> u32 {
    30
}

/// `[[staff]]`: one member of maintenance staff.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffEntry {
    /// Staff id as shown in the audit log, e.g. `W0421`.
    pub id: String,
    /// Argon2id PHC string of the PIN (`kiosk_core::staff_auth::hash_pin`).
    pub pin_hash: String,
}

impl std::fmt::Debug for StaffEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffEntry")
            .field("id", &self.id)
            .field("pin_hash", &"…")
            .finish()
    }
}

impl StaffEntry {
    /// The credential the PIN verifier checks.
    pub fn credential(&self) -> crate::staff_auth::StaffCredential {
        crate::staff_auth::StaffCredential {
            staff_id: self.id.clone(),
            pin_hash: self.pin_hash.clone(),
        }
    }
}

/// `[maintenance]`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceSection {
    /// A device unusable this long (seconds) opens an automatic fault (default 5).
    #[serde(default = "default_fault_after_s")]
    pub fault_after_s: u32,
    /// Hours between disinfections before a reminder shows (default 4).
    #[serde(default = "default_disinfection_interval_h")]
    pub disinfection_interval_h: u32,
    /// Diagnostics mode closes after this many idle seconds (default 120).
    #[serde(default = "default_diagnostics_idle_s")]
    pub diagnostics_idle_s: u32,
    /// Length of a new receipt roll in millimetres (default 80000 = 80 m).
    #[serde(default = "default_receipt_roll_mm")]
    pub receipt_roll_mm: u32,
    /// Sheets in a full A4 tray (default 500).
    #[serde(default = "default_a4_sheets")]
    pub a4_sheets: u32,
    /// Blank cards in a full hopper (default 200).
    #[serde(default = "default_card_stock")]
    pub card_stock: u32,
}

fn default_fault_after_s() -> u32 {
    5
}
fn default_disinfection_interval_h() -> u32 {
    4
}
fn default_diagnostics_idle_s() -> u32 {
    120
}
fn default_receipt_roll_mm() -> u32 {
    80_000
}
fn default_a4_sheets() -> u32 {
    500
}
fn default_card_stock() -> u32 {
    200
}

impl Default for MaintenanceSection {
    fn default() -> Self {
        Self {
            fault_after_s: default_fault_after_s(),
            disinfection_interval_h: default_disinfection_interval_h(),
            diagnostics_idle_s: default_diagnostics_idle_s(),
            receipt_roll_mm: default_receipt_roll_mm(),
            a4_sheets: default_a4_sheets(),
            card_stock: default_card_stock(),
        }
    }
}

/// `[kiosk]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskSection {
    /// `KSK-` followed by letters, digits, `-` or `_`, e.g. `KSK-SZ-FT-0001`.
    pub id: String,
    /// Display name, in Chinese, e.g. `福田区民服务中心 1 号机`.
    pub name: String,
    /// Where it stands, shown to maintenance staff.
    pub location: String,
    /// Phone number citizens are told to call when something goes wrong (default `12345`, the
    /// government service hotline).
    #[serde(default = "default_service_phone")]
    pub service_phone: String,
}

fn default_service_phone() -> String {
    "12345".to_string()
}

/// `[central]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CentralSection {
    /// Base URL: `https://…`; plain `http://` only to a centre on this machine (the demo).
    pub url: String,
    /// PEM file of the CA certificates the centre's HTTPS certificate must chain to (a
    /// government CA). Without it, the public web CAs are trusted.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Legacy bearer token, sent only when no `key_file` is configured (a centre accepts it
    /// only when started with `--accept-bearer-tokens`). Empty: none.
    #[serde(default)]
    pub token: String,
    /// The kiosk's own Ed25519 key file (root-only, 0600; created when missing). With it every
    /// request to the centre is signed.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// One-time enrolment code from the central office (`kiosk-central kiosk enrol-code`): the
    /// key enrols with it before the first request; a new code re-enrols the same key.
    #[serde(default)]
    pub enrol_code: Option<String>,
    /// Seconds between heartbeats (default 30).
    #[serde(default = "default_heartbeat_interval_s")]
    pub heartbeat_interval_s: u32,
    /// Outbox events per upload request (default 100).
    #[serde(default = "default_upload_batch_size")]
    pub upload_batch_size: u32,
}

fn default_heartbeat_interval_s() -> u32 {
    30
}

fn default_upload_batch_size() -> u32 {
    100
}

/// `[store]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// The SQLite database file.
    pub path: PathBuf,
    /// The root-only key file that seals personal data at rest.
    pub key_file: PathBuf,
}

/// `[catalogue]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueSection {
    /// The catalogue TOML file the kiosk starts with.
    pub path: PathBuf,
    /// The central office's catalogue verifying keys (one `<key_id> ed25519 <hex>` per line;
    /// several for key rotation). Without it the kiosk takes no catalogue from the centre.
    #[serde(default)]
    pub verifying_keys: Option<PathBuf>,
}

/// `[devices]`: one optional table per device class.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevicesSection {
    /// `[devices.id_card_reader]`
    pub id_card_reader: Option<DeviceSection>,
    /// `[devices.receipt_printer]`
    pub receipt_printer: Option<DeviceSection>,
    /// `[devices.document_printer]`
    pub document_printer: Option<DeviceSection>,
    /// `[devices.camera]`
    pub camera: Option<DeviceSection>,
    /// `[devices.card_writer]`
    pub card_writer: Option<DeviceSection>,
    /// `[devices.qr_scanner]`
    pub qr_scanner: Option<DeviceSection>,
}

impl DevicesSection {
    /// The table of one class, if configured.
    pub fn get(&self, class: DeviceClass) -> Option<&DeviceSection> {
        match class {
            DeviceClass::IdCardReader => self.id_card_reader.as_ref(),
            DeviceClass::ReceiptPrinter => self.receipt_printer.as_ref(),
            DeviceClass::DocumentPrinter => self.document_printer.as_ref(),
            DeviceClass::Camera => self.camera.as_ref(),
            DeviceClass::CardWriter => self.card_writer.as_ref(),
            DeviceClass::QrScanner => self.qr_scanner.as_ref(),
        }
    }

    /// Every configured class with its table.
    pub fn configured(&self) -> impl Iterator<Item = (DeviceClass, &DeviceSection)> {
        DeviceClass::ALL
            .into_iter()
            .filter_map(|class| self.get(class).map(|section| (class, section)))
    }
}

/// `[devices.<class>]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceSection {
    /// A device path (`/dev/ttyUSB0`), a URL (`tcp://10.0.0.5:9100`, `ipp://localhost/printers/a4`)
    /// or `"simulator"`: the demo then starts that class's simulator and connects to it.
    pub port: String,
    /// Driver model name as the drivers crate knows it; `None` picks the class default.
    #[serde(default)]
    pub model: Option<String>,
    /// Serial baud rate, for serial ports only.
    #[serde(default)]
    pub baud: Option<u32>,
    /// ID-card reader only: the vendor's WLT photo decoder library (`libwlt.so`, loaded at run
    /// time); without one, face checks ask the centre to verify.
    #[serde(default)]
    pub photo_decoder: Option<PathBuf>,
    /// ID-card reader only: how often to look for a card, in milliseconds (default 200).
    #[serde(default)]
    pub poll_interval_ms: Option<u32>,
    /// Card writer only: the file holding the card-record MAC key (hex). Required for a real
    /// card writer; the demo's simulator makes one beside the store when it is absent.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// Card writer only: seconds a card may wait at the gate before it is captured to the
    /// bin (default 30).
    #[serde(default)]
    pub take_timeout_s: Option<u32>,
    /// Camera only: frame width in pixels to ask of the camera (default 640, with `height`).
    /// A real camera grants the closest mode it has; a `sequence:` / `still:` source scales its
    /// images to exactly this size (black bars keep the aspect ratio). The driver accepts 16 to
    /// 4096 and wants `width` and `height` together.
    #[serde(default)]
    pub width: Option<u32>,
    /// Camera only: frame height in pixels (default 480, with `width`; 16 to 4096).
    #[serde(default)]
    pub height: Option<u32>,
    /// Camera only: frames per second to ask for (default 15; 1 to 120). A real camera grants
    /// the closest rate it has; a file sequence plays at exactly this rate.
    #[serde(default)]
    pub fps: Option<u32>,
}

/// Where a device is connected, as read from `port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DevicePort {
    /// The demo starts a simulator for this class.
    Simulator,
    /// A device file such as `/dev/ttyUSB0`.
    Path(PathBuf),
    /// A network or IPP address such as `tcp://10.0.0.5:9100`.
    Url(String),
}

impl DeviceSection {
    /// Serial baud rates the drivers support.
    pub const SUPPORTED_BAUDS: [u32; 5] = [9600, 19200, 38400, 57600, 115200];

    /// Interprets `port`. Validation guarantees it is one of the three forms.
    pub fn port_kind(&self) -> DevicePort {
        let port = self.port.trim();
        if port == "simulator" {
            DevicePort::Simulator
        } else if port.contains("://") {
            DevicePort::Url(port.to_string())
        } else {
            DevicePort::Path(PathBuf::from(port))
        }
    }
}

/// `[timeouts]`, all in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeoutsSection {
    /// Idle time allowed on each step (default 60).
    #[serde(default = "default_step_s")]
    pub step_s: u32,
    /// The countdown turns into a warning this long before the end (default 15; < `step_s`).
    #[serde(default = "default_warning_s")]
    pub warning_s: u32,
    /// How long submitting or printing may take before it counts as failed (default 30).
    #[serde(default = "default_processing_s")]
    pub processing_s: u32,
    /// How long the goodbye screen stays (default 10).
    #[serde(default = "default_goodbye_s")]
    pub goodbye_s: u32,
}

fn default_step_s() -> u32 {
    60
}
fn default_warning_s() -> u32 {
    15
}
fn default_processing_s() -> u32 {
    30
}
fn default_goodbye_s() -> u32 {
    10
}

impl Default for TimeoutsSection {
    fn default() -> Self {
        TimeoutsSection {
            step_s: default_step_s(),
            warning_s: default_warning_s(),
            processing_s: default_processing_s(),
            goodbye_s: default_goodbye_s(),
        }
    }
}

/// `[ui]`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiSection {
    /// `landscape` (1920×1080, default) or `portrait` (1080×1920).
    #[serde(default)]
    pub orientation: Orientation,
    /// Start-up language, `zh` (default) or `en`.
    #[serde(default)]
    pub language: Language,
    /// Start in elder mode (big text, big targets).
    #[serde(default)]
    pub elder_mode: bool,
}

/// Screen orientation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Orientation {
    /// 1920×1080.
    #[default]
    Landscape,
    /// 1080×1920.
    Portrait,
}

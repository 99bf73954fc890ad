//! The demo rig: the embedded central service and a simulator for every device whose port is
//! `"simulator"`, wired to a kiosk configuration. The headless demo, the window demo and the UI
//! tests all start the same rig.

use super::camera_sim::{DemoPhotoDecoder, SimulatedCamera};
use super::demo_pki::demo_ca;
use crate::app::{CameraPort, CardWriterPort, ResolvedPorts, SharedPhotoDecoder};
use anyhow::Context;
use kiosk_central::{CentralConfig, CentralThread, KioskCredential};
use kiosk_core::config::{DevicePort, DeviceSection, KioskConfig};
use kiosk_drivers::cardwriter::{
    CardLayout, CardRecord, CardWriterModel, CardWriterSimulator, RecordDate, RecordKey, SimCard,
    SimulatorConfig,
};
use kiosk_drivers::document_printer::PrivateCups;
use kiosk_drivers::escpos::ReceiptPrinterSimulator;
use kiosk_drivers::idcard::{IdCardSimulator, TestCard};
use kiosk_drivers::qr::QrScannerSimulator;
use kiosk_protocol::SigningKeyFile;
use kiosk_protocol::wire::{TransactionListing, paths};
use kiosk_services::sync::{KioskIdentity, TrustedRoots};
use std::path::{Path, PathBuf};

/// Token of the embedded centre's read API (transactions listing).
pub const DEMO_ADMIN_TOKEN: &str = "demo-admin-token";

pub struct DemoRig {
    pub central: CentralThread,
    pub card_reader: Option<IdCardSimulator>,
    pub printer: Option<ReceiptPrinterSimulator>,
    /// The A4 printer: a private CUPS with a cups-pdf queue (certificates arrive as PDF files).
    pub document_printer: Option<PrivateCups>,
    /// The card dispenser / writer (CRT-591 simulator with a stack of blank cards).
    pub card_writer: Option<CardWriterSimulator>,
    /// The card-record key the kiosk writes with (for making a citizen's earlier card).
    pub card_key_file: Option<PathBuf>,
    pub qr_scanner: Option<QrScannerSimulator>,
    /// The simulated face camera (who stands in front of the kiosk).
    pub camera: Option<SimulatedCamera>,
    pub test_card: TestCard,
    pub config: KioskConfig,
    pub ports: ResolvedPorts,
}

/// The demo kiosk's identity: its key file lives in the demo data folder (beside its store and
/// the embedded centre's database). When the centre does not hold this key as an active kiosk
/// (first start, a fresh centre database, a revocation), the rig makes a one-time enrolment code
/// in the centre's store, as an operator would with `kiosk-central kiosk enrol-code`, and gives it
/// to the kiosk (`[central] enrol_code`), which enrols before its first request.
fn enrol_demo_kiosk(
    config: &mut KioskConfig,
    data_dir: &Path,
    central_db: &Path,
) -> anyhow::Result<()> {
    let key_file = data_dir.join("kiosk-identity.key");
    config.central.key_file = Some(key_file.clone());
    let identity = KioskIdentity::load_or_create(&key_file, &config.kiosk.id, None)
        .context("the demo kiosk's key file")?;
    use kiosk_central::CentralStorage;
    let store = kiosk_central::CentralStore::open(central_db)
        .context("opening the embedded centre's store")?;
    let enrolled = store
        .kiosk_key(&config.kiosk.id)
        .context("reading the demo kiosk's key")?
        .is_some_and(|k| k.revoked_at.is_none() && k.public_key == identity.public_key_hex());
    if !enrolled {
        let issued = kiosk_central::identity::issue_code(
            &store,
            &config.kiosk.id,
            std::time::Duration::from_secs(3600),
            "demo",
            &kiosk_central::clock::ServerTime::now(),
        )
        .context("making the demo kiosk's enrolment code")?;
        config.central.enrol_code = Some(issued.code);
    }
    Ok(())
}

/// The demo's test card: `kiosk-config/cards/demo-resident.toml` beside the configuration.
pub fn demo_card_path(config_dir: &Path) -> PathBuf {
    config_dir.join("cards").join("demo-resident.toml")
}

impl DemoRig {
    /// Starts the centre (its database beside the kiosk store) and the simulators, and returns
    /// the configuration with the centre's real URL.
    pub fn start(mut config: KioskConfig, config_dir: &Path) -> anyhow::Result<Self> {
        let data_dir = config
            .store
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("demo data folder {}", data_dir.display()))?;
        // The central office's catalogue signing key, and this kiosk's list of keys it trusts.
        let signing_key = demo_catalogue_key(&data_dir)?;
        if config.catalogue.verifying_keys.is_none() {
            let keys = data_dir.join("catalogue-verifying.keys");
            std::fs::write(&keys, format!("{}\n", signing_key.verifying_key_line()))
                .with_context(|| format!("{}", keys.display()))?;
            config.catalogue.verifying_keys = Some(keys);
        }
        let card_path = demo_card_path(config_dir);
        let test_card = TestCard::load(&card_path)
            .with_context(|| format!("demo ID card {}", card_path.display()))?;
        let central_db = data_dir.join("central.sqlite");
        // HTTPS as in production: the centre's certificate from the demo CA, which alone the
        // kiosk trusts.
        let pki = demo_ca(&data_dir)?;
        let central = kiosk_central::CentralBuilder::new(CentralConfig {
            database_path: central_db.clone(),
            listen: "127.0.0.1:0".parse().context("loopback address")?,
            kiosks: vec![KioskCredential {
                kiosk_id: config.kiosk.id.clone(),
                token: String::new(),
            }],
            admin_token: DEMO_ADMIN_TOKEN.to_string(),
            sealing_key_path: data_dir.join("central-personal-data.key"),
            accept_bearer_tokens: false,
        })
        .catalogue_signing_key(signing_key)
        .identity_verifier(std::sync::Arc::new(
            super::identity_service::DemoIdentityService::new(test_card.id_number.clone()),
        ))
        .tls(pki.centre.clone())
        .spawn_in_thread()
        .context("starting the embedded central service")?;
        config.central.url = central.url();
        config.central.ca_file = Some(pki.ca_file.clone());
        enrol_demo_kiosk(&mut config, &data_dir, &central_db)?;

        let mut ports = ResolvedPorts::default();
        let mut card_reader = None;
        let mut printer = None;
        if let Some(section) = &config.devices.id_card_reader {
            let path = match section.port_kind() {
                DevicePort::Simulator => {
                    // A stable link, as udev gives a real reader, so an unplugged and
                    // replugged simulator is found again at the same path.
                    let sim = IdCardSimulator::spawn_with_card(&test_card)
                        .context("starting the ID card reader simulator")?
                        .with_stable_link(data_dir.join("id-card-reader"))
                        .context("linking the ID card reader simulator")?;
                    let path = sim
                        .stable_path()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| sim.path().to_string());
                    card_reader = Some(sim);
                    path
                }
                _ => section.port.clone(),
            };
            ports.id_card_reader = Some((path, baud(section, 115_200)));
        }
        if let Some(section) = &config.devices.receipt_printer {
            let path = match section.port_kind() {
                DevicePort::Simulator => {
                    let sim = ReceiptPrinterSimulator::spawn()
                        .context("starting the receipt printer simulator")?;
                    let path = sim.path().to_string();
                    printer = Some(sim);
                    path
                }
                _ => section.port.clone(),
            };
            ports.receipt_printer = Some((path, baud(section, 38_400)));
        }
        let mut document_printer = None;
        if let Some(section) = &config.devices.document_printer {
            match section.port_kind() {
                DevicePort::Simulator => match PrivateCups::start() {
                    Ok(cups) => {
                        tracing::info!(
                            queue = %cups.uri(),
                            output = %cups.output_dir().display(),
                            "A4 printer: private CUPS queue (certificates arrive as PDF)"
                        );
                        ports.document_printer = Some(cups.uri());
                        document_printer = Some(cups);
                    }
                    // Without CUPS the kiosk runs on without an A4 printer: its items show as
                    // unavailable, as on a kiosk whose printer is missing.
                    Err(e) => tracing::warn!(error = %e, "A4 printer simulator not started"),
                },
                _ => ports.document_printer = Some(section.port.clone()),
            }
        }
        let mut card_writer = None;
        let mut card_key_file = None;
        if let Some(section) = &config.devices.card_writer {
            let model = match section.model.as_deref() {
                Some(name) => name
                    .parse::<CardWriterModel>()
                    .map_err(|e| anyhow::anyhow!("devices.card_writer.model: {e}"))?,
                None => CardWriterModel::Crt591,
            };
            let key_file = match &section.key_file {
                Some(path) => path.clone(),
                None => {
                    let path = data_dir.join("card-record.key");
                    ensure_card_key(&path)?;
                    path
                }
            };
            let port = match section.port_kind() {
                DevicePort::Simulator => {
                    if model != CardWriterModel::Crt591 {
                        anyhow::bail!(
                            "devices.card_writer: the demo simulates the crt591 only (the k720 \
                             needs its encoder in the same process)"
                        );
                    }
                    let sim = CardWriterSimulator::spawn(
                        model,
                        SimulatorConfig {
                            blank_cards: 30,
                            low_at: 5,
                            bin_capacity: 20,
                            // The demo citizen takes the card after a moment.
                            auto_take_after: Some(std::time::Duration::from_millis(800)),
                            address: 0,
                        },
                    )
                    .context("starting the card writer simulator")?;
                    let path = sim.path().to_string();
                    card_writer = Some(sim);
                    path
                }
                _ => section.port.clone(),
            };
            ports.card_writer = Some(CardWriterPort {
                port,
                model,
                baud: baud(section, 9_600),
                key_file: key_file.clone(),
                take_timeout: std::time::Duration::from_secs(u64::from(
                    section.take_timeout_s.unwrap_or(30),
                )),
            });
            card_key_file = Some(key_file);
        }
        let mut qr_scanner = None;
        if let Some(section) = &config.devices.qr_scanner {
            let path = match section.port_kind() {
                DevicePort::Simulator => {
                    let sim = QrScannerSimulator::spawn_continuous()
                        .context("starting the QR scanner simulator")?;
                    let path = sim.path().to_string();
                    qr_scanner = Some(sim);
                    path
                }
                _ => section.port.clone(),
            };
            ports.qr_scanner = Some((path, baud(section, 9_600)));
        }
        let mut camera = None;
        if let Some(section) = &config.devices.camera {
            match section.port_kind() {
                DevicePort::Simulator => {
                    let sim = SimulatedCamera::new();
                    ports.camera = Some(CameraPort(sim.opener()));
                    // The simulated card's photo decodes to the demo card holder's ID photo.
                    match DemoPhotoDecoder::new() {
                        Ok(decoder) => {
                            ports.photo_decoder =
                                Some(SharedPhotoDecoder(std::sync::Arc::new(decoder)))
                        }
                        Err(e) => tracing::warn!(error = %e, "demo card photos not available"),
                    }
                    camera = Some(sim);
                }
                _ => ports.camera = Some(CameraPort(real_camera(section))),
            }
        }
        Ok(Self {
            central,
            card_reader,
            printer,
            document_printer,
            card_writer,
            card_key_file,
            qr_scanner,
            camera,
            test_card,
            config,
            ports,
        })
    }

    /// The transactions the centre has stored, as its admin listing shows them (masked).
    pub fn central_transactions(&self) -> anyhow::Result<Vec<TransactionListing>> {
        let url = format!("{}{}", self.central.url(), paths::TRANSACTIONS);
        let mut response = self
            .admin_agent()?
            .get(&url)
            .header("Authorization", &format!("Bearer {DEMO_ADMIN_TOKEN}"))
            .call()
            .with_context(|| format!("GET {url}"))?;
        Ok(response.body_mut().read_json()?)
    }

    /// An HTTP client for the embedded centre's admin API (it trusts the demo CA).
    pub fn admin_agent(&self) -> anyhow::Result<ureq::Agent> {
        let ca_file = self
            .config
            .central
            .ca_file
            .as_deref()
            .context("the demo kiosk has no CA file")?;
        let roots = TrustedRoots::from_pem_file(ca_file).map_err(anyhow::Error::msg)?;
        Ok(ureq::Agent::config_builder()
            .tls_config(roots.tls_config())
            .proxy(None)
            .build()
            .new_agent())
    }

    /// The demo citizen's residence permit, endorsed last year by a kiosk (its record made
    /// with this kiosk's card key), inserted at the card writer's front slot — once.
    pub fn insert_citizen_card(&self) {
        let (Some(sim), Some(key_file)) = (&self.card_writer, &self.card_key_file) else {
            return;
        };
        if sim.card_waiting_at_front() || sim.card_in_channel().is_some() {
            return;
        }
        match self.citizen_card(key_file) {
            Ok(card) => sim.insert_card(card),
            Err(e) => tracing::warn!(error = %e, "demo residence permit not made"),
        }
    }

    fn citizen_card(&self, key_file: &Path) -> anyhow::Result<SimCard> {
        let key = RecordKey::load(key_file)?;
        let date = |y: u16, m: u8, d: u8| {
            RecordDate::new(y, m, d).ok_or_else(|| anyhow::anyhow!("bad demo date"))
        };
        let record = CardRecord {
            item_id: "residence-permit-endorsement".into(),
            holder_ref: kiosk_protocol::mask_id_number(&self.test_card.id_number),
            valid_from: date(2024, 11, 22)?,
            valid_until: date(2025, 11, 21)?,
            kiosk_id: self.config.kiosk.id.clone(),
        };
        let bytes = record.encode(&key)?;
        Ok(SimCard::blank([0x52, 0x50, 0x20, 0x25])
            .with_record_area(&CardLayout::default(), &bytes))
    }

    /// Takes the card off the simulated reader and puts the demo card back, as the next citizen
    /// would.
    pub fn present_card_again(&self) {
        self.present_card(&self.test_card);
    }

    /// Shows `code` to the simulated QR scanner, as a citizen holding up a phone would; takes
    /// any card off the reader first so the code is what identifies.
    pub fn show_code(&self, code: &str) {
        if let Some(sim) = &self.card_reader {
            sim.remove_card();
        }
        if let Some(sim) = &self.qr_scanner {
            sim.show_code(code);
        }
    }

    /// Puts `card` on the simulated reader (after taking off whatever lay there).
    pub fn present_card(&self, card: &TestCard) {
        if let Some(sim) = &self.card_reader {
            sim.remove_card();
            if let Err(e) = sim.place_card(card) {
                tracing::error!(error = %e, "demo card could not be placed");
            }
        }
    }
}

/// Opens the configured camera (`/dev/videoN`, `sequence:DIR`, `still:FILE`) through the
/// drivers crate.
fn real_camera(section: &DeviceSection) -> crate::devices::CameraOpener {
    let section = section.clone();
    std::sync::Arc::new(move |_purpose| {
        let settings = kiosk_drivers::camera::CameraSettings::from_options(
            section.width,
            section.height,
            section.fps,
        )?;
        kiosk_drivers::camera::open_camera(&section.port, &settings)
    })
}

fn baud(section: &DeviceSection, default: u32) -> u32 {
    section.baud.unwrap_or(default)
}

/// Makes the demo's card-record key (32 random bytes, hex) unless it exists.
fn ensure_card_key(path: &Path) -> anyhow::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let mut bytes = [0u8; 32];
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("random bytes for the card-record key")?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(path, hex).with_context(|| format!("card-record key {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// The demo centre's catalogue signing key (made once beside the store).
fn demo_catalogue_key(data_dir: &Path) -> anyhow::Result<SigningKeyFile> {
    let path = data_dir.join("central-catalogue-signing.key");
    if path.exists() {
        return SigningKeyFile::load(&path).map_err(|e| anyhow::anyhow!("{e}"));
    }
    let key = SigningKeyFile::generate("demo-office-1").map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::write(&path, key.to_file_text()).with_context(|| format!("{}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(key)
}

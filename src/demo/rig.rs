//! The demo rig: the embedded central service and a simulator for every device whose port is
//! `"simulator"`, wired to a kiosk configuration. The headless demo, the window demo and the UI
//! tests all start the same rig.

use crate::app::ResolvedPorts;
use anyhow::Context;
use kiosk_central::{CentralConfig, CentralThread, KioskCredential};
use kiosk_core::config::{DevicePort, DeviceSection, KioskConfig};
use kiosk_drivers::document_printer::PrivateCups;
use kiosk_drivers::escpos::ReceiptPrinterSimulator;
use kiosk_drivers::idcard::{IdCardSimulator, TestCard};
use kiosk_drivers::qr::QrScannerSimulator;
use kiosk_protocol::wire::{TransactionListing, paths};
use std::path::{Path, PathBuf};

/// Token of the embedded centre's read API (transactions listing).
pub const DEMO_ADMIN_TOKEN: &str = "demo-admin-token";

pub struct DemoRig {
    pub central: CentralThread,
    pub card_reader: Option<IdCardSimulator>,
    pub printer: Option<ReceiptPrinterSimulator>,
    /// The A4 printer: a private CUPS with a cups-pdf queue (certificates arrive as PDF files).
    pub document_printer: Option<PrivateCups>,
    pub qr_scanner: Option<QrScannerSimulator>,
    pub test_card: TestCard,
    pub config: KioskConfig,
    pub ports: ResolvedPorts,
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
        let central = kiosk_central::spawn_in_thread(CentralConfig {
            database_path: data_dir.join("central.sqlite"),
            listen: "127.0.0.1:0".parse().context("loopback address")?,
            kiosks: vec![KioskCredential {
                kiosk_id: config.kiosk.id.clone(),
                token: config.central.token.clone(),
            }],
            admin_token: DEMO_ADMIN_TOKEN.to_string(),
            sealing_key_path: data_dir.join("central-personal-data.key"),
        })
        .context("starting the embedded central service")?;
        config.central.url = central.url();

        let card_path = demo_card_path(config_dir);
        let test_card = TestCard::load(&card_path)
            .with_context(|| format!("demo ID card {}", card_path.display()))?;
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
        Ok(Self {
            central,
            card_reader,
            printer,
            document_printer,
            qr_scanner,
            test_card,
            config,
            ports,
        })
    }

    /// The transactions the centre has stored, as its admin listing shows them (masked).
    pub fn central_transactions(&self) -> anyhow::Result<Vec<TransactionListing>> {
        let url = format!("{}{}", self.central.url(), paths::TRANSACTIONS);
        let mut response = ureq::get(&url)
            .header("Authorization", &format!("Bearer {DEMO_ADMIN_TOKEN}"))
            .call()
            .with_context(|| format!("GET {url}"))?;
        Ok(response.body_mut().read_json()?)
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

fn baud(section: &DeviceSection, default: u32) -> u32 {
    section.baud.unwrap_or(default)
}

//! `kiosk diag`: the kiosk's health, faults, consumables, disinfection state and devices as JSON
//! for remote support (issue 8). Reads the store without creating it; never prints personal data
//! (the store's plain columns are masked, sealed data is not opened). Devices are only probed
//! with `--probe`, because the running kiosk app holds their ports.

use crate::app::health::{KioskHealth, collect};
use kiosk_core::catalogue::Catalogue;
use kiosk_core::config::{DevicePort, KioskConfig};
use kiosk_core::device::DeviceClass;
use kiosk_protocol::SealingKey;
use kiosk_services::store::KioskStore;
use serde::Serialize;
use std::time::Duration;
use time::OffsetDateTime;

#[derive(Debug, Serialize)]
pub struct DiagReport {
    pub kiosk_id: String,
    pub kiosk_name: String,
    pub software_version: String,
    pub catalogue_version: Option<u32>,
    /// `None` when the store does not exist yet.
    pub health: Option<KioskHealth>,
    pub open_faults: Vec<FaultLine>,
    pub consumables: Vec<ConsumableLine>,
    pub disinfection: Option<DisinfectionLine>,
    pub devices: Vec<DeviceLine>,
}

#[derive(Debug, Serialize)]
pub struct FaultLine {
    pub device: String,
    pub code: String,
    pub severity: String,
    pub source: String,
    pub opened_at: String,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct ConsumableLine {
    pub consumable: String,
    pub level: String,
    pub remaining: Option<u32>,
    pub capacity: Option<u32>,
    pub used_total: u64,
}

#[derive(Debug, Serialize)]
pub struct DisinfectionLine {
    pub last_at: Option<String>,
    pub last_staff: Option<String>,
    pub due_at: Option<String>,
    pub overdue: bool,
}

#[derive(Debug, Serialize)]
pub struct DeviceLine {
    pub class: String,
    pub port: String,
    /// `online`, `no_device`, … when probed; `not_probed` otherwise.
    pub state: String,
    pub detail: Option<String>,
}

fn rfc3339(at: OffsetDateTime) -> Option<String> {
    at.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// Builds the report from the configuration (and the store, if it exists).
pub fn report(config: &KioskConfig, probe: bool) -> anyhow::Result<DiagReport> {
    let catalogue_version = Catalogue::load(&config.catalogue.path)
        .ok()
        .map(|c| c.version);
    let now = OffsetDateTime::now_utc();
    let mut report = DiagReport {
        kiosk_id: config.kiosk.id.clone(),
        kiosk_name: config.kiosk.name.clone(),
        software_version: env!("CARGO_PKG_VERSION").to_string(),
        catalogue_version,
        health: None,
        open_faults: Vec::new(),
        consumables: Vec::new(),
        disinfection: None,
        devices: Vec::new(),
    };
    if config.store.path.exists() {
        // The key only unseals personal data, which this report never reads.
        let key =
            SealingKey::load(&config.store.key_file).unwrap_or_else(|_| SealingKey::generate());
        let store = KioskStore::open(&config.store.path, key)?;
        report.health = Some(collect(
            &store,
            None,
            catalogue_version.unwrap_or(0),
            None,
            now,
        ));
        report.open_faults = store
            .open_faults()?
            .into_iter()
            .map(|f| FaultLine {
                device: f.device,
                code: f.code,
                severity: f.severity.as_str().into(),
                source: format!("{:?}", f.source).to_lowercase(),
                opened_at: f.opened_at,
                message: f.message,
            })
            .collect();
        report.consumables = store
            .consumable_levels()?
            .into_iter()
            .map(|l| ConsumableLine {
                consumable: l.consumable.as_str().into(),
                level: l.level.as_str().into(),
                remaining: l.remaining,
                capacity: l.capacity,
                used_total: l.used_total,
            })
            .collect();
        let interval =
            Duration::from_secs(u64::from(config.maintenance.disinfection_interval_h) * 3600);
        let status = store.disinfection_status(now, interval)?;
        report.disinfection = Some(DisinfectionLine {
            last_at: status.last.as_ref().map(|r| r.at.clone()),
            last_staff: status.last.as_ref().map(|r| r.staff_id.clone()),
            due_at: status.due_at.and_then(rfc3339),
            overdue: status.overdue,
        });
    }
    for (class, section) in config.devices.configured() {
        let (state, detail) = match (probe, section.port_kind()) {
            (false, _) => ("not_probed".to_string(), None),
            (true, DevicePort::Simulator) => ("simulator".to_string(), None),
            (true, _) => probe_device(class, section),
        };
        report.devices.push(DeviceLine {
            class: class.as_str().into(),
            port: section.port.clone(),
            state,
            detail,
        });
    }
    Ok(report)
}

/// Opens the device briefly and reads its state (the receipt printer's DLE EOT status).
fn probe_device(
    class: DeviceClass,
    section: &kiosk_core::config::DeviceSection,
) -> (String, Option<String>) {
    let (port, baud) = (section.port.as_str(), section.baud);
    use kiosk_drivers::escpos::ReceiptPrinter;
    use kiosk_drivers::idcard::{IdCardReader, ReaderTimeouts};
    use kiosk_drivers::qr::{QrScanner, ScanMode};
    let timeout = Duration::from_secs(2);
    let result: Result<(String, Option<String>), String> = match class {
        DeviceClass::ReceiptPrinter => {
            ReceiptPrinter::open_any(port, baud.unwrap_or(38_400), timeout)
                .map_err(|e| e.to_string())
                .and_then(|mut p| {
                    p.report()
                        .map(|r| {
                            let s = r.to_device_status();
                            (
                                s.state.as_str().to_string(),
                                crate::app::fault_watch::detail_text(&s)
                                    .map(|d| d.trim_start_matches("  · ").to_string()),
                            )
                        })
                        .map_err(|e| e.to_string())
                })
        }
        DeviceClass::IdCardReader => {
            IdCardReader::open(port, baud.unwrap_or(115_200), ReaderTimeouts::default())
                .map(|_| ("online".to_string(), None))
                .map_err(|e| e.to_string())
        }
        DeviceClass::QrScanner => {
            QrScanner::open(port, baud.unwrap_or(9_600), ScanMode::Continuous)
                .map(|_| ("online".to_string(), None))
                .map_err(|e| e.to_string())
        }
        DeviceClass::DocumentPrinter => {
            kiosk_drivers::document_printer::IppDocumentPrinter::new(port)
                .and_then(|p| p.report())
                .map(|r| {
                    let s = r.status();
                    (
                        s.state.as_str().to_string(),
                        Some(format!("{} {}", r.make_and_model, r.reasons.join(",")))
                            .filter(|d| !d.trim().is_empty()),
                    )
                })
                .map_err(|e| e.to_string())
        }
        DeviceClass::CardWriter => {
            use kiosk_drivers::cardwriter::{CardWriter, CardWriterModel, CardWriterSettings};
            use kiosk_drivers::traits::CardWriterDevice;
            section
                .model
                .as_deref()
                .unwrap_or("crt591")
                .parse::<CardWriterModel>()
                .map_err(|e| e.to_string())
                .and_then(|model| {
                    let settings = CardWriterSettings {
                        baud: baud.unwrap_or(9_600),
                        ..CardWriterSettings::default()
                    };
                    CardWriter::open(model, port, &settings).map_err(|e| e.to_string())
                })
                .and_then(|mut w| w.report().map_err(|e| e.to_string()))
                .map(|r| {
                    let s = r.to_device_status();
                    (
                        s.state.as_str().to_string(),
                        crate::app::fault_watch::detail_text(&s)
                            .map(|d| d.trim_start_matches("  · ").to_string()),
                    )
                })
        }
        DeviceClass::Camera => {
            // Opening does not start streaming: no light, no frame.
            kiosk_drivers::camera::CameraSettings::from_options(
                section.width,
                section.height,
                section.fps,
            )
            .and_then(|settings| kiosk_drivers::camera::open_camera(port, &settings))
            .map(|camera| {
                let mode = camera.mode();
                (
                    "online".to_string(),
                    Some(format!("{}×{} @ {} fps", mode.width, mode.height, mode.fps)),
                )
            })
            .map_err(|e| e.to_string())
        }
    };
    result.unwrap_or_else(|e| ("no_device".to_string(), Some(e)))
}

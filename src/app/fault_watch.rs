//! Turns lasting bad device states into fault records (DESIGN §5): a device that stays unusable
//! for `fault_after` opens an automatic fault with a code from its status; recovery closes it.
//! Also raises a fault for events the centre refused (dead letter) and passes the printer's
//! near-end sensor to the consumables counter.

use kiosk_core::device::DeviceClass;
use kiosk_drivers::status::{CardStock, DeviceState, DeviceStatus, PaperLevel, StatusDetail};
use kiosk_protocol::wire::{Consumable, FaultSeverity, FaultSource, SupplyLevel};
use kiosk_services::store::{FaultReport, KioskStore};
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

/// The machine-readable fault code of a status (`paper_out`, `cover_open`, `no_device`, …).
pub fn fault_code(status: &DeviceStatus) -> String {
    if let StatusDetail::Printer {
        paper,
        cover_open,
        cutter_error,
    } = status.detail
    {
        if cutter_error {
            return "cutter_error".into();
        }
        if cover_open {
            return "cover_open".into();
        }
        match paper {
            PaperLevel::Out => return "paper_out".into(),
            PaperLevel::Jammed => return "paper_jam".into(),
            _ => {}
        }
    }
    if let StatusDetail::CardWriter { stock, media } = status.detail {
        if media == kiosk_drivers::status::MediaState::Jammed {
            return "card_jam".into();
        }
        if stock == CardStock::Empty {
            return "card_stock_empty".into();
        }
    }
    match status.state {
        DeviceState::Online => "unusable".into(),
        other => other.as_str().into(),
    }
}

fn message(class: DeviceClass, code: &str, status: Option<&DeviceStatus>) -> String {
    let name = class.display_name();
    match status.and_then(|s| s.last_error.as_deref()) {
        Some(error) => format!("{} / {}: {code} ({error})", name.zh, name.en),
        None => format!("{} / {}: {code}", name.zh, name.en),
    }
}

#[derive(Debug, Default)]
pub struct FaultWatch {
    fault_after_ms: u64,
    /// Since when (monotonic ms) each device has been unusable, with the code then.
    bad_since: BTreeMap<DeviceClass, (u64, String)>,
    /// Automatic faults open per device (code set).
    open: BTreeMap<DeviceClass, BTreeSet<String>>,
    dead_letters_seen: Option<u64>,
    /// The last sensor level recorded per consumable.
    sensors: BTreeMap<Consumable, SupplyLevel>,
    adopted: bool,
}

impl FaultWatch {
    pub fn new(fault_after_ms: u64) -> Self {
        Self {
            fault_after_ms,
            ..Self::default()
        }
    }

    /// Looks at every present device's status; opens, replaces or closes faults.
    pub fn observe(
        &mut self,
        store: &KioskStore,
        present: &[DeviceClass],
        statuses: &BTreeMap<DeviceClass, DeviceStatus>,
        now_ms: u64,
        at: OffsetDateTime,
    ) {
        if !self.adopted {
            self.adopted = true;
            // Automatic faults left open by an earlier run are closed on recovery, too.
            if let Ok(faults) = store.open_faults() {
                for f in faults {
                    if f.source == FaultSource::Automatic
                        && let Some(class) = DeviceClass::from_name(&f.device)
                    {
                        self.open.entry(class).or_default().insert(f.code);
                    }
                }
            }
        }
        for class in present {
            let Some(status) = statuses.get(class) else {
                continue;
            };
            if status.state == DeviceState::Starting {
                continue;
            }
            self.observe_sensor(store, *class, status, at);
            if status.is_usable() {
                self.bad_since.remove(class);
                self.close_all(store, *class, at);
                continue;
            }
            let code = fault_code(status);
            // Unusable since the first bad observation, even if the exact cause changes
            // (a reader that times out, then is gone): the fault carries the latest cause.
            let since = match self.bad_since.get(class) {
                Some((since, _)) => *since,
                None => now_ms,
            };
            self.bad_since.insert(*class, (since, code.clone()));
            if now_ms.saturating_sub(since) >= self.fault_after_ms {
                self.open_fault(store, *class, &code, Some(status), at);
            }
        }
    }

    /// Opens (or keeps) the automatic fault `code` of `class`, closing its other codes.
    pub fn open_fault(
        &mut self,
        store: &KioskStore,
        class: DeviceClass,
        code: &str,
        status: Option<&DeviceStatus>,
        at: OffsetDateTime,
    ) {
        let codes = self.open.entry(class).or_default();
        if codes.contains(code) {
            return;
        }
        let others: Vec<String> = codes.iter().cloned().collect();
        codes.insert(code.to_string());
        for other in others {
            self.close(store, class, &other, at);
        }
        let report = FaultReport::automatic(
            class.as_str(),
            code,
            FaultSeverity::Major,
            message(class, code, status),
        );
        match store.open_fault(&report, at) {
            Ok(outcome) => tracing::warn!(
                device = class.as_str(),
                code,
                change = ?outcome.change,
                "fault opened"
            ),
            Err(e) => {
                tracing::error!(device = class.as_str(), code, error = %e, "fault not recorded")
            }
        }
    }

    fn close(&mut self, store: &KioskStore, class: DeviceClass, code: &str, at: OffsetDateTime) {
        if let Some(codes) = self.open.get_mut(&class) {
            codes.remove(code);
        }
        match store.close_fault_for_device(class.as_str(), code, Some("device recovered"), None, at)
        {
            Ok(Some(_)) => tracing::info!(device = class.as_str(), code, "fault cleared"),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(device = class.as_str(), code, error = %e, "fault not cleared")
            }
        }
    }

    fn close_all(&mut self, store: &KioskStore, class: DeviceClass, at: OffsetDateTime) {
        let codes: Vec<String> = self
            .open
            .get(&class)
            .map(|c| c.iter().cloned().collect())
            .unwrap_or_default();
        for code in codes {
            self.close(store, class, &code, at);
        }
    }

    /// Feeds the device's own supply sensor (paper near-end/out, card stack low/empty) into
    /// the consumables it measures.
    fn observe_sensor(
        &mut self,
        store: &KioskStore,
        class: DeviceClass,
        status: &DeviceStatus,
        at: OffsetDateTime,
    ) {
        let (consumable, level) = match (class, &status.detail) {
            (DeviceClass::ReceiptPrinter | DeviceClass::DocumentPrinter, _) => {
                let level = match status.paper() {
                    Some(PaperLevel::Full) => SupplyLevel::Ok,
                    Some(PaperLevel::Low) => SupplyLevel::Low,
                    Some(PaperLevel::Out) => SupplyLevel::Empty,
                    _ => return,
                };
                let consumable = if class == DeviceClass::ReceiptPrinter {
                    Consumable::ReceiptPaper
                } else {
                    Consumable::A4Paper
                };
                (consumable, level)
            }
            (DeviceClass::CardWriter, StatusDetail::CardWriter { stock, .. }) => {
                let level = match stock {
                    CardStock::Ok => SupplyLevel::Ok,
                    CardStock::Low => SupplyLevel::Low,
                    CardStock::Empty => SupplyLevel::Empty,
                };
                (Consumable::CardStock, level)
            }
            _ => return,
        };
        if self.sensors.get(&consumable) == Some(&level) {
            return;
        }
        self.sensors.insert(consumable, level);
        if let Err(e) = store.set_sensor_level(consumable, level, at) {
            tracing::error!(error = %e, "supply sensor level not recorded");
        }
    }

    /// Raises a fault (device `outbox`) when the centre refused more events since last time.
    pub fn observe_dead_letters(&mut self, store: &KioskStore, at: OffsetDateTime) {
        let Ok(count) = store.dead_letter_count() else {
            return;
        };
        let before = self.dead_letters_seen.replace(count);
        if count > before.unwrap_or(0) {
            let report = FaultReport::automatic(
                "outbox",
                "dead_letter",
                FaultSeverity::Minor,
                format!("中心拒收 {count} 条记录 / the centre refused {count} events"),
            );
            if let Err(e) = store.open_fault(&report, at) {
                tracing::error!(error = %e, "dead-letter fault not recorded");
            }
        }
    }
}

/// The class detail worth showing staff, as `  · paper low` (empty-ish when nothing to say).
pub fn detail_text(status: &DeviceStatus) -> Option<String> {
    match status.detail {
        StatusDetail::Printer {
            paper,
            cover_open,
            cutter_error,
        } => {
            let paper = match paper {
                PaperLevel::Full => "paper full",
                PaperLevel::Low => "paper low",
                PaperLevel::Out => "paper out",
                PaperLevel::Jammed => "paper jammed",
                PaperLevel::Unknown => "paper unknown",
            };
            let mut s = format!("  · {paper}");
            if cover_open {
                s.push_str(", cover open");
            }
            if cutter_error {
                s.push_str(", cutter error");
            }
            Some(s)
        }
        StatusDetail::Media { media } => Some(format!("  · media {media:?}").to_lowercase()),
        StatusDetail::CardWriter { stock, media } => {
            Some(format!("  · stock {stock:?}, card {media:?}").to_lowercase())
        }
        _ => None,
    }
}

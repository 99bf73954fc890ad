//! IPP printer state (RFC 8011 §5.4.11–12, PWG 5100.9 keywords) → [`DeviceStatus`].
//!
//! `printer-state-reasons` keywords carry a severity suffix: `-error` stops printing,
//! `-warning` does not, `-report` is informational. The reasons the kiosk acts on:
//! `media-empty`/`media-needed` (paper out), `media-low` (paper low), `media-jam`, `cover-open`/
//! `door-open`, `offline`/`shutdown`/`connecting-to-device` (unreachable), `toner-empty`/
//! `marker-supply-empty` (hardware), and `paused` (the queue was stopped, by CUPS after a
//! backend failure or by an operator).

use crate::status::{DeviceClass, DeviceState, DeviceStatus, PaperLevel, StatusDetail};

/// `printer-state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrinterState {
    /// 3: waiting for jobs.
    Idle,
    /// 4: printing.
    Processing,
    /// 5: stopped; the reasons say why.
    Stopped,
}

impl PrinterState {
    /// From the IPP enum value.
    pub fn from_ipp(value: i32) -> Option<PrinterState> {
        match value {
            3 => Some(PrinterState::Idle),
            4 => Some(PrinterState::Processing),
            5 => Some(PrinterState::Stopped),
            _ => None,
        }
    }
}

/// A reason keyword without its severity suffix, and whether it is an error.
fn split(reason: &str) -> (&str, bool) {
    for (suffix, error) in [("-error", true), ("-warning", false), ("-report", false)] {
        if let Some(base) = reason.strip_suffix(suffix) {
            return (base, error);
        }
    }
    // No suffix: RFC 8011 says treat as an error.
    (reason, true)
}

/// The device status a printer in `state` with `reasons` is in.
pub fn status_from(state: PrinterState, reasons: &[String], message: &str) -> DeviceStatus {
    let mut paper = PaperLevel::Full;
    let mut cover_open = false;
    let mut hardware: Option<String> = None;
    let mut offline = false;
    let mut paused = false;
    for reason in reasons {
        let (base, error) = split(reason);
        match base {
            "none" => {}
            "media-empty" | "media-needed" => paper = PaperLevel::Out,
            "media-low" if paper == PaperLevel::Full => paper = PaperLevel::Low,
            "media-jam" => paper = PaperLevel::Jammed,
            "cover-open" | "door-open" | "interlock-open" => cover_open = true,
            "offline" | "shutdown" | "connecting-to-device" | "timed-out" => offline = true,
            "paused" | "moving-to-paused" => paused = true,
            "toner-empty"
            | "marker-supply-empty"
            | "fuser-over-temp"
            | "fuser-under-temp"
            | "other"
                if error =>
            {
                hardware = Some(base.to_string());
            }
            _ => {}
        }
    }
    let user_fault = matches!(paper, PaperLevel::Out | PaperLevel::Jammed) || cover_open;
    let detail = StatusDetail::Printer {
        paper,
        cover_open,
        cutter_error: false,
    };
    let (device_state, error) = if user_fault {
        let what = match (paper, cover_open) {
            (PaperLevel::Out, _) => "paper out",
            (PaperLevel::Jammed, _) => "paper jam",
            _ => "cover open",
        };
        (DeviceState::UserError, Some(what.to_string()))
    } else if let Some(h) = hardware {
        (DeviceState::HardwareError, Some(h))
    } else if offline {
        (DeviceState::Offline, Some("printer offline".to_string()))
    } else if state == PrinterState::Stopped || paused {
        let why = if message.is_empty() {
            "print queue stopped".to_string()
        } else {
            format!("print queue stopped: {message}")
        };
        (DeviceState::Offline, Some(why))
    } else {
        // Processing is normal for a queue: it takes the next job, so the device is usable.
        (DeviceState::Online, None)
    };
    let status = DeviceStatus::new(DeviceClass::DocumentPrinter, device_state).with_detail(detail);
    match error {
        Some(e) => status.with_error(e),
        None => status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(r: &[&str]) -> Vec<String> {
        r.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn idle_with_no_reasons_is_online() {
        let s = status_from(PrinterState::Idle, &reasons(&["none"]), "");
        assert_eq!(s.state, DeviceState::Online);
        assert_eq!(s.paper(), Some(PaperLevel::Full));
        assert!(s.is_usable());
    }

    #[test]
    fn paper_out_stops_with_a_user_error() {
        let s = status_from(
            PrinterState::Stopped,
            &reasons(&["media-empty-error", "paused"]),
            "printer reports media-empty-error",
        );
        assert_eq!(s.state, DeviceState::UserError);
        assert_eq!(s.paper(), Some(PaperLevel::Out));
        assert_eq!(s.last_error.as_deref(), Some("paper out"));
        assert!(!s.is_usable());
    }

    #[test]
    fn low_paper_is_a_warning_that_still_prints() {
        let s = status_from(PrinterState::Idle, &reasons(&["media-low-warning"]), "");
        assert_eq!(s.paper(), Some(PaperLevel::Low));
        assert_eq!(s.state, DeviceState::Online);
    }

    #[test]
    fn jam_cover_offline_toner_and_pause() {
        let jam = status_from(PrinterState::Stopped, &reasons(&["media-jam-error"]), "");
        assert_eq!(jam.paper(), Some(PaperLevel::Jammed));
        let cover = status_from(PrinterState::Stopped, &reasons(&["door-open-error"]), "");
        assert_eq!(cover.state, DeviceState::UserError);
        let off = status_from(PrinterState::Idle, &reasons(&["offline-report"]), "");
        assert_eq!(off.state, DeviceState::Offline);
        let toner = status_from(PrinterState::Stopped, &reasons(&["toner-empty-error"]), "");
        assert_eq!(toner.state, DeviceState::HardwareError);
        let toner_low = status_from(PrinterState::Idle, &reasons(&["toner-low-warning"]), "");
        assert_eq!(toner_low.state, DeviceState::Online);
        let paused = status_from(PrinterState::Stopped, &reasons(&["paused"]), "maintenance");
        assert_eq!(paused.state, DeviceState::Offline);
        assert!(paused.last_error.unwrap().contains("maintenance"));
        let busy = status_from(PrinterState::Processing, &reasons(&["none"]), "");
        assert_eq!(
            busy.state,
            DeviceState::Online,
            "a printing queue still takes jobs"
        );
    }
}

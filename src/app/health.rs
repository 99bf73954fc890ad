//! The kiosk's health figures (DESIGN §2 maintenance, issue 8): what the health screen shows and
//! what `kiosk diag` prints as JSON for remote support. No personal data.

use kiosk_services::store::KioskStore;
use kiosk_services::sync::UploaderStatus;
use serde::Serialize;
use std::path::Path;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KioskHealth {
    pub outbox_depth: u64,
    pub oldest_unsent_s: Option<u64>,
    pub dead_letters: u64,
    /// RFC 3339.
    pub last_sync: Option<String>,
    /// Whether the last upload attempt reached the centre; `None` before any attempt.
    pub central_reachable: Option<bool>,
    pub catalogue_version: u32,
    pub software_version: String,
    pub disk_free_mb: Option<u64>,
    /// Seconds the kiosk app has run (`None` outside the app, e.g. `kiosk diag`).
    pub uptime_s: Option<u64>,
    pub open_faults: usize,
}

/// Collects the figures; `sync` is the uploader's status when it runs in this process.
pub fn collect(
    store: &KioskStore,
    sync: Option<UploaderStatus>,
    catalogue_version: u32,
    uptime_s: Option<u64>,
    at: OffsetDateTime,
) -> KioskHealth {
    let (last_sync, central_reachable) = match &sync {
        Some(s) => (
            s.last_success_at.and_then(|t| t.format(&Rfc3339).ok()),
            s.last_attempt_at.map(|_| s.last_error.is_none()),
        ),
        None => (None, None),
    };
    KioskHealth {
        outbox_depth: store.outbox_depth().unwrap_or(0),
        oldest_unsent_s: store
            .oldest_unsent_age(at)
            .ok()
            .flatten()
            .map(|d| d.as_secs()),
        dead_letters: store.dead_letter_count().unwrap_or(0),
        last_sync,
        central_reachable,
        catalogue_version,
        software_version: env!("CARGO_PKG_VERSION").to_string(),
        disk_free_mb: store.path().parent().and_then(disk_free_mb),
        uptime_s,
        open_faults: store.open_faults().map(|f| f.len()).unwrap_or(0),
    }
}

/// Free space of the file system holding `dir`, from `df -Pk` (POSIX output).
pub fn disk_free_mb(dir: &Path) -> Option<u64> {
    let out = std::process::Command::new("df")
        .arg("-Pk")
        .arg(dir)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let line = text.lines().nth(1)?;
    let available_kb: u64 = line.split_whitespace().nth(3)?.parse().ok()?;
    Some(available_kb / 1024)
}

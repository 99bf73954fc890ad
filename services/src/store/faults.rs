//! Faults: lasting bad device states reported by the device manager and faults reported by
//! staff. At most one fault is open per (device, code) — a partial unique index enforces it —
//! so reporting the same fault again updates it instead of opening a duplicate. Every change is
//! written with its `fault_opened` / `fault_updated` / `fault_cleared` event in one SQLite
//! transaction.

use kiosk_protocol::wire::{EventKind, FaultRecord, FaultSeverity, FaultSource};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use time::OffsetDateTime;
use uuid::Uuid;

use super::audit::insert_audit;
use super::outbox::insert_event;
use super::{
    KioskStore, StoreError, mask_free_text, now_rfc3339, record_time, required_code, required_name,
};

/// A fault as reported (by the device manager or by staff).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultReport {
    /// A device class (`receipt_printer`, …), or `kiosk` / `outbox`.
    pub device: String,
    /// Machine-readable cause, e.g. `paper_jam`.
    pub code: String,
    pub severity: FaultSeverity,
    /// Free text for staff; masked before it is stored.
    pub message: String,
    pub source: FaultSource,
    /// The reporting member of staff (for [`FaultSource::Staff`]).
    pub staff_id: Option<String>,
}

impl FaultReport {
    /// A fault raised by the device manager.
    pub fn automatic(
        device: &str,
        code: &str,
        severity: FaultSeverity,
        message: impl Into<String>,
    ) -> Self {
        Self {
            device: device.into(),
            code: code.into(),
            severity,
            message: message.into(),
            source: FaultSource::Automatic,
            staff_id: None,
        }
    }

    /// A fault reported by a member of staff from the diagnostics screens.
    pub fn by_staff(
        staff_id: &str,
        device: &str,
        code: &str,
        severity: FaultSeverity,
        message: impl Into<String>,
    ) -> Self {
        Self {
            device: device.into(),
            code: code.into(),
            severity,
            message: message.into(),
            source: FaultSource::Staff,
            staff_id: Some(staff_id.into()),
        }
    }
}

/// A change to an open fault; `None` fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultUpdate {
    pub severity: Option<FaultSeverity>,
    pub message: Option<String>,
    pub note: Option<String>,
    /// The member of staff making the change (audited).
    pub staff_id: Option<String>,
}

/// What [`KioskStore::open_fault`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultChange {
    /// A new fault; `fault_opened` queued.
    Opened,
    /// The same fault was already open with another severity or message; `fault_updated`
    /// queued.
    Updated,
    /// The same fault was already open as reported; nothing written, no event.
    Unchanged,
}

/// The fault after [`KioskStore::open_fault`], and what was done.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultOutcome {
    pub fault: FaultRecord,
    pub change: FaultChange,
}

const COLUMNS: &str = "fault_id, device, code, severity, message, source, opened_at, updated_at,
     cleared_at, note, staff_id";

fn from_row(row: &Row<'_>) -> rusqlite::Result<FaultRecord> {
    let severity: String = row.get(3)?;
    let source: String = row.get(5)?;
    Ok(FaultRecord {
        fault_id: row.get(0)?,
        device: row.get(1)?,
        code: row.get(2)?,
        severity: FaultSeverity::from_name(&severity)
            .ok_or_else(|| bad_value(3, "fault severity", &severity))?,
        message: row.get(4)?,
        source: FaultSource::from_name(&source)
            .ok_or_else(|| bad_value(5, "fault source", &source))?,
        opened_at: row.get(6)?,
        updated_at: row.get(7)?,
        cleared_at: row.get(8)?,
        note: row.get(9)?,
        staff_id: row.get(10)?,
    })
}

pub(super) fn bad_value(column: usize, what: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        column,
        rusqlite::types::Type::Text,
        format!("unknown {what} {value:?}").into(),
    )
}

fn find_open(tx: &Connection, device: &str, code: &str) -> Result<Option<FaultRecord>, StoreError> {
    Ok(tx
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM faults
                 WHERE device = ?1 AND code = ?2 AND cleared_at IS NULL"
            ),
            params![device, code],
            from_row,
        )
        .optional()?)
}

fn find_by_id(tx: &Connection, fault_id: &str) -> Result<Option<FaultRecord>, StoreError> {
    Ok(tx
        .query_row(
            &format!("SELECT {COLUMNS} FROM faults WHERE fault_id = ?1"),
            [fault_id],
            from_row,
        )
        .optional()?)
}

/// Writes the fault's new state over its row and queues `kind` with it.
fn write_change(
    tx: &Transaction<'_>,
    kind: EventKind,
    fault: &FaultRecord,
) -> Result<(), StoreError> {
    let payload = serde_json::to_string(fault)?;
    let entry = insert_event(tx, kind, &payload, None, &now_rfc3339())?;
    tx.execute(
        "UPDATE faults SET severity = ?2, message = ?3, updated_at = ?4, cleared_at = ?5,
             note = ?6, staff_id = ?7, outbox_seq = ?8
         WHERE fault_id = ?1",
        params![
            fault.fault_id,
            fault.severity.as_str(),
            fault.message,
            fault.updated_at,
            fault.cleared_at,
            fault.note,
            fault.staff_id,
            entry.seq
        ],
    )?;
    Ok(())
}

fn audit_staff_change(
    tx: &Transaction<'_>,
    staff_id: Option<&str>,
    action: &str,
    fault: &FaultRecord,
    at: &str,
) -> Result<(), StoreError> {
    if let Some(staff_id) = staff_id {
        let detail = format!(
            "{} {} ({}): {}",
            fault.device,
            fault.code,
            fault.fault_id,
            fault.note.as_deref().unwrap_or(&fault.message)
        );
        insert_audit(tx, staff_id, action, &detail, at)?;
    }
    Ok(())
}

fn optional_staff(staff_id: Option<&str>) -> Result<Option<String>, StoreError> {
    staff_id
        .map(|id| required_name("a fault's staff id", id))
        .transpose()
}

impl KioskStore {
    /// Opens a fault, or — when a fault with the same (device, code) is still open — updates
    /// that one (`fault_updated`, only if the severity or message changed; otherwise nothing is
    /// written). The business row and its event are written in one SQLite transaction; a staff
    /// report is also audited (`fault.report`).
    pub fn open_fault(
        &self,
        report: &FaultReport,
        at: OffsetDateTime,
    ) -> Result<FaultOutcome, StoreError> {
        let device = required_code("a fault's device", &report.device)?;
        let code = required_code("a fault's code", &report.code)?;
        let staff_id = optional_staff(report.staff_id.as_deref())?;
        let message = mask_free_text(&report.message);
        let at = record_time(at);

        let mut conn = self.lock();
        let tx = conn.transaction()?;
        if let Some(mut fault) = find_open(&tx, &device, &code)? {
            if fault.severity == report.severity && fault.message == message {
                return Ok(FaultOutcome {
                    fault,
                    change: FaultChange::Unchanged,
                });
            }
            fault.severity = report.severity;
            fault.message = message;
            fault.updated_at = at.clone();
            if staff_id.is_some() {
                fault.staff_id = staff_id.clone();
            }
            write_change(&tx, EventKind::FaultUpdated, &fault)?;
            audit_staff_change(&tx, staff_id.as_deref(), "fault.update", &fault, &at)?;
            tx.commit()?;
            tracing::info!(fault_id = %fault.fault_id, device = %fault.device,
                code = %fault.code, "open fault updated");
            return Ok(FaultOutcome {
                fault,
                change: FaultChange::Updated,
            });
        }

        let fault = FaultRecord {
            fault_id: Uuid::now_v7().to_string(),
            device,
            code,
            severity: report.severity,
            message,
            source: report.source,
            opened_at: at.clone(),
            updated_at: at.clone(),
            cleared_at: None,
            note: None,
            staff_id: staff_id.clone(),
        };
        let payload = serde_json::to_string(&fault)?;
        let entry = insert_event(&tx, EventKind::FaultOpened, &payload, None, &now_rfc3339())?;
        tx.execute(
            &format!(
                "INSERT INTO faults ({COLUMNS}, outbox_seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
            ),
            params![
                fault.fault_id,
                fault.device,
                fault.code,
                fault.severity.as_str(),
                fault.message,
                fault.source.as_str(),
                fault.opened_at,
                fault.updated_at,
                fault.cleared_at,
                fault.note,
                fault.staff_id,
                entry.seq
            ],
        )?;
        audit_staff_change(&tx, staff_id.as_deref(), "fault.report", &fault, &at)?;
        tx.commit()?;
        tracing::warn!(fault_id = %fault.fault_id, device = %fault.device, code = %fault.code,
            severity = fault.severity.as_str(), "fault opened");
        Ok(FaultOutcome {
            fault,
            change: FaultChange::Opened,
        })
    }

    /// Changes an open fault and queues `fault_updated` (audited as `fault.update` when a
    /// member of staff made it). [`StoreError::FaultNotOpen`] if it is unknown or cleared.
    pub fn update_fault(
        &self,
        fault_id: &str,
        update: &FaultUpdate,
        at: OffsetDateTime,
    ) -> Result<FaultRecord, StoreError> {
        let staff_id = optional_staff(update.staff_id.as_deref())?;
        let at = record_time(at);
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let mut fault = find_by_id(&tx, fault_id)?
            .filter(|f| f.cleared_at.is_none())
            .ok_or_else(|| StoreError::FaultNotOpen(fault_id.to_string()))?;
        if let Some(severity) = update.severity {
            fault.severity = severity;
        }
        if let Some(message) = &update.message {
            fault.message = mask_free_text(message);
        }
        if let Some(note) = &update.note {
            fault.note = Some(mask_free_text(note));
        }
        if staff_id.is_some() {
            fault.staff_id = staff_id.clone();
        }
        fault.updated_at = at.clone();
        write_change(&tx, EventKind::FaultUpdated, &fault)?;
        audit_staff_change(&tx, staff_id.as_deref(), "fault.update", &fault, &at)?;
        tx.commit()?;
        Ok(fault)
    }

    /// Clears an open fault with an optional note and queues `fault_cleared` (audited as
    /// `fault.close` when a member of staff closed it). [`StoreError::FaultNotOpen`] if it is
    /// unknown or already cleared.
    pub fn close_fault(
        &self,
        fault_id: &str,
        note: Option<&str>,
        staff_id: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<FaultRecord, StoreError> {
        let staff_id = optional_staff(staff_id)?;
        let at = record_time(at);
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let mut fault = find_by_id(&tx, fault_id)?
            .filter(|f| f.cleared_at.is_none())
            .ok_or_else(|| StoreError::FaultNotOpen(fault_id.to_string()))?;
        close_in(&tx, &mut fault, note, staff_id.as_deref(), &at)?;
        tx.commit()?;
        Ok(fault)
    }

    /// Clears the open fault of (device, code), if there is one — what the device manager calls
    /// when a bad state ends. `Ok(None)` when no such fault is open.
    pub fn close_fault_for_device(
        &self,
        device: &str,
        code: &str,
        note: Option<&str>,
        staff_id: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<Option<FaultRecord>, StoreError> {
        let staff_id = optional_staff(staff_id)?;
        let at = record_time(at);
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let Some(mut fault) = find_open(&tx, device.trim(), code.trim())? else {
            return Ok(None);
        };
        close_in(&tx, &mut fault, note, staff_id.as_deref(), &at)?;
        tx.commit()?;
        Ok(Some(fault))
    }

    /// The open fault of (device, code), if any.
    pub fn find_open_fault(
        &self,
        device: &str,
        code: &str,
    ) -> Result<Option<FaultRecord>, StoreError> {
        find_open(&self.lock(), device.trim(), code.trim())
    }

    /// A fault by id, open or cleared.
    pub fn fault(&self, fault_id: &str) -> Result<Option<FaultRecord>, StoreError> {
        find_by_id(&self.lock(), fault_id)
    }

    /// Every open fault, oldest first.
    pub fn open_faults(&self) -> Result<Vec<FaultRecord>, StoreError> {
        self.query_faults(
            "WHERE cleared_at IS NULL ORDER BY opened_at, rowid",
            i64::MAX,
        )
    }

    /// The `n` most recently opened faults, open or cleared, newest first.
    pub fn recent_faults(&self, n: usize) -> Result<Vec<FaultRecord>, StoreError> {
        self.query_faults(
            "ORDER BY opened_at DESC, rowid DESC",
            i64::try_from(n).unwrap_or(i64::MAX),
        )
    }

    fn query_faults(&self, tail: &str, limit: i64) -> Result<Vec<FaultRecord>, StoreError> {
        let conn = self.lock();
        let mut statement =
            conn.prepare(&format!("SELECT {COLUMNS} FROM faults {tail} LIMIT ?1"))?;
        let faults = statement
            .query_map([limit], from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(faults)
    }
}

fn close_in(
    tx: &Transaction<'_>,
    fault: &mut FaultRecord,
    note: Option<&str>,
    staff_id: Option<&str>,
    at: &str,
) -> Result<(), StoreError> {
    fault.cleared_at = Some(at.to_string());
    fault.updated_at = at.to_string();
    if let Some(note) = note {
        fault.note = Some(mask_free_text(note));
    }
    if let Some(staff_id) = staff_id {
        fault.staff_id = Some(staff_id.to_string());
    }
    write_change(tx, EventKind::FaultCleared, fault)?;
    audit_staff_change(tx, staff_id, "fault.close", fault, at)?;
    tracing::info!(fault_id = %fault.fault_id, device = %fault.device, code = %fault.code,
        "fault cleared");
    Ok(())
}

//! The audit log: every staff action (and the system's own notable actions), each written with
//! its `audit` event in one SQLite transaction.

use kiosk_protocol::wire::{AuditRecord, EventKind};
use rusqlite::{Transaction, params};
use time::OffsetDateTime;

use super::outbox::insert_event;
use super::{KioskStore, StoreError, mask_free_text, now_rfc3339, record_time, required_name};

/// Appends an audit row and its event inside the caller's SQLite transaction. `at` is a record
/// time (see [`record_time`]); `detail` is masked here.
pub(super) fn insert_audit(
    tx: &Transaction<'_>,
    actor: &str,
    action: &str,
    detail: &str,
    at: &str,
) -> Result<AuditRecord, StoreError> {
    let record = AuditRecord {
        actor: required_name("an audit entry's actor", actor)?,
        action: required_name("an audit entry's action", action)?,
        detail: mask_free_text(detail),
        at: at.to_string(),
    };
    let payload = serde_json::to_string(&record)?;
    let entry = insert_event(tx, EventKind::Audit, &payload, None, &now_rfc3339())?;
    tx.execute(
        "INSERT INTO audit_log (actor, action, detail, at, outbox_seq)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            record.actor,
            record.action,
            record.detail,
            record.at,
            entry.seq
        ],
    )?;
    Ok(record)
}

impl KioskStore {
    /// Records an action in the audit log and queues its `audit` event, in one SQLite
    /// transaction. `actor` is a staff id or `system`; `action` a dotted name such as
    /// `diagnostics.enter`, `diagnostics.pin_refused`, `device.self_test`, `receipt.reprint`;
    /// `detail` is free text, masked before it is stored (see the crate README).
    ///
    /// Fault reports and closes, disinfections and replenishments made through the store are
    /// audited by the store itself; do not audit them again.
    pub fn audit(
        &self,
        actor: &str,
        action: &str,
        detail: &str,
        at: OffsetDateTime,
    ) -> Result<AuditRecord, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let record = insert_audit(&tx, actor, action, detail, &record_time(at))?;
        tx.commit()?;
        Ok(record)
    }

    /// The `n` latest audit entries, newest first.
    pub fn recent_audit(&self, n: usize) -> Result<Vec<AuditRecord>, StoreError> {
        let conn = self.lock();
        let mut statement = conn
            .prepare("SELECT actor, action, detail, at FROM audit_log ORDER BY id DESC LIMIT ?1")?;
        let records = statement
            .query_map([i64::try_from(n).unwrap_or(i64::MAX)], |row| {
                Ok(AuditRecord {
                    actor: row.get(0)?,
                    action: row.get(1)?,
                    detail: row.get(2)?,
                    at: row.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(records)
    }
}

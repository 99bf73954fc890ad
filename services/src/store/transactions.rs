//! Citizen transactions: the business row and its outbox event, written in one SQLite
//! transaction.

use kiosk_protocol::wire::{EventKind, PersonalData, TransactionRecord};
use kiosk_protocol::{mask_id_number, mask_name};
use rusqlite::OptionalExtension;

use super::{KioskStore, OutboxEntryId, StoreError, ensure_no_plain_personal_data, now_rfc3339};

/// A transaction as kept on the kiosk.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTransaction {
    /// The record as committed (masked).
    pub record: TransactionRecord,
    /// The outbox event that carries it to the centre.
    pub outbox_seq: i64,
    /// Whether sealed personal data is still kept for it (until the centre acknowledges it).
    pub holds_sealed_personal_data: bool,
    pub created_at: String,
}

impl KioskStore {
    /// Stores a finished transaction and queues its [`EventKind::Transaction`] event, both in one
    /// SQLite transaction: either both rows exist afterwards or neither does.
    ///
    /// `personal` is written only sealed. The record itself must hold masked values only; the
    /// applicant's masked fields are masked again (masking is idempotent) and the record is
    /// refused if it contains the applicant's unmasked ID number or name anywhere.
    pub fn commit_transaction(
        &self,
        record: &TransactionRecord,
        personal: Option<&PersonalData>,
    ) -> Result<OutboxEntryId, StoreError> {
        let record = with_applicant_masked(record);
        let record_json = serde_json::to_string(&record)?;
        ensure_no_plain_personal_data("the transaction record", &record_json, personal)?;
        let sealed_for_row = personal.map(|p| self.seal(p)).transpose()?;
        let sealed_for_event = personal.map(|p| self.seal(p)).transpose()?;
        let outcome = match serde_json::to_value(record.outcome)? {
            serde_json::Value::String(text) => text,
            other => other.to_string(),
        };
        let (masked_name, masked_id_number) = match &record.applicant {
            Some(applicant) => (
                Some(applicant.masked_name.clone()),
                Some(applicant.masked_id_number.clone()),
            ),
            None => (None, None),
        };
        let created_at = now_rfc3339();

        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let exists = tx
            .query_row(
                "SELECT 1 FROM transactions WHERE transaction_id = ?1",
                [&record.transaction_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if exists {
            return Err(StoreError::TransactionExists(record.transaction_id.clone()));
        }
        let entry = super::outbox::insert_event(
            &tx,
            EventKind::Transaction,
            &record_json,
            sealed_for_event,
            &created_at,
        )?;
        tx.execute(
            "INSERT INTO transactions (transaction_id, item_code, outcome, masked_name,
                 masked_id_number, record_json, sealed_personal, outbox_seq, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            rusqlite::params![
                record.transaction_id,
                record.item_code,
                outcome,
                masked_name,
                masked_id_number,
                record_json,
                sealed_for_row,
                entry.seq,
                created_at,
            ],
        )?;
        tx.commit()?;
        tracing::debug!(
            transaction_id = %record.transaction_id,
            seq = entry.seq,
            "transaction committed with its outbox event"
        );
        Ok(entry)
    }

    /// A stored transaction by id.
    pub fn transaction(
        &self,
        transaction_id: &str,
    ) -> Result<Option<StoredTransaction>, StoreError> {
        let row = self
            .lock()
            .query_row(
                "SELECT record_json, outbox_seq, sealed_personal IS NOT NULL, created_at
                 FROM transactions WHERE transaction_id = ?1",
                [transaction_id],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, bool>(2)?,
                        row.get::<_, String>(3)?,
                    ))
                },
            )
            .optional()?;
        let Some((record_json, outbox_seq, holds_sealed_personal_data, created_at)) = row else {
            return Ok(None);
        };
        Ok(Some(StoredTransaction {
            record: serde_json::from_str(&record_json)?,
            outbox_seq,
            holds_sealed_personal_data,
            created_at,
        }))
    }
}

fn with_applicant_masked(record: &TransactionRecord) -> TransactionRecord {
    let mut record = record.clone();
    if let Some(applicant) = record.applicant.as_mut() {
        applicant.masked_name = mask_name(&applicant.masked_name);
        applicant.masked_id_number = mask_id_number(&applicant.masked_id_number);
    }
    record
}

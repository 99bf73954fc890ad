//! What was printed for each transaction — the receipt's or certificate's content, masked as
//! printed — so staff can reprint it by transaction number exactly as the citizen first got it.
//! The content is the flow engine's masked `ReceiptContent` / `DocumentContent` as JSON; it
//! holds no personal data beyond what the paper itself shows.

use rusqlite::{OptionalExtension, params};

use super::{KioskStore, StoreError, now_rfc3339};

/// Which printout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintoutKind {
    /// The 80 mm receipt.
    Receipt,
    /// The A4 certificate.
    Document,
}

impl PrintoutKind {
    fn as_str(self) -> &'static str {
        match self {
            PrintoutKind::Receipt => "receipt",
            PrintoutKind::Document => "document",
        }
    }
}

/// A stored printout.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPrintout {
    /// `zh` or `en`: the language it was printed in.
    pub language: String,
    /// The content as the flow engine made it.
    pub content: serde_json::Value,
}

impl KioskStore {
    /// Keeps what was (or is about to be) printed for a transaction; a later print of the same
    /// kind replaces it.
    pub fn save_printout(
        &self,
        transaction_id: &str,
        kind: PrintoutKind,
        language: &str,
        content: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT INTO printouts (transaction_id, kind, language, content_json, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (transaction_id, kind) DO UPDATE SET
                language = excluded.language, content_json = excluded.content_json",
            params![
                transaction_id,
                kind.as_str(),
                language,
                serde_json::to_string(content)?,
                now_rfc3339()
            ],
        )?;
        Ok(())
    }

    /// The printout of one kind for a transaction, if any was printed on this kiosk.
    pub fn printout(
        &self,
        transaction_id: &str,
        kind: PrintoutKind,
    ) -> Result<Option<StoredPrintout>, StoreError> {
        let row = self
            .lock()
            .query_row(
                "SELECT language, content_json FROM printouts
                 WHERE transaction_id = ?1 AND kind = ?2",
                params![transaction_id, kind.as_str()],
                |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
            )
            .optional()?;
        row.map(|(language, json)| {
            Ok(StoredPrintout {
                language,
                content: serde_json::from_str(&json)?,
            })
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::open_temp_store;

    #[test]
    fn printouts_are_kept_per_transaction_and_kind() {
        let (_dir, store) = open_temp_store();
        let receipt =
            serde_json::json!({"transaction_id": "K-1", "applicant": {"masked_name": "张*"}});
        store
            .save_printout("K-1", PrintoutKind::Receipt, "zh", &receipt)
            .unwrap();
        assert_eq!(store.printout("K-1", PrintoutKind::Document).unwrap(), None);
        let got = store
            .printout("K-1", PrintoutKind::Receipt)
            .unwrap()
            .unwrap();
        assert_eq!(got.content, receipt);
        assert_eq!(got.language, "zh");
        let again = serde_json::json!({"transaction_id": "K-1", "v": 2});
        store
            .save_printout("K-1", PrintoutKind::Receipt, "en", &again)
            .unwrap();
        let got = store
            .printout("K-1", PrintoutKind::Receipt)
            .unwrap()
            .unwrap();
        assert_eq!((got.language.as_str(), got.content), ("en", again));
        assert_eq!(store.printout("K-2", PrintoutKind::Receipt).unwrap(), None);
    }
}

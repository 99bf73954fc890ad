//! Catalogues the centre published to this kiosk, kept as received (the signed TOML text with
//! its key id and signature) so a restart comes back with the newest one even when the
//! configured catalogue file is older. Only text that was verified and parsed is saved.

use rusqlite::{OptionalExtension, params};

use super::{KioskStore, StoreError, now_rfc3339};

/// A catalogue as the centre signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCatalogue {
    /// Its version.
    pub version: u32,
    /// The catalogue file's text.
    pub text: String,
    /// The signing key's id.
    pub key_id: String,
    /// The signature, as received.
    pub signature: String,
}

impl KioskStore {
    /// Keeps a verified catalogue; the same version again is ignored.
    pub fn save_catalogue(&self, catalogue: &StoredCatalogue) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT INTO catalogues (version, text, key_id, signature, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (version) DO NOTHING",
            params![
                catalogue.version,
                catalogue.text,
                catalogue.key_id,
                catalogue.signature,
                now_rfc3339()
            ],
        )?;
        Ok(())
    }

    /// The newest catalogue received, if any.
    pub fn latest_catalogue(&self) -> Result<Option<StoredCatalogue>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT version, text, key_id, signature FROM catalogues
                 ORDER BY version DESC LIMIT 1",
                [],
                |row| {
                    Ok(StoredCatalogue {
                        version: row.get(0)?,
                        text: row.get(1)?,
                        key_id: row.get(2)?,
                        signature: row.get(3)?,
                    })
                },
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::open_temp_store;

    fn catalogue(version: u32) -> StoredCatalogue {
        StoredCatalogue {
            version,
            text: format!("version = {version}"),
            key_id: "k1".into(),
            signature: "c2ln".into(),
        }
    }

    #[test]
    fn the_newest_catalogue_wins_and_repeats_are_ignored() {
        let (_dir, store) = open_temp_store();
        assert_eq!(store.latest_catalogue().unwrap(), None);
        store.save_catalogue(&catalogue(4)).unwrap();
        store.save_catalogue(&catalogue(6)).unwrap();
        store.save_catalogue(&catalogue(5)).unwrap();
        let mut again = catalogue(6);
        again.text = "changed".into();
        store.save_catalogue(&again).unwrap();
        let latest = store.latest_catalogue().unwrap().unwrap();
        assert_eq!(latest, catalogue(6));
    }
}

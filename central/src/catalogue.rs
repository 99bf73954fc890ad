//! Catalogue management (issue 7 item 4): import, sign, publish, suspend — the rules the admin
//! API and the command line share, on top of [`CentralStorage`].
//!
//! * **Import** checks the text with the kiosk's own parser (`kiosk_core::catalogue::Catalogue::
//!   parse`); a catalogue the kiosk would refuse is refused here with the parser's message, and
//!   nothing is stored. The version number is the catalogue's own `version` and must be above
//!   every stored version. When a signing key is at hand (the service was started with
//!   `--catalogue-key`, or the CLI was given `--key`) the version is signed at import.
//! * **Sign** signs (or re-signs with another key, for rotation) a stored version.
//! * **Publish** makes a *signed* version desired by every kiosk or by one group.
//! * **Suspend** an item everywhere: a new version (latest stored + 1) made from the highest
//!   published version with the item's `[[items]]` entry **removed**, `published_at` set to now,
//!   checked by the parser, signed and published to every kiosk — one action. Kiosks pull it like
//!   any other version; to bring the item back, import a catalogue that has it again.

use crate::clock::ServerTime;
use crate::storage::{
    CataloguePublication, CatalogueRefusal, CatalogueVersion, CatalogueVersionInfo, CentralStorage,
    NewCatalogueVersion, StorageError,
};
use kiosk_core::catalogue::Catalogue;
use kiosk_protocol::catalogue_envelope::{SignedCatalogue, SigningKeyFile};

/// Longest change note.
pub const MAX_NOTE_CHARS: usize = 2000;
/// Longest "who" and group name.
pub const MAX_NAME_CHARS: usize = 64;

/// Why a catalogue action failed.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueActionError {
    /// The request itself is wrong (empty note, bad group name, …).
    #[error("{0}")]
    BadInput(String),
    /// The catalogue text is refused by the kiosk's parser (its message).
    #[error("catalogue refused: {0}")]
    Invalid(String),
    /// The store refused the write.
    #[error("{0}")]
    Refused(#[from] CatalogueRefusal),
    /// No such item in the catalogue suspension starts from.
    #[error("catalogue version {version} has no item {item_code:?}")]
    UnknownItem { version: u32, item_code: String },
    /// Nothing has been published yet (suspension needs a published version to start from).
    #[error("no catalogue version has been published yet")]
    NothingPublished,
    /// Signing is needed but no signing key is configured.
    #[error("no catalogue signing key is configured (start the service with --catalogue-key)")]
    NoSigningKey,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn check_name(what: &str, value: &str) -> Result<(), CatalogueActionError> {
    if value.trim().is_empty() || value.chars().count() > MAX_NAME_CHARS || value.contains('\n') {
        return Err(CatalogueActionError::BadInput(format!(
            "{what} must be 1-{MAX_NAME_CHARS} characters on one line"
        )));
    }
    Ok(())
}

/// A group name: 1–64 of letters, digits, `.`, `_`, `-`.
pub fn check_group(group: &str) -> Result<(), CatalogueActionError> {
    let ok = !group.is_empty()
        && group.len() <= MAX_NAME_CHARS
        && group
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(CatalogueActionError::BadInput(
            "group must be 1-64 characters of letters, digits, '.', '_', '-'".into(),
        ))
    }
}

fn check_note(note: &str) -> Result<(), CatalogueActionError> {
    if note.trim().is_empty() || note.chars().count() > MAX_NOTE_CHARS {
        return Err(CatalogueActionError::BadInput(format!(
            "note (the change log entry) must be 1-{MAX_NOTE_CHARS} characters"
        )));
    }
    Ok(())
}

/// Checks a catalogue text with the kiosk's parser.
pub fn parse_catalogue(text: &str) -> Result<Catalogue, CatalogueActionError> {
    Catalogue::parse(text).map_err(|e| CatalogueActionError::Invalid(e.to_string()))
}

/// Imports a catalogue text as a new version (signed when `signer` is given).
pub fn import(
    store: &dyn CentralStorage,
    text: &str,
    note: &str,
    by: &str,
    signer: Option<&SigningKeyFile>,
    now: &ServerTime,
) -> Result<CatalogueVersionInfo, CatalogueActionError> {
    check_note(note)?;
    check_name("by", by)?;
    let catalogue = parse_catalogue(text)?;
    let signature = match signer {
        Some(signer) => {
            let envelope = signer
                .sign(catalogue.version, &catalogue.published_at, text)
                .map_err(|e| CatalogueActionError::Invalid(e.to_string()))?;
            Some((envelope.key_id, envelope.signature))
        }
        None => None,
    };
    let new = NewCatalogueVersion {
        version: catalogue.version,
        published_at: catalogue.published_at.clone(),
        catalogue: text.to_string(),
        item_count: u32::try_from(catalogue.items.len()).unwrap_or(u32::MAX),
        note: note.trim().to_string(),
        created_by: by.trim().to_string(),
        created_at: now.clone(),
        signature,
    };
    store.insert_catalogue_version(&new)??;
    read_info(store, catalogue.version)
}

fn read_info(
    store: &dyn CentralStorage,
    version: u32,
) -> Result<CatalogueVersionInfo, CatalogueActionError> {
    Ok(store
        .catalogue_version(version)?
        .ok_or(CatalogueRefusal::UnknownVersion(version))?
        .info)
}

/// Signs (or re-signs) a stored version with `signer`.
pub fn sign(
    store: &dyn CentralStorage,
    version: u32,
    signer: &SigningKeyFile,
    now: &ServerTime,
) -> Result<CatalogueVersionInfo, CatalogueActionError> {
    let stored = store
        .catalogue_version(version)?
        .ok_or(CatalogueRefusal::UnknownVersion(version))?;
    let envelope = signer
        .sign(version, &stored.info.published_at, &stored.catalogue)
        .map_err(|e| CatalogueActionError::Invalid(e.to_string()))?;
    store.sign_catalogue_version(version, &envelope.key_id, &envelope.signature, now)??;
    read_info(store, version)
}

/// Publishes a signed version to every kiosk or to one group.
pub fn publish(
    store: &dyn CentralStorage,
    version: u32,
    group: Option<&str>,
    by: &str,
    now: &ServerTime,
) -> Result<CataloguePublication, CatalogueActionError> {
    check_name("by", by)?;
    if let Some(group) = group {
        check_group(group)?;
    }
    Ok(store.publish_catalogue(version, group, by.trim(), now)??)
}

/// The envelope of a stored version; `None` when it is not signed.
pub fn envelope(stored: &CatalogueVersion) -> Option<SignedCatalogue> {
    Some(SignedCatalogue {
        format: kiosk_protocol::catalogue_envelope::ENVELOPE_FORMAT,
        version: stored.info.version,
        published_at: stored.info.published_at.clone(),
        key_id: stored.info.key_id.clone()?,
        signature: stored.info.signature.clone()?,
        catalogue: stored.catalogue.clone(),
    })
}

/// What [`suspend_item`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Suspension {
    pub item_code: String,
    /// The published version the new one was made from.
    pub based_on: u32,
    pub version: CatalogueVersionInfo,
    pub publication: CataloguePublication,
}

/// Removes an item everywhere in one action: a new signed version without it, published to
/// every kiosk (see the module documentation).
pub fn suspend_item(
    store: &dyn CentralStorage,
    item_code: &str,
    note: &str,
    by: &str,
    signer: Option<&SigningKeyFile>,
    now: &ServerTime,
) -> Result<Suspension, CatalogueActionError> {
    check_note(note)?;
    check_name("by", by)?;
    let signer = signer.ok_or(CatalogueActionError::NoSigningKey)?;
    let based_on = store
        .catalogue_publications()?
        .iter()
        .map(|p| p.version)
        .max()
        .ok_or(CatalogueActionError::NothingPublished)?;
    let base = store
        .catalogue_version(based_on)?
        .ok_or(CatalogueRefusal::UnknownVersion(based_on))?;
    let latest = store.latest_catalogue_version()?.unwrap_or(based_on);
    let version = latest
        .checked_add(1)
        .ok_or_else(|| CatalogueActionError::BadInput("catalogue version overflow".into()))?;
    let text =
        without_item(&base.catalogue, item_code, version, &now.rfc3339)?.ok_or_else(|| {
            CatalogueActionError::UnknownItem {
                version: based_on,
                item_code: item_code.to_string(),
            }
        })?;
    let note = format!("suspended item {item_code}: {}", note.trim());
    let info = import(store, &text, &note, by, Some(signer), now)?;
    let publication = publish(store, info.version, None, by, now)?;
    Ok(Suspension {
        item_code: item_code.to_string(),
        based_on,
        version: info,
        publication,
    })
}

/// The catalogue text with the item removed and `version` / `published_at` replaced; `None`
/// when it has no such item. Comments and layout of the rest are kept.
pub fn without_item(
    text: &str,
    item_code: &str,
    version: u32,
    published_at: &str,
) -> Result<Option<String>, CatalogueActionError> {
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| CatalogueActionError::Invalid(e.to_string()))?;
    let Some(items) = doc
        .get_mut("items")
        .and_then(|i| i.as_array_of_tables_mut())
    else {
        return Ok(None);
    };
    let before = items.len();
    items.retain(|t| t.get("code").and_then(|c| c.as_str()) != Some(item_code));
    if items.len() == before {
        return Ok(None);
    }
    doc["version"] = toml_edit::value(i64::from(version));
    doc["published_at"] = toml_edit::value(published_at);
    Ok(Some(doc.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removing_an_item_keeps_a_valid_catalogue() {
        let text = include_str!("../../kiosk-config/catalogue.toml");
        let before = Catalogue::parse(text).unwrap();
        let code = before.items[0].code.clone();
        let after = without_item(text, &code, before.version + 1, "2027-01-01T00:00:00Z")
            .unwrap()
            .unwrap();
        let after = Catalogue::parse(&after).unwrap();
        assert_eq!(after.version, before.version + 1);
        assert_eq!(after.published_at, "2027-01-01T00:00:00Z");
        assert_eq!(after.items.len(), before.items.len() - 1);
        assert!(after.item(&code).is_none());
        assert!(
            without_item(text, "no-such-item", 9, "2027-01-01T00:00:00Z")
                .unwrap()
                .is_none()
        );
    }
}

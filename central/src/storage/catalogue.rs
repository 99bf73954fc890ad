//! Catalogue versions, publications and kiosk groups (issue 7 item 4), written once against the
//! SQL layer both engines implement.
//!
//! * A version is stored once, with its TOML text, change note, who and when; its number only
//!   goes up (a version not above the highest stored is refused). The signature is added at
//!   import or later (`sign`), and may be replaced by one of another key (rotation).
//! * A publication makes a signed version the desired one for every kiosk (`target_group` NULL)
//!   or for one group. A kiosk's **desired version** is the highest version of all publications
//!   that target it (to all, or to its group) — so publishing never takes a kiosk backwards, and a
//!   pilot group ahead of the fleet stays ahead until the fleet catches up.
//! * A kiosk is in at most one group (`kiosk_groups`); a kiosk without a row is in none.

use super::StorageError;
use super::sql::{Sql, SqlRow, vals};
use crate::clock::ServerTime;

/// A catalogue version to store.
#[derive(Debug, Clone)]
pub struct NewCatalogueVersion {
    pub version: u32,
    /// The catalogue's own `published_at`.
    pub published_at: String,
    /// The TOML text, already checked with `kiosk_core::catalogue::Catalogue::parse`.
    pub catalogue: String,
    pub item_count: u32,
    pub note: String,
    pub created_by: String,
    pub created_at: ServerTime,
    /// `(key_id, signature hex)` when signed at import.
    pub signature: Option<(String, String)>,
}

/// A stored version without its text (for the change log).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CatalogueVersionInfo {
    pub version: u32,
    pub published_at: String,
    pub item_count: u32,
    pub note: String,
    pub created_by: String,
    pub created_at: String,
    pub key_id: Option<String>,
    pub signature: Option<String>,
    pub signed_at: Option<String>,
}

/// A stored version with its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueVersion {
    pub info: CatalogueVersionInfo,
    pub catalogue: String,
}

/// One publication.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CataloguePublication {
    pub id: i64,
    pub version: u32,
    /// `None`: every kiosk.
    pub target_group: Option<String>,
    pub published_by: String,
    pub published_at: String,
}

/// Why a catalogue write was refused (the store is unchanged).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueRefusal {
    #[error("catalogue version {version} is not newer than the latest stored version {latest}")]
    NotNewer { version: u32, latest: u32 },
    #[error("there is no catalogue version {0}")]
    UnknownVersion(u32),
    #[error("catalogue version {0} is not signed; sign it before publishing")]
    NotSigned(u32),
}

/// One kiosk's rollout state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutRow {
    pub kiosk_id: String,
    pub group: Option<String>,
    /// What the centre wants it to run; `None` when nothing targets it.
    pub desired: Option<u32>,
    /// What its last heartbeat reported; `None` when never seen.
    pub reported: Option<u32>,
    /// Server time of its last heartbeat.
    pub last_seen: Option<String>,
}

fn to_u32(value: i64) -> Result<u32, StorageError> {
    u32::try_from(value)
        .map_err(|_| StorageError::Corrupt(format!("catalogue version {value} is out of range")))
}

const INFO_COLUMNS: &str = "version, published_at, item_count, note, created_by, created_at, \
                            key_id, signature, signed_at";

fn info_from_row(row: &SqlRow) -> Result<CatalogueVersionInfo, StorageError> {
    Ok(CatalogueVersionInfo {
        version: to_u32(row.int(0)?)?,
        published_at: row.text(1)?,
        item_count: to_u32(row.int(2)?)?,
        note: row.text(3)?,
        created_by: row.text(4)?,
        created_at: row.text(5)?,
        key_id: row.opt_text(6)?,
        signature: row.opt_text(7)?,
        signed_at: row.opt_text(8)?,
    })
}

pub(crate) fn latest_version(sql: &mut dyn Sql) -> Result<Option<u32>, StorageError> {
    let row = sql.query_opt(
        "latest catalogue version",
        "SELECT MAX(version) FROM catalogue_versions",
        &[],
    )?;
    match row {
        Some(row) => row.opt_int(0)?.map(to_u32).transpose(),
        None => Ok(None),
    }
}

pub(crate) fn insert_version(
    sql: &mut dyn Sql,
    new: &NewCatalogueVersion,
) -> Result<Result<(), CatalogueRefusal>, StorageError> {
    if let Some(latest) = latest_version(sql)?
        && new.version <= latest
    {
        return Ok(Err(CatalogueRefusal::NotNewer {
            version: new.version,
            latest,
        }));
    }
    let (key_id, signature, signed_at) = match &new.signature {
        Some((key_id, signature)) => (
            Some(key_id.clone()),
            Some(signature.clone()),
            Some(new.created_at.rfc3339.clone()),
        ),
        None => (None, None, None),
    };
    // Two imports of the same number at once: the primary key keeps one.
    let stored = sql.execute(
        "store catalogue version",
        "INSERT INTO catalogue_versions (version, published_at, catalogue, item_count, note, \
         created_by, created_at, key_id, signature, signed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (version) DO NOTHING",
        vals![
            i64::from(new.version),
            &new.published_at,
            &new.catalogue,
            i64::from(new.item_count),
            &new.note,
            &new.created_by,
            &new.created_at.rfc3339,
            key_id,
            signature,
            signed_at,
        ],
    )?;
    if stored == 0 {
        return Ok(Err(CatalogueRefusal::NotNewer {
            version: new.version,
            latest: new.version,
        }));
    }
    Ok(Ok(()))
}

pub(crate) fn versions(sql: &mut dyn Sql) -> Result<Vec<CatalogueVersionInfo>, StorageError> {
    sql.query(
        "list catalogue versions",
        &format!("SELECT {INFO_COLUMNS} FROM catalogue_versions ORDER BY version DESC"),
        &[],
    )?
    .iter()
    .map(info_from_row)
    .collect()
}

pub(crate) fn version(
    sql: &mut dyn Sql,
    version: u32,
) -> Result<Option<CatalogueVersion>, StorageError> {
    let row = sql.query_opt(
        "read catalogue version",
        &format!("SELECT {INFO_COLUMNS}, catalogue FROM catalogue_versions WHERE version = $1"),
        vals![i64::from(version)],
    )?;
    row.map(|row| {
        Ok(CatalogueVersion {
            info: info_from_row(&row)?,
            catalogue: row.text(9)?,
        })
    })
    .transpose()
}

pub(crate) fn sign_version(
    sql: &mut dyn Sql,
    version: u32,
    key_id: &str,
    signature: &str,
    signed_at: &ServerTime,
) -> Result<Result<(), CatalogueRefusal>, StorageError> {
    let changed = sql.execute(
        "sign catalogue version",
        "UPDATE catalogue_versions SET key_id = $2, signature = $3, signed_at = $4 \
         WHERE version = $1",
        vals![i64::from(version), key_id, signature, &signed_at.rfc3339],
    )?;
    Ok(if changed == 0 {
        Err(CatalogueRefusal::UnknownVersion(version))
    } else {
        Ok(())
    })
}

fn publication_from_row(row: &SqlRow) -> Result<CataloguePublication, StorageError> {
    Ok(CataloguePublication {
        id: row.int(0)?,
        version: to_u32(row.int(1)?)?,
        target_group: row.opt_text(2)?,
        published_by: row.text(3)?,
        published_at: row.text(4)?,
    })
}

pub(crate) fn publish(
    sql: &mut dyn Sql,
    version: u32,
    target_group: Option<&str>,
    by: &str,
    at: &ServerTime,
) -> Result<Result<CataloguePublication, CatalogueRefusal>, StorageError> {
    let Some(row) = sql.query_opt(
        "check catalogue version",
        "SELECT signature FROM catalogue_versions WHERE version = $1",
        vals![i64::from(version)],
    )?
    else {
        return Ok(Err(CatalogueRefusal::UnknownVersion(version)));
    };
    if row.opt_text(0)?.is_none() {
        return Ok(Err(CatalogueRefusal::NotSigned(version)));
    }
    let row = sql
        .query_opt(
            "publish catalogue",
            "INSERT INTO catalogue_publications (version, target_group, published_by, \
             published_at) VALUES ($1, $2, $3, $4) \
             RETURNING id, version, target_group, published_by, published_at",
            vals![i64::from(version), target_group, by, &at.rfc3339],
        )?
        .ok_or_else(|| StorageError::Corrupt("publication insert returned no row".into()))?;
    publication_from_row(&row).map(Ok)
}

pub(crate) fn publications(sql: &mut dyn Sql) -> Result<Vec<CataloguePublication>, StorageError> {
    sql.query(
        "list catalogue publications",
        "SELECT id, version, target_group, published_by, published_at \
         FROM catalogue_publications ORDER BY id DESC",
        &[],
    )?
    .iter()
    .map(publication_from_row)
    .collect()
}

pub(crate) fn desired_version(
    sql: &mut dyn Sql,
    kiosk_id: &str,
) -> Result<Option<u32>, StorageError> {
    let row = sql.query_opt(
        "desired catalogue version",
        "SELECT MAX(version) FROM catalogue_publications \
         WHERE target_group IS NULL \
            OR target_group = (SELECT group_name FROM kiosk_groups WHERE kiosk_id = $1)",
        vals![kiosk_id],
    )?;
    match row {
        Some(row) => row.opt_int(0)?.map(to_u32).transpose(),
        None => Ok(None),
    }
}

/// Whether `version` was published to a target that includes the kiosk.
pub(crate) fn is_published_to(
    sql: &mut dyn Sql,
    kiosk_id: &str,
    version: u32,
) -> Result<bool, StorageError> {
    let row = sql.query_opt(
        "check catalogue publication",
        "SELECT COUNT(*) FROM catalogue_publications \
         WHERE version = $2 AND (target_group IS NULL \
            OR target_group = (SELECT group_name FROM kiosk_groups WHERE kiosk_id = $1))",
        vals![kiosk_id, i64::from(version)],
    )?;
    Ok(match row {
        Some(row) => row.int(0)? > 0,
        None => false,
    })
}

pub(crate) fn set_group(
    sql: &mut dyn Sql,
    kiosk_id: &str,
    group: Option<&str>,
    at: &ServerTime,
) -> Result<(), StorageError> {
    match group {
        Some(group) => sql.execute(
            "set kiosk group",
            "INSERT INTO kiosk_groups (kiosk_id, group_name, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (kiosk_id) DO UPDATE SET group_name = excluded.group_name, \
             updated_at = excluded.updated_at",
            vals![kiosk_id, group, &at.rfc3339],
        )?,
        None => sql.execute(
            "clear kiosk group",
            "DELETE FROM kiosk_groups WHERE kiosk_id = $1",
            vals![kiosk_id],
        )?,
    };
    Ok(())
}

pub(crate) fn groups(sql: &mut dyn Sql) -> Result<Vec<(String, String)>, StorageError> {
    sql.query(
        "list kiosk groups",
        "SELECT kiosk_id, group_name FROM kiosk_groups ORDER BY kiosk_id",
        &[],
    )?
    .iter()
    .map(|row| Ok((row.text(0)?, row.text(1)?)))
    .collect()
}

/// Every kiosk that sent a heartbeat or is in a group, by id.
pub(crate) fn rollout(sql: &mut dyn Sql) -> Result<Vec<RolloutRow>, StorageError> {
    let mut to_all = None;
    let mut per_group = std::collections::BTreeMap::<String, u32>::new();
    for row in sql.query(
        "catalogue targets",
        "SELECT target_group, MAX(version) FROM catalogue_publications GROUP BY target_group",
        &[],
    )? {
        let version = to_u32(row.int(1)?)?;
        match row.opt_text(0)? {
            None => to_all = Some(version),
            Some(group) => {
                per_group.insert(group, version);
            }
        }
    }
    let rows = sql.query(
        "catalogue rollout",
        "SELECT k.kiosk_id, g.group_name, s.catalogue_version, s.last_seen \
         FROM (SELECT kiosk_id FROM kiosk_state UNION SELECT kiosk_id FROM kiosk_groups) k \
         LEFT JOIN kiosk_groups g ON g.kiosk_id = k.kiosk_id \
         LEFT JOIN kiosk_state s ON s.kiosk_id = k.kiosk_id \
         ORDER BY k.kiosk_id",
        &[],
    )?;
    rows.iter()
        .map(|row| {
            let group = row.opt_text(1)?;
            let for_group = group.as_ref().and_then(|g| per_group.get(g).copied());
            Ok(RolloutRow {
                kiosk_id: row.text(0)?,
                desired: to_all.max(for_group),
                group,
                reported: row.opt_int(2)?.map(to_u32).transpose()?,
                last_seen: row.opt_text(3)?,
            })
        })
        .collect()
}

/// What a kiosk outside every table (configured, never seen, in no group) is asked to run.
pub(crate) fn desired_for_all(sql: &mut dyn Sql) -> Result<Option<u32>, StorageError> {
    let row = sql.query_opt(
        "catalogue published to all",
        "SELECT MAX(version) FROM catalogue_publications WHERE target_group IS NULL",
        &[],
    )?;
    match row {
        Some(row) => row.opt_int(0)?.map(to_u32).transpose(),
        None => Ok(None),
    }
}

/// The catalogue methods of [`super::CentralStorage`], the same on every engine.
macro_rules! catalogue_methods {
    () => {
        fn insert_catalogue_version(
            &self,
            new: &$crate::storage::NewCatalogueVersion,
        ) -> Result<Result<(), $crate::storage::CatalogueRefusal>, StorageError> {
            self.with_sql("store catalogue version", |sql| {
                $crate::storage::catalogue::insert_version(sql, new)
            })
        }

        fn latest_catalogue_version(&self) -> Result<Option<u32>, StorageError> {
            self.with_sql(
                "latest catalogue version",
                $crate::storage::catalogue::latest_version,
            )
        }

        fn catalogue_versions(
            &self,
        ) -> Result<Vec<$crate::storage::CatalogueVersionInfo>, StorageError> {
            self.with_sql(
                "list catalogue versions",
                $crate::storage::catalogue::versions,
            )
        }

        fn catalogue_version(
            &self,
            version: u32,
        ) -> Result<Option<$crate::storage::CatalogueVersion>, StorageError> {
            self.with_sql("read catalogue version", |sql| {
                $crate::storage::catalogue::version(sql, version)
            })
        }

        fn sign_catalogue_version(
            &self,
            version: u32,
            key_id: &str,
            signature: &str,
            signed_at: &ServerTime,
        ) -> Result<Result<(), $crate::storage::CatalogueRefusal>, StorageError> {
            self.with_sql("sign catalogue version", |sql| {
                $crate::storage::catalogue::sign_version(sql, version, key_id, signature, signed_at)
            })
        }

        fn publish_catalogue(
            &self,
            version: u32,
            target_group: Option<&str>,
            by: &str,
            at: &ServerTime,
        ) -> Result<
            Result<$crate::storage::CataloguePublication, $crate::storage::CatalogueRefusal>,
            StorageError,
        > {
            self.with_sql("publish catalogue", |sql| {
                $crate::storage::catalogue::publish(sql, version, target_group, by, at)
            })
        }

        fn catalogue_publications(
            &self,
        ) -> Result<Vec<$crate::storage::CataloguePublication>, StorageError> {
            self.with_sql(
                "list catalogue publications",
                $crate::storage::catalogue::publications,
            )
        }

        fn desired_catalogue_version(&self, kiosk_id: &str) -> Result<Option<u32>, StorageError> {
            self.with_sql("desired catalogue version", |sql| {
                $crate::storage::catalogue::desired_version(sql, kiosk_id)
            })
        }

        fn catalogue_published_to(
            &self,
            kiosk_id: &str,
            version: u32,
        ) -> Result<bool, StorageError> {
            self.with_sql("check catalogue publication", |sql| {
                $crate::storage::catalogue::is_published_to(sql, kiosk_id, version)
            })
        }

        fn set_kiosk_group(
            &self,
            kiosk_id: &str,
            group: Option<&str>,
            at: &ServerTime,
        ) -> Result<(), StorageError> {
            self.with_sql("set kiosk group", |sql| {
                $crate::storage::catalogue::set_group(sql, kiosk_id, group, at)
            })
        }

        fn kiosk_groups(&self) -> Result<Vec<(String, String)>, StorageError> {
            self.with_sql("list kiosk groups", $crate::storage::catalogue::groups)
        }

        fn catalogue_rollout(
            &self,
        ) -> Result<(Vec<$crate::storage::RolloutRow>, Option<u32>), StorageError> {
            self.with_sql("catalogue rollout", |sql| {
                Ok((
                    $crate::storage::catalogue::rollout(sql)?,
                    $crate::storage::catalogue::desired_for_all(sql)?,
                ))
            })
        }
    };
}
pub(crate) use catalogue_methods;

//! Kiosk identity (issue 7 item 1), written once against the SQL layer both engines implement:
//! one-time enrolment codes, the kiosks' public keys (with revocation) and the nonces of signed
//! requests seen within the replay window.
//!
//! * A code is stored only as the SHA-256 of its normalised text, bound to one kiosk id, with an
//!   expiry; enrolling consumes it with one `UPDATE … WHERE used_at IS NULL`, so two kiosks racing
//!   with the same code cannot both succeed (on either engine).
//! * Enrolling stores (or replaces) the kiosk's public key and clears a revocation: re-enrolment
//!   after revocation is "make a new code, enrol again". Revoking also consumes the kiosk's
//!   outstanding codes, so a code handed out before the revocation cannot bring it back.
//! * Every engine says how it caches keys (`cached_key`, `forget_key`) and announces a change
//!   inside the changing transaction (`announce_key_change`): SQLite reads the key every time
//!   (a local file, one process); PostgreSQL keeps keys in memory and tells every instance
//!   (`postgres/key_cache.rs`).
//! * A nonce is remembered per kiosk with the time it was seen; one `INSERT … ON CONFLICT DO
//!   UPDATE … WHERE` says whether it is new within the window. A task forgets nonces older than
//!   the window every second, a bounded batch at a time. On PostgreSQL the nonce is committed asynchronously (a nonce lost
//!   in a crash belongs to a request whose timestamp expires within the window anyway).

use super::StorageError;
use super::sql::{Sql, SqlRow, vals};
use crate::clock::ServerTime;

/// A kiosk's enrolled key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KioskKeyRecord {
    pub kiosk_id: String,
    /// Ed25519 public key, 64 hex.
    pub public_key: String,
    pub enrolled_at: String,
    /// `None`: in service.
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
}

/// Why an enrolment was refused (the store is unchanged).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrolRefusal {
    /// No such code, or a code made for another kiosk.
    #[error("enrolment code is not valid for this kiosk")]
    UnknownCode,
    #[error("enrolment code has expired")]
    Expired,
    #[error("enrolment code has already been used")]
    AlreadyUsed,
}

const KEY_COLUMNS: &str = "kiosk_id, public_key, enrolled_at, revoked_at, revoked_by";

fn key_from_row(row: &SqlRow) -> Result<KioskKeyRecord, StorageError> {
    Ok(KioskKeyRecord {
        kiosk_id: row.text(0)?,
        public_key: row.text(1)?,
        enrolled_at: row.text(2)?,
        revoked_at: row.opt_text(3)?,
        revoked_by: row.opt_text(4)?,
    })
}

pub(crate) fn create_code(
    sql: &mut dyn Sql,
    kiosk_id: &str,
    code_hash: &str,
    by: &str,
    at: &ServerTime,
    expires_unix_ms: i64,
) -> Result<(), StorageError> {
    sql.execute(
        "store enrolment code",
        "INSERT INTO enrolment_codes (code_hash, kiosk_id, created_by, created_at, expires_unix_ms)
         VALUES ($1, $2, $3, $4, $5)",
        vals![code_hash, kiosk_id, by, &at.rfc3339, expires_unix_ms],
    )?;
    Ok(())
}

pub(crate) fn enrol(
    sql: &mut dyn Sql,
    kiosk_id: &str,
    code_hash: &str,
    public_key: &str,
    at: &ServerTime,
) -> Result<Result<KioskKeyRecord, EnrolRefusal>, StorageError> {
    let Some(row) = sql.query_opt(
        "read enrolment code",
        "SELECT kiosk_id, expires_unix_ms, used_at FROM enrolment_codes WHERE code_hash = $1",
        vals![code_hash],
    )?
    else {
        return Ok(Err(EnrolRefusal::UnknownCode));
    };
    if row.text(0)? != kiosk_id {
        return Ok(Err(EnrolRefusal::UnknownCode));
    }
    if row.opt_text(2)?.is_some() {
        return Ok(Err(EnrolRefusal::AlreadyUsed));
    }
    if row.int(1)? <= at.unix_ms {
        return Ok(Err(EnrolRefusal::Expired));
    }
    let consumed = sql.execute(
        "consume enrolment code",
        "UPDATE enrolment_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL",
        vals![&at.rfc3339, code_hash],
    )?;
    if consumed != 1 {
        return Ok(Err(EnrolRefusal::AlreadyUsed));
    }
    sql.execute(
        "store kiosk key",
        "INSERT INTO kiosk_keys (kiosk_id, public_key, enrolled_at, revoked_at, revoked_by)
         VALUES ($1, $2, $3, NULL, NULL)
         ON CONFLICT (kiosk_id) DO UPDATE SET public_key = excluded.public_key,
             enrolled_at = excluded.enrolled_at, revoked_at = NULL, revoked_by = NULL",
        vals![kiosk_id, public_key, &at.rfc3339],
    )?;
    // Another request may not forget nonces of the old key's requests: they stay, harmlessly.
    Ok(Ok(KioskKeyRecord {
        kiosk_id: kiosk_id.to_string(),
        public_key: public_key.to_string(),
        enrolled_at: at.rfc3339.clone(),
        revoked_at: None,
        revoked_by: None,
    }))
}

pub(crate) fn kiosk_key(
    sql: &mut dyn Sql,
    kiosk_id: &str,
) -> Result<Option<KioskKeyRecord>, StorageError> {
    sql.query_opt(
        "read kiosk key",
        &format!("SELECT {KEY_COLUMNS} FROM kiosk_keys WHERE kiosk_id = $1"),
        vals![kiosk_id],
    )?
    .as_ref()
    .map(key_from_row)
    .transpose()
}

pub(crate) fn kiosk_keys(sql: &mut dyn Sql) -> Result<Vec<KioskKeyRecord>, StorageError> {
    sql.query(
        "list kiosk keys",
        &format!("SELECT {KEY_COLUMNS} FROM kiosk_keys ORDER BY kiosk_id"),
        &[],
    )?
    .iter()
    .map(key_from_row)
    .collect()
}

/// Revokes the kiosk's key (kept revoked when it already was) and consumes its outstanding
/// codes; `None` when the kiosk never enrolled.
pub(crate) fn revoke(
    sql: &mut dyn Sql,
    kiosk_id: &str,
    by: &str,
    at: &ServerTime,
) -> Result<Option<KioskKeyRecord>, StorageError> {
    if kiosk_key(sql, kiosk_id)?.is_none() {
        return Ok(None);
    }
    sql.execute(
        "revoke kiosk key",
        "UPDATE kiosk_keys SET revoked_at = $1, revoked_by = $2
         WHERE kiosk_id = $3 AND revoked_at IS NULL",
        vals![&at.rfc3339, by, kiosk_id],
    )?;
    sql.execute(
        "consume codes of a revoked kiosk",
        "UPDATE enrolment_codes SET used_at = $1 WHERE kiosk_id = $2 AND used_at IS NULL",
        vals![&at.rfc3339, kiosk_id],
    )?;
    kiosk_key(sql, kiosk_id)
}

/// Remembers a nonce; `false` when the kiosk already used it within the window. One statement:
/// a nonce not seen, or last seen before the window, is (re)stamped with `now`; one seen within
/// the window changes nothing. A periodic task forgets old nonces ([`prune_nonces`]).
pub(crate) fn remember_nonce(
    sql: &mut dyn Sql,
    kiosk_id: &str,
    nonce: &str,
    now_unix_ms: i64,
    keep_ms: i64,
) -> Result<bool, StorageError> {
    let stamped = sql.execute(
        "remember request nonce",
        "INSERT INTO request_nonces (kiosk_id, nonce, seen_unix_ms) VALUES ($1, $2, $3)
         ON CONFLICT (kiosk_id, nonce) DO UPDATE SET seen_unix_ms = excluded.seen_unix_ms
         WHERE request_nonces.seen_unix_ms < $4",
        vals![kiosk_id, nonce, now_unix_ms, now_unix_ms - keep_ms],
    )?;
    Ok(stamped == 1)
}

/// Drops every kiosk's nonces older than the window (the sweep); how many. One statement,
/// committed asynchronously on PostgreSQL like the nonces themselves: its many deleted rows'
/// WAL then never holds up the durable commits of outbox batches.
pub(crate) fn prune_nonces(
    sql: &mut dyn Sql,
    before_unix_ms: i64,
    limit: u64,
) -> Result<u64, StorageError> {
    sql.execute(
        "prune request nonces",
        "DELETE FROM request_nonces WHERE (kiosk_id, nonce) IN (
             SELECT kiosk_id, nonce FROM request_nonces WHERE seen_unix_ms < $1
              ORDER BY seen_unix_ms LIMIT $2)",
        vals![before_unix_ms, i64::try_from(limit).unwrap_or(i64::MAX)],
    )
}

/// The identity methods of [`super::CentralStorage`], the same on every engine.
macro_rules! identity_methods {
    () => {
        fn create_enrolment_code(
            &self,
            kiosk_id: &str,
            code_hash: &str,
            by: &str,
            at: &ServerTime,
            expires_unix_ms: i64,
        ) -> Result<(), StorageError> {
            self.with_sql("store enrolment code", |sql| {
                $crate::storage::identity::create_code(
                    sql,
                    kiosk_id,
                    code_hash,
                    by,
                    at,
                    expires_unix_ms,
                )
            })
        }

        fn enrol_kiosk(
            &self,
            kiosk_id: &str,
            code_hash: &str,
            public_key: &str,
            at: &ServerTime,
        ) -> Result<
            Result<$crate::storage::KioskKeyRecord, $crate::storage::EnrolRefusal>,
            StorageError,
        > {
            let enrolled = self.with_sql("enrol kiosk", |sql| {
                let enrolled =
                    $crate::storage::identity::enrol(sql, kiosk_id, code_hash, public_key, at)?;
                Self::announce_key_change(sql, kiosk_id)?;
                Ok(enrolled)
            });
            self.forget_key(kiosk_id);
            enrolled
        }

        fn kiosk_key(
            &self,
            kiosk_id: &str,
        ) -> Result<Option<$crate::storage::KioskKeyRecord>, StorageError> {
            self.cached_key(kiosk_id, || {
                self.with_statement("read kiosk key", |sql| {
                    $crate::storage::identity::kiosk_key(sql, kiosk_id)
                })
            })
        }

        fn kiosk_keys(&self) -> Result<Vec<$crate::storage::KioskKeyRecord>, StorageError> {
            self.with_sql("list kiosk keys", $crate::storage::identity::kiosk_keys)
        }

        fn revoke_kiosk(
            &self,
            kiosk_id: &str,
            by: &str,
            at: &ServerTime,
        ) -> Result<Option<$crate::storage::KioskKeyRecord>, StorageError> {
            let revoked = self.with_sql("revoke kiosk", |sql| {
                let revoked = $crate::storage::identity::revoke(sql, kiosk_id, by, at)?;
                Self::announce_key_change(sql, kiosk_id)?;
                Ok(revoked)
            });
            self.forget_key(kiosk_id);
            revoked
        }

        fn remember_nonce(
            &self,
            kiosk_id: &str,
            nonce: &str,
            now_unix_ms: i64,
            keep_ms: i64,
        ) -> Result<bool, StorageError> {
            self.with_relaxed_statement("remember request nonce", |sql| {
                $crate::storage::identity::remember_nonce(
                    sql,
                    kiosk_id,
                    nonce,
                    now_unix_ms,
                    keep_ms,
                )
            })
        }

        fn prune_nonces(&self, before_unix_ms: i64, limit: u64) -> Result<u64, StorageError> {
            self.with_relaxed_statement("prune request nonces", |sql| {
                $crate::storage::identity::prune_nonces(sql, before_unix_ms, limit)
            })
        }
    };
}
pub(crate) use identity_methods;

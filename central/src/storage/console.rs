//! Console users, their sessions and the audit log (issue 7 item 10), written once against the
//! SQL layer both engines implement.
//!
//! * A user has an Argon2id password hash (made by [`crate::users`]), a role and may be
//!   disabled; disabling a user or changing their password or role ends their sessions.
//! * A session row holds only the SHA-256 of the cookie's random token, an absolute expiry and
//!   the time it was last used (for the idle limit); a session of a disabled user is not found.
//! * The audit log is append-only: who, when, what, on what, a short detail.

use super::StorageError;
use super::sql::{Sql, SqlRow, Val, vals};
use crate::clock::ServerTime;
use serde::Serialize;

/// What a console user may do; each role may do everything the ones below it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads every page.
    Viewer,
    /// Also acknowledges and escalates alarms, works tickets, edits, signs, publishes and
    /// suspends catalogue items, sets kiosk groups.
    Operator,
    /// Also manages users and kiosk enrolment (codes, revocation).
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// The Chinese label shown in the console.
    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "只读",
            Role::Operator => "运维",
            Role::Admin => "管理员",
        }
    }
}

/// A console user as stored (with the hash: only [`crate::users`] looks at it).
#[derive(Clone, PartialEq, Eq)]
pub struct ConsoleUser {
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub disabled_at: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

impl std::fmt::Debug for ConsoleUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleUser")
            .field("username", &self.username)
            .field("role", &self.role)
            .field("disabled_at", &self.disabled_at)
            .finish_non_exhaustive()
    }
}

impl ConsoleUser {
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
}

/// A change to a user; `None` fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChange {
    pub role: Option<Role>,
    /// `Some(true)`: disable; `Some(false)`: enable again.
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// 0 for an entry not yet stored.
    pub id: i64,
    pub at: String,
    /// A console user name, `admin-token` (admin API) or the name given to the CLI.
    pub actor: String,
    /// `console`, `api` or `cli`.
    pub source: String,
    /// Dotted, e.g. `catalogue.publish`, `alarm.acknowledge`, `user.add`.
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
}

/// Which audit entries to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only entries with a smaller id (paging backwards); `None`: the newest.
    pub before_id: Option<i64>,
    pub actor: Option<String>,
    /// Entries whose action starts with this, e.g. `catalogue.`.
    pub action_prefix: Option<String>,
    /// At most this many (capped at 500).
    pub limit: u32,
}

const USER_COLUMNS: &str =
    "username, password_hash, role, disabled_at, created_by, created_at, updated_at";

fn user_from_row(row: &SqlRow) -> Result<ConsoleUser, StorageError> {
    let role = row.text(2)?;
    Ok(ConsoleUser {
        username: row.text(0)?,
        password_hash: row.text(1)?,
        role: Role::parse(&role)
            .ok_or_else(|| StorageError::Corrupt(format!("console_users.role {role:?}")))?,
        disabled_at: row.opt_text(3)?,
        created_by: row.text(4)?,
        created_at: row.text(5)?,
        updated_at: row.text(6)?,
    })
}

/// Stores a new user; `false` (nothing stored) when the name is taken.
pub(crate) fn create_user(sql: &mut dyn Sql, user: &ConsoleUser) -> Result<bool, StorageError> {
    let inserted = sql.execute(
        "add console user",
        "INSERT INTO console_users (username, password_hash, role, disabled_at, created_by,
                                    created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (username) DO NOTHING",
        vals![
            &user.username,
            &user.password_hash,
            user.role.as_str(),
            user.disabled_at.clone(),
            &user.created_by,
            &user.created_at,
            &user.updated_at
        ],
    )?;
    Ok(inserted == 1)
}

pub(crate) fn user(sql: &mut dyn Sql, username: &str) -> Result<Option<ConsoleUser>, StorageError> {
    sql.query_opt(
        "read console user",
        &format!("SELECT {USER_COLUMNS} FROM console_users WHERE username = $1"),
        vals![username],
    )?
    .as_ref()
    .map(user_from_row)
    .transpose()
}

pub(crate) fn users(sql: &mut dyn Sql) -> Result<Vec<ConsoleUser>, StorageError> {
    sql.query(
        "list console users",
        &format!("SELECT {USER_COLUMNS} FROM console_users ORDER BY username"),
        &[],
    )?
    .iter()
    .map(user_from_row)
    .collect()
}

/// Applies a change; ends the user's sessions when the role, password or disabled state
/// changed. `None` when there is no such user.
pub(crate) fn update_user(
    sql: &mut dyn Sql,
    username: &str,
    change: &UserChange,
    at: &ServerTime,
) -> Result<Option<ConsoleUser>, StorageError> {
    let Some(before) = user(sql, username)? else {
        return Ok(None);
    };
    let role = change.role.unwrap_or(before.role);
    let disabled_at = match change.disabled {
        None => before.disabled_at.clone(),
        Some(true) => before
            .disabled_at
            .clone()
            .or_else(|| Some(at.rfc3339.clone())),
        Some(false) => None,
    };
    let password_hash = change
        .password_hash
        .clone()
        .unwrap_or_else(|| before.password_hash.clone());
    sql.execute(
        "update console user",
        "UPDATE console_users SET role = $1, disabled_at = $2, password_hash = $3,
                                  updated_at = $4
          WHERE username = $5",
        vals![
            role.as_str(),
            disabled_at.clone(),
            &password_hash,
            &at.rfc3339,
            username
        ],
    )?;
    let after = user(sql, username)?;
    if let Some(after) = &after
        && (after.role != before.role
            || after.disabled_at != before.disabled_at
            || after.password_hash != before.password_hash)
    {
        sql.execute(
            "end sessions of a changed user",
            "DELETE FROM console_sessions WHERE username = $1",
            vals![username],
        )?;
    }
    Ok(after)
}

pub(crate) fn create_session(
    sql: &mut dyn Sql,
    token_hash: &str,
    username: &str,
    at: &ServerTime,
    expires_unix_ms: i64,
) -> Result<(), StorageError> {
    sql.execute(
        "start console session",
        "INSERT INTO console_sessions (token_hash, username, created_at, expires_unix_ms,
                                       last_seen_unix_ms)
         VALUES ($1, $2, $3, $4, $5)",
        vals![
            token_hash,
            username,
            &at.rfc3339,
            expires_unix_ms,
            at.unix_ms
        ],
    )?;
    Ok(())
}

/// The user of a live session: not expired, used within `idle_ms`, user not disabled. Marks
/// the session used when it was last marked more than a minute ago.
pub(crate) fn session_user(
    sql: &mut dyn Sql,
    token_hash: &str,
    now_unix_ms: i64,
    idle_ms: i64,
) -> Result<Option<ConsoleUser>, StorageError> {
    let columns = USER_COLUMNS
        .split(", ")
        .map(|c| format!("u.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let Some(row) = sql.query_opt(
        "read console session",
        &format!(
            "SELECT {columns}, s.last_seen_unix_ms FROM console_sessions s
               JOIN console_users u ON u.username = s.username
              WHERE s.token_hash = $1 AND s.expires_unix_ms > $2
                AND s.last_seen_unix_ms > $3 AND u.disabled_at IS NULL"
        ),
        vals![token_hash, now_unix_ms, now_unix_ms - idle_ms],
    )?
    else {
        return Ok(None);
    };
    if row.int(7)? < now_unix_ms - 60_000 {
        sql.execute(
            "mark console session used",
            "UPDATE console_sessions SET last_seen_unix_ms = $1 WHERE token_hash = $2",
            vals![now_unix_ms, token_hash],
        )?;
    }
    user_from_row(&row).map(Some)
}

pub(crate) fn delete_session(sql: &mut dyn Sql, token_hash: &str) -> Result<bool, StorageError> {
    Ok(sql.execute(
        "end console session",
        "DELETE FROM console_sessions WHERE token_hash = $1",
        vals![token_hash],
    )? == 1)
}

/// Deletes sessions past their expiry or idle limit; how many.
pub(crate) fn prune_sessions(
    sql: &mut dyn Sql,
    now_unix_ms: i64,
    idle_ms: i64,
) -> Result<u64, StorageError> {
    sql.execute(
        "prune console sessions",
        "DELETE FROM console_sessions WHERE expires_unix_ms <= $1 OR last_seen_unix_ms <= $2",
        vals![now_unix_ms, now_unix_ms - idle_ms],
    )
}

/// Appends an entry; its id.
pub(crate) fn append_audit(
    sql: &mut dyn Sql,
    entry: &AuditEntry,
    at: &ServerTime,
) -> Result<i64, StorageError> {
    let row = sql
        .query_opt(
            "append audit entry",
            "INSERT INTO audit_log (at, at_unix_ms, actor, source, action, target, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            vals![
                &at.rfc3339,
                at.unix_ms,
                &entry.actor,
                &entry.source,
                &entry.action,
                entry.target.clone(),
                entry.detail.clone()
            ],
        )?
        .ok_or_else(|| StorageError::Corrupt("audit insert returned no id".into()))?;
    row.int(0)
}

/// Entries, newest first.
pub(crate) fn audit_log(
    sql: &mut dyn Sql,
    query: &AuditQuery,
) -> Result<Vec<AuditEntry>, StorageError> {
    let mut conditions = vec!["1 = 1".to_string()];
    let mut params: Vec<Val> = Vec::new();
    if let Some(before) = query.before_id {
        params.push(Val::from(before));
        conditions.push(format!("id < ${}", params.len()));
    }
    if let Some(actor) = &query.actor {
        params.push(Val::from(actor));
        conditions.push(format!("actor = ${}", params.len()));
    }
    if let Some(prefix) = &query.action_prefix {
        // Compared with substr, not LIKE: no wildcard escaping to get wrong.
        params.push(Val::from(prefix));
        let n = params.len();
        conditions.push(format!("substr(action, 1, length(${n})) = ${n}"));
    }
    let limit = i64::from(query.limit.clamp(1, 500));
    sql.query(
        "read audit log",
        &format!(
            "SELECT id, at, actor, source, action, target, detail FROM audit_log
              WHERE {} ORDER BY id DESC LIMIT {limit}",
            conditions.join(" AND ")
        ),
        &params,
    )?
    .iter()
    .map(|row| {
        Ok(AuditEntry {
            id: row.int(0)?,
            at: row.text(1)?,
            actor: row.text(2)?,
            source: row.text(3)?,
            action: row.text(4)?,
            target: row.opt_text(5)?,
            detail: row.opt_text(6)?,
        })
    })
    .collect()
}

/// The console methods of [`super::CentralStorage`], the same on every engine.
macro_rules! console_methods {
    () => {
        fn create_console_user(
            &self,
            user: &$crate::storage::ConsoleUser,
        ) -> Result<bool, StorageError> {
            self.with_sql("add console user", |sql| {
                $crate::storage::console::create_user(sql, user)
            })
        }

        fn console_user(
            &self,
            username: &str,
        ) -> Result<Option<$crate::storage::ConsoleUser>, StorageError> {
            self.with_sql("read console user", |sql| {
                $crate::storage::console::user(sql, username)
            })
        }

        fn console_users(&self) -> Result<Vec<$crate::storage::ConsoleUser>, StorageError> {
            self.with_sql("list console users", $crate::storage::console::users)
        }

        fn update_console_user(
            &self,
            username: &str,
            change: &$crate::storage::UserChange,
            at: &ServerTime,
        ) -> Result<Option<$crate::storage::ConsoleUser>, StorageError> {
            self.with_sql("update console user", |sql| {
                $crate::storage::console::update_user(sql, username, change, at)
            })
        }

        fn create_console_session(
            &self,
            token_hash: &str,
            username: &str,
            at: &ServerTime,
            expires_unix_ms: i64,
        ) -> Result<(), StorageError> {
            self.with_sql("start console session", |sql| {
                $crate::storage::console::create_session(
                    sql,
                    token_hash,
                    username,
                    at,
                    expires_unix_ms,
                )
            })
        }

        fn console_session_user(
            &self,
            token_hash: &str,
            now_unix_ms: i64,
            idle_ms: i64,
        ) -> Result<Option<$crate::storage::ConsoleUser>, StorageError> {
            self.with_sql("read console session", |sql| {
                $crate::storage::console::session_user(sql, token_hash, now_unix_ms, idle_ms)
            })
        }

        fn delete_console_session(&self, token_hash: &str) -> Result<bool, StorageError> {
            self.with_sql("end console session", |sql| {
                $crate::storage::console::delete_session(sql, token_hash)
            })
        }

        fn prune_console_sessions(
            &self,
            now_unix_ms: i64,
            idle_ms: i64,
        ) -> Result<u64, StorageError> {
            self.with_sql("prune console sessions", |sql| {
                $crate::storage::console::prune_sessions(sql, now_unix_ms, idle_ms)
            })
        }

        fn append_audit(
            &self,
            entry: &$crate::storage::AuditEntry,
            at: &ServerTime,
        ) -> Result<i64, StorageError> {
            self.with_sql("append audit entry", |sql| {
                $crate::storage::console::append_audit(sql, entry, at)
            })
        }

        fn audit_log(
            &self,
            query: &$crate::storage::AuditQuery,
        ) -> Result<Vec<$crate::storage::AuditEntry>, StorageError> {
            self.with_sql("read audit log", |sql| {
                $crate::storage::console::audit_log(sql, query)
            })
        }

        fn escalate_alarm(
            &self,
            id: i64,
            now: &ServerTime,
        ) -> Result<$crate::storage::Escalation, StorageError> {
            self.with_sql("escalate alarm", |sql| {
                $crate::storage::fleet::escalate_alarm(sql, id, now)
            })
        }
    };
}
pub(crate) use console_methods;

//! Console users (issue 7 item 10): names, Argon2id password hashes, roles, disabling — the
//! rules the console's users page and the `kiosk-central user …` command line share. Storage
//! is in `storage::console`.
//!
//! Passwords are hashed with Argon2id (the `argon2` crate's default cost: 19 MiB, 2 passes,
//! 1 lane) and a random salt, kept as a PHC string. A login for a name that does not exist (or
//! a disabled user) still runs one Argon2 verification, so the answer takes as long either way.

use crate::clock::ServerTime;
use crate::storage::{AuditEntry, CentralStorage};
use crate::storage::{ConsoleUser, Role, StorageError, UserChange};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::sync::OnceLock;

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted (bounds the work one login costs).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Why a user action was refused.
#[derive(Debug, thiserror::Error)]
pub enum UserActionError {
    #[error("{0}")]
    Invalid(String),
    #[error("user {0} already exists")]
    Exists(String),
    #[error("no user {0}")]
    NotFound(String),
    #[error("password hashing failed")]
    Hashing,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A user name: 1–32 of lower-case letters, digits, `.`, `_`, `-`, starting with a letter.
pub fn check_username(name: &str) -> Result<(), UserActionError> {
    let ok = (1..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(UserActionError::Invalid(
            "user name: 1-32 lower-case letters, digits, '.', '_' or '-', starting with a letter"
                .into(),
        ))
    }
}

/// A password: 10–256 characters, not only spaces.
pub fn check_password(password: &str) -> Result<(), UserActionError> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) || password.trim().is_empty() {
        return Err(UserActionError::Invalid(format!(
            "password must be {MIN_PASSWORD_CHARS}-{MAX_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

/// Parses a role name (`admin`, `operator`, `viewer`).
pub fn parse_role(text: &str) -> Result<Role, UserActionError> {
    Role::parse(text.trim())
        .ok_or_else(|| UserActionError::Invalid("role must be admin, operator or viewer".into()))
}

/// An Argon2id PHC string of `password` with a random salt.
pub fn hash_password(password: &str) -> Result<String, UserActionError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|_| UserActionError::Hashing)
}

/// Whether `password` matches the PHC string (false for a malformed one).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// A hash nobody's password matches, verified against when there is no such user so that
/// the time taken does not tell.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let mut secret = [0u8; 24];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
        hash_password(&hex::encode(secret)).unwrap_or_default()
    })
}

/// The user whose name and password these are, when enabled; `None` for every other case
/// (unknown name, wrong password, disabled), which callers must not tell apart.
pub fn authenticate(
    store: &dyn CentralStorage,
    username: &str,
    password: &str,
) -> Result<Option<ConsoleUser>, StorageError> {
    let user = if check_username(username).is_ok() {
        store.console_user(username)?
    } else {
        None
    };
    let too_long = password.chars().count() > MAX_PASSWORD_CHARS;
    let hash = match &user {
        Some(user) if !too_long => user.password_hash.as_str(),
        _ => decoy_hash(),
    };
    let matches = verify_password(if too_long { "" } else { password }, hash);
    Ok(user.filter(|u| matches && !too_long && !u.is_disabled()))
}

/// Who did something, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    /// `console`, `api` or `cli`.
    pub source: &'static str,
}

impl Actor {
    pub fn console(name: &str) -> Self {
        Self {
            name: name.to_string(),
            source: "console",
        }
    }

    /// The admin API's bearer token (one shared token: no person's name).
    pub fn admin_token() -> Self {
        Self {
            name: "admin-token".into(),
            source: "api",
        }
    }

    pub fn cli(name: &str) -> Self {
        Self {
            name: name.to_string(),
            source: "cli",
        }
    }
}

/// Appends an audit entry. The change it records is already committed: a failure here is
/// logged (loudly) and returned.
pub fn record(
    store: &dyn CentralStorage,
    actor: &Actor,
    action: &str,
    target: Option<String>,
    detail: Option<String>,
) -> Result<(), StorageError> {
    let entry = AuditEntry {
        id: 0,
        at: String::new(),
        actor: actor.name.clone(),
        source: actor.source.to_string(),
        action: action.to_string(),
        target,
        detail: detail.map(|d| d.chars().take(500).collect()),
    };
    store
        .append_audit(&entry, &ServerTime::now())
        .map(|_| ())
        .inspect_err(|error| {
            tracing::error!(%error, action, actor = %actor.name, "audit entry NOT written");
        })
}

/// Adds a user (enabled).
pub fn add_user(
    store: &dyn CentralStorage,
    username: &str,
    role: Role,
    password: &str,
    actor: &Actor,
) -> Result<ConsoleUser, UserActionError> {
    check_username(username)?;
    check_password(password)?;
    let now = ServerTime::now();
    let user = ConsoleUser {
        username: username.to_string(),
        password_hash: hash_password(password)?,
        role,
        disabled_at: None,
        created_by: actor.name.clone(),
        created_at: now.rfc3339.clone(),
        updated_at: now.rfc3339,
    };
    if !store.create_console_user(&user)? {
        return Err(UserActionError::Exists(username.to_string()));
    }
    record(
        store,
        actor,
        "user.add",
        Some(username.to_string()),
        Some(format!("role {}", role.as_str())),
    )?;
    Ok(user)
}

/// Changes a user; records what changed (never the password itself).
pub fn change_user(
    store: &dyn CentralStorage,
    username: &str,
    change: UserChange,
    actor: &Actor,
) -> Result<ConsoleUser, UserActionError> {
    let user = store
        .update_console_user(username, &change, &ServerTime::now())?
        .ok_or_else(|| UserActionError::NotFound(username.to_string()))?;
    let (action, detail) = match (&change.role, change.disabled, &change.password_hash) {
        (Some(role), _, _) => ("user.role", Some(format!("role {}", role.as_str()))),
        (_, Some(true), _) => ("user.disable", None),
        (_, Some(false), _) => ("user.enable", None),
        (_, _, Some(_)) => ("user.password", Some("password changed".to_string())),
        _ => ("user.update", None),
    };
    record(store, actor, action, Some(username.to_string()), detail)?;
    Ok(user)
}

/// Sets a new password (checked and hashed here).
pub fn set_password(
    store: &dyn CentralStorage,
    username: &str,
    password: &str,
    actor: &Actor,
) -> Result<ConsoleUser, UserActionError> {
    check_password(password)?;
    change_user(
        store,
        username,
        UserChange {
            password_hash: Some(hash_password(password)?),
            ..UserChange::default()
        },
        actor,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_passwords() {
        assert!(check_username("ops.li-2").is_ok());
        for bad in ["", "Admin", "1abc", "a b", "张三", &"a".repeat(33)] {
            assert!(check_username(bad).is_err(), "{bad:?}");
        }
        assert!(check_password("long enough pw").is_ok());
        assert!(check_password("short").is_err());
        assert!(check_password(&" ".repeat(12)).is_err());
    }

    #[test]
    fn hashes_are_salted_argon2id_and_verify() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b);
        assert!(verify_password("correct horse battery", &a));
        assert!(!verify_password("correct horse batterY", &a));
        assert!(!verify_password("x", "not a hash"));
    }
}

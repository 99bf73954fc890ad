//! `kiosk-central user …`: console users on the store directly — add (password from stdin or a
//! file, never from the command line), list, disable, enable, set a password (issue 7 item 10).

use crate::cli_catalogue::{Fail, StoreArgs, exit_code, open};
use clap::Subcommand;
use kiosk_central::storage::UserChange;
use kiosk_central::users::{self, Actor, UserActionError};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a console user. The password is read from --password-file, or else from standard
    /// input (first line).
    Add {
        /// User name: 1-32 lower-case letters, digits, '.', '_', '-', starting with a letter.
        name: String,
        /// admin (also users and kiosk enrolment), operator (alarms, tickets, catalogue) or
        /// viewer (reads).
        #[arg(long, value_name = "ROLE")]
        role: String,
        /// A file whose first line is the password.
        #[arg(long, value_name = "PATH")]
        password_file: Option<PathBuf>,
        /// Who adds the user (for the audit log).
        #[arg(long, value_name = "NAME", default_value = "cli")]
        by: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List console users: name, role, active/disabled, created at.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Disable a user: their sessions end and they cannot log in.
    Disable {
        name: String,
        #[arg(long, value_name = "NAME", default_value = "cli")]
        by: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Enable a disabled user again.
    Enable {
        name: String,
        #[arg(long, value_name = "NAME", default_value = "cli")]
        by: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Set a user's password (from --password-file or standard input); ends their sessions.
    Password {
        name: String,
        #[arg(long, value_name = "PATH")]
        password_file: Option<PathBuf>,
        #[arg(long, value_name = "NAME", default_value = "cli")]
        by: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

impl From<UserActionError> for Fail {
    fn from(error: UserActionError) -> Self {
        match error {
            UserActionError::Storage(e) => Fail::Other(e.to_string()),
            UserActionError::Hashing => Fail::Other(error.to_string()),
            other => Fail::Input(other.to_string()),
        }
    }
}

pub fn run(command: UserCommand) -> ExitCode {
    exit_code(execute(command))
}

/// The first line of the file, or of standard input, without its line end.
fn read_password(file: Option<&PathBuf>) -> Result<String, Fail> {
    let mut text = String::new();
    match file {
        Some(path) => {
            text = std::fs::read_to_string(path).map_err(|e| {
                Fail::Input(format!(
                    "cannot read the password file {}: {e}",
                    path.display()
                ))
            })?;
        }
        None => {
            std::io::stdin()
                .take(4096)
                .read_to_string(&mut text)
                .map_err(|e| Fail::Input(format!("cannot read the password from stdin: {e}")))?;
        }
    }
    let line = text.lines().next().unwrap_or("").to_string();
    if line.is_empty() {
        return Err(Fail::Input(
            "no password given (first line of --password-file or of standard input)".into(),
        ));
    }
    Ok(line)
}

fn execute(command: UserCommand) -> Result<(), Fail> {
    match command {
        UserCommand::Add {
            name,
            role,
            password_file,
            by,
            store,
        } => {
            let role = users::parse_role(&role)?;
            users::check_username(&name)?;
            let password = read_password(password_file.as_ref())?;
            let store = open(&store)?;
            users::add_user(store.as_ref(), &name, role, &password, &Actor::cli(&by))?;
            println!("user {name} added ({})", role.as_str());
        }
        UserCommand::List { store } => {
            let store = open(&store)?;
            for user in store.console_users()? {
                println!(
                    "{}\t{}\t{}\t{}",
                    user.username,
                    user.role.as_str(),
                    if user.is_disabled() {
                        "disabled"
                    } else {
                        "active"
                    },
                    user.created_at
                );
            }
        }
        UserCommand::Disable { name, by, store } => {
            let store = open(&store)?;
            let change = UserChange {
                disabled: Some(true),
                ..UserChange::default()
            };
            users::change_user(store.as_ref(), &name, change, &Actor::cli(&by))?;
            println!("user {name} disabled; their sessions ended");
        }
        UserCommand::Enable { name, by, store } => {
            let store = open(&store)?;
            let change = UserChange {
                disabled: Some(false),
                ..UserChange::default()
            };
            users::change_user(store.as_ref(), &name, change, &Actor::cli(&by))?;
            println!("user {name} enabled");
        }
        UserCommand::Password {
            name,
            password_file,
            by,
            store,
        } => {
            let password = read_password(password_file.as_ref())?;
            let store = open(&store)?;
            users::set_password(store.as_ref(), &name, &password, &Actor::cli(&by))?;
            println!("password of {name} set; their sessions ended");
        }
    }
    Ok(())
}

//! `kiosk-central kiosk …`: kiosk identity on the store directly — one-time enrolment codes,
//! revocation, the list of enrolled kiosks (issue 7 item 1).

use crate::cli_catalogue::{Fail, StoreArgs, exit_code, open};
use clap::Subcommand;
use kiosk_central::clock::ServerTime;
use kiosk_central::identity::{self, IdentityActionError};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum KioskCommand {
    /// Make a one-time enrolment code for a kiosk (printed once; give it to the kiosk's
    /// `[central] enrol_code`). Also how a revoked kiosk is enrolled again.
    EnrolCode {
        /// The kiosk id the code is bound to.
        #[arg(long = "kiosk", value_name = "ID")]
        kiosk: String,
        /// How long the code is valid: seconds, or a number with s, m, h or d.
        #[arg(long, value_name = "TTL", default_value = "24h", value_parser = identity::parse_ttl)]
        ttl: std::time::Duration,
        /// Who made it (kept with the code).
        #[arg(long, value_name = "NAME", default_value = "cli")]
        by: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a kiosk: its requests are refused (403) until it enrols again with a new code.
    Revoke {
        /// The kiosk id.
        kiosk: String,
        #[arg(long, value_name = "NAME", default_value = "cli")]
        by: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List enrolled kiosks: id, state (active/revoked), enrolled at, public key.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
}

impl From<IdentityActionError> for Fail {
    fn from(error: IdentityActionError) -> Self {
        match error {
            IdentityActionError::Storage(e) => Fail::Other(e.to_string()),
            other => Fail::Input(other.to_string()),
        }
    }
}

pub fn run(command: KioskCommand) -> ExitCode {
    exit_code(execute(command))
}

fn execute(command: KioskCommand) -> Result<(), Fail> {
    let now = ServerTime::now();
    match command {
        KioskCommand::EnrolCode {
            kiosk,
            ttl,
            by,
            store,
        } => {
            let store = open(&store)?;
            let issued = identity::issue_code(store.as_ref(), &kiosk, ttl, &by, &now)?;
            println!(
                "enrolment code for {}: {} (valid until {}, one use)",
                issued.kiosk_id, issued.code, issued.expires_at
            );
            Ok(())
        }
        KioskCommand::Revoke { kiosk, by, store } => {
            let store = open(&store)?;
            let record = identity::revoke(store.as_ref(), &kiosk, &by, &now)?;
            println!(
                "kiosk {} revoked at {}; make a new code with `kiosk enrol-code` to enrol it again",
                record.kiosk_id,
                record.revoked_at.unwrap_or_default()
            );
            Ok(())
        }
        KioskCommand::List { store } => {
            let store = open(&store)?;
            for key in store.kiosk_keys()? {
                println!(
                    "{}\t{}\t{}\t{}",
                    key.kiosk_id,
                    if key.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    },
                    key.enrolled_at,
                    key.public_key
                );
            }
            Ok(())
        }
    }
}

//! The `kiosk-central` binary in the tests: a `serve` command line, the address or URL it logs,
//! and an HTTPS client that trusts a test CA.

use super::{ADMIN_TOKEN, KIOSK_1, ScratchDir};
use std::path::Path;
use std::process::Command;

/// The binary under test.
pub fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kiosk-central"))
}

/// `kiosk-central serve` on SQLite in `dir`, on a free loopback port, knowing [`KIOSK_1`], with
/// the admin token; more arguments may follow.
pub fn serve_sqlite(dir: &ScratchDir) -> Command {
    let mut command = binary();
    command
        .arg("serve")
        .arg("--db")
        .arg(dir.db())
        .arg("--key-file")
        .arg(dir.key())
        .args(["--listen", "127.0.0.1:0", "--admin-token", ADMIN_TOKEN])
        .args(["--kiosk", KIOSK_1]);
    command
}

/// `FIELD=value` of a "listening" log line (`addr`, `url`).
pub fn listening_field(line: &str, field: &str) -> Option<String> {
    if !line.contains("listening") {
        return None;
    }
    line.split(&format!("{field}="))
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string)
}

/// A client that trusts only the CA certificate in `ca_file`; statuses are answers, redirects
/// are not followed.
pub fn agent_trusting(ca_file: &Path) -> ureq::Agent {
    let pem = std::fs::read(ca_file).expect("CA file");
    let ca = ureq::tls::Certificate::from_pem(&pem).expect("CA certificate");
    let roots = ureq::tls::RootCerts::new_with_certs(&[ca.to_owned()]);
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build())
        .build()
        .into()
}

//! The demo's certificate authority: the embedded centre serves HTTPS with a certificate for
//! 127.0.0.1 / localhost that this CA signed, and the demo kiosk trusts only this CA
//! (`[central] ca_file`), as a kiosk in the field trusts the government CA. Made once per data
//! folder.

use kiosk_central::tls::LocalCa;
use std::path::Path;

/// The demo CA's files in `data_dir`, made when any is missing.
pub fn demo_ca(data_dir: &Path) -> anyhow::Result<LocalCa> {
    let ca = LocalCa::in_dir(data_dir, "demo");
    if ca.exists() {
        return Ok(ca);
    }
    LocalCa::issue(data_dir, "demo").map_err(|e| anyhow::anyhow!("the demo's HTTPS files: {e}"))
}

//! A throw-away certificate authority and a centre certificate for 127.0.0.1 / localhost, in a
//! scratch folder (what a government CA would issue the centre).

use super::ScratchDir;
use kiosk_central::tls::LocalCa;

/// A CA called `name` and the centre certificate it signed, written into `dir`.
pub fn issue(dir: &ScratchDir, name: &str) -> LocalCa {
    LocalCa::issue(&dir.0, name).expect("test certificates")
}

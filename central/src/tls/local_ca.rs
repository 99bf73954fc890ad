//! A certificate authority of its own and a centre certificate for `localhost`/`127.0.0.1`, as
//! PEM files: what the demo and the tests serve HTTPS with.

use super::TlsFiles;
use std::path::{Path, PathBuf};

/// A certificate authority of its own and a centre certificate it signed for `localhost` and
/// `127.0.0.1`: what the demo and the tests serve HTTPS with. A centre in the field gets its
/// certificate from the government CA instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalCa {
    /// The CA certificate kiosks are told to trust (`[central] ca_file`).
    pub ca_file: PathBuf,
    /// The centre's certificate chain (leaf, then CA) and its key (owner-only).
    pub centre: TlsFiles,
}

impl LocalCa {
    /// Makes a CA called `name` and a centre certificate, as `NAME-ca.pem`,
    /// `NAME-centre-chain.pem` and `NAME-centre-key.pem` in `dir` (replacing any).
    pub fn issue(dir: &Path, name: &str) -> Result<Self, String> {
        let files = Self::in_dir(dir, name);
        let failed = |e: rcgen::Error| format!("certificate for {name}: {e}");
        let ca_key = rcgen::KeyPair::generate().map_err(failed)?;
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("{name} CA"));
        let ca = ca_params.self_signed(&ca_key).map_err(failed)?;
        let centre_key = rcgen::KeyPair::generate().map_err(failed)?;
        let mut centre_params =
            rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .map_err(failed)?;
        centre_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("{name} centre"));
        let centre = centre_params
            .signed_by(&centre_key, &ca, &ca_key)
            .map_err(failed)?;
        let io = |path: &Path, e: std::io::Error| format!("{}: {e}", path.display());
        write_owner_only(&files.centre.private_key, &centre_key.serialize_pem())
            .map_err(|e| io(&files.centre.private_key, e))?;
        std::fs::write(
            &files.centre.cert_chain,
            format!("{}{}", centre.pem(), ca.pem()),
        )
        .map_err(|e| io(&files.centre.cert_chain, e))?;
        std::fs::write(&files.ca_file, ca.pem()).map_err(|e| io(&files.ca_file, e))?;
        Ok(files)
    }

    /// The files [`LocalCa::issue`] writes, whether or not they exist.
    pub fn in_dir(dir: &Path, name: &str) -> Self {
        Self {
            ca_file: dir.join(format!("{name}-ca.pem")),
            centre: TlsFiles {
                cert_chain: dir.join(format!("{name}-centre-chain.pem")),
                private_key: dir.join(format!("{name}-centre-key.pem")),
            },
        }
    }

    /// Whether all three files are there.
    pub fn exists(&self) -> bool {
        [
            &self.ca_file,
            &self.centre.cert_chain,
            &self.centre.private_key,
        ]
        .iter()
        .all(|p| p.exists())
    }
}

fn write_owner_only(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

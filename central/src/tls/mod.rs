//! HTTPS for the centre (DESIGN §7: kiosks connect out over HTTPS): the certificate chain and
//! private key from PEM files, served as they are on disk (a renewal without a restart);
//! `listener` completes each TLS handshake beside the accept loop; `local_ca` makes a CA and a
//! certificate for the demo and the tests.

mod listener;
mod local_ca;

pub use listener::TlsListener;
pub use local_ca::LocalCa;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;

/// The centre's certificate chain (leaf first) and its private key, as PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert_chain: PathBuf,
    pub private_key: PathBuf,
}

/// Why the TLS files cannot be used; the service does not start.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TlsError {
    #[error("TLS certificate file {path}: {reason}")]
    Certificates { path: PathBuf, reason: String },
    #[error("TLS private key file {path}: {reason}")]
    PrivateKey { path: PathBuf, reason: String },
    #[error("TLS certificate and key cannot be used together: {0}")]
    Mismatch(String),
}

impl TlsFiles {
    /// Reads both files: the chain, and the key that matches its first certificate.
    pub fn load(&self, provider: &CryptoProvider) -> Result<Arc<CertifiedKey>, TlsError> {
        let certs = read_certificates(&self.cert_chain)?;
        let key =
            PrivateKeyDer::from_pem_file(&self.private_key).map_err(|e| TlsError::PrivateKey {
                path: self.private_key.clone(),
                reason: e.to_string(),
            })?;
        CertifiedKey::from_der(certs, key, provider)
            .map(Arc::new)
            .map_err(|e| TlsError::Mismatch(e.to_string()))
    }

    /// Size and modification time of both files (what a renewal changes).
    fn stamp(&self) -> Option<FileStamp> {
        let of = |path: &Path| {
            std::fs::metadata(path)
                .ok()
                .map(|m| (m.len(), m.modified().ok()))
        };
        Some([of(&self.cert_chain)?, of(&self.private_key)?])
    }
}

type FileStamp = [(u64, Option<std::time::SystemTime>); 2];

/// The certificate the centre serves: loaded at start, and loaded again when its files change on
/// disk (a renewal), without a restart. A renewal that does not load — half written, a key that
/// does not match — is logged and the certificate already served stays.
#[derive(Debug)]
pub struct ServedCertificate {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
    /// The files' stamp last looked at (loaded or refused).
    seen: Mutex<Option<FileStamp>>,
}

impl ServedCertificate {
    /// Loads the files; an unusable pair is the error the start stops with.
    pub fn load(files: &TlsFiles) -> Result<Arc<Self>, TlsError> {
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let seen = files.stamp();
        let current = files.load(&provider)?;
        Ok(Arc::new(Self {
            files: files.clone(),
            provider,
            current: RwLock::new(current),
            seen: Mutex::new(seen),
        }))
    }

    /// Server TLS settings (TLS 1.2 and 1.3, HTTP/1.1) that serve this certificate as it is at
    /// each handshake.
    pub fn server_config(self: &Arc<Self>) -> Result<Arc<ServerConfig>, TlsError> {
        let mut config = ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Mismatch(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(self) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// Loads the files again if they changed since last looked at; whether the certificate
    /// served changed.
    pub fn reload_if_changed(&self) -> bool {
        let stamp = self.files.stamp();
        {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if *seen == stamp {
                return false;
            }
            *seen = stamp;
        }
        match self.files.load(&self.provider) {
            Ok(renewed) => {
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = renewed;
                tracing::info!(cert = %self.files.cert_chain.display(), "TLS certificate reloaded");
                true
            }
            Err(error) => {
                tracing::error!(%error, "renewed TLS files not used; the certificate served stays");
                false
            }
        }
    }
}

impl ResolvesServerCert for ServedCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(
            &self.current.read().unwrap_or_else(|e| e.into_inner()),
        ))
    }
}

fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let error = |reason: String| TlsError::Certificates {
        path: path.to_path_buf(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(e.to_string()))?;
    if certs.is_empty() {
        return Err(error("no CERTIFICATE block".into()));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dir(PathBuf);

    impl Dir {
        fn new(label: &str) -> Self {
            let dir = std::env::temp_dir()
                .join(format!("kiosk-central-tls-{label}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn a_local_ca_makes_a_usable_centre_certificate_and_an_owner_only_key() {
        let dir = Dir::new("good");
        let ca = LocalCa::issue(&dir.0, "demo").unwrap();
        assert!(ca.exists());
        let config = ServedCertificate::load(&ca.centre)
            .unwrap()
            .server_config()
            .unwrap();
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&ca.centre.private_key)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
    }

    #[test]
    fn unusable_files_stop_the_start_with_the_reason() {
        let dir = Dir::new("bad");
        let a = LocalCa::issue(&dir.0, "a").unwrap().centre;
        let b = LocalCa::issue(&dir.0, "b").unwrap().centre;
        let mismatched = TlsFiles {
            cert_chain: a.cert_chain.clone(),
            private_key: b.private_key.clone(),
        };
        assert!(matches!(
            ServedCertificate::load(&mismatched),
            Err(TlsError::Mismatch(_))
        ));
        let no_certificate = TlsFiles {
            cert_chain: a.private_key.clone(),
            private_key: a.private_key.clone(),
        };
        let error = ServedCertificate::load(&no_certificate).unwrap_err();
        assert!(error.to_string().contains("no CERTIFICATE"), "{error}");
        let missing = TlsFiles {
            cert_chain: dir.0.join("missing.pem"),
            private_key: a.private_key.clone(),
        };
        let error = ServedCertificate::load(&missing).unwrap_err().to_string();
        assert!(error.contains("missing.pem"), "{error}");
        let no_key = TlsFiles {
            cert_chain: a.cert_chain.clone(),
            private_key: a.cert_chain.clone(),
        };
        assert!(matches!(
            ServedCertificate::load(&no_key),
            Err(TlsError::PrivateKey { .. })
        ));
    }
}

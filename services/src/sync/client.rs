//! The HTTP calls to the central service and how their answers are classified.
//!
//! HTTPS (rustls) to the centre, trusting the public CA roots or the ones the kiosk is configured
//! with (`[central] ca_file`, a government CA); plain HTTP only to a centre on the same machine
//! (the demo), which the configuration enforces. With a [`KioskIdentity`] (the normal case) every
//! request is signed with the kiosk's Ed25519 key (`X-Kiosk-Id`, `X-Kiosk-Timestamp`,
//! `X-Kiosk-Nonce`, `X-Kiosk-Signature`; see `kiosk_protocol::request_signing`), after enrolling
//! with the configured one-time code when the key has not enrolled yet. Without one it sends the
//! legacy `Authorization: Bearer <kiosk token>`, which a centre accepts only when configured to.

use std::sync::Arc;
use std::time::Duration;

use kiosk_protocol::catalogue_envelope::{CATALOGUE_PATH, SignedCatalogue};
use kiosk_protocol::face_verify::{
    FACE_VERIFY_PATH, FaceVerifyRequest, HolderReference, RemoteDecision,
};
use kiosk_protocol::wire::{BatchAck, ErrorBody, Heartbeat, HeartbeatReply, OutboxBatch, paths};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::backoff::parse_retry_after;
use super::identity::KioskIdentity;

/// Longest piece of a centre's error text kept.
const MAX_MESSAGE_CHARS: usize = 300;

/// Where the centre is and who this kiosk is.
#[derive(Clone)]
pub struct CentralEndpoint {
    /// `http://host:port`, without a trailing path.
    pub base_url: String,
    pub kiosk_id: String,
    /// The kiosk's legacy bearer token (used only without `identity`; may be empty). Never
    /// logged.
    pub token: String,
    /// Limit for one whole request, connect to last byte.
    pub request_timeout: Duration,
    /// The kiosk's key: every request is signed with it.
    pub identity: Option<Arc<KioskIdentity>>,
    /// Whose certificates the centre's HTTPS certificate may chain to.
    pub trusted_roots: TrustedRoots,
}

/// The certificate authorities a centre's HTTPS certificate is checked against.
#[derive(Clone, Debug, Default)]
pub enum TrustedRoots {
    /// The public web CAs (Mozilla's list, built in).
    #[default]
    PublicCas,
    /// Only these CA certificates (a government or private CA).
    Only(Arc<Vec<ureq::tls::Certificate<'static>>>),
}

impl TrustedRoots {
    /// Every certificate in a PEM file; a file without one is an error.
    pub fn from_pem_file(path: &std::path::Path) -> Result<Self, String> {
        let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(&pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(cert)) => certs.push(cert.to_owned()),
                Ok(_) => {}
                Err(e) => return Err(format!("{}: {e}", path.display())),
            }
        }
        if certs.is_empty() {
            return Err(format!("{}: no CERTIFICATE block", path.display()));
        }
        Ok(Self::Only(Arc::new(certs)))
    }

    /// The client TLS settings that trust these roots.
    pub fn tls_config(&self) -> ureq::tls::TlsConfig {
        let roots = match self {
            TrustedRoots::PublicCas => ureq::tls::RootCerts::WebPki,
            TrustedRoots::Only(certs) => ureq::tls::RootCerts::Specific(Arc::clone(certs)),
        };
        ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .root_certs(roots)
            .build()
    }
}

impl std::fmt::Debug for CentralEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CentralEndpoint")
            .field("base_url", &self.base_url)
            .field("kiosk_id", &self.kiosk_id)
            .field("token", &"…")
            .field("request_timeout", &self.request_timeout)
            .field("identity", &self.identity)
            .field("trusted_roots", &self.trusted_roots)
            .finish()
    }
}

impl CentralEndpoint {
    pub fn new(
        base_url: impl Into<String>,
        kiosk_id: impl Into<String>,
        token: impl Into<String>,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            kiosk_id: kiosk_id.into(),
            token: token.into(),
            request_timeout: Duration::from_secs(30),
            identity: None,
            trusted_roots: TrustedRoots::default(),
        }
    }

    /// An endpoint whose requests are signed with `identity` (no bearer token).
    pub fn signed(base_url: impl Into<String>, identity: Arc<KioskIdentity>) -> Self {
        let mut endpoint = Self::new(base_url, identity.kiosk_id().to_string(), "");
        endpoint.identity = Some(identity);
        endpoint
    }

    /// The path part of `base_url` (empty for `http://host:port`), which the signature covers.
    fn base_path(&self) -> &str {
        let base = self.base_url.trim_end_matches('/');
        let after_scheme = base.split_once("://").map_or(base, |(_, rest)| rest);
        after_scheme.find('/').map_or("", |i| &after_scheme[i..])
    }
}

/// Why a request to the centre did not produce a usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostError {
    /// No HTTP answer: connection refused or dropped, timeout, name resolution.
    #[error("centre unreachable: {0}")]
    Unreachable(String),
    /// The centre answered with a non-2xx status.
    #[error("centre answered HTTP {status}: {message}")]
    Status {
        status: u16,
        retry_after: Option<Duration>,
        message: String,
    },
    /// A 2xx answer whose body is not the expected JSON.
    #[error("centre's answer is not understood: {0}")]
    InvalidReply(String),
}

/// A blocking HTTP client for the kiosk API of the central service.
#[derive(Debug, Clone)]
pub struct CentralClient {
    agent: ureq::Agent,
    endpoint: CentralEndpoint,
}

impl CentralClient {
    pub fn new(endpoint: CentralEndpoint) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(endpoint.request_timeout))
            .proxy(None)
            .user_agent(concat!("kiosk-services/", env!("CARGO_PKG_VERSION")))
            .tls_config(endpoint.trusted_roots.tls_config())
            .https_only(endpoint.base_url.starts_with("https://"))
            .build()
            .new_agent();
        Self { agent, endpoint }
    }

    pub fn kiosk_id(&self) -> &str {
        &self.endpoint.kiosk_id
    }

    pub fn endpoint(&self) -> &CentralEndpoint {
        &self.endpoint
    }

    /// `POST /api/v1/outbox`; the answer comes only after the centre committed the batch.
    pub fn post_outbox(&self, batch: &OutboxBatch) -> Result<BatchAck, PostError> {
        self.post(paths::OUTBOX, batch)
    }

    /// `POST /api/v1/heartbeat`.
    pub fn post_heartbeat(&self, heartbeat: &Heartbeat) -> Result<HeartbeatReply, PostError> {
        self.post(paths::HEARTBEAT, heartbeat)
    }

    /// `POST /api/v1/face/verify` (issue 6 item 6): asks the centre's identity-verification
    /// service whether the face on `chip_rgb` — the aligned 150×150 RGB chip, row by row, never
    /// the camera frame — is the holder of the card `holder` describes. The chip and the ID
    /// number travel only in this request's body; nothing is stored or logged here.
    ///
    /// The request gets a fresh UUIDv7 id, echoed in the decision (and in the centre's audit
    /// log). Errors: `Status { status: 503, .. }` when the centre has no verifier or it is down
    /// (offer the other ways to confirm identity); `400` for a chip that is not 150×150 RGB or an
    /// unusable ID number; `401`/`403` signature or enrolment; `Unreachable` without an answer.
    pub fn verify_face_remote(
        &self,
        chip_rgb: &[u8],
        holder: &HolderReference,
    ) -> Result<RemoteDecision, PostError> {
        let request = FaceVerifyRequest::new(
            self.endpoint.kiosk_id.clone(),
            uuid::Uuid::now_v7(),
            holder.clone(),
            chip_rgb,
        );
        let decision: RemoteDecision = self.post(FACE_VERIFY_PATH, &request)?;
        if decision.request_id != request.request_id {
            return Err(PostError::InvalidReply(
                "the decision answers another request".into(),
            ));
        }
        Ok(decision)
    }

    /// `GET /api/v1/catalogue/desired`: the signed catalogue the centre wants this kiosk to
    /// run, `None` when nothing is published to it. The signature is not checked here.
    pub fn get_desired_catalogue(&self) -> Result<Option<SignedCatalogue>, PostError> {
        let url = format!(
            "{}{CATALOGUE_PATH}/desired",
            self.endpoint.base_url.trim_end_matches('/')
        );
        let mut request = self.agent.get(&url);
        for (name, value) in self.auth_headers("GET", &format!("{CATALOGUE_PATH}/desired"), b"") {
            request = request.header(name, value);
        }
        let mut response = request
            .call()
            .map_err(|e| PostError::Unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        if status == 404 {
            return Ok(None);
        }
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| PostError::InvalidReply(e.to_string()))?;
        if !(200..300).contains(&status) {
            return Err(PostError::Status {
                status,
                retry_after: None,
                message: text.chars().take(MAX_MESSAGE_CHARS).collect(),
            });
        }
        SignedCatalogue::from_json(text.as_bytes())
            .map(Some)
            .map_err(|e| PostError::InvalidReply(e.to_string()))
    }

    /// Enrols first when needed, then the signature headers (or the legacy bearer token).
    fn auth_headers(&self, method: &str, path: &str, body: &[u8]) -> Vec<(&'static str, String)> {
        match &self.endpoint.identity {
            Some(identity) => {
                if let Err(error) = identity.ensure_enrolled(&self.agent, &self.endpoint.base_url) {
                    tracing::warn!(%error, "kiosk enrolment did not succeed");
                }
                let signed_path = format!("{}{path}", self.endpoint.base_path());
                identity.sign(method, &signed_path, body).pairs().to_vec()
            }
            None if self.endpoint.token.is_empty() => Vec::new(),
            None => vec![("Authorization", format!("Bearer {}", self.endpoint.token))],
        }
    }

    fn post<Body: Serialize, Reply: DeserializeOwned>(
        &self,
        path: &str,
        body: &Body,
    ) -> Result<Reply, PostError> {
        let url = format!("{}{path}", self.endpoint.base_url.trim_end_matches('/'));
        let bytes = serde_json::to_vec(body).map_err(|e| PostError::InvalidReply(e.to_string()))?;
        let mut request = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json");
        for (name, value) in self.auth_headers("POST", path, &bytes) {
            request = request.header(name, value);
        }
        let mut response = request
            .send(&bytes[..])
            .map_err(|e| PostError::Unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return response
                .body_mut()
                .read_json::<Reply>()
                .map_err(|e| PostError::InvalidReply(e.to_string()));
        }
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, OffsetDateTime::now_utc()));
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let message = serde_json::from_str::<ErrorBody>(&text)
            .map(|body| body.error)
            .unwrap_or(text);
        Err(PostError::Status {
            status,
            retry_after,
            message: message.chars().take(MAX_MESSAGE_CHARS).collect(),
        })
    }
}

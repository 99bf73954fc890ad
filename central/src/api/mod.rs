//! The HTTP interface: the kiosk API (outbox, heartbeat), the admin read API and `/healthz`.

pub(crate) mod admin;
mod auth;
pub(crate) mod catalogue;
mod enrol;
mod face_verify;
mod heartbeat;
mod metrics;
mod outbox;
pub(crate) mod query;
pub(crate) mod stats;
mod transactions;

pub use auth::{Credentials, NONCE_KEEP_MS};
pub use metrics::Metrics;

use crate::storage::{CentralStorage, FleetPolicy, StorageError};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kiosk_protocol::SealingKey;
use kiosk_protocol::face_verify::FACE_VERIFY_PATH;
use kiosk_protocol::wire::{ErrorBody, paths};
use std::sync::Arc;

/// Largest request body accepted (an outbox batch of a few hundred events fits easily).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn CentralStorage>,
    pub sealing_key: Arc<SealingKey>,
    pub credentials: Arc<Credentials>,
    pub policy: FleetPolicy,
    pub metrics: Arc<Metrics>,
    /// Signs catalogues imported over the admin API and suspensions; `None`: not configured.
    pub catalogue_signer: Option<Arc<kiosk_protocol::catalogue_envelope::SigningKeyFile>>,
    /// Remote face verification (`POST /api/v1/face/verify`); `None`: answers 503.
    pub identity_verifier: Option<Arc<dyn crate::identity_verification::IdentityVerifier>>,
    /// Failed logins and enrolments per name and address.
    pub limits: Arc<crate::ratelimit::Limits>,
}

/// The service's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(paths::OUTBOX, post(outbox::receive_batch))
        .route(paths::HEARTBEAT, post(heartbeat::receive_heartbeat))
        .route(FACE_VERIFY_PATH, post(face_verify::verify_face))
        .route(paths::TRANSACTIONS, get(transactions::list_transactions))
        .route(
            kiosk_protocol::request_signing::ENROL_PATH,
            post(enrol::enrol),
        )
        .route(
            "/api/v1/admin/kiosks/{id}/enrolment-code",
            post(enrol::create_code),
        )
        .route("/api/v1/admin/kiosks/{id}/revoke", post(enrol::revoke))
        .route("/api/v1/admin/kiosk-keys", get(enrol::list_keys))
        .route(
            "/api/v1/catalogue/desired",
            get(catalogue::desired_envelope),
        )
        .route(
            "/api/v1/catalogue/{version}",
            get(catalogue::version_envelope),
        )
        .route(
            "/api/v1/admin/catalogue/versions",
            get(catalogue::list_versions).post(catalogue::import_version),
        )
        .route(
            "/api/v1/admin/catalogue/versions/{version}",
            get(catalogue::show_version),
        )
        .route(
            "/api/v1/admin/catalogue/versions/{version}/catalogue.toml",
            get(catalogue::export_version),
        )
        .route(
            "/api/v1/admin/catalogue/versions/{version}/sign",
            post(catalogue::sign_version),
        )
        .route("/api/v1/admin/catalogue/publish", post(catalogue::publish))
        .route("/api/v1/admin/catalogue/rollout", get(catalogue::rollout))
        .route("/api/v1/admin/catalogue/suspend", post(catalogue::suspend))
        .route("/api/v1/admin/kiosk-groups", get(catalogue::list_groups))
        .route(
            "/api/v1/admin/kiosks/{id}/group",
            axum::routing::put(catalogue::set_group),
        )
        .route("/api/v1/admin/kiosks", get(admin::fleet))
        .route("/api/v1/admin/availability", get(admin::availability_now))
        .route(
            "/api/v1/admin/availability/history",
            get(admin::availability_history),
        )
        .route("/api/v1/admin/alarms", get(admin::list_alarms))
        .route(
            "/api/v1/admin/alarms/{id}/acknowledge",
            post(admin::acknowledge_alarm),
        )
        .route("/api/v1/admin/tickets", get(admin::list_tickets))
        .route(
            "/api/v1/admin/tickets/{id}/assign",
            post(admin::assign_ticket),
        )
        .route(
            "/api/v1/admin/tickets/{id}/resolve",
            post(admin::resolve_ticket),
        )
        .route("/api/v1/admin/disinfection", get(admin::disinfection))
        .route(
            "/api/v1/admin/disinfection/overdue",
            get(admin::disinfection_overdue),
        )
        .route("/api/v1/admin/reports/kiosks", get(admin::kiosk_report))
        .route(
            "/api/v1/admin/stats/transactions",
            get(stats::transactions_json),
        )
        .route(
            "/api/v1/admin/stats/transactions.csv",
            get(stats::transactions_csv),
        )
        .route(
            "/api/v1/admin/stats/abandonment",
            get(stats::abandonment_json),
        )
        .route(
            "/api/v1/admin/stats/abandonment.csv",
            get(stats::abandonment_csv),
        )
        .merge(crate::console::router())
        .route("/metrics", get(metrics::render))
        .route("/healthz", get(health))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::verify_signed_requests,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::count_requests,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// A non-2xx answer: a status and an [`ErrorBody`]. Messages never hold personal data.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    retry_after_s: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after_s: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 429 with `Retry-After`.
    pub fn too_many_requests(message: impl Into<String>, retry_after: std::time::Duration) -> Self {
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: message.into(),
            retry_after_s: Some(retry_after.as_secs().max(1)),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The store failed: details go to the log, the caller learns only that it may retry.
    pub(crate) fn storage(operation: &str, error: &StorageError) -> Self {
        tracing::error!(operation, %error, "central store failed");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the central store is unavailable; retry later",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            axum::Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after_s {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Runs a store operation on the blocking pool (the store's methods block).
pub(crate) async fn with_store<T, F>(
    state: &AppState,
    operation: &'static str,
    work: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&dyn CentralStorage) -> Result<T, StorageError> + Send + 'static,
{
    let store = Arc::clone(&state.store);
    match tokio::task::spawn_blocking(move || work(store.as_ref())).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(ApiError::storage(operation, &error)),
        Err(join_error) => {
            tracing::error!(operation, %join_error, "store task did not finish");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error; retry later",
            ))
        }
    }
}

/// Appends an audit entry for a change made with the admin token (after the change committed;
/// a failure is logged by `users::record`).
pub(crate) async fn audit(
    state: &AppState,
    action: &'static str,
    target: String,
    detail: Option<String>,
) {
    let store = Arc::clone(&state.store);
    let _ = tokio::task::spawn_blocking(move || {
        crate::users::record(
            store.as_ref(),
            &crate::users::Actor::admin_token(),
            action,
            Some(target),
            detail,
        )
    })
    .await;
}

/// Turns a body that could not be read (too large, connection dropped) into an [`ApiError`].
fn body_error(rejection: axum::extract::rejection::BytesRejection) -> ApiError {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            status,
            format!("request body is larger than {MAX_BODY_BYTES} bytes"),
        )
    } else {
        ApiError::new(status, "request body could not be read")
    }
}

async fn health(State(state): State<AppState>) -> Result<axum::Json<serde_json::Value>, ApiError> {
    with_store(&state, "health check", |store| store.check_health()).await?;
    Ok(axum::Json(serde_json::json!({ "status": "ok" })))
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such endpoint")
}

//! The admin console (issue 7 item 10): server-rendered HTML pages under `/console/…` for the
//! central office — fleet overview, kiosk detail, alarms and tickets, the catalogue editor and
//! rollout, availability, statistics, users and the audit log.
//!
//! Pages call the same store methods and actions as the JSON admin API (`crate::api`,
//! `crate::catalogue`, `crate::identity`, `crate::users`); this module only renders. Sign-in,
//! sessions, roles, CSRF and the origin check are in [`auth`]; the page frame and shared bits of
//! markup in [`html`]; one file per page group in [`pages`].

mod auth;
mod html;
mod pages;

pub(crate) use auth::SESSION_IDLE_MS;

use crate::api::{ApiError, AppState};
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

/// The console's routes (merged into the service's router).
pub(crate) fn router() -> Router<AppState> {
    use pages::*;
    Router::new()
        .route("/console", get(home))
        .route("/console/", get(home))
        .route("/console/static/console.css", get(html::stylesheet))
        .route("/console/login", get(auth::login_page).post(auth::login))
        .route("/console/logout", post(auth::logout))
        .route("/console/fleet", get(fleet::page))
        .route("/console/kiosks/{id}", get(kiosk::page))
        .route(
            "/console/kiosks/{id}/enrolment-code",
            post(kiosk::enrol_code),
        )
        .route("/console/kiosks/{id}/revoke", post(kiosk::revoke))
        .route("/console/kiosks/{id}/group", post(kiosk::set_group))
        .route("/console/alarms", get(alarms::alarms_page))
        .route(
            "/console/alarms/{id}/acknowledge",
            post(alarms::acknowledge),
        )
        .route("/console/alarms/{id}/escalate", post(alarms::escalate))
        .route("/console/tickets", get(alarms::tickets_page))
        .route("/console/tickets/{id}/assign", post(alarms::assign))
        .route("/console/tickets/{id}/resolve", post(alarms::resolve))
        .route("/console/catalogue", get(catalogue::page))
        .route(
            "/console/catalogue/versions/{v}",
            get(catalogue::version_page),
        )
        .route(
            "/console/catalogue/versions/{v}/catalogue.toml",
            get(catalogue::export),
        )
        .route(
            "/console/catalogue/versions/{v}/sign",
            post(catalogue::sign),
        )
        .route("/console/catalogue/publish", post(catalogue::publish))
        .route("/console/catalogue/suspend", post(catalogue::suspend))
        .route(
            "/console/catalogue/items/{code}",
            get(catalogue_edit::item_form).post(catalogue_edit::save_item),
        )
        .route(
            "/console/catalogue/draft",
            get(catalogue_edit::draft_form).post(catalogue_edit::save_draft),
        )
        .route("/console/rollout", get(rollout::page))
        .route("/console/availability", get(availability::page))
        .route("/console/stats", get(stats::page))
        .route(
            "/console/stats/transactions.csv",
            get(stats::transactions_csv),
        )
        .route(
            "/console/stats/abandonment.csv",
            get(stats::abandonment_csv),
        )
        .route("/console/users", get(users::page).post(users::add))
        .route("/console/users/{name}", post(users::change))
        .route("/console/audit", get(audit::page))
}

async fn home() -> Redirect {
    Redirect::to("/console/fleet")
}

/// Why a console request did not produce its page.
#[derive(Debug)]
pub(crate) enum ConsoleError {
    /// An error page with this status and message (Chinese first, English after).
    Page { status: StatusCode, message: String },
    /// Not signed in (or the session ended): to the login page, then back to `next`.
    Login { next: String },
}

impl ConsoleError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ConsoleError::Page {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
}

impl From<ApiError> for ConsoleError {
    fn from(error: ApiError) -> Self {
        Self::new(error.status(), error.message().to_string())
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        match self {
            ConsoleError::Page { status, message } => {
                let mut response = (status, html::error_page(status, &message)).into_response();
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            }
            ConsoleError::Login { next } => {
                let location = format!("/console/login?next={}", percent_encode(&next));
                Redirect::to(&location).into_response()
            }
        }
    }
}

/// Percent-encodes everything but unreserved characters (for query strings and cookies).
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Runs blocking work (the store, Argon2) on the blocking pool.
pub(crate) async fn blocking<T, F>(state: &AppState, work: F) -> Result<T, ConsoleError>
where
    T: Send + 'static,
    F: FnOnce(&dyn crate::storage::CentralStorage) -> T + Send + 'static,
{
    let store = std::sync::Arc::clone(&state.store);
    tokio::task::spawn_blocking(move || work(store.as_ref()))
        .await
        .map_err(|_| {
            ConsoleError::new(StatusCode::INTERNAL_SERVER_ERROR, "内部错误 Internal error")
        })
}

/// The message shown for a store failure (details go to the log).
pub(crate) fn store_failed(operation: &str, error: &crate::storage::StorageError) -> ConsoleError {
    ConsoleError::from(ApiError::storage(operation, error))
}

impl From<crate::storage::StorageError> for ConsoleError {
    fn from(error: crate::storage::StorageError) -> Self {
        store_failed("console", &error)
    }
}

impl From<crate::catalogue::CatalogueActionError> for ConsoleError {
    fn from(error: crate::catalogue::CatalogueActionError) -> Self {
        ConsoleError::from(ApiError::from(error))
    }
}

impl From<crate::identity::IdentityActionError> for ConsoleError {
    fn from(error: crate::identity::IdentityActionError) -> Self {
        ConsoleError::from(ApiError::from(error))
    }
}

impl From<crate::users::UserActionError> for ConsoleError {
    fn from(error: crate::users::UserActionError) -> Self {
        use crate::users::UserActionError as E;
        match error {
            E::Storage(e) => e.into(),
            E::NotFound(_) => ConsoleError::not_found(error.to_string()),
            E::Exists(_) => ConsoleError::new(StatusCode::CONFLICT, error.to_string()),
            E::Invalid(_) => ConsoleError::bad_request(error.to_string()),
            E::Hashing => ConsoleError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
        }
    }
}

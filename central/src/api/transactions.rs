//! `GET /api/v1/transactions` (admin token): every received transaction, masked, newest last.

use super::auth::AdminCaller;
use super::{ApiError, AppState, with_store};
use axum::Json;
use axum::extract::State;
use kiosk_protocol::wire::TransactionListing;

pub async fn list_transactions(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> Result<Json<Vec<TransactionListing>>, ApiError> {
    let listings = with_store(&state, "list transactions", |store| store.transactions()).await?;
    Ok(Json(listings))
}

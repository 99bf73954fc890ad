//! Catalogue management over HTTP: the kiosk's signed-catalogue pull and the admin API (import,
//! change log, sign, publish, rollout progress, suspend an item, kiosk groups).

use super::admin::{object_body, text_field};
use super::auth::{AdminCaller, AuthenticatedKiosk};
use super::{ApiError, AppState, audit, with_store};
use crate::catalogue::{self as actions, CatalogueActionError};
use crate::clock::ServerTime;
use crate::storage::{CatalogueRefusal, CentralStorage, RolloutRow, StorageError};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kiosk_protocol::SignedCatalogue;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

impl From<CatalogueActionError> for ApiError {
    fn from(error: CatalogueActionError) -> Self {
        match error {
            CatalogueActionError::BadInput(_) | CatalogueActionError::Invalid(_) => {
                ApiError::bad_request(error.to_string())
            }
            CatalogueActionError::Refused(CatalogueRefusal::UnknownVersion(_))
            | CatalogueActionError::UnknownItem { .. } => ApiError::not_found(error.to_string()),
            CatalogueActionError::Refused(_)
            | CatalogueActionError::NothingPublished
            | CatalogueActionError::NoSigningKey => {
                ApiError::new(StatusCode::CONFLICT, error.to_string())
            }
            CatalogueActionError::Storage(error) => ApiError::storage("catalogue", &error),
        }
    }
}

/// Runs a catalogue action on the blocking pool.
async fn act<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&dyn CentralStorage) -> Result<T, CatalogueActionError> + Send + 'static,
{
    with_store(state, "catalogue", move |store| Ok(work(store)))
        .await?
        .map_err(ApiError::from)
}

fn parse_version(text: &str) -> Result<u32, ApiError> {
    text.parse::<u32>()
        .map_err(|_| ApiError::bad_request("version must be a whole number"))
}

fn envelope_of(
    store: &dyn CentralStorage,
    version: u32,
) -> Result<Option<SignedCatalogue>, StorageError> {
    Ok(store
        .catalogue_version(version)?
        .as_ref()
        .and_then(actions::envelope))
}

/// `GET /api/v1/catalogue/desired`: the signed catalogue this kiosk should run.
pub async fn desired_envelope(
    State(state): State<AppState>,
    kiosk: AuthenticatedKiosk,
) -> Result<Json<SignedCatalogue>, ApiError> {
    let kiosk_id = kiosk.kiosk_id;
    with_store(&state, "read desired catalogue", move |store| {
        match store.desired_catalogue_version(&kiosk_id)? {
            Some(version) => envelope_of(store, version),
            None => Ok(None),
        }
    })
    .await?
    .map(Json)
    .ok_or_else(|| ApiError::not_found("no catalogue is published to this kiosk"))
}

/// `GET /api/v1/catalogue/{version}`: a signed version published to this kiosk (to all kiosks
/// or to its group).
pub async fn version_envelope(
    State(state): State<AppState>,
    kiosk: AuthenticatedKiosk,
    Path(version): Path<String>,
) -> Result<Json<SignedCatalogue>, ApiError> {
    let version = parse_version(&version)?;
    let kiosk_id = kiosk.kiosk_id;
    with_store(&state, "read catalogue", move |store| {
        if store.catalogue_published_to(&kiosk_id, version)? {
            envelope_of(store, version)
        } else {
            Ok(None)
        }
    })
    .await?
    .map(Json)
    .ok_or_else(|| ApiError::not_found("this catalogue version is not published to this kiosk"))
}

fn by_of(body: &serde_json::Map<String, Value>) -> Result<String, ApiError> {
    Ok(text_field(body, "by", actions::MAX_NAME_CHARS)?.unwrap_or_else(|| "admin".into()))
}

/// `POST /api/v1/admin/catalogue/versions`, body `{"catalogue": TOML text, "note": "…",
/// "by": "…"}`: imports (and, with a signing key, signs) a new version. 201 with the version.
pub async fn import_version(
    State(state): State<AppState>,
    _admin: AdminCaller,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = object_body(&body)?;
    let text = match body.get("catalogue") {
        Some(Value::String(text)) => text.clone(),
        _ => {
            return Err(ApiError::bad_request(
                "catalogue (the catalogue file's text) is required",
            ));
        }
    };
    let note = match body.get("note") {
        Some(Value::String(note)) => note.clone(),
        None | Some(Value::Null) => String::new(),
        Some(_) => return Err(ApiError::bad_request("note must be a string")),
    };
    let by = by_of(&body)?;
    let signer = state.catalogue_signer.clone();
    let info = act(&state, move |store| {
        actions::import(
            store,
            &text,
            &note,
            &by,
            signer.as_deref(),
            &ServerTime::now(),
        )
    })
    .await?;
    tracing::info!(
        version = info.version,
        signed = info.signature.is_some(),
        "catalogue imported"
    );
    audit(
        &state,
        "catalogue.save",
        format!("version {}", info.version),
        Some(format!("import: {}", info.note)),
    )
    .await;
    Ok((StatusCode::CREATED, Json(json!(info))))
}

/// `GET /api/v1/admin/catalogue/versions`: the change log and the publications.
pub async fn list_versions(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> Result<Json<Value>, ApiError> {
    let (versions, publications) = with_store(&state, "list catalogue versions", |store| {
        Ok((store.catalogue_versions()?, store.catalogue_publications()?))
    })
    .await?;
    Ok(Json(json!({
        "latest": versions.first().map(|v| v.version),
        "versions": versions,
        "publications": publications,
    })))
}

async fn stored_version(
    state: &AppState,
    version: &str,
) -> Result<crate::storage::CatalogueVersion, ApiError> {
    let version = parse_version(version)?;
    with_store(state, "read catalogue version", move |store| {
        store.catalogue_version(version)
    })
    .await?
    .ok_or_else(|| ApiError::not_found("no such catalogue version"))
}

/// `GET /api/v1/admin/catalogue/versions/{version}`: one version with its text.
pub async fn show_version(
    State(state): State<AppState>,
    _admin: AdminCaller,
    Path(version): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let stored = stored_version(&state, &version).await?;
    let mut answer = json!(stored.info);
    answer["catalogue"] = Value::String(stored.catalogue);
    Ok(Json(answer))
}

/// `GET /api/v1/admin/catalogue/versions/{version}/catalogue.toml`: the catalogue file.
pub async fn export_version(
    State(state): State<AppState>,
    _admin: AdminCaller,
    Path(version): Path<String>,
) -> Result<Response, ApiError> {
    let stored = stored_version(&state, &version).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/toml; charset=utf-8")],
        stored.catalogue,
    )
        .into_response())
}

/// `POST /api/v1/admin/catalogue/versions/{version}/sign`: signs (or re-signs) with the
/// service's key.
pub async fn sign_version(
    State(state): State<AppState>,
    _admin: AdminCaller,
    Path(version): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let version = parse_version(&version)?;
    let signer = state
        .catalogue_signer
        .clone()
        .ok_or_else(|| ApiError::from(CatalogueActionError::NoSigningKey))?;
    let info = act(&state, move |store| {
        actions::sign(store, version, &signer, &ServerTime::now())
    })
    .await?;
    audit(
        &state,
        "catalogue.sign",
        format!("version {version}"),
        info.key_id.as_ref().map(|k| format!("key {k}")),
    )
    .await;
    Ok(Json(json!(info)))
}

/// `POST /api/v1/admin/catalogue/publish`, body `{"version": N, "group": "…" | null,
/// "by": "…"}`. 201 with the publication.
pub async fn publish(
    State(state): State<AppState>,
    _admin: AdminCaller,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = object_body(&body)?;
    let version = body
        .get("version")
        .and_then(Value::as_u64)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| ApiError::bad_request("version (a whole number) is required"))?;
    let group = text_field(&body, "group", actions::MAX_NAME_CHARS)?;
    let by = by_of(&body)?;
    let publication = act(&state, move |store| {
        actions::publish(store, version, group.as_deref(), &by, &ServerTime::now())
    })
    .await?;
    tracing::info!(
        version,
        group = publication.target_group.as_deref().unwrap_or("(all)"),
        "catalogue published"
    );
    audit(
        &state,
        "catalogue.publish",
        format!("version {version}"),
        Some(format!(
            "to {}",
            publication.target_group.as_deref().unwrap_or("all kiosks")
        )),
    )
    .await;
    Ok((StatusCode::CREATED, Json(json!(publication))))
}

/// A kiosk's rollout status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum RolloutStatus {
    /// Reports the desired version (or a newer one).
    UpToDate,
    /// Reports an older version than desired.
    Pending,
    /// Never sent a heartbeat.
    NeverSeen,
    /// No publication targets it.
    NoTarget,
}

/// `GET /api/v1/admin/catalogue/rollout`: desired vs reported version per kiosk, with counts.
pub async fn rollout(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> Result<Json<Value>, ApiError> {
    rollout_view(&state).await.map(Json)
}

/// The answer of `GET /api/v1/admin/catalogue/rollout` (also the console's rollout page).
pub(crate) async fn rollout_view(state: &AppState) -> Result<Value, ApiError> {
    let (rows, to_all) = with_store(state, "catalogue rollout", |store| {
        store.catalogue_rollout()
    })
    .await?;
    let mut by_id: BTreeMap<String, RolloutRow> = rows
        .into_iter()
        .map(|row| (row.kiosk_id.clone(), row))
        .collect();
    for kiosk_id in state.credentials.kiosk_ids() {
        by_id
            .entry(kiosk_id.to_string())
            .or_insert_with(|| RolloutRow {
                kiosk_id: kiosk_id.to_string(),
                group: None,
                desired: to_all,
                reported: None,
                last_seen: None,
            });
    }
    let mut counts: BTreeMap<&str, u64> = ["up_to_date", "pending", "never_seen", "no_target"]
        .into_iter()
        .map(|k| (k, 0))
        .collect();
    let kiosks: Vec<Value> = by_id
        .into_values()
        .map(|row| {
            let status = match (row.desired, row.reported) {
                (None, _) => RolloutStatus::NoTarget,
                (Some(_), None) => RolloutStatus::NeverSeen,
                (Some(desired), Some(reported)) if reported >= desired => RolloutStatus::UpToDate,
                (Some(_), Some(_)) => RolloutStatus::Pending,
            };
            let key = match status {
                RolloutStatus::UpToDate => "up_to_date",
                RolloutStatus::Pending => "pending",
                RolloutStatus::NeverSeen => "never_seen",
                RolloutStatus::NoTarget => "no_target",
            };
            *counts.entry(key).or_default() += 1;
            json!({
                "kiosk_id": row.kiosk_id,
                "group": row.group,
                "desired": row.desired,
                "reported": row.reported,
                "status": status,
                "last_seen": row.last_seen,
            })
        })
        .collect();
    let mut counts_json = json!(counts);
    counts_json["kiosks"] = json!(kiosks.len());
    Ok(json!({
        "at": ServerTime::now().rfc3339,
        "published_to_all": to_all,
        "counts": counts_json,
        "kiosks": kiosks,
    }))
}

/// `POST /api/v1/admin/catalogue/suspend`, body `{"item_code": "…", "note": "…", "by": "…"}`:
/// a new signed version without the item, published to every kiosk. 201.
pub async fn suspend(
    State(state): State<AppState>,
    _admin: AdminCaller,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = object_body(&body)?;
    let item_code = text_field(&body, "item_code", 128)?
        .ok_or_else(|| ApiError::bad_request("item_code is required"))?;
    let note = text_field(&body, "note", actions::MAX_NOTE_CHARS)?.unwrap_or_default();
    let by = by_of(&body)?;
    let signer = state.catalogue_signer.clone();
    let suspension = act(&state, move |store| {
        actions::suspend_item(
            store,
            &item_code,
            &note,
            &by,
            signer.as_deref(),
            &ServerTime::now(),
        )
    })
    .await?;
    tracing::info!(
        item = %suspension.item_code,
        version = suspension.version.version,
        "catalogue item suspended everywhere"
    );
    audit(
        &state,
        "catalogue.suspend",
        format!("item {}", suspension.item_code),
        Some(format!(
            "version {} published to all",
            suspension.version.version
        )),
    )
    .await;
    Ok((StatusCode::CREATED, Json(json!(suspension))))
}

/// `GET /api/v1/admin/kiosk-groups`: `[{kiosk_id, group}]`.
pub async fn list_groups(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> Result<Json<Value>, ApiError> {
    let groups = with_store(&state, "list kiosk groups", |store| store.kiosk_groups()).await?;
    Ok(Json(Value::Array(
        groups
            .into_iter()
            .map(|(kiosk_id, group)| json!({"kiosk_id": kiosk_id, "group": group}))
            .collect(),
    )))
}

/// `PUT /api/v1/admin/kiosks/{id}/group`, body `{"group": "…"}` or `{"group": null}`.
pub async fn set_group(
    State(state): State<AppState>,
    _admin: AdminCaller,
    Path(kiosk_id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = object_body(&body)?;
    let group = text_field(&body, "group", actions::MAX_NAME_CHARS)?;
    if let Some(group) = &group {
        actions::check_group(group)?;
    }
    if kiosk_id.is_empty() || kiosk_id.chars().count() > 128 {
        return Err(ApiError::bad_request("kiosk id must be 1-128 characters"));
    }
    let (id, g) = (kiosk_id.clone(), group.clone());
    with_store(&state, "set kiosk group", move |store| {
        store.set_kiosk_group(&id, g.as_deref(), &ServerTime::now())
    })
    .await?;
    audit(
        &state,
        "kiosk.group",
        kiosk_id.clone(),
        Some(format!("group {}", group.as_deref().unwrap_or("(none)"))),
    )
    .await;
    Ok(Json(json!({"kiosk_id": kiosk_id, "group": group})))
}

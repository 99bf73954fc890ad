//! The admin JSON API (admin bearer token): fleet status, availability (实时可办率), alarms and
//! fault tickets, disinfection compliance and the kiosk report.

use super::auth::AdminCaller;
use super::query::Params;
use super::{ApiError, AppState, audit, with_store};
use crate::clock::ServerTime;
use crate::storage::fleet::duration_ms;
use crate::storage::{
    Alarm, AlarmStatusFilter, Connectivity, KioskState, Ticket, TicketStatusFilter, TicketUpdate,
};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// A kiosk's status as operators see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Online,
    Offline,
    /// Configured, but no heartbeat ever arrived (not installed yet, or never switched on).
    NeverSeen,
}

/// Every kiosk the centre knows: configured ones and any that sent a heartbeat, by id.
fn fleet_lines<'a>(
    state: &'a AppState,
    states: &'a [KioskState],
) -> Vec<(String, Option<&'a KioskState>, bool)> {
    let configured: BTreeSet<&str> = state.credentials.kiosk_ids().collect();
    let mut lines: BTreeMap<String, (Option<&KioskState>, bool)> = configured
        .iter()
        .map(|id| (id.to_string(), (None, true)))
        .collect();
    for s in states {
        lines
            .entry(s.kiosk_id.clone())
            .or_insert((None, configured.contains(s.kiosk_id.as_str())))
            .0 = Some(s);
    }
    lines
        .into_iter()
        .map(|(id, (state, configured))| (id, state, configured))
        .collect()
}

fn status_of(state: Option<&KioskState>) -> Status {
    match state.map(|s| s.connectivity) {
        None => Status::NeverSeen,
        Some(Connectivity::Online) => Status::Online,
        Some(Connectivity::Offline) => Status::Offline,
    }
}

/// Share of offered items doable right now: 0 when offline, `None` when never seen.
fn current_availability(state: Option<&KioskState>) -> Option<f64> {
    let s = state?;
    if s.connectivity == Connectivity::Offline {
        return Some(0.0);
    }
    let hb = &s.last_heartbeat;
    Some(if hb.items_offered == 0 {
        0.0
    } else {
        f64::from(hb.items_available.min(hb.items_offered)) / f64::from(hb.items_offered)
    })
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// `GET /api/v1/admin/kiosks`
pub async fn fleet(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> Result<Json<Value>, ApiError> {
    fleet_view(&state).await.map(Json)
}

/// The answer of `GET /api/v1/admin/kiosks` (also what the console's overview shows).
pub(crate) async fn fleet_view(state: &AppState) -> Result<Value, ApiError> {
    let states = with_store(state, "list kiosks", |store| store.kiosk_states()).await?;
    let lines = fleet_lines(state, &states);
    let mut counts = BTreeMap::from([("online", 0), ("offline", 0), ("never_seen", 0)]);
    let kiosks: Vec<Value> = lines
        .iter()
        .map(|(id, s, configured)| {
            let status = status_of(*s);
            *counts
                .entry(match status {
                    Status::Online => "online",
                    Status::Offline => "offline",
                    Status::NeverSeen => "never_seen",
                })
                .or_default() += 1;
            let hb = s.map(|s| &s.last_heartbeat);
            json!({
                "kiosk_id": id,
                "status": status,
                "configured": configured,
                "last_seen": s.map(|s| &s.last_seen),
                "software_version": hb.map(|h| &h.software_version),
                "catalogue_version": hb.map(|h| h.catalogue_version),
                "items_offered": hb.map(|h| h.items_offered),
                "items_available": hb.map(|h| h.items_available),
                "availability": current_availability(*s).map(round4),
                "unavailable_items": hb.map(|h| &h.unavailable_items),
                "devices": hb.map(|h| &h.devices),
                "outbox_depth": hb.map(|h| h.outbox_depth),
                "oldest_unsent_age_s": hb.and_then(|h| h.oldest_unsent_age_s),
                "dead_letter_count": hb.map(|h| h.dead_letter_count),
            })
        })
        .collect();
    Ok(json!({
        "at": ServerTime::now().rfc3339,
        "summary": {
            "kiosks": kiosks.len(),
            "online": counts["online"],
            "offline": counts["offline"],
            "never_seen": counts["never_seen"],
        },
        "kiosks": kiosks,
    }))
}

/// `GET /api/v1/admin/availability`: 实时可办率 now.
pub async fn availability_now(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> Result<Json<Value>, ApiError> {
    availability_view(&state).await.map(Json)
}

/// The answer of `GET /api/v1/admin/availability`.
pub(crate) async fn availability_view(state: &AppState) -> Result<Value, ApiError> {
    let states = with_store(state, "availability", |store| store.kiosk_states()).await?;
    let lines = fleet_lines(state, &states);
    let in_service: Vec<&KioskState> = lines.iter().filter_map(|(_, s, _)| *s).collect();
    let online: Vec<&KioskState> = in_service
        .iter()
        .copied()
        .filter(|s| s.connectivity == Connectivity::Online)
        .collect();
    let n = in_service.len();
    let share = |count: usize| (n > 0).then(|| round4(count as f64 / n as f64));
    let fleet_availability = (n > 0).then(|| {
        round4(
            in_service
                .iter()
                .map(|s| current_availability(Some(s)).unwrap_or(0.0))
                .sum::<f64>()
                / n as f64,
        )
    });
    // An item counts as doable on a kiosk that is online and does not list it as unavailable.
    let mut unavailable_on: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &online {
        for item in &s.last_heartbeat.unavailable_items {
            *unavailable_on.entry(item.as_str()).or_default() += 1;
        }
    }
    let items: Vec<Value> = unavailable_on
        .iter()
        .map(|(item, down)| {
            let doable = online.len() - down;
            json!({
                "item_code": item,
                "kiosks_in_service": n,
                "kiosks_doable": doable,
                "availability": share(doable),
            })
        })
        .collect();
    let kiosks: Vec<Value> = lines
        .iter()
        .map(|(id, s, _)| {
            let hb = s.map(|s| &s.last_heartbeat);
            json!({
                "kiosk_id": id,
                "status": status_of(*s),
                "items_offered": hb.map(|h| h.items_offered),
                "items_available": hb.map(|h| h.items_available),
                "unavailable_items": hb.map(|h| &h.unavailable_items),
                "availability": current_availability(*s).map(round4),
            })
        })
        .collect();
    Ok(json!({
        "at": ServerTime::now().rfc3339,
        "fleet": {
            "kiosks_in_service": n,
            "online": online.len(),
            "never_seen": lines.len() - n,
            "online_fraction": share(online.len()),
            "availability": fleet_availability,
        },
        "kiosks": kiosks,
        "items": items,
        "other_items_availability": share(online.len()),
    }))
}

/// `GET /api/v1/admin/availability/history?hours=24&step_minutes=5&kiosk=…&item=…`
/// (or `from=…&to=…`, RFC 3339).
pub async fn availability_history(
    State(state): State<AppState>,
    _admin: AdminCaller,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let params = Params::of(&uri);
    let now = ServerTime::now();
    let hours = params.number("hours", 24, 1..=24 * 31)?;
    let step_minutes = params.number("step_minutes", 5, 5..=24 * 60)?;
    if step_minutes % 5 != 0 {
        return Err(ApiError::bad_request(
            "step_minutes must be a multiple of 5",
        ));
    }
    let time = |name: &str, default: i64| -> Result<ServerTime, ApiError> {
        match params.get(name) {
            None => Ok(ServerTime::from_unix_ms(default)),
            Some(text) => parse_time(text)
                .ok_or_else(|| ApiError::bad_request(format!("{name} must be an RFC 3339 time"))),
        }
    };
    let to = time("to", now.unix_ms)?;
    let from = time("from", to.unix_ms - hours * 3_600_000)?;
    if to.unix_ms <= from.unix_ms {
        return Err(ApiError::bad_request("from must be before to"));
    }
    let steps = (to.unix_ms - from.unix_ms) / (step_minutes * 60_000);
    if steps > 10_000 {
        return Err(ApiError::bad_request(
            "too many points; use a larger step_minutes or a shorter range",
        ));
    }
    let kiosk = params.get("kiosk").map(str::to_string);
    let item = params.get("item").map(str::to_string);
    let (kiosk_q, item_q) = (kiosk.clone(), item.clone());
    let (from_q, to_q, now_q) = (from.clone(), to.clone(), now.clone());
    let points = with_store(&state, "availability history", move |store| {
        store.availability_series(
            &from_q,
            &to_q,
            step_minutes * 60_000,
            kiosk_q.as_deref(),
            item_q.as_deref(),
            &now_q,
        )
    })
    .await?;
    Ok(Json(json!({
        "from": from.rfc3339,
        "to": to.rfc3339,
        "step_s": step_minutes * 60,
        "kiosk_id": kiosk,
        "item_code": item,
        "points": points,
    })))
}

fn parse_time(text: &str) -> Option<ServerTime> {
    let at =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    let ms = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()?;
    Some(ServerTime::from_unix_ms(ms))
}

/// `GET /api/v1/admin/alarms?status=open|unacknowledged|cleared|all&kiosk=…`
pub async fn list_alarms(
    State(state): State<AppState>,
    _admin: AdminCaller,
    uri: Uri,
) -> Result<Json<Vec<Alarm>>, ApiError> {
    let params = Params::of(&uri);
    let status = match params.get("status").unwrap_or("open") {
        "open" => AlarmStatusFilter::Open,
        "unacknowledged" => AlarmStatusFilter::Unacknowledged,
        "cleared" => AlarmStatusFilter::Cleared,
        "all" => AlarmStatusFilter::All,
        _ => {
            return Err(ApiError::bad_request(
                "status must be open, unacknowledged, cleared or all",
            ));
        }
    };
    let kiosk = params.get("kiosk").map(str::to_string);
    let alarms = with_store(&state, "list alarms", move |store| {
        store.alarms(status, kiosk.as_deref())
    })
    .await?;
    Ok(Json(alarms))
}

/// An optional JSON object body; an empty body is `{}`.
pub(super) fn object_body(body: &Bytes) -> Result<serde_json::Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::bad_request("request body must be a JSON object")),
    }
}

/// A required short text field of a body.
pub(super) fn text_field(
    body: &serde_json::Map<String, Value>,
    name: &str,
    max_chars: usize,
) -> Result<Option<String>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => {
            let text = text.trim();
            if text.chars().count() > max_chars {
                Err(ApiError::bad_request(format!(
                    "{name} is longer than {max_chars} characters"
                )))
            } else {
                Ok(Some(text.to_string()).filter(|t| !t.is_empty()))
            }
        }
        Some(_) => Err(ApiError::bad_request(format!("{name} must be a string"))),
    }
}

/// `POST /api/v1/admin/alarms/{id}/acknowledge`, body `{"by": "…"}` (optional).
pub async fn acknowledge_alarm(
    State(state): State<AppState>,
    _admin: AdminCaller,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Json<Alarm>, ApiError> {
    let body = object_body(&body)?;
    let by = text_field(&body, "by", 64)?.unwrap_or_else(|| "admin".into());
    let alarm = with_store(&state, "acknowledge alarm", move |store| {
        store.acknowledge_alarm(id, &by, &ServerTime::now())
    })
    .await?
    .ok_or_else(|| ApiError::not_found("no such alarm"))?;
    tracing::info!(alarm = id, kiosk_id = %alarm.kiosk_id, kind = %alarm.kind, "alarm acknowledged");
    audit(
        &state,
        "alarm.acknowledge",
        format!("alarm {id}"),
        Some(format!("{} on {}", alarm.kind, alarm.kiosk_id)),
    )
    .await;
    Ok(Json(alarm))
}

/// `GET /api/v1/admin/tickets?status=open|resolved|all`
pub async fn list_tickets(
    State(state): State<AppState>,
    _admin: AdminCaller,
    uri: Uri,
) -> Result<Json<Vec<Ticket>>, ApiError> {
    let status = match Params::of(&uri).get("status").unwrap_or("open") {
        "open" => TicketStatusFilter::Open,
        "resolved" => TicketStatusFilter::Resolved,
        "all" => TicketStatusFilter::All,
        _ => {
            return Err(ApiError::bad_request(
                "status must be open, resolved or all",
            ));
        }
    };
    Ok(Json(
        with_store(&state, "list tickets", move |store| store.tickets(status)).await?,
    ))
}

fn ticket_answer(update: TicketUpdate) -> Result<Json<Ticket>, ApiError> {
    match update {
        TicketUpdate::Updated(ticket) => Ok(Json(ticket)),
        TicketUpdate::NotFound => Err(ApiError::not_found("no such ticket")),
        TicketUpdate::AlreadyResolved(_) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "the ticket is resolved; it can no longer change",
        )),
    }
}

/// `POST /api/v1/admin/tickets/{id}/assign`, body `{"assignee": "…"}`.
pub async fn assign_ticket(
    State(state): State<AppState>,
    _admin: AdminCaller,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Json<Ticket>, ApiError> {
    let body = object_body(&body)?;
    let assignee = text_field(&body, "assignee", 64)?
        .ok_or_else(|| ApiError::bad_request("assignee is required"))?;
    let who = assignee.clone();
    let update = with_store(&state, "assign ticket", move |store| {
        store.assign_ticket(id, &who, &ServerTime::now())
    })
    .await?;
    if matches!(update, TicketUpdate::Updated(_)) {
        audit(
            &state,
            "ticket.assign",
            format!("ticket {id}"),
            Some(format!("to {assignee}")),
        )
        .await;
    }
    ticket_answer(update)
}

/// `POST /api/v1/admin/tickets/{id}/resolve`, body `{"resolution": "…"}`.
pub async fn resolve_ticket(
    State(state): State<AppState>,
    _admin: AdminCaller,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Json<Ticket>, ApiError> {
    let body = object_body(&body)?;
    let resolution = text_field(&body, "resolution", 2000)?
        .ok_or_else(|| ApiError::bad_request("resolution is required: say what was done"))?;
    let note = resolution.clone();
    let update = with_store(&state, "resolve ticket", move |store| {
        store.resolve_ticket(id, &note, &ServerTime::now())
    })
    .await?;
    if matches!(update, TicketUpdate::Updated(_)) {
        audit(
            &state,
            "ticket.resolve",
            format!("ticket {id}"),
            Some(resolution),
        )
        .await;
    }
    ticket_answer(update)
}

/// Disinfection compliance of every kiosk; never-seen kiosks are listed but never overdue.
pub(crate) async fn compliance(state: &AppState) -> Result<(Vec<Value>, i64), ApiError> {
    let (states, records) = with_store(state, "disinfection", |store| {
        Ok((store.kiosk_states()?, store.last_disinfections()?))
    })
    .await?;
    let interval_ms = duration_ms(state.policy.disinfection_interval);
    let now = ServerTime::now();
    let by_kiosk: BTreeMap<&str, _> = records.iter().map(|r| (r.kiosk_id.as_str(), r)).collect();
    let mut lines = fleet_lines(state, &states);
    for r in &records {
        if !lines.iter().any(|(id, _, _)| id == &r.kiosk_id) {
            lines.push((r.kiosk_id.clone(), None, false));
        }
    }
    let mut rows: Vec<(i64, Value)> = lines
        .iter()
        .map(|(id, s, _)| {
            let status = status_of(*s);
            let record = by_kiosk.get(id.as_str());
            let since_ms = record.map(|r| (now.unix_ms - r.at_unix_ms).max(0));
            let overdue =
                status != Status::NeverSeen && since_ms.is_none_or(|since| since > interval_ms);
            // Most overdue first: never recorded, then the longest since the last record.
            let order = since_ms.unwrap_or(i64::MAX);
            (
                if overdue { order } else { -1 },
                json!({
                    "kiosk_id": id,
                    "status": status,
                    "last_at": record.map(|r| &r.at),
                    "staff_id": record.and_then(|r| r.staff_id.as_ref()),
                    "method": record.and_then(|r| r.method.as_ref()),
                    "surfaces": record.map(|r| &r.surfaces),
                    "since_s": since_ms.map(|ms| ms / 1000),
                    "overdue": overdue,
                }),
            )
        })
        .collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.0));
    Ok((
        rows.into_iter().map(|(_, v)| v).collect(),
        interval_ms / 1000,
    ))
}

/// `GET /api/v1/admin/disinfection`
pub async fn disinfection(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> Result<Json<Value>, ApiError> {
    let (kiosks, interval_s) = compliance(&state).await?;
    Ok(Json(json!({
        "at": ServerTime::now().rfc3339,
        "interval_s": interval_s,
        "kiosks": kiosks,
    })))
}

/// `GET /api/v1/admin/disinfection/overdue`: most overdue first.
pub async fn disinfection_overdue(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> Result<Json<Value>, ApiError> {
    let (kiosks, interval_s) = compliance(&state).await?;
    let overdue: Vec<Value> = kiosks
        .into_iter()
        .filter(|k| k["overdue"] == Value::Bool(true))
        .collect();
    Ok(Json(json!({
        "at": ServerTime::now().rfc3339,
        "interval_s": interval_s,
        "kiosks": overdue,
    })))
}

/// `GET /api/v1/admin/reports/kiosks?days=7&min_faults=3&min_transactions=35`: kiosks with
/// many faults or little use (never-seen kiosks are left out: they are not in service).
pub async fn kiosk_report(
    State(state): State<AppState>,
    _admin: AdminCaller,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let params = Params::of(&uri);
    let days = params.number("days", 7, 1..=366)?;
    let min_faults = params.number("min_faults", 3, 1..=1_000_000)?;
    let min_transactions = params.number("min_transactions", 5 * days, 0..=10_000_000)?;
    let now = ServerTime::now();
    let since = ServerTime::from_unix_ms(now.unix_ms - days * 86_400_000);
    let since_day: String = since.rfc3339.chars().take(10).collect();
    let (since_q, day_q) = (since.clone(), since_day.clone());
    let (states, activity) = with_store(&state, "kiosk report", move |store| {
        Ok((
            store.kiosk_states()?,
            store.kiosk_activity(&since_q, &day_q)?,
        ))
    })
    .await?;
    let activity: BTreeMap<&str, _> = activity.iter().map(|a| (a.kiosk_id.as_str(), a)).collect();
    let mut many_faults = Vec::new();
    let mut little_use = Vec::new();
    for (id, s, _) in fleet_lines(&state, &states) {
        let Some(s) = s else { continue };
        let (faults, transactions) = activity
            .get(id.as_str())
            .map_or((0, 0), |a| (a.faults, a.transactions));
        let line = json!({
            "kiosk_id": id,
            "status": status_of(Some(s)),
            "faults": faults,
            "transactions": transactions,
        });
        if faults >= min_faults {
            many_faults.push((faults, line.clone()));
        }
        if transactions < min_transactions {
            little_use.push((transactions, line));
        }
    }
    many_faults.sort_by_key(|line| std::cmp::Reverse(line.0));
    little_use.sort_by_key(|line| line.0);
    Ok(Json(json!({
        "since": since.rfc3339,
        "since_day": since_day,
        "days": days,
        "min_faults": min_faults,
        "min_transactions": min_transactions,
        "many_faults": many_faults.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        "little_use": little_use.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
    })))
}

//! `/console/fleet`: every kiosk — online / offline / never seen, last heartbeat, catalogue
//! desired vs reported, open alarms, availability.

use super::{int, list, or_dash, real, text};
use crate::api::AppState;
use crate::api::admin::fleet_view;
use crate::api::catalogue::rollout_view;
use crate::console::auth::Session;
use crate::console::html::{self, Nav, card, kiosk_status, meter, time};
use crate::console::{ConsoleError, blocking, store_failed};
use crate::storage::AlarmStatusFilter;
use axum::extract::State;
use axum::response::Response;
use maud::html;
use std::collections::BTreeMap;

/// `GET /console/fleet`
pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, ConsoleError> {
    let fleet = fleet_view(&state).await?;
    let rollout = rollout_view(&state).await?;
    let alarms = blocking(&state, |store| store.alarms(AlarmStatusFilter::Open, None))
        .await?
        .map_err(|e| store_failed("list alarms", &e))?;
    let mut open_alarms: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for alarm in &alarms {
        let entry = open_alarms.entry(alarm.kiosk_id.as_str()).or_default();
        entry.0 += 1;
        if !alarm.acknowledged {
            entry.1 += 1;
        }
    }
    let rollout_by_id: BTreeMap<&str, &serde_json::Value> = list(&rollout, "kiosks")
        .iter()
        .filter_map(|k| Some((text(k, "kiosk_id")?, k)))
        .collect();
    let summary = &fleet["summary"];
    let kiosks = list(&fleet, "kiosks");
    let availabilities: Vec<f64> = kiosks
        .iter()
        .filter_map(|k| real(k, "availability"))
        .collect();
    let fleet_availability = (!availabilities.is_empty())
        .then(|| availabilities.iter().sum::<f64>() / availabilities.len() as f64);
    let unacknowledged = alarms.iter().filter(|a| !a.acknowledged).count();
    let body = html! {
        div.cards {
            (card("终端 Kiosks", html!{ (or_dash(int(summary, "kiosks"))) }, ""))
            (card("在线 Online", html!{ (or_dash(int(summary, "online"))) }, "ok"))
            (card("离线 Offline", html!{ (or_dash(int(summary, "offline"))) },
                if int(summary, "offline").unwrap_or(0) > 0 { "bad" } else { "" }))
            (card("从未上线 Never seen", html!{ (or_dash(int(summary, "never_seen"))) }, ""))
            (card("未处理告警 Open alarms", html!{ (alarms.len()) " " span.muted { "(" (unacknowledged) " 未确认)" } },
                if unacknowledged > 0 { "warn" } else { "" }))
            (card("实时可办率 Availability", html!{ (html::percent(fleet_availability)) }, ""))
            (card("全部终端目录版本 Catalogue to all", html!{ (or_dash(int(&rollout, "published_to_all"))) }, ""))
        }
        @if kiosks.is_empty() {
            (html::empty("还没有终端：用 --kiosk 配置终端，或等待终端第一次心跳。No kiosks yet."))
        } @else {
            div.table-wrap {
                table #fleet {
                    thead { tr {
                        th { "终端 Kiosk" } th { "状态 Status" } th { "最后心跳 Last heartbeat" }
                        th { "软件 Software" } th { "目录 应为/实际 Catalogue desired/reported" }
                        th.num { "告警 Alarms" } th { "可办率 Availability" } th { "分组 Group" }
                    } }
                    tbody {
                        @for k in kiosks {
                            @let id = text(k, "kiosk_id").unwrap_or("");
                            @let roll = rollout_by_id.get(id);
                            @let desired = roll.and_then(|r| int(r, "desired"));
                            @let reported = int(k, "catalogue_version");
                            @let (open, unacked) = open_alarms.get(id).copied().unwrap_or((0, 0));
                            tr data-kiosk=(id) {
                                td { a href=(format!("/console/kiosks/{id}")) { (id) } }
                                td { (kiosk_status(text(k, "status").unwrap_or(""))) }
                                td { (time(text(k, "last_seen"))) br; span.muted { (html::ago(text(k, "last_seen"))) } }
                                td { (or_dash(text(k, "software_version"))) }
                                td {
                                    (or_dash(desired)) " / " (or_dash(reported))
                                    @if let (Some(d), Some(r)) = (desired, reported) {
                                        @if r < d { " " span.badge.warn { "待更新" } }
                                    }
                                }
                                td.num {
                                    @if open > 0 {
                                        a href=(format!("/console/alarms?kiosk={id}")) { (open) }
                                        @if unacked > 0 { " " span.badge.bad { (unacked) " 未确认" } }
                                    } @else { span.muted { "0" } }
                                }
                                td { (meter(real(k, "availability"))) }
                                td { (or_dash(roll.and_then(|r| text(r, "group")))) }
                            }
                        }
                    }
                }
            }
            p.hint { "离线：连续三次未收到心跳。从未上线：已配置但从未发来心跳，不计入可办率。 Offline = three missed heartbeats; never-seen kiosks are not counted in availability." }
        }
    };
    Ok(html::page(
        &session,
        Nav::Fleet,
        "终端总览 Fleet overview",
        body,
    ))
}

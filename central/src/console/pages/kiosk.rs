//! `/console/kiosks/{id}`: one kiosk — status, devices, alarms, recent events, enrolment
//! (one-time code, revocation) and its catalogue group.

use super::{int, list, or_dash, real, text};
use crate::api::AppState;
use crate::api::admin::fleet_view;
use crate::api::catalogue::rollout_view;
use crate::catalogue as actions;
use crate::clock::ServerTime;
use crate::console::auth::{Post, Session, redirect_with_flash};
use crate::console::html::{self, Nav, csrf, device_state, kiosk_status, meter, severity, time};
use crate::console::pages::alarms::alarm_actions;
use crate::console::{ConsoleError, blocking};
use crate::identity;
use crate::storage::{AlarmStatusFilter, Role, TransitionSubject};
use crate::users;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

/// How many alarms and events the page lists.
const RECENT: usize = 30;

/// `GET /console/kiosks/{id}`
pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let body = detail(&state, &session, &id, None).await?;
    Ok(html::page(
        &session,
        Nav::Fleet,
        &format!("终端 {id}"),
        body,
    ))
}

async fn detail(
    state: &AppState,
    session: &Session,
    id: &str,
    issued: Option<&identity::IssuedCode>,
) -> Result<Markup, ConsoleError> {
    let fleet = fleet_view(state).await?;
    let rollout = rollout_view(state).await?;
    let kiosk = list(&fleet, "kiosks")
        .iter()
        .find(|k| text(k, "kiosk_id") == Some(id))
        .cloned();
    let roll = list(&rollout, "kiosks")
        .iter()
        .find(|k| text(k, "kiosk_id") == Some(id))
        .cloned();
    let kiosk_id = id.to_string();
    let (alarms, transitions, key) = blocking(state, move |store| {
        Ok::<_, ConsoleError>((
            store.alarms(AlarmStatusFilter::All, Some(&kiosk_id))?,
            store.kiosk_transitions(&kiosk_id)?,
            store.kiosk_key(&kiosk_id)?,
        ))
    })
    .await??;
    if kiosk.is_none() && roll.is_none() && key.is_none() {
        return Err(ConsoleError::not_found(format!(
            "没有终端 {id} — no such kiosk"
        )));
    }
    let k = kiosk.unwrap_or_default();
    let roll = roll.unwrap_or_default();
    let devices = list(&k, "devices");
    let unavailable = list(&k, "unavailable_items");
    let admin = session.can(Role::Admin);
    Ok(html! {
        p { a href="/console/fleet" { "← 终端总览 Fleet" } }
        @if let Some(issued) = issued {
            div.panel #enrolment-code {
                h3 { "注册码（只显示这一次）One-time enrolment code — shown only now" }
                p { span.secret { (issued.code) } }
                p.hint { "有效期至 Valid until " (time(Some(&issued.expires_at))) "。在终端配置 [central] enrol_code 中填入此码，终端下次联网时完成注册。" }
            }
        }
        div.two-col {
            div.panel {
                h3 { "状态 Status" }
                dl.facts {
                    dt { "状态" } dd { (kiosk_status(text(&k, "status").unwrap_or("never_seen"))) }
                    dt { "最后心跳 Last heartbeat" } dd { (time(text(&k, "last_seen"))) " " span.muted { (html::ago(text(&k, "last_seen"))) } }
                    dt { "软件版本 Software" } dd { (or_dash(text(&k, "software_version"))) }
                    dt { "目录 应为/实际 Catalogue" } dd { (or_dash(int(&roll, "desired"))) " / " (or_dash(int(&k, "catalogue_version"))) }
                    dt { "分组 Group" } dd { (or_dash(text(&roll, "group"))) }
                    dt { "可办率 Availability" } dd { (meter(real(&k, "availability"))) " " span.muted { (or_dash(int(&k, "items_available"))) " / " (or_dash(int(&k, "items_offered"))) " 项" } }
                    dt { "待上传 Outbox" } dd { (or_dash(int(&k, "outbox_depth"))) " 条" @if let Some(age) = int(&k, "oldest_unsent_age_s") { span.muted { "，最早 " (age) " 秒前" } } }
                    dt { "死信 Dead letters" } dd { (or_dash(int(&k, "dead_letter_count"))) }
                }
            }
            div.panel {
                h3 { "注册 Enrolment" }
                dl.facts {
                    dt { "密钥 Key" } dd {
                        @match &key {
                            None => span.badge.muted { "未注册 not enrolled" },
                            Some(k) if k.revoked_at.is_some() => span.badge.bad { "已吊销 revoked" },
                            Some(_) => span.badge.ok { "有效 active" },
                        }
                    }
                    @if let Some(k) = &key {
                        dt { "注册于 Enrolled" } dd { (time(Some(&k.enrolled_at))) }
                        @if let Some(at) = &k.revoked_at {
                            dt { "吊销 Revoked" } dd { (time(Some(at))) " · " (or_dash(k.revoked_by.as_deref())) }
                        }
                        dt { "公钥 Public key" } dd { code { (k.public_key.get(..16).unwrap_or("")) "…" } }
                    }
                }
                @if admin {
                    div.row {
                        form.inline method="post" action=(format!("/console/kiosks/{id}/enrolment-code")) {
                            (csrf(session))
                            button type="submit" { "生成注册码 New enrolment code" }
                        }
                        @if key.as_ref().is_some_and(|k| k.revoked_at.is_none()) {
                            form.inline method="post" action=(format!("/console/kiosks/{id}/revoke")) {
                                (csrf(session))
                                label.check { input type="checkbox" name="confirm" value="yes" required; "确认吊销 confirm" }
                                button.danger type="submit" { "吊销 Revoke" }
                            }
                        }
                    }
                } @else {
                    p.hint { "注册与吊销需要管理员权限。 Enrolment needs the admin role." }
                }
                @if session.can(Role::Operator) {
                    form.spaced method="post" action=(format!("/console/kiosks/{id}/group")) {
                        (csrf(session))
                        div.row {
                            label { "目录分组 Catalogue group（留空：无分组）"
                                input type="text" name="group" value=(text(&roll, "group").unwrap_or("")) placeholder="pilot";
                            }
                            button type="submit" { "保存分组 Set group" }
                        }
                    }
                }
            }
        }
        h2 { "设备 Devices" }
        @if devices.is_empty() {
            (html::empty("尚无设备报告。 No device reports yet."))
        } @else {
            div.table-wrap { table {
                thead { tr { th { "设备 Device" } th { "状态 State" } th { "详情 Detail" } } }
                tbody { @for d in devices { tr {
                    td { code { (text(d, "class").unwrap_or("")) } }
                    td { (device_state(text(d, "state").unwrap_or(""))) }
                    td { (or_dash(text(d, "detail"))) }
                } } }
            } }
        }
        @if !unavailable.is_empty() {
            p { "暂不可办事项 Unavailable items: "
                @for item in unavailable { code { (item.as_str().unwrap_or("")) } " " }
            }
        }
        h2 { "告警 Alarms" }
        @if alarms.is_empty() {
            (html::empty("没有告警。 No alarms."))
        } @else {
            div.table-wrap { table {
                thead { tr { th { "级别" } th { "类型 Kind" } th { "状态" } th { "说明 Message" } th { "首次 First" } th { "最近 Last" } th { "操作" } } }
                tbody { @for a in alarms.iter().take(RECENT) { tr {
                    td { (severity(&a.severity)) }
                    td { code { (a.kind) } }
                    td { (if a.status == "active" { "活动 active" } else { "已清除 cleared" }) @if a.acknowledged { br; span.muted { "已确认 " (or_dash(a.acknowledged_by.as_deref())) } } }
                    td { (or_dash(a.message.as_deref())) }
                    td { (time(Some(&a.first_raised_at))) }
                    td { (time(Some(&a.last_raised_at))) " ×" (a.raise_count) }
                    td.actions { (alarm_actions(session, a, &format!("/console/kiosks/{id}"))) }
                } } }
            } }
        }
        h2 { "近期事件 Recent events" }
        @if transitions.is_empty() {
            (html::empty("没有记录的状态变化。 No recorded changes."))
        } @else {
            div.table-wrap { table {
                thead { tr { th { "时间 At" } th { "对象 Subject" } th { "变化 Change" } } }
                tbody { @for t in transitions.iter().rev().take(RECENT) { tr {
                    td { (time(Some(&t.at))) }
                    td { @match &t.subject { TransitionSubject::Connectivity => "联网 connectivity", TransitionSubject::Device(d) => code { (d) } } }
                    td { (or_dash(t.from_state.as_deref())) " → " strong { (t.to_state) } @if let Some(d) = &t.to_detail { " (" (d) ")" } }
                } } }
            } }
        }
    })
}

/// `POST /console/kiosks/{id}/enrolment-code` (admin): a new one-time code, shown once.
pub(crate) async fn enrol_code(
    State(state): State<AppState>,
    Path(id): Path<String>,
    post: Post,
) -> Result<Response, ConsoleError> {
    let session = post.session;
    session.require(Role::Admin)?;
    let (kiosk_id, actor) = (id.clone(), session.actor());
    let issued = blocking(&state, move |store| {
        let issued = identity::issue_code(
            store,
            &kiosk_id,
            identity::DEFAULT_CODE_TTL,
            &actor.name,
            &ServerTime::now(),
        )?;
        users::record(
            store,
            &actor,
            "kiosk.enrolment_code",
            Some(kiosk_id.clone()),
            Some(format!("valid until {}", issued.expires_at)),
        )?;
        Ok::<_, ConsoleError>(issued)
    })
    .await??;
    let body = detail(&state, &session, &id, Some(&issued)).await?;
    Ok(html::page(&session, Nav::Fleet, &format!("终端 {id}"), body).into_response())
}

/// `POST /console/kiosks/{id}/revoke` (admin; the form's confirm box must be ticked).
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    post: Post,
) -> Result<Response, ConsoleError> {
    post.session.require(Role::Admin)?;
    if post.form.get("confirm") != Some("yes") {
        return Err(ConsoleError::bad_request(
            "请勾选确认 — tick the confirm box to revoke",
        ));
    }
    let (kiosk_id, actor) = (id.clone(), post.session.actor());
    blocking(&state, move |store| {
        identity::revoke(store, &kiosk_id, &actor.name, &ServerTime::now())?;
        users::record(store, &actor, "kiosk.revoke", Some(kiosk_id.clone()), None)?;
        Ok::<_, ConsoleError>(())
    })
    .await??;
    tracing::warn!(kiosk_id = %id, user = %post.session.user.username, "kiosk revoked from the console");
    Ok(redirect_with_flash(
        &format!("/console/kiosks/{id}"),
        &format!("终端 {id} 已吊销；生成新注册码即可重新注册。 Kiosk revoked."),
    ))
}

/// `POST /console/kiosks/{id}/group` (operator): `group` empty for none.
pub(crate) async fn set_group(
    State(state): State<AppState>,
    Path(id): Path<String>,
    post: Post,
) -> Result<Response, ConsoleError> {
    post.session.require(Role::Operator)?;
    if !crate::config::is_valid_kiosk_id(&id) {
        return Err(ConsoleError::bad_request("终端编号无效 — invalid kiosk id"));
    }
    let group = post
        .form
        .get("group")
        .map(|g| g.trim().to_string())
        .filter(|g| !g.is_empty());
    if let Some(group) = &group {
        actions::check_group(group)?;
    }
    let (kiosk_id, actor, g) = (id.clone(), post.session.actor(), group.clone());
    blocking(&state, move |store| {
        store.set_kiosk_group(&kiosk_id, g.as_deref(), &ServerTime::now())?;
        users::record(
            store,
            &actor,
            "kiosk.group",
            Some(kiosk_id.clone()),
            Some(format!("group {}", g.as_deref().unwrap_or("(none)"))),
        )?;
        Ok::<_, ConsoleError>(())
    })
    .await??;
    Ok(redirect_with_flash(
        &format!("/console/kiosks/{id}"),
        &format!(
            "分组已设为 {} — group set",
            group.as_deref().unwrap_or("（无）")
        ),
    ))
}

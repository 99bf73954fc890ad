//! `/console/alarms` and `/console/tickets`: acknowledge an alarm, escalate it to a fault
//! ticket, assign a ticket, resolve it with a note.

use crate::api::AppState;
use crate::api::query::Params;
use crate::clock::ServerTime;
use crate::console::auth::{Post, Session, redirect_with_flash};
use crate::console::html::{self, Nav, csrf, severity, time};
use crate::console::pages::or_dash;
use crate::console::{ConsoleError, blocking};
use crate::storage::{
    Alarm, AlarmStatusFilter, Escalation, Role, TicketStatusFilter, TicketUpdate,
};
use crate::users;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use maud::{Markup, html};

/// Where to go after an action: the form's `back` when it is a console page.
fn back(post: &Post, default: &str) -> String {
    post.form
        .get("back")
        .filter(|b| b.starts_with("/console/") && !b.contains("//"))
        .unwrap_or(default)
        .to_string()
}

/// The buttons of one alarm row (operators only).
pub(crate) fn alarm_actions(session: &Session, alarm: &Alarm, back: &str) -> Markup {
    if !session.can(Role::Operator) {
        return html! {
            @if let Some(ticket) = alarm.ticket_id { a href="/console/tickets?status=all" { "工单 #" (ticket) } }
        };
    }
    html! {
        @if alarm.status == "active" && !alarm.acknowledged {
            form.inline method="post" action=(format!("/console/alarms/{}/acknowledge", alarm.id)) {
                (csrf(session))
                input type="hidden" name="back" value=(back);
                button.small type="submit" { "确认 Ack" }
            }
        }
        @if let Some(ticket) = alarm.ticket_id {
            a href="/console/tickets?status=all" { "工单 #" (ticket) }
        } @else if alarm.status == "active" {
            form.inline method="post" action=(format!("/console/alarms/{}/escalate", alarm.id)) {
                (csrf(session))
                input type="hidden" name="back" value=(back);
                button.small type="submit" { "转工单 Escalate" }
            }
        }
    }
}

fn filter_links(base: &str, current: &str, options: &[(&str, &str)], extra: &str) -> Markup {
    html! {
        div.filters {
            @for (value, label) in options {
                a href=(format!("{base}?status={value}{extra}")) class=@if *value == current { "active" } { (label) }
            }
        }
    }
}

/// `GET /console/alarms?status=open|unacknowledged|cleared|all&kiosk=ID`
pub(crate) async fn alarms_page(
    State(state): State<AppState>,
    session: Session,
    uri: Uri,
) -> Result<Response, ConsoleError> {
    let params = Params::of(&uri);
    let status_text = params.get("status").unwrap_or("open").to_string();
    let status = match status_text.as_str() {
        "open" => AlarmStatusFilter::Open,
        "unacknowledged" => AlarmStatusFilter::Unacknowledged,
        "cleared" => AlarmStatusFilter::Cleared,
        "all" => AlarmStatusFilter::All,
        _ => {
            return Err(ConsoleError::bad_request(
                "status: open, unacknowledged, cleared, all",
            ));
        }
    };
    let kiosk = params.get("kiosk").map(str::to_string);
    let query = kiosk.clone();
    let alarms = blocking(&state, move |store| store.alarms(status, query.as_deref())).await??;
    let extra = kiosk
        .as_deref()
        .map(|k| format!("&kiosk={k}"))
        .unwrap_or_default();
    let here = format!("/console/alarms?status={status_text}{extra}");
    let body = html! {
        (filter_links("/console/alarms", &status_text, &[
            ("open", "未清除 Open"), ("unacknowledged", "未确认 Unacknowledged"),
            ("cleared", "已清除 Cleared"), ("all", "全部 All")], &extra))
        @if let Some(k) = &kiosk {
            p { "终端 Kiosk " a href=(format!("/console/kiosks/{k}")) { (k) } " · " a href=(format!("/console/alarms?status={status_text}")) { "全部终端 all kiosks" } }
        }
        @if alarms.is_empty() {
            (html::empty("没有符合条件的告警。 No alarms here."))
        } @else {
            div.table-wrap { table #alarms {
                thead { tr {
                    th { "级别 Severity" } th { "终端 Kiosk" } th { "类型 Kind" } th { "说明 Message" }
                    th { "首次 First raised" } th { "最近 Last" } th { "状态 State" } th { "操作 Actions" }
                } }
                tbody { @for a in &alarms { tr data-alarm=(a.id) {
                    td { (severity(&a.severity)) }
                    td { a href=(format!("/console/kiosks/{}", a.kiosk_id)) { (a.kiosk_id) } }
                    td { code { (a.kind) } @if a.flapping { " " span.badge.warn { "抖动 flapping" } } }
                    td { (or_dash(a.message.as_deref())) }
                    td { (time(Some(&a.first_raised_at))) }
                    td { (time(Some(&a.last_raised_at))) " ×" (a.raise_count) }
                    td {
                        @if a.status == "active" { span.badge.bad { "活动 active" } } @else { span.badge.muted { "已清除 cleared" } }
                        @if a.acknowledged { br; span.muted { "已确认 " (or_dash(a.acknowledged_by.as_deref())) } }
                    }
                    td.actions { (alarm_actions(&session, a, &here)) }
                } } }
            } }
        }
        p.hint { "每个终端每种告警只有一条；故障恢复后自动清除。长时间未清除的告警会自动转为工单。 One alarm per kiosk and kind; it clears itself when the kiosk reports the fault cleared; long-open alarms become tickets." }
    };
    Ok(html::page(&session, Nav::Alarms, "告警 Alarms", body))
}

/// `POST /console/alarms/{id}/acknowledge` (operator)
pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    post: Post,
) -> Result<Response, ConsoleError> {
    post.session.require(Role::Operator)?;
    let actor = post.session.actor();
    let alarm = blocking(&state, move |store| {
        let alarm = store.acknowledge_alarm(id, &actor.name, &ServerTime::now())?;
        if let Some(alarm) = &alarm {
            users::record(
                store,
                &actor,
                "alarm.acknowledge",
                Some(format!("alarm {id}")),
                Some(format!("{} on {}", alarm.kind, alarm.kiosk_id)),
            )?;
        }
        Ok::<_, ConsoleError>(alarm)
    })
    .await??
    .ok_or_else(|| ConsoleError::not_found("没有这条告警 — no such alarm"))?;
    Ok(redirect_with_flash(
        &back(&post, "/console/alarms"),
        &format!(
            "已确认告警 {} ({}) — alarm acknowledged",
            alarm.kind, alarm.kiosk_id
        ),
    ))
}

/// `POST /console/alarms/{id}/escalate` (operator): opens a fault ticket now.
pub(crate) async fn escalate(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    post: Post,
) -> Result<Response, ConsoleError> {
    post.session.require(Role::Operator)?;
    let actor = post.session.actor();
    let outcome = blocking(&state, move |store| {
        let outcome = store.escalate_alarm(id, &ServerTime::now())?;
        if let Escalation::Opened(ticket) = &outcome {
            users::record(
                store,
                &actor,
                "alarm.escalate",
                Some(format!("alarm {id}")),
                Some(format!("ticket {}", ticket.id)),
            )?;
        }
        Ok::<_, ConsoleError>(outcome)
    })
    .await??;
    let message = match outcome {
        Escalation::Opened(t) => format!("已开工单 #{} — ticket opened", t.id),
        Escalation::Existing(t) => format!("该告警已有工单 #{} — it already has a ticket", t.id),
        Escalation::Cleared => {
            return Err(ConsoleError::new(
                StatusCode::CONFLICT,
                "告警已清除，无需工单 — the alarm is cleared",
            ));
        }
        Escalation::NotFound => {
            return Err(ConsoleError::not_found("没有这条告警 — no such alarm"));
        }
    };
    Ok(redirect_with_flash(
        &back(&post, "/console/tickets"),
        &message,
    ))
}

/// `GET /console/tickets?status=open|resolved|all`
pub(crate) async fn tickets_page(
    State(state): State<AppState>,
    session: Session,
    uri: Uri,
) -> Result<Response, ConsoleError> {
    let status_text = Params::of(&uri).get("status").unwrap_or("open").to_string();
    let status = match status_text.as_str() {
        "open" => TicketStatusFilter::Open,
        "resolved" => TicketStatusFilter::Resolved,
        "all" => TicketStatusFilter::All,
        _ => return Err(ConsoleError::bad_request("status: open, resolved, all")),
    };
    let tickets = blocking(&state, move |store| store.tickets(status)).await??;
    let operator = session.can(Role::Operator);
    let here = format!("/console/tickets?status={status_text}");
    let body = html! {
        (filter_links("/console/tickets", &status_text, &[
            ("open", "处理中 Open"), ("resolved", "已解决 Resolved"), ("all", "全部 All")], ""))
        @if tickets.is_empty() {
            (html::empty("没有工单。 No tickets."))
        } @else {
            div.table-wrap { table #tickets {
                thead { tr {
                    th { "#" } th { "级别" } th { "终端 Kiosk" } th { "标题 Title" } th { "开单 Opened" }
                    th { "负责人 Assignee" } th { "状态 / 处理结果 Resolution" } @if operator { th { "操作 Actions" } }
                } }
                tbody { @for t in &tickets { tr data-ticket=(t.id) {
                    td { (t.id) }
                    td { (severity(&t.severity)) }
                    td { a href=(format!("/console/kiosks/{}", t.kiosk_id)) { (t.kiosk_id) } }
                    td { (t.title) }
                    td { (time(Some(&t.opened_at))) }
                    td { (or_dash(t.assignee.as_deref())) }
                    td {
                        @if t.status == "resolved" {
                            span.badge.ok { "已解决 resolved" } " " (time(t.resolved_at.as_deref()))
                            br; (or_dash(t.resolution.as_deref()))
                        } @else { span.badge.warn { "处理中 open" } }
                    }
                    @if operator { td.actions {
                        @if t.status == "open" {
                            form method="post" action=(format!("/console/tickets/{}/assign", t.id)) {
                                (csrf(&session)) input type="hidden" name="back" value=(here);
                                div.row {
                                    input type="text" name="assignee" placeholder="负责人 assignee" value=(t.assignee.as_deref().unwrap_or("")) required maxlength="64";
                                    button.small type="submit" { "指派 Assign" }
                                }
                            }
                            form method="post" action=(format!("/console/tickets/{}/resolve", t.id)) {
                                (csrf(&session)) input type="hidden" name="back" value=(here);
                                textarea name="resolution" placeholder="处理说明 what was done" required maxlength="2000" {}
                                button.small type="submit" { "解决 Resolve" }
                            }
                        }
                    } }
                } } }
            } }
        }
    };
    Ok(html::page(
        &session,
        Nav::Tickets,
        "工单 Fault tickets",
        body,
    ))
}

fn ticket_result(update: TicketUpdate) -> Result<crate::storage::Ticket, ConsoleError> {
    match update {
        TicketUpdate::Updated(t) => Ok(t),
        TicketUpdate::NotFound => Err(ConsoleError::not_found("没有这张工单 — no such ticket")),
        TicketUpdate::AlreadyResolved(_) => Err(ConsoleError::new(
            StatusCode::CONFLICT,
            "工单已解决，不能再修改 — the ticket is resolved",
        )),
    }
}

fn required(post: &Post, name: &str, max: usize, what: &str) -> Result<String, ConsoleError> {
    let value = post.form.get(name).map(str::trim).unwrap_or("");
    if value.is_empty() || value.chars().count() > max {
        return Err(ConsoleError::bad_request(format!(
            "请填写{what}（最多 {max} 字）— {name} is required, at most {max} characters"
        )));
    }
    Ok(value.to_string())
}

/// `POST /console/tickets/{id}/assign` (operator)
pub(crate) async fn assign(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    post: Post,
) -> Result<Response, ConsoleError> {
    post.session.require(Role::Operator)?;
    let assignee = required(&post, "assignee", 64, "负责人")?;
    let actor = post.session.actor();
    let who = assignee.clone();
    let ticket = blocking(&state, move |store| {
        let ticket = ticket_result(store.assign_ticket(id, &who, &ServerTime::now())?)?;
        users::record(
            store,
            &actor,
            "ticket.assign",
            Some(format!("ticket {id}")),
            Some(format!("to {who}")),
        )?;
        Ok::<_, ConsoleError>(ticket)
    })
    .await??;
    Ok(redirect_with_flash(
        &back(&post, "/console/tickets"),
        &format!("工单 #{} 已指派给 {assignee}", ticket.id),
    ))
}

/// `POST /console/tickets/{id}/resolve` (operator)
pub(crate) async fn resolve(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    post: Post,
) -> Result<Response, ConsoleError> {
    post.session.require(Role::Operator)?;
    let resolution = required(&post, "resolution", 2000, "处理说明")?;
    let actor = post.session.actor();
    let ticket = blocking(&state, move |store| {
        let ticket = ticket_result(store.resolve_ticket(id, &resolution, &ServerTime::now())?)?;
        users::record(
            store,
            &actor,
            "ticket.resolve",
            Some(format!("ticket {id}")),
            Some(resolution),
        )?;
        Ok::<_, ConsoleError>(ticket)
    })
    .await??;
    Ok(redirect_with_flash(
        &back(&post, "/console/tickets"),
        &format!("工单 #{} 已解决 — ticket resolved", ticket.id),
    ))
}

//! `/console/availability`: 实时可办率 now (fleet, per kiosk, per item), the last 24 hours, and
//! disinfection compliance.

use super::{int, list, or_dash, real, text};
use crate::api::AppState;
use crate::api::admin::{availability_view, compliance};
use crate::clock::ServerTime;
use crate::console::auth::Session;
use crate::console::html::{self, Nav, card, kiosk_status, meter, time};
use crate::console::{ConsoleError, blocking};
use axum::extract::State;
use axum::response::Response;
use maud::html;

/// `GET /console/availability`
pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, ConsoleError> {
    let now = ServerTime::now();
    let view = availability_view(&state).await?;
    let (disinfection, interval_s) = compliance(&state).await?;
    let from = ServerTime::from_unix_ms(now.unix_ms - 24 * 3_600_000);
    let (f, n) = (from.clone(), now.clone());
    let history = blocking(&state, move |store| {
        store.availability_series(&f, &n, 3_600_000, None, None, &n)
    })
    .await??;
    let fleet = &view["fleet"];
    let body = html! {
        div.cards {
            (card("实时可办率 Availability now", html!{ (html::percent(real(fleet, "availability"))) }, ""))
            (card("在线率 Online", html!{ (html::percent(real(fleet, "online_fraction"))) }, ""))
            (card("在用终端 In service", html!{ (or_dash(int(fleet, "kiosks_in_service"))) }, ""))
            (card("在线 Online", html!{ (or_dash(int(fleet, "online"))) }, "ok"))
            (card("其余事项可办率 Other items", html!{ (html::percent(real(&view, "other_items_availability"))) }, ""))
        }
        h2 { "近 24 小时 Last 24 hours (每小时 hourly)" }
        div.chart aria-label="availability per hour" {
            @for p in &history {
                @match p.availability {
                    Some(a) => span.col title=(format!("{} {}", p.start, html::percent(Some(a)))) style=(format!("height:{:.0}%", (a * 100.0).clamp(1.0, 100.0))) {},
                    None => span.col.none title=(format!("{} —", p.start)) {},
                }
            }
        }
        div.chart-axis { span { (time(Some(&from.rfc3339))) } span { (time(Some(&now.rfc3339))) } }
        h2 { "各终端 Per kiosk" }
        div.table-wrap { table {
            thead { tr { th { "终端 Kiosk" } th { "状态" } th { "可办率 Availability" } th.num { "可办/提供 Doable/offered" } th { "不可办事项 Unavailable items" } } }
            tbody { @for k in list(&view, "kiosks") {
                @let id = text(k, "kiosk_id").unwrap_or("");
                tr {
                    td { a href=(format!("/console/kiosks/{id}")) { (id) } }
                    td { (kiosk_status(text(k, "status").unwrap_or(""))) }
                    td { (meter(real(k, "availability"))) }
                    td.num { (or_dash(int(k, "items_available"))) " / " (or_dash(int(k, "items_offered"))) }
                    td { @for i in list(k, "unavailable_items") { code { (i.as_str().unwrap_or("")) } " " } }
                }
            } }
        } }
        h2 { "受影响事项 Items not doable everywhere" }
        @if list(&view, "items").is_empty() {
            (html::empty("所有在线终端都能办理全部事项。 Every online kiosk can do every item."))
        } @else {
            div.table-wrap { table {
                thead { tr { th { "事项 Item" } th.num { "可办终端 Kiosks doable" } th { "可办率" } } }
                tbody { @for i in list(&view, "items") { tr {
                    td { code { (text(i, "item_code").unwrap_or("")) } }
                    td.num { (or_dash(int(i, "kiosks_doable"))) " / " (or_dash(int(i, "kiosks_in_service"))) }
                    td { (meter(real(i, "availability"))) }
                } } }
            } }
        }
        h2 { "消毒 Disinfection (每 " (interval_s / 3600) " 小时 every " (interval_s / 3600) " h)" }
        div.table-wrap { table {
            thead { tr { th { "终端 Kiosk" } th { "上次消毒 Last" } th { "人员 Staff" } th { "方式 Method" } th { "状态" } } }
            tbody { @for d in &disinfection { tr {
                td { (text(d, "kiosk_id").unwrap_or("")) }
                td { (time(text(d, "last_at"))) }
                td { (or_dash(text(d, "staff_id"))) }
                td { (or_dash(text(d, "method"))) }
                td { @if d["overdue"] == serde_json::Value::Bool(true) { span.badge.bad { "逾期 overdue" } } @else { span.badge.ok { "正常 ok" } } }
            } } }
        } }
    };
    Ok(html::page(
        &session,
        Nav::Availability,
        "可办率 Availability",
        body,
    ))
}

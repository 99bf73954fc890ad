//! `/console/audit`: the audit log, newest first, with filters and paging.

use crate::api::AppState;
use crate::api::query::Params;
use crate::console::auth::Session;
use crate::console::html::{self, Nav, time};
use crate::console::pages::or_dash;
use crate::console::{ConsoleError, blocking, percent_encode};
use crate::storage::AuditQuery;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use maud::html;

const PAGE: u32 = 100;

/// `GET /console/audit?actor=NAME&action=PREFIX&before=ID`
pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
    uri: Uri,
) -> Result<Response, ConsoleError> {
    let params = Params::of(&uri);
    let query = AuditQuery {
        before_id: params.get("before").and_then(|b| b.parse().ok()),
        actor: params.get("actor").map(str::to_string),
        action_prefix: params.get("action").map(str::to_string),
        limit: PAGE,
    };
    let q = query.clone();
    let entries = blocking(&state, move |store| store.audit_log(&q)).await??;
    let filter = format!(
        "actor={}&action={}",
        percent_encode(query.actor.as_deref().unwrap_or("")),
        percent_encode(query.action_prefix.as_deref().unwrap_or(""))
    );
    let body = html! {
        form.row method="get" action="/console/audit" {
            label { "操作人 Actor" input type="text" name="actor" value=(query.actor.as_deref().unwrap_or("")); }
            label { "操作（前缀）Action prefix" input type="text" name="action" value=(query.action_prefix.as_deref().unwrap_or("")) placeholder="catalogue."; }
            label { " " button type="submit" { "筛选 Filter" } }
        }
        @if entries.is_empty() {
            (html::empty("没有记录。 No entries."))
        } @else {
            div.table-wrap { table #audit {
                thead { tr { th { "#" } th { "时间 At" } th { "操作人 Actor" } th { "来源 Source" } th { "操作 Action" } th { "对象 Target" } th { "详情 Detail" } } }
                tbody { @for e in &entries { tr {
                    td { (e.id) }
                    td { (time(Some(&e.at))) }
                    td { (e.actor) }
                    td { span.badge.muted { (e.source) } }
                    td { code { (e.action) } }
                    td { (or_dash(e.target.as_deref())) }
                    td { (or_dash(e.detail.as_deref())) }
                } } }
            } }
            @if entries.len() as u32 == PAGE {
                @if let Some(last) = entries.last() {
                    p { a href=(format!("/console/audit?{filter}&before={}", last.id)) { "更早的记录 Older →" } }
                }
            }
        }
        p.hint { "记录控制台、管理 API 和命令行做出的每一项更改；不记录密码、令牌或注册码。 Every change made in the console, over the admin API and on the command line; never passwords, tokens or codes." }
    };
    Ok(html::page(&session, Nav::Audit, "审计日志 Audit log", body))
}

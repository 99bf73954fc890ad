//! `/console/rollout`: catalogue rollout progress per kiosk (desired vs reported version).

use super::{int, list, or_dash, text};
use crate::api::AppState;
use crate::api::catalogue::rollout_view;
use crate::console::ConsoleError;
use crate::console::auth::Session;
use crate::console::html::{self, Nav, card, rollout_status, time};
use axum::extract::State;
use axum::response::Response;
use maud::html;

/// `GET /console/rollout`
pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, ConsoleError> {
    let rollout = rollout_view(&state).await?;
    let counts = &rollout["counts"];
    let kiosks = list(&rollout, "kiosks");
    let body = html! {
        div.cards {
            (card("全部终端目录版本 Published to all", html!{ (or_dash(int(&rollout, "published_to_all"))) }, ""))
            (card("终端 Kiosks", html!{ (or_dash(int(counts, "kiosks"))) }, ""))
            (card("已更新 Up to date", html!{ (or_dash(int(counts, "up_to_date"))) }, "ok"))
            (card("待更新 Pending", html!{ (or_dash(int(counts, "pending"))) }, if int(counts, "pending").unwrap_or(0) > 0 { "warn" } else { "" }))
            (card("从未上线 Never seen", html!{ (or_dash(int(counts, "never_seen"))) }, ""))
            (card("未发布 No target", html!{ (or_dash(int(counts, "no_target"))) }, ""))
        }
        @if kiosks.is_empty() {
            (html::empty("没有终端。 No kiosks."))
        } @else {
            div.table-wrap { table #rollout {
                thead { tr { th { "终端 Kiosk" } th { "分组 Group" } th.num { "应为 Desired" } th.num { "实际 Reported" } th { "状态 Status" } th { "最后心跳 Last seen" } } }
                tbody { @for k in kiosks {
                    @let id = text(k, "kiosk_id").unwrap_or("");
                    tr data-kiosk=(id) {
                        td { a href=(format!("/console/kiosks/{id}")) { (id) } }
                        td { (or_dash(text(k, "group"))) }
                        td.num.desired { (or_dash(int(k, "desired"))) }
                        td.num.reported { (or_dash(int(k, "reported"))) }
                        td { (rollout_status(text(k, "status").unwrap_or(""))) }
                        td { (time(text(k, "last_seen"))) " " span.muted { (html::ago(text(k, "last_seen"))) } }
                    }
                } }
            } }
        }
        p.hint { "终端在下一次心跳时得知应为版本，下载并校验签名后切换，再在心跳中报告实际版本。 A kiosk learns its desired version from its next heartbeat reply, downloads and verifies it, switches, and reports it in the following heartbeat." }
    };
    Ok(html::page(
        &session,
        Nav::Rollout,
        "目录发布进度 Catalogue rollout",
        body,
    ))
}

//! `/console/stats`: transactions and ratings per item / department / kiosk / day, abandonment
//! by step, and CSV export of both (the same rows as the admin API's CSV).

use crate::api::AppState;
use crate::api::query::Params;
use crate::api::stats::{
    abandonment_csv_for, abandonment_rows, group_name, transaction_rows, transactions_csv_for,
};
use crate::console::ConsoleError;
use crate::console::auth::Session;
use crate::console::html::{self, Nav};
use crate::console::pages::or_dash;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use maud::html;

const GROUPS: &[(&str, &str)] = &[
    ("item", "按事项 By item"),
    ("department", "按部门 By department"),
    ("kiosk", "按终端 By kiosk"),
    ("day", "按日期 By day"),
];

/// `GET /console/stats?by=item|department|kiosk|day&from=YYYY-MM-DD&to=YYYY-MM-DD`
pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
    uri: Uri,
) -> Result<Response, ConsoleError> {
    let (group, range, rows) = transaction_rows(&state, &uri).await?;
    let (_, abandonment) = abandonment_rows(&state, &uri).await?;
    let by = group_name(group);
    let query = uri.query().unwrap_or("");
    let params = Params::of(&uri);
    let range_query = format!(
        "from={}&to={}",
        range.from.as_deref().unwrap_or(""),
        range.to.as_deref().unwrap_or("")
    );
    let total: i64 = rows.iter().map(|r| r.transactions).sum();
    let body = html! {
        form.panel method="get" action="/console/stats" {
            div.row {
                label { "分组 Group by"
                    select name="by" { @for (value, label) in GROUPS { option value=(value) selected[*value == by] { (label) } } }
                }
                label { "从 From" input type="date" name="from" value=(params.get("from").unwrap_or("")); }
                label { "到 To" input type="date" name="to" value=(params.get("to").unwrap_or("")); }
                label { " " button.primary type="submit" { "查询 Show" } }
            }
        }
        p {
            a href=(format!("/console/stats/transactions.csv?{query}")) { "⬇ 导出 CSV（办件统计）Transactions CSV" }
            " · "
            a href=(format!("/console/stats/abandonment.csv?{range_query}")) { "⬇ 导出 CSV（中途放弃）Abandonment CSV" }
        }
        h2 { "办件与评价 Transactions and ratings" " " span.muted { "（共 " (total) " 件）" } }
        @if rows.is_empty() {
            (html::empty("这段时间没有办件记录。 No transactions in this range."))
        } @else {
            div.table-wrap { table #stats {
                thead { tr {
                    th { (GROUPS.iter().find(|g| g.0 == by).map_or(by, |g| g.1)) }
                    th.num { "办件 Total" } th.num { "办结 Completed" } th.num { "取消 Cancelled" } th.num { "超时 Timed out" } th.num { "失败 Failed" }
                    th.num { "平均用时 Avg s" } th.num { "评价数 Ratings" } th.num { "平均分 Avg" } th.num { "差评 Bad" } th.num { "未评 Skipped" }
                } }
                tbody { @for r in &rows { tr {
                    td { (r.label) @if r.label != r.key { br; code.muted { (r.key) } } }
                    td.num { (r.transactions) } td.num { (r.completed) } td.num { (r.cancelled) } td.num { (r.timed_out) } td.num { (r.failed) }
                    td.num { (or_dash(r.avg_duration_s.map(|s| format!("{s:.0}")))) }
                    td.num { (r.ratings) } td.num { (or_dash(r.avg_rating.map(|a| format!("{a:.2}")))) }
                    td.num { (r.bad_ratings) } td.num { (r.skipped_ratings) }
                } } }
            } }
        }
        h2 { "中途放弃 Abandonment by item and step" }
        @if abandonment.is_empty() {
            (html::empty("没有中途放弃的办件。 No abandoned sessions."))
        } @else {
            div.table-wrap { table {
                thead { tr { th { "事项 Item" } th { "步骤 Step" } th.num { "取消 Cancelled" } th.num { "超时 Timed out" } th.num { "合计 Total" } } }
                tbody { @for a in &abandonment { tr {
                    td { code { (a.item_code) } } td { (a.step) } td.num { (a.cancelled) } td.num { (a.timed_out) } td.num { (a.total) }
                } } }
            } }
        }
        p.hint { "日期为终端本地日期（办结时间）。 Days are the kiosk-local date the transaction finished." }
    };
    Ok(html::page(&session, Nav::Stats, "统计 Statistics", body))
}

/// `GET /console/stats/transactions.csv?by=…&from=…&to=…`
pub(crate) async fn transactions_csv(
    State(state): State<AppState>,
    _session: Session,
    uri: Uri,
) -> Result<Response, ConsoleError> {
    Ok(transactions_csv_for(&state, &uri).await?)
}

/// `GET /console/stats/abandonment.csv?from=…&to=…`
pub(crate) async fn abandonment_csv(
    State(state): State<AppState>,
    _session: Session,
    uri: Uri,
) -> Result<Response, ConsoleError> {
    Ok(abandonment_csv_for(&state, &uri).await?)
}

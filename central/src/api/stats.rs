//! Statistics (admin token): transactions and ratings per item / department / kiosk / day,
//! abandonment by step; as JSON and as CSV (UTF-8 with a byte-order mark, so that Excel shows
//! the Chinese names right).

use super::auth::AdminCaller;
use super::query::Params;
use super::{ApiError, AppState, with_store};
use crate::storage::{AbandonmentRow, DayRange, StatsGroup, StatsRow};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

fn range(params: &Params) -> Result<DayRange, ApiError> {
    let range = DayRange {
        from: params.day("from")?,
        to: params.day("to")?,
    };
    if let (Some(from), Some(to)) = (&range.from, &range.to)
        && from > to
    {
        return Err(ApiError::bad_request("from must not be after to"));
    }
    Ok(range)
}

pub(crate) async fn transaction_rows(
    state: &AppState,
    uri: &Uri,
) -> Result<(StatsGroup, DayRange, Vec<StatsRow>), ApiError> {
    let params = Params::of(uri);
    let by = params.get("by").unwrap_or("item");
    let group = StatsGroup::parse(by)
        .ok_or_else(|| ApiError::bad_request("by must be item, department, kiosk or day"))?;
    let range = range(&params)?;
    let query = range.clone();
    let rows = with_store(state, "transaction statistics", move |store| {
        store.transaction_stats(group, &query)
    })
    .await?;
    Ok((group, range, rows))
}

pub(crate) fn group_name(group: StatsGroup) -> &'static str {
    match group {
        StatsGroup::Item => "item",
        StatsGroup::Department => "department",
        StatsGroup::Kiosk => "kiosk",
        StatsGroup::Day => "day",
    }
}

/// `GET /api/v1/admin/stats/transactions?by=item|department|kiosk|day&from=YYYY-MM-DD&to=…`
pub async fn transactions_json(
    State(state): State<AppState>,
    _admin: AdminCaller,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let (group, range, rows) = transaction_rows(&state, &uri).await?;
    Ok(Json(json!({
        "by": group_name(group),
        "from": range.from,
        "to": range.to,
        "rows": rows,
    })))
}

/// `GET /api/v1/admin/stats/transactions.csv?by=…` — the same rows as CSV.
pub async fn transactions_csv(
    State(state): State<AppState>,
    _admin: AdminCaller,
    uri: Uri,
) -> Result<Response, ApiError> {
    transactions_csv_for(&state, &uri).await
}

/// The CSV of `transactions.csv` (also the console's export link).
pub(crate) async fn transactions_csv_for(
    state: &AppState,
    uri: &Uri,
) -> Result<Response, ApiError> {
    let (group, _, rows) = transaction_rows(state, uri).await?;
    let mut csv = Csv::new(&[
        group_name(group),
        "label",
        "transactions",
        "completed",
        "cancelled",
        "timed_out",
        "failed",
        "avg_duration_s",
        "ratings",
        "avg_rating",
        "bad_ratings",
        "skipped_ratings",
    ]);
    for r in &rows {
        csv.row(&[
            r.key.clone(),
            r.label.clone(),
            r.transactions.to_string(),
            r.completed.to_string(),
            r.cancelled.to_string(),
            r.timed_out.to_string(),
            r.failed.to_string(),
            r.avg_duration_s.map(|v| v.to_string()).unwrap_or_default(),
            r.ratings.to_string(),
            r.avg_rating.map(|v| v.to_string()).unwrap_or_default(),
            r.bad_ratings.to_string(),
            r.skipped_ratings.to_string(),
        ]);
    }
    Ok(csv.into_response(&format!("transactions-by-{}.csv", group_name(group))))
}

pub(crate) async fn abandonment_rows(
    state: &AppState,
    uri: &Uri,
) -> Result<(DayRange, Vec<AbandonmentRow>), ApiError> {
    let range = range(&Params::of(uri))?;
    let query = range.clone();
    let rows = with_store(state, "abandonment statistics", move |store| {
        store.abandonment(&query)
    })
    .await?;
    Ok((range, rows))
}

/// `GET /api/v1/admin/stats/abandonment?from=…&to=…`: cancelled and timed-out sessions by item
/// and step, and totals by step.
pub async fn abandonment_json(
    State(state): State<AppState>,
    _admin: AdminCaller,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let (range, rows) = abandonment_rows(&state, &uri).await?;
    let mut by_step: std::collections::BTreeMap<&str, (i64, i64, i64)> = Default::default();
    for r in &rows {
        let entry = by_step.entry(r.step.as_str()).or_default();
        entry.0 += r.cancelled;
        entry.1 += r.timed_out;
        entry.2 += r.total;
    }
    let mut steps: Vec<Value> = by_step
        .into_iter()
        .map(|(step, (cancelled, timed_out, total))| {
            json!({"step": step, "cancelled": cancelled, "timed_out": timed_out, "total": total})
        })
        .collect();
    steps.sort_by(|a, b| b["total"].as_i64().cmp(&a["total"].as_i64()));
    Ok(Json(json!({
        "from": range.from,
        "to": range.to,
        "by_step": steps,
        "by_item_step": rows,
    })))
}

/// `GET /api/v1/admin/stats/abandonment.csv`: the rows by item and step.
pub async fn abandonment_csv(
    State(state): State<AppState>,
    _admin: AdminCaller,
    uri: Uri,
) -> Result<Response, ApiError> {
    abandonment_csv_for(&state, &uri).await
}

/// The CSV of `abandonment.csv` (also the console's export link).
pub(crate) async fn abandonment_csv_for(state: &AppState, uri: &Uri) -> Result<Response, ApiError> {
    let (_, rows) = abandonment_rows(state, uri).await?;
    let mut csv = Csv::new(&["item_code", "step", "cancelled", "timed_out", "total"]);
    for r in &rows {
        csv.row(&[
            r.item_code.clone(),
            r.step.clone(),
            r.cancelled.to_string(),
            r.timed_out.to_string(),
            r.total.to_string(),
        ]);
    }
    Ok(csv.into_response("abandonment.csv"))
}

/// RFC 4180 CSV with CRLF line ends.
struct Csv(String);

impl Csv {
    fn new(header: &[&str]) -> Self {
        let mut csv = Csv("\u{feff}".to_string());
        csv.row(&header.iter().map(|h| h.to_string()).collect::<Vec<_>>());
        csv
    }

    fn row(&mut self, fields: &[String]) {
        let line: Vec<String> = fields.iter().map(|f| field(f)).collect();
        self.0.push_str(&line.join(","));
        self.0.push_str("\r\n");
    }

    fn into_response(self, file_name: &str) -> Response {
        let mut response = self.0.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
        response
    }
}

/// Quotes a field when it needs it; a leading `=`, `+`, `-` or `@` is prefixed with `'` so that
/// a spreadsheet does not run it as a formula.
fn field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) && value.parse::<f64>().is_err() {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("临时身份证明"), "临时身份证明");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=1+2"), "'=1+2");
        assert_eq!(field("-3.5"), "-3.5");
    }
}

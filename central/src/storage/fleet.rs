//! Fleet logic shared by both engines (written once against [`Sql`]): 5-minute availability
//! buckets, alarms and their escalation to fault tickets, disinfection records, statistics and
//! the kiosk report. The rules are described in `central/README.md` ("Alarms", "Availability").

use super::StorageError;
use super::sql::{Sql, SqlRow, Val, vals};
use crate::clock::ServerTime;
use kiosk_protocol::wire::Heartbeat;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Length of an availability bucket.
pub const BUCKET_MS: i64 = 5 * 60 * 1000;

/// The rules the centre applies to its fleet. `Default` is the production setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetPolicy {
    /// The interval kiosks are asked to keep (`HeartbeatReply::next_heartbeat_s`).
    pub heartbeat_interval: Duration,
    /// Silence after which a kiosk is offline: three missed heartbeats.
    pub offline_after: Duration,
    /// An `outbox_backlog` alarm is raised when the oldest unsent event is older than this.
    pub backlog_alarm_after: Duration,
    /// A cleared alarm raised again within this window is reopened (not a new alarm); a
    /// flapping alarm's clear is held for this long.
    pub flap_window: Duration,
    /// An alarm reopened this many times is flapping: its auto-clear is held.
    pub flap_hold_after: u32,
    /// An alarm open (not cleared) this long is escalated to a fault ticket.
    pub escalate_after: Duration,
    /// A kiosk should be disinfected at least this often.
    pub disinfection_interval: Duration,
}

impl Default for FleetPolicy {
    fn default() -> Self {
        Self::with_heartbeat_interval(Duration::from_secs(30))
    }
}

impl FleetPolicy {
    /// The default policy for a heartbeat interval; offline after three missed heartbeats.
    pub fn with_heartbeat_interval(interval: Duration) -> Self {
        let interval = interval.max(Duration::from_millis(100));
        Self {
            heartbeat_interval: interval,
            offline_after: interval * 3,
            backlog_alarm_after: Duration::from_secs(15 * 60),
            flap_window: Duration::from_secs(10 * 60),
            flap_hold_after: 2,
            escalate_after: Duration::from_secs(30 * 60),
            disinfection_interval: Duration::from_secs(24 * 3600),
        }
    }

    pub(crate) fn offline_after_ms(&self) -> i64 {
        duration_ms(self.offline_after)
    }

    pub(crate) fn interval_ms(&self) -> i64 {
        duration_ms(self.heartbeat_interval)
    }
}

pub(crate) fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

// ------------------------------------------------------------------------------------------
// Public result types
// ------------------------------------------------------------------------------------------

/// One alarm (one per kiosk and kind while not cleared).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alarm {
    pub id: i64,
    pub kiosk_id: String,
    /// `device_fault:<device>`, `offline` or `outbox_backlog`.
    pub kind: String,
    /// `critical`, `major`, `minor` or `warning`.
    pub severity: String,
    /// `active` or `cleared`.
    pub status: String,
    pub acknowledged: bool,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<String>,
    pub message: Option<String>,
    pub details: Option<serde_json::Value>,
    pub first_raised_at: String,
    /// Refreshed every time the condition is raised again (ThingsBoard's end time).
    pub last_raised_at: String,
    pub raise_count: i64,
    /// Times it was raised again within the flap window after clearing.
    pub reopen_count: i64,
    /// Reopened often enough that its auto-clear is held.
    pub flapping: bool,
    /// The condition resolved, but the clear is held (flapping).
    pub clear_pending: bool,
    pub cleared_at: Option<String>,
    pub ticket_id: Option<i64>,
}

/// A fault ticket: an alarm escalated because it stayed open too long.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticket {
    pub id: i64,
    pub alarm_id: i64,
    pub kiosk_id: String,
    pub kind: String,
    pub severity: String,
    /// `open` or `resolved`.
    pub status: String,
    pub title: String,
    pub opened_at: String,
    pub assignee: Option<String>,
    pub assigned_at: Option<String>,
    pub resolution: Option<String>,
    pub resolved_at: Option<String>,
}

/// What changing a ticket did.
#[derive(Debug, Clone, PartialEq)]
pub enum TicketUpdate {
    Updated(Ticket),
    NotFound,
    /// Resolved tickets are closed for good.
    AlreadyResolved(Ticket),
}

/// Which alarms to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlarmStatusFilter {
    /// Active (acknowledged or not).
    #[default]
    Open,
    /// Active and not yet acknowledged.
    Unacknowledged,
    Cleared,
    All,
}

/// Which tickets to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TicketStatusFilter {
    #[default]
    Open,
    Resolved,
    All,
}

/// The latest disinfection record of a kiosk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DisinfectionRecord {
    pub kiosk_id: String,
    /// When it was done (the record's `at`, kiosk clock, as sent).
    pub at: String,
    #[serde(skip)]
    pub at_unix_ms: i64,
    pub staff_id: Option<String>,
    pub method: Option<String>,
    pub surfaces: Vec<String>,
}

/// What transaction statistics are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsGroup {
    Item,
    Department,
    Kiosk,
    /// The kiosk-local date of `finished_at`.
    Day,
}

impl StatsGroup {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "item" => Some(Self::Item),
            "department" => Some(Self::Department),
            "kiosk" => Some(Self::Kiosk),
            "day" => Some(Self::Day),
            _ => None,
        }
    }

    fn columns(self) -> (&'static str, &'static str) {
        match self {
            StatsGroup::Item => ("t.item_code", "MAX(t.item_name)"),
            StatsGroup::Department => ("t.department", "MAX(t.department)"),
            StatsGroup::Kiosk => ("t.kiosk_id", "MAX(t.kiosk_id)"),
            StatsGroup::Day => ("t.finished_day", "MAX(t.finished_day)"),
        }
    }
}

/// A range of kiosk-local dates (`YYYY-MM-DD`, both ends included); open ends allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayRange {
    pub from: Option<String>,
    pub to: Option<String>,
}

impl DayRange {
    /// `WHERE` clause on `t.finished_day` with parameters from `$first`.
    fn clause(&self, first: usize) -> (String, Vec<Val>) {
        let mut parts = Vec::new();
        let mut params = Vec::new();
        if let Some(from) = &self.from {
            parts.push(format!("t.finished_day >= ${}", first + params.len()));
            params.push(Val::from(from));
        }
        if let Some(to) = &self.to {
            parts.push(format!("t.finished_day <= ${}", first + params.len()));
            params.push(Val::from(to));
        }
        (parts.join(" AND "), params)
    }
}

/// Transactions and ratings of one group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsRow {
    /// Item code, department, kiosk id or date.
    pub key: String,
    /// Item name for items; the key otherwise.
    pub label: String,
    pub transactions: i64,
    pub completed: i64,
    pub cancelled: i64,
    pub timed_out: i64,
    pub failed: i64,
    /// Mean `finished_at − started_at` of completed transactions, in seconds.
    pub avg_duration_s: Option<f64>,
    /// Ratings given (1–5); skipped ratings are counted apart.
    pub ratings: i64,
    pub avg_rating: Option<f64>,
    /// Ratings of 1 or 2 (差评).
    pub bad_ratings: i64,
    pub skipped_ratings: i64,
}

/// Sessions abandoned at one step of one item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbandonmentRow {
    pub item_code: String,
    /// `abandoned_at_step` of the record; `unknown` when the kiosk did not say.
    pub step: String,
    pub cancelled: i64,
    pub timed_out: i64,
    pub total: i64,
}

/// Faults and use of one kiosk since some time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KioskActivity {
    pub kiosk_id: String,
    /// `fault_opened` events received.
    pub faults: i64,
    /// Transaction records (any outcome) finished on or after the start date.
    pub transactions: i64,
}

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub went_offline: Vec<String>,
    /// Held (flapping) clears that completed.
    pub cleared_alarms: Vec<i64>,
    /// Tickets opened by escalation.
    pub escalated: Vec<i64>,
}

/// Connectivity of one kiosk for availability, as stored in `kiosk_state`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KioskLine {
    pub kiosk_id: String,
    pub online: bool,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub items_offered: i64,
    pub items_available: i64,
    pub unavailable_items: Vec<String>,
}

/// One point of an availability series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AvailabilityPoint {
    pub start: String,
    pub end: String,
    /// Kiosk-time in service (seen at least once) during the step, in kiosk-seconds.
    pub kiosk_seconds: f64,
    /// Share of that time the kiosks were online; `None` when none was in service.
    pub online_fraction: Option<f64>,
    /// Share of items doable, weighted by time (offline counts as 0 %).
    pub availability: Option<f64>,
    /// For a series of one item: share of kiosk-time the item was doable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_availability: Option<f64>,
}

// ------------------------------------------------------------------------------------------
// Events that feed alarms and disinfection
// ------------------------------------------------------------------------------------------

/// A fault event as the centre reads it (`fault_opened`, `fault_updated`, `fault_cleared`).
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRow {
    pub action: FaultAction,
    pub device: String,
    pub code: Option<String>,
    /// Normalised to `critical`, `major`, `minor`, `warning`.
    pub severity: String,
    pub message: Option<String>,
    pub fault_id: Option<String>,
    /// The event's `created_at` (kiosk clock).
    pub kiosk_time: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    Opened,
    Updated,
    Cleared,
}

/// A disinfection record.
#[derive(Debug, Clone, PartialEq)]
pub struct DisinfectionRow {
    pub at: String,
    pub at_unix_ms: i64,
    pub staff_id: Option<String>,
    pub method: Option<String>,
    /// JSON array of surface names.
    pub surfaces_json: String,
}

pub(crate) fn alarm_kind_for_device(device: &str) -> String {
    format!("device_fault:{device}")
}

pub(crate) const OFFLINE_KIND: &str = "offline";
pub(crate) const BACKLOG_KIND: &str = "outbox_backlog";

// ------------------------------------------------------------------------------------------
// Availability buckets
// ------------------------------------------------------------------------------------------

/// What the store held for a kiosk before a heartbeat, as the fleet logic needs it.
pub(crate) struct PreviousFleetState {
    pub connectivity: String,
    pub last_seen_ms: i64,
    pub items_offered: i64,
    pub items_available: i64,
    pub unavailable_items: Vec<String>,
    pub oldest_unsent_age_s: Option<i64>,
}

#[derive(Default)]
struct BucketDelta {
    heartbeats: i64,
    items_offered: i64,
    items_available: i64,
    online_ms: i64,
    doable_ms: f64,
    unavailable_ms: BTreeMap<String, i64>,
}

fn bucket_start(ms: i64) -> i64 {
    ms.div_euclid(BUCKET_MS) * BUCKET_MS
}

fn ratio(offered: i64, available: i64) -> f64 {
    if offered <= 0 {
        0.0
    } else {
        (available.clamp(0, offered) as f64) / (offered as f64)
    }
}

/// Adds the online time `[from, to)` — the kiosk holding `offered`/`available`/`unavailable` —
/// to the buckets it spans.
fn credit_online(
    deltas: &mut BTreeMap<i64, BucketDelta>,
    from: i64,
    to: i64,
    offered: i64,
    available: i64,
    unavailable: &[String],
) {
    let share = ratio(offered, available);
    let mut at = from;
    while at < to {
        let start = bucket_start(at);
        let end = (start + BUCKET_MS).min(to);
        let part = end - at;
        let delta = deltas.entry(start).or_default();
        delta.online_ms += part;
        delta.doable_ms += part as f64 * share;
        for item in unavailable {
            *delta.unavailable_ms.entry(item.clone()).or_default() += part;
        }
        at = end;
    }
}

fn write_buckets(
    sql: &mut dyn Sql,
    kiosk_id: &str,
    deltas: BTreeMap<i64, BucketDelta>,
) -> Result<(), StorageError> {
    for (start, delta) in deltas {
        let unavailable = if delta.unavailable_ms.is_empty() {
            None
        } else {
            let existing = sql.query_opt(
                "read availability bucket",
                "SELECT unavailable_ms FROM availability_buckets
                  WHERE kiosk_id = $1 AND bucket_start_ms = $2",
                vals![kiosk_id, start],
            )?;
            let mut merged: BTreeMap<String, i64> = match existing {
                Some(row) => serde_json::from_str(&row.text(0)?).map_err(|e| {
                    StorageError::Corrupt(format!("availability_buckets.unavailable_ms: {e}"))
                })?,
                None => BTreeMap::new(),
            };
            for (item, ms) in delta.unavailable_ms {
                *merged.entry(item).or_default() += ms;
            }
            Some(serde_json::to_string(&merged).map_err(|e| StorageError::Corrupt(e.to_string()))?)
        };
        sql.execute(
            "store availability bucket",
            "INSERT INTO availability_buckets
                 (kiosk_id, bucket_start_ms, heartbeats, items_offered_sum, items_available_sum,
                  online_ms, doable_ms, unavailable_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE($8, '{}'))
             ON CONFLICT (kiosk_id, bucket_start_ms) DO UPDATE SET
                 heartbeats = availability_buckets.heartbeats + excluded.heartbeats,
                 items_offered_sum = availability_buckets.items_offered_sum
                     + excluded.items_offered_sum,
                 items_available_sum = availability_buckets.items_available_sum
                     + excluded.items_available_sum,
                 online_ms = availability_buckets.online_ms + excluded.online_ms,
                 doable_ms = availability_buckets.doable_ms + excluded.doable_ms,
                 unavailable_ms = COALESCE($8, availability_buckets.unavailable_ms)",
            &[
                Val::from(kiosk_id),
                Val::from(start),
                Val::from(delta.heartbeats),
                Val::from(delta.items_offered),
                Val::from(delta.items_available),
                Val::from(delta.online_ms),
                Val::from(delta.doable_ms),
                Val::Text(unavailable),
            ],
        )?;
    }
    Ok(())
}

/// Everything a heartbeat does besides the state row and the transitions: bucket credit for the
/// time since the previous heartbeat, the heartbeat's own counts, and the `offline` and
/// `outbox_backlog` alarms.
pub(crate) fn on_heartbeat(
    sql: &mut dyn Sql,
    heartbeat: &Heartbeat,
    received_at: &ServerTime,
    previous: Option<&PreviousFleetState>,
    policy: &FleetPolicy,
) -> Result<(), StorageError> {
    let now = received_at.unix_ms;
    let mut deltas = BTreeMap::new();
    if let Some(prev) = previous.filter(|p| p.connectivity == "online") {
        let gap = now - prev.last_seen_ms;
        // A heartbeat vouches for the time since the previous one when the kiosk did not miss
        // three; after a longer silence only one interval counts as online.
        let end = if gap <= policy.offline_after_ms() {
            now
        } else {
            prev.last_seen_ms + policy.interval_ms().min(gap)
        };
        credit_online(
            &mut deltas,
            prev.last_seen_ms,
            end,
            prev.items_offered,
            prev.items_available,
            &prev.unavailable_items,
        );
    }
    let current = deltas.entry(bucket_start(now)).or_default();
    current.heartbeats += 1;
    current.items_offered += i64::from(heartbeat.items_offered);
    current.items_available += i64::from(heartbeat.items_available);
    write_buckets(sql, &heartbeat.kiosk_id, deltas)?;

    if previous.is_some_and(|p| p.connectivity == "offline") {
        clear_alarm(sql, &heartbeat.kiosk_id, OFFLINE_KIND, received_at, policy)?;
    }
    let limit_s = i64::try_from(policy.backlog_alarm_after.as_secs()).unwrap_or(i64::MAX);
    let age = heartbeat
        .oldest_unsent_age_s
        .map(|a| i64::try_from(a).unwrap_or(i64::MAX));
    if age.is_some_and(|a| a > limit_s) {
        raise_alarm(
            sql,
            &AlarmRaise {
                kiosk_id: &heartbeat.kiosk_id,
                kind: BACKLOG_KIND,
                severity: "warning",
                message: Some(format!(
                    "oldest unsent event is {} min old ({} events queued)",
                    age.unwrap_or(0) / 60,
                    heartbeat.outbox_depth
                )),
                details: Some(serde_json::json!({
                    "oldest_unsent_age_s": age,
                    "outbox_depth": heartbeat.outbox_depth,
                    "dead_letter_count": heartbeat.dead_letter_count,
                })),
            },
            received_at,
            policy,
        )?;
    } else if previous
        .and_then(|p| p.oldest_unsent_age_s)
        .is_some_and(|a| a > limit_s)
    {
        clear_alarm(sql, &heartbeat.kiosk_id, BACKLOG_KIND, received_at, policy)?;
    }
    Ok(())
}

/// Marks silent kiosks offline (one `UPDATE … RETURNING`, so a heartbeat committed meanwhile
/// keeps its kiosk online), credits the one interval their last heartbeat vouches for, and
/// raises their `offline` alarm. Returns the kiosks marked, sorted.
pub(crate) fn mark_offline(
    sql: &mut dyn Sql,
    silent_since: &ServerTime,
    now: &ServerTime,
    policy: &FleetPolicy,
) -> Result<Vec<String>, StorageError> {
    let rows = sql.query(
        "mark kiosks offline",
        "UPDATE kiosk_state SET connectivity = 'offline'
          WHERE connectivity = 'online' AND last_seen_unix_ms < $1
          RETURNING kiosk_id, last_seen_unix_ms, items_offered, items_available,
                    unavailable_items, last_seen",
        vals![silent_since.unix_ms],
    )?;
    let mut kiosks = Vec::with_capacity(rows.len());
    for row in rows {
        let kiosk_id = row.text(0)?;
        let last_seen_ms = row.int(1)?;
        let unavailable = parse_items(&row.text(4)?)?;
        let mut deltas = BTreeMap::new();
        let end = (last_seen_ms + policy.interval_ms()).min(now.unix_ms);
        credit_online(
            &mut deltas,
            last_seen_ms,
            end,
            row.int(2)?,
            row.int(3)?,
            &unavailable,
        );
        write_buckets(sql, &kiosk_id, deltas)?;
        raise_alarm(
            sql,
            &AlarmRaise {
                kiosk_id: &kiosk_id,
                kind: OFFLINE_KIND,
                severity: "major",
                message: Some("no heartbeat for three intervals".into()),
                details: Some(serde_json::json!({ "last_seen": row.text(5)? })),
            },
            now,
            policy,
        )?;
        kiosks.push(kiosk_id);
    }
    kiosks.sort();
    Ok(kiosks)
}

pub(crate) fn parse_items(json: &str) -> Result<Vec<String>, StorageError> {
    serde_json::from_str(json)
        .map_err(|e| StorageError::Corrupt(format!("kiosk_state.unavailable_items: {e}")))
}

/// Every kiosk's connectivity and availability figures (optionally one kiosk).
pub(crate) fn kiosk_lines(
    sql: &mut dyn Sql,
    kiosk_id: Option<&str>,
) -> Result<Vec<KioskLine>, StorageError> {
    let base = "SELECT kiosk_id, connectivity, COALESCE(first_seen_unix_ms, last_seen_unix_ms),
                       last_seen_unix_ms, items_offered, items_available, unavailable_items
                  FROM kiosk_state";
    let rows = match kiosk_id {
        Some(id) => sql.query(
            "read kiosk states",
            &format!("{base} WHERE kiosk_id = $1"),
            vals![id],
        )?,
        None => sql.query(
            "read kiosk states",
            &format!("{base} ORDER BY kiosk_id"),
            &[],
        )?,
    };
    rows.iter()
        .map(|row| {
            Ok(KioskLine {
                kiosk_id: row.text(0)?,
                online: row.text(1)? == "online",
                first_seen_ms: row.int(2)?,
                last_seen_ms: row.int(3)?,
                items_offered: row.int(4)?,
                items_available: row.int(5)?,
                unavailable_items: parse_items(&row.text(6)?)?,
            })
        })
        .collect()
}

/// The availability series over `[from_ms, to_ms)` in steps of `step_ms` (a multiple of
/// [`BUCKET_MS`]), fleet-wide or for one kiosk, optionally for one item.
#[allow(clippy::too_many_arguments)] // one query's parameters, passed straight through
pub(crate) fn availability_series(
    sql: &mut dyn Sql,
    from_ms: i64,
    to_ms: i64,
    step_ms: i64,
    kiosk_id: Option<&str>,
    item: Option<&str>,
    now: &ServerTime,
    policy: &FleetPolicy,
) -> Result<Vec<AvailabilityPoint>, StorageError> {
    let step_ms = (step_ms / BUCKET_MS).max(1) * BUCKET_MS;
    let from_ms = bucket_start(from_ms);
    let to_ms = to_ms.min(now.unix_ms.max(from_ms));
    if to_ms <= from_ms {
        return Ok(Vec::new());
    }
    let steps = usize::try_from((to_ms - from_ms + step_ms - 1) / step_ms).unwrap_or(0);
    let mut online = vec![0i64; steps];
    let mut doable = vec![0f64; steps];
    let mut item_down = vec![0i64; steps];
    let mut eligible = vec![0i64; steps];
    let index = |ms: i64| usize::try_from((ms - from_ms) / step_ms).ok();

    let kiosk_filter = if kiosk_id.is_some() {
        " AND kiosk_id = $3"
    } else {
        ""
    };
    let mut params = vec![Val::from(from_ms), Val::from(to_ms)];
    if let Some(id) = kiosk_id {
        params.push(Val::from(id));
    }
    let rows = sql.query(
        "read availability buckets",
        &format!(
            "SELECT bucket_start_ms, CAST(SUM(online_ms) AS BIGINT),
                    CAST(SUM(doable_ms) AS DOUBLE PRECISION)
               FROM availability_buckets
              WHERE bucket_start_ms >= $1 AND bucket_start_ms < $2{kiosk_filter}
              GROUP BY bucket_start_ms"
        ),
        &params,
    )?;
    for row in rows {
        if let Some(i) = index(row.int(0)?).filter(|i| *i < steps) {
            online[i] += row.int(1)?;
            doable[i] += row.real(2)?;
        }
    }
    if let Some(item) = item {
        let rows = sql.query(
            "read availability buckets",
            &format!(
                "SELECT bucket_start_ms, unavailable_ms FROM availability_buckets
                  WHERE bucket_start_ms >= $1 AND bucket_start_ms < $2{kiosk_filter}
                    AND unavailable_ms <> '{{}}'"
            ),
            &params,
        )?;
        for row in rows {
            let map: BTreeMap<String, i64> = serde_json::from_str(&row.text(1)?).map_err(|e| {
                StorageError::Corrupt(format!("availability_buckets.unavailable_ms: {e}"))
            })?;
            if let (Some(i), Some(ms)) = (index(row.int(0)?).filter(|i| *i < steps), map.get(item))
            {
                item_down[i] += ms;
            }
        }
    }
    // Time in service: from the kiosk's first heartbeat on. Online kiosks also get the time
    // since their last heartbeat, which the next heartbeat will credit.
    for line in kiosk_lines(sql, kiosk_id)? {
        add_span(&mut eligible, from_ms, step_ms, line.first_seen_ms, to_ms);
        if line.online && now.unix_ms - line.last_seen_ms <= policy.offline_after_ms() {
            let share = ratio(line.items_offered, line.items_available);
            let item_is_down =
                item.is_some_and(|code| line.unavailable_items.iter().any(|u| u == code));
            let mut tail = vec![0i64; steps];
            add_span(&mut tail, from_ms, step_ms, line.last_seen_ms, to_ms);
            for (i, ms) in tail.into_iter().enumerate() {
                online[i] += ms;
                doable[i] += ms as f64 * share;
                if item_is_down {
                    item_down[i] += ms;
                }
            }
        }
    }
    let mut points = Vec::with_capacity(steps);
    for i in 0..steps {
        let start = from_ms + i as i64 * step_ms;
        let end = (start + step_ms).min(to_ms);
        let denominator = eligible[i] as f64;
        let fraction =
            |value: f64| (denominator > 0.0).then(|| (value / denominator).clamp(0.0, 1.0));
        points.push(AvailabilityPoint {
            start: ServerTime::from_unix_ms(start).rfc3339,
            end: ServerTime::from_unix_ms(end).rfc3339,
            kiosk_seconds: denominator / 1000.0,
            online_fraction: fraction(online[i] as f64),
            availability: fraction(doable[i]),
            item_availability: item.and_then(|_| fraction((online[i] - item_down[i]) as f64)),
        });
    }
    Ok(points)
}

/// Adds the milliseconds of `[from, to)` to the steps (of `step_ms` from `origin`) they fall in.
fn add_span(values: &mut [i64], origin: i64, step_ms: i64, from: i64, to: i64) {
    let mut at = from.max(origin);
    while at < to {
        let Ok(i) = usize::try_from((at - origin) / step_ms) else {
            return;
        };
        if i >= values.len() {
            return;
        }
        let end = (origin + (i as i64 + 1) * step_ms).min(to);
        values[i] += end - at;
        at = end;
    }
}

// ------------------------------------------------------------------------------------------
// Alarms and tickets
// ------------------------------------------------------------------------------------------

pub(crate) struct AlarmRaise<'a> {
    pub kiosk_id: &'a str,
    pub kind: &'a str,
    pub severity: &'a str,
    pub message: Option<String>,
    pub details: Option<serde_json::Value>,
}

/// What raising or clearing did (for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmChange {
    Raised,
    Refreshed,
    Reopened,
    Cleared,
    ClearHeld,
    NothingToClear,
}

/// Raises an alarm: refreshes the active one of (kiosk, kind), reopens one cleared within the
/// flap window, or creates a new one.
pub(crate) fn raise_alarm(
    sql: &mut dyn Sql,
    raise: &AlarmRaise<'_>,
    now: &ServerTime,
    policy: &FleetPolicy,
) -> Result<AlarmChange, StorageError> {
    let latest = sql.query_opt(
        "read alarm",
        "SELECT id, status, cleared_ms FROM alarms
          WHERE kiosk_id = $1 AND kind = $2 ORDER BY id DESC LIMIT 1",
        vals![raise.kiosk_id, raise.kind],
    )?;
    let details = raise.details.as_ref().map(|d| d.to_string());
    let message = raise.message.clone();
    if let Some(row) = latest {
        let id = row.int(0)?;
        let status = row.text(1)?;
        let cleared_ms = row.opt_int(2)?;
        let reopen = status == "cleared"
            && cleared_ms.is_some_and(|c| now.unix_ms - c < duration_ms(policy.flap_window));
        if status == "active" || reopen {
            sql.execute(
                "refresh alarm",
                "UPDATE alarms SET
                     status = 'active', severity = $1, message = $2, details = $3,
                     last_raised_at = $4, raise_count = raise_count + 1,
                     reopen_count = reopen_count + $5,
                     clear_pending_since_ms = NULL, cleared_at = NULL, cleared_ms = NULL
                  WHERE id = $6",
                &[
                    Val::from(raise.severity),
                    Val::Text(message),
                    Val::Text(details),
                    Val::from(&now.rfc3339),
                    Val::from(i64::from(reopen)),
                    Val::from(id),
                ],
            )?;
            return Ok(if reopen {
                AlarmChange::Reopened
            } else {
                AlarmChange::Refreshed
            });
        }
    }
    sql.execute(
        "raise alarm",
        "INSERT INTO alarms
             (kiosk_id, kind, severity, status, message, details, first_raised_at,
              first_raised_ms, last_raised_at, raise_count, reopen_count)
         VALUES ($1, $2, $3, 'active', $4, $5, $6, $7, $6, 1, 0)",
        &[
            Val::from(raise.kiosk_id),
            Val::from(raise.kind),
            Val::from(raise.severity),
            Val::Text(message),
            Val::Text(details),
            Val::from(&now.rfc3339),
            Val::from(now.unix_ms),
        ],
    )?;
    Ok(AlarmChange::Raised)
}

/// Clears the active alarm of (kiosk, kind), or holds the clear when the alarm is flapping.
pub(crate) fn clear_alarm(
    sql: &mut dyn Sql,
    kiosk_id: &str,
    kind: &str,
    now: &ServerTime,
    policy: &FleetPolicy,
) -> Result<AlarmChange, StorageError> {
    let Some(row) = sql.query_opt(
        "read alarm",
        "SELECT id, reopen_count FROM alarms
          WHERE kiosk_id = $1 AND kind = $2 AND status = 'active'",
        vals![kiosk_id, kind],
    )?
    else {
        return Ok(AlarmChange::NothingToClear);
    };
    let id = row.int(0)?;
    if row.int(1)? >= i64::from(policy.flap_hold_after) {
        sql.execute(
            "hold alarm clear",
            "UPDATE alarms SET clear_pending_since_ms = COALESCE(clear_pending_since_ms, $1)
              WHERE id = $2",
            vals![now.unix_ms, id],
        )?;
        return Ok(AlarmChange::ClearHeld);
    }
    sql.execute(
        "clear alarm",
        "UPDATE alarms SET status = 'cleared', cleared_at = $1, cleared_ms = $2,
                           clear_pending_since_ms = NULL
          WHERE id = $3",
        vals![&now.rfc3339, now.unix_ms, id],
    )?;
    Ok(AlarmChange::Cleared)
}

/// Applies a fault event to the alarm of its device.
pub(crate) fn apply_fault(
    sql: &mut dyn Sql,
    kiosk_id: &str,
    fault: &FaultRow,
    now: &ServerTime,
    policy: &FleetPolicy,
) -> Result<AlarmChange, StorageError> {
    let kind = alarm_kind_for_device(&fault.device);
    match fault.action {
        FaultAction::Cleared => clear_alarm(sql, kiosk_id, &kind, now, policy),
        FaultAction::Opened | FaultAction::Updated => raise_alarm(
            sql,
            &AlarmRaise {
                kiosk_id,
                kind: &kind,
                severity: &fault.severity,
                message: fault.message.clone(),
                details: Some(serde_json::json!({
                    "device": fault.device,
                    "code": fault.code,
                    "fault_id": fault.fault_id,
                    "kiosk_time": fault.kiosk_time,
                })),
            },
            now,
            policy,
        ),
    }
}

/// Completes held clears whose condition stayed resolved for the flap window, and escalates
/// alarms open longer than the policy allows to tickets.
pub(crate) fn sweep_alarms(
    sql: &mut dyn Sql,
    now: &ServerTime,
    policy: &FleetPolicy,
    report: &mut SweepReport,
) -> Result<(), StorageError> {
    let held_until = now.unix_ms - duration_ms(policy.flap_window);
    for row in sql.query(
        "complete held clears",
        "UPDATE alarms SET status = 'cleared', cleared_at = $1, cleared_ms = $2,
                           clear_pending_since_ms = NULL
          WHERE status = 'active' AND clear_pending_since_ms IS NOT NULL
            AND clear_pending_since_ms <= $3
          RETURNING id",
        vals![&now.rfc3339, now.unix_ms, held_until],
    )? {
        report.cleared_alarms.push(row.int(0)?);
    }
    let open_since = now.unix_ms - duration_ms(policy.escalate_after);
    let due = sql.query(
        "find alarms to escalate",
        "SELECT id, kiosk_id, kind, severity, first_raised_at FROM alarms
          WHERE status = 'active' AND ticket_id IS NULL AND first_raised_ms <= $1
          ORDER BY id",
        vals![open_since],
    )?;
    for row in due {
        if let Some(ticket_id) = open_ticket(sql, &row, now)? {
            report.escalated.push(ticket_id);
        }
    }
    Ok(())
}

/// Opens a ticket for an alarm row (`id, kiosk_id, kind, severity, first_raised_at`) and links
/// it; `None` when the alarm already has one (two instances sweeping at once: the unique
/// `alarm_id` keeps one ticket).
fn open_ticket(
    sql: &mut dyn Sql,
    row: &SqlRow,
    now: &ServerTime,
) -> Result<Option<i64>, StorageError> {
    let alarm_id = row.int(0)?;
    let kiosk_id = row.text(1)?;
    let kind = row.text(2)?;
    let title = format!("{kind} on {kiosk_id}, open since {}", row.text(4)?);
    let created = sql.query(
        "open ticket",
        "INSERT INTO tickets (alarm_id, kiosk_id, kind, severity, status, title, opened_at)
         VALUES ($1, $2, $3, $4, 'open', $5, $6)
         ON CONFLICT (alarm_id) DO NOTHING
         RETURNING id",
        vals![
            alarm_id,
            &kiosk_id,
            &kind,
            row.text(3)?,
            title,
            &now.rfc3339
        ],
    )?;
    let Some(ticket) = created.first() else {
        return Ok(None);
    };
    let ticket_id = ticket.int(0)?;
    sql.execute(
        "link ticket",
        "UPDATE alarms SET ticket_id = $1 WHERE id = $2",
        vals![ticket_id, alarm_id],
    )?;
    Ok(Some(ticket_id))
}

/// What escalating an alarm by hand did.
#[derive(Debug, Clone, PartialEq)]
pub enum Escalation {
    /// A ticket was opened for it.
    Opened(Ticket),
    /// It already had this ticket (nothing changed).
    Existing(Ticket),
    /// The alarm is cleared: nothing to work on.
    Cleared,
    NotFound,
}

/// Escalates an active alarm to a fault ticket now, without waiting for the sweep.
pub(crate) fn escalate_alarm(
    sql: &mut dyn Sql,
    id: i64,
    now: &ServerTime,
) -> Result<Escalation, StorageError> {
    let Some(row) = sql.query_opt(
        "read alarm to escalate",
        "SELECT id, kiosk_id, kind, severity, first_raised_at, status, ticket_id FROM alarms
          WHERE id = $1",
        vals![id],
    )?
    else {
        return Ok(Escalation::NotFound);
    };
    if let Some(ticket_id) = row.opt_int(6)? {
        return Ok(match ticket(sql, ticket_id)? {
            Some(t) => Escalation::Existing(t),
            None => Escalation::NotFound,
        });
    }
    if row.text(5)? != "active" {
        return Ok(Escalation::Cleared);
    }
    if let Some(ticket_id) = open_ticket(sql, &row, now)? {
        return Ok(ticket(sql, ticket_id)?.map_or(Escalation::NotFound, Escalation::Opened));
    }
    // Another instance's sweep opened it meanwhile.
    let existing = sql.query_opt(
        "read ticket of alarm",
        &format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE alarm_id = $1"),
        vals![id],
    )?;
    Ok(match existing {
        Some(row) => Escalation::Existing(ticket_from_row(&row)?),
        None => Escalation::NotFound,
    })
}

const ALARM_COLUMNS: &str = "id, kiosk_id, kind, severity, status, acknowledged_by,
    acknowledged_at, message, details, first_raised_at, last_raised_at, raise_count,
    reopen_count, clear_pending_since_ms, cleared_at, ticket_id";

fn alarm_from_row(row: &SqlRow, policy: &FleetPolicy) -> Result<Alarm, StorageError> {
    let acknowledged_at = row.opt_text(6)?;
    let reopen_count = row.int(12)?;
    Ok(Alarm {
        id: row.int(0)?,
        kiosk_id: row.text(1)?,
        kind: row.text(2)?,
        severity: row.text(3)?,
        status: row.text(4)?,
        acknowledged: acknowledged_at.is_some(),
        acknowledged_by: row.opt_text(5)?,
        acknowledged_at,
        message: row.opt_text(7)?,
        details: row
            .opt_text(8)?
            .map(|d| serde_json::from_str(&d))
            .transpose()
            .map_err(|e| StorageError::Corrupt(format!("alarms.details: {e}")))?,
        first_raised_at: row.text(9)?,
        last_raised_at: row.text(10)?,
        raise_count: row.int(11)?,
        reopen_count,
        flapping: reopen_count >= i64::from(policy.flap_hold_after),
        clear_pending: row.opt_int(13)?.is_some(),
        cleared_at: row.opt_text(14)?,
        ticket_id: row.opt_int(15)?,
    })
}

pub(crate) fn alarms(
    sql: &mut dyn Sql,
    status: AlarmStatusFilter,
    kiosk_id: Option<&str>,
    policy: &FleetPolicy,
) -> Result<Vec<Alarm>, StorageError> {
    let mut conditions = vec![
        match status {
            AlarmStatusFilter::Open => "status = 'active'",
            AlarmStatusFilter::Unacknowledged => "status = 'active' AND acknowledged_at IS NULL",
            AlarmStatusFilter::Cleared => "status = 'cleared'",
            AlarmStatusFilter::All => "1 = 1",
        }
        .to_string(),
    ];
    let mut params = Vec::new();
    if let Some(id) = kiosk_id {
        conditions.push("kiosk_id = $1".into());
        params.push(Val::from(id));
    }
    let rows = sql.query(
        "list alarms",
        &format!(
            "SELECT {ALARM_COLUMNS} FROM alarms WHERE {} ORDER BY id DESC LIMIT 1000",
            conditions.join(" AND ")
        ),
        &params,
    )?;
    rows.iter().map(|row| alarm_from_row(row, policy)).collect()
}

pub(crate) fn alarm(
    sql: &mut dyn Sql,
    id: i64,
    policy: &FleetPolicy,
) -> Result<Option<Alarm>, StorageError> {
    sql.query_opt(
        "read alarm",
        &format!("SELECT {ALARM_COLUMNS} FROM alarms WHERE id = $1"),
        vals![id],
    )?
    .map(|row| alarm_from_row(&row, policy))
    .transpose()
}

/// Acknowledges an alarm (idempotent: the first acknowledgement is kept).
pub(crate) fn acknowledge_alarm(
    sql: &mut dyn Sql,
    id: i64,
    by: &str,
    now: &ServerTime,
    policy: &FleetPolicy,
) -> Result<Option<Alarm>, StorageError> {
    sql.execute(
        "acknowledge alarm",
        "UPDATE alarms SET acknowledged_at = $1, acknowledged_by = $2
          WHERE id = $3 AND acknowledged_at IS NULL",
        vals![&now.rfc3339, by, id],
    )?;
    alarm(sql, id, policy)
}

const TICKET_COLUMNS: &str = "id, alarm_id, kiosk_id, kind, severity, status, title, opened_at,
    assignee, assigned_at, resolution, resolved_at";

fn ticket_from_row(row: &SqlRow) -> Result<Ticket, StorageError> {
    Ok(Ticket {
        id: row.int(0)?,
        alarm_id: row.int(1)?,
        kiosk_id: row.text(2)?,
        kind: row.text(3)?,
        severity: row.text(4)?,
        status: row.text(5)?,
        title: row.text(6)?,
        opened_at: row.text(7)?,
        assignee: row.opt_text(8)?,
        assigned_at: row.opt_text(9)?,
        resolution: row.opt_text(10)?,
        resolved_at: row.opt_text(11)?,
    })
}

pub(crate) fn tickets(
    sql: &mut dyn Sql,
    status: TicketStatusFilter,
) -> Result<Vec<Ticket>, StorageError> {
    let condition = match status {
        TicketStatusFilter::Open => "status = 'open'",
        TicketStatusFilter::Resolved => "status = 'resolved'",
        TicketStatusFilter::All => "1 = 1",
    };
    sql.query(
        "list tickets",
        &format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE {condition} ORDER BY id DESC LIMIT 1000"
        ),
        &[],
    )?
    .iter()
    .map(ticket_from_row)
    .collect()
}

fn ticket(sql: &mut dyn Sql, id: i64) -> Result<Option<Ticket>, StorageError> {
    sql.query_opt(
        "read ticket",
        &format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1"),
        vals![id],
    )?
    .map(|row| ticket_from_row(&row))
    .transpose()
}

/// Assigns (or reassigns) an open ticket.
pub(crate) fn assign_ticket(
    sql: &mut dyn Sql,
    id: i64,
    assignee: &str,
    now: &ServerTime,
) -> Result<TicketUpdate, StorageError> {
    let changed = sql.execute(
        "assign ticket",
        "UPDATE tickets SET assignee = $1, assigned_at = $2 WHERE id = $3 AND status = 'open'",
        vals![assignee, &now.rfc3339, id],
    )?;
    finish_ticket_update(sql, id, changed)
}

/// Resolves an open ticket with a note.
pub(crate) fn resolve_ticket(
    sql: &mut dyn Sql,
    id: i64,
    resolution: &str,
    now: &ServerTime,
) -> Result<TicketUpdate, StorageError> {
    let changed = sql.execute(
        "resolve ticket",
        "UPDATE tickets SET status = 'resolved', resolution = $1, resolved_at = $2
          WHERE id = $3 AND status = 'open'",
        vals![resolution, &now.rfc3339, id],
    )?;
    finish_ticket_update(sql, id, changed)
}

fn finish_ticket_update(
    sql: &mut dyn Sql,
    id: i64,
    changed: u64,
) -> Result<TicketUpdate, StorageError> {
    Ok(match ticket(sql, id)? {
        None => TicketUpdate::NotFound,
        Some(t) if changed == 0 => TicketUpdate::AlreadyResolved(t),
        Some(t) => TicketUpdate::Updated(t),
    })
}

/// Active alarms by severity, for `/metrics`.
pub(crate) fn open_alarm_counts(sql: &mut dyn Sql) -> Result<BTreeMap<String, i64>, StorageError> {
    sql.query(
        "count open alarms",
        "SELECT severity, COUNT(*) FROM alarms WHERE status = 'active' GROUP BY severity",
        &[],
    )?
    .iter()
    .map(|row| Ok((row.text(0)?, row.int(1)?)))
    .collect()
}

/// Open tickets, for `/metrics`.
pub(crate) fn open_ticket_count(sql: &mut dyn Sql) -> Result<i64, StorageError> {
    sql.query_opt(
        "count open tickets",
        "SELECT COUNT(*) FROM tickets WHERE status = 'open'",
        &[],
    )?
    .map_or(Ok(0), |row| row.int(0))
}

// ------------------------------------------------------------------------------------------
// Disinfection
// ------------------------------------------------------------------------------------------

pub(crate) fn insert_disinfection(
    sql: &mut dyn Sql,
    kiosk_id: &str,
    idempotency_key: &str,
    row: &DisinfectionRow,
    received_at: &ServerTime,
) -> Result<(), StorageError> {
    sql.execute(
        "store disinfection",
        "INSERT INTO disinfections
             (kiosk_id, idempotency_key, at, at_unix_ms, staff_id, method, surfaces, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            Val::from(kiosk_id),
            Val::from(idempotency_key),
            Val::from(&row.at),
            Val::from(row.at_unix_ms),
            Val::Text(row.staff_id.clone()),
            Val::Text(row.method.clone()),
            Val::from(&row.surfaces_json),
            Val::from(&received_at.rfc3339),
        ],
    )?;
    Ok(())
}

/// The latest disinfection record of every kiosk that has one.
pub(crate) fn last_disinfections(
    sql: &mut dyn Sql,
) -> Result<Vec<DisinfectionRecord>, StorageError> {
    sql.query(
        "read disinfections",
        "SELECT d.kiosk_id, d.at, d.at_unix_ms, d.staff_id, d.method, d.surfaces
           FROM disinfections d
          WHERE d.id = (SELECT d2.id FROM disinfections d2 WHERE d2.kiosk_id = d.kiosk_id
                         ORDER BY d2.at_unix_ms DESC, d2.id DESC LIMIT 1)
          ORDER BY d.kiosk_id",
        &[],
    )?
    .iter()
    .map(|row| {
        Ok(DisinfectionRecord {
            kiosk_id: row.text(0)?,
            at: row.text(1)?,
            at_unix_ms: row.int(2)?,
            staff_id: row.opt_text(3)?,
            method: row.opt_text(4)?,
            surfaces: serde_json::from_str(&row.text(5)?).unwrap_or_default(),
        })
    })
    .collect()
}

// ------------------------------------------------------------------------------------------
// Statistics and reports
// ------------------------------------------------------------------------------------------

pub(crate) fn transaction_stats(
    sql: &mut dyn Sql,
    group: StatsGroup,
    range: &DayRange,
) -> Result<Vec<StatsRow>, StorageError> {
    let (key, label) = group.columns();
    let (clause, params) = range.clause(1);
    let filter = if clause.is_empty() {
        String::new()
    } else {
        format!("WHERE {clause}")
    };
    let rows = sql.query(
        "transaction statistics",
        &format!(
            "SELECT {key}, {label}, COUNT(*),
                    SUM(CASE WHEN t.outcome = 'completed' THEN 1 ELSE 0 END),
                    SUM(CASE WHEN t.outcome = 'cancelled' THEN 1 ELSE 0 END),
                    SUM(CASE WHEN t.outcome = 'timed_out' THEN 1 ELSE 0 END),
                    SUM(CASE WHEN t.outcome = 'failed' THEN 1 ELSE 0 END),
                    CAST(AVG(CASE WHEN t.outcome = 'completed' THEN t.duration_ms END)
                         AS DOUBLE PRECISION),
                    COUNT(r.rating),
                    CAST(AVG(r.rating) AS DOUBLE PRECISION),
                    SUM(CASE WHEN r.rating <= 2 THEN 1 ELSE 0 END),
                    SUM(CASE WHEN r.id IS NOT NULL AND r.rating IS NULL THEN 1 ELSE 0 END)
               FROM transactions t
               LEFT JOIN ratings r
                 ON r.kiosk_id = t.kiosk_id AND r.transaction_id = t.transaction_id
               {filter}
              GROUP BY {key}
              ORDER BY {key}"
        ),
        &params,
    )?;
    rows.iter()
        .map(|row| {
            Ok(StatsRow {
                key: row.text(0)?,
                label: row.text(1)?,
                transactions: row.int(2)?,
                completed: row.opt_int(3)?.unwrap_or(0),
                cancelled: row.opt_int(4)?.unwrap_or(0),
                timed_out: row.opt_int(5)?.unwrap_or(0),
                failed: row.opt_int(6)?.unwrap_or(0),
                avg_duration_s: row
                    .opt_real(7)?
                    .map(|ms| (ms / 1000.0 * 10.0).round() / 10.0),
                ratings: row.int(8)?,
                avg_rating: row.opt_real(9)?.map(|r| (r * 100.0).round() / 100.0),
                bad_ratings: row.opt_int(10)?.unwrap_or(0),
                skipped_ratings: row.opt_int(11)?.unwrap_or(0),
            })
        })
        .collect()
}

pub(crate) fn abandonment(
    sql: &mut dyn Sql,
    range: &DayRange,
) -> Result<Vec<AbandonmentRow>, StorageError> {
    let (clause, params) = range.clause(1);
    let filter = if clause.is_empty() {
        String::new()
    } else {
        format!("AND {clause}")
    };
    let rows = sql.query(
        "abandonment statistics",
        &format!(
            "SELECT t.item_code, COALESCE(t.abandoned_at_step, 'unknown'),
                    SUM(CASE WHEN t.outcome = 'cancelled' THEN 1 ELSE 0 END),
                    SUM(CASE WHEN t.outcome = 'timed_out' THEN 1 ELSE 0 END),
                    COUNT(*)
               FROM transactions t
              WHERE t.outcome IN ('cancelled', 'timed_out') {filter}
              GROUP BY t.item_code, COALESCE(t.abandoned_at_step, 'unknown')
              ORDER BY COUNT(*) DESC, t.item_code, COALESCE(t.abandoned_at_step, 'unknown')"
        ),
        &params,
    )?;
    rows.iter()
        .map(|row| {
            Ok(AbandonmentRow {
                item_code: row.text(0)?,
                step: row.text(1)?,
                cancelled: row.opt_int(2)?.unwrap_or(0),
                timed_out: row.opt_int(3)?.unwrap_or(0),
                total: row.int(4)?,
            })
        })
        .collect()
}

/// Fault reports (received since `since`) and transactions (finished on or after `since_day`)
/// per kiosk that has either.
pub(crate) fn kiosk_activity(
    sql: &mut dyn Sql,
    since: &ServerTime,
    since_day: &str,
) -> Result<Vec<KioskActivity>, StorageError> {
    let mut by_kiosk: BTreeMap<String, KioskActivity> = BTreeMap::new();
    for row in sql.query(
        "count faults",
        "SELECT kiosk_id, COUNT(*) FROM received_events
          WHERE kind = 'fault_opened' AND received_at >= $1 GROUP BY kiosk_id",
        vals![&since.rfc3339],
    )? {
        let id = row.text(0)?;
        by_kiosk
            .entry(id.clone())
            .or_insert_with(|| KioskActivity {
                kiosk_id: id,
                faults: 0,
                transactions: 0,
            })
            .faults = row.int(1)?;
    }
    for row in sql.query(
        "count transactions",
        "SELECT kiosk_id, COUNT(*) FROM transactions
          WHERE finished_day >= $1 GROUP BY kiosk_id",
        vals![since_day],
    )? {
        let id = row.text(0)?;
        by_kiosk
            .entry(id.clone())
            .or_insert_with(|| KioskActivity {
                kiosk_id: id,
                faults: 0,
                transactions: 0,
            })
            .transactions = row.int(1)?;
    }
    Ok(by_kiosk.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_splits_at_bucket_boundaries() {
        let mut deltas = BTreeMap::new();
        let start = 10 * BUCKET_MS - 10_000;
        credit_online(&mut deltas, start, start + 30_000, 10, 5, &["A".into()]);
        let first = &deltas[&(9 * BUCKET_MS)];
        let second = &deltas[&(10 * BUCKET_MS)];
        assert_eq!((first.online_ms, second.online_ms), (10_000, 20_000));
        assert_eq!((first.doable_ms, second.doable_ms), (5_000.0, 10_000.0));
        assert_eq!(second.unavailable_ms["A"], 20_000);
    }

    #[test]
    fn policy_goes_offline_after_three_intervals() {
        let policy = FleetPolicy::with_heartbeat_interval(Duration::from_secs(2));
        assert_eq!(policy.offline_after, Duration::from_secs(6));
        assert_eq!(
            FleetPolicy::default().offline_after,
            Duration::from_secs(90)
        );
    }
}

//! The fleet features on both engines (`sqlite::…`, `postgres::…`): availability buckets and
//! 实时可办率, alarms (raise, refresh, clear, flapping, escalation to tickets), disinfection
//! records, statistics, the migration of an existing database; then the same over real HTTP
//! (admin endpoints, CSV, `/metrics`).

mod common;

use common::{
    ADMIN_TOKEN, Client, Engine, Fixture, KIOSK_1, KIOSK_2, batch, event, rating_payload, signed,
    transaction_payload,
};
use kiosk_central::clock::ServerTime;
use kiosk_central::storage::fleet::BUCKET_MS;
use kiosk_central::storage::{
    AcceptedEvent, AlarmStatusFilter, CheckedBatch, DayRange, DisinfectionRow, EventProjection,
    FaultAction, FaultRow, RatingRow, StatsGroup, TicketStatusFilter, TransactionRow,
};
use kiosk_central::{
    CentralBuilder, CentralStorage, Connectivity, FleetPolicy, TicketUpdate, TransitionSubject,
};
use kiosk_protocol::wire::{EventKind, Heartbeat, TransactionOutcome, paths};
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

/// A server time on a 5-minute boundary.
const T0_MS: i64 = 1_795_000_200_000;
const MIN: i64 = 60_000;

fn at(offset_ms: i64) -> ServerTime {
    ServerTime::from_unix_ms(T0_MS + offset_ms)
}

fn heartbeat(kiosk_id: &str, seq: u64, offered: u32, unavailable: &[&str]) -> Heartbeat {
    Heartbeat {
        kiosk_id: kiosk_id.into(),
        seq,
        sent_at: "2026-11-21T10:00:00+08:00".into(),
        software_version: "0.1.0".into(),
        catalogue_version: 7,
        devices: vec![],
        items_offered: offered,
        items_available: offered - unavailable.len() as u32,
        unavailable_items: unavailable.iter().map(|s| s.to_string()).collect(),
        outbox_depth: 0,
        oldest_unsent_age_s: None,
        dead_letter_count: 0,
    }
}

fn accepted(seq: i64, kind: EventKind, projection: EventProjection) -> AcceptedEvent {
    AcceptedEvent {
        seq,
        idempotency_key: Uuid::now_v7(),
        kind,
        created_at: "2026-11-21T10:00:00+08:00".into(),
        payload_json: "{}".into(),
        sealed_personal: None,
        projection,
    }
}

fn fault(seq: i64, action: FaultAction, device: &str) -> AcceptedEvent {
    let kind = match action {
        FaultAction::Opened => EventKind::FaultOpened,
        FaultAction::Updated => EventKind::FaultUpdated,
        FaultAction::Cleared => EventKind::FaultCleared,
    };
    accepted(
        seq,
        kind,
        EventProjection::Fault(FaultRow {
            action,
            device: device.into(),
            code: Some("E42".into()),
            severity: "critical".into(),
            message: Some("paper jam".into()),
            fault_id: None,
            kiosk_time: "2026-11-21T10:00:00+08:00".into(),
        }),
    )
}

fn ingest(
    store: &dyn CentralStorage,
    kiosk_id: &str,
    when: ServerTime,
    events: Vec<AcceptedEvent>,
) {
    let highest_seq = events.iter().map(|e| e.seq).max().unwrap_or(0);
    store
        .ingest_batch(&CheckedBatch {
            kiosk_id: kiosk_id.into(),
            received_at: when,
            accepted: events,
            rejected: vec![],
            highest_seq,
        })
        .expect("ingest");
}

fn approx(value: Option<f64>, expected: f64) -> bool {
    value.is_some_and(|v| (v - expected).abs() < 1e-6)
}

// ---------------------------------------------------------------------------------------------
// Storage, both engines
// ---------------------------------------------------------------------------------------------

fn buckets_count_online_time_and_an_offline_kiosk_as_zero(engine: Engine) {
    let fx = Fixture::new(engine, "buckets");
    let store = fx.store();
    // 10 items offered, 2 of them (A, B) unavailable: 80 % doable while online.
    for (seq, offset) in [(1, 0), (2, 30_000), (3, 60_000)] {
        store
            .record_heartbeat(&heartbeat("a", seq, 10, &["A", "B"]), &at(offset))
            .expect("heartbeat");
    }
    // Silent for more than 90 s: offline; its last heartbeat vouches for one more interval.
    let report = store.sweep(&at(60_000 + 91_000)).expect("sweep");
    assert_eq!(report.went_offline, ["a"]);
    let state = store.kiosk_state("a").expect("state").expect("seen");
    assert_eq!(state.connectivity, Connectivity::Offline);

    let series = store
        .availability_series(&at(0), &at(10 * MIN), BUCKET_MS, None, None, &at(10 * MIN))
        .expect("series");
    assert_eq!(series.len(), 2, "{series:?}");
    // Bucket 1: online 90 s of 300 s, 80 % of items doable meanwhile.
    assert!(approx(series[0].online_fraction, 0.3), "{series:?}");
    assert!(approx(series[0].availability, 0.24), "{series:?}");
    assert_eq!(series[0].start, at(0).rfc3339);
    // Bucket 2: offline all along, counted as 0 %, not left out.
    assert!(approx(series[1].availability, 0.0), "{series:?}");
    assert_eq!(series[1].kiosk_seconds, 300.0);

    let item_a = store
        .availability_series(
            &at(0),
            &at(5 * MIN),
            BUCKET_MS,
            Some("a"),
            Some("A"),
            &at(10 * MIN),
        )
        .expect("series");
    assert!(approx(item_a[0].item_availability, 0.0), "{item_a:?}");
    let item_c = store
        .availability_series(
            &at(0),
            &at(5 * MIN),
            BUCKET_MS,
            Some("a"),
            Some("C"),
            &at(10 * MIN),
        )
        .expect("series");
    assert!(approx(item_c[0].item_availability, 0.3), "{item_c:?}");

    // A rollup step of 10 minutes averages the two buckets.
    let rolled = store
        .availability_series(
            &at(0),
            &at(10 * MIN),
            2 * BUCKET_MS,
            None,
            None,
            &at(10 * MIN),
        )
        .expect("series");
    assert_eq!(rolled.len(), 1);
    assert!(approx(rolled[0].availability, 0.12), "{rolled:?}");

    // The offline alarm was raised, and the kiosk's return clears it.
    let open = store
        .alarms(AlarmStatusFilter::Open, Some("a"))
        .expect("alarms");
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(
        (open[0].kind.as_str(), open[0].severity.as_str()),
        ("offline", "major")
    );
    store
        .record_heartbeat(&heartbeat("a", 4, 10, &[]), &at(20 * MIN))
        .expect("heartbeat");
    assert!(
        store
            .alarms(AlarmStatusFilter::Open, Some("a"))
            .expect("alarms")
            .is_empty()
    );
    let cleared = store
        .alarms(AlarmStatusFilter::Cleared, Some("a"))
        .expect("alarms");
    assert_eq!(
        cleared[0].cleared_at.as_deref(),
        Some(at(20 * MIN).rfc3339.as_str())
    );
    // The return after a long silence credits no online time for the silence.
    let late = store
        .availability_series(
            &at(10 * MIN),
            &at(20 * MIN),
            BUCKET_MS,
            None,
            None,
            &at(20 * MIN),
        )
        .expect("series");
    assert!(
        late.iter().all(|p| approx(p.online_fraction, 0.0)),
        "{late:?}"
    );
    let connectivity: Vec<String> = store
        .kiosk_transitions("a")
        .expect("transitions")
        .into_iter()
        .filter(|t| t.subject == TransitionSubject::Connectivity)
        .map(|t| t.to_state)
        .collect();
    assert_eq!(connectivity, ["online", "offline", "online"]);
}

fn a_kiosk_first_seen_mid_bucket_counts_from_its_first_heartbeat(engine: Engine) {
    let fx = Fixture::new(engine, "first-seen");
    let store = fx.store();
    store
        .record_heartbeat(&heartbeat("a", 1, 4, &[]), &at(0))
        .expect("heartbeat");
    store
        .record_heartbeat(&heartbeat("b", 1, 4, &["X"]), &at(4 * MIN))
        .expect("heartbeat");
    for seq in 2..=10 {
        let offset = i64::from(seq as u32 - 1) * 30_000;
        store
            .record_heartbeat(&heartbeat("a", seq, 4, &[]), &at(offset))
            .expect("heartbeat");
    }
    // At 4:30: a online 270 s at 100 %; b online since 4:00 at 75 % (its tail since its only
    // heartbeat counts: it is not yet late). Time in service: 270 + 30 kiosk-seconds.
    let now = at(4 * MIN + 30_000);
    let series = store
        .availability_series(&at(0), &now, BUCKET_MS, None, None, &now)
        .expect("series");
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].kiosk_seconds, 300.0);
    assert!(approx(series[0].online_fraction, 1.0), "{series:?}");
    assert!(
        approx(series[0].availability, (270.0 + 30.0 * 0.75) / 300.0),
        "{series:?}"
    );
}

fn fault_alarms_refresh_clear_flap_and_escalate(engine: Engine) {
    let fx = Fixture::new(engine, "alarms");
    let store = fx.store();
    store.set_policy(FleetPolicy::default());
    ingest(
        store.as_ref(),
        "a",
        at(0),
        vec![fault(1, FaultAction::Opened, "receipt_printer")],
    );
    ingest(
        store.as_ref(),
        "a",
        at(MIN),
        vec![fault(2, FaultAction::Updated, "receipt_printer")],
    );
    let open = store.alarms(AlarmStatusFilter::Open, None).expect("alarms");
    assert_eq!(open.len(), 1, "raising again is idempotent: {open:?}");
    let alarm = &open[0];
    assert_eq!(alarm.kind, "device_fault:receipt_printer");
    assert_eq!(
        (alarm.severity.as_str(), alarm.raise_count),
        ("critical", 2)
    );
    assert_eq!(alarm.first_raised_at, at(0).rfc3339);
    assert_eq!(alarm.last_raised_at, at(MIN).rfc3339, "end time refreshed");
    assert_eq!(alarm.details.as_ref().expect("details")["code"], "E42");
    let id = alarm.id;

    // Acknowledging twice keeps the first acknowledgement.
    let acked = store
        .acknowledge_alarm(id, "operator-7", &at(2 * MIN))
        .expect("ack");
    assert!(acked.as_ref().is_some_and(|a| a.acknowledged));
    let again = store
        .acknowledge_alarm(id, "someone-else", &at(3 * MIN))
        .expect("ack")
        .expect("found");
    assert_eq!(again.acknowledged_by.as_deref(), Some("operator-7"));
    assert_eq!(
        store.acknowledge_alarm(9999, "x", &at(0)).expect("ack"),
        None
    );
    assert!(
        store
            .alarms(AlarmStatusFilter::Unacknowledged, None)
            .expect("alarms")
            .is_empty()
    );

    // Cleared by the kiosk, raised again 2 minutes later: the same alarm reopens.
    ingest(
        store.as_ref(),
        "a",
        at(4 * MIN),
        vec![fault(3, FaultAction::Cleared, "receipt_printer")],
    );
    assert!(
        store
            .alarms(AlarmStatusFilter::Open, None)
            .expect("alarms")
            .is_empty()
    );
    ingest(
        store.as_ref(),
        "a",
        at(6 * MIN),
        vec![fault(4, FaultAction::Opened, "receipt_printer")],
    );
    ingest(
        store.as_ref(),
        "a",
        at(7 * MIN),
        vec![fault(5, FaultAction::Cleared, "receipt_printer")],
    );
    ingest(
        store.as_ref(),
        "a",
        at(8 * MIN),
        vec![fault(6, FaultAction::Opened, "receipt_printer")],
    );
    let all = store.alarms(AlarmStatusFilter::All, None).expect("alarms");
    assert_eq!(all.len(), 1, "flapping never makes new alarms: {all:?}");
    assert_eq!(
        (all[0].id, all[0].reopen_count, all[0].flapping),
        (id, 2, true)
    );

    // Flapping: the next clear is held until the fault stays away for the flap window.
    ingest(
        store.as_ref(),
        "a",
        at(9 * MIN),
        vec![fault(7, FaultAction::Cleared, "receipt_printer")],
    );
    let held = &store.alarms(AlarmStatusFilter::Open, None).expect("alarms")[0];
    assert_eq!((held.status.as_str(), held.clear_pending), ("active", true));
    assert!(
        store
            .sweep(&at(15 * MIN))
            .expect("sweep")
            .cleared_alarms
            .is_empty()
    );
    let report = store.sweep(&at(19 * MIN)).expect("sweep");
    assert_eq!(report.cleared_alarms, [id]);
    assert!(
        store
            .alarms(AlarmStatusFilter::Open, None)
            .expect("alarms")
            .is_empty()
    );

    // Raised again after the window: a new alarm.
    ingest(
        store.as_ref(),
        "a",
        at(40 * MIN),
        vec![fault(8, FaultAction::Opened, "receipt_printer")],
    );
    let fresh = &store.alarms(AlarmStatusFilter::Open, None).expect("alarms")[0];
    assert_ne!(fresh.id, id);
    assert_eq!((fresh.reopen_count, fresh.flapping), (0, false));

    // Open for 30 minutes: escalated to exactly one ticket.
    assert!(
        store
            .sweep(&at(69 * MIN))
            .expect("sweep")
            .escalated
            .is_empty()
    );
    let report = store.sweep(&at(70 * MIN)).expect("sweep");
    assert_eq!(report.escalated.len(), 1);
    assert!(
        store
            .sweep(&at(75 * MIN))
            .expect("sweep")
            .escalated
            .is_empty()
    );
    let tickets = store.tickets(TicketStatusFilter::Open).expect("tickets");
    assert_eq!(tickets.len(), 1);
    let ticket = &tickets[0];
    assert_eq!((ticket.alarm_id, ticket.kiosk_id.as_str()), (fresh.id, "a"));
    assert_eq!(
        store.alarms(AlarmStatusFilter::Open, None).expect("alarms")[0].ticket_id,
        Some(ticket.id)
    );

    let assigned = store
        .assign_ticket(ticket.id, "张工", &at(71 * MIN))
        .expect("assign");
    assert!(matches!(&assigned, TicketUpdate::Updated(t) if t.assignee.as_deref() == Some("张工")));
    let resolved = store
        .resolve_ticket(ticket.id, "replaced the printer head", &at(80 * MIN))
        .expect("resolve");
    assert!(matches!(&resolved, TicketUpdate::Updated(t) if t.status == "resolved"));
    assert!(matches!(
        store
            .resolve_ticket(ticket.id, "again", &at(81 * MIN))
            .expect("resolve"),
        TicketUpdate::AlreadyResolved(_)
    ));
    assert!(matches!(
        store
            .assign_ticket(ticket.id, "someone", &at(81 * MIN))
            .expect("assign"),
        TicketUpdate::AlreadyResolved(_)
    ));
    assert_eq!(
        store.assign_ticket(424242, "x", &at(0)).expect("assign"),
        TicketUpdate::NotFound
    );
    let done = &store
        .tickets(TicketStatusFilter::Resolved)
        .expect("tickets")[0];
    assert_eq!(
        done.resolution.as_deref(),
        Some("replaced the printer head")
    );
    assert!(
        store
            .tickets(TicketStatusFilter::Open)
            .expect("tickets")
            .is_empty()
    );
    let (by_severity, open_tickets) = store.alarm_counts().expect("counts");
    assert_eq!(
        (by_severity.get("critical").copied(), open_tickets),
        (Some(1), 0)
    );
}

fn an_old_outbox_raises_a_backlog_alarm_until_it_drains(engine: Engine) {
    let fx = Fixture::new(engine, "backlog");
    let store = fx.store();
    let mut hb = heartbeat("a", 1, 5, &[]);
    hb.oldest_unsent_age_s = Some(15 * 60);
    store.record_heartbeat(&hb, &at(0)).expect("heartbeat");
    assert!(
        store
            .alarms(AlarmStatusFilter::Open, None)
            .expect("alarms")
            .is_empty(),
        "15 min is fine"
    );
    hb.seq = 2;
    hb.oldest_unsent_age_s = Some(15 * 60 + 1);
    hb.outbox_depth = 40;
    store.record_heartbeat(&hb, &at(30_000)).expect("heartbeat");
    let open = store.alarms(AlarmStatusFilter::Open, None).expect("alarms");
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].kind.as_str(), open[0].severity.as_str()),
        ("outbox_backlog", "warning")
    );
    hb.seq = 3;
    hb.oldest_unsent_age_s = None;
    store.record_heartbeat(&hb, &at(60_000)).expect("heartbeat");
    assert!(
        store
            .alarms(AlarmStatusFilter::Open, None)
            .expect("alarms")
            .is_empty()
    );
}

fn transaction(
    seq: i64,
    id: &str,
    item: (&str, &str, &str),
    outcome: TransactionOutcome,
    day: &str,
    minutes: u32,
    step: Option<&str>,
) -> AcceptedEvent {
    accepted(
        seq,
        EventKind::Transaction,
        EventProjection::Transaction(TransactionRow {
            transaction_id: id.into(),
            item_code: item.0.into(),
            item_name: item.1.into(),
            department: item.2.into(),
            outcome,
            masked_name: None,
            masked_id_number: None,
            started_at: format!("{day}T10:00:00+08:00"),
            finished_at: format!("{day}T10:{minutes:02}:00+08:00"),
            catalogue_version: 3,
            duration_ms: Some(i64::from(minutes) * MIN),
            abandoned_at_step: step.map(str::to_string),
        }),
    )
}

fn rating(seq: i64, id: &str, value: Option<u8>) -> AcceptedEvent {
    accepted(
        seq,
        EventKind::Rating,
        EventProjection::Rating(RatingRow {
            transaction_id: id.into(),
            item_code: "x".into(),
            rating: value,
            rated_at: "2026-11-21T10:05:00+08:00".into(),
        }),
    )
}

const PROOF: (&str, &str, &str) = ("GA-LSSFZM", "临时身份证明", "公安局");
const PENSION: (&str, &str, &str) = ("SB-YLZM", "养老保险证明", "人社局");

fn statistics_group_count_average_and_find_abandonment(engine: Engine) {
    let fx = Fixture::new(engine, "stats");
    let store = fx.store();
    use TransactionOutcome::*;
    ingest(
        store.as_ref(),
        "a",
        at(0),
        vec![
            transaction(1, "T1", PROOF, Completed, "2026-11-20", 2, None),
            transaction(2, "T2", PROOF, Completed, "2026-11-21", 4, None),
            transaction(
                3,
                "T3",
                PROOF,
                Cancelled,
                "2026-11-21",
                1,
                Some("face_check"),
            ),
            transaction(
                4,
                "T4",
                PENSION,
                TimedOut,
                "2026-11-21",
                9,
                Some("face_check"),
            ),
            rating(5, "T1", Some(5)),
            rating(6, "T2", Some(2)),
            rating(7, "T3", None),
        ],
    );
    ingest(
        store.as_ref(),
        "b",
        at(0),
        vec![
            transaction(1, "T1", PENSION, Cancelled, "2026-11-21", 1, Some("form")),
            transaction(2, "T2", PENSION, Failed, "2026-11-21", 1, None),
        ],
    );

    let by_item = store
        .transaction_stats(StatsGroup::Item, &DayRange::default())
        .expect("stats");
    assert_eq!(by_item.len(), 2);
    let proof = &by_item[0];
    assert_eq!(
        (proof.key.as_str(), proof.label.as_str()),
        ("GA-LSSFZM", "临时身份证明")
    );
    assert_eq!(
        (proof.transactions, proof.completed, proof.cancelled),
        (3, 2, 1)
    );
    assert_eq!(
        proof.avg_duration_s,
        Some(180.0),
        "completed only: (2 + 4) / 2 minutes"
    );
    assert_eq!(
        (
            proof.ratings,
            proof.avg_rating,
            proof.bad_ratings,
            proof.skipped_ratings
        ),
        (2, Some(3.5), 1, 1)
    );
    let pension = &by_item[1];
    assert_eq!(
        (
            pension.transactions,
            pension.timed_out,
            pension.failed,
            pension.avg_duration_s
        ),
        (3, 1, 1, None)
    );

    let by_department: Vec<(String, i64)> = store
        .transaction_stats(StatsGroup::Department, &DayRange::default())
        .expect("stats")
        .into_iter()
        .map(|r| (r.key, r.transactions))
        .collect();
    assert_eq!(
        by_department,
        [("人社局".to_string(), 3), ("公安局".to_string(), 3)]
    );
    let by_kiosk: Vec<(String, i64)> = store
        .transaction_stats(StatsGroup::Kiosk, &DayRange::default())
        .expect("stats")
        .into_iter()
        .map(|r| (r.key, r.transactions))
        .collect();
    assert_eq!(by_kiosk, [("a".to_string(), 4), ("b".to_string(), 2)]);
    let one_day = DayRange {
        from: Some("2026-11-21".into()),
        to: Some("2026-11-21".into()),
    };
    let by_day: Vec<(String, i64)> = store
        .transaction_stats(StatsGroup::Day, &one_day)
        .expect("stats")
        .into_iter()
        .map(|r| (r.key, r.transactions))
        .collect();
    assert_eq!(by_day, [("2026-11-21".to_string(), 5)]);

    let abandoned: Vec<(String, String, i64, i64)> = store
        .abandonment(&DayRange::default())
        .expect("abandonment")
        .into_iter()
        .map(|r| (r.item_code, r.step, r.cancelled, r.timed_out))
        .collect();
    assert_eq!(
        abandoned,
        [
            ("GA-LSSFZM".into(), "face_check".into(), 1, 0),
            ("SB-YLZM".into(), "face_check".into(), 0, 1),
            ("SB-YLZM".into(), "form".into(), 1, 0),
        ]
    );

    let activity = store
        .kiosk_activity(&at(-MIN), "2026-11-21")
        .expect("activity");
    let counts: Vec<(String, i64, i64)> = activity
        .into_iter()
        .map(|a| (a.kiosk_id, a.faults, a.transactions))
        .collect();
    assert_eq!(counts, [("a".to_string(), 0, 3), ("b".to_string(), 0, 2)]);
}

fn disinfection(seq: i64, at_text: &str, staff: &str) -> AcceptedEvent {
    let at_ms =
        time::OffsetDateTime::parse(at_text, &time::format_description::well_known::Rfc3339)
            .expect("time")
            .unix_timestamp()
            * 1000;
    accepted(
        seq,
        EventKind::Disinfection,
        EventProjection::Disinfection(DisinfectionRow {
            at: at_text.into(),
            at_unix_ms: at_ms,
            staff_id: Some(staff.into()),
            method: Some("wipe".into()),
            surfaces_json: r#"["screen","keypad"]"#.into(),
        }),
    )
}

fn the_latest_disinfection_per_kiosk_is_kept(engine: Engine) {
    let fx = Fixture::new(engine, "disinfection");
    let store = fx.store();
    // Uploaded out of order: the latest by its own time wins, not the last received.
    ingest(
        store.as_ref(),
        "a",
        at(0),
        vec![
            disinfection(1, "2026-11-21T12:00:00+08:00", "S-2"),
            disinfection(2, "2026-11-21T08:00:00+08:00", "S-1"),
        ],
    );
    ingest(
        store.as_ref(),
        "b",
        at(0),
        vec![disinfection(1, "2026-11-20T08:00:00Z", "S-9")],
    );
    let latest = store.last_disinfections().expect("read");
    let seen: Vec<(&str, &str, Option<&str>)> = latest
        .iter()
        .map(|r| (r.kiosk_id.as_str(), r.at.as_str(), r.staff_id.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            ("a", "2026-11-21T12:00:00+08:00", Some("S-2")),
            ("b", "2026-11-20T08:00:00Z", Some("S-9")),
        ]
    );
    assert_eq!(latest[0].surfaces, ["screen", "keypad"]);
}

fn a_version_1_database_migrates_and_backfills_statistics(engine: Engine) {
    let fx = Fixture::new(engine, "migrate-v1");
    let step_one = match engine {
        Engine::Sqlite => kiosk_central::storage::migrations::MIGRATIONS[0].sql,
        Engine::Postgres => kiosk_central::storage::postgres::migrations::MIGRATIONS[0].sql,
    };
    let key = Uuid::now_v7();
    fx.execute_sql(&format!(
        "CREATE TABLE schema_version (version BIGINT PRIMARY KEY, name TEXT NOT NULL,
                                      applied_at TEXT NOT NULL);
         {step_one}
         INSERT INTO schema_version VALUES (1, 'events, transactions, ratings, kiosk state', 'x');
         INSERT INTO received_events (kiosk_id, idempotency_key, seq, kind, payload, created_at,
                                      received_at)
              VALUES ('a', '{key}', 1, 'transaction',
                      '{{\"abandoned_at_step\":\"face_check\"}}', 'x', 'x');
         INSERT INTO transactions (kiosk_id, transaction_id, idempotency_key, item_code, item_name,
                                   department, outcome, started_at, finished_at,
                                   catalogue_version, received_at)
              VALUES ('a', 'T1', '{key}', 'GA-LSSFZM', '临时身份证明', '公安局', 'cancelled',
                      '2026-11-21T23:58:00+08:00', '2026-11-22T00:01:30.500+08:00', 3, 'x');
         INSERT INTO kiosk_state (kiosk_id, connectivity, heartbeat_seq, sent_at, software_version,
                                  catalogue_version, devices, items_offered, items_available,
                                  unavailable_items, outbox_depth, dead_letter_count, last_seen,
                                  last_seen_unix_ms)
              VALUES ('a', 'online', 1, 'x', '0.1.0', 3, '[]', 10, 10, '[]', 0, 0, 'x', 5);"
    ));
    let store = fx.store();
    assert_eq!(
        fx.schema_version(),
        kiosk_central::storage::migrations::latest_version()
    );
    let rows = store
        .transaction_stats(StatsGroup::Day, &DayRange::default())
        .expect("stats");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].key, "2026-11-22", "the kiosk-local day it finished");
    let abandoned = store
        .abandonment(&DayRange::default())
        .expect("abandonment");
    assert_eq!(abandoned[0].step, "face_check");
    assert_eq!(
        fx.query_i64("SELECT duration_ms FROM transactions"),
        3 * MIN + 30_500,
        "duration backfilled across midnight"
    );
    assert_eq!(
        fx.query_i64("SELECT first_seen_unix_ms FROM kiosk_state"),
        5
    );
}

on_both_engines!(
    an_operator_sees_status_availability_alarms_and_metrics,
    statistics_csv_tickets_and_disinfection_over_http,
    tickets_are_worked_over_http,
    buckets_count_online_time_and_an_offline_kiosk_as_zero,
    a_kiosk_first_seen_mid_bucket_counts_from_its_first_heartbeat,
    fault_alarms_refresh_clear_flap_and_escalate,
    an_old_outbox_raises_a_backlog_alarm_until_it_drains,
    statistics_group_count_average_and_find_abandonment,
    the_latest_disinfection_per_kiosk_is_kept,
    a_version_1_database_migrates_and_backfills_statistics,
);

// ---------------------------------------------------------------------------------------------
// Over HTTP, both engines
// ---------------------------------------------------------------------------------------------

fn builder(fx: &Fixture) -> CentralBuilder {
    let builder = CentralBuilder::new(fx.config());
    match &fx.postgres_url {
        Some(url) => builder.postgres(url),
        None => builder,
    }
}

fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !condition() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn metric(text: &str, line_prefix: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(line_prefix)?.trim().parse().ok())
}

fn http_heartbeat(kiosk_id: &str, seq: u64, unavailable: &[&str]) -> Value {
    json!({
        "kiosk_id": kiosk_id,
        "seq": seq,
        "sent_at": "2026-11-21T10:00:30+08:00",
        "software_version": "0.1.0",
        "catalogue_version": 3,
        "devices": [{"class": "receipt_printer", "state": "online"}],
        "items_offered": 4,
        "items_available": 4 - unavailable.len(),
        "unavailable_items": unavailable,
        "outbox_depth": 0,
        "oldest_unsent_age_s": null,
        "dead_letter_count": 0
    })
}

fn an_operator_sees_status_availability_alarms_and_metrics(engine: Engine) {
    let fx = Fixture::new(engine, "http-fleet");
    // 1 s heartbeats: offline after 3 s of silence.
    let central = builder(&fx)
        .heartbeat_interval(Duration::from_secs(1))
        .sweep_every(Duration::from_millis(100))
        .spawn_in_thread()
        .expect("central starts");
    fx.enrol_test_kiosks();
    let client = Client::new(central.url());

    let (status, reply) = client.post_json(
        paths::HEARTBEAT,
        signed(KIOSK_1),
        &http_heartbeat(KIOSK_1, 1, &["SB-YLZM"]),
    );
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        reply["next_heartbeat_s"], 1,
        "the configured interval is what kiosks are told"
    );

    let (status, fleet) = client.get("/api/v1/admin/kiosks", Some(ADMIN_TOKEN));
    assert_eq!(status, 200, "{fleet}");
    assert_eq!(
        fleet["summary"],
        json!({"kiosks": 2, "online": 1, "offline": 0, "never_seen": 1})
    );
    assert_eq!(fleet["kiosks"][0]["kiosk_id"], KIOSK_1);
    assert_eq!(fleet["kiosks"][0]["availability"], 0.75);
    assert_eq!(fleet["kiosks"][1]["status"], "never_seen");

    let (_, now) = client.get("/api/v1/admin/availability", Some(ADMIN_TOKEN));
    assert_eq!(now["fleet"]["availability"], 0.75, "{now}");
    assert_eq!(now["fleet"]["never_seen"], 1, "{now}");
    assert_eq!(
        now["items"],
        json!([{"item_code": "SB-YLZM", "kiosks_in_service": 1, "kiosks_doable": 0, "availability": 0.0}])
    );

    // A printer fault from the kiosk's outbox becomes an alarm the operator acknowledges.
    let body = batch(
        KIOSK_1,
        vec![event(
            1,
            "fault_opened",
            json!({
                "device": "receipt_printer", "severity": "major", "message": "receipt_printer fault during print_document", "during_step": "print_document"
            }),
        )],
    );
    let (status, ack) = client.post_json(paths::OUTBOX, signed(KIOSK_1), &body);
    assert_eq!((status, ack["stored"].clone()), (200, json!(1)), "{ack}");
    let (_, alarms) = client.get("/api/v1/admin/alarms", Some(ADMIN_TOKEN));
    let alarms = alarms.as_array().expect("array").clone();
    assert_eq!(alarms.len(), 1, "{alarms:?}");
    assert_eq!(alarms[0]["kind"], "device_fault:receipt_printer");
    assert_eq!(alarms[0]["acknowledged"], false);
    let id = alarms[0]["id"].as_i64().expect("id");
    let (status, acked) = client.post_json(
        &format!("/api/v1/admin/alarms/{id}/acknowledge"),
        Some(ADMIN_TOKEN),
        &json!({"by": "值班员"}),
    );
    assert_eq!(status, 200, "{acked}");
    assert_eq!(
        (
            acked["acknowledged"].clone(),
            acked["acknowledged_by"].clone()
        ),
        (json!(true), json!("值班员"))
    );
    let (status, _) = client.post_json(
        "/api/v1/admin/alarms/999999/acknowledge",
        Some(ADMIN_TOKEN),
        &json!({}),
    );
    assert_eq!(status, 404);
    let (status, _) = client.get("/api/v1/admin/alarms?status=bogus", Some(ADMIN_TOKEN));
    assert_eq!(status, 400);

    // A fault event without a device is refused, so the kiosk dead-letters it.
    let (_, ack) = client.post_json(
        paths::OUTBOX,
        signed(KIOSK_1),
        &batch(
            KIOSK_1,
            vec![event(2, "fault_opened", json!({"code": "E1"}))],
        ),
    );
    assert_eq!(
        ack["rejected"][0]["reason"], "payload.device is missing or empty",
        "{ack}"
    );

    // Silence: offline after three missed heartbeats, with an offline alarm.
    wait_for("kiosk-001 offline", || {
        client.get("/api/v1/admin/kiosks", Some(ADMIN_TOKEN)).1["kiosks"][0]["status"] == "offline"
    });
    let (_, now) = client.get("/api/v1/admin/availability", Some(ADMIN_TOKEN));
    assert_eq!(
        now["fleet"]["availability"], 0.0,
        "offline counts as 0 %: {now}"
    );
    let (_, open) = client.get(
        &format!("/api/v1/admin/alarms?kiosk={KIOSK_1}"),
        Some(ADMIN_TOKEN),
    );
    let kinds: Vec<&str> = open
        .as_array()
        .expect("array")
        .iter()
        .map(|a| a["kind"].as_str().expect("kind"))
        .collect();
    assert!(kinds.contains(&"offline"), "{kinds:?}");

    let metrics = client.get_text("/metrics", ADMIN_TOKEN);
    assert_eq!(
        metric(&metrics, "kiosk_central_kiosks{status=\"online\"}"),
        Some(0.0),
        "{metrics}"
    );
    assert_eq!(
        metric(&metrics, "kiosk_central_kiosks{status=\"offline\"}"),
        Some(1.0)
    );
    assert_eq!(
        metric(&metrics, "kiosk_central_kiosks{status=\"never_seen\"}"),
        Some(1.0)
    );
    assert_eq!(
        metric(&metrics, "kiosk_central_open_alarms{severity=\"major\"}"),
        Some(2.0),
        "{metrics}"
    );
    assert_eq!(
        metric(&metrics, "kiosk_central_heartbeats_total"),
        Some(1.0)
    );
    assert_eq!(
        metric(&metrics, "kiosk_central_outbox_batches_total"),
        Some(2.0)
    );
    assert_eq!(
        metric(&metrics, "kiosk_central_events_stored_total"),
        Some(1.0)
    );
    assert_eq!(
        metric(&metrics, "kiosk_central_events_rejected_total"),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &metrics,
            "kiosk_central_http_requests_total{route=\"/api/v1/heartbeat\",status=\"200\"}"
        ),
        Some(1.0),
        "{metrics}"
    );
    assert!(!metrics.contains(KIOSK_1), "no kiosk ids in metrics");

    // Back online: the offline alarm clears itself; the history shows the online time.
    let (status, _) = client.post_json(
        paths::HEARTBEAT,
        signed(KIOSK_1),
        &http_heartbeat(KIOSK_1, 2, &[]),
    );
    assert_eq!(status, 200);
    let (_, open) = client.get("/api/v1/admin/alarms", Some(ADMIN_TOKEN));
    assert_eq!(
        open.as_array().expect("array").len(),
        1,
        "only the printer alarm is left: {open}"
    );
    let (status, history) = client.get(
        "/api/v1/admin/availability/history?hours=1&item=SB-YLZM",
        Some(ADMIN_TOKEN),
    );
    assert_eq!(status, 200, "{history}");
    let points = history["points"].as_array().expect("points");
    // An hour of 5-minute buckets, the first one starting on a 5-minute boundary.
    assert!((12..=13).contains(&points.len()), "{history}");
    let first_start = points[0]["start"].as_str().expect("start");
    assert!(
        first_start.ends_with(":00.000Z")
            && first_start[14..16].parse::<u32>().expect("minute") % 5 == 0,
        "{first_start}"
    );
    assert_eq!(points.last().expect("point")["end"], history["to"]);
    let served: f64 = points
        .iter()
        .filter_map(|p| p["kiosk_seconds"].as_f64())
        .sum();
    assert!(served > 3.0, "{history}");
    let (status, _) = client.get(
        "/api/v1/admin/availability/history?step_minutes=7",
        Some(ADMIN_TOKEN),
    );
    assert_eq!(status, 400);

    // Admin endpoints refuse a kiosk's signature.
    for path in [
        "/api/v1/admin/kiosks",
        "/api/v1/admin/alarms",
        "/api/v1/admin/stats/transactions.csv",
    ] {
        assert_eq!(client.get(path, signed(KIOSK_1)).0, 401, "{path}");
    }
    central.shutdown();
}

fn statistics_csv_tickets_and_disinfection_over_http(engine: Engine) {
    let fx = Fixture::new(engine, "http-stats");
    let central = builder(&fx)
        .policy(FleetPolicy {
            disinfection_interval: Duration::from_secs(3600),
            ..FleetPolicy::default()
        })
        .spawn_in_thread()
        .expect("central starts");
    fx.enrol_test_kiosks();
    let client = Client::new(central.url());
    for kiosk in [KIOSK_1, KIOSK_2] {
        assert_eq!(
            client
                .post_json(
                    paths::HEARTBEAT,
                    signed(kiosk),
                    &http_heartbeat(kiosk, 1, &[])
                )
                .0,
            200
        );
    }
    let mut cancelled = transaction_payload("T-2");
    cancelled["outcome"] = json!("cancelled");
    cancelled["abandoned_at_step"] = json!("face_check");
    cancelled["applicant"] = Value::Null;
    cancelled["item_name"] = json!("临时身份证明, 加急");
    let recent = ServerTime::from_unix_ms(ServerTime::now().unix_ms - 60_000).rfc3339;
    let body = batch(
        KIOSK_1,
        vec![
            event(1, "transaction", transaction_payload("T-1")),
            event(2, "rating", rating_payload("T-1", 5)),
            event(3, "transaction", cancelled),
            event(
                4,
                "disinfection",
                json!({"at": recent, "staff_id": "S-01", "method": "wipe", "surfaces": ["screen"]}),
            ),
            event(5, "disinfection", json!({"at": "yesterday"})),
        ],
    );
    let (_, ack) = client.post_json(paths::OUTBOX, signed(KIOSK_1), &body);
    assert_eq!(
        (
            ack["stored"].clone(),
            ack["rejected"].as_array().map(Vec::len)
        ),
        (json!(4), Some(1)),
        "{ack}"
    );
    assert_eq!(
        ack["rejected"][0]["reason"],
        "payload.at is not an RFC 3339 date-time"
    );

    let (status, stats) = client.get(
        "/api/v1/admin/stats/transactions?by=item",
        Some(ADMIN_TOKEN),
    );
    assert_eq!(status, 200, "{stats}");
    let row = &stats["rows"][0];
    assert_eq!(
        (
            row["transactions"].clone(),
            row["completed"].clone(),
            row["cancelled"].clone()
        ),
        (json!(2), json!(1), json!(1))
    );
    assert_eq!(row["avg_duration_s"], 180.0, "{row}");
    assert_eq!(row["avg_rating"], 5.0);
    assert_eq!(
        client
            .get(
                "/api/v1/admin/stats/transactions?by=colour",
                Some(ADMIN_TOKEN)
            )
            .0,
        400
    );
    assert_eq!(
        client
            .get(
                "/api/v1/admin/stats/transactions?from=21-11-2026",
                Some(ADMIN_TOKEN)
            )
            .0,
        400
    );

    let csv = client.get_text(
        "/api/v1/admin/stats/transactions.csv?by=department&from=2026-11-21&to=2026-11-21",
        ADMIN_TOKEN,
    );
    let mut lines = csv.split("\r\n");
    assert_eq!(
        lines.next(),
        Some(
            "\u{feff}department,label,transactions,completed,cancelled,timed_out,failed,avg_duration_s,ratings,avg_rating,bad_ratings,skipped_ratings"
        )
    );
    assert_eq!(lines.next(), Some("公安局,公安局,2,1,1,0,0,180,1,5,0,0"));
    let by_item = client.get_text("/api/v1/admin/stats/transactions.csv?by=item", ADMIN_TOKEN);
    assert!(
        by_item.contains("GA-LSSFZM,\"临时身份证明, 加急\",2")
            || by_item.contains("GA-LSSFZM,临时身份证明,2"),
        "{by_item}"
    );
    let abandonment = client.get_text("/api/v1/admin/stats/abandonment.csv", ADMIN_TOKEN);
    assert!(
        abandonment.ends_with(
            "item_code,step,cancelled,timed_out,total\r\nGA-LSSFZM,face_check,1,0,1\r\n"
        ),
        "{abandonment}"
    );
    let (_, abandonment) = client.get("/api/v1/admin/stats/abandonment", Some(ADMIN_TOKEN));
    assert_eq!(
        abandonment["by_step"],
        json!([{"step": "face_check", "cancelled": 1, "timed_out": 0, "total": 1}])
    );

    // kiosk-002 never sent a disinfection record: overdue; kiosk-001 did a minute ago.
    let (status, overdue) = client.get("/api/v1/admin/disinfection/overdue", Some(ADMIN_TOKEN));
    assert_eq!(status, 200, "{overdue}");
    assert_eq!(overdue["interval_s"], 3600);
    let ids: Vec<&str> = overdue["kiosks"]
        .as_array()
        .expect("kiosks")
        .iter()
        .map(|k| k["kiosk_id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [KIOSK_2]);
    let (_, all) = client.get("/api/v1/admin/disinfection", Some(ADMIN_TOKEN));
    let first = all["kiosks"]
        .as_array()
        .expect("kiosks")
        .iter()
        .find(|k| k["kiosk_id"] == KIOSK_1)
        .expect("kiosk-001")
        .clone();
    assert_eq!(
        (first["staff_id"].clone(), first["overdue"].clone()),
        (json!("S-01"), json!(false))
    );

    // The report: kiosk-002 is little used (no transactions); nobody has many faults.
    let (_, report) = client.get(
        "/api/v1/admin/reports/kiosks?days=7&min_transactions=1",
        Some(ADMIN_TOKEN),
    );
    assert_eq!(
        report["little_use"],
        json!([{"kiosk_id": KIOSK_2, "status": "online", "faults": 0, "transactions": 0}]),
        "{report}"
    );
    assert_eq!(report["many_faults"], json!([]));

    // Tickets: none yet; unknown ones answer 404, a resolve without a note 400.
    let (_, tickets) = client.get("/api/v1/admin/tickets", Some(ADMIN_TOKEN));
    assert_eq!(tickets, json!([]));
    assert_eq!(
        client
            .post_json(
                "/api/v1/admin/tickets/77/resolve",
                Some(ADMIN_TOKEN),
                &json!({"resolution": "done"})
            )
            .0,
        404
    );
    assert_eq!(
        client
            .post_json(
                "/api/v1/admin/tickets/77/resolve",
                Some(ADMIN_TOKEN),
                &json!({})
            )
            .0,
        400
    );
    central.shutdown();
}

fn tickets_are_worked_over_http(engine: Engine) {
    let fx = Fixture::new(engine, "http-tickets");
    // Escalate after 1 s, swept every 100 ms.
    let central = builder(&fx)
        .policy(FleetPolicy {
            escalate_after: Duration::from_secs(1),
            ..FleetPolicy::default()
        })
        .sweep_every(Duration::from_millis(100))
        .spawn_in_thread()
        .expect("central starts");
    fx.enrol_test_kiosks();
    let client = Client::new(central.url());
    let body = batch(
        KIOSK_2,
        vec![event(
            1,
            "fault_opened",
            json!({"device": "id_card_reader", "code": "R-7"}),
        )],
    );
    assert_eq!(
        client.post_json(paths::OUTBOX, signed(KIOSK_2), &body).0,
        200
    );
    let mut tickets = Value::Null;
    wait_for("a ticket", || {
        tickets = client.get("/api/v1/admin/tickets", Some(ADMIN_TOKEN)).1;
        tickets.as_array().is_some_and(|t| t.len() == 1)
    });
    let id = tickets[0]["id"].as_i64().expect("id");
    assert_eq!(
        (tickets[0]["kiosk_id"].clone(), tickets[0]["kind"].clone()),
        (json!(KIOSK_2), json!("device_fault:id_card_reader"))
    );
    let (status, assigned) = client.post_json(
        &format!("/api/v1/admin/tickets/{id}/assign"),
        Some(ADMIN_TOKEN),
        &json!({"assignee": "李工"}),
    );
    assert_eq!((status, assigned["assignee"].clone()), (200, json!("李工")));
    let (status, resolved) = client.post_json(
        &format!("/api/v1/admin/tickets/{id}/resolve"),
        Some(ADMIN_TOKEN),
        &json!({"resolution": "cleaned the reader"}),
    );
    assert_eq!(
        (status, resolved["status"].clone()),
        (200, json!("resolved"))
    );
    let (status, _) = client.post_json(
        &format!("/api/v1/admin/tickets/{id}/resolve"),
        Some(ADMIN_TOKEN),
        &json!({"resolution": "again"}),
    );
    assert_eq!(status, 409);
    let (_, open) = client.get("/api/v1/admin/tickets", Some(ADMIN_TOKEN));
    assert_eq!(open, json!([]));
    let (_, all) = client.get("/api/v1/admin/tickets?status=all", Some(ADMIN_TOKEN));
    assert_eq!(all[0]["resolution"], "cleaned the reader");
    // The kiosk reports the fault cleared: the alarm clears, the resolved ticket stays.
    let body = batch(
        KIOSK_2,
        vec![event(
            2,
            "fault_cleared",
            json!({"device": "id_card_reader"}),
        )],
    );
    assert_eq!(
        client.post_json(paths::OUTBOX, signed(KIOSK_2), &body).0,
        200
    );
    let (_, open_alarms) = client.get("/api/v1/admin/alarms", Some(ADMIN_TOKEN));
    assert_eq!(open_alarms, json!([]));
    central.shutdown();
}

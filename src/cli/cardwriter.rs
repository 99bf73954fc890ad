//! `kiosk cardwriter status|test --port PATH [--model crt591|k720]`: the card dispenser /
//! reader-writer, for a technician at the kiosk. `kiosk sim cardwriter`: its simulator on a
//! pseudo-terminal.
//!
//! `test` runs the whole cycle on one blank card — dispense, write a test record, read it back
//! and verify it byte for byte — and then always captures the card into the error-card bin: a
//! test never hands a card out. Nothing personal is written: the holder reference is the fixed
//! masked `TEST**********0000`.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use kiosk_drivers::cardwriter::{
    CardPosition, CardRecord, CardWriter, CardWriterError, CardWriterModel, CardWriterReport,
    CardWriterSettings, CardWriterSimulator, RecordDate, RecordKey, SimulatorConfig,
};
use kiosk_drivers::status::DeviceStatus;
use kiosk_drivers::traits::{CardWriterDevice, Device};

/// The key `kiosk cardwriter test` uses without `--key`: the 16 bytes 00 01 02 … 0F. Only for
/// test cards (they end in the bin); a kiosk's cards are keyed with its key file.
pub const TEST_KEY_HEX: &str = "000102030405060708090A0B0C0D0E0F";

/// The item id of the test record.
pub const TEST_ITEM_ID: &str = "self-test";

/// The holder reference of the test record (masked form, no real person).
pub const TEST_HOLDER_REF: &str = "TEST**********0000";

/// The kiosk id of the test record.
pub const TEST_KIOSK_ID: &str = "CLI";

/// Kiosks keep China Standard Time (UTC+8) for dates on cards.
const UTC_OFFSET_HOURS: i8 = 8;

fn parse_model(model: &str) -> anyhow::Result<CardWriterModel> {
    Ok(model.parse::<CardWriterModel>()?)
}

fn settings(model: CardWriterModel, baud: Option<u32>, initialise: bool) -> CardWriterSettings {
    CardWriterSettings {
        baud: baud.unwrap_or_else(|| model.default_baud()),
        initialise_on_open: initialise,
        ..CardWriterSettings::default()
    }
}

fn open(
    model: CardWriterModel,
    port: &str,
    baud: Option<u32>,
    initialise: bool,
) -> anyhow::Result<CardWriter> {
    CardWriter::open(model, port, &settings(model, baud, initialise))
        .with_context(|| model.to_string())
}

fn report_json(report: &CardWriterReport, status: &DeviceStatus) -> serde_json::Value {
    serde_json::json!({
        "stack": report.stack,
        "bin": report.bin,
        "card": report.card,
        "jammed": report.jammed,
        "problems": report.problems,
        "state": status.state.as_str(),
        "usable": status.is_usable(),
        "last_error": status.last_error,
    })
}

/// The device's state now: the report when it answers, else the state its failure means
/// (offline, no device, hardware error) with the error.
fn state_json(writer: &mut CardWriter) -> (serde_json::Value, bool) {
    match CardWriterDevice::report(writer) {
        Ok(report) => {
            let status = report.to_device_status();
            (report_json(&report, &status), status.is_usable())
        }
        Err(_) => {
            let status = Device::status(writer);
            let json = serde_json::json!({
                "state": status.state.as_str(),
                "usable": false,
                "last_error": status.last_error,
            });
            (json, false)
        }
    }
}

fn merge(mut base: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    if let (Some(map), serde_json::Value::Object(extra)) = (base.as_object_mut(), extra) {
        map.extend(extra);
    }
    base
}

/// Prints the dispenser's state as JSON; exit code 0 when it can issue cards, 1 when not.
///
/// A CRT-591 reports a jam only in the reply to a motion or an initialise, so it is
/// initialised first (the card in the channel, if any, stays where it is); the K720's status
/// carries a jam bit and is only asked.
pub fn status(port: &str, model: &str, baud: Option<u32>) -> anyhow::Result<i32> {
    let model = parse_model(model)?;
    let mut writer = open(model, port, baud, false)?;
    let mut firmware = serde_json::Value::Null;
    let mut initialise_error = serde_json::Value::Null;
    if model == CardWriterModel::Crt591 {
        match writer.initialise() {
            Ok(version) => firmware = version.into(),
            Err(e) => initialise_error = e.to_string().into(),
        }
    }
    let (state, usable) = state_json(&mut writer);
    let json = merge(
        serde_json::json!({
            "port": port,
            "model": model.as_str(),
            "firmware": firmware,
            "initialise_error": initialise_error,
        }),
        state,
    );
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(if usable { 0 } else { 1 })
}

/// Today's date (UTC+8) as a record date.
fn today() -> anyhow::Result<RecordDate> {
    let offset = time::UtcOffset::from_hms(UTC_OFFSET_HOURS, 0, 0)?;
    let date = time::OffsetDateTime::now_utc().to_offset(offset).date();
    RecordDate::new(
        u16::try_from(date.year())?,
        u8::from(date.month()),
        date.day(),
    )
    .context("today's date is outside the card record's range")
}

/// The record `test` writes.
pub fn test_record() -> anyhow::Result<CardRecord> {
    let today = today()?;
    Ok(CardRecord {
        item_id: TEST_ITEM_ID.to_owned(),
        holder_ref: TEST_HOLDER_REF.to_owned(),
        valid_from: today,
        valid_until: today,
        kiosk_id: TEST_KIOSK_ID.to_owned(),
    })
}

fn load_key(key: Option<&Path>) -> anyhow::Result<(RecordKey, &'static str)> {
    match key {
        Some(path) => Ok((RecordKey::load(path)?, "key_file")),
        None => Ok((RecordKey::from_hex_text(TEST_KEY_HEX)?, "fixed_test_key")),
    }
}

fn record_json(record: &CardRecord) -> serde_json::Value {
    serde_json::json!({
        "item_id": record.item_id,
        "holder_ref": record.holder_ref,
        "valid_from": record.valid_from.to_string(),
        "valid_until": record.valid_until.to_string(),
        "kiosk_id": record.kiosk_id,
    })
}

/// One step of the test cycle, for the JSON.
struct Steps(Vec<serde_json::Value>);

impl Steps {
    fn record<T>(&mut self, step: &str, result: Result<T, CardWriterError>) -> Option<T> {
        match result {
            Ok(value) => {
                self.0.push(serde_json::json!({ "step": step, "ok": true }));
                Some(value)
            }
            Err(e) => {
                self.0.push(serde_json::json!({
                    "step": step,
                    "ok": false,
                    "error": e.to_string(),
                }));
                None
            }
        }
    }
}

/// Runs the technician's cycle: dispense a blank, write the test record, read it back and
/// verify it, capture the card into the bin. Prints what happened as JSON; exit code 0 when
/// every step passed, 1 when one failed (the card is captured all the same).
pub fn test(port: &str, model: &str, baud: Option<u32>, key: Option<&Path>) -> anyhow::Result<i32> {
    let model = parse_model(model)?;
    let (key, key_source) = load_key(key)?;
    let record = test_record()?;
    let mut writer = open(model, port, baud, true)?;
    // Refuse before any card moves when the dispenser cannot write (a K720 without encoder).
    writer
        .unit()
        .encoder()
        .map(drop)
        .with_context(|| format!("{model} at {port}"))?;

    let mut steps = Steps(Vec::new());
    let mut uid = serde_json::Value::Null;
    let mut read_back = serde_json::Value::Null;
    let mut passed = false;
    let dispense = writer.dispense_blank();
    // A card already in the channel before the test is not the test's to capture.
    let occupied = matches!(dispense, Err(CardWriterError::ChannelOccupied(_)));
    let dispensed = steps.record("dispense", dispense).is_some();
    if dispensed
        && steps
            .record("write", writer.write_card(&record, &key))
            .is_some()
        && let Some(content) = steps.record("read", writer.read_card(&key))
    {
        uid = content.uid.clone().into();
        read_back = match &content.record {
            Ok(found) => record_json(found),
            Err(e) => serde_json::json!({ "error": e.to_string() }),
        };
        let same = content.record.as_ref().is_ok_and(|found| *found == record);
        steps
            .0
            .push(serde_json::json!({ "step": "compare", "ok": same }));
        let verified = steps
            .record("verify", writer.verify_card(&record, &key))
            .is_some();
        passed = same && verified;
    }
    // Whatever happened, the test's card goes to the bin (also a blank a failed dispense left
    // inside).
    let mut captured = false;
    let left_inside =
        !dispensed && !occupied && matches!(writer.card_position(), Ok(CardPosition::Inside));
    if dispensed || left_inside {
        captured = steps.record("capture", writer.capture_card()).is_some();
        passed &= captured;
    }
    let (state, _) = state_json(&mut writer);
    let json = serde_json::json!({
        "port": port,
        "model": model.as_str(),
        "key": key_source,
        "record": record_json(&record),
        "uid": uid,
        "read_back": read_back,
        "steps": steps.0,
        "card_captured": captured,
        "passed": passed,
        "after": state,
    });
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(if passed { 0 } else { 1 })
}

/// The card writer simulator: prints its path, then a line whenever the stack, the bin or
/// the card's position changes. Runs until killed.
pub fn simulate(model: &str, cards: usize) -> anyhow::Result<i32> {
    let model = parse_model(model)?;
    let sim = CardWriterSimulator::spawn(
        model,
        SimulatorConfig {
            blank_cards: cards,
            ..SimulatorConfig::default()
        },
    )
    .with_context(|| format!("{model} simulator"))?;
    println!("{}", sim.path());
    let mut last = String::new();
    loop {
        let now = format!(
            "stack {}, bin {}, card {}",
            sim.stack_count(),
            sim.bin_cards().len(),
            serde_json::to_value(sim.card_position())?
                .as_str()
                .unwrap_or_default()
        );
        if now != last {
            // Whoever started the simulator may stop reading; it keeps serving.
            let _ = writeln!(std::io::stdout(), "{now}");
            last = now;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

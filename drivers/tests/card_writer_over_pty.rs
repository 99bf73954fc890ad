//! The card writer drivers (CRT-591 and K720) against the card writer simulator over real
//! pseudo-terminals: every command, every fault, issue and rewrite end to end.

use std::time::{Duration, Instant};

use kiosk_drivers::cardwriter::crt591::{
    ChipVoltage, Crt591, Crt591Position, Crt591Timeouts, InitMode, MifareOp,
};
use kiosk_drivers::cardwriter::k720::{K720, K720Move, K720Settings};
use kiosk_drivers::cardwriter::sim::SIM_AID;
use kiosk_drivers::cardwriter::{
    BinLevel, CardDisposition, CardLayout, CardPosition, CardRecord, CardStep, CardUnit,
    CardWriter, CardWriterError, CardWriterFault, CardWriterModel, CardWriterSettings,
    CardWriterSimulator, MifareKey, RecordDate, RecordError, RecordKey, RewriteOutcome, SimCard,
    SimulatorConfig, StackLevel,
};
use kiosk_drivers::{CardStock, CardWriterDevice, Device, DeviceState, MediaState, StatusDetail};

/// Generous: the machine running the tests is shared and loaded.
fn settings() -> CardWriterSettings {
    CardWriterSettings {
        crt591: Crt591Timeouts {
            ack: Duration::from_secs(2),
            reply: Duration::from_secs(3),
            motion: Duration::from_secs(5),
        },
        k720: K720Settings {
            ack: Duration::from_secs(2),
            reply: Duration::from_secs(3),
            motion: Duration::from_secs(5),
            ..K720Settings::default()
        },
        ..CardWriterSettings::default()
    }
}

fn key() -> RecordKey {
    RecordKey::from_bytes(&[0x5C; 32]).expect("key")
}

fn record(until: (u16, u8, u8)) -> CardRecord {
    CardRecord {
        item_id: "residence-permit-endorsement".to_owned(),
        holder_ref: "3101**********1234".to_owned(),
        valid_from: RecordDate::new(2025, 1, 1).expect("date"),
        valid_until: RecordDate::new(until.0, until.1, until.2).expect("date"),
        kiosk_id: "KIOSK-SH-0001".to_owned(),
    }
}

fn sim(model: CardWriterModel, cards: usize) -> CardWriterSimulator {
    CardWriterSimulator::spawn(
        model,
        SimulatorConfig {
            blank_cards: cards,
            low_at: 3,
            bin_capacity: 5,
            ..SimulatorConfig::default()
        },
    )
    .expect("simulator")
}

fn open(sim: &CardWriterSimulator) -> CardWriter {
    sim.open_writer(&settings()).expect("open card writer")
}

fn no_progress() -> impl FnMut(CardStep) {
    |_| {}
}

fn stored_record(card: &SimCard) -> Result<CardRecord, RecordError> {
    CardRecord::decode_verified(&card.record_area(&CardLayout::default()), &key())
}

fn issue_and_take(sim: &CardWriterSimulator, writer: &mut CardWriter) -> SimCard {
    writer
        .issue_card(&record((2026, 12, 31)), &key(), &mut no_progress())
        .expect("issued");
    sim.take_card().expect("card at the gate")
}

// ---------------------------------------------------------------------------------------
// Scenarios run for both models.
// ---------------------------------------------------------------------------------------

fn initialise_and_status(model: CardWriterModel) {
    let sim = sim(model, 8);
    let mut writer = open(&sim);
    let version = writer.initialise().expect("initialise");
    assert!(version.contains(if model == CardWriterModel::Crt591 {
        "CRT-591"
    } else {
        "K720"
    }));
    let report = writer.report().expect("report");
    assert_eq!(report.model, model);
    assert_eq!(report.card, CardPosition::None);
    assert_eq!(report.stack, StackLevel::Ok);
    assert_eq!(report.bin, BinLevel::NotFull);
    assert!(!report.jammed);
    let status = writer.status();
    assert_eq!(status.state, DeviceState::Online);
    assert_eq!(
        status.detail,
        StatusDetail::CardWriter {
            stock: CardStock::Ok,
            media: MediaState::Absent
        }
    );
    assert_eq!(
        writer.self_test().expect("self test").state,
        DeviceState::Online
    );
    // Few cards: low, still usable.
    sim.set_stack(2);
    assert_eq!(writer.card_stock().expect("stock"), CardStock::Low);
    assert!(writer.status().is_usable());
}

fn issue_verifies_and_presents(model: CardWriterModel) {
    let sim = sim(model, 8);
    let mut writer = open(&sim);
    let mut steps = Vec::new();
    let issued = writer
        .issue_card(&record((2026, 12, 31)), &key(), &mut |step| {
            steps.push(step)
        })
        .expect("issued");
    assert_eq!(
        steps,
        vec![
            CardStep::Dispensing,
            CardStep::Writing,
            CardStep::Verifying,
            CardStep::Presenting
        ]
    );
    assert_eq!(sim.stack_count(), 7);
    assert_eq!(
        writer.card_position().expect("position"),
        CardPosition::AtGate
    );
    let at_gate = sim.card_at_gate().expect("card at gate");
    assert_eq!(at_gate.uid_hex(), issued.uid);
    assert_eq!(stored_record(&at_gate), Ok(record((2026, 12, 31))));
    // "Card taken?" polling.
    let taken = sim.take_card().expect("taken");
    assert_eq!(taken.uid_hex(), issued.uid);
    assert_eq!(
        writer.card_position().expect("position"),
        CardPosition::None
    );
    assert!(sim.bin_cards().is_empty());
}

fn card_not_taken_is_captured(model: CardWriterModel) {
    let sim = sim(model, 8);
    sim.set_auto_take(Some(Duration::from_millis(200)));
    sim.inject(CardWriterFault::CardNotTaken);
    let mut writer = open(&sim);
    writer
        .issue_card(&record((2026, 12, 31)), &key(), &mut no_progress())
        .expect("issued");
    // The citizen walks away: still at the gate well after the auto-take delay.
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        writer.card_position().expect("position"),
        CardPosition::AtGate
    );
    writer.capture_card().expect("captured");
    assert_eq!(
        writer.card_position().expect("position"),
        CardPosition::None
    );
    assert_eq!(sim.bin_cards().len(), 1);
    assert!(sim.taken_cards().is_empty());
    // The next card is taken by itself.
    writer
        .issue_card(&record((2026, 12, 31)), &key(), &mut no_progress())
        .expect("issued");
    let deadline = Instant::now() + Duration::from_secs(10);
    while writer.card_position().expect("position") != CardPosition::None {
        assert!(Instant::now() < deadline, "auto-take never happened");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(sim.taken_cards().len(), 1);
}

fn stack_empty(model: CardWriterModel) {
    let sim = sim(model, 0);
    let mut writer = open(&sim);
    let report = writer.report().expect("report");
    assert_eq!(report.stack, StackLevel::Empty);
    let status = writer.status();
    assert_eq!(status.state, DeviceState::UserError);
    assert!(!status.is_usable());
    assert_eq!(writer.card_stock().expect("stock"), CardStock::Empty);
    let error = writer
        .issue_card(&record((2026, 12, 31)), &key(), &mut no_progress())
        .expect_err("nothing to dispense");
    assert_eq!(error, CardWriterError::StackEmpty);
    assert_eq!(sim.card_position(), CardPosition::None);
    assert!(sim.bin_cards().is_empty());
    // Refilled: works again.
    sim.set_stack(4);
    issue_and_take(&sim, &mut writer);
}

fn wrong_key(model: CardWriterModel) {
    let sim = sim(model, 8);
    let mut writer = open(&sim);
    sim.inject(CardWriterFault::ForeignKeyedCard);
    writer.dispense_blank().expect("dispensed");
    let error = writer.read_card(&key()).expect_err("key rejected");
    assert_eq!(error, CardWriterError::WrongKey { sector: 1 });
    writer.capture_card().expect("captured");
    // Through issue: typed cause, card captured, not released.
    sim.inject(CardWriterFault::ForeignKeyedCard);
    let error = writer
        .issue_card(&record((2026, 12, 31)), &key(), &mut no_progress())
        .expect_err("key rejected");
    assert_eq!(
        error,
        CardWriterError::WriteFailed {
            disposition: CardDisposition::Captured,
            cause: Box::new(CardWriterError::WrongKey { sector: 1 }),
        }
    );
    assert_eq!(sim.bin_cards().len(), 2);
    assert!(sim.card_at_gate().is_none());
    // A card with the right key afterwards is fine.
    issue_and_take(&sim, &mut writer);
}

fn chip_error(model: CardWriterModel) {
    let sim = sim(model, 8);
    let mut writer = open(&sim);
    sim.inject(CardWriterFault::ChipError);
    let error = writer
        .issue_card(&record((2026, 12, 31)), &key(), &mut no_progress())
        .expect_err("chip failed");
    match error {
        CardWriterError::WriteFailed {
            disposition: CardDisposition::Captured,
            cause,
        } => assert!(matches!(*cause, CardWriterError::Chip(_)), "{cause:?}"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(sim.bin_cards().len(), 1);
    assert!(sim.pending_faults().is_empty());
    issue_and_take(&sim, &mut writer);
}

fn write_fails_midway(model: CardWriterModel) {
    let sim = sim(model, 8);
    let mut writer = open(&sim);
    // Sector 1 (3 blocks) and one block of sector 2 get written, then writing fails.
    sim.inject(CardWriterFault::WriteFailsAfter(4));
    let error = writer
        .issue_card(&record((2026, 12, 31)), &key(), &mut no_progress())
        .expect_err("write failed");
    match &error {
        CardWriterError::WriteFailed { disposition, cause } => {
            assert_eq!(*disposition, CardDisposition::Captured);
            assert!(matches!(**cause, CardWriterError::Chip(_)), "{cause:?}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(error.to_string().contains("captured"));
    // The half-written card is in the bin, never at the gate or in a citizen's hand.
    let bin = sim.bin_cards();
    assert_eq!(bin.len(), 1);
    let area = bin[0].record_area(&CardLayout::default());
    let full = record((2026, 12, 31)).encode(&key()).expect("encode");
    assert_eq!(&area[..48], &full[..48], "first sector written");
    assert_ne!(&area[..full.len()], &full[..], "but not all of it");
    assert!(stored_record(&bin[0]).is_err());
    assert!(sim.taken_cards().is_empty());
    assert_eq!(sim.card_position(), CardPosition::None);
}

fn rewrite_updates_the_citizens_card(model: CardWriterModel) {
    let sim = sim(model, 8);
    let mut writer = open(&sim);
    let card = issue_and_take(&sim, &mut writer);
    sim.insert_card(card.clone());
    let mut steps = Vec::new();
    let outcome = writer
        .rewrite_card(
            Duration::from_secs(5),
            &key(),
            &mut |content| {
                let old = content.record.as_ref().ok()?;
                Some(CardRecord {
                    valid_until: RecordDate::new(2027, 12, 31)?,
                    ..old.clone()
                })
            },
            &mut |step| steps.push(step),
        )
        .expect("rewritten");
    assert_eq!(
        steps,
        vec![
            CardStep::WaitingForCard,
            CardStep::Reading,
            CardStep::Writing,
            CardStep::Verifying,
            CardStep::Presenting
        ]
    );
    match outcome {
        RewriteOutcome::Rewritten {
            before,
            record: new,
        } => {
            assert_eq!(before.uid, card.uid_hex());
            assert_eq!(before.record, Ok(record((2026, 12, 31))));
            assert_eq!(new, record((2027, 12, 31)));
        }
        other => panic!("unexpected {other:?}"),
    }
    let back = sim.take_card().expect("card returned at the gate");
    assert_eq!(back.uid(), card.uid());
    assert_eq!(stored_record(&back), Ok(record((2027, 12, 31))));
    assert_eq!(sim.stack_count(), 7, "no blank used");
}

fn rewrite_without_card_and_declined(model: CardWriterModel) {
    let sim = sim(model, 8);
    let mut writer = open(&sim);
    let outcome = writer
        .rewrite_card(
            Duration::from_millis(400),
            &key(),
            &mut |_| panic!("nothing to update"),
            &mut no_progress(),
        )
        .expect("no card");
    assert_eq!(outcome, RewriteOutcome::NoCardInserted);
    // A card MAC'd with another key: reported, the caller declines, it comes back unchanged.
    let other_key = RecordKey::from_bytes(&[0x11; 32]).expect("key");
    let bytes = record((2026, 12, 31)).encode(&other_key).expect("encode");
    let foreign =
        SimCard::blank([0x12, 0x34, 0x56, 0x78]).with_record_area(&CardLayout::default(), &bytes);
    sim.insert_card(foreign.clone());
    let outcome = writer
        .rewrite_card(
            Duration::from_secs(5),
            &key(),
            &mut |content| {
                assert_eq!(content.record, Err(RecordError::BadMac));
                None
            },
            &mut no_progress(),
        )
        .expect("declined");
    assert!(matches!(outcome, RewriteOutcome::Declined { .. }));
    let back = sim.take_card().expect("returned");
    assert_eq!(back, foreign, "unchanged");
}

fn rewrite_failure_holds_the_card(model: CardWriterModel) {
    let sim = sim(model, 8);
    let mut writer = open(&sim);
    let card = issue_and_take(&sim, &mut writer);
    sim.insert_card(card);
    sim.inject(CardWriterFault::WriteFailsAfter(2));
    let error = writer
        .rewrite_card(
            Duration::from_secs(5),
            &key(),
            &mut |content| {
                content.record.clone().ok().map(|r| CardRecord {
                    valid_until: RecordDate::new(2028, 1, 1).expect("date"),
                    ..r
                })
            },
            &mut no_progress(),
        )
        .expect_err("write failed");
    assert!(
        matches!(
            error,
            CardWriterError::WriteFailed {
                disposition: CardDisposition::HeldInside,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        writer.card_position().expect("position"),
        CardPosition::Inside
    );
    assert!(sim.card_at_gate().is_none());
    // The flow decides: here it captures.
    writer.capture_card().expect("captured");
    assert_eq!(sim.bin_cards().len(), 1);
}

fn jam(model: CardWriterModel) {
    let sim = sim(model, 8);
    let mut writer = open(&sim);
    sim.inject(CardWriterFault::Jam);
    let error = writer
        .issue_card(&record((2026, 12, 31)), &key(), &mut no_progress())
        .expect_err("jammed");
    assert_eq!(error, CardWriterError::Jam);
    assert!(sim.is_jammed());
    let report = writer.report().expect("report");
    assert!(report.jammed);
    let status = writer.status();
    assert_eq!(status.state, DeviceState::UserError);
    assert!(matches!(
        status.detail,
        StatusDetail::CardWriter {
            media: MediaState::Jammed,
            ..
        }
    ));
    assert_eq!(
        writer.initialise(),
        Err(CardWriterError::Jam),
        "still jammed"
    );
    sim.clear_jam();
    writer.initialise().expect("initialised");
    assert!(!writer.report().expect("report").jammed);
    issue_and_take(&sim, &mut writer);
}

fn garbled_reply_then_next_command_works(model: CardWriterModel) {
    let sim = sim(model, 8);
    let mut writer = open(&sim);
    sim.inject(CardWriterFault::GarbledReply);
    let error = writer.report().expect_err("garbled");
    assert!(
        matches!(error, CardWriterError::BadReply { .. }),
        "{error:?}"
    );
    assert_eq!(writer.status().state, DeviceState::Online);
    assert_eq!(writer.report().expect("report").card, CardPosition::None);
}

fn nak_and_silence(model: CardWriterModel) {
    let sim = sim(model, 8);
    let mut writer = open(&sim);
    let before = sim.commands_received().len();
    sim.inject(CardWriterFault::Nak(1));
    writer.report().expect("resent after one NAK");
    assert_eq!(sim.commands_received().len(), before + 1, "executed once");
    sim.inject(CardWriterFault::Nak(5));
    let error = writer.report().expect_err("NAK every time");
    assert!(
        matches!(error, CardWriterError::Nak { attempts: 3, .. }),
        "{error:?}"
    );
    // Two NAKs left over from the five: the next command is sent three times and gets through.
    writer.report().expect("third send accepted");
    sim.inject(CardWriterFault::Silence);
    let error = writer.report().expect_err("no reply");
    assert!(
        matches!(error, CardWriterError::Timeout { .. }),
        "{error:?}"
    );
    writer.report().expect("answers again");
}

fn bin_full(model: CardWriterModel) {
    let sim = sim(model, 8);
    let mut writer = open(&sim);
    sim.set_bin_capacity(0);
    assert_eq!(writer.report().expect("report").bin, BinLevel::Full);
    assert_eq!(writer.status().state, DeviceState::UserError);
    sim.set_bin_capacity(5);
    writer.dispense_blank().expect("dispensed");
    sim.set_bin_capacity(0);
    assert_eq!(writer.capture_card(), Err(CardWriterError::BinFull));
    assert_eq!(sim.card_position(), CardPosition::Inside);
}

fn chip_apdu_pass_through(model: CardWriterModel) {
    let sim = sim(model, 8);
    let mut writer = open(&sim);
    writer.dispense_blank().expect("dispensed");
    assert_eq!(
        writer.dispense_blank(),
        Err(CardWriterError::ChannelOccupied("before dispensing"))
    );
    let atr = writer.chip_power_on().expect("ATR");
    assert_eq!(atr, kiosk_drivers::cardwriter::sim::SIM_ATR.to_vec());
    let mut select = vec![0x00, 0xA4, 0x04, 0x00, SIM_AID.len() as u8];
    select.extend_from_slice(&SIM_AID);
    assert_eq!(writer.chip_apdu(&select).expect("select"), vec![0x90, 0x00]);
    assert_eq!(
        writer
            .chip_apdu(&[0x00, 0xD6, 0x00, 0x10, 3, 1, 2, 3])
            .expect("update"),
        vec![0x90, 0x00]
    );
    assert_eq!(
        writer
            .chip_apdu(&[0x00, 0xB0, 0x00, 0x10, 3])
            .expect("read"),
        vec![1, 2, 3, 0x90, 0x00]
    );
    assert_eq!(
        writer
            .chip_apdu(&[0x00, 0x84, 0x00, 0x00, 8])
            .expect("other"),
        vec![0x6D, 0x00]
    );
    sim.inject(CardWriterFault::ChipError);
    assert!(matches!(
        writer.chip_apdu(&select),
        Err(CardWriterError::Chip(_))
    ));
    writer.chip_power_off().expect("off");
    writer.capture_card().expect("captured");
}

fn unplug(model: CardWriterModel) {
    let mut sim = sim(model, 8);
    let mut writer = open(&sim);
    sim.unplug();
    let status = writer.status();
    assert!(
        matches!(status.state, DeviceState::NoDevice | DeviceState::Offline),
        "{status:?}"
    );
    let error = writer.report().expect_err("gone");
    assert!(error.is_link_error(), "{error:?}");
    sim.replug().expect("replug");
    let mut writer = open(&sim);
    assert_eq!(writer.report().expect("back").card, CardPosition::None);
}

macro_rules! both_models {
    ($($name:ident),* $(,)?) => {
        mod crt591 {
            $( #[test] fn $name() { super::$name(super::CardWriterModel::Crt591); } )*
        }
        mod k720 {
            $( #[test] fn $name() { super::$name(super::CardWriterModel::K720); } )*
        }
    };
}

both_models!(
    initialise_and_status,
    issue_verifies_and_presents,
    card_not_taken_is_captured,
    stack_empty,
    wrong_key,
    chip_error,
    write_fails_midway,
    rewrite_updates_the_citizens_card,
    rewrite_without_card_and_declined,
    rewrite_failure_holds_the_card,
    jam,
    garbled_reply_then_next_command_works,
    nak_and_silence,
    bin_full,
    chip_apdu_pass_through,
    unplug,
);

// ---------------------------------------------------------------------------------------
// Model-specific commands.
// ---------------------------------------------------------------------------------------

fn crt591_timeouts() -> Crt591Timeouts {
    settings().crt591
}

#[test]
fn crt591_every_command() {
    let sim = sim(CardWriterModel::Crt591, 8);
    let mut unit = Crt591::open(sim.path(), 9600, crt591_timeouts()).expect("open");
    // Not reset yet: movements are refused with B0.
    let error = unit.move_to(Crt591Position::Rf).expect_err("not reset");
    assert!(
        matches!(
            error,
            CardWriterError::Crt591 {
                code: kiosk_drivers::cardwriter::crt591::Crt591ErrorCode::NotReset,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        unit.initialise_with(InitMode::KeepCard).expect("init"),
        "CRT-591-M001"
    );
    assert_eq!(unit.firmware_version().expect("fw"), "CRT-591-M001");
    assert_eq!(unit.serial_number().expect("serial"), "SIM591000001");
    assert_eq!(unit.sensors().expect("sensors"), [false; 8]);
    let status = unit.move_to(Crt591Position::Holding).expect("holding");
    assert_eq!(status.card, CardPosition::Inside);
    unit.move_to(Crt591Position::Ic).expect("IC");
    let (kind, atr) = unit.cpu_cold_reset(ChipVoltage::Iso5V).expect("cold reset");
    assert_eq!(kind, b'0');
    assert_eq!(atr, kiosk_drivers::cardwriter::sim::SIM_ATR.to_vec());
    let mut select = vec![0x00, 0xA4, 0x04, 0x00, 6];
    select.extend_from_slice(&SIM_AID);
    assert_eq!(unit.cpu_apdu(&select).expect("apdu"), vec![0x90, 0x00]);
    unit.cpu_power_off().expect("power off");
    unit.move_to(Crt591Position::Rf).expect("RF");
    assert_eq!(unit.detect_card_type(true).expect("detect"), b"M".to_vec());
    let card = unit.rf_activate().expect("activate");
    assert_eq!(card.kind, b'M');
    assert_eq!(card.uid.len(), 4);
    assert!(unit.sensors().expect("sensors").iter().any(|&s| s));
    unit.mifare(&MifareOp::VerifyKey {
        sector: 5,
        key: MifareKey::TRANSPORT,
    })
    .expect("key");
    unit.mifare(&MifareOp::Write {
        sector: 5,
        block: 1,
        data: vec![0x03; 32],
    })
    .expect("write");
    assert_eq!(
        unit.mifare(&MifareOp::Read {
            sector: 5,
            block: 0,
            len: 48
        })
        .expect("read"),
        [vec![0; 16], vec![0x03; 32]].concat()
    );
    // Another sector without its key: SW 6F 00 → chip error on read.
    assert!(matches!(
        unit.mifare(&MifareOp::Read {
            sector: 6,
            block: 0,
            len: 16
        }),
        Err(CardWriterError::Chip(_))
    ));
    unit.rf_deactivate().expect("deactivate");
    let status = unit.eject().expect("eject");
    assert_eq!(status.card, CardPosition::AtGate);
    unit.capture().expect("capture from the gate");
    assert_eq!(unit.bin_counter().expect("counter"), 1);
    // Entry: a card offered while entry is closed stays outside.
    sim.insert_card(SimCard::blank([1, 2, 3, 4]));
    assert_eq!(unit.status().expect("status").card, CardPosition::None);
    unit.set_entry(true).expect("entry on");
    assert_eq!(unit.status().expect("status").card, CardPosition::AtGate);
    unit.set_entry(false).expect("entry off");
    // Initialise variants: card to the gate, card captured.
    unit.move_to(Crt591Position::Rf).expect("RF");
    unit.initialise_with(InitMode::CardToGate)
        .expect("init to gate");
    assert_eq!(sim.card_position(), CardPosition::AtGate);
    unit.initialise_with(InitMode::CaptureCard)
        .expect("init capture");
    assert_eq!(sim.card_position(), CardPosition::None);
    assert_eq!(sim.bin_cards().len(), 2);
    assert_eq!(unit.bin_counter().expect("counter"), 2);
    // Every command reached the device as CM PM.
    let seen = sim.commands_received();
    for expected in [
        "31 31", "32 30", "32 31", "51 30", "51 39", "51 31", "32 32", "50 31", "60 30", "60 33",
        "60 31", "32 39", "32 33", "A5 30", "33 30", "33 31", "30 30", "30 31", "A4 30", "A2 30",
    ] {
        assert!(seen.iter().any(|c| c == expected), "{expected} never sent");
    }
    assert_eq!(unit.model(), CardWriterModel::Crt591);
}

#[test]
fn crt591_front_entry_times_out_and_closes() {
    let sim = sim(CardWriterModel::Crt591, 8);
    let mut unit = Crt591::open(sim.path(), 9600, crt591_timeouts()).expect("open");
    unit.initialise_with(InitMode::KeepCard).expect("init");
    assert!(
        !unit
            .accept_from_front(Duration::from_millis(300))
            .expect("no card")
    );
    // Entry is closed again: a card offered now stays outside.
    sim.insert_card(SimCard::blank([9, 9, 9, 9]));
    assert!(sim.card_waiting_at_front());
    assert_eq!(unit.status().expect("status").card, CardPosition::None);
}

#[test]
fn k720_every_command() {
    let sim = sim(CardWriterModel::K720, 8);
    let mut unit = K720::open(sim.path(), 9600, settings().k720).expect("open");
    assert_eq!(unit.firmware_version().expect("GV"), "TTCE_K720_V2.00");
    assert_eq!(
        unit.advanced_status().expect("AP").text(),
        b"SF0000".to_vec()
    );
    assert_eq!(unit.basic_status().expect("RF").len(), 3);
    unit.set_buzzer(true).expect("BE");
    unit.set_buzzer(false).expect("BD");
    unit.reset_unit().expect("RS");
    let status = unit.run_move(K720Move::ToReadPosition).expect("FC7");
    assert_eq!(status.text(), b"SF0003".to_vec());
    assert!(matches!(
        unit.encoder(),
        Err(CardWriterError::NoEncoder("K720"))
    ));
    unit.run_move(K720Move::BackToBox).expect("DB");
    assert_eq!(sim.stack_count(), 8);
    let status = unit.run_move(K720Move::Dispense).expect("DC");
    assert_eq!(status.card(), CardPosition::AtGate);
    unit.run_move(K720Move::ToSensor2).expect("FC6");
    unit.run_move(K720Move::ToGateHeld).expect("FC4");
    unit.run_move(K720Move::ToTakePosition)
        .expect("FC0 drops the card");
    assert_eq!(sim.taken_cards().len(), 1);
    unit.run_move(K720Move::ToTakePosition)
        .expect("FC0 from the stack");
    unit.run_move(K720Move::Capture).expect("CP");
    assert_eq!(sim.bin_cards().len(), 1);
    sim.insert_card(SimCard::blank([1, 2, 3, 4]));
    unit.run_move(K720Move::FromFront).expect("FC8");
    assert_eq!(
        unit.advanced_status().expect("AP").card(),
        CardPosition::Inside
    );
    unit.run_move(K720Move::Capture).expect("CP");
    // Refusals become typed errors from the status bits.
    sim.set_stack(0);
    assert_eq!(
        unit.run_move(K720Move::ToReadPosition).map(drop),
        Err(CardWriterError::StackEmpty)
    );
    let error = unit
        .run_move(K720Move::Capture)
        .expect_err("nothing to capture");
    assert!(matches!(error, CardWriterError::K720 { .. }), "{error:?}");
    let seen = sim.commands_received();
    for expected in [
        "GV", "AP", "RF", "BE", "BD", "RS", "FC7", "DB", "DC", "FC6", "FC4", "FC0", "CP", "FC8",
    ] {
        assert!(seen.iter().any(|c| c == expected), "{expected} never sent");
    }
}

#[test]
fn k720_without_encoder_refuses_card_io() {
    let sim = sim(CardWriterModel::K720, 8);
    let mut writer =
        CardWriter::open(CardWriterModel::K720, sim.path(), &settings()).expect("open");
    let error = writer
        .issue_card(&record((2026, 12, 31)), &key(), &mut no_progress())
        .expect_err("no encoder");
    assert_eq!(
        error,
        CardWriterError::WriteFailed {
            disposition: CardDisposition::Captured,
            cause: Box::new(CardWriterError::NoEncoder("K720")),
        }
    );
    assert_eq!(sim.bin_cards().len(), 1);
}

#[test]
fn model_is_chosen_by_value() {
    for model in CardWriterModel::ALL {
        let sim = sim(model, 2);
        let writer = open(&sim);
        assert_eq!(writer.model(), model);
        assert_eq!(writer.class(), kiosk_drivers::DeviceClass::CardWriter);
        assert_eq!(writer.path(), sim.path());
        // The wrong model on the port does not pass for a card writer.
        let other = if model == CardWriterModel::Crt591 {
            CardWriterModel::K720
        } else {
            CardWriterModel::Crt591
        };
        let mut quick = settings();
        quick.crt591.ack = Duration::from_millis(300);
        quick.k720.ack = Duration::from_millis(300);
        drop(writer);
        assert!(CardWriter::open(other, sim.path(), &quick).is_err());
    }
}

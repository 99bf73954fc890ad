//! The ID card reader driver against the SAM simulator over a real pseudo-terminal.

use std::io::{Read, Write};
use std::time::Duration;

use kiosk_drivers::idcard::frame::{encode_frame, parse_hex};
use kiosk_drivers::idcard::test_card::WLT_PREFIX;
use kiosk_drivers::idcard::{
    CardType, Command, Gender, IdCardError, IdCardReader, IdCardSimulator, InjectedFault,
    ReaderTimeouts, SamStatus, TestCard, ValidUntil,
};
use kiosk_drivers::{Device, DeviceState};

fn demo_card() -> TestCard {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../kiosk-config/cards/demo-resident.toml"
    );
    TestCard::load(path).expect("demo card loads")
}

fn fixture_card(name: &str) -> TestCard {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    TestCard::load(path).expect("fixture card loads")
}

/// Short timeouts so fault tests run quickly; still far above pty latency.
fn timeouts() -> ReaderTimeouts {
    ReaderTimeouts {
        control: Duration::from_millis(300),
        find_select: Duration::from_millis(300),
        read: Duration::from_millis(800),
    }
}

fn open(sim: &IdCardSimulator) -> IdCardReader {
    IdCardReader::open(sim.path(), IdCardReader::DEFAULT_BAUD, timeouts()).expect("open reader")
}

fn assert_demo_identity(reader: &mut IdCardReader) {
    let identity = reader.read_card().expect("card reads");
    assert_eq!(identity.card_type(), CardType::Resident);
    assert_eq!(identity.name(), "测试居民");
    assert_eq!(identity.gender(), Gender::Male);
    assert_eq!(identity.nation().display_name(), "汉族");
    assert_eq!(identity.birth().to_string(), "1990-03-07");
    assert_eq!(identity.address(), "北京市东城区测试街道示例胡同1号");
    assert_eq!(identity.id_number(), "110101199003070011");
    assert_eq!(identity.issuing_authority(), "北京市公安局东城分局");
    assert_eq!(identity.valid_from().to_string(), "2020-01-01");
    assert_eq!(identity.valid_until().to_string(), "2040-01-01");
    assert_eq!(identity.photo_wlt().len(), 1024);
    assert!(identity.photo_wlt().starts_with(&WLT_PREFIX));
}

#[test]
fn clean_read_uses_find_select_read() {
    let sim = IdCardSimulator::spawn_with_card(&demo_card()).expect("simulator");
    let mut reader = open(&sim);
    assert_demo_identity(&mut reader);
    assert_eq!(
        sim.commands_received(),
        vec![(0x20, 0x01), (0x20, 0x02), (0x30, 0x01)]
    );
    // The same card still on the reader: find says 0x80 (read-once), select + read succeed.
    assert_demo_identity(&mut reader);
}

#[test]
fn long_term_card_and_nation_98() {
    let sim = IdCardSimulator::spawn_with_card(&fixture_card("long-term-card.toml")).expect("sim");
    let mut reader = open(&sim);
    let identity = reader.read_card().expect("card reads");
    assert_eq!(identity.valid_until(), ValidUntil::LongTerm);
    assert_eq!(identity.gender(), Gender::Female);
    assert_eq!(identity.nation().name(), "外国血统中国籍人士");
    assert_eq!(identity.id_number(), "11010219880229008X");
}

#[test]
fn no_card_then_card_placed() {
    let sim = IdCardSimulator::spawn().expect("simulator");
    let mut reader = open(&sim);
    assert_eq!(reader.read_card().map(|_| ()), Err(IdCardError::NoCard));
    sim.place_card(&demo_card()).expect("place");
    assert_demo_identity(&mut reader);
    sim.remove_card();
    assert_eq!(reader.read_card().map(|_| ()), Err(IdCardError::NoCard));
}

#[test]
fn bad_checksum_then_recovers() {
    let sim = IdCardSimulator::spawn_with_card(&demo_card()).expect("simulator");
    let mut reader = open(&sim);
    sim.inject_for(Command::READ_BASE_INFO, InjectedFault::BadChecksum);
    let error = reader.read_card().expect_err("bad checksum detected");
    assert!(
        matches!(error, IdCardError::BadChecksum { .. }),
        "{error:?}"
    );
    assert_demo_identity(&mut reader);
}

#[test]
fn truncated_reply_then_recovers() {
    let sim = IdCardSimulator::spawn_with_card(&demo_card()).expect("simulator");
    let mut reader = open(&sim);
    sim.inject_for(Command::READ_BASE_INFO, InjectedFault::Truncated);
    let error = reader.read_card().expect_err("truncation detected");
    assert!(
        matches!(error, IdCardError::Truncated { command: "30 01 read base info", received } if received > 7 && received < 1295),
        "{error:?}"
    );
    assert_demo_identity(&mut reader);
}

#[test]
fn silence_times_out_then_recovers() {
    let sim = IdCardSimulator::spawn_with_card(&demo_card()).expect("simulator");
    let mut reader = open(&sim);
    sim.inject(InjectedFault::Silence);
    let started = std::time::Instant::now();
    let error = reader.read_card().expect_err("timeout");
    assert!(
        matches!(
            error,
            IdCardError::Timeout {
                command: "20 01 find card",
                waited_ms: 300
            }
        ),
        "{error:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(290));
    assert_demo_identity(&mut reader);
}

#[test]
fn garbage_before_the_reply_is_skipped() {
    let sim = IdCardSimulator::spawn_with_card(&demo_card()).expect("simulator");
    let mut reader = open(&sim);
    sim.inject_for(
        Command::READ_BASE_INFO,
        InjectedFault::LeadingGarbage(vec![0x00, 0xAA, 0xAA, 0x13, 0x96, 0x69, 0xFF]),
    );
    assert_demo_identity(&mut reader);
}

#[test]
fn injected_status_becomes_typed_error_then_recovers() {
    let sim = IdCardSimulator::spawn_with_card(&demo_card()).expect("simulator");
    let mut reader = open(&sim);
    sim.inject_for(
        Command::READ_BASE_INFO,
        InjectedFault::Status(SamStatus::ReadFailed),
    );
    let error = reader.read_card().expect_err("read failed");
    assert_eq!(error, IdCardError::Status(SamStatus::ReadFailed));
    assert_eq!(error.to_string(), "SAM status 0x41: read failed");
    sim.inject_for(
        Command::FIND_CARD,
        InjectedFault::Status(SamStatus::SamAuthenticateCardFailed),
    );
    assert_eq!(
        reader.read_card().map(|_| ()),
        Err(IdCardError::Status(SamStatus::SamAuthenticateCardFailed))
    );
    assert_demo_identity(&mut reader);
}

#[test]
fn unplugged_device_is_disconnected_and_a_new_one_can_be_reconnected() {
    let mut sim = IdCardSimulator::spawn_with_card(&demo_card()).expect("simulator");
    let mut reader = open(&sim);
    assert_demo_identity(&mut reader);
    sim.unplug();
    assert!(!sim.is_plugged());
    let error = reader.read_card().expect_err("device gone");
    assert!(matches!(error, IdCardError::Disconnected(_)), "{error:?}");
    assert!(error.is_device_fault());
    assert_eq!(reader.status().state, DeviceState::NoDevice);

    let replacement = IdCardSimulator::spawn_with_card(&demo_card()).expect("new simulator");
    reader.reconnect_at(replacement.path()).expect("reconnect");
    assert_eq!(reader.path(), replacement.path());
    assert_demo_identity(&mut reader);
}

#[test]
fn reconnect_to_the_same_path_after_a_drop_of_the_port() {
    let sim = IdCardSimulator::spawn_with_card(&demo_card()).expect("simulator");
    let mut reader = open(&sim);
    reader.reconnect().expect("reopen same path");
    assert_demo_identity(&mut reader);
}

#[test]
fn status_self_test_and_reset() {
    let sim = IdCardSimulator::spawn().expect("simulator");
    let mut reader = open(&sim);
    let status = reader.status();
    assert_eq!(status.state, DeviceState::Online, "{status:?}");
    assert!(status.is_usable());
    sim.set_self_test_failed(true);
    let status = reader.self_test().expect("self test answers");
    assert_eq!(status.state, DeviceState::HardwareError);
    assert!(status.last_error.unwrap_or_default().contains("self-test"));
    sim.set_self_test_failed(false);
    reader.reset().expect("reset");
    assert_eq!(reader.read_sam_id().expect("sam id").len(), 16);
    sim.inject(InjectedFault::Silence);
    assert_eq!(reader.status().state, DeviceState::Offline);
    assert_eq!(reader.status().state, DeviceState::Online);
}

#[test]
fn other_card_types_are_typed_errors() {
    let sim =
        IdCardSimulator::spawn_with_card(&fixture_card("foreigner-2023-card.toml")).expect("sim");
    let mut reader = open(&sim);
    // `read_card` stays resident-only; `read_identity` reads every type.
    assert_eq!(
        reader.read_card().map(|_| ()),
        Err(IdCardError::UnsupportedCardType(
            CardType::ForeignerPermanentResidence2023
        ))
    );
    sim.remove_card();
    sim.place_card(&fixture_card("foreigner-2023-card.toml"))
        .expect("card");
    let identity = reader.read_identity().expect("reads");
    assert_eq!(
        identity.card_type(),
        CardType::ForeignerPermanentResidence2023
    );
}

#[test]
fn wrong_check_digit_is_a_read_error() {
    let sim =
        IdCardSimulator::spawn_with_card(&fixture_card("bad-check-digit-card.toml")).expect("sim");
    let mut reader = open(&sim);
    let error = reader.read_card().expect_err("bad check digit");
    assert_eq!(error, IdCardError::BadCheckDigit);
    assert!(!error.to_string().contains("110101199003070012"));
}

/// Talk to the simulator with raw frames, as a host with a buggy encoder would.
#[test]
fn simulator_answers_bad_host_checksum_and_unknown_commands() {
    let sim = IdCardSimulator::spawn().expect("simulator");
    let mut port = serialport::new(sim.path(), 115_200)
        .timeout(Duration::from_millis(500))
        .open_native()
        .expect("open pty");
    let read_reply = |port: &mut serialport::TTYPort| {
        let mut reply = [0u8; 11];
        port.read_exact(&mut reply).expect("reply");
        reply.to_vec()
    };
    // The known-wrong published constant `…20 01 21` (should be 22).
    port.write_all(&parse_hex("AA AA AA 96 69 00 03 20 01 21").expect("hex"))
        .expect("write");
    assert_eq!(
        read_reply(&mut port),
        parse_hex("AAAAAA9669000400001014").expect("hex")
    );
    port.write_all(&encode_frame(&[0x7E, 0x01])).expect("write");
    assert_eq!(
        read_reply(&mut port),
        parse_hex("AAAAAA9669000400002125").expect("hex")
    );
    port.write_all(&Command::SAM_STATUS.encode())
        .expect("write");
    assert_eq!(
        read_reply(&mut port),
        parse_hex("aaaaaa9669000400009094").expect("hex")
    );
}

//! Every card type, every command and the poller, driver ↔ simulator over real pseudo-terminals.

use std::time::{Duration, Instant};

use kiosk_drivers::idcard::base_info::{DecodedReply, decode_any_reply_hex};
use kiosk_drivers::idcard::frame::Reply;
use kiosk_drivers::idcard::{
    CardDate, CardEvent, CardIdentity, CardPoller, CardType, Command, Gender, IdCardError,
    IdCardReader, IdCardSimulator, InjectedFault, PhotoDecoder, PollerSettings, ReaderTimeouts,
    SamStatus, SimulatedPhotoDecoder, SimulatorScript, TestCard, ValidUntil,
};
use kiosk_drivers::{Device, DeviceState};

fn card(name: &str) -> TestCard {
    let path = format!(
        "{}/../kiosk-config/cards/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    TestCard::load(path).expect("card loads")
}

fn fixture(name: &str) -> TestCard {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    TestCard::load(path).expect("fixture loads")
}

fn timeouts() -> ReaderTimeouts {
    ReaderTimeouts {
        control: Duration::from_millis(300),
        find_select: Duration::from_millis(300),
        read: Duration::from_millis(800),
    }
}

fn open(path: &str) -> IdCardReader {
    IdCardReader::open(path, IdCardReader::DEFAULT_BAUD, timeouts()).expect("open reader")
}

fn date(text: &str) -> CardDate {
    CardDate::from_card_text(text).expect("date")
}

#[test]
fn residence_permit_round_trip() {
    let sim = IdCardSimulator::spawn_with_card(&card("demo-hk-permit.toml")).expect("sim");
    let mut reader = open(sim.path());
    let CardIdentity::ResidencePermit(permit) = reader.read_identity().expect("reads") else {
        panic!("not a residence permit");
    };
    assert_eq!(permit.name(), "测试港澳");
    assert_eq!(permit.gender(), Gender::Female);
    assert_eq!(permit.birth().to_string(), "1995-05-05");
    assert_eq!(permit.address(), "广东省深圳市福田区测试路8号");
    assert_eq!(permit.id_number(), "810000199505050014");
    assert_eq!(permit.region(), Some("HK"));
    assert_eq!(permit.issuing_authority(), "深圳市公安局福田分局");
    assert_eq!(permit.pass_number(), "H12345678");
    assert_eq!(permit.issue_count(), 1);
    assert_eq!(permit.valid_until().to_string(), "2027-01-01");
}

#[test]
fn foreigner_2017_round_trip() {
    let sim = IdCardSimulator::spawn_with_card(&card("demo-foreigner-2017.toml")).expect("sim");
    let mut reader = open(sim.path());
    let identity = reader.read_identity().expect("reads");
    assert_eq!(
        identity.card_type(),
        CardType::ForeignerPermanentResidence2017
    );
    assert_eq!(identity.name(), "测试样本");
    assert_eq!(identity.english_name(), Some("TEST, SAMPLE PERSON"));
    assert_eq!(identity.document_number(), "USA110070101001");
    assert_eq!(identity.address(), None);
    let CardIdentity::Foreigner2017(card) = identity else {
        panic!("not a 2017 card");
    };
    assert_eq!(card.nationality(), "USA");
    assert_eq!(card.birth().to_string(), "1970-01-01");
    assert_eq!(card.card_version(), "01");
    assert_eq!(card.issuing_authority_code(), "1100");
    assert_eq!(card.valid_from().to_string(), "2018-06-01");
}

#[test]
fn foreigner_2023_round_trip_with_long_english_name() {
    let sim = IdCardSimulator::spawn_with_card(&card("demo-foreigner-2023.toml")).expect("sim");
    let mut reader = open(sim.path());
    let CardIdentity::Foreigner2023(card) = reader.read_identity().expect("reads") else {
        panic!("not a 2023 card");
    };
    assert_eq!(card.chinese_name(), Some("测试外籍"));
    assert_eq!(
        card.english_name(),
        "TESTPERSON, ALEXANDRA MAXIMILIANA SAMPLE"
    );
    assert_eq!(card.id_number(), "911840198001010013");
    assert_eq!(card.nationality(), "USA");
    assert_eq!(card.renewal_count(), 0);
    assert_eq!(card.gender(), Gender::Female);
    assert_eq!(card.previous_card_link(), None);
}

#[test]
fn expired_card_is_detected_and_long_term_never_expires() {
    let sim = IdCardSimulator::spawn_with_card(&fixture("foreigner-2023-card.toml")).expect("sim");
    let mut reader = open(sim.path());
    let identity = reader.read_identity().expect("reads");
    assert_eq!(identity.name(), "SAMPLE, TEST");
    assert!(identity.is_expired(date("20230102")));
    assert!(!identity.is_expired(date("20230101")));
    let CardIdentity::Foreigner2023(card) = &identity else {
        panic!("2023 card");
    };
    assert_eq!(card.previous_card_link(), Some("A01"));
    assert_eq!(card.renewal_count(), 2);

    sim.remove_card();
    sim.place_card(&fixture("long-term-card.toml"))
        .expect("card");
    let identity = reader.read_identity().expect("reads");
    assert_eq!(identity.valid_until(), ValidUntil::LongTerm);
    assert!(!identity.is_expired(date("29991231")));
}

#[test]
fn fingerprint_reads_with_all_three_lengths() {
    for (templates, frame_len) in [(0u8, 1297usize), (1, 1809), (2, 2321)] {
        let mut test_card = card("demo-resident.toml");
        test_card.fingerprints = templates;
        let sim = IdCardSimulator::spawn_with_card(&test_card).expect("sim");
        let mut reader = open(sim.path());
        let read = reader.read_identity_with_fingerprint().expect("reads");
        assert_eq!(read.identity.name(), "测试居民");
        assert_eq!(read.fingerprint.template_count(), usize::from(templates));
        assert_eq!(
            read.fingerprint.bytes(),
            test_card.fingerprint_data().expect("fp")
        );
        assert_eq!(
            format!("{:?}", read.fingerprint),
            format!("FingerprintData({templates} templates)")
        );
        // The reply frame has the published total length.
        let data = kiosk_drivers::idcard::base_info::join_base_info_fingerprint(
            &test_card.text_block().expect("block"),
            &test_card.photo_wlt(),
            &test_card.fingerprint_data().expect("fp"),
        );
        assert_eq!(
            Reply::new(SamStatus::Success, data).encode().len(),
            frame_len
        );
        assert!(sim.commands_received().contains(&(0x30, 0x10)));
    }
}

#[test]
fn additional_address_and_none() {
    let sim = IdCardSimulator::spawn_with_card(&card("demo-foreigner-2023.toml")).expect("sim");
    let mut reader = open(sim.path());
    reader.read_identity().expect("reads");
    assert_eq!(
        reader.read_additional_address().expect("30 03").as_deref(),
        Some("北京市朝阳区测试大街3号院")
    );
    sim.place_card(&card("demo-resident.toml")).expect("card");
    reader.read_identity().expect("reads");
    assert_eq!(reader.read_additional_address().expect("30 03"), None);
}

#[test]
fn sam_id_max_rf_bytes_and_baud() {
    let sim = IdCardSimulator::spawn().expect("sim");
    let mut reader = open(sim.path());
    assert_eq!(
        reader.sam_id().expect("sam id").to_string(),
        "05.01-20130588-0012345678-1234567890"
    );
    reader.set_max_rf_bytes(0x50).expect("61 FF");
    assert_eq!(sim.max_rf_bytes(), Some(0x50));
    reader.change_baud(57_600).expect("60 01");
    assert_eq!(sim.baud_code(), Some(1));
    assert_eq!(reader.baud(), 57_600);
    assert!(matches!(
        reader.change_baud(1234),
        Err(IdCardError::Framing(_))
    ));
    // The pty ignores the rate: the link still works.
    assert_eq!(reader.sam_status().expect("status"), SamStatus::Success);
}

#[test]
fn every_status_code_is_a_typed_error_with_messages() {
    let sim = IdCardSimulator::spawn_with_card(&card("demo-resident.toml")).expect("sim");
    let mut reader = open(sim.path());
    for status in SamStatus::ALL {
        if status.is_success() {
            continue;
        }
        sim.inject_for(Command::READ_BASE_INFO, InjectedFault::Status(status));
        sim.remove_card();
        sim.place_card(&card("demo-resident.toml")).expect("card");
        let error = reader.read_identity().expect_err("injected status");
        assert_eq!(error, IdCardError::Status(status), "{status:?}");
        assert!(!error.zh_message().is_empty() && !error.en_message().is_empty());
        assert!(error.to_string().contains(status.en_message()));
    }
    sim.inject_for(Command::READ_BASE_INFO, InjectedFault::RawStatus(0x55));
    assert_eq!(
        reader.read_identity().map(|_| ()),
        Err(IdCardError::UnrecognisedStatus(0x55))
    );
    assert!(reader.read_identity().is_ok());
}

#[test]
fn simulator_photo_decodes_to_a_synthetic_face() {
    let sim = IdCardSimulator::spawn_with_card(&card("demo-hk-permit.toml")).expect("sim");
    let mut reader = open(sim.path());
    let identity = reader.read_identity().expect("reads");
    let photo = SimulatedPhotoDecoder
        .decode(identity.photo_wlt())
        .expect("decodes");
    assert_eq!((photo.width(), photo.height()), (102, 126));
    let again = SimulatedPhotoDecoder
        .decode(&card("demo-hk-permit.toml").photo_wlt())
        .expect("decodes");
    assert_eq!(photo, again);
}

#[test]
fn captured_replies_of_every_kind_decode() {
    let hex = |bytes: &[u8]| {
        bytes
            .iter()
            .map(|b| format!("{b:02x} "))
            .collect::<String>()
    };
    assert_eq!(
        decode_any_reply_hex("aaaaaa9669000400006064").expect("status"),
        DecodedReply::Status(SamStatus::SamSelfTestFailed)
    );
    assert_eq!(
        decode_any_reply_hex("aaaaaa9669000800009f0000000097").expect("find"),
        DecodedReply::CardFound
    );
    assert_eq!(
        decode_any_reply_hex("aaaaaa9669000c00009000000000000000009c").expect("select"),
        DecodedReply::CardSelected([0; 8])
    );
    let sam = Reply::new(
        SamStatus::Success,
        kiosk_drivers::idcard::simulator::SIMULATED_SAM_ID.to_vec(),
    );
    let DecodedReply::SamId(id) = decode_any_reply_hex(&hex(&sam.encode())).expect("sam") else {
        panic!("sam id");
    };
    assert_eq!(id.to_string(), "05.01-20130588-0012345678-1234567890");
    let test_card = card("demo-foreigner-2023.toml");
    let address = test_card
        .additional_address_block()
        .expect("block")
        .expect("address");
    let decoded = decode_any_reply_hex(&hex(&Reply::new(SamStatus::Success, address).encode()))
        .expect("30 03");
    assert_eq!(
        decoded,
        DecodedReply::AdditionalAddress("北京市朝阳区测试大街3号院".into())
    );
    assert_eq!(
        decoded.masked_json()["additional_address"],
        "北京市朝阳区****"
    );
    let data = kiosk_drivers::idcard::base_info::join_base_info_fingerprint(
        &test_card.text_block().expect("block"),
        &test_card.photo_wlt(),
        &test_card.fingerprint_data().expect("fp"),
    );
    let decoded =
        decode_any_reply_hex(&hex(&Reply::new(SamStatus::Success, data).encode())).expect("30 10");
    let masked = decoded.masked_json().to_string();
    assert!(masked.contains("\"fingerprint_templates\":2"), "{masked}");
    assert!(!masked.contains("911840198001010013"), "{masked}");
    assert!(!masked.contains("ALEXANDRA"), "{masked}");
}

#[test]
fn masking_covers_every_card_type() {
    let cases = [
        (
            "demo-hk-permit.toml",
            ["测试港澳", "810000199505050014", "H12345678", "测试路8号"],
        ),
        (
            "demo-foreigner-2017.toml",
            ["SAMPLE PERSON", "USA110070101001", "测试样本", "19700101"],
        ),
        (
            "demo-foreigner-2023.toml",
            ["ALEXANDRA", "911840198001010013", "测试外籍", "19800101"],
        ),
    ];
    for (file, secrets) in cases {
        let sim = IdCardSimulator::spawn_with_card(&card(file)).expect("sim");
        let mut reader = open(sim.path());
        let identity = reader.read_identity().expect("reads");
        let shown = [
            format!("{identity:?}"),
            format!("{identity:#?}"),
            identity.masked_json().to_string(),
        ];
        for text in &shown {
            for secret in secrets {
                assert!(!text.contains(secret), "{file}: {secret} in {text}");
            }
        }
        let full = identity.full_json().to_string();
        assert!(full.contains(secrets[1]), "{full}");
    }
}

fn wait_for(poller: &mut CardPoller, within: Duration) -> Vec<CardEvent> {
    let deadline = Instant::now() + within;
    loop {
        let events = poller.next_events(deadline.saturating_duration_since(Instant::now()));
        if !events.is_empty() || Instant::now() >= deadline {
            return events;
        }
    }
}

#[test]
fn poller_notices_cards_placed_swapped_and_removed() {
    let sim = IdCardSimulator::spawn().expect("sim");
    let settings = PollerSettings {
        interval: Duration::from_millis(50),
        ..PollerSettings::default()
    };
    assert!(PollerSettings::default().interval <= Duration::from_millis(200));
    let mut poller = CardPoller::new(open(sim.path()), settings);
    assert!(poller.poll_once().is_empty());

    sim.place_card(&card("demo-resident.toml")).expect("card");
    match wait_for(&mut poller, Duration::from_secs(2)).as_slice() {
        [
            CardEvent::Placed {
                identity,
                fingerprint: None,
            },
        ] => {
            assert_eq!(identity.name(), "测试居民");
        }
        other => panic!("{other:?}"),
    }
    // Lying there: no new events.
    assert!(poller.next_events(Duration::from_millis(300)).is_empty());
    assert!(poller.card_present());

    // Swapped for another card between two looks.
    sim.place_card(&card("demo-foreigner-2017.toml"))
        .expect("card");
    match wait_for(&mut poller, Duration::from_secs(2)).as_slice() {
        [CardEvent::Removed, CardEvent::Placed { identity, .. }] => {
            assert_eq!(
                identity.card_type(),
                CardType::ForeignerPermanentResidence2017
            );
        }
        other => panic!("{other:?}"),
    }

    sim.remove_card();
    assert_eq!(
        wait_for(&mut poller, Duration::from_secs(2)),
        vec![CardEvent::Removed]
    );
    assert!(!poller.card_present());

    // A card that fails to read is reported once, then read when it works.
    sim.inject_for(
        Command::READ_BASE_INFO,
        InjectedFault::Status(SamStatus::ReadFailed),
    );
    sim.place_card(&card("demo-resident.toml")).expect("card");
    assert_eq!(
        wait_for(&mut poller, Duration::from_secs(2)),
        vec![CardEvent::ReadFailed(IdCardError::Status(
            SamStatus::ReadFailed
        ))]
    );
    assert!(matches!(
        wait_for(&mut poller, Duration::from_secs(2)).as_slice(),
        [CardEvent::Placed { .. }]
    ));
}

#[test]
fn poller_reads_fingerprints_when_asked() {
    let mut test_card = card("demo-hk-permit.toml");
    test_card.fingerprints = 2;
    let sim = IdCardSimulator::spawn_with_card(&test_card).expect("sim");
    let settings = PollerSettings {
        read_fingerprint: true,
        ..PollerSettings::default()
    };
    let mut poller = CardPoller::new(open(sim.path()), settings);
    match wait_for(&mut poller, Duration::from_secs(2)).as_slice() {
        [
            CardEvent::Placed {
                fingerprint: Some(fp),
                ..
            },
        ] => assert_eq!(fp.template_count(), 2),
        other => panic!("{other:?}"),
    }
}

fn temp_link(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("kiosk-drivers-{name}-{}", std::process::id()))
}

#[test]
fn unplug_and_replug_resumes_reading_by_itself_within_five_seconds() {
    let link = temp_link("replug");
    let mut sim = IdCardSimulator::spawn_with_card(&card("demo-resident.toml"))
        .expect("sim")
        .with_stable_link(&link)
        .expect("link");
    let link_path = link.to_str().expect("utf-8 path").to_owned();
    let settings = PollerSettings {
        interval: Duration::from_millis(50),
        reconnect_interval: Duration::from_millis(200),
        ..PollerSettings::default()
    };
    let mut poller = CardPoller::new(open(&link_path), settings);
    assert!(matches!(
        wait_for(&mut poller, Duration::from_secs(2)).as_slice(),
        [CardEvent::Placed { .. }]
    ));

    sim.unplug();
    match wait_for(&mut poller, Duration::from_secs(2)).as_slice() {
        [CardEvent::ReaderLost(error)] => {
            assert!(error.is_device_fault(), "{error}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(poller.reader().status().state, DeviceState::NoDevice);

    sim.replug().expect("replug");
    let back = Instant::now();
    let mut seen = Vec::new();
    while back.elapsed() < Duration::from_secs(5)
        && !seen.iter().any(|e| matches!(e, CardEvent::Placed { .. }))
    {
        seen.extend(wait_for(&mut poller, Duration::from_secs(1)));
    }
    assert!(
        matches!(seen.first(), Some(CardEvent::ReaderBack)),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|e| matches!(e, CardEvent::Placed { .. })),
        "{seen:?}"
    );
    assert!(back.elapsed() < Duration::from_secs(5));
    assert!(poller.reader().is_connected());
}

#[test]
fn reader_alone_reconnects_automatically_after_replug() {
    let link = temp_link("auto");
    let mut sim = IdCardSimulator::spawn_with_card(&card("demo-resident.toml"))
        .expect("sim")
        .with_stable_link(&link)
        .expect("link");
    let mut reader = open(link.to_str().expect("utf-8"));
    reader.set_auto_reconnect(Some(Duration::from_millis(50)));
    reader.read_identity().expect("reads");
    sim.unplug();
    assert!(matches!(
        reader.read_identity(),
        Err(IdCardError::Disconnected(_))
    ));
    assert!(!reader.is_connected());
    sim.replug().expect("replug");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(reader.sam_status().expect("back"), SamStatus::Success);
    assert!(reader.is_connected());
}

#[test]
fn scripted_session_drives_the_simulator() {
    let path = format!(
        "{}/tests/fixtures/scripts/card-comes-and-goes.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let script = SimulatorScript::load(&path).expect("script loads");
    assert_eq!(script.steps.len(), 6);
    let link = temp_link("script");
    let sim = IdCardSimulator::spawn()
        .expect("sim")
        .with_stable_link(&link)
        .expect("link");
    let settings = PollerSettings {
        interval: Duration::from_millis(40),
        reconnect_interval: Duration::from_millis(100),
        ..PollerSettings::default()
    };
    let mut poller = CardPoller::new(open(link.to_str().expect("utf-8")), settings);
    let running = script.run_in_background(sim);
    let mut events = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(6) {
        events.extend(poller.next_events(Duration::from_millis(200)));
        if events
            .iter()
            .filter(|e| matches!(e, CardEvent::Placed { .. }))
            .count()
            >= 3
        {
            break;
        }
    }
    let (_sim, result) = running.join().expect("script thread");
    result.expect("script ran");
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            CardEvent::Placed { identity, .. } => identity.card_type().as_str(),
            CardEvent::Removed => "removed",
            CardEvent::ReadFailed(_) => "read_failed",
            CardEvent::ReaderLost(_) => "lost",
            CardEvent::ReaderBack => "back",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "resident",
            "removed",
            "read_failed",
            "hk_macao_taiwan_residence_permit",
            "lost",
            "back",
            "hk_macao_taiwan_residence_permit",
        ]
    );
}

#[test]
fn script_errors_name_the_step() {
    let base = std::path::Path::new(".");
    let error = SimulatorScript::from_toml_str("[[step]]\naction = \"dance\"", base)
        .expect_err("unknown action");
    assert!(error.to_string().contains("step 1"), "{error}");
    let error = SimulatorScript::from_toml_str(
        "[[step]]\naction = \"remove\"\n[[step]]\naction = \"place\"\ncard = \"x\"",
        base,
    )
    .expect_err("unknown card");
    assert!(error.to_string().contains("step 2"), "{error}");
    let error =
        SimulatorScript::from_toml_str("[[step]]\naction = \"fault\"\nfault = \"status\"", base)
            .expect_err("no sw3");
    assert!(error.to_string().contains("sw3"), "{error}");
}

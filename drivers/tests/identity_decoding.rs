//! Decoding captured replies and keeping personal data out of Debug and logs.

use kiosk_drivers::idcard::base_info::join_base_info;
use kiosk_drivers::idcard::{
    CardType, Gender, IdCardError, Reply, SamStatus, TestCard, ValidUntil, decode_reply_hex,
};

fn captured_hex() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/read-reply-long-term.hex"
    );
    std::fs::read_to_string(path).expect("fixture")
}

fn demo_card() -> TestCard {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../kiosk-config/cards/demo-resident.toml"
    );
    TestCard::load(path).expect("demo card loads")
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x} ")).collect()
}

#[test]
fn captured_reply_decodes() {
    // The fixture was built independently of this crate (by a script, from the layout table).
    let identity = decode_reply_hex(&captured_hex()).expect("decodes");
    assert_eq!(identity.name(), "测试长期");
    assert_eq!(identity.gender(), Gender::Female);
    assert_eq!(identity.nation().code(), 98);
    assert_eq!(identity.birth().to_string(), "1988-02-29");
    assert_eq!(
        identity.address(),
        "北京市西城区测试路示例小区2号楼3单元401室"
    );
    assert_eq!(identity.id_number(), "11010219880229008X");
    assert_eq!(identity.issuing_authority(), "北京市公安局西城分局");
    assert_eq!(identity.valid_from().to_string(), "2015-06-01");
    assert_eq!(identity.valid_until(), ValidUntil::LongTerm);
    assert_eq!(identity.photo_wlt()[..4], [0x57, 0x4C, 0x66, 0x00]);
}

#[test]
fn simulator_block_matches_the_independent_layout() {
    let card = TestCard::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/long-term-card.toml"
    ))
    .expect("card");
    let text = card.text_block().expect("block");
    let captured = kiosk_drivers::idcard::frame::parse_hex(&captured_hex()).expect("hex");
    assert_eq!(text.as_slice(), &captured[14..270]);
}

#[test]
fn captured_reply_errors_are_clear() {
    assert!(matches!(
        decode_reply_hex("AA AA ZZ"),
        Err(IdCardError::BadHex(_))
    ));
    assert!(matches!(decode_reply_hex(""), Err(IdCardError::Framing(_))));
    assert!(matches!(
        decode_reply_hex("01 02 03 04"),
        Err(IdCardError::Framing(_))
    ));
    let text = captured_hex();
    let mut bytes = kiosk_drivers::idcard::frame::parse_hex(&text).expect("hex");
    let truncated = hex_of(&bytes[..600]);
    assert!(matches!(
        decode_reply_hex(&truncated),
        Err(IdCardError::Truncated { received: 600, .. })
    ));
    bytes[100] ^= 0x01;
    assert!(matches!(
        decode_reply_hex(&hex_of(&bytes)),
        Err(IdCardError::BadChecksum { .. })
    ));
    assert_eq!(
        decode_reply_hex("aaaaaa9669000400004145").map(|_| ()),
        Err(IdCardError::Status(SamStatus::ReadFailed))
    );
}

#[test]
fn non_resident_marker_is_unsupported() {
    let mut card = demo_card();
    card.type_marker = Some('J');
    let data = join_base_info(&card.text_block().expect("block"), &card.photo_wlt());
    let frame = Reply::new(SamStatus::Success, data).encode();
    assert_eq!(
        decode_reply_hex(&hex_of(&frame)).map(|_| ()),
        Err(IdCardError::UnsupportedCardType(
            CardType::HkMacaoTaiwanResidencePermit
        ))
    );
}

#[test]
fn bad_fields_are_read_errors() {
    type BreakField = fn(&mut TestCard);
    let cases: [(&str, BreakField); 4] = [
        ("nation", |c| c.nation = "57".into()),
        ("gender", |c| c.gender = "5".into()),
        ("birth", |c| c.birth = "19901307".into()),
        ("valid_to", |c| c.valid_to = "永久".into()),
    ];
    for (field, change) in cases {
        let mut card = demo_card();
        change(&mut card);
        let data = join_base_info(&card.text_block().expect("block"), &card.photo_wlt());
        let frame = Reply::new(SamStatus::Success, data).encode();
        match decode_reply_hex(&hex_of(&frame)) {
            Err(IdCardError::BadField { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[test]
fn debug_and_masked_json_hide_name_id_and_address() {
    let card = demo_card();
    let data = join_base_info(&card.text_block().expect("block"), &card.photo_wlt());
    let identity =
        decode_reply_hex(&hex_of(&Reply::new(SamStatus::Success, data).encode())).expect("ok");

    let debug = format!("{identity:?}");
    let pretty = format!("{identity:#?}");
    let masked = identity.masked_json().to_string();
    for shown in [&debug, &pretty, &masked] {
        assert!(!shown.contains("110101199003070011"), "{shown}");
        assert!(!shown.contains("19900307"), "{shown}");
        assert!(!shown.contains("测试居民"), "{shown}");
        assert!(!shown.contains("示例胡同"), "{shown}");
        assert!(shown.contains("110101********0011"), "{shown}");
        assert!(shown.contains("测***"), "{shown}");
    }
    let masked = identity.masked_json();
    assert_eq!(masked["id_number"], "110101********0011");
    assert_eq!(masked["name"], "测***");
    assert_eq!(masked["gender"], "male");
    assert_eq!(masked["birth_year"], 1990);

    let full = identity.full_json();
    assert_eq!(full["id_number"], "110101199003070011");
    assert_eq!(full["name"], "测试居民");
    assert_eq!(full["valid_until"], "2040-01-01");
}

#[test]
fn demo_card_file_is_valid_toml_with_only_known_keys() {
    let err = TestCard::from_toml_str("name = \"x\"\nsurname = \"y\"").expect_err("unknown key");
    assert!(
        err.to_string().contains("surname") || err.to_string().contains("unknown"),
        "{err}"
    );
    assert!(demo_card().text_block().is_ok());
}

//! Inputs the `cargo fuzz` targets in `drivers/fuzz/` found (see `fuzz/README.md`, "Last run"),
//! kept as ordinary tests so the fixes stay fixed on stable Rust without cargo-fuzz. Crash files
//! are under `tests/fixtures/fuzz/`.

use kiosk_drivers::idcard::base_info::{
    DecodedReply, additional_address_from_reply, decode_any_reply, join_base_info,
};
use kiosk_drivers::idcard::text_block::{decode_field, layout, parse_card};
use kiosk_drivers::idcard::{IdCardError, Reply, SamStatus, TestCard};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/fuzz/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn demo_block(name: &str) -> Vec<u8> {
    TestCard::load(format!(
        "{}/../kiosk-config/cards/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("demo card")
    .text_block()
    .expect("text block")
}

/// Write one UCS-2LE code unit at byte `offset` of a text block.
fn put_unit(block: &mut [u8], offset: usize, unit: u16) {
    block[offset..offset + 2].copy_from_slice(&unit.to_le_bytes());
}

fn is_control_character_error(result: &Result<impl std::fmt::Debug, IdCardError>) -> bool {
    matches!(result, Err(IdCardError::BadField { reason, .. }) if reason.contains("control"))
}

/// idcard_text_block, first run: a mutated 'J' block whose address held an interior NUL (and
/// other garbage) still came out as a residence permit, NUL and all.
#[test]
fn fuzz_text_block_nul_inside_address_is_not_an_identity() {
    let block = fixture("text-block-nul-in-address.bin");
    assert_eq!(block.len(), 256);
    let result = parse_card(&block, &[]);
    assert!(is_control_character_error(&result), "{result:?}");
}

/// The same finding reduced by hand: one control character inside an otherwise good field of
/// each card type is a read error, for every field kind (name, address, English name, codes).
#[test]
fn fuzz_text_block_control_character_in_any_field_is_rejected() {
    let cases = [
        ("demo-resident.toml", 2, 0x0000),        // name: 张\0…
        ("demo-resident.toml", 54, 0x001B),       // address: ESC
        ("demo-resident.toml", 160, 0x000A),      // issuing authority: LF
        ("demo-hk-permit.toml", 2, 0x0007),       // name: BEL
        ("demo-foreigner-2017.toml", 2, 0x000D),  // English name: CR
        ("demo-foreigner-2023.toml", 54, 0x0085), // English name: NEL (C1)
    ];
    for (card, offset, unit) in cases {
        let mut block = demo_block(card);
        assert!(parse_card(&block, &[]).is_ok(), "{card} parses untouched");
        put_unit(&mut block, offset, unit);
        let result = parse_card(&block, &[]);
        assert!(
            is_control_character_error(&result),
            "{card} @{offset} {unit:#06x}: {result:?}"
        );
    }
}

/// Trailing NUL and space padding, mixed, is still trimmed and accepted: only control
/// characters left inside the text are refused.
#[test]
fn fuzz_text_block_trailing_nul_padding_still_accepted() {
    let mut block = demo_block("demo-resident.toml");
    let name = decode_field(&block, layout::NAME).expect("name");
    let used = name.encode_utf16().count() * 2;
    for (i, offset) in (layout::NAME.offset + used..layout::NAME.offset + layout::NAME.len)
        .step_by(2)
        .enumerate()
    {
        put_unit(&mut block, offset, if i % 2 == 0 { 0x0000 } else { 0x0020 });
    }
    let card = parse_card(&block, &[]).expect("still a card");
    assert_eq!(card.name(), name);
}

/// The same rule for the 30 03 additional address and for a whole 30 01 reply.
#[test]
fn fuzz_reply_control_characters_are_rejected() {
    let mut address: Vec<u8> = "附加地址测试路1号"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    address.resize(70, 0);
    let reply = Reply::new(SamStatus::Success, address.clone());
    assert!(matches!(
        decode_any_reply(&reply),
        Ok(DecodedReply::AdditionalAddress(_))
    ));
    address[4..6].copy_from_slice(&0x001Bu16.to_le_bytes());
    let reply = Reply::new(SamStatus::Success, address);
    assert!(is_control_character_error(&additional_address_from_reply(
        &reply
    )));

    let mut block = demo_block("demo-resident.toml");
    put_unit(&mut block, 60, 0x0000);
    let reply = Reply::new(SamStatus::Success, join_base_info(&block, &[0; 1024]));
    assert!(is_control_character_error(&decode_any_reply(&reply)));
}

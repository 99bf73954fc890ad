//! The 256-byte text block parsers of all four card types.
#![no_main]
use kiosk_drivers::idcard::text_block::{
    parse_card, parse_foreigner_2017, parse_foreigner_2023, parse_residence_permit,
    parse_resident,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (block, photo) = data.split_at(data.len().min(256));
    let _ = parse_card(block, photo);
    let _ = parse_resident(block, photo);
    let _ = parse_residence_permit(block, photo);
    let _ = parse_foreigner_2017(block, photo);
    let _ = parse_foreigner_2023(block, photo);
});

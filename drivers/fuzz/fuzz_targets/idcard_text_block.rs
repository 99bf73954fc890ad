//! The 256-byte text block parsers of all four card types. No panic; `parse_card` agrees with
//! the parser for the block's type marker; an identity that comes out has an ID number with a
//! correct check digit (resident, 'J', 'Y') and no control characters in any text field, and
//! can be shown (masked and full JSON, Debug) without panicking.
#![no_main]
use kiosk_drivers::idcard::CardIdentity;
use kiosk_drivers::idcard::text_block::{
    parse_card, parse_foreigner_2017, parse_foreigner_2023, parse_residence_permit, parse_resident,
    verify_id_number,
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn no_control_characters(value: &Value) {
    match value {
        Value::String(text) => assert!(
            !text.chars().any(char::is_control),
            "control character in an identity field: {text:?}"
        ),
        Value::Array(items) => items.iter().for_each(no_control_characters),
        Value::Object(map) => map.values().for_each(no_control_characters),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let (block, photo) = data.split_at(data.len().min(256));
    let card = parse_card(block, photo);
    let resident = parse_resident(block, photo);
    let permit = parse_residence_permit(block, photo);
    let foreigner_2017 = parse_foreigner_2017(block, photo);
    let foreigner_2023 = parse_foreigner_2023(block, photo);
    let Ok(card) = card else {
        return;
    };
    match &card {
        CardIdentity::Resident(id) => {
            assert_eq!(resident.as_ref(), Ok(id));
            verify_id_number(id.id_number()).expect("resident check digit");
        }
        CardIdentity::ResidencePermit(id) => {
            assert_eq!(permit.as_ref(), Ok(id));
            verify_id_number(id.id_number()).expect("permit check digit");
        }
        CardIdentity::Foreigner2017(id) => assert_eq!(foreigner_2017.as_ref(), Ok(id)),
        CardIdentity::Foreigner2023(id) => {
            assert_eq!(foreigner_2023.as_ref(), Ok(id));
            verify_id_number(id.id_number()).expect("2023 card check digit");
        }
    }
    no_control_characters(&card.full_json());
    let _ = card.masked_json();
    let _ = format!("{card:?}");
});

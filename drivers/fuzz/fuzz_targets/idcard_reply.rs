//! Whole replies: hex capture decoding and every reply kind (30 01, 30 10, 30 03, 12 FF…).
//! No panic; whatever decodes can be shown (masked and full JSON) and holds no control
//! characters in its text.
#![no_main]
use kiosk_drivers::idcard::base_info::{DecodedReply, decode_any_reply, decode_any_reply_hex};
use kiosk_drivers::idcard::decode_reply_hex;
use kiosk_drivers::idcard::frame::Reply;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn no_control_characters(value: &Value) {
    match value {
        Value::String(text) => assert!(
            !text.chars().any(char::is_control),
            "control character in a decoded field: {text:?}"
        ),
        Value::Array(items) => items.iter().for_each(no_control_characters),
        Value::Object(map) => map.values().for_each(no_control_characters),
        _ => {}
    }
}

fn check(decoded: &DecodedReply) {
    no_control_characters(&decoded.full_json());
    let _ = decoded.masked_json();
    let _ = format!("{decoded:?}");
}

fuzz_target!(|data: &[u8]| {
    if let [sw1, sw2, sw3, rest @ ..] = data {
        let reply = Reply {
            sw1: *sw1,
            sw2: *sw2,
            sw3: *sw3,
            data: rest.to_vec(),
        };
        if let Ok(decoded) = decode_any_reply(&reply) {
            check(&decoded);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(decoded) = decode_any_reply_hex(text) {
            check(&decoded);
        }
        if let Ok(identity) = decode_reply_hex(text) {
            no_control_characters(&identity.full_json());
            let _ = identity.masked_json();
        }
    }
});

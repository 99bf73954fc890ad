//! Whole replies: hex capture decoding and every reply kind (30 01, 30 10, 30 03, 12 FF…).
#![no_main]
use kiosk_drivers::idcard::base_info::{decode_any_reply, decode_any_reply_hex};
use kiosk_drivers::idcard::decode_reply_hex;
use kiosk_drivers::idcard::frame::Reply;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let [sw1, sw2, sw3, rest @ ..] = data {
        let _ = decode_any_reply(&Reply {
            sw1: *sw1,
            sw2: *sw2,
            sw3: *sw3,
            data: rest.to_vec(),
        });
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = decode_any_reply_hex(text);
        let _ = decode_reply_hex(text);
    }
});

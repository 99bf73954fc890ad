//! The ESC/POS stream parser the printer simulator uses.
#![no_main]
use kiosk_drivers::escpos::interpreter::StreamParser;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, bytes)) = data.split_first() else {
        return;
    };
    let mut parser = StreamParser::new();
    for part in bytes.chunks(usize::from(split).max(1)) {
        let _ = parser.push(part);
    }
});

//! The QR scanner output parser (acks and lines).
#![no_main]
use kiosk_drivers::qr::ScanLineParser;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, bytes)) = data.split_first() else {
        return;
    };
    let mut parser = ScanLineParser::new();
    for part in bytes.chunks(usize::from(split).max(1)) {
        parser.push(part);
        while parser.next_output().is_some() {}
    }
});

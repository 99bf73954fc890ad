//! The QR scanner output parser (acks and lines). The outputs must not depend on how the bytes
//! were split into reads, and a decoded code never contains a line terminator.
#![no_main]
use kiosk_drivers::qr::{ScanLineParser, ScannerOutput};
use libfuzzer_sys::fuzz_target;

fn drain(parser: &mut ScanLineParser, out: &mut Vec<ScannerOutput>) {
    while let Some(output) = parser.next_output() {
        if let ScannerOutput::Code(code) = &output {
            assert!(!code.contains(['\r', '\n']), "code holds a terminator");
        }
        out.push(output);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, bytes)) = data.split_first() else {
        return;
    };
    let mut chunked = ScanLineParser::new();
    let mut from_chunks = Vec::new();
    for part in bytes.chunks(usize::from(split).max(1)) {
        chunked.push(part);
        drain(&mut chunked, &mut from_chunks);
    }
    let mut whole = ScanLineParser::new();
    whole.push(bytes);
    let mut from_whole = Vec::new();
    drain(&mut whole, &mut from_whole);
    assert_eq!(
        from_chunks, from_whole,
        "outputs depend on how reads were split"
    );
});

//! The SAM frame assembler, fed in chunks split by the first byte.
#![no_main]
use kiosk_drivers::idcard::frame::{FrameAssembler, Reply};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, bytes)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(split).max(1);
    let mut assembler = FrameAssembler::new();
    for part in bytes.chunks(chunk) {
        assembler.push(part);
        while let Some(frame) = assembler.next_frame() {
            if let Ok(body) = frame {
                let _ = Reply::from_body(&body);
            }
        }
    }
});

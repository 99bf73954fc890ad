//! The SAM frame assembler, fed in chunks split by the first byte. The frames it yields must
//! not depend on how the bytes were split into reads (one push of everything gives the same
//! frames), and every good frame's body must re-encode to a frame with the same checksum.
#![no_main]
use kiosk_drivers::idcard::frame::{FrameAssembler, FrameError, Reply, encode_frame};
use libfuzzer_sys::fuzz_target;

fn drain(assembler: &mut FrameAssembler, out: &mut Vec<Result<Vec<u8>, FrameError>>) {
    while let Some(frame) = assembler.next_frame() {
        if let Ok(body) = &frame {
            let _ = Reply::from_body(body);
            let encoded = encode_frame(body);
            let mut again = FrameAssembler::new();
            again.push(&encoded);
            assert_eq!(
                again.next_frame(),
                Some(Ok(body.clone())),
                "body does not round-trip"
            );
        }
        out.push(frame);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, bytes)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(split).max(1);
    let mut chunked = FrameAssembler::new();
    let mut from_chunks = Vec::new();
    for part in bytes.chunks(chunk) {
        chunked.push(part);
        drain(&mut chunked, &mut from_chunks);
    }
    let mut whole = FrameAssembler::new();
    whole.push(bytes);
    let mut from_whole = Vec::new();
    drain(&mut whole, &mut from_whole);
    assert_eq!(
        from_chunks, from_whole,
        "frames depend on how reads were split"
    );
    assert_eq!(chunked.pending(), whole.pending());
});

//! The ESC/POS stream parser the printer simulator uses. Items (with adjacent text runs joined)
//! must not depend on how the stream was split into writes, and the raw bytes of the items are
//! exactly the bytes consumed.
#![no_main]
use kiosk_drivers::escpos::interpreter::{StreamItem, StreamParser};
use libfuzzer_sys::fuzz_target;

fn join_text(items: Vec<(StreamItem, Vec<u8>)>, out: &mut Vec<StreamItem>, raw: &mut Vec<u8>) {
    for (item, bytes) in items {
        raw.extend_from_slice(&bytes);
        match (out.last_mut(), item) {
            (Some(StreamItem::Text(previous)), StreamItem::Text(more)) => {
                previous.extend_from_slice(&more)
            }
            (_, item) => out.push(item),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, bytes)) = data.split_first() else {
        return;
    };
    let mut parser = StreamParser::new();
    let (mut from_chunks, mut raw_chunks) = (Vec::new(), Vec::new());
    for part in bytes.chunks(usize::from(split).max(1)) {
        join_text(parser.push(part), &mut from_chunks, &mut raw_chunks);
    }
    let (mut from_whole, mut raw_whole) = (Vec::new(), Vec::new());
    join_text(
        StreamParser::new().push(bytes),
        &mut from_whole,
        &mut raw_whole,
    );
    assert!(bytes.starts_with(&raw_whole), "raw bytes are not the input");
    assert_eq!(raw_chunks, raw_whole);
    assert_eq!(
        from_chunks, from_whole,
        "items depend on how writes were split"
    );
});

//! The vendor WLT decoder path through `libloading`, against a tiny stand-in library compiled
//! with the system C compiler at test time. It implements the documented entry point
//! `int unpack(char *src, char *dst, int flag)` plus broken variants.

use std::path::PathBuf;
use std::process::Command;

use kiosk_drivers::idcard::photo::{BMP_LEN, PHOTO_HEIGHT, PHOTO_WIDTH};
use kiosk_drivers::idcard::{
    PhotoDecoder, PhotoError, VendorDecoderConfig, VendorOutput, VendorWltDecoder,
};

const STAND_IN: &str = r#"
#include <string.h>
#define W 102
#define H 126
#define ROW 308
static void put32(char *p, int v) { p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24; }
/* A 24-bit bottom-up BMP whose pixel (x, y) is (src[0], x, y) in RGB. */
int unpack(char *src, char *dst, int flag) {
    if (flag != 0) return -2; /* would save a file: refuse, the kiosk never asks */
    if ((unsigned char)src[0] != 0x57) return -1;
    memset(dst, 0, 54 + ROW * H);
    dst[0] = 'B'; dst[1] = 'M';
    put32(dst + 2, 54 + ROW * H); put32(dst + 10, 54); put32(dst + 14, 40);
    put32(dst + 18, W); put32(dst + 22, H);
    dst[26] = 1; dst[28] = 24;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            char *px = dst + 54 + (H - 1 - y) * ROW + 3 * x;
            px[0] = y; px[1] = x; px[2] = src[0];
        }
    return 1;
}
int unpack_fails(char *src, char *dst, int flag) { (void)src; (void)dst; (void)flag; return -7; }
int unpack_garbage(char *src, char *dst, int flag) { (void)src; (void)flag; memcpy(dst, "GARBAGE", 7); return 1; }
int unpack_overruns(char *src, char *dst, int flag) { (void)src; (void)flag; memset(dst, 1, 50000); return 1; }
int unpack_raw(char *src, char *dst, int flag) { (void)flag; memset(dst, src[0], W * H * 3); return 1; }
"#;

fn build_stand_in() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiosk-wlt-stand-in-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let source = dir.join("stand_in.c");
    let library = dir.join("libwlt_stand_in.so");
    std::fs::write(&source, STAND_IN).expect("write C");
    let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".to_owned()))
        .args(["-shared", "-fPIC", "-O1", "-o"])
        .arg(&library)
        .arg(&source)
        .status()
        .expect("a C compiler (cc) is needed to build the stand-in library");
    assert!(status.success(), "cc failed");
    library
}

fn wlt() -> Vec<u8> {
    let mut wlt = vec![0u8; 1024];
    wlt[..4].copy_from_slice(&[0x57, 0x4C, 0x66, 0x00]);
    wlt
}

#[test]
fn vendor_library_paths() {
    let library = build_stand_in();

    let decoder = VendorWltDecoder::load(VendorDecoderConfig::new(&library)).expect("loads");
    let photo = decoder.decode(&wlt()).expect("decodes");
    assert_eq!((photo.width(), photo.height()), (PHOTO_WIDTH, PHOTO_HEIGHT));
    assert_eq!(photo.pixel(0, 0), Some([0x57, 0, 0]));
    assert_eq!(photo.pixel(10, 20), Some([0x57, 10, 20]));
    assert_eq!(photo.pixel(101, 125), Some([0x57, 101, 125]));
    assert_eq!(
        decoder.decode(&[0u8; 1000]),
        Err(PhotoError::BadInput(1000))
    );
    let mut not_wlt = wlt();
    not_wlt[0] = 0;
    assert_eq!(decoder.decode(&not_wlt), Err(PhotoError::DecoderFailed(-1)));

    let with = |symbol: &str, output: VendorOutput| {
        let mut config = VendorDecoderConfig::new(&library);
        config.symbol = symbol.to_owned();
        config.output = output;
        VendorWltDecoder::load(config)
    };
    let fails = with("unpack_fails", VendorOutput::Bmp).expect("loads");
    assert_eq!(fails.decode(&wlt()), Err(PhotoError::DecoderFailed(-7)));
    let garbage = with("unpack_garbage", VendorOutput::Bmp).expect("loads");
    assert!(matches!(
        garbage.decode(&wlt()),
        Err(PhotoError::BadOutput(_))
    ));
    let overruns = with("unpack_overruns", VendorOutput::Bmp).expect("loads");
    match overruns.decode(&wlt()) {
        Err(PhotoError::BadOutput(reason)) => assert!(reason.contains(&BMP_LEN.to_string())),
        other => panic!("{other:?}"),
    }
    let raw = with("unpack_raw", VendorOutput::RawBgr).expect("loads");
    assert_eq!(
        raw.decode(&wlt()).expect("raw").pixel(5, 5),
        Some([0x57; 3])
    );

    match with("no_such_entry_point", VendorOutput::Bmp) {
        Err(PhotoError::MissingSymbol { symbol, .. }) => assert_eq!(symbol, "no_such_entry_point"),
        other => panic!("{:?}", other.map(|_| ())),
    }
    match VendorWltDecoder::load(VendorDecoderConfig::new("/nonexistent/libwlt.so")) {
        Err(PhotoError::LibraryMissing { path, .. }) => assert!(path.contains("libwlt.so")),
        other => panic!("{:?}", other.map(|_| ())),
    }
    // A file that is not a library.
    let source = library.with_file_name("stand_in.c");
    assert!(matches!(
        VendorWltDecoder::load(VendorDecoderConfig::new(&source)),
        Err(PhotoError::LibraryMissing { .. })
    ));
    let _ = std::fs::remove_dir_all(library.parent().expect("dir"));
}

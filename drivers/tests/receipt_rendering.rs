//! The ESC/POS renderer: receipts drawn 576 dots wide from the byte stream, checked by
//! decoding the PNG (QR read back with `rqrr`), measuring lines and looking at pixels.
//!
//! Needs the system CJK font (Noto Sans CJK; scripts/setup-system.sh installs it).

use std::path::PathBuf;

use kiosk_drivers::escpos::commands::PrinterFont;
use kiosk_drivers::escpos::render::system_font;
use kiosk_drivers::escpos::{
    Align, Cut, MonoBitmap, QrErrorCorrection, QrModel, QrOptions, ReceiptBuilder, ReceiptRenderer,
    RenderedReceipt,
};

const TRACK_URL: &str = "https://gov.example.invalid/track/GJJ-20250101-0001";

fn renderer() -> ReceiptRenderer {
    ReceiptRenderer::new().unwrap_or_else(|e| {
        panic!("the receipt renderer needs a CJK font: {e} (run scripts/setup-system.sh)")
    })
}

fn example_receipt() -> kiosk_drivers::escpos::EncodedReceipt {
    ReceiptBuilder::new()
        .align(Align::Center)
        .bold(true)
        .size(2, 2)
        .line("办理回执")
        .normal_size()
        .bold(false)
        .line("e政务自助服务终端")
        .align(Align::Left)
        .feed(1)
        .line("事项：住房公积金提取")
        .line("受理编号：GJJ-20250101-0001")
        .line_or_image("申请人：刘𫖮")
        .expect("rare-character line")
        .line("证件号码：1101**********0012")
        .line("时间：2025-01-01 09:30")
        .underline(1)
        .line("下一步：请于3个工作日内查看办理进度")
        .underline(0)
        .reverse(true)
        .line(" 免跑腿 ")
        .reverse(false)
        .feed(1)
        .align(Align::Center)
        .qr(
            TRACK_URL,
            QrOptions {
                model: QrModel::Model2,
                module_size: 4,
                error_correction: QrErrorCorrection::M,
            },
        )
        .expect("qr")
        .feed(1)
        .line("扫码查询办理进度")
        .font(PrinterFont::B)
        .line("Font B: self-service kiosk 0123456789")
        .font(PrinterFont::A)
        .feed(3)
        .cut(Cut::Partial)
        .build()
}

fn decode_png(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("png frame");
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")))
}

/// Rows that hold at least one black dot, as (first, last) runs.
fn ink_runs(image: &RenderedReceipt) -> Vec<(u32, u32)> {
    let mut runs = Vec::new();
    let mut start = None;
    for y in 0..=image.height() {
        let inked = y < image.height() && (0..image.width()).any(|x| image.is_black(x, y));
        match (inked, start) {
            (true, None) => start = Some(y),
            (false, Some(s)) => {
                runs.push((s, y - 1));
                start = None;
            }
            _ => {}
        }
    }
    runs
}

#[test]
fn rendered_receipt_is_576_wide_and_its_qr_decodes_from_the_png() {
    let receipt = example_receipt();
    let mut renderer = renderer();
    let images = renderer.render_stream(receipt.as_bytes());
    assert_eq!(images.len(), 1, "one cut, one receipt");
    let png_bytes = images[0].to_png().expect("png");
    let path = target_dir().join("escpos-example-receipt.png");
    std::fs::create_dir_all(target_dir()).expect("target dir");
    std::fs::write(&path, &png_bytes).expect("example png written");

    let (width, height, pixels) = decode_png(&png_bytes);
    assert_eq!(width, 576);
    // The paper model says how long it is; the image adds only the cut margin.
    assert!(u64::from(height) > receipt.paper_length_dots());
    assert!(u64::from(height) <= receipt.paper_length_dots() + 16);

    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(width as usize, height as usize, |x, y| {
            pixels[y * width as usize + x]
        });
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the receipt");
    let (meta, content) = grids[0].decode().expect("QR decodes");
    assert_eq!(content, TRACK_URL);
    // Format bits: M = 0 (L = 1, H = 2, Q = 3).
    assert_eq!(meta.ecc_level, 0, "error correction as commanded");
    // Module size 4: the symbol is (17 + 4 × version) × 4 dots wide, centred.
    let side = (17 + 4 * meta.version.0 as u32) * 4;
    let bounds = &grids[0].bounds;
    let top = bounds.iter().map(|p| p.y).min().expect("corner").max(0) as u32;
    let bottom = bounds.iter().map(|p| p.y).max().expect("corner") as u32;
    let inked: Vec<u32> = (0..width)
        .filter(|&x| (top + 8..bottom - 8).any(|y| pixels[(y * width + x) as usize] == 0))
        .collect();
    let (left, right) = (inked[0], *inked.last().expect("ink"));
    assert_eq!(right - left + 1, side, "{left}..{right}");
    assert_eq!(left, (576 - side) / 2, "centred");
}

#[test]
fn double_size_lines_are_taller_and_wider() {
    let mut renderer = renderer();
    let normal = renderer.render(ReceiptBuilder::new().line("测试回执").build().as_bytes());
    let double = renderer.render(
        ReceiptBuilder::new()
            .size(2, 2)
            .line("测试回执")
            .build()
            .as_bytes(),
    );
    let tall = |image: &RenderedReceipt| {
        let runs = ink_runs(image);
        runs.last().expect("ink").1 - runs.first().expect("ink").0 + 1
    };
    let wide = |image: &RenderedReceipt| {
        (0..image.width())
            .filter(|&x| (0..image.height()).any(|y| image.is_black(x, y)))
            .max()
            .expect("ink")
    };
    assert!(
        tall(&normal) <= 24 && tall(&normal) >= 18,
        "{}",
        tall(&normal)
    );
    assert!(tall(&double) >= 2 * tall(&normal) - 1, "{}", tall(&double));
    assert!(wide(&double) > 180 && wide(&normal) < 96);
    // 4 Chinese characters: 96 dots at size 1, 192 at size 2.
    assert_eq!(normal.height(), 30);
    assert_eq!(double.height(), 48);
}

#[test]
fn rare_character_name_printed_as_image_shows_the_glyph() {
    let font = system_font().expect("CJK font (run scripts/setup-system.sh)");
    assert!(font.has_glyph('𫖮'), "the CJK font lacks 𫖮");
    let as_text = ReceiptBuilder::new().line("姓名：刘𫖮").build();
    let as_image = ReceiptBuilder::new()
        .line_or_image("姓名：刘𫖮")
        .expect("image line")
        .build();
    // The text form sends 𫖮 as a four-byte GB18030 code; the image form sends no text.
    assert!(
        as_text
            .as_bytes()
            .windows(4)
            .any(|w| w == [0x98, 0x38, 0xF5, 0x36])
    );
    assert!(
        as_image
            .as_bytes()
            .windows(3)
            .any(|w| w == [0x1D, 0x76, 0x30])
    );
    assert!(
        !as_image.as_bytes().windows(2).any(|w| w == [0xC1, 0xF5]),
        "刘 not as text"
    );
    // An all-GBK line stays text.
    let plain = ReceiptBuilder::empty().line_or_image("刘洋").expect("text");
    assert_eq!(plain.build().as_bytes(), &[0xC1, 0xF5, 0xD1, 0xF3, 0x0A]);

    let mut renderer = renderer();
    let text_render = renderer.render(as_text.as_bytes());
    let image_render = renderer.render(as_image.as_bytes());
    // Both take one 30-dot line.
    assert_eq!(text_render.height(), 30);
    assert_eq!(image_render.height(), 30);
    // 姓名：刘 look the same either way (cells 0–3, 96 dots).
    for y in 0..24 {
        for x in 0..96 {
            assert_eq!(
                text_render.is_black(x, y),
                image_render.is_black(x, y),
                "({x},{y})"
            );
        }
    }
    // Cell 4 (x 96..120): the image holds the real glyph; the GBK printer font, a box.
    let glyph = font.glyph_cell('𫖮', chinese_cell());
    let mut same = 0;
    for y in 0..24 {
        for x in 0..24 {
            if image_render.is_black(96 + x, y) == glyph.get(x, y) {
                same += 1;
            }
        }
    }
    assert_eq!(same, 24 * 24, "𫖮 drawn where it belongs");
    assert!(glyph.black_count() > 60, "a real glyph has ink");
    let boxed = font.glyph_cell('\u{10FFFF}', chinese_cell());
    for y in 0..24 {
        for x in 0..24 {
            assert_eq!(
                text_render.is_black(96 + x, y),
                boxed.get(x, y),
                "box at ({x},{y})"
            );
        }
    }
}

fn chinese_cell() -> kiosk_drivers::escpos::layout::CellKind {
    kiosk_drivers::escpos::layout::CellKind::Chinese
}

#[test]
fn reverse_text_is_white_on_black() {
    let mut renderer = renderer();
    let image = renderer.render(
        ReceiptBuilder::new()
            .reverse(true)
            .line("反白")
            .reverse(false)
            .line("正常")
            .build()
            .as_bytes(),
    );
    // First line: the two 24 × 24 cells are black with white strokes.
    let black = image.black_in(0, 0, 48, 24);
    assert!(black > 48 * 24 * 6 / 10, "mostly black: {black}");
    assert!(black < 48 * 24, "white strokes inside");
    assert_eq!(
        image.black_in(48, 0, 528, 30),
        0,
        "paper after the text stays white"
    );
    // Second line: black strokes on white.
    let normal = image.black_in(0, 30, 48, 24);
    assert!(normal > 30 && normal < 48 * 24 * 4 / 10, "{normal}");
}

#[test]
fn underline_bold_and_fragmented_images() {
    let mut renderer = renderer();
    let plain = renderer.render(ReceiptBuilder::new().line("ABC").build().as_bytes());
    let bold = renderer.render(
        ReceiptBuilder::new()
            .bold(true)
            .line("ABC")
            .build()
            .as_bytes(),
    );
    assert!(bold.black_in(0, 0, 36, 24) > plain.black_in(0, 0, 36, 24));
    let underlined = renderer.render(
        ReceiptBuilder::new()
            .underline(2)
            .line("ABC")
            .build()
            .as_bytes(),
    );
    assert_eq!(
        underlined.black_in(0, 22, 36, 2),
        72,
        "2-dot underline under 3 cells"
    );
    assert_eq!(underlined.black_in(36, 22, 100, 2), 0);

    // A 40 × 50 checkerboard-ish logo: sent whole or in 7-row strips, it prints the same.
    let logo = MonoBitmap::from_fn(40, 50, |x, y| (x / 5 + y / 5) % 2 == 0);
    let whole = renderer.render(
        ReceiptBuilder::new()
            .image_fragmented(&logo, 50)
            .build()
            .as_bytes(),
    );
    let strips = ReceiptBuilder::new().image_fragmented(&logo, 7).build();
    assert_eq!(
        strips
            .as_bytes()
            .windows(3)
            .filter(|w| *w == [0x1D, 0x76, 0x30])
            .count(),
        8
    );
    let strips = renderer.render(strips.as_bytes());
    assert_eq!(whole, strips);
    assert_eq!(whole.height(), 50);
    for y in 0..50 {
        for x in 0..40 {
            assert_eq!(whole.is_black(x, y), logo.get(x, y));
        }
    }
}

#[test]
fn a_stream_splits_into_receipts_at_cuts_with_a_cut_line() {
    let bytes = [
        ReceiptBuilder::new().line("第一张").cut(Cut::Full).build(),
        ReceiptBuilder::new()
            .line("第二张")
            .cut(Cut::Partial)
            .build(),
    ]
    .iter()
    .flat_map(|r| r.as_bytes().to_vec())
    .collect::<Vec<u8>>();
    let images = renderer().render_stream(&bytes);
    assert_eq!(images.len(), 2);
    for image in &images {
        assert_eq!(image.width(), 576);
        // The cut line is grey, not ink, across the paper (a gap in the middle if partial).
        let y = image.height() - 9;
        let grey = (0..576).filter(|&x| image.pixel(x, y) == 0x90).count();
        assert!(grey > 300, "cut line at the bottom: {grey}");
    }
    assert_eq!(
        images[0].pixel(288, images[0].height() - 9),
        0x90,
        "full cut"
    );
    assert_eq!(
        images[1].pixel(288, images[1].height() - 9),
        0xFF,
        "partial cut bridge"
    );
}

#[test]
fn random_and_mutated_streams_render_without_panicking() {
    // A fixed-seed generator: the same streams every run.
    let mut seed = 0x5EED_E5C0_u64;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as u32
    };
    let base = example_receipt().into_bytes();
    let mut renderer = renderer();
    for round in 0..150 {
        let stream: Vec<u8> = if round % 2 == 0 {
            let n = next() as usize % 300;
            (0..n).map(|_| next() as u8).collect()
        } else {
            let mut mutated = base.clone();
            for _ in 0..1 + next() % 6 {
                let at = next() as usize % mutated.len();
                mutated[at] = next() as u8;
            }
            mutated
        };
        for image in renderer.render_stream(&stream) {
            assert_eq!(image.width(), 576);
            assert!(image.height() <= kiosk_drivers::escpos::render::MAX_RENDER_HEIGHT + 16);
        }
        let _ = kiosk_drivers::escpos::layout::measure_dots(&stream);
    }
}

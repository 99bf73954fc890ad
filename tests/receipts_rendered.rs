//! Every demo item that prints a receipt, walked through the real UI: the printer simulator
//! renders the receipt it received as a 576-dot PNG (`target/receipts/<item>.png`, to look at),
//! and its QR code, decoded from the picture, leads where the catalogue says — progress lookup
//! or, for items with the "免跑腿" envelope, uploading missing materials.

mod support;

use kiosk::demo::JourneyWalker;
use kiosk_core::catalogue::{ReceiptQrPurpose, Step};
use kiosk_core::text::Language;
use kiosk_documents::inspect::decode_qr_png;
use std::path::PathBuf;
use std::time::Duration;
use support::start_kiosk;

fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/receipts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn png_width(path: &PathBuf) -> u32 {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    decoder.read_info().unwrap().info().width
}

#[test]
fn each_demo_receipt_renders_with_chinese_text_and_a_readable_qr_code() {
    let kiosk = start_kiosk("receipts");
    let printer = kiosk.rig.printer.as_ref().unwrap();
    let sim_dir = kiosk.dir.join("receipt-pngs");
    printer.set_output_dir(&sim_dir).unwrap();
    let walker = JourneyWalker::new(&kiosk.ui, &kiosk.rig, None);

    let (catalogue, presence) = {
        let rt = kiosk.ui.runtime.borrow();
        (rt.controller.catalogue().clone(), rt.controller.presence())
    };
    let available: Vec<String> = catalogue
        .availability(&presence)
        .into_iter()
        .filter(|a| a.available)
        .map(|a| a.code)
        .collect();
    let mut walked = Vec::new();
    let mut purposes = Vec::new();
    for item in &catalogue.items {
        let Some(qr) = item.steps.iter().find_map(|s| match s {
            Step::PrintReceipt(r) => Some(r.qr.clone()),
            _ => None,
        }) else {
            continue;
        };
        if !available.contains(&item.code) {
            continue;
        }
        let before = printer.receipts().len();
        let record = walker.walk(&item.code, Language::Zh, false);
        assert_eq!(record.outcome, "completed", "{}: {record:?}", item.code);
        let id = record.transaction_id.clone().expect("transaction number");
        let pngs = printer.wait_for_pngs(before + 1, Duration::from_secs(20));
        assert_eq!(pngs.len(), before + 1, "{}: one PNG per receipt", item.code);
        let png = out_dir().join(format!("{}.png", item.code));
        std::fs::copy(&pngs[before], &png).unwrap();

        assert_eq!(
            png_width(&png),
            576,
            "{}: the printer's dot width",
            item.code
        );
        let text = &printer.receipts()[before].text;
        assert!(text.contains(&id) && text.contains(&item.name.zh), "{text}");
        let qr = qr.expect("the demo catalogue gives every receipt a QR code");
        let codes = decode_qr_png(&png).unwrap();
        assert_eq!(codes, vec![format!("{}{id}", qr.url)], "{}", item.code);
        assert!(text.contains(&qr.purpose.default_caption().zh), "{text}");
        walked.push(item.code.clone());
        purposes.push(qr.purpose);
    }
    assert!(walked.len() >= 4, "receipt items walked: {walked:?}");
    assert!(purposes.contains(&ReceiptQrPurpose::Progress));
    assert!(
        purposes.contains(&ReceiptQrPurpose::UploadMaterials),
        "the 免跑腿 envelope is on a demo receipt: {walked:?}"
    );
}

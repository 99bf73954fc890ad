//! `kiosk printer status|test --port PATH`: the receipt printer (serial/USB-serial path or
//! `tcp://host:9100`) or the A4 printer (`ipp://host:port/printers/NAME`), for a technician at
//! the kiosk. `kiosk sim printer [--out DIR]`: the receipt printer simulator, each receipt
//! rendered as a PNG into DIR.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use kiosk_drivers::document_printer::IppDocumentPrinter;
use kiosk_drivers::escpos::receipt::{Align, Cut, QrErrorCorrection, QrOptions, ReceiptBuilder};
use kiosk_drivers::escpos::{ReceiptPrinter, ReceiptPrinterSimulator};
use kiosk_drivers::status::DeviceStatus;
use kiosk_drivers::traits::{Device, DocumentJob, DocumentJobState};

const IO_TIMEOUT: Duration = Duration::from_secs(3);

fn is_ipp(port: &str) -> bool {
    port.starts_with("ipp://") || port.starts_with("http://")
}

fn status_json(port: &str, status: &DeviceStatus, extra: serde_json::Value) -> serde_json::Value {
    let mut json = serde_json::json!({
        "port": port,
        "class": status.class.as_str(),
        "state": status.state.as_str(),
        "usable": status.is_usable(),
        "detail": status.detail,
        "last_error": status.last_error,
    });
    if let (Some(map), serde_json::Value::Object(extra)) = (json.as_object_mut(), extra) {
        map.extend(extra);
    }
    json
}

/// Prints the printer's state as JSON; exit code 0 when usable, 1 when not.
pub fn status(port: &str, baud: u32) -> anyhow::Result<i32> {
    let (status, extra) = if is_ipp(port) {
        let printer = IppDocumentPrinter::new(port)?;
        let report = printer.report().with_context(|| port.to_string())?;
        let extra = serde_json::json!({
            "make_and_model": report.make_and_model,
            "reasons": report.reasons,
            "queued_jobs": report.queued_jobs,
        });
        (report.status(), extra)
    } else {
        let mut printer =
            ReceiptPrinter::open_any(port, baud, IO_TIMEOUT).with_context(|| port.to_string())?;
        let report = printer.report().with_context(|| port.to_string())?;
        (report.to_device_status(), serde_json::json!({}))
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&status_json(port, &status, extra))?
    );
    Ok(if status.is_usable() { 0 } else { 1 })
}

/// Prints a test receipt (or an A4 test page) and reports how it went.
pub fn test(port: &str, baud: u32) -> anyhow::Result<i32> {
    if is_ipp(port) {
        return test_a4(port);
    }
    let mut printer =
        ReceiptPrinter::open_any(port, baud, IO_TIMEOUT).with_context(|| port.to_string())?;
    let receipt = ReceiptBuilder::new()
        .align(Align::Center)
        .bold(true)
        .size(2, 2)
        .line("打印测试")
        .normal_size()
        .bold(false)
        .line("PRINTER TEST")
        .line("0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        .line("中文字样：政务服务自助终端")
        .qr(
            "https://zwfw.example.gov.cn/printer-test",
            QrOptions {
                module_size: 6,
                error_correction: QrErrorCorrection::M,
                ..QrOptions::default()
            },
        )?
        .feed(3)
        .cut(Cut::Partial)
        .build();
    printer
        .print_receipt(&receipt)
        .with_context(|| format!("{port}: test receipt"))?;
    let status = printer.report()?.to_device_status();
    let extra = serde_json::json!({
        "printed": true,
        "paper_used_mm": receipt.paper_length_mm(),
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&status_json(port, &status, extra))?
    );
    Ok(0)
}

fn test_a4(port: &str) -> anyhow::Result<i32> {
    let printer = IppDocumentPrinter::new(port)?;
    let fonts = kiosk_documents::DocumentFonts::find()?;
    let content = crate::app::a4_test_page("CLI", "technician");
    let pdf = kiosk_documents::certificate_pdf(&content, kiosk_core::text::Language::Zh, &fonts)?;
    let id = printer.submit(&DocumentJob {
        title: "A4 test page".into(),
        pdf,
        copies: 1,
    })?;
    let job = printer.wait(id, Duration::from_secs(120))?;
    let mut probe = IppDocumentPrinter::new(port)?;
    let status = probe.status();
    let done = job.state == DocumentJobState::Completed;
    let extra =
        serde_json::json!({ "job": id, "printed": done, "job_state": format!("{:?}", job.state) });
    println!(
        "{}",
        serde_json::to_string_pretty(&status_json(port, &status, extra))?
    );
    Ok(if done { 0 } else { 1 })
}

/// The receipt printer simulator: prints its path, then a line per receipt (with the PNG's path
/// when `out` is given). Runs until killed.
pub fn simulate(out: Option<PathBuf>, tcp: Option<String>) -> anyhow::Result<i32> {
    let sim = match tcp {
        Some(address) => ReceiptPrinterSimulator::spawn_tcp(address.as_str())?,
        None => ReceiptPrinterSimulator::spawn()?,
    };
    if let Some(dir) = &out {
        sim.set_output_dir(dir)
            .with_context(|| format!("output folder {}", dir.display()))?;
    }
    println!("{}", sim.path());
    let (mut printed, mut shown) = (0, 0);
    loop {
        let receipts = sim.wait_for_receipts(printed + 1, Duration::from_secs(3600));
        for receipt in receipts.iter().skip(printed) {
            printed += 1;
            println!("----- receipt {printed} -----\n{}", receipt.text);
        }
        if out.is_some() {
            for png in sim
                .wait_for_pngs(printed, Duration::from_secs(10))
                .iter()
                .skip(shown)
            {
                shown += 1;
                println!("png {}", png.display());
            }
        }
    }
}

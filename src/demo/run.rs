//! Running the kiosk: in a window (winit), or headless walking every doable demo journey.

use super::rig::DemoRig;
use super::walker::{Identification, JourneyRecord, JourneyWalker, write_transcript};
use crate::app::KioskRuntime;
use crate::ui::KioskUi;
use crate::ui::driver::install_headless_platform;
use anyhow::Context;
use kiosk_core::catalogue::CardType;
use kiosk_core::config::KioskConfig;
use kiosk_core::text::Language;
use kiosk_drivers::idcard::TestCard;
use slint::ComponentHandle;
use std::path::Path;
use std::time::Duration;

/// Loads the configuration and starts the rig and the kiosk runtime.
pub fn start(config_path: &Path) -> anyhow::Result<(DemoRig, KioskRuntime)> {
    let config = KioskConfig::load(config_path)?;
    let config_dir = config_path.parent().unwrap_or(Path::new("."));
    let rig = DemoRig::start(config, config_dir)?;
    let runtime = KioskRuntime::start(rig.config.clone(), rig.ports.clone())?;
    Ok((rig, runtime))
}

/// The kiosk window; returns when it is closed.
pub fn run_window(config_path: &Path) -> anyhow::Result<()> {
    let (_rig, runtime) = start(config_path)?;
    let ui = KioskUi::new(runtime).context("cannot open the kiosk window")?;
    if ui.runtime.borrow().controller.screen().portrait {
        ui.window
            .window()
            .set_size(slint::LogicalSize::new(1080.0, 1920.0));
    } else {
        ui.window
            .window()
            .set_size(slint::LogicalSize::new(1920.0, 1080.0));
    }
    let timer = slint::Timer::default();
    let weak_runtime = std::rc::Rc::downgrade(&ui.runtime);
    let window = ui.window.as_weak();
    let ui = std::rc::Rc::new(ui);
    let pump_ui = std::rc::Rc::clone(&ui);
    timer.start(
        slint::TimerMode::Repeated,
        Duration::from_millis(100),
        move || {
            if weak_runtime.upgrade().is_some() && window.upgrade().is_some() {
                pump_ui.pump();
            }
        },
    );
    // The camera preview at up to 30 frames per second while the face check runs.
    let preview_timer = slint::Timer::default();
    let preview_ui = std::rc::Rc::clone(&ui);
    preview_timer.start(
        slint::TimerMode::Repeated,
        Duration::from_millis(33),
        move || {
            preview_ui.refresh_preview();
        },
    );
    ui.window.run().context("kiosk window")?;
    Ok(())
}

/// Walks every doable demo item through the real UI, in Chinese; the first one also in
/// English and in elder mode. Writes screenshots and `transcript.json` to `shots`.
/// Returns the journeys; the caller fails when any did not succeed.
pub fn run_headless(config_path: &Path, shots: &Path) -> anyhow::Result<Vec<JourneyRecord>> {
    install_headless_platform().map_err(anyhow::Error::msg)?;
    std::fs::create_dir_all(shots).with_context(|| format!("shots folder {}", shots.display()))?;
    let (rig, runtime) = start(config_path)?;
    let ui = KioskUi::new(runtime).context("cannot create the kiosk UI")?;
    let size = if ui.runtime.borrow().controller.screen().portrait {
        slint::PhysicalSize::new(1080, 1920)
    } else {
        slint::PhysicalSize::new(1920, 1080)
    };
    ui.window.window().set_size(size);
    ui.window.show().context("showing the kiosk UI")?;
    ui.pump();
    let doable = doable_items(&ui);
    if doable.is_empty() {
        anyhow::bail!("no demo item is doable with the configured devices");
    }
    if let Some(printer) = &rig.printer {
        // Every receipt the simulator prints, rendered as the paper would look.
        let dir = shots.join("receipts");
        printer
            .set_output_dir(&dir)
            .with_context(|| format!("receipts folder {}", dir.display()))?;
    }
    let walker = JourneyWalker::new(&ui, &rig, Some(shots.to_path_buf()));
    let mut journeys = Vec::new();
    for code in &doable {
        journeys.push(walker.walk(code, Language::Zh, false));
    }
    journeys.push(walker.walk(&doable[0], Language::En, false));
    journeys.push(walker.walk(&doable[0], Language::Zh, true));
    journeys.push(walker.walk(&doable[0], Language::En, true));
    // The other card types, where the first item accepts them.
    let cards_dir = config_path.parent().unwrap_or(Path::new(".")).join("cards");
    for name in [
        "demo-hk-permit",
        "demo-foreigner-2017",
        "demo-foreigner-2023",
    ] {
        let path = cards_dir.join(format!("{name}.toml"));
        let Ok(card) = TestCard::load(&path) else {
            tracing::warn!(card = %path.display(), "demo card missing, journey skipped");
            continue;
        };
        for language in [Language::Zh, Language::En] {
            journeys.push(walker.walk_identified(
                &doable[0],
                language,
                false,
                Identification::Card(name, &card),
            ));
        }
    }
    // Items that take an appointment or e-ID code, identified by a code at the QR scanner.
    let rt = ui.runtime.borrow();
    let by_code: Vec<String> = doable
        .iter()
        .filter(|code| {
            rt.controller
                .catalogue()
                .item(code)
                .is_some_and(|i| i.allowed_cards.contains(&CardType::AppointmentCode))
        })
        .cloned()
        .collect();
    drop(rt);
    for code in &by_code {
        for language in [Language::Zh, Language::En] {
            journeys.push(walker.walk_identified(
                code,
                language,
                false,
                Identification::Code("APPT:20261121-A0042"),
            ));
        }
    }
    write_transcript(shots, &journeys).map_err(anyhow::Error::msg)?;
    if let Some(cups) = &rig.document_printer {
        copy_certificates(&cups.output_dir(), &shots.join("certificates"))?;
    }
    Ok(journeys)
}

/// The certificates the private CUPS queue produced, beside the screenshots.
fn copy_certificates(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("{}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("{}", from.display()))? {
        let path = entry?.path();
        if let Some(name) = path.file_name() {
            std::fs::copy(&path, to.join(name)).with_context(|| format!("{}", path.display()))?;
        }
    }
    Ok(())
}

/// Items shown on the home screen as available, in catalogue order.
fn doable_items(ui: &KioskUi) -> Vec<String> {
    let rt = ui.runtime.borrow();
    let presence = rt.controller.presence();
    rt.controller
        .catalogue()
        .availability(&presence)
        .into_iter()
        .filter(|a| a.available)
        .map(|a| a.code)
        .collect()
}

//! Walks citizen journeys through the real UI, tapping by accessible id as a finger would, and
//! writes a PNG of every screen plus a transcript. Used by `kiosk --headless --shots DIR` and by
//! the UI journey tests.

use super::rig::DemoRig;
use crate::Kiosk;
use crate::ui::KioskUi;
use crate::ui::driver::{is_shown, screenshot, tap, tap_in_list};
use kiosk_core::catalogue::{FieldType, Step};
use kiosk_core::text::Language;
use kiosk_drivers::idcard::TestCard;
use serde::Serialize;
use slint::{ComponentHandle, Model};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How one journey went.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct JourneyRecord {
    pub item_code: String,
    /// The test card used, when not the demo resident card.
    pub card: Option<String>,
    pub language: String,
    pub elder_mode: bool,
    /// Pages visited, in order.
    pub screens: Vec<String>,
    /// `completed`, or what went wrong.
    pub outcome: String,
    pub transaction_id: Option<String>,
    pub centre_acknowledged: bool,
    pub screenshots: Vec<String>,
    /// Camera frames per second the face-check page drew, when the journey had a face check.
    pub preview_fps: Option<f32>,
}

impl JourneyRecord {
    pub fn succeeded(&self) -> bool {
        self.outcome == "completed" && self.centre_acknowledged
    }
}

/// How the citizen identifies in a walked journey.
#[derive(Debug, Clone, Copy)]
pub enum Identification<'c> {
    /// The demo resident card.
    DemoCard,
    /// Another test card (its name for the transcript).
    Card(&'c str, &'c TestCard),
    /// A QR code shown to the scanner.
    Code(&'c str),
}

/// How long a page may take to move on by itself (card read, printing).
const DEVICE_WAIT: Duration = Duration::from_secs(15);
/// How long the face check (liveness challenge and match) may take.
const FACE_WAIT: Duration = Duration::from_secs(60);
const MAX_STEPS: usize = 40;

pub struct JourneyWalker<'a> {
    ui: &'a KioskUi,
    rig: &'a DemoRig,
    shots: Option<PathBuf>,
}

impl<'a> JourneyWalker<'a> {
    pub fn new(ui: &'a KioskUi, rig: &'a DemoRig, shots: Option<PathBuf>) -> Self {
        Self { ui, rig, shots }
    }

    fn page(&self) -> String {
        self.ui.window.global::<Kiosk>().get_page().to_string()
    }

    /// Pumps device results until the page is no longer `page` (or the busy flag drops).
    fn wait_while(&self, page: &str, until_continue: bool) -> bool {
        let deadline = Instant::now() + DEVICE_WAIT;
        while Instant::now() < deadline {
            self.ui.pump();
            let k = self.ui.window.global::<Kiosk>();
            if k.get_page() != page || (until_continue && k.get_can_continue()) {
                return true;
            }
            // The card writer asks for the citizen's card: the demo citizen inserts it.
            let detail = k.get_detail().to_string();
            if page == "processing" && (detail.contains("插入") || detail.contains("insert")) {
                self.rig.insert_citizen_card();
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        false
    }

    fn shot(&self, record: &mut JourneyRecord, name: &str) -> Result<(), String> {
        let Some(dir) = &self.shots else {
            return Ok(());
        };
        let file = format!(
            "{}{}-{}{}-{:02}-{name}.png",
            record.item_code,
            record
                .card
                .as_deref()
                .map(|c| format!("-{c}"))
                .unwrap_or_default(),
            record.language,
            if record.elder_mode { "-elder" } else { "" },
            record.screenshots.len() + 1,
        );
        self.ui.refresh();
        screenshot(&self.ui.window, &dir.join(&file))?;
        record.screenshots.push(file);
        Ok(())
    }

    fn tap(&self, id: &str) -> Result<(), String> {
        tap(&self.ui.window, id)?;
        self.ui.pump();
        Ok(())
    }

    /// Walks one item from the home screen to goodbye and back home, with the demo card.
    pub fn walk(&self, item_code: &str, language: Language, elder: bool) -> JourneyRecord {
        self.walk_identified(item_code, language, elder, Identification::DemoCard)
    }

    /// Like [`Self::walk`], identifying another way (another card, or a QR code).
    pub fn walk_identified(
        &self,
        item_code: &str,
        language: Language,
        elder: bool,
        identification: Identification<'_>,
    ) -> JourneyRecord {
        let mut record = JourneyRecord {
            card: match identification {
                Identification::DemoCard => None,
                Identification::Card(name, _) => Some(name.to_string()),
                Identification::Code(_) => Some("qr-code".to_string()),
            },
            item_code: item_code.to_string(),
            language: match language {
                Language::Zh => "zh".into(),
                Language::En => "en".into(),
            },
            elder_mode: elder,
            screens: Vec::new(),
            outcome: String::new(),
            transaction_id: None,
            centre_acknowledged: false,
            screenshots: Vec::new(),
            preview_fps: None,
        };
        match self.walk_inner(&mut record, language, elder, identification) {
            Ok(()) => record.outcome = "completed".into(),
            Err(e) => {
                record.outcome = e;
                let _ = self.shot(&mut record, "failure");
                let _ = tap(&self.ui.window, "btn-home");
                self.ui.pump();
            }
        }
        if let Some(id) = &record.transaction_id {
            record.centre_acknowledged = self.centre_has(id);
        }
        record
    }

    fn walk_inner(
        &self,
        record: &mut JourneyRecord,
        language: Language,
        elder: bool,
        identification: Identification<'_>,
    ) -> Result<(), String> {
        self.ui.pump();
        if self.page() != "home" {
            return Err(format!(
                "journey must start at home, not at {}",
                self.page()
            ));
        }
        if self.ui.runtime.borrow().controller.language() != language {
            self.tap("btn-lang")?;
        }
        let elder_now = self.ui.window.global::<crate::Settings>().get_elder();
        if elder_now != elder {
            self.tap("btn-elder")?;
        }
        record.screens.push("home".into());
        self.shot(record, "home")?;
        let tile = format!("item-{}", record.item_code);
        if !is_shown(&self.ui.window, &tile) {
            let department = self
                .ui
                .runtime
                .borrow()
                .controller
                .catalogue()
                .item(&record.item_code)
                .map(|i| i.department.clone())
                .unwrap_or_default();
            self.tap(&format!("dept-{department}"))?;
        }
        // Its devices may still be starting (a private CUPS queue, the camera) on a busy machine.
        // The generous limit is slack only: the long waits once seen were earlier kiosks left
        // running (fixed in `KioskUi`'s drop); a timeout says why the item is unavailable.
        let deadline = Instant::now() + Duration::from_secs(120);
        while let Some(why) = self.ui.why_unavailable(&record.item_code) {
            if Instant::now() >= deadline {
                let log = crate::app::recent_log::recent_lines(30).join("\n");
                return Err(format!("{why}\nrecent log:\n{log}"));
            }
            self.ui.pump();
            std::thread::sleep(Duration::from_millis(50));
        }
        self.tap(&tile)?;
        match identification {
            Identification::DemoCard => self.rig.present_card_again(),
            Identification::Card(_, card) => self.rig.present_card(card),
            // A code is shown once the kiosk asks for identification (a scanner reads it at once).
            Identification::Code(_) => {}
        }
        for _ in 0..MAX_STEPS {
            let page = self.page();
            if record.screens.last() != Some(&page) {
                record.screens.push(page.clone());
            }
            match page.as_str() {
                "guide" => {
                    self.shot(record, "guide")?;
                    self.tap("btn-begin")?;
                }
                "identify" => {
                    self.shot(record, "identify")?;
                    if let Identification::Code(code) = identification {
                        self.rig.show_code(code);
                    }
                    if !self.wait_while("identify", false) {
                        return Err("the ID card was not read in time".into());
                    }
                }
                "consent" | "face-consent" => {
                    self.shot(record, &page)?;
                    self.tap("btn-consent-agree")?;
                }
                "face" => self.watch_face_check(record)?,
                "face-options" | "staff" => {
                    let k = self.ui.window.global::<Kiosk>();
                    return Err(format!(
                        "face check: {}: {}",
                        k.get_headline(),
                        k.get_detail()
                    ));
                }
                "form" => {
                    self.fill_form()?;
                    self.shot(record, "form")?;
                    self.tap("btn-form-next")?;
                    if self.page() == "form" {
                        return Err("the form was not accepted".into());
                    }
                }
                "notice" => {
                    self.shot(record, "notice")?;
                    self.tap("btn-continue")?;
                }
                "delivery" => {
                    self.shot(record, "delivery")?;
                    self.tap("option-0")?;
                }
                "confirm" => {
                    self.shot(record, "confirm")?;
                    self.tap("btn-confirm")?;
                }
                "processing" => {
                    // Card and A4 steps show the device's stage; worth a picture.
                    if !self.ui.window.global::<Kiosk>().get_detail().is_empty() {
                        self.shot(record, "processing")?;
                    }
                    if !self.wait_while("processing", false) {
                        return Err("processing did not finish".into());
                    }
                }
                "receipt" => {
                    if !self.wait_while("receipt", true) {
                        return Err("the receipt was not printed in time".into());
                    }
                    self.shot(record, "receipt")?;
                    let k = self.ui.window.global::<Kiosk>();
                    if k.get_is_error() {
                        return Err(format!("receipt failed: {}", k.get_detail()));
                    }
                    record.transaction_id = Some(k.get_transaction_id().to_string());
                    self.tap("btn-continue")?;
                }
                "rate" => {
                    self.shot(record, "rate")?;
                    self.tap("rate-5")?;
                }
                "goodbye" => {
                    self.shot(record, "goodbye")?;
                    let id = self
                        .ui
                        .window
                        .global::<Kiosk>()
                        .get_transaction_id()
                        .to_string();
                    if !id.is_empty() {
                        record.transaction_id = Some(id);
                    }
                    self.tap("btn-finish")?;
                }
                "home" => return Ok(()),
                "message" => {
                    let k = self.ui.window.global::<Kiosk>();
                    return Err(format!("{}: {}", k.get_headline(), k.get_detail()));
                }
                other => return Err(format!("unexpected page {other}")),
            }
        }
        Err("journey did not end".into())
    }

    /// Pumps the face check until it ends, with a picture of the camera page once the face is
    /// outlined.
    fn watch_face_check(&self, record: &mut JourneyRecord) -> Result<(), String> {
        let started = Instant::now();
        let deadline = started + FACE_WAIT;
        let drawn_before = self.ui.preview_frames_drawn();
        let mut pictured = false;
        while Instant::now() < deadline {
            self.ui.pump();
            let k = self.ui.window.global::<Kiosk>();
            if k.get_page() != "face" {
                let drawn = self.ui.preview_frames_drawn() - drawn_before;
                let seconds = started.elapsed().as_secs_f32();
                if seconds > 1.0 {
                    record.preview_fps = Some(drawn as f32 / seconds);
                }
                return Ok(());
            }
            if !pictured && k.get_face_seen() {
                pictured = true;
                self.shot(record, "face")?;
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        Err("the face check did not end in time".into())
    }

    /// Types a valid answer into every field, tapping each field and the keypad.
    fn fill_form(&self) -> Result<(), String> {
        let fields = self.ui.window.global::<Kiosk>().get_fields();
        let specs = self.form_specs();
        for field in fields.iter() {
            let key = field.key.to_string();
            let spec = specs.iter().find(|(k, ..)| *k == key);
            tap_in_list(&self.ui.window, &format!("field-{key}"), "field-")?;
            self.ui.pump();
            match spec.map(|(_, t, min, _)| (t, *min)) {
                Some((FieldType::Choice, _)) => self.tap(&format!("choice-{key}-0"))?,
                Some((FieldType::Phone, _)) => self.type_digits("13800138000")?,
                Some((FieldType::Date, _)) => self.type_digits("20260115")?,
                Some((FieldType::Digits, min)) => {
                    let len = min.unwrap_or(4).max(1) as usize;
                    self.type_digits(&"6".repeat(len))?
                }
                None => return Err(format!("field {key} is not in the catalogue")),
            }
        }
        Ok(())
    }

    fn type_digits(&self, digits: &str) -> Result<(), String> {
        for d in digits.chars() {
            self.tap(&format!("key-{d}"))?;
        }
        Ok(())
    }

    /// Field key, type, min and max length of the current item's form fields.
    fn form_specs(&self) -> Vec<(String, FieldType, Option<u32>, Option<u32>)> {
        let rt = self.ui.runtime.borrow();
        let Some(session) = rt.controller.session() else {
            return Vec::new();
        };
        session
            .item()
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Form(form) => Some(form.fields.clone()),
                _ => None,
            })
            .flatten()
            .map(|f| (f.key, f.field_type, f.min_len, f.max_len))
            .collect()
    }

    /// Waits for the outbox to drain, then asks the centre whether it stored the transaction.
    fn centre_has(&self, transaction_id: &str) -> bool {
        self.ui
            .runtime
            .borrow()
            .wait_for_outbox_drained(Duration::from_secs(20));
        match self.rig.central_transactions() {
            Ok(list) => list.iter().any(|t| t.transaction_id == transaction_id),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the centre's transactions");
                false
            }
        }
    }
}

/// Writes `transcript.json` into `dir`.
pub fn write_transcript(dir: &Path, journeys: &[JourneyRecord]) -> Result<(), String> {
    let text = serde_json::to_string_pretty(&serde_json::json!({ "journeys": journeys }))
        .map_err(|e| e.to_string())?;
    std::fs::write(dir.join("transcript.json"), text).map_err(|e| format!("transcript: {e}"))
}

//! The kiosk controller: owns the current citizen session, turns the flow engine's effects into
//! calls on the device manager and the store, and device results and taps into flow events.
//! Knows nothing of Slint: the UI adapter draws [`KioskController::screen`].

mod diagnostics;
mod face;

use super::action::UiAction;
use super::catalogue_updater::CatalogueDelivery;
use super::clock::{AppClock, wall_clock_unix_ms};
use super::fault_watch::{FaultWatch, fault_code};
use super::health::KioskHealth;
use crate::devices::{DeviceEvent, DeviceManager, PrintPurpose};
use crate::receipt::encode_receipt;
use crate::ui::model::{HomeDepartment, HomeTile, HomeView, ScreenModel};
use diagnostics::StaffDesk;
use kiosk_core::catalogue::{Catalogue, FieldType, Item, UnavailableReason};
use kiosk_core::config::KioskConfig;
use kiosk_core::device::{DeviceClass, DevicePresence};
use kiosk_core::flow::{Effect, FlowEvent, Phase, Session, SessionContext};
use kiosk_core::text::{Language, LocalizedText};
use kiosk_protocol::wire::Consumable;
use kiosk_protocol::wire::EventKind;
use kiosk_services::store::{KioskStore, PrintoutKind};
use kiosk_services::sync::{KioskSnapshot, UploaderStatus};
use std::collections::VecDeque;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};

/// China Standard Time, for transaction dates and receipt times.
pub(crate) const UTC_OFFSET_MINUTES: i32 = 480;

pub struct KioskController {
    config: KioskConfig,
    catalogue: Catalogue,
    store: Arc<KioskStore>,
    devices: DeviceManager,
    clock: Arc<AppClock>,
    /// Called after every commit so the uploader sends at once.
    wake_uploader: Box<dyn Fn() + Send>,
    /// What the heartbeat thread reports; refreshed on every pump.
    snapshot: Arc<Mutex<KioskSnapshot>>,
    language: Language,
    elder_mode: bool,
    department: String,
    session: Option<Session>,
    active_field: usize,
    next_sequence: u32,
    /// Lasting bad device states → faults.
    watch: FaultWatch,
    /// Staff entry, PIN check and the diagnostics screens.
    staff: StaffDesk,
    /// The uploader's status, for the health screen (set by the runtime).
    sync_status: Option<Box<dyn Fn() -> Option<UploaderStatus> + Send>>,
    /// A newer catalogue from the centre, waiting for the current session to end.
    pending_catalogue: Option<Catalogue>,
    /// Catalogues the updater thread fetched and verified (or refused).
    catalogue_deliveries: Option<Receiver<CatalogueDelivery>>,
    /// The card photo and number for the face check, until the session's data is wiped.
    face: face::FaceState,
}

impl KioskController {
    pub fn new(
        config: KioskConfig,
        catalogue: Catalogue,
        store: Arc<KioskStore>,
        devices: DeviceManager,
        clock: Arc<AppClock>,
        wake_uploader: Box<dyn Fn() + Send>,
    ) -> Self {
        let language = default_language(&config);
        let elder_mode = config.ui.elder_mode;
        let watch = FaultWatch::new(u64::from(config.maintenance.fault_after_s) * 1000);
        let staff = StaffDesk::new(&config);
        let controller = Self {
            config,
            catalogue,
            store,
            devices,
            clock,
            wake_uploader,
            snapshot: Arc::new(Mutex::new(KioskSnapshot::default())),
            language,
            elder_mode,
            department: String::new(),
            session: None,
            active_field: 0,
            next_sequence: first_sequence_of_run(),
            watch,
            staff,
            sync_status: None,
            pending_catalogue: None,
            catalogue_deliveries: None,
            face: face::FaceState::default(),
        };
        controller.refresh_snapshot();
        controller
    }

    /// A newer catalogue from the centre (already verified and parsed): it replaces the
    /// current one at once when no citizen is in a session, otherwise when the session ends,
    /// so nobody's journey changes under them. An older or equal version is refused.
    pub fn offer_catalogue(&mut self, catalogue: Catalogue) -> Result<(), String> {
        let newest = self
            .pending_catalogue
            .as_ref()
            .map_or(self.catalogue.version, |c| {
                c.version.max(self.catalogue.version)
            });
        if catalogue.version <= newest {
            return Err(format!(
                "catalogue version {} is not newer than {newest}",
                catalogue.version
            ));
        }
        self.pending_catalogue = Some(catalogue);
        self.apply_pending_catalogue();
        Ok(())
    }

    /// Where the catalogue updater delivers (set by the runtime).
    pub fn set_catalogue_deliveries(&mut self, deliveries: Receiver<CatalogueDelivery>) {
        self.catalogue_deliveries = Some(deliveries);
    }

    /// Keeps and offers what the updater delivered; refusals are reported to the centre as
    /// audit events (`catalogue.refused`).
    fn take_catalogue_deliveries(&mut self) {
        let Some(deliveries) = &self.catalogue_deliveries else {
            return;
        };
        let delivered: Vec<CatalogueDelivery> = deliveries.try_iter().collect();
        for delivery in delivered {
            let refusal = match delivery {
                CatalogueDelivery::Verified { catalogue, stored } => {
                    let version = stored.version;
                    match self
                        .store
                        .save_catalogue(&stored)
                        .map_err(|e| e.to_string())
                        .and_then(|()| self.offer_catalogue(*catalogue))
                    {
                        Ok(()) => None,
                        Err(reason) => Some((Some(version), reason)),
                    }
                }
                CatalogueDelivery::Refused { version, reason } => Some((version, reason)),
            };
            if let Some((version, reason)) = refusal {
                tracing::warn!(?version, %reason, "catalogue from the centre refused");
                let detail = match version {
                    Some(v) => format!("version {v}: {reason}"),
                    None => reason,
                };
                if let Err(e) =
                    self.store
                        .audit("system", "catalogue.refused", &detail, self.clock.wall())
                {
                    tracing::error!(error = %e, "catalogue refusal not recorded");
                }
                (self.wake_uploader)();
            }
        }
    }

    /// A newer catalogue waiting for the session to end, if any.
    pub fn pending_catalogue_version(&self) -> Option<u32> {
        self.pending_catalogue.as_ref().map(|c| c.version)
    }

    /// The catalogue version in use.
    pub fn catalogue_version(&self) -> u32 {
        self.catalogue.version
    }

    fn apply_pending_catalogue(&mut self) {
        if self.session.is_some() {
            return;
        }
        if let Some(catalogue) = self.pending_catalogue.take() {
            tracing::info!(
                from = self.catalogue.version,
                to = catalogue.version,
                "catalogue replaced"
            );
            self.catalogue = catalogue;
            self.refresh_snapshot();
        }
    }

    /// Where the health screen reads the uploader's status.
    pub fn set_sync_status_source(
        &mut self,
        source: Box<dyn Fn() -> Option<UploaderStatus> + Send>,
    ) {
        self.sync_status = Some(source);
    }

    /// Outbox, sync, versions, disk and uptime, as the health screen and `kiosk diag` show them.
    pub fn health(&self, at: time::OffsetDateTime) -> KioskHealth {
        super::health::collect(
            &self.store,
            self.sync_status.as_ref().and_then(|f| f()),
            self.catalogue.version,
            Some(self.clock.now_ms() / 1000),
            at,
        )
    }

    /// Whether diagnostics mode (PIN screen included) is open.
    pub fn in_diagnostics(&self) -> bool {
        self.staff.active()
    }

    /// The member of staff logged in to diagnostics mode.
    pub fn staff_logged_in(&self) -> Option<&str> {
        self.staff.logged_in()
    }

    /// The figures the heartbeat reports, kept current by [`Self::pump`].
    pub fn heartbeat_snapshot(&self) -> Arc<Mutex<KioskSnapshot>> {
        Arc::clone(&self.snapshot)
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    pub fn clock(&self) -> &Arc<AppClock> {
        &self.clock
    }

    pub fn devices(&self) -> &DeviceManager {
        &self.devices
    }

    pub fn store(&self) -> &Arc<KioskStore> {
        &self.store
    }

    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    pub fn phase(&self) -> Option<Phase> {
        self.session.as_ref().map(Session::phase)
    }

    pub fn language(&self) -> Language {
        self.language
    }

    pub fn active_field(&self) -> usize {
        self.active_field
    }

    /// Devices present and usable now.
    pub fn presence(&self) -> DevicePresence {
        self.devices.presence()
    }

    /// Handles a tap.
    pub fn on_action(&mut self, action: UiAction) {
        let now = self.clock.now_ms();
        if self.staff.active() {
            match action {
                UiAction::Diag(a) => self.diag_action(&a, now),
                UiAction::ToggleLanguage => {
                    self.diag_touch(now);
                    self.language = match self.language {
                        Language::Zh => Language::En,
                        Language::En => Language::Zh,
                    };
                }
                UiAction::Activity => self.diag_touch(now),
                _ => {}
            }
            if !self.staff.active() {
                self.language = default_language(&self.config);
            }
            return;
        }
        match action {
            UiAction::TitleTap => self.title_tap(now),
            UiAction::Diag(_) => {}
            UiAction::OpenItem(code) => self.open_item(&code, now),
            UiAction::SelectDepartment(code) => self.department = code,
            UiAction::ToggleLanguage => {
                self.language = match self.language {
                    Language::Zh => Language::En,
                    Language::En => Language::Zh,
                };
                self.dispatch(FlowEvent::Activity, now);
            }
            UiAction::ToggleElder => {
                self.elder_mode = !self.elder_mode;
                self.dispatch(FlowEvent::Activity, now);
            }
            UiAction::Activity => self.dispatch(FlowEvent::Activity, now),
            UiAction::Begin => self.dispatch(FlowEvent::Begin, now),
            UiAction::Consent(true) => self.dispatch(FlowEvent::ConsentGiven, now),
            UiAction::Consent(false) => self.dispatch(FlowEvent::ConsentDeclined, now),
            UiAction::SelectField(index) => {
                self.active_field = index;
                self.dispatch(FlowEvent::Activity, now);
            }
            UiAction::Key(key) if self.phase() == Some(Phase::StaffAssist) => {
                self.staff_pin_key(&key, now)
            }
            UiAction::SubmitForm if self.phase() == Some(Phase::StaffAssist) => {
                self.staff_pin_submit(now)
            }
            UiAction::Key(key) => self.type_key(&key, now),
            UiAction::Choose { key, label } => self.choose(&key, &label, now),
            UiAction::SubmitForm => self.dispatch(FlowEvent::FormSubmitted, now),
            UiAction::Confirm => self.dispatch(FlowEvent::Confirmed, now),
            UiAction::Back => self.dispatch(FlowEvent::Back, now),
            UiAction::Rate(level) => self.dispatch(FlowEvent::Rated(level), now),
            UiAction::SkipRating => self.dispatch(FlowEvent::RatingSkipped, now),
            UiAction::Continue => self.dispatch(FlowEvent::Continue, now),
            UiAction::ChooseOption(index) => {
                let view = self.session.as_ref().map(|s| s.view(now));
                let Some(view) = view else { return };
                if let Some(option) = view.delivery_options.get(index).copied() {
                    self.dispatch(FlowEvent::DeliveryChosen(option), now);
                } else if let Some(option) = view.face_options.get(index).copied() {
                    self.dispatch(FlowEvent::FaceOptionChosen(option), now);
                }
            }
            UiAction::Retry => {
                self.devices.start_card_reading();
                self.dispatch(FlowEvent::Activity, now);
            }
            UiAction::GoHome => {
                if self.session.is_some() {
                    self.dispatch(FlowEvent::GoHome, now);
                }
                self.department.clear();
            }
            UiAction::Cancel => self.dispatch(FlowEvent::Cancel, now),
        }
    }

    /// Delivers device results and checks the countdown; call every ~100 ms.
    pub fn pump(&mut self) {
        let now = self.clock.now_ms();
        while let Some(event) = self.devices.try_next_event() {
            match event {
                DeviceEvent::ReceiptPaperUsed { mm } => self.used(Consumable::ReceiptPaper, mm),
                DeviceEvent::A4SheetsUsed { sheets } => self.used(Consumable::A4Paper, sheets),
                DeviceEvent::CardsUsed { cards } => self.used(Consumable::CardStock, cards),
                DeviceEvent::CardWriterTested(outcome) => self.diag_card_writer_tested(outcome),
                DeviceEvent::CardPhoto(photo) => self.face.card_photo = Some(photo),
                DeviceEvent::FaceChecked(record) => self.record_face_check(&record),
                DeviceEvent::CameraTested(outcome) => self.diag_camera_tested(outcome),
                DeviceEvent::Flow(flow_event) => {
                    if let FlowEvent::CardRead(applicant) = &flow_event {
                        self.face.id_number = Some(applicant.personal.id_number.clone());
                        self.face.card_type = Some(applicant.card_type.as_str().to_string());
                    }
                    if !self.diag_device_result(&flow_event) {
                        self.dispatch(flow_event, now);
                    }
                }
                DeviceEvent::DocumentPrinted(outcome) => self.diag_document_printed(outcome),
                DeviceEvent::CardCaptured {
                    transaction_id,
                    reason,
                } => {
                    // The transaction records that its card went to the bin (synced as audit).
                    let detail = format!("{transaction_id}: {reason}");
                    if let Err(e) =
                        self.store
                            .audit("system", "card.captured", &detail, self.clock.wall())
                    {
                        tracing::error!(error = %e, "captured card not recorded");
                    }
                    (self.wake_uploader)();
                }
                DeviceEvent::StatusChanged { class, usable } => {
                    let flow_event = if usable {
                        FlowEvent::DeviceRecovered { class }
                    } else {
                        FlowEvent::DeviceFault { class }
                    };
                    self.dispatch(flow_event, now);
                }
            }
        }
        self.dispatch(FlowEvent::Tick, now);
        self.take_catalogue_deliveries();
        self.apply_pending_catalogue();
        self.diag_tick(now);
        let at = self.clock.wall();
        let statuses = self.devices.statuses();
        self.watch
            .observe(&self.store, self.devices.present(), &statuses, now, at);
        self.watch.observe_dead_letters(&self.store, at);
        self.refresh_snapshot();
    }

    /// The camera preview of the face-check page (shared with the camera's worker).
    pub fn face_preview(&self) -> crate::devices::FacePreview {
        self.devices.face_preview()
    }

    /// What the screen shows now.
    pub fn screen(&self) -> ScreenModel {
        let now = self.clock.now_ms();
        let session = self.session.as_ref().map(|s| s.view(now));
        let guide = self
            .session
            .as_ref()
            .map(|s| guide_sections(s.item()))
            .unwrap_or_default();
        let channels = self
            .session
            .as_ref()
            .map(|s| other_channels(s.item()))
            .unwrap_or_default();
        ScreenModel {
            language: self.language,
            elder_mode: self.elder_mode,
            portrait: self.config.ui.orientation == kiosk_core::config::Orientation::Portrait,
            kiosk_name: self.config.kiosk.name.clone(),
            clock: kiosk_core::wall_clock::CivilTime::at(wall_clock_unix_ms(), UTC_OFFSET_MINUTES)
                .display_minutes(),
            home: self.home_view(),
            guide,
            channels,
            accepts_codes: self
                .session
                .as_ref()
                .is_some_and(|s| s.item().allowed_cards.iter().any(|c| c.is_code())),
            session,
            disinfection_note: self.disinfection_note(),
            diagnostics: self.diag_view(now),
            staff_pin: self.staff_pin_entry(),
        }
    }

    fn home_view(&self) -> HomeView {
        let presence = self.devices.presence();
        let availability = self.catalogue.availability(&presence);
        let in_department = |item: &Item| {
            if self.department.is_empty() {
                item.hot
            } else {
                item.department == self.department
            }
        };
        let tiles = self
            .catalogue
            .items
            .iter()
            .filter(|item| in_department(item))
            .map(|item| {
                let status = availability.iter().find(|a| a.code == item.code);
                HomeTile {
                    code: item.code.clone(),
                    name: item.name.clone(),
                    department: self
                        .catalogue
                        .department(&item.department)
                        .map(|d| d.name.clone())
                        .unwrap_or_default(),
                    available: status.is_some_and(|s| s.available),
                    reason: status.and_then(|s| s.reason.as_ref().map(|r| self.reason_text(r))),
                }
            })
            .collect();
        HomeView {
            tiles,
            departments: self
                .catalogue
                .departments
                .iter()
                .filter(|d| self.catalogue.items.iter().any(|i| i.department == d.code))
                .map(|d| HomeDepartment {
                    code: d.code.clone(),
                    name: d.name.clone(),
                })
                .collect(),
            selected_department: self.department.clone(),
        }
    }

    fn open_item(&mut self, code: &str, now: u64) {
        if self.session.is_some() {
            return;
        }
        let Some(item) = self.catalogue.item(code).cloned() else {
            tracing::warn!(code, "tap on an unknown item");
            return;
        };
        let presence = self.devices.presence();
        let available = self
            .catalogue
            .availability(&presence)
            .iter()
            .any(|a| a.code == code && a.available);
        if !available {
            return;
        }
        let mut timeouts = self.config.timeouts;
        if self.elder_mode {
            timeouts.step_s = timeouts.step_s.saturating_mul(3) / 2;
        }
        let ctx = SessionContext {
            kiosk_id: self.config.kiosk.id.clone(),
            catalogue_version: self.catalogue.version,
            timeouts,
            wall_clock_unix_ms: wall_clock_unix_ms(),
            utc_offset_minutes: UTC_OFFSET_MINUTES,
            sequence: self.next_sequence,
            devices: presence,
            service_phone: self.config.kiosk.service_phone.clone(),
        };
        self.next_sequence += 1;
        self.active_field = 0;
        tracing::info!(item = code, "session started");
        let (session, effects) = Session::start(&item, ctx, now);
        self.session = Some(session);
        self.run_effects(effects, now);
    }

    fn type_key(&mut self, key: &str, now: u64) {
        let Some(session) = &self.session else { return };
        let view = session.view(now);
        let Some(field) = view.form_fields.get(self.active_field) else {
            return;
        };
        let mut value: String = match field.field_type {
            FieldType::Date => field.value.chars().filter(char::is_ascii_digit).collect(),
            _ => field.value.clone(),
        };
        match key {
            "back" => {
                value.pop();
            }
            "clear" => value.clear(),
            digit if digit.len() == 1 && digit.chars().all(|c| c.is_ascii_digit()) => {
                let limit = match field.field_type {
                    FieldType::Phone => 11,
                    FieldType::Date => 8,
                    _ => field.max_len.unwrap_or(32) as usize,
                };
                if value.chars().count() < limit {
                    value.push_str(digit);
                }
            }
            _ => return,
        }
        if field.field_type == FieldType::Date {
            value = format_date_digits(&value);
        }
        let key = field.key.clone();
        self.dispatch(FlowEvent::FormInput { key, value }, now);
    }

    fn choose(&mut self, key: &str, label: &str, now: u64) {
        let Some(session) = &self.session else { return };
        let view = session.view(now);
        let value = view
            .form_fields
            .iter()
            .find(|f| f.key == key)
            .and_then(|f| {
                f.choices
                    .iter()
                    .find(|c| c.label.get(self.language) == label)
                    .map(|c| c.value.clone())
            });
        if let Some(value) = value {
            self.dispatch(
                FlowEvent::FormInput {
                    key: key.to_string(),
                    value,
                },
                now,
            );
        }
    }

    fn dispatch(&mut self, event: FlowEvent, now: u64) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        let effects = session.handle(event, now);
        self.run_effects(effects, now);
    }

    fn run_effects(&mut self, effects: Vec<Effect>, now: u64) {
        let mut queue: VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            let follow_up = self.run_effect(effect);
            if let (Some(event), Some(session)) = (follow_up, self.session.as_mut()) {
                queue.extend(session.handle(event, now));
            }
        }
        if self.phase() != Some(Phase::Form) {
            self.active_field = 0;
        }
    }

    /// Carries out one effect; returns the flow event it produced at once, if any.
    fn run_effect(&mut self, effect: Effect) -> Option<FlowEvent> {
        match effect {
            Effect::StartCardReading => self.devices.start_card_reading(),
            Effect::StopCardReading => self.devices.stop_card_reading(),
            Effect::CommitSubmission { record, personal } => {
                let id = record.transaction_id.clone();
                return Some(
                    match self.store.commit_transaction(&record, personal.as_ref()) {
                        Ok(_) => {
                            tracing::info!(transaction = %id, item = %record.item_code, "transaction committed");
                            (self.wake_uploader)();
                            FlowEvent::SubmitCommitted { transaction_id: id }
                        }
                        Err(e) => {
                            tracing::error!(transaction = %id, error = %e, "commit failed");
                            FlowEvent::SubmitFailed {
                                reason: e.to_string(),
                            }
                        }
                    },
                );
            }
            Effect::PrintReceipt(content) => {
                self.save_printout(&content.transaction_id, PrintoutKind::Receipt, &content);
                let bytes = encode_receipt(&content, self.language);
                self.devices.print_receipt(bytes);
            }
            Effect::PrintDocument(content) => {
                self.save_printout(&content.transaction_id, PrintoutKind::Document, &content);
                if !self
                    .devices
                    .present()
                    .contains(&DeviceClass::DocumentPrinter)
                {
                    return Some(FlowEvent::StepFailed {
                        reason: "this kiosk has no A4 printer".into(),
                    });
                }
                self.devices
                    .print_document(content, self.language, PrintPurpose::Session);
            }
            Effect::RecordRating(rating) => {
                self.enqueue(EventKind::Rating, serde_json::to_value(&rating).ok());
            }
            Effect::RecordAbandoned { record } => {
                if let Err(e) = self.store.commit_transaction(&record, None) {
                    tracing::error!(error = %e, "recording an abandoned session failed");
                } else {
                    (self.wake_uploader)();
                }
            }
            Effect::RaiseDeviceFault { class, during_step } => {
                let statuses = self.devices.statuses();
                let status = statuses.get(&class);
                let code = status
                    .filter(|s| !s.is_usable())
                    .map(fault_code)
                    .unwrap_or_else(|| "step_failed".into());
                tracing::warn!(
                    device = class.as_str(),
                    step = during_step.as_str(),
                    "device fault during a session"
                );
                self.watch
                    .open_fault(&self.store, class, &code, status, self.clock.wall());
                (self.wake_uploader)();
            }
            Effect::StartFaceCheck { remote } => self.start_face_check(remote),
            Effect::StopFaceCheck => self.devices.stop_face_check(),
            Effect::CallStaff => self.call_staff(),
            Effect::OperateCard(order) => {
                if !self.devices.present().contains(&DeviceClass::CardWriter) {
                    return Some(FlowEvent::StepFailed {
                        reason: "this kiosk has no card writer".into(),
                    });
                }
                self.devices.operate_card(order);
            }
            Effect::WipePersonalData => {
                self.devices.stop_card_reading();
                self.face = face::FaceState::default();
            }
            Effect::ReturnHome => {
                tracing::info!("session ended, back to home");
                self.session = None;
                self.active_field = 0;
                self.department.clear();
                self.language = default_language(&self.config);
                self.elder_mode = self.config.ui.elder_mode;
            }
        }
        None
    }

    /// Keeps what is printed for a transaction so staff can reprint it (masked content only).
    fn save_printout<T: serde::Serialize>(
        &self,
        transaction_id: &str,
        kind: PrintoutKind,
        content: &T,
    ) {
        let saved = serde_json::to_value(content)
            .map_err(|e| e.to_string())
            .and_then(|json| {
                self.store
                    .save_printout(transaction_id, kind, self.language.code(), &json)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = saved {
            tracing::error!(error = %e, "printout not kept for reprinting");
        }
    }

    /// Counts supplies the devices used (paper length, A4 sheets, blank cards).
    fn used(&self, consumable: Consumable, amount: u32) {
        if let Err(e) = self.store.consume(consumable, amount, self.clock.wall()) {
            tracing::error!(consumable = consumable.as_str(), error = %e, "supply use not counted");
        }
    }

    /// Why an item cannot be done, naming the supply that ran out when that is the cause.
    fn reason_text(&self, reason: &UnavailableReason) -> LocalizedText {
        use kiosk_drivers::status::{CardStock, StatusDetail};
        if let UnavailableReason::DeviceFaulty(class) = reason
            && let Some(status) = self.devices.statuses().get(class)
        {
            let name = class.display_name();
            if matches!(
                status.detail,
                StatusDetail::CardWriter {
                    stock: CardStock::Empty,
                    ..
                }
            ) {
                return LocalizedText::new(
                    "空白卡已用完，请到其他自助机或窗口办理",
                    "Blank cards have run out; please use another kiosk or a service counter",
                );
            }
            if status.paper() == Some(kiosk_drivers::status::PaperLevel::Out) {
                return LocalizedText::new(
                    format!("{}缺纸，请到其他自助机或窗口办理", name.zh),
                    format!(
                        "The {} is out of paper; please use another kiosk or a service counter",
                        name.en
                    ),
                );
            }
        }
        reason.text()
    }

    fn enqueue(&self, kind: EventKind, payload: Option<serde_json::Value>) {
        let Some(payload) = payload else { return };
        match self.store.enqueue_event(kind, &payload, None) {
            Ok(_) => (self.wake_uploader)(),
            Err(e) => tracing::error!(kind = kind.as_str(), error = %e, "event not queued"),
        }
    }

    fn refresh_snapshot(&self) {
        let presence = self.devices.presence();
        let availability = self.catalogue.availability(&presence);
        let snapshot = KioskSnapshot {
            catalogue_version: self.catalogue.version,
            devices: self.devices.reports(),
            items_offered: availability.len() as u32,
            items_available: availability.iter().filter(|a| a.available).count() as u32,
            unavailable_items: availability
                .iter()
                .filter(|a| !a.available)
                .map(|a| a.code.clone())
                .collect(),
        };
        if let Ok(mut current) = self.snapshot.lock() {
            *current = snapshot;
        }
    }
}

/// Shows typed date digits as `YYYY-MM-DD` while they are typed (`2026112` → `2026-11-2`).
fn format_date_digits(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i == 4 || i == 6 {
            out.push('-');
        }
        out.push(c);
    }
    out
}

fn default_language(config: &KioskConfig) -> Language {
    config.ui.language
}

/// Transaction sequence numbers continue from the time of day the kiosk started (tenths of a
/// second since local midnight), so a restart never reuses an id of the same day.
fn first_sequence_of_run() -> u32 {
    let local_ms = wall_clock_unix_ms() + i64::from(UTC_OFFSET_MINUTES) * 60_000;
    (local_ms.rem_euclid(86_400_000) / 100) as u32
}

/// The item's other channels as (label, URL), for QR codes.
fn other_channels(item: &Item) -> Vec<(LocalizedText, String)> {
    let t = LocalizedText::new;
    let c = &item.channels;
    [
        (t("网上办理", "Online"), &c.online),
        (t("手机办理", "Mobile app"), &c.app),
        (t("邮寄办理", "By mail"), &c.mail),
    ]
    .into_iter()
    .filter_map(|(label, url)| url.as_ref().map(|u| (label, u.clone())))
    .collect()
}

fn guide_sections(item: &Item) -> Vec<(LocalizedText, LocalizedText)> {
    let g = &item.guide;
    let t = LocalizedText::new;
    [
        (t("办理条件", "Who can apply"), &g.conditions),
        (t("所需材料", "What to bring"), &g.materials),
        (t("收费标准", "Fee"), &g.fee),
        (t("办理时限", "Time limit"), &g.time_limit),
        (
            t("结果送达", "How you receive the result"),
            &g.result_delivery,
        ),
        (t("设定依据", "Legal basis"), &g.legal_basis),
    ]
    .into_iter()
    .filter(|(_, body)| !body.zh.is_empty())
    .map(|(title, body)| (title, body.clone()))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::format_date_digits;

    #[test]
    fn date_digits_are_shown_with_dashes() {
        assert_eq!(format_date_digits("2026"), "2026");
        assert_eq!(format_date_digits("20261"), "2026-1");
        assert_eq!(format_date_digits("20261130"), "2026-11-30");
    }
}

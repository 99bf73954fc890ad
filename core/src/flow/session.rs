//! The transitions of one citizen session.

use super::SessionContext;
use super::effect::{CardOrder, DocumentContent, Effect, PrintedQr, ReceiptContent, ReceiptLine};
use super::event::{Applicant, FlowEvent};
use super::form_check;
use super::messages::Messages;
use super::phase::Phase;
use super::view::{FlowMessage, FormFieldView, NoticeView, SessionView};
use crate::catalogue::{
    DeliveryOption, DocumentLayout, FormField, Item, RowSource, Step, StepKind,
};
use crate::device::{DeviceClass, DevicePresence};
use crate::text::LocalizedText;
use crate::wall_clock::{CivilTime, rfc3339_utc};
use kiosk_protocol::wire::{MaskedApplicant, RatingRecord, TransactionOutcome, TransactionRecord};
use std::collections::BTreeMap;

mod face;

/// One citizen session for one item.
///
/// Personal data: the full [`Applicant`] is kept from the card read until the submission is
/// handed over (`CommitSubmission`) or the session is wiped; after that only the masked form
/// remains, and after `WipePersonalData` nothing personal at all.
#[derive(Debug, Clone)]
pub struct Session {
    item: Item,
    ctx: SessionContext,
    transaction_id: String,
    phase: Phase,
    /// Index into `item.steps`; `None` on the guide.
    step: Option<usize>,
    started_ms: u64,
    deadline_ms: Option<u64>,
    applicant: Option<Applicant>,
    masked: Option<MaskedApplicant>,
    form_values: BTreeMap<String, String>,
    form_errors: BTreeMap<String, LocalizedText>,
    delivery: Option<DeliveryOption>,
    visited: Vec<StepKind>,
    began: bool,
    committed: bool,
    wiped: bool,
    message: Option<FlowMessage>,
    /// The latest stage of the device work in progress.
    progress: Option<LocalizedText>,
    devices: DevicePresence,
    rating: Option<u8>,
    /// Face checks run in the current `face_check` step.
    face_attempts: u8,
    /// Whether the face check in progress (or the last one) asks the centre.
    face_remote: bool,
}

impl Session {
    /// Opens the item guide. The returned effects are empty today; callers should still carry
    /// them out.
    pub fn start(item: &Item, ctx: SessionContext, now_ms: u64) -> (Session, Vec<Effect>) {
        let transaction_id = ctx.transaction_id();
        let devices = ctx.devices.clone();
        let mut session = Session {
            item: item.clone(),
            ctx,
            transaction_id,
            phase: Phase::Guide,
            step: None,
            started_ms: now_ms,
            deadline_ms: None,
            applicant: None,
            masked: None,
            form_values: BTreeMap::new(),
            form_errors: BTreeMap::new(),
            delivery: None,
            visited: Vec::new(),
            began: false,
            committed: false,
            wiped: false,
            message: None,
            progress: None,
            devices,
            rating: None,
            face_attempts: 0,
            face_remote: false,
        };
        let mut effects = Vec::new();
        session.set_phase(Phase::Guide, now_ms, &mut effects);
        (session, effects)
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The item this session is for.
    pub fn item(&self) -> &Item {
        &self.item
    }

    /// Whether the session has ended (the app has been told to return home).
    pub fn is_over(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// Applies one event; returns what the app must do, in order. Events that make no sense
    /// in the current phase are ignored (no effects).
    pub fn handle(&mut self, event: FlowEvent, now_ms: u64) -> Vec<Effect> {
        let mut fx = Vec::new();
        if self.phase == Phase::Finished {
            return fx;
        }
        match event {
            FlowEvent::Tick => {
                if self.deadline_ms.is_some_and(|d| now_ms >= d) {
                    self.on_timeout(now_ms, &mut fx);
                }
            }
            FlowEvent::Activity => {
                if !self.phase.is_busy() {
                    self.restart_countdown(now_ms);
                }
            }
            FlowEvent::DeviceFault { class } => self.on_device_fault(class, now_ms, &mut fx),
            FlowEvent::DeviceRecovered { class } => self.devices.set_faulty(class, false),
            FlowEvent::Cancel | FlowEvent::GoHome => self.on_leave(now_ms, &mut fx),
            FlowEvent::Back => self.on_back(now_ms, &mut fx),
            FlowEvent::DeviceProgress(note) => {
                if matches!(
                    self.phase,
                    Phase::PrintingDocument | Phase::CardOperation | Phase::FaceCheck
                ) {
                    self.progress = Some(note);
                    self.restart_countdown(now_ms);
                }
            }
            other => self.on_phase_event(other, now_ms, &mut fx),
        }
        fx
    }

    /// Everything the UI shows at `now_ms`.
    pub fn view(&self, now_ms: u64) -> SessionView {
        let countdown = self.countdown_visible();
        let seconds_left = match (countdown, self.deadline_ms) {
            (true, Some(deadline)) => Some(deadline.saturating_sub(now_ms).div_ceil(1000) as u32),
            _ => None,
        };
        let warning = seconds_left.is_some_and(|s| s <= self.ctx.timeouts.warning_s);
        let step = self.current_step();
        SessionView {
            phase: self.phase,
            item_code: self.item.code.clone(),
            item_name: self.item.name.clone(),
            department_name: self.item.department_name.clone(),
            step_kind: step.map(Step::kind),
            step_number: self.step.map_or(0, |i| i + 1),
            step_count: self.item.steps.len(),
            seconds_left,
            warning,
            applicant: self.masked.clone(),
            form_fields: match (self.phase, step) {
                (Phase::Form, Some(Step::Form(form))) => {
                    form.fields.iter().map(|f| self.field_view(f)).collect()
                }
                _ => Vec::new(),
            },
            consent_text: match (self.phase, step) {
                (Phase::Consent, Some(Step::Consent(c))) => {
                    Some(c.text.clone().unwrap_or_else(default_consent_text))
                }
                (Phase::FaceConsent, Some(Step::FaceCheck(f))) => Some(face::consent_text(f)),
                _ => None,
            },
            face_options: match (self.phase, step) {
                (Phase::FaceAlternatives, Some(Step::FaceCheck(f))) => self.face_options(f),
                _ => Vec::new(),
            },
            notice: match (self.phase, step) {
                (Phase::Notice, Some(Step::Notice(n))) => Some(NoticeView {
                    title: n.title.clone(),
                    text: n.text.clone(),
                }),
                _ => None,
            },
            summary: if self.phase == Phase::Confirm {
                self.answer_lines(false)
            } else {
                Vec::new()
            },
            delivery_options: match (self.phase, step) {
                (Phase::Delivery, Some(Step::Delivery(d))) => d.options.clone(),
                _ => Vec::new(),
            },
            delivery: self.delivery,
            message: self.message.clone(),
            progress: self.progress.clone(),
            transaction_id: self.committed.then(|| self.transaction_id.clone()),
            rating: self.rating,
            can_go_back: self.can_go_back(),
            can_cancel: !self.phase.is_busy() && self.phase != Phase::Finished,
            is_over: self.phase == Phase::Finished,
        }
    }

    // ----- phase-specific events -------------------------------------------------------------

    fn on_phase_event(&mut self, event: FlowEvent, now: u64, fx: &mut Vec<Effect>) {
        match (self.phase, event) {
            (Phase::Guide, FlowEvent::Begin) => {
                self.began = true;
                self.enter_step(0, now, fx);
            }
            (Phase::IdentifyWaiting | Phase::IdentifyFailed, FlowEvent::CardPresent) => {
                self.message = None;
                self.set_phase(Phase::IdentifyReading, now, fx);
            }
            (
                Phase::IdentifyWaiting | Phase::IdentifyReading | Phase::IdentifyFailed,
                FlowEvent::CardRead(applicant),
            ) => {
                if self.item.allowed_cards.contains(&applicant.card_type) {
                    self.masked = Some(applicant.masked());
                    self.applicant = Some(applicant);
                    self.message = None;
                    self.advance(now, fx);
                } else {
                    self.message = Some(self.messages().card_not_accepted(applicant.card_type));
                    self.set_phase(Phase::IdentifyFailed, now, fx);
                }
            }
            (
                Phase::IdentifyWaiting | Phase::IdentifyReading | Phase::IdentifyFailed,
                FlowEvent::CardReadFailed(failure),
            ) => {
                self.message = Some(self.messages().card_read_failed(failure));
                self.set_phase(Phase::IdentifyFailed, now, fx);
            }
            (Phase::Consent, FlowEvent::ConsentGiven) => self.advance(now, fx),
            (Phase::Consent, FlowEvent::ConsentDeclined) => {
                self.abandon(TransactionOutcome::Cancelled, now, fx)
            }
            (
                Phase::FaceConsent
                | Phase::FaceCheck
                | Phase::FaceAlternatives
                | Phase::StaffAssist,
                event,
            ) => self.on_face_event(event, now, fx),
            (Phase::Form, FlowEvent::FormInput { key, value }) => {
                if self.current_form_fields().iter().any(|f| f.key == key) {
                    self.form_errors.remove(&key);
                    self.form_values.insert(key, value);
                }
                self.restart_countdown(now);
            }
            (Phase::Form, FlowEvent::FormSubmitted) => self.submit_form(now, fx),
            (Phase::Notice, FlowEvent::Continue) => self.advance(now, fx),
            (Phase::Delivery, FlowEvent::DeliveryChosen(option)) => {
                if let Some(Step::Delivery(d)) = self.current_step()
                    && d.options.contains(&option)
                {
                    self.delivery = Some(option);
                    self.advance(now, fx);
                }
            }
            (Phase::Confirm, FlowEvent::Confirmed) => self.commit(now, fx),
            (Phase::Processing, FlowEvent::SubmitCommitted { transaction_id }) => {
                self.committed = true;
                self.transaction_id = transaction_id;
                // Handed to the store; only the masked form stays.
                self.applicant = None;
                self.advance(now, fx);
            }
            (Phase::Processing, FlowEvent::SubmitFailed { .. }) => {
                let message = self.messages().submit_failed();
                self.fail_before_commit(message, now, fx);
            }
            (Phase::PrintingReceipt, FlowEvent::ReceiptPrinted) => {
                self.set_phase(Phase::ReceiptPrinted, now, fx)
            }
            (Phase::PrintingReceipt, FlowEvent::ReceiptFailed { .. }) => {
                self.result_failed(DeviceClass::ReceiptPrinter, true, now, fx)
            }
            (
                Phase::ReceiptPrinted | Phase::ReceiptFailed | Phase::ResultFailed,
                FlowEvent::Continue,
            ) => {
                self.message = None;
                self.advance(now, fx);
            }
            (Phase::PrintingDocument | Phase::CardOperation, FlowEvent::StepCompleted) => {
                self.advance(now, fx)
            }
            (Phase::PrintingDocument, FlowEvent::StepFailed { .. }) => {
                self.result_failed(DeviceClass::DocumentPrinter, true, now, fx)
            }
            (Phase::CardOperation, FlowEvent::StepFailed { .. }) => {
                self.result_failed(DeviceClass::CardWriter, true, now, fx)
            }
            (
                Phase::PrintingDocument | Phase::CardOperation,
                FlowEvent::StepRefused { message },
            ) => {
                let kind = self.current_kind().unwrap_or(StepKind::Card);
                let mut shown = self.messages().result_failed(kind, &self.transaction_id);
                shown.title = message;
                self.message = Some(shown);
                self.set_phase(Phase::ResultFailed, now, fx);
            }
            (Phase::Rate, FlowEvent::Rated(level)) if (1..=5).contains(&level) => {
                self.rating = Some(level);
                self.record_rating(Some(level), now, fx);
                self.advance(now, fx);
            }
            (Phase::Rate, FlowEvent::RatingSkipped) => {
                self.record_rating(None, now, fx);
                self.advance(now, fx);
            }
            (Phase::Goodbye | Phase::Failed, FlowEvent::Continue) => self.finish(now, fx),
            _ => {}
        }
    }

    // ----- steps ------------------------------------------------------------------------------

    fn current_step(&self) -> Option<&Step> {
        self.step.and_then(|i| self.item.steps.get(i))
    }

    fn current_kind(&self) -> Option<StepKind> {
        self.current_step().map(Step::kind)
    }

    fn advance(&mut self, now: u64, fx: &mut Vec<Effect>) {
        let next = self.step.map_or(0, |i| i + 1);
        self.enter_step(next, now, fx);
    }

    /// Enters step `index`, or the goodbye screen after the last step.
    fn enter_step(&mut self, index: usize, now: u64, fx: &mut Vec<Effect>) {
        let Some(step) = self.item.steps.get(index).cloned() else {
            self.step = None;
            self.message = None;
            self.wipe(fx);
            self.set_phase(Phase::Goodbye, now, fx);
            return;
        };
        self.step = Some(index);
        let kind = step.kind();
        self.visited.push(kind);
        self.form_errors.clear();

        if let Some(class) = kind.required_device()
            && !self.devices.is_usable(class)
        {
            if self.committed {
                self.result_failed(class, false, now, fx);
            } else {
                let message = self.messages().device_unavailable(class);
                self.fail_before_commit(message, now, fx);
            }
            return;
        }

        match step {
            Step::Identify => {
                self.applicant = None;
                self.masked = None;
                self.message = None;
                self.set_phase(Phase::IdentifyWaiting, now, fx);
                fx.push(Effect::StartCardReading);
            }
            Step::Consent(_) => self.set_phase(Phase::Consent, now, fx),
            Step::FaceCheck(_) => {
                self.face_attempts = 0;
                self.message = None;
                self.set_phase(Phase::FaceConsent, now, fx);
            }
            Step::Form(_) => self.set_phase(Phase::Form, now, fx),
            Step::Notice(_) => self.set_phase(Phase::Notice, now, fx),
            Step::Delivery(_) => self.set_phase(Phase::Delivery, now, fx),
            Step::Submit => {
                if self.committed {
                    // A catalogue has one submit; a second one is skipped defensively.
                    self.advance(now, fx);
                } else {
                    self.set_phase(Phase::Confirm, now, fx);
                }
            }
            Step::PrintReceipt(receipt) => {
                self.set_phase(Phase::PrintingReceipt, now, fx);
                fx.push(Effect::PrintReceipt(self.receipt(&receipt, now)));
            }
            Step::PrintDocument(doc) => {
                self.set_phase(Phase::PrintingDocument, now, fx);
                match doc.layout.as_deref() {
                    Some(layout) => fx.push(Effect::PrintDocument(self.document(layout, now))),
                    // Only a catalogue built by hand, not loaded, lacks the layout.
                    None => self.result_failed(DeviceClass::DocumentPrinter, false, now, fx),
                }
            }
            Step::Card(card) => {
                self.set_phase(Phase::CardOperation, now, fx);
                let order = self.card_order(&card, now);
                fx.push(Effect::OperateCard(order));
            }
            Step::Rate => self.set_phase(Phase::Rate, now, fx),
        }
    }

    fn current_form_fields(&self) -> &[FormField] {
        match self.current_step() {
            Some(Step::Form(form)) => &form.fields,
            _ => &[],
        }
    }

    fn submit_form(&mut self, now: u64, fx: &mut Vec<Effect>) {
        let errors: BTreeMap<String, LocalizedText> = self
            .current_form_fields()
            .iter()
            .filter_map(|field| {
                let value = self.form_values.get(&field.key).map_or("", String::as_str);
                form_check::check_field(field, value)
                    .err()
                    .map(|e| (field.key.clone(), e))
            })
            .collect();
        if errors.is_empty() {
            for field in self.current_form_fields().to_vec() {
                if let Some(v) = self.form_values.get_mut(&field.key) {
                    *v = v.trim().to_string();
                }
            }
            self.advance(now, fx);
        } else {
            self.form_errors = errors;
            self.restart_countdown(now);
        }
    }

    fn commit(&mut self, now: u64, fx: &mut Vec<Effect>) {
        let mut record = self.record(TransactionOutcome::Completed, now);
        record.applicant = self.masked.clone();
        record.form = self.masked_answers();
        self.set_phase(Phase::Processing, now, fx);
        fx.push(Effect::CommitSubmission {
            record,
            personal: self.applicant.as_ref().map(|a| a.personal.clone()),
        });
    }

    // ----- leaving, failing, timing out ---------------------------------------------------

    fn on_leave(&mut self, now: u64, fx: &mut Vec<Effect>) {
        match self.phase {
            p if p.is_busy() => {}
            Phase::Guide | Phase::Goodbye | Phase::Failed => self.finish(now, fx),
            Phase::Rate => {
                self.record_rating(None, now, fx);
                self.finish(now, fx);
            }
            _ if self.committed => self.finish(now, fx),
            _ => self.abandon(TransactionOutcome::Cancelled, now, fx),
        }
    }

    fn on_timeout(&mut self, now: u64, fx: &mut Vec<Effect>) {
        match self.phase {
            Phase::Processing => {
                // The store did not answer in time. The outcome is unknown to the session (the
                // app knows), so nothing is recorded; the citizen gets the number to quote.
                let message = self.messages().submit_unconfirmed(&self.transaction_id);
                self.message = Some(message);
                self.wipe(fx);
                self.set_phase(Phase::Failed, now, fx);
            }
            Phase::PrintingReceipt => {
                self.result_failed(DeviceClass::ReceiptPrinter, true, now, fx)
            }
            Phase::PrintingDocument => {
                self.result_failed(DeviceClass::DocumentPrinter, true, now, fx)
            }
            Phase::CardOperation => self.result_failed(DeviceClass::CardWriter, true, now, fx),
            Phase::Guide | Phase::Goodbye | Phase::Failed => self.finish(now, fx),
            Phase::Rate => {
                self.record_rating(None, now, fx);
                self.finish(now, fx);
            }
            _ if self.committed => self.finish(now, fx),
            _ => self.abandon(TransactionOutcome::TimedOut, now, fx),
        }
    }

    fn on_device_fault(&mut self, class: DeviceClass, now: u64, fx: &mut Vec<Effect>) {
        self.devices.add(class);
        self.devices.set_faulty(class, true);
        let needs_it = self.current_kind().and_then(StepKind::required_device) == Some(class);
        if !needs_it {
            return;
        }
        match self.phase {
            Phase::IdentifyWaiting
            | Phase::IdentifyReading
            | Phase::IdentifyFailed
            | Phase::FaceConsent
            | Phase::FaceCheck
            | Phase::FaceAlternatives => {
                if let Some(step) = self.current_kind() {
                    fx.push(Effect::RaiseDeviceFault {
                        class,
                        during_step: step,
                    });
                }
                let message = self.messages().device_fault(class);
                self.fail_before_commit(message, now, fx);
            }
            Phase::PrintingReceipt | Phase::PrintingDocument | Phase::CardOperation => {
                self.result_failed(class, true, now, fx)
            }
            _ => {}
        }
    }

    fn on_back(&mut self, now: u64, fx: &mut Vec<Effect>) {
        if !self.can_go_back() {
            return;
        }
        match self.step {
            Some(0) | None => {
                self.step = None;
                self.message = None;
                self.applicant = None;
                self.masked = None;
                self.set_phase(Phase::Guide, now, fx);
            }
            Some(i) => self.enter_step(i - 1, now, fx),
        }
    }

    fn can_go_back(&self) -> bool {
        !self.committed
            && matches!(
                self.phase,
                Phase::IdentifyWaiting
                    | Phase::IdentifyReading
                    | Phase::IdentifyFailed
                    | Phase::Consent
                    | Phase::FaceConsent
                    | Phase::FaceCheck
                    | Phase::FaceAlternatives
                    | Phase::StaffAssist
                    | Phase::Form
                    | Phase::Notice
                    | Phase::Delivery
                    | Phase::Confirm
            )
    }

    /// Ends a session that did not submit: record (if the citizen got past the guide), wipe,
    /// home.
    fn abandon(&mut self, outcome: TransactionOutcome, now: u64, fx: &mut Vec<Effect>) {
        self.record_abandoned(outcome, now, fx);
        self.finish(now, fx);
    }

    /// A failure before the commit: the session ends on the failure page.
    fn fail_before_commit(&mut self, message: FlowMessage, now: u64, fx: &mut Vec<Effect>) {
        self.record_abandoned(TransactionOutcome::Failed, now, fx);
        self.wipe(fx);
        self.message = Some(message);
        self.set_phase(Phase::Failed, now, fx);
    }

    /// A device result failed after the commit: the transaction stands; the citizen is told
    /// the number and continues.
    fn result_failed(&mut self, class: DeviceClass, raise: bool, now: u64, fx: &mut Vec<Effect>) {
        let kind = self.current_kind().unwrap_or(StepKind::PrintReceipt);
        if raise {
            fx.push(Effect::RaiseDeviceFault {
                class,
                during_step: kind,
            });
        }
        let messages = self.messages();
        let (phase, message) = if kind == StepKind::PrintReceipt {
            (
                Phase::ReceiptFailed,
                messages.receipt_failed(&self.transaction_id),
            )
        } else {
            (
                Phase::ResultFailed,
                messages.result_failed(kind, &self.transaction_id),
            )
        };
        self.message = Some(message);
        self.set_phase(phase, now, fx);
    }

    fn record_abandoned(&mut self, outcome: TransactionOutcome, now: u64, fx: &mut Vec<Effect>) {
        if !self.began || self.committed {
            return;
        }
        let mut record = self.record(outcome, now);
        record.abandoned_at_step = Some(
            self.current_kind()
                .map_or("guide", StepKind::as_str)
                .to_string(),
        );
        fx.push(Effect::RecordAbandoned { record });
    }

    fn record_rating(&mut self, rating: Option<u8>, now: u64, fx: &mut Vec<Effect>) {
        if !self.committed {
            return;
        }
        fx.push(Effect::RecordRating(RatingRecord {
            transaction_id: self.transaction_id.clone(),
            item_code: self.item.code.clone(),
            rating,
            rated_at: rfc3339_utc(self.wall_ms(now)),
        }));
    }

    /// Wipes personal data and returns home.
    fn finish(&mut self, now: u64, fx: &mut Vec<Effect>) {
        self.wipe(fx);
        self.set_phase(Phase::Finished, now, fx);
        fx.push(Effect::ReturnHome);
    }

    fn wipe(&mut self, fx: &mut Vec<Effect>) {
        self.applicant = None;
        self.masked = None;
        self.form_values.clear();
        self.form_errors.clear();
        if !self.wiped {
            self.wiped = true;
            fx.push(Effect::WipePersonalData);
        }
    }

    // ----- time -------------------------------------------------------------------------------

    fn set_phase(&mut self, phase: Phase, now: u64, fx: &mut Vec<Effect>) {
        let old = self.phase;
        if old.is_identify() && !phase.is_identify() {
            fx.push(Effect::StopCardReading);
        }
        if old == Phase::FaceCheck && phase != Phase::FaceCheck {
            fx.push(Effect::StopFaceCheck);
        }
        self.phase = phase;
        self.progress = None;
        self.restart_countdown(now);
    }

    fn restart_countdown(&mut self, now: u64) {
        let t = &self.ctx.timeouts;
        let seconds = match self.phase {
            Phase::Finished => None,
            p if p.is_busy() => Some(t.processing_s),
            Phase::Goodbye => Some(t.goodbye_s),
            // Staff may have to walk over from the counter.
            Phase::StaffAssist => Some(t.step_s.saturating_mul(5)),
            _ => Some(t.step_s),
        };
        self.deadline_ms = seconds.map(|s| now + u64::from(s) * 1000);
    }

    fn countdown_visible(&self) -> bool {
        !self.phase.is_busy() && self.phase != Phase::Finished
    }

    fn wall_ms(&self, now: u64) -> i64 {
        let elapsed = i64::try_from(now.saturating_sub(self.started_ms)).unwrap_or(i64::MAX);
        self.ctx.wall_clock_unix_ms.saturating_add(elapsed)
    }

    // ----- records, receipts, views ----------------------------------------------------------

    /// A record with no personal data: callers add the masked applicant and answers when
    /// committing.
    fn record(&self, outcome: TransactionOutcome, now: u64) -> TransactionRecord {
        TransactionRecord {
            transaction_id: self.transaction_id.clone(),
            item_code: self.item.code.clone(),
            item_name: self.item.name.zh.clone(),
            department: self.item.department.clone(),
            outcome,
            started_at: rfc3339_utc(self.ctx.wall_clock_unix_ms),
            finished_at: rfc3339_utc(self.wall_ms(now)),
            applicant: None,
            form: BTreeMap::new(),
            steps: self
                .visited
                .iter()
                .map(|k| k.as_str().to_string())
                .collect(),
            abandoned_at_step: None,
            catalogue_version: self.ctx.catalogue_version,
        }
    }

    fn all_form_fields(&self) -> impl Iterator<Item = &FormField> {
        self.item.steps.iter().flat_map(|s| match s {
            Step::Form(form) => form.fields.as_slice(),
            _ => &[],
        })
    }

    fn masked_answers(&self) -> BTreeMap<String, String> {
        let mut answers: BTreeMap<String, String> = self
            .all_form_fields()
            .filter_map(|f| {
                let v = self.form_values.get(&f.key)?;
                (!v.is_empty()).then(|| (f.key.clone(), form_check::masked_value(f, v)))
            })
            .collect();
        if let Some(d) = self.delivery {
            answers.insert("delivery".into(), d.as_str().into());
        }
        answers
    }

    /// Labelled answers; `masked_for_print` masks phones too (receipts), otherwise only
    /// sensitive numbers are masked (review page).
    fn answer_lines(&self, masked_for_print: bool) -> Vec<ReceiptLine> {
        let mut lines: Vec<ReceiptLine> = self
            .all_form_fields()
            .filter_map(|f| {
                let v = self.form_values.get(&f.key)?;
                if v.is_empty() {
                    return None;
                }
                let value = if f.sensitive || masked_for_print {
                    let m = form_check::masked_value(f, v);
                    if m == *v {
                        form_check::display_value(f, v)
                    } else {
                        LocalizedText::new(m.clone(), m)
                    }
                } else {
                    form_check::display_value(f, v)
                };
                Some(ReceiptLine {
                    label: f.label.clone(),
                    value,
                })
            })
            .collect();
        if let Some(d) = self.delivery {
            lines.push(ReceiptLine {
                label: LocalizedText::new("领取方式", "Delivery"),
                value: d.label(),
            });
        }
        lines
    }

    fn receipt(&self, step: &crate::catalogue::ReceiptStep, now: u64) -> ReceiptContent {
        let next_steps = if step.next_steps.is_empty() {
            vec![self.item.guide.result_delivery.clone()]
        } else {
            step.next_steps.clone()
        };
        ReceiptContent {
            title: step
                .title
                .clone()
                .unwrap_or_else(|| LocalizedText::new("办件回执", "Transaction receipt")),
            item_name: self.item.name.clone(),
            department_name: self.item.department_name.clone(),
            applicant: self.masked.clone(),
            transaction_id: self.transaction_id.clone(),
            kiosk_id: self.ctx.kiosk_id.clone(),
            time: CivilTime::at(self.wall_ms(now), self.ctx.utc_offset_minutes).display_minutes(),
            lines: self.answer_lines(true),
            next_steps,
            qr: step.qr.as_ref().map(|qr| PrintedQr {
                url: format!("{}{}", qr.url, self.transaction_id),
                caption: qr
                    .caption
                    .clone()
                    .unwrap_or_else(|| qr.purpose.default_caption()),
            }),
        }
    }

    fn card_order(&self, card: &crate::catalogue::CardStep, now: u64) -> CardOrder {
        const DAY_MS: i64 = 86_400_000;
        let offset = self.ctx.utc_offset_minutes;
        let days = i64::from(card.validity_days.max(1));
        CardOrder {
            mode: card.mode,
            item_code: self.item.code.clone(),
            holder_ref: self
                .masked
                .as_ref()
                .map(|m| m.masked_id_number.clone())
                .unwrap_or_default(),
            valid_from: CivilTime::at(self.wall_ms(now), offset).iso_date(),
            valid_until: CivilTime::at(self.wall_ms(now) + (days - 1) * DAY_MS, offset).iso_date(),
            kiosk_id: self.ctx.kiosk_id.clone(),
            transaction_id: self.transaction_id.clone(),
        }
    }

    fn document(&self, layout: &DocumentLayout, now: u64) -> DocumentContent {
        const DAY_MS: i64 = 86_400_000;
        let offset = self.ctx.utc_offset_minutes;
        let issued = CivilTime::at(self.wall_ms(now), offset);
        let valid_until = layout.template.validity_days.map(|days| {
            // The day of issue counts as the first valid day.
            let last = self.wall_ms(now) + (i64::from(days.max(1)) - 1) * DAY_MS;
            CivilTime::at(last, offset).iso_date()
        });
        let answers = self.answer_lines(true);
        let answer = |key: &str| -> Option<LocalizedText> {
            let field = self.all_form_fields().find(|f| f.key == key)?;
            answers
                .iter()
                .find(|l| l.label == field.label)
                .map(|l| l.value.clone())
        };
        let same = |s: String| LocalizedText::new(s.clone(), s);
        let rows = layout
            .rows
            .iter()
            .filter_map(|(label, source)| {
                let value = match source {
                    RowSource::ApplicantName => same(self.masked.as_ref()?.masked_name.clone()),
                    RowSource::ApplicantIdNumber => {
                        same(self.masked.as_ref()?.masked_id_number.clone())
                    }
                    RowSource::ItemName => self.item.name.clone(),
                    RowSource::TransactionId => same(self.transaction_id.clone()),
                    RowSource::IssuedOn => same(issued.iso_date()),
                    RowSource::ValidUntil => same(valid_until.clone()?),
                    RowSource::KioskId => same(self.ctx.kiosk_id.clone()),
                    RowSource::Field(key) => answer(key)?,
                    RowSource::Text(text) => same(text.clone()),
                };
                Some(ReceiptLine {
                    label: label.clone(),
                    value,
                })
            })
            .collect();
        DocumentContent {
            template: layout.template.id.clone(),
            title: layout.template.title.clone(),
            issuer: layout.issuer_name.clone(),
            statement: layout.template.statement.clone(),
            rows,
            notes: layout.template.notes.clone(),
            transaction_id: self.transaction_id.clone(),
            kiosk_id: self.ctx.kiosk_id.clone(),
            issued_on: issued.iso_date(),
            valid_until,
            verify: PrintedQr {
                url: format!("{}{}", layout.template.verify_url, self.transaction_id),
                caption: LocalizedText::new(
                    format!("扫码核验真伪　核验码 {}", self.transaction_id),
                    format!("Scan to verify · code {}", self.transaction_id),
                ),
            },
        }
    }

    fn field_view(&self, field: &FormField) -> FormFieldView {
        FormFieldView {
            key: field.key.clone(),
            label: field.label.clone(),
            field_type: field.field_type,
            value: self
                .form_values
                .get(&field.key)
                .cloned()
                .unwrap_or_default(),
            error: self.form_errors.get(&field.key).cloned(),
            required: field.required,
            hint: field.hint.clone(),
            choices: field.choices.clone(),
            max_len: field.max_len.or(match field.field_type {
                crate::catalogue::FieldType::Phone => Some(11),
                crate::catalogue::FieldType::Date => Some(10),
                _ => None,
            }),
        }
    }

    fn messages(&self) -> Messages<'_> {
        Messages {
            item: &self.item,
            service_phone: &self.ctx.service_phone,
        }
    }
}

fn default_consent_text() -> LocalizedText {
    LocalizedText::new(
        "办理本事项需要读取并使用您的身份证件信息，信息仅用于本次办理，加密传输至主管部门，办结后本机不保留。页面上只显示部分遮蔽的姓名和证件号码。",
        "This item needs the information on your identity card. It is used only for this application, sent encrypted to the department in charge and not kept on this kiosk afterwards. The screen shows your name and number only partly masked.",
    )
}

//! Unit tests of every transition of the flow engine.

use super::*;
use crate::catalogue::{CardType, Catalogue, DeliveryOption, Item, StepKind};
use crate::config::TimeoutsSection;
use crate::device::{DeviceClass, DevicePresence};
use crate::text::LocalizedText;
use kiosk_protocol::wire::{PersonalData, TransactionOutcome};

const NAME: &str = "王小明";
const ID: &str = "110105194912310021";
/// 2026-11-21T10:00:00Z = 18:00 in Beijing.
const WALL: i64 = 1_795_255_200_000;
const T0: u64 = 5_000_000;
const STEP_MS: u64 = 60_000;

const CATALOGUE: &str = r#"
format = 1
version = 9
published_at = "2026-11-20T09:00:00+08:00"

progress_url = "https://zwfw.example.gov.cn/progress?tx="

[[departments]]
code = "gjj"
name = { zh = "住房公积金管理中心", en = "Housing Fund Centre" }

[[document_templates]]
id = "certificate"
title = { zh = "缴存证明", en = "Contribution certificate" }
issuer = "gjj"
validity_days = 30
verify_url = "https://zwfw.example.gov.cn/verify?code="
rows = [
  { label = { zh = "姓名", en = "Name" }, source = "applicant.name" },
  { label = { zh = "证件号码", en = "ID number" }, source = "applicant.id_number" },
  { label = { zh = "手机", en = "Phone" }, source = "field.phone" },
  { label = { zh = "有效期至", en = "Valid until" }, source = "valid_until" },
  { label = { zh = "状态", en = "Status" }, source = "text:正常缴存" },
]

[[items]]
code = "simple"
name = { zh = "住房公积金提取", en = "Housing fund withdrawal" }
department = "gjj"
category = { zh = "住房", en = "Housing" }
allowed_cards = ["resident"]
[items.channels]
online = "https://example.gov.cn/gjj"
[items.guide]
conditions = { zh = "条件", en = "Conditions" }
materials = { zh = "材料", en = "Materials" }
fee = { zh = "免费", en = "Free" }
time_limit = { zh = "即时", en = "At once" }
legal_basis = { zh = "条例", en = "Regulations" }
result_delivery = { zh = "短信通知", en = "By SMS" }
[[items.steps]]
kind = "identify"
[[items.steps]]
kind = "consent"
[[items.steps]]
kind = "form"
[[items.steps.fields]]
key = "amount"
label = { zh = "金额", en = "Amount" }
type = "digits"
min_len = 1
max_len = 6
[[items.steps.fields]]
key = "phone"
label = { zh = "手机", en = "Phone" }
type = "phone"
[[items.steps]]
kind = "submit"
[[items.steps]]
kind = "print_receipt"
[[items.steps]]
kind = "rate"

[[items]]
code = "full"
name = { zh = "全流程事项", en = "Every step" }
department = "gjj"
category = { zh = "住房", en = "Housing" }
allowed_cards = ["resident", "foreign_permanent_residence"]
[items.guide]
conditions = { zh = "条件", en = "Conditions" }
materials = { zh = "材料", en = "Materials" }
fee = { zh = "免费", en = "Free" }
time_limit = { zh = "即时", en = "At once" }
legal_basis = { zh = "条例", en = "Regulations" }
result_delivery = { zh = "邮寄", en = "By mail" }
[[items.steps]]
kind = "identify"
[[items.steps]]
kind = "consent"
[[items.steps]]
kind = "face_check"
[[items.steps]]
kind = "form"
[[items.steps.fields]]
key = "phone"
label = { zh = "手机", en = "Phone" }
type = "phone"
[[items.steps]]
kind = "notice"
text = { zh = "须知", en = "Notice" }
[[items.steps]]
kind = "delivery"
options = ["on_site", "mail"]
[[items.steps]]
kind = "submit"
[[items.steps]]
kind = "print_receipt"
[[items.steps]]
kind = "print_document"
template = "certificate"
[[items.steps]]
kind = "card"
mode = "rewrite"
[[items.steps]]
kind = "rate"

[[items]]
code = "remote_face"
name = { zh = "个人纳税记录", en = "Tax record" }
department = "gjj"
category = { zh = "税务", en = "Tax" }
allowed_cards = ["resident"]
[items.guide]
conditions = { zh = "条件", en = "Conditions" }
materials = { zh = "材料", en = "Materials" }
fee = { zh = "免费", en = "Free" }
time_limit = { zh = "即时", en = "At once" }
legal_basis = { zh = "条例", en = "Regulations" }
result_delivery = { zh = "当场", en = "At once" }
[[items.steps]]
kind = "identify"
[[items.steps]]
kind = "face_check"
alternatives = ["remote", "staff"]
[[items.steps]]
kind = "submit"
"#;

fn item(code: &str) -> Item {
    let catalogue = Catalogue::parse(CATALOGUE).expect("test catalogue");
    catalogue.item(code).expect("test item").clone()
}

fn ctx(devices: DevicePresence) -> SessionContext {
    SessionContext {
        kiosk_id: "KSK-TEST-01".into(),
        catalogue_version: 9,
        timeouts: TimeoutsSection::default(),
        wall_clock_unix_ms: WALL,
        utc_offset_minutes: 480,
        sequence: 42,
        devices,
        service_phone: "12345".into(),
    }
}

fn applicant() -> Applicant {
    Applicant {
        card_type: CardType::Resident,
        personal: PersonalData {
            name: NAME.into(),
            id_number: ID.into(),
            address: "北京市东城区某街道 1 号".into(),
        },
    }
}

/// A session plus a clock.
struct Run {
    session: Session,
    now: u64,
}

impl Run {
    fn new(code: &str) -> Run {
        Run::with_devices(code, DevicePresence::all())
    }

    fn with_devices(code: &str, devices: DevicePresence) -> Run {
        let (session, effects) = Session::start(&item(code), ctx(devices), T0);
        assert!(effects.is_empty());
        Run { session, now: T0 }
    }

    fn send(&mut self, event: FlowEvent) -> Vec<Effect> {
        self.now += 1_000;
        self.session.handle(event, self.now)
    }

    fn phase(&self) -> Phase {
        self.session.phase()
    }

    fn view(&self) -> SessionView {
        self.session.view(self.now)
    }

    /// The happy-path event for the current phase.
    fn happy_event(&self) -> FlowEvent {
        match self.phase() {
            Phase::Guide => FlowEvent::Begin,
            Phase::IdentifyWaiting | Phase::IdentifyReading | Phase::IdentifyFailed => {
                FlowEvent::CardRead(applicant())
            }
            Phase::Consent | Phase::FaceConsent => FlowEvent::ConsentGiven,
            Phase::FaceAlternatives => FlowEvent::FaceOptionChosen(FaceOption::Staff),
            Phase::StaffAssist => FlowEvent::StaffVerified,
            Phase::FaceCheck | Phase::PrintingDocument | Phase::CardOperation => {
                FlowEvent::StepCompleted
            }
            Phase::Form => FlowEvent::FormSubmitted,
            Phase::Delivery => FlowEvent::DeliveryChosen(DeliveryOption::Mail),
            Phase::Confirm => FlowEvent::Confirmed,
            Phase::Processing => FlowEvent::SubmitCommitted {
                transaction_id: "KSK-TEST-01-20261121-000042".into(),
            },
            Phase::PrintingReceipt => FlowEvent::ReceiptPrinted,
            Phase::Rate => FlowEvent::Rated(5),
            Phase::Notice
            | Phase::ReceiptPrinted
            | Phase::ReceiptFailed
            | Phase::ResultFailed
            | Phase::Goodbye
            | Phase::Failed => FlowEvent::Continue,
            Phase::Finished => FlowEvent::Tick,
        }
    }

    /// Walks the happy path until `target`; returns all effects on the way.
    fn walk_to(&mut self, target: Phase) -> Vec<Effect> {
        let mut all = Vec::new();
        for _ in 0..40 {
            if self.phase() == target {
                return all;
            }
            if self.phase() == Phase::Form {
                all.extend(self.send(FlowEvent::FormInput {
                    key: "amount".into(),
                    value: "5000".into(),
                }));
                all.extend(self.send(FlowEvent::FormInput {
                    key: "phone".into(),
                    value: "13812345678".into(),
                }));
            }
            let event = self.happy_event();
            all.extend(self.send(event));
        }
        panic!("never reached {target:?}; stuck in {:?}", self.phase());
    }

    fn time_out(&mut self) -> Vec<Effect> {
        self.now += 10 * 60_000;
        self.session.handle(FlowEvent::Tick, self.now)
    }
}

fn has(effects: &[Effect], pred: impl Fn(&Effect) -> bool) -> bool {
    effects.iter().any(pred)
}

fn abandoned(effects: &[Effect]) -> Option<&kiosk_protocol::wire::TransactionRecord> {
    effects.iter().find_map(|e| match e {
        Effect::RecordAbandoned { record } => Some(record),
        _ => None,
    })
}

fn assert_wiped_and_home(run: &Run, effects: &[Effect]) {
    assert!(
        has(effects, |e| *e == Effect::WipePersonalData),
        "{effects:?}"
    );
    assert_eq!(effects.last(), Some(&Effect::ReturnHome), "{effects:?}");
    assert_eq!(run.phase(), Phase::Finished);
    assert_nothing_personal(run);
}

fn assert_nothing_personal(run: &Run) {
    let view = run.view();
    assert!(view.applicant.is_none());
    let shown = format!("{view:?}{:?}", run.session);
    assert!(!shown.contains("小明") && !shown.contains(ID), "{shown}");
    assert!(!shown.contains("13812345678"), "{shown}");
}

// ----- guide -----------------------------------------------------------------------------

#[test]
fn start_shows_the_guide_with_a_countdown() {
    let run = Run::new("simple");
    let view = run.view();
    assert_eq!(view.phase, Phase::Guide);
    assert_eq!(view.step_number, 0);
    assert_eq!(view.step_count, 6);
    assert_eq!(view.seconds_left, Some(60));
    assert!(!view.warning && view.can_cancel && !view.can_go_back && !view.is_over);
    assert_eq!(view.transaction_id, None);
}

#[test]
fn begin_starts_card_reading() {
    let mut run = Run::new("simple");
    let fx = run.send(FlowEvent::Begin);
    assert_eq!(fx, vec![Effect::StartCardReading]);
    assert_eq!(run.phase(), Phase::IdentifyWaiting);
    assert_eq!(run.view().step_number, 1);
    assert_eq!(run.view().step_kind, Some(StepKind::Identify));
}

#[test]
fn leaving_the_guide_records_nothing() {
    for event in [FlowEvent::Cancel, FlowEvent::GoHome] {
        let mut run = Run::new("simple");
        let fx = run.send(event);
        assert!(abandoned(&fx).is_none());
        assert_wiped_and_home(&run, &fx);
    }
    let mut run = Run::new("simple");
    let fx = run.time_out();
    assert!(abandoned(&fx).is_none());
    assert_wiped_and_home(&run, &fx);
}

// ----- identify ----------------------------------------------------------------------------

#[test]
fn card_present_then_read_moves_to_consent() {
    let mut run = Run::new("simple");
    run.walk_to(Phase::IdentifyWaiting);
    run.send(FlowEvent::CardPresent);
    assert_eq!(run.phase(), Phase::IdentifyReading);
    let fx = run.send(FlowEvent::CardRead(applicant()));
    assert_eq!(fx, vec![Effect::StopCardReading]);
    assert_eq!(run.phase(), Phase::Consent);
    let masked = run.view().applicant.expect("masked applicant");
    assert_eq!(masked.masked_name, "王**");
    assert_eq!(masked.masked_id_number, "110105********0021");
    assert_eq!(masked.card_type, "resident");
    assert!(!format!("{:?}", run.view()).contains(ID));
}

#[test]
fn unreadable_card_shows_next_steps_and_retry_works() {
    let mut run = Run::new("simple");
    run.walk_to(Phase::IdentifyWaiting);
    run.send(FlowEvent::CardPresent);
    let fx = run.send(FlowEvent::CardReadFailed(CardReadFailure::Unreadable));
    assert!(fx.is_empty(), "reader keeps polling: {fx:?}");
    assert_eq!(run.phase(), Phase::IdentifyFailed);
    let message = run.view().message.expect("message");
    assert_eq!(message.kind, MessageKind::CardReadFailed);
    assert!(!message.next_steps.is_empty());
    run.send(FlowEvent::CardPresent);
    assert_eq!(run.phase(), Phase::IdentifyReading);
    assert!(run.view().message.is_none());
    run.send(FlowEvent::CardRead(applicant()));
    assert_eq!(run.phase(), Phase::Consent);
}

#[test]
fn expired_and_unsupported_cards_explain_themselves() {
    for failure in [CardReadFailure::Expired, CardReadFailure::Unsupported] {
        let mut run = Run::new("simple");
        run.walk_to(Phase::IdentifyWaiting);
        run.send(FlowEvent::CardReadFailed(failure));
        assert_eq!(run.phase(), Phase::IdentifyFailed);
        let m = run.view().message.expect("message");
        assert!(!m.body.zh.is_empty() && !m.body.en.is_empty());
    }
}

#[test]
fn card_type_not_accepted_stays_on_identify() {
    let mut run = Run::new("simple");
    run.walk_to(Phase::IdentifyWaiting);
    let mut foreign = applicant();
    foreign.card_type = CardType::ForeignPermanentResidence;
    let fx = run.send(FlowEvent::CardRead(foreign));
    assert!(fx.is_empty());
    assert_eq!(run.phase(), Phase::IdentifyFailed);
    assert!(run.view().applicant.is_none());
    let m = run.view().message.expect("message");
    assert_eq!(m.kind, MessageKind::CardNotAccepted);
    assert!(m.next_steps[0].zh.contains("居民身份证"));
}

// ----- consent -----------------------------------------------------------------------------

#[test]
fn consent_shows_text_and_given_moves_on() {
    let mut run = Run::new("simple");
    run.walk_to(Phase::Consent);
    assert!(run.view().consent_text.is_some());
    run.send(FlowEvent::ConsentGiven);
    assert_eq!(run.phase(), Phase::Form);
}

#[test]
fn consent_declined_ends_as_cancelled_without_personal_data() {
    let mut run = Run::new("simple");
    run.walk_to(Phase::Consent);
    let fx = run.send(FlowEvent::ConsentDeclined);
    let record = abandoned(&fx).expect("abandoned record");
    assert_eq!(record.outcome, TransactionOutcome::Cancelled);
    assert_eq!(record.abandoned_at_step.as_deref(), Some("consent"));
    assert!(record.applicant.is_none() && record.form.is_empty());
    assert_wiped_and_home(&run, &fx);
}

// ----- face check --------------------------------------------------------------------------

#[test]
fn face_check_asks_consent_before_the_camera_and_passes() {
    let mut run = Run::new("full");
    let fx = run.walk_to(Phase::FaceConsent);
    assert!(!has(&fx, |e| matches!(e, Effect::StartFaceCheck { .. })));
    let view = run.view();
    assert!(view.consent_text.expect("text").zh.contains("摄像头"));
    let fx = run.send(FlowEvent::ConsentGiven);
    assert_eq!(fx, vec![Effect::StartFaceCheck { remote: false }]);
    assert_eq!(run.phase(), Phase::FaceCheck);
    run.send(FlowEvent::DeviceProgress(LocalizedText::new(
        "请眨眨眼",
        "Blink",
    )));
    assert_eq!(run.view().progress.expect("prompt").zh, "请眨眨眼");
    let fx = run.send(FlowEvent::StepCompleted);
    assert_eq!(fx, vec![Effect::StopFaceCheck]);
    assert_eq!(run.phase(), Phase::Form);
}

#[test]
fn declining_the_camera_offers_staff_who_confirm_by_hand() {
    let mut run = Run::new("full");
    run.walk_to(Phase::FaceConsent);
    let fx = run.send(FlowEvent::ConsentDeclined);
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(run.phase(), Phase::FaceAlternatives);
    // No retry before a first try; the item allows staff only.
    assert_eq!(run.view().face_options, vec![FaceOption::Staff]);
    assert!(
        run.send(FlowEvent::FaceOptionChosen(FaceOption::Remote))
            .is_empty()
    );
    assert_eq!(run.phase(), Phase::FaceAlternatives);
    let fx = run.send(FlowEvent::FaceOptionChosen(FaceOption::Staff));
    assert_eq!(fx, vec![Effect::CallStaff]);
    assert_eq!(run.phase(), Phase::StaffAssist);
    // Staff may have to walk over: a longer countdown than a normal step.
    assert!(run.view().seconds_left.expect("countdown") > 60);
    run.send(FlowEvent::StaffVerified);
    assert_eq!(run.phase(), Phase::Form);
}

#[test]
fn a_failed_check_shows_why_and_offers_retry_then_alternatives() {
    let mut run = Run::new("full");
    run.walk_to(Phase::FaceCheck);
    let fx = run.send(FlowEvent::StepRefused {
        message: LocalizedText::new("未检测到眨眼", "No blink seen"),
    });
    assert_eq!(fx, vec![Effect::StopFaceCheck]);
    assert_eq!(run.phase(), Phase::FaceAlternatives);
    let view = run.view();
    let m = view.message.expect("message");
    assert_eq!(m.kind, MessageKind::FaceCheckFailed);
    assert_eq!(m.title.zh, "未检测到眨眼");
    assert_eq!(
        view.face_options,
        vec![FaceOption::Retry, FaceOption::Staff]
    );
    // Nothing recorded or erased yet: the citizen can go on.
    assert!(abandoned(&fx).is_none() && view.applicant.is_some());
    for attempt in 2..=3 {
        let fx = run.send(FlowEvent::FaceOptionChosen(FaceOption::Retry));
        assert_eq!(
            fx,
            vec![Effect::StartFaceCheck { remote: false }],
            "{attempt}"
        );
        run.send(FlowEvent::StepFailed {
            reason: "distance 0.71".into(),
        });
        let m = run.view().message.expect("message");
        assert!(!m.title.zh.contains("0.71") && !m.body.zh.contains("0.71"));
    }
    // Three tries used: only the alternatives are left.
    assert_eq!(run.view().face_options, vec![FaceOption::Staff]);
    assert!(
        run.send(FlowEvent::FaceOptionChosen(FaceOption::Retry))
            .is_empty()
    );
}

#[test]
fn remote_verification_is_offered_when_the_item_allows_it() {
    let mut run = Run::new("remote_face");
    run.walk_to(Phase::FaceConsent);
    run.send(FlowEvent::ConsentDeclined);
    assert_eq!(
        run.view().face_options,
        vec![FaceOption::Remote, FaceOption::Staff]
    );
    let fx = run.send(FlowEvent::FaceOptionChosen(FaceOption::Remote));
    assert_eq!(fx, vec![Effect::StartFaceCheck { remote: true }]);
    run.send(FlowEvent::StepRefused {
        message: LocalizedText::new("远程核验未通过", "Not confirmed"),
    });
    // Retrying repeats the remote check; remote is not offered twice.
    assert_eq!(
        run.view().face_options,
        vec![FaceOption::Retry, FaceOption::Staff]
    );
    let fx = run.send(FlowEvent::FaceOptionChosen(FaceOption::Retry));
    assert_eq!(fx, vec![Effect::StartFaceCheck { remote: true }]);
}

#[test]
fn camera_fault_during_the_check_ends_the_session_with_a_message() {
    let mut run = Run::new("full");
    run.walk_to(Phase::FaceCheck);
    let fx = run.send(FlowEvent::DeviceFault {
        class: DeviceClass::Camera,
    });
    assert!(has(&fx, |e| *e == Effect::StopFaceCheck));
    assert_eq!(
        abandoned(&fx).map(|r| r.outcome),
        Some(TransactionOutcome::Failed)
    );
    assert_eq!(run.phase(), Phase::Failed);
    assert_nothing_personal(&run);
}

// ----- form --------------------------------------------------------------------------------

#[test]
fn invalid_form_input_keeps_the_citizen_on_the_form() {
    let mut run = Run::new("simple");
    run.walk_to(Phase::Form);
    run.send(FlowEvent::FormInput {
        key: "amount".into(),
        value: "12a".into(),
    });
    run.send(FlowEvent::FormInput {
        key: "phone".into(),
        value: "12345".into(),
    });
    let fx = run.send(FlowEvent::FormSubmitted);
    assert!(fx.is_empty());
    assert_eq!(run.phase(), Phase::Form);
    let view = run.view();
    assert_eq!(view.form_fields.len(), 2);
    for field in &view.form_fields {
        assert!(field.error.is_some(), "{}", field.key);
    }
    assert_eq!(view.form_fields[0].value, "12a");
    // Typing again clears that field's error only.
    run.send(FlowEvent::FormInput {
        key: "amount".into(),
        value: "5000".into(),
    });
    let view = run.view();
    assert!(view.form_fields[0].error.is_none());
    assert!(view.form_fields[1].error.is_some());
    run.send(FlowEvent::FormInput {
        key: "phone".into(),
        value: "13812345678".into(),
    });
    run.send(FlowEvent::FormSubmitted);
    assert_eq!(run.phase(), Phase::Confirm);
}

#[test]
fn empty_required_fields_are_flagged() {
    let mut run = Run::new("simple");
    run.walk_to(Phase::Form);
    run.send(FlowEvent::FormSubmitted);
    let view = run.view();
    assert_eq!(view.phase, Phase::Form);
    assert!(view.form_fields.iter().all(|f| f.error.is_some()));
}

#[test]
fn unknown_form_keys_are_ignored() {
    let mut run = Run::new("simple");
    run.walk_to(Phase::Form);
    run.send(FlowEvent::FormInput {
        key: "nonsense".into(),
        value: "x".into(),
    });
    assert!(run.view().form_fields.iter().all(|f| f.key != "nonsense"));
}

// ----- notice and delivery -----------------------------------------------------------------

#[test]
fn notice_is_acknowledged_with_continue() {
    let mut run = Run::new("full");
    run.walk_to(Phase::Notice);
    let notice = run.view().notice.expect("notice");
    assert_eq!(notice.text.zh, "须知");
    run.send(FlowEvent::Continue);
    assert_eq!(run.phase(), Phase::Delivery);
}

#[test]
fn delivery_choice_is_recorded() {
    let mut run = Run::new("full");
    run.walk_to(Phase::Delivery);
    assert_eq!(
        run.view().delivery_options,
        vec![DeliveryOption::OnSite, DeliveryOption::Mail]
    );
    run.send(FlowEvent::DeliveryChosen(DeliveryOption::Mail));
    assert_eq!(run.phase(), Phase::Confirm);
    assert_eq!(run.view().delivery, Some(DeliveryOption::Mail));
    let fx = run.send(FlowEvent::Confirmed);
    let Some(Effect::CommitSubmission { record, .. }) = fx.last() else {
        panic!("commit expected: {fx:?}")
    };
    assert_eq!(
        record.form.get("delivery").map(String::as_str),
        Some("mail")
    );
}

// ----- confirm and submit ------------------------------------------------------------------

#[test]
fn confirm_shows_a_summary_and_commits_a_masked_record() {
    let mut run = Run::new("simple");
    run.walk_to(Phase::Confirm);
    let view = run.view();
    assert_eq!(view.summary.len(), 2);
    assert_eq!(
        view.summary[1].value.zh, "13812345678",
        "citizen checks the number"
    );
    let fx = run.send(FlowEvent::Confirmed);
    assert_eq!(run.phase(), Phase::Processing);
    assert_eq!(run.view().seconds_left, None, "no countdown while busy");
    assert!(!run.view().can_cancel);
    let [Effect::CommitSubmission { record, personal }] = fx.as_slice() else {
        panic!("one commit expected: {fx:?}")
    };
    assert_eq!(record.transaction_id, "KSK-TEST-01-20261121-000042");
    assert_eq!(record.outcome, TransactionOutcome::Completed);
    assert_eq!(record.item_code, "simple");
    assert_eq!(record.department, "gjj");
    assert_eq!(record.catalogue_version, 9);
    assert_eq!(record.started_at, "2026-11-21T10:00:00Z");
    assert!(record.finished_at.starts_with("2026-11-21T10:00:"));
    assert_eq!(record.steps, vec!["identify", "consent", "form", "submit"]);
    assert_eq!(
        record.form.get("phone").map(String::as_str),
        Some("138****5678")
    );
    assert_eq!(record.form.get("amount").map(String::as_str), Some("5000"));
    let masked = record.applicant.as_ref().expect("masked applicant");
    assert_eq!(masked.masked_name, "王**");
    let text = serde_json::to_string(record).expect("json");
    assert!(!text.contains(ID) && !text.contains("小明"));
    let personal = personal.as_ref().expect("personal data for the centre");
    assert_eq!(personal.id_number, ID);
}

#[test]
fn transaction_id_is_deterministic_and_uses_local_date() {
    let c = ctx(DevicePresence::all());
    assert_eq!(c.transaction_id(), "KSK-TEST-01-20261121-000042");
    assert_eq!(c.transaction_id(), c.transaction_id());
    let mut late = c.clone();
    late.wall_clock_unix_ms = WALL + 10 * 3_600_000; // 04:00 next day in Beijing
    late.sequence = 1;
    assert_eq!(late.transaction_id(), "KSK-TEST-01-20261122-000001");
}

#[test]
fn committed_submission_forgets_full_personal_data_and_prints() {
    let mut run = Run::new("simple");
    run.walk_to(Phase::Processing);
    let fx = run.send(FlowEvent::SubmitCommitted {
        transaction_id: "KSK-TEST-01-20261121-000042".into(),
    });
    assert_eq!(run.phase(), Phase::PrintingReceipt);
    let [Effect::PrintReceipt(receipt)] = fx.as_slice() else {
        panic!("receipt expected: {fx:?}")
    };
    assert_eq!(receipt.transaction_id, "KSK-TEST-01-20261121-000042");
    assert_eq!(receipt.title.zh, "办件回执");
    assert_eq!(receipt.time, "2026-11-21 18:00");
    assert_eq!(receipt.kiosk_id, "KSK-TEST-01");
    assert_eq!(
        receipt.applicant.as_ref().map(|a| a.masked_name.as_str()),
        Some("王**")
    );
    assert!(receipt.lines.iter().any(|l| l.value.zh == "138****5678"));
    assert_eq!(receipt.next_steps[0].zh, "短信通知");
    let shown = format!("{receipt:?}{:?}", run.session);
    assert!(!shown.contains(ID) && !shown.contains("小明"));
    assert_eq!(
        run.view().transaction_id.as_deref(),
        Some("KSK-TEST-01-20261121-000042")
    );
}

#[test]
fn failed_submission_ends_with_next_steps() {
    let mut run = Run::new("simple");
    run.walk_to(Phase::Processing);
    let fx = run.send(FlowEvent::SubmitFailed {
        reason: "disk I/O error".into(),
    });
    let record = abandoned(&fx).expect("record");
    assert_eq!(record.outcome, TransactionOutcome::Failed);
    assert_eq!(record.abandoned_at_step.as_deref(), Some("submit"));
    assert!(has(&fx, |e| *e == Effect::WipePersonalData));
    assert_eq!(run.phase(), Phase::Failed);
    let m = run.view().message.expect("message");
    assert_eq!(m.kind, MessageKind::SubmitFailed);
    assert!(!format!("{m:?}").contains("disk"));
    assert_eq!(m.online_url.as_deref(), Some("https://example.gov.cn/gjj"));
    assert!(m.next_steps.iter().any(|s| s.zh.contains("12345")));
    assert_nothing_personal(&run);
    let fx = run.send(FlowEvent::GoHome);
    assert_eq!(fx, vec![Effect::ReturnHome]);
    assert!(run.view().is_over);
}

#[test]
fn processing_timeout_reports_an_unconfirmed_submission() {
    let mut run = Run::new("simple");
    run.walk_to(Phase::Processing);
    let fx = run.time_out();
    assert!(
        abandoned(&fx).is_none(),
        "outcome unknown: nothing recorded"
    );
    assert!(has(&fx, |e| *e == Effect::WipePersonalData));
    assert_eq!(run.phase(), Phase::Failed);
    let m = run.view().message.expect("message");
    assert_eq!(m.kind, MessageKind::SubmitUnconfirmed);
    assert!(m.body.zh.contains("KSK-TEST-01-20261121-000042"));
    // A late commit answer is ignored.
    let fx = run.send(FlowEvent::SubmitCommitted {
        transaction_id: "x".into(),
    });
    assert!(fx.is_empty());
}

// ----- receipt -----------------------------------------------------------------------------

#[test]
fn printed_receipt_continues_to_rating() {
    let mut run = Run::new("simple");
    run.walk_to(Phase::PrintingReceipt);
    run.send(FlowEvent::ReceiptPrinted);
    assert_eq!(run.phase(), Phase::ReceiptPrinted);
    assert!(run.view().seconds_left.is_some());
    run.send(FlowEvent::Continue);
    assert_eq!(run.phase(), Phase::Rate);
}

#[test]
fn receipt_failure_after_commit_keeps_the_transaction() {
    let mut run = Run::new("simple");
    run.walk_to(Phase::PrintingReceipt);
    let fx = run.send(FlowEvent::ReceiptFailed {
        reason: "paper out".into(),
    });
    assert_eq!(
        fx,
        vec![Effect::RaiseDeviceFault {
            class: DeviceClass::ReceiptPrinter,
            during_step: StepKind::PrintReceipt
        }]
    );
    assert!(abandoned(&fx).is_none());
    assert_eq!(run.phase(), Phase::ReceiptFailed);
    let m = run.view().message.expect("message");
    assert_eq!(m.kind, MessageKind::ReceiptFailed);
    assert!(m.body.zh.contains("KSK-TEST-01-20261121-000042"));
    assert!(m.next_steps[0].zh.contains("补打"));
    assert!(run.view().transaction_id.is_some());
    run.send(FlowEvent::Continue);
    assert_eq!(run.phase(), Phase::Rate);
    assert!(run.view().message.is_none());
}

// ----- document and card -------------------------------------------------------------------

#[test]
fn document_and_card_steps_emit_their_effects() {
    let mut run = Run::new("full");
    let fx = run.walk_to(Phase::PrintingDocument);
    let doc = fx
        .iter()
        .find_map(|e| match e {
            Effect::PrintDocument(doc) => Some(doc.clone()),
            _ => None,
        })
        .expect("a document to print");
    assert_eq!(doc.template, "certificate");
    assert_eq!(doc.title.zh, "缴存证明");
    assert_eq!(doc.issuer.zh, "住房公积金管理中心");
    let values: Vec<&str> = doc.rows.iter().map(|r| r.value.zh.as_str()).collect();
    assert_eq!(values.len(), 5, "{values:?}");
    assert!(values[0].contains('*'), "name masked: {values:?}");
    assert!(values[1].contains("********"), "ID masked: {values:?}");
    assert!(values[2].contains('*'), "phone masked: {values:?}");
    assert_eq!(values[3], doc.valid_until.as_deref().unwrap());
    assert_eq!(values[4], "正常缴存");
    assert!(doc.verify.url.ends_with(&doc.transaction_id));
    assert!(
        doc.verify
            .url
            .starts_with("https://zwfw.example.gov.cn/verify?code=")
    );
    let fx = run.send(FlowEvent::StepCompleted);
    let order = fx
        .iter()
        .find_map(|e| match e {
            Effect::OperateCard(order) => Some(order.clone()),
            _ => None,
        })
        .expect("a card to operate");
    assert_eq!(order.mode, crate::catalogue::CardMode::Rewrite);
    assert_eq!(order.item_code, "full");
    assert!(order.holder_ref.contains("********"), "masked: {order:?}");
    assert_eq!(order.transaction_id, doc.transaction_id);
    assert!(order.valid_until > order.valid_from, "{order:?}");
    assert_eq!(run.phase(), Phase::CardOperation);

    // Progress from the card writer shows under the headline and keeps the step alive.
    run.send(FlowEvent::DeviceProgress(LocalizedText::new(
        "请取卡",
        "Take your card",
    )));
    assert_eq!(run.view().progress.map(|p| p.zh).as_deref(), Some("请取卡"));
    run.send(FlowEvent::StepCompleted);
    assert_eq!(
        run.view().progress,
        None,
        "progress belongs to the card step only"
    );
    assert_eq!(run.phase(), Phase::Rate);
}

#[test]
fn document_and_card_failures_keep_the_transaction() {
    for (phase, class) in [
        (Phase::PrintingDocument, DeviceClass::DocumentPrinter),
        (Phase::CardOperation, DeviceClass::CardWriter),
    ] {
        let mut run = Run::new("full");
        run.walk_to(phase);
        let fx = run.send(FlowEvent::StepFailed {
            reason: "jam".into(),
        });
        assert!(has(
            &fx,
            |e| matches!(e, Effect::RaiseDeviceFault { class: c, .. } if *c == class)
        ));
        assert_eq!(run.phase(), Phase::ResultFailed);
        let m = run.view().message.expect("message");
        assert_eq!(m.kind, MessageKind::ResultFailed);
        run.send(FlowEvent::Continue);
        assert_ne!(run.phase(), Phase::ResultFailed);
    }
}

// ----- rating and goodbye ------------------------------------------------------------------

#[test]
fn rating_is_recorded_and_leads_to_goodbye() {
    let mut run = Run::new("simple");
    run.walk_to(Phase::Rate);
    assert_eq!(run.view().rating, None, "no default choice");
    let fx = run.send(FlowEvent::Rated(0));
    assert!(fx.is_empty());
    let fx = run.send(FlowEvent::Rated(6));
    assert!(fx.is_empty());
    let fx = run.send(FlowEvent::Rated(4));
    let Some(Effect::RecordRating(rating)) = fx.first() else {
        panic!("rating expected: {fx:?}")
    };
    assert_eq!(rating.rating, Some(4));
    assert_eq!(rating.transaction_id, "KSK-TEST-01-20261121-000042");
    assert_eq!(rating.item_code, "simple");
    assert!(has(&fx, |e| *e == Effect::WipePersonalData));
    assert_eq!(run.phase(), Phase::Goodbye);
    assert_eq!(run.view().seconds_left, Some(10));
    assert_nothing_personal(&run);
}

#[test]
fn rating_can_be_skipped() {
    let mut run = Run::new("simple");
    run.walk_to(Phase::Rate);
    let fx = run.send(FlowEvent::RatingSkipped);
    let Some(Effect::RecordRating(rating)) = fx.first() else {
        panic!("rating expected: {fx:?}")
    };
    assert_eq!(rating.rating, None);
    assert_eq!(run.phase(), Phase::Goodbye);
}

#[test]
fn goodbye_returns_home_by_itself_or_on_tap() {
    let mut run = Run::new("simple");
    run.walk_to(Phase::Goodbye);
    let fx = run.time_out();
    assert_eq!(fx, vec![Effect::ReturnHome]);
    assert!(run.session.is_over());
    let mut run = Run::new("simple");
    run.walk_to(Phase::Goodbye);
    assert_eq!(run.send(FlowEvent::Continue), vec![Effect::ReturnHome]);
    let mut run = Run::new("simple");
    run.walk_to(Phase::Goodbye);
    assert_eq!(run.send(FlowEvent::GoHome), vec![Effect::ReturnHome]);
}

#[test]
fn finished_session_ignores_everything() {
    let mut run = Run::new("simple");
    run.walk_to(Phase::Goodbye);
    run.send(FlowEvent::GoHome);
    for event in [
        FlowEvent::Begin,
        FlowEvent::Tick,
        FlowEvent::GoHome,
        FlowEvent::Back,
    ] {
        assert!(run.send(event).is_empty());
    }
    let view = run.view();
    assert!(view.is_over && view.seconds_left.is_none() && !view.can_cancel);
}

#[test]
fn whole_journey_through_every_step_kind() {
    let mut run = Run::new("full");
    let fx = run.walk_to(Phase::Finished);
    let kinds: Vec<&str> = fx
        .iter()
        .map(|e| match e {
            Effect::StartCardReading => "start_card",
            Effect::StopCardReading => "stop_card",
            Effect::StartFaceCheck { .. } => "start_face",
            Effect::CallStaff => "call_staff",
            Effect::StopFaceCheck => "stop_face",
            Effect::CommitSubmission { .. } => "commit",
            Effect::PrintReceipt(_) => "receipt",
            Effect::PrintDocument { .. } => "document",
            Effect::OperateCard { .. } => "card",
            Effect::RecordRating(_) => "rating",
            Effect::RecordAbandoned { .. } => "abandoned",
            Effect::RaiseDeviceFault { .. } => "fault",
            Effect::WipePersonalData => "wipe",
            Effect::ReturnHome => "home",
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            "start_card",
            "stop_card",
            "start_face",
            "stop_face",
            "commit",
            "receipt",
            "document",
            "card",
            "rating",
            "wipe",
            "home"
        ]
    );
}

// ----- timeouts, faults, cancel in every phase ---------------------------------------------

/// Every phase the happy path of the full item visits, in order.
const WALKED: [Phase; 16] = [
    Phase::Guide,
    Phase::IdentifyWaiting,
    Phase::Consent,
    Phase::FaceConsent,
    Phase::FaceCheck,
    Phase::Form,
    Phase::Notice,
    Phase::Delivery,
    Phase::Confirm,
    Phase::Processing,
    Phase::PrintingReceipt,
    Phase::ReceiptPrinted,
    Phase::PrintingDocument,
    Phase::CardOperation,
    Phase::Rate,
    Phase::Goodbye,
];

/// Runs the full item to `phase`; identify sub-phases and failure phases are reached by the
/// events that lead to them.
fn run_at(phase: Phase) -> Run {
    let mut run = Run::new("full");
    match phase {
        Phase::IdentifyReading => {
            run.walk_to(Phase::IdentifyWaiting);
            run.send(FlowEvent::CardPresent);
        }
        Phase::IdentifyFailed => {
            run.walk_to(Phase::IdentifyWaiting);
            run.send(FlowEvent::CardReadFailed(CardReadFailure::Unreadable));
        }
        Phase::ReceiptFailed => {
            run.walk_to(Phase::PrintingReceipt);
            run.send(FlowEvent::ReceiptFailed {
                reason: "jam".into(),
            });
        }
        Phase::ResultFailed => {
            run.walk_to(Phase::PrintingDocument);
            run.send(FlowEvent::StepFailed {
                reason: "jam".into(),
            });
        }
        Phase::Failed => {
            run.walk_to(Phase::FaceCheck);
            run.send(FlowEvent::DeviceFault {
                class: DeviceClass::Camera,
            });
        }
        Phase::FaceAlternatives => {
            run.walk_to(Phase::FaceConsent);
            run.send(FlowEvent::ConsentDeclined);
        }
        Phase::StaffAssist => {
            run.walk_to(Phase::FaceConsent);
            run.send(FlowEvent::ConsentDeclined);
            run.send(FlowEvent::FaceOptionChosen(FaceOption::Staff));
        }
        other => {
            run.walk_to(other);
        }
    }
    assert_eq!(run.phase(), phase);
    run
}

fn every_phase() -> Vec<Phase> {
    let mut phases = WALKED.to_vec();
    phases.extend([
        Phase::IdentifyReading,
        Phase::IdentifyFailed,
        Phase::ReceiptFailed,
        Phase::ResultFailed,
        Phase::Failed,
        Phase::FaceAlternatives,
        Phase::StaffAssist,
    ]);
    phases
}

const BEFORE_COMMIT: [Phase; 13] = [
    Phase::IdentifyWaiting,
    Phase::IdentifyReading,
    Phase::IdentifyFailed,
    Phase::Consent,
    Phase::FaceConsent,
    Phase::FaceCheck,
    Phase::FaceAlternatives,
    Phase::StaffAssist,
    Phase::Form,
    Phase::Notice,
    Phase::Delivery,
    Phase::Confirm,
    Phase::Guide,
];

#[test]
fn timeout_in_every_phase() {
    for phase in every_phase() {
        let mut run = run_at(phase);
        // Not yet: one second before the deadline nothing happens.
        let deadline_in = run.view().seconds_left;
        if let Some(s) = deadline_in {
            let before = run.now + u64::from(s) * 1000 - 1;
            assert!(
                run.session.handle(FlowEvent::Tick, before).is_empty(),
                "{phase:?}"
            );
        }
        let fx = run.time_out();
        match phase {
            Phase::Guide => {
                assert!(abandoned(&fx).is_none());
                assert_wiped_and_home(&run, &fx);
            }
            p if BEFORE_COMMIT.contains(&p) => {
                let record = abandoned(&fx).unwrap_or_else(|| panic!("{p:?}: {fx:?}"));
                assert_eq!(record.outcome, TransactionOutcome::TimedOut, "{p:?}");
                assert!(record.abandoned_at_step.is_some());
                assert!(record.applicant.is_none() && record.form.is_empty());
                if p.is_identify() {
                    assert!(has(&fx, |e| *e == Effect::StopCardReading), "{p:?}");
                }
                if p == Phase::FaceCheck {
                    assert!(has(&fx, |e| *e == Effect::StopFaceCheck));
                }
                assert_wiped_and_home(&run, &fx);
            }
            Phase::Processing => assert_eq!(run.phase(), Phase::Failed),
            Phase::PrintingReceipt => {
                assert_eq!(run.phase(), Phase::ReceiptFailed);
                assert!(has(&fx, |e| matches!(e, Effect::RaiseDeviceFault { .. })));
            }
            Phase::PrintingDocument | Phase::CardOperation => {
                assert_eq!(run.phase(), Phase::ResultFailed, "{phase:?}");
                assert!(has(&fx, |e| matches!(e, Effect::RaiseDeviceFault { .. })));
            }
            Phase::Rate => {
                assert!(has(
                    &fx,
                    |e| matches!(e, Effect::RecordRating(r) if r.rating.is_none())
                ));
                assert_wiped_and_home(&run, &fx);
            }
            Phase::Goodbye | Phase::Failed => assert_eq!(fx, vec![Effect::ReturnHome]),
            _ => {
                // After the commit: nothing abandoned, just home.
                assert!(abandoned(&fx).is_none(), "{phase:?}");
                assert_wiped_and_home(&run, &fx);
            }
        }
    }
}

#[test]
fn warning_shows_before_the_deadline_and_activity_restarts_it() {
    let mut run = Run::new("simple");
    run.walk_to(Phase::Form);
    let start = run.now;
    let view = run.session.view(start + STEP_MS - 20_000);
    assert_eq!(view.seconds_left, Some(20));
    assert!(!view.warning);
    let view = run.session.view(start + STEP_MS - 15_000);
    assert!(view.warning);
    assert!(
        run.session
            .handle(FlowEvent::Activity, start + STEP_MS - 5_000)
            .is_empty()
    );
    let view = run.session.view(start + STEP_MS - 5_000);
    assert_eq!(view.seconds_left, Some(60));
    assert!(!view.warning);
    assert!(
        run.session
            .handle(FlowEvent::Tick, start + STEP_MS + 1)
            .is_empty()
    );
    assert_eq!(run.phase(), Phase::Form);
}

#[test]
fn device_fault_in_every_phase() {
    for phase in every_phase() {
        for class in DeviceClass::ALL {
            let mut run = run_at(phase);
            let had_commit = run.view().transaction_id.is_some();
            let fx = run.send(FlowEvent::DeviceFault { class });
            let step = run_at(phase).view().step_kind;
            let needed = step.and_then(StepKind::required_device) == Some(class);
            let ctx = format!("{phase:?} {class:?}: {fx:?}");
            match (phase, needed) {
                (
                    Phase::IdentifyWaiting
                    | Phase::IdentifyReading
                    | Phase::IdentifyFailed
                    | Phase::FaceConsent
                    | Phase::FaceCheck
                    | Phase::FaceAlternatives,
                    true,
                ) => {
                    assert!(
                        has(
                            &fx,
                            |e| matches!(e, Effect::RaiseDeviceFault { class: c, .. } if *c == class)
                        ),
                        "{ctx}"
                    );
                    assert_eq!(
                        abandoned(&fx).map(|r| r.outcome),
                        Some(TransactionOutcome::Failed),
                        "{ctx}"
                    );
                    assert_eq!(run.phase(), Phase::Failed, "{ctx}");
                    let m = run.view().message.expect("message");
                    assert_eq!(m.kind, MessageKind::DeviceFault);
                    assert!(m.next_steps.len() >= 2, "{ctx}");
                    assert!(run.view().can_cancel, "home is offered");
                    assert_nothing_personal(&run);
                }
                (Phase::PrintingReceipt, true) => {
                    assert_eq!(run.phase(), Phase::ReceiptFailed, "{ctx}");
                    assert!(abandoned(&fx).is_none());
                    assert!(had_commit);
                }
                (Phase::PrintingDocument | Phase::CardOperation, true) => {
                    assert_eq!(run.phase(), Phase::ResultFailed, "{ctx}");
                }
                _ => {
                    assert!(fx.is_empty(), "{ctx}");
                    assert_eq!(run.phase(), phase, "{ctx}");
                }
            }
        }
    }
}

#[test]
fn cancel_in_every_phase() {
    for phase in every_phase() {
        for event in [FlowEvent::Cancel, FlowEvent::GoHome] {
            let mut run = run_at(phase);
            let fx = run.send(event.clone());
            let ctx = format!("{phase:?} {event:?}: {fx:?}");
            if phase.is_busy() {
                assert!(fx.is_empty(), "{ctx}");
                assert_eq!(run.phase(), phase);
                continue;
            }
            if BEFORE_COMMIT.contains(&phase) && phase != Phase::Guide {
                let record = abandoned(&fx).expect(&ctx);
                assert_eq!(record.outcome, TransactionOutcome::Cancelled, "{ctx}");
            } else {
                assert!(abandoned(&fx).is_none(), "{ctx}");
            }
            if phase == Phase::Rate {
                assert!(has(
                    &fx,
                    |e| matches!(e, Effect::RecordRating(r) if r.rating.is_none())
                ));
            }
            assert_eq!(fx.last(), Some(&Effect::ReturnHome), "{ctx}");
            assert_eq!(run.phase(), Phase::Finished, "{ctx}");
            assert_nothing_personal(&run);
        }
    }
}

#[test]
fn back_goes_to_the_previous_step_before_the_commit_only() {
    let mut run = Run::new("simple");
    run.walk_to(Phase::Confirm);
    run.send(FlowEvent::Back);
    assert_eq!(run.phase(), Phase::Form);
    assert_eq!(
        run.view().form_fields[1].value,
        "13812345678",
        "answers kept"
    );
    run.send(FlowEvent::Back);
    assert_eq!(run.phase(), Phase::Consent);
    let fx = run.send(FlowEvent::Back);
    assert_eq!(fx, vec![Effect::StartCardReading]);
    assert_eq!(run.phase(), Phase::IdentifyWaiting);
    assert!(
        run.view().applicant.is_none(),
        "re-identify forgets the card"
    );
    let fx = run.send(FlowEvent::Back);
    assert_eq!(fx, vec![Effect::StopCardReading]);
    assert_eq!(run.phase(), Phase::Guide);
    assert!(run.send(FlowEvent::Back).is_empty());

    for phase in [
        Phase::Processing,
        Phase::ReceiptPrinted,
        Phase::Rate,
        Phase::Goodbye,
    ] {
        let mut run = Run::new("simple");
        run.walk_to(phase);
        assert!(!run.view().can_go_back);
        assert!(run.send(FlowEvent::Back).is_empty());
        assert_eq!(run.phase(), phase);
    }
}

#[test]
fn back_from_face_check_stops_the_camera() {
    let mut run = Run::new("full");
    run.walk_to(Phase::FaceCheck);
    let fx = run.send(FlowEvent::Back);
    assert_eq!(fx, vec![Effect::StopFaceCheck]);
    assert_eq!(run.phase(), Phase::Consent);
}

#[test]
fn back_from_face_consent_goes_to_the_previous_step_without_the_camera() {
    let mut run = Run::new("full");
    run.walk_to(Phase::FaceConsent);
    let fx = run.send(FlowEvent::Back);
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(run.phase(), Phase::Consent);
}

#[test]
fn missing_device_before_the_commit_ends_the_session() {
    let mut run = Run::with_devices(
        "full",
        DevicePresence::with_present([DeviceClass::IdCardReader]),
    );
    let fx = run.walk_to(Phase::Failed);
    assert!(!has(&fx, |e| matches!(e, Effect::StartFaceCheck { .. })));
    let record = abandoned(&fx).expect("record");
    assert_eq!(record.abandoned_at_step.as_deref(), Some("face_check"));
    let m = run.view().message.expect("message");
    assert_eq!(m.kind, MessageKind::DeviceUnavailable);
    assert!(m.body.zh.contains("摄像头"));
}

#[test]
fn missing_printer_after_the_commit_keeps_the_transaction() {
    let mut run = Run::with_devices(
        "simple",
        DevicePresence::with_present([DeviceClass::IdCardReader]),
    );
    let fx = run.walk_to(Phase::ReceiptFailed);
    assert!(!has(&fx, |e| matches!(e, Effect::PrintReceipt(_))));
    assert!(!has(&fx, |e| matches!(e, Effect::RaiseDeviceFault { .. })));
    assert_eq!(
        run.view().message.map(|m| m.kind),
        Some(MessageKind::ReceiptFailed)
    );
    run.send(FlowEvent::Continue);
    assert_eq!(run.phase(), Phase::Rate);
}

#[test]
fn device_fault_then_recovery_before_the_step_needs_it() {
    let mut run = Run::new("simple");
    run.walk_to(Phase::Form);
    assert!(
        run.send(FlowEvent::DeviceFault {
            class: DeviceClass::ReceiptPrinter
        })
        .is_empty()
    );
    assert!(
        run.send(FlowEvent::DeviceRecovered {
            class: DeviceClass::ReceiptPrinter
        })
        .is_empty()
    );
    run.walk_to(Phase::PrintingReceipt);
    assert_eq!(run.phase(), Phase::PrintingReceipt);

    let mut run = Run::new("simple");
    run.walk_to(Phase::Form);
    run.send(FlowEvent::DeviceFault {
        class: DeviceClass::ReceiptPrinter,
    });
    run.walk_to(Phase::ReceiptFailed);
    assert!(run.view().transaction_id.is_some());
}

#[test]
fn events_out_of_place_are_ignored() {
    let mut run = Run::new("simple");
    for event in [
        FlowEvent::ConsentGiven,
        FlowEvent::Confirmed,
        FlowEvent::ReceiptPrinted,
        FlowEvent::Rated(3),
        FlowEvent::SubmitCommitted {
            transaction_id: "x".into(),
        },
        FlowEvent::CardRead(applicant()),
    ] {
        assert!(run.send(event).is_empty());
        assert_eq!(run.phase(), Phase::Guide);
    }
}

#[test]
fn demo_catalogue_items_walk_with_the_demo_devices() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../kiosk-config/catalogue.toml");
    let catalogue = Catalogue::load(path).expect("demo catalogue");
    let devices =
        DevicePresence::with_present([DeviceClass::IdCardReader, DeviceClass::ReceiptPrinter]);
    let item = catalogue.item("gjj-withdrawal").expect("item");
    let (session, _) = Session::start(item, ctx(devices), T0);
    let mut run = Run { session, now: T0 };
    let session = &mut run;
    let send = |r: &mut Run, e: FlowEvent| r.send(e);
    send(session, FlowEvent::Begin);
    send(session, FlowEvent::CardRead(applicant()));
    send(session, FlowEvent::ConsentGiven);
    assert_eq!(session.phase(), Phase::Form);
    for (key, value) in [
        ("reason", "rent"),
        ("amount", "3000"),
        ("bank_card", "6222020200112233"),
        ("phone", "13912345678"),
    ] {
        send(
            session,
            FlowEvent::FormInput {
                key: key.into(),
                value: value.into(),
            },
        );
    }
    send(session, FlowEvent::FormSubmitted);
    assert_eq!(session.phase(), Phase::Confirm);
    let view = session.view();
    assert!(view.summary.iter().any(|l| l.value.zh == "租房提取"));
    assert!(
        view.summary
            .iter()
            .any(|l| l.value.zh == "************2233")
    );
    let fx = send(session, FlowEvent::Confirmed);
    let Some(Effect::CommitSubmission { record, .. }) = fx.first() else {
        panic!("commit expected")
    };
    assert_eq!(
        record.form.get("bank_card").map(String::as_str),
        Some("************2233")
    );
    send(
        session,
        FlowEvent::SubmitCommitted {
            transaction_id: record.transaction_id.clone(),
        },
    );
    assert_eq!(session.phase(), Phase::PrintingReceipt);
}

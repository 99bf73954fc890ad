//! Draws a [`ScreenModel`] into the Slint `Kiosk` global. No business rules: which page, which
//! words and which buttons follow from the flow engine's view alone.

use super::model::DiagView;
use super::model::ScreenModel;
use super::qr_image::qr_image;
use crate::{
    AppWindow, ChannelCode, DepartmentChip, Diag, DiagChoice, DiagRow, FormFieldView, GuideSection,
    ItemTile, Kiosk, Settings, SummaryLine,
};
use kiosk_core::catalogue::{CardType, FieldType};
use kiosk_core::flow::{Phase, SessionView};
use kiosk_core::text::{Language, LocalizedText};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

fn model<T: Clone + 'static>(items: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(items))
}

fn tr(zh: &str, en: &str, language: Language) -> SharedString {
    match language {
        Language::Zh => zh.into(),
        Language::En => en.into(),
    }
}

/// The Slint page that shows a flow phase.
pub fn page_for(phase: Phase) -> &'static str {
    match phase {
        Phase::Guide => "guide",
        Phase::IdentifyWaiting | Phase::IdentifyReading | Phase::IdentifyFailed => "identify",
        Phase::Consent => "consent",
        Phase::FaceConsent => "face-consent",
        Phase::FaceCheck => "face",
        Phase::FaceAlternatives => "face-options",
        Phase::StaffAssist => "staff",
        Phase::Form => "form",
        Phase::Notice => "notice",
        Phase::Delivery => "delivery",
        Phase::Confirm => "confirm",
        Phase::Processing | Phase::PrintingDocument | Phase::CardOperation => "processing",
        Phase::PrintingReceipt | Phase::ReceiptPrinted | Phase::ReceiptFailed => "receipt",
        Phase::ResultFailed | Phase::Failed => "message",
        Phase::Rate => "rate",
        Phase::Goodbye => "goodbye",
        Phase::Finished => "home",
    }
}

/// Headline and detail for phases that have no flow message of their own.
fn phase_texts(phase: Phase) -> (LocalizedText, LocalizedText) {
    let t = LocalizedText::new;
    match phase {
        Phase::IdentifyWaiting => (
            t(
                "请将身份证放在读卡区",
                "Please place your ID card on the reader",
            ),
            t(
                "将证件平放在下方感应区，读卡完成前请勿移动。",
                "Lay the card flat on the reader below and keep it still until it has been read.",
            ),
        ),
        Phase::IdentifyReading => (
            t(
                "正在读取证件，请勿移动",
                "Reading your card, please keep it still",
            ),
            t(
                "读卡通常需要 1–2 秒。",
                "Reading usually takes one or two seconds.",
            ),
        ),
        Phase::FaceCheck => (
            t("人脸核验", "Face check"),
            t("正在打开摄像头…", "Starting the camera…"),
        ),
        Phase::FaceAlternatives => (
            t(
                "请选择核验身份的方式",
                "How would you like to prove who you are?",
            ),
            t(
                "不使用摄像头也可以办理：工作人员可以到场核对您的证件。",
                "You can go on without the camera: a member of staff can check your card in person.",
            ),
        ),
        Phase::StaffAssist => (
            t(
                "已呼叫工作人员，请稍候",
                "Staff have been called, please wait",
            ),
            t(
                "工作人员核对您本人与证件后，将在此输入工作人员密码。",
                "A member of staff will check you against your card and enter their PIN here.",
            ),
        ),
        Phase::Processing => (
            t("正在提交，请稍候", "Submitting, please wait"),
            t(
                "请不要离开，马上就好。",
                "Please stay, this takes only a moment.",
            ),
        ),
        Phase::PrintingReceipt => (
            t("正在打印回执，请稍候", "Printing your receipt, please wait"),
            t(
                "回执将从下方出纸口送出。",
                "The receipt comes out of the slot below.",
            ),
        ),
        Phase::ReceiptPrinted => (
            t(
                "回执已打印，请取走回执",
                "Your receipt is printed, please take it",
            ),
            t(
                "请凭回执上的办件编号查询办理进度。",
                "Use the transaction number on the receipt to follow your application.",
            ),
        ),
        Phase::PrintingDocument => (
            t(
                "正在打印文书，请稍候",
                "Printing your document, please wait",
            ),
            LocalizedText::default(),
        ),
        Phase::CardOperation => (
            t("正在处理卡片，请稍候", "Processing your card, please wait"),
            LocalizedText::default(),
        ),
        Phase::Delivery => (
            t(
                "请选择领取方式",
                "How would you like to receive the result?",
            ),
            LocalizedText::default(),
        ),
        Phase::Goodbye => (
            t("办理完成，谢谢您！", "All done, thank you!"),
            t(
                "请带好您的身份证件和回执。",
                "Please take your ID card and your receipt with you.",
            ),
        ),
        _ => (LocalizedText::default(), LocalizedText::default()),
    }
}

fn field_kind(field_type: &FieldType) -> &'static str {
    match field_type {
        FieldType::Digits => "digits",
        FieldType::Phone => "phone",
        FieldType::Choice => "choice",
        FieldType::Date => "date",
    }
}

/// Draws the whole screen.
pub fn render(window: &AppWindow, screen: &ScreenModel, active_field: usize) {
    let lang = screen.language;
    let settings = window.global::<Settings>();
    settings.set_english(lang == Language::En);
    settings.set_elder(screen.elder_mode);
    settings.set_portrait(screen.portrait);

    let k = window.global::<Kiosk>();
    k.set_kiosk_name(screen.kiosk_name.clone().into());
    k.set_clock(screen.clock.clone().into());
    k.set_items(model(
        screen
            .home
            .tiles
            .iter()
            .map(|t| ItemTile {
                code: t.code.clone().into(),
                name: t.name.get(lang).into(),
                department: t.department.get(lang).into(),
                available: t.available,
                reason: t
                    .reason
                    .as_ref()
                    .map(|r| r.get(lang))
                    .unwrap_or_default()
                    .into(),
            })
            .collect(),
    ));
    k.set_departments(model(
        screen
            .home
            .departments
            .iter()
            .map(|d| DepartmentChip {
                code: d.code.clone().into(),
                name: d.name.get(lang).into(),
            })
            .collect(),
    ));
    k.set_selected_department(screen.home.selected_department.clone().into());
    k.set_disinfection_note(screen.disinfection_note.get(lang).into());

    if let Some(diag) = &screen.diagnostics {
        k.set_page("diag".into());
        clear_session(&k);
        render_diag(window, diag, lang);
        return;
    }
    render_diag(window, &DiagView::default(), lang);
    match &screen.session {
        None => render_home(&k),
        Some(view) => render_session(&k, screen, view, active_field),
    }
}

/// Draws the diagnostics screens (an empty view when diagnostics mode is closed, so nothing
/// of it stays in the UI).
fn render_diag(window: &AppWindow, view: &DiagView, lang: Language) {
    let d = window.global::<Diag>();
    d.set_page(view.page.clone().into());
    d.set_staff_id(view.staff_id.clone().into());
    d.set_pin_length(view.pin_length as i32);
    d.set_entry(view.entry.clone().into());
    d.set_message(view.message.get(lang).into());
    d.set_message_bad(view.message_bad);
    d.set_disinfection(view.disinfection.get(lang).into());
    d.set_overdue(view.overdue);
    d.set_rows(model(
        view.rows
            .iter()
            .map(|r| DiagRow {
                title: r.title.get(lang).into(),
                detail: r.detail.get(lang).into(),
                tone: r.tone.into(),
                action: r.action.clone().into(),
                action_label: r.action_label.get(lang).into(),
                action2: r.action2.clone().into(),
                action2_label: r.action2_label.get(lang).into(),
            })
            .collect(),
    ));
    let choices = |list: &[super::model::DiagChoiceModel]| {
        model(
            list.iter()
                .map(|c| DiagChoice {
                    action: c.action.clone().into(),
                    label: c.label.get(lang).into(),
                    selected: c.selected,
                })
                .collect(),
        )
    };
    d.set_choices_a(choices(&view.choices_a));
    d.set_choices_b(choices(&view.choices_b));
    d.set_choices_c(choices(&view.choices_c));
}

fn render_home(k: &Kiosk<'_>) {
    k.set_page("home".into());
    clear_session(k);
}

/// Removes every trace of a session from the screen (idle, cancel, home).
fn clear_session(k: &Kiosk<'_>) {
    k.set_item_name(SharedString::default());
    k.set_item_department(SharedString::default());
    k.set_guide(model(Vec::new()));
    k.set_step_label(SharedString::default());
    k.set_countdown_visible(false);
    k.set_seconds_left(0);
    k.set_warning(false);
    k.set_headline(SharedString::default());
    k.set_detail(SharedString::default());
    k.set_is_error(false);
    k.set_busy(false);
    k.set_can_retry(false);
    k.set_can_continue(false);
    k.set_next_steps(model(Vec::new()));
    k.set_consent_text(SharedString::default());
    k.set_fields(model(Vec::new()));
    k.set_active_field(0);
    k.set_summary(model(Vec::new()));
    k.set_transaction_id(SharedString::default());
    k.set_options(model(Vec::new()));
    k.set_channels(model(Vec::new()));
    k.set_staff_pin_length(0);
    clear_preview(k);
}

/// Draws the latest camera frame and the face outline on the face-check page.
pub fn render_preview(window: &AppWindow, frame: &crate::devices::PreviewFrame) {
    let k = window.global::<Kiosk>();
    let buffer = slint::SharedPixelBuffer::<slint::Rgb8Pixel>::clone_from_slice(
        &frame.rgb,
        frame.width,
        frame.height,
    );
    k.set_camera_frame(slint::Image::from_rgb8(buffer));
    match frame.face_box {
        Some((x, y, w, h)) => {
            k.set_face_seen(true);
            k.set_face_x(x);
            k.set_face_y(y);
            k.set_face_w(w);
            k.set_face_h(h);
        }
        None => k.set_face_seen(false),
    }
}

/// Forgets the camera picture (the check ended).
pub fn clear_preview(k: &Kiosk<'_>) {
    k.set_camera_frame(slint::Image::default());
    k.set_face_seen(false);
}

fn render_session(k: &Kiosk<'_>, screen: &ScreenModel, view: &SessionView, active_field: usize) {
    let lang = screen.language;
    k.set_page(page_for(view.phase).into());
    k.set_item_name(view.item_name.get(lang).into());
    k.set_item_department(view.department_name.get(lang).into());
    k.set_guide(model(
        screen
            .guide
            .iter()
            .map(|(title, body)| GuideSection {
                title: title.get(lang).into(),
                body: body.get(lang).into(),
            })
            .collect(),
    ));
    k.set_step_label(if view.step_count > 0 && view.step_number > 0 {
        match lang {
            Language::Zh => format!("第 {} 步，共 {} 步", view.step_number, view.step_count),
            Language::En => format!("Step {} of {}", view.step_number, view.step_count),
        }
        .into()
    } else {
        tr("办事指南", "Service guide", lang)
    });
    k.set_countdown_visible(view.seconds_left.is_some());
    k.set_seconds_left(view.seconds_left.unwrap_or(0) as i32);
    k.set_warning(view.warning);

    let (headline, detail, is_error, next_steps) = match &view.message {
        Some(m) => {
            let mut steps: Vec<SharedString> =
                m.next_steps.iter().map(|s| s.get(lang).into()).collect();
            if let Some(url) = &m.online_url {
                steps.push(format!("{}{url}", tr("网上办理：", "Online: ", lang)).into());
            }
            if !m.service_phone.is_empty() {
                steps.push(
                    format!(
                        "{}{}",
                        tr("服务电话：", "Service phone: ", lang),
                        m.service_phone
                    )
                    .into(),
                );
            }
            (
                m.title.get(lang).into(),
                m.body.get(lang).into(),
                true,
                steps,
            )
        }
        None => match (&view.notice, view.phase) {
            (Some(notice), Phase::Notice) => (
                notice
                    .title
                    .as_ref()
                    .map(|t| t.get(lang).into())
                    .unwrap_or_else(|| tr("请注意", "Please note", lang)),
                notice.text.get(lang).into(),
                false,
                Vec::new(),
            ),
            _ => {
                let (h, mut d) = phase_texts(view.phase);
                if view.phase == Phase::IdentifyWaiting && screen.accepts_codes {
                    d.zh.push_str("也可将预约二维码对准扫码口。");
                    d.en.push_str(" You can also hold your appointment QR code to the scanner.");
                }
                // The device's own stage ("insert your card", "take your card") when it has one.
                if let Some(progress) = &view.progress {
                    d = progress.clone();
                }
                (h.get(lang).into(), d.get(lang).into(), false, Vec::new())
            }
        },
    };
    k.set_headline(headline);
    k.set_detail(detail);
    k.set_is_error(is_error);
    k.set_next_steps(model(next_steps));
    k.set_busy(matches!(
        view.phase,
        Phase::IdentifyReading | Phase::Processing | Phase::PrintingReceipt
    ));
    k.set_can_retry(false);
    k.set_can_continue(matches!(
        view.phase,
        Phase::Notice
            | Phase::ReceiptPrinted
            | Phase::ReceiptFailed
            | Phase::ResultFailed
            | Phase::Goodbye
            | Phase::Failed
    ));
    k.set_consent_text(
        view.consent_text
            .as_ref()
            .map(|t| t.get(lang).into())
            .unwrap_or_default(),
    );
    k.set_fields(model(
        view.form_fields
            .iter()
            .map(|f| FormFieldView {
                key: f.key.clone().into(),
                label: f.label.get(lang).into(),
                value: match f.field_type {
                    FieldType::Choice => f
                        .choices
                        .iter()
                        .find(|c| c.value == f.value)
                        .map(|c| c.label.get(lang).to_string())
                        .unwrap_or_default()
                        .into(),
                    _ => f.value.clone().into(),
                },
                hint: f
                    .hint
                    .as_ref()
                    .map(|h| h.get(lang))
                    .unwrap_or_default()
                    .into(),
                error: f
                    .error
                    .as_ref()
                    .map(|e| e.get(lang))
                    .unwrap_or_default()
                    .into(),
                kind: field_kind(&f.field_type).into(),
                choices: model(f.choices.iter().map(|c| c.label.get(lang).into()).collect()),
            })
            .collect(),
    ));
    k.set_active_field(active_field as i32);
    let mut summary: Vec<SummaryLine> = Vec::new();
    if let Some(applicant) = &view.applicant {
        let card = CardType::ALL
            .into_iter()
            .find(|c| c.as_str() == applicant.card_type);
        if let Some(card) = card {
            summary.push(SummaryLine {
                label: tr("证件类型", "Document", lang),
                value: card.display_name().get(lang).into(),
            });
        }
        if !applicant.masked_name.is_empty() {
            summary.push(SummaryLine {
                label: tr("申请人", "Applicant", lang),
                value: applicant.masked_name.clone().into(),
            });
        }
        let (zh, en) = match card {
            Some(CardType::AppointmentCode) => ("预约码", "Appointment code"),
            Some(CardType::EId) => ("电子身份证码", "e-ID code"),
            Some(CardType::ForeignPermanentResidence) => {
                ("永久居留证件号码", "Permanent residence number")
            }
            Some(CardType::HkMacaoTaiwanResidence) => ("居住证号码", "Residence permit number"),
            _ => ("公民身份号码", "ID number"),
        };
        summary.push(SummaryLine {
            label: tr(zh, en, lang),
            value: applicant.masked_id_number.clone().into(),
        });
    }
    summary.extend(view.summary.iter().map(|line| SummaryLine {
        label: line.label.get(lang).into(),
        value: line.value.get(lang).into(),
    }));
    k.set_summary(model(summary));
    k.set_transaction_id(view.transaction_id.clone().unwrap_or_default().into());
    let channels: Vec<(LocalizedText, String)> = match (&view.message, view.phase) {
        (Some(m), _) => m
            .online_url
            .iter()
            .map(|url| (LocalizedText::new("网上办理", "Online"), url.clone()))
            .collect(),
        (None, Phase::Guide) => screen.channels.clone(),
        _ => Vec::new(),
    };
    k.set_channels(model(
        channels
            .iter()
            .filter_map(|(label, url)| {
                qr_image(url, 5).map(|code| ChannelCode {
                    label: label.get(lang).into(),
                    url: url.clone().into(),
                    code,
                })
            })
            .collect(),
    ));
    let mut options: Vec<SharedString> = view
        .delivery_options
        .iter()
        .map(|o| o.label().get(lang).into())
        .collect();
    options.extend(view.face_options.iter().map(|o| o.label().get(lang).into()));
    k.set_options(model(options));
    if view.phase == Phase::StaffAssist {
        let (digits, refusal) = &screen.staff_pin;
        k.set_staff_pin_length(*digits as i32);
        k.set_next_steps(model(refusal.iter().map(|m| m.get(lang).into()).collect()));
    } else {
        k.set_staff_pin_length(0);
    }
}

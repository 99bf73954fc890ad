use super::*;
use crate::device::{DeviceClass, DevicePresence};
use std::path::Path;

fn demo() -> Catalogue {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../kiosk-config/catalogue.toml");
    match Catalogue::load(&path) {
        Ok(c) => c,
        Err(e) => panic!("demo catalogue: {e}"),
    }
}

const SMALL: &str = r#"
format = 1
version = 7
published_at = "2026-11-20T09:00:00+08:00"

[[departments]]
code = "zwfw"
name = { zh = "政务服务管理局", en = "Government Services" }

[[items]]
code = "checkin"
name = { zh = "预约取号", en = "Appointment check-in" }
department = "zwfw"
category = { zh = "综合", en = "General" }
keywords = ["yyqh"]
[items.guide]
conditions = { zh = "已预约", en = "Booked" }
materials = { zh = "身份证", en = "ID card" }
fee = { zh = "免费", en = "Free" }
time_limit = { zh = "即时", en = "At once" }
legal_basis = { zh = "办法", en = "Rules" }
result_delivery = { zh = "凭条", en = "Receipt" }
[[items.steps]]
kind = "identify"
[[items.steps]]
kind = "form"
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
"#;

fn error_of(text: &str) -> String {
    match Catalogue::parse(text) {
        Ok(_) => panic!("catalogue unexpectedly valid"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn small_catalogue_parses() {
    let c = Catalogue::parse(SMALL).expect("valid");
    assert_eq!(c.version, 7);
    let item = c.item("checkin").expect("item");
    assert_eq!(item.department_name.zh, "政务服务管理局");
    assert_eq!(item.allowed_cards, vec![CardType::Resident]);
    assert_eq!(item.hours, Hours::default());
    assert_eq!(
        item.steps.iter().map(Step::kind).collect::<Vec<_>>(),
        vec![
            StepKind::Identify,
            StepKind::Form,
            StepKind::Submit,
            StepKind::PrintReceipt,
            StepKind::Rate
        ]
    );
    let Step::Form(form) = &item.steps[1] else {
        panic!("form expected")
    };
    assert!(form.fields[0].required);
    assert_eq!(form.fields[0].field_type, FieldType::Phone);
}

#[test]
fn demo_catalogue_loads_with_every_step_kind() {
    let c = demo();
    assert!(c.items.len() >= 8);
    assert!(c.departments.len() >= 10);
    for kind in StepKind::ALL {
        assert!(
            c.items
                .iter()
                .any(|i| i.steps.iter().any(|s| s.kind() == kind)),
            "no demo item uses {kind}"
        );
    }
    for item in &c.items {
        let g = &item.guide;
        for (name, text) in [
            ("conditions", &g.conditions),
            ("materials", &g.materials),
            ("fee", &g.fee),
            ("time_limit", &g.time_limit),
            ("legal_basis", &g.legal_basis),
            ("result_delivery", &g.result_delivery),
        ] {
            assert!(
                !text.zh.is_empty() && !text.en.is_empty(),
                "{} {name}",
                item.code
            );
        }
        assert!(!item.name.en.is_empty(), "{}", item.code);
        assert!(item.channels.online.is_some(), "{}", item.code);
    }
}

#[test]
fn demo_has_three_items_the_demo_kiosk_can_walk() {
    let c = demo();
    let demo_devices =
        DevicePresence::with_present([DeviceClass::IdCardReader, DeviceClass::ReceiptPrinter]);
    let walkable: Vec<&str> = c
        .availability(&demo_devices)
        .into_iter()
        .filter(|a| a.available)
        .map(|a| a.code)
        .filter_map(|code| c.item(&code).map(|i| i.code.as_str()))
        .collect();
    assert!(walkable.len() >= 3, "{walkable:?}");
    assert!(walkable.contains(&"gjj-withdrawal"));
}

#[test]
fn housing_fund_form_has_digits_and_phone() {
    let c = demo();
    let item = c.item("gjj-withdrawal").expect("item");
    let types: Vec<FieldType> = item
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Form(f) => Some(f.fields.iter().map(|f| f.field_type)),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(types.contains(&FieldType::Digits) && types.contains(&FieldType::Phone));
}

#[test]
fn unknown_step_kind_lists_the_valid_ones() {
    let msg = error_of(&SMALL.replace("kind = \"submit\"", "kind = \"scan\""));
    assert!(
        msg.starts_with("item `checkin`: steps[2].kind: unknown step kind `scan`"),
        "{msg}"
    );
    for kind in StepKind::ALL {
        assert!(msg.contains(kind.as_str()), "{msg}");
    }
}

#[test]
fn duplicate_item_code_is_named() {
    let start = SMALL.find("[[items]]").expect("items");
    let twice = format!("{SMALL}\n{}", &SMALL[start..]);
    let msg = error_of(&twice);
    assert!(
        msg.starts_with("item `checkin`: code: duplicate item code"),
        "{msg}"
    );
}

#[test]
fn missing_chinese_name_is_named() {
    let msg = error_of(&SMALL.replace(
        "name = { zh = \"预约取号\", en = \"Appointment check-in\" }",
        "name = { en = \"Appointment check-in\" }",
    ));
    assert_eq!(msg, "item `checkin`: name.zh: missing Chinese name");
}

#[test]
fn unknown_department_is_named() {
    let msg = error_of(&SMALL.replace("department = \"zwfw\"", "department = \"police\""));
    assert!(
        msg.starts_with("item `checkin`: department: unknown department `police`"),
        "{msg}"
    );
}

#[test]
fn bad_form_field_type_is_named() {
    let msg = error_of(&SMALL.replace("type = \"phone\"", "type = \"number\""));
    assert!(
        msg.starts_with(
            "item `checkin`: steps[1].fields[0].type: field `phone` has unknown type `number`"
        ),
        "{msg}"
    );
    assert!(msg.contains("digits, phone, choice, date"), "{msg}");
}

#[test]
fn wrong_format_is_rejected() {
    let msg = error_of(&SMALL.replace("format = 1", "format = 2"));
    assert_eq!(
        msg,
        "format: catalogue format 2 is not supported (this kiosk reads format 1)"
    );
    let msg = error_of(&SMALL.replace("format = 1\n", ""));
    assert!(msg.starts_with("format: missing required key"), "{msg}");
}

#[test]
fn unknown_item_key_is_named() {
    let msg = error_of(&SMALL.replace("keywords = [\"yyqh\"]", "keywrods = [\"yyqh\"]"));
    assert!(
        msg.starts_with("item `checkin`: keywrods: unknown key"),
        "{msg}"
    );
}

#[test]
fn unknown_step_key_is_named() {
    let msg = error_of(&SMALL.replace("kind = \"submit\"", "kind = \"submit\"\ntemplate = \"x\""));
    assert!(
        msg.starts_with("item `checkin`: steps[2].template: unknown key"),
        "{msg}"
    );
}

#[test]
fn steps_in_the_wrong_order_are_rejected() {
    let text = SMALL.replace("kind = \"submit\"", "kind = \"consent\"");
    let msg = error_of(&text);
    assert!(msg.contains("exactly one `submit`"), "{msg}");
    let text = SMALL
        .replace("kind = \"print_receipt\"", "kind = \"__tmp\"")
        .replace("kind = \"identify\"", "kind = \"print_receipt\"")
        .replace("kind = \"__tmp\"", "kind = \"identify\"");
    let msg = error_of(&text);
    assert!(msg.contains("must come after `submit`"), "{msg}");
}

#[test]
fn choice_field_needs_choices() {
    let msg = error_of(&SMALL.replace("type = \"phone\"", "type = \"choice\""));
    assert!(
        msg.starts_with("item `checkin`: steps[1].fields[0].choices:"),
        "{msg}"
    );
}

#[test]
fn bad_channel_url_is_named() {
    let text = SMALL.replace(
        "[items.guide]",
        "[items.channels]\nonline = \"www.x.cn\"\n[items.guide]",
    );
    let msg = error_of(&text);
    assert!(msg.starts_with("item `checkin`: channels.online:"), "{msg}");
}

#[test]
fn availability_follows_devices() {
    let c = demo();
    let none = c.availability(&DevicePresence::none());
    assert!(none.iter().all(|a| !a.available));
    let gjj = none
        .iter()
        .find(|a| a.code == "gjj-withdrawal")
        .expect("gjj");
    assert_eq!(
        gjj.reason,
        Some(UnavailableReason::DeviceMissing(DeviceClass::IdCardReader))
    );

    let all = c.availability(&DevicePresence::all());
    assert!(all.iter().all(|a| a.available && a.reason.is_none()));

    let demo_kiosk =
        DevicePresence::with_present([DeviceClass::IdCardReader, DeviceClass::ReceiptPrinter]);
    let a = c.availability(&demo_kiosk);
    let temp_id = a
        .iter()
        .find(|a| a.code == "temp-identity-certificate")
        .expect("item");
    assert!(!temp_id.available);
    assert_eq!(
        temp_id.reason,
        Some(UnavailableReason::DeviceMissing(DeviceClass::Camera))
    );
    let text = temp_id.reason.expect("reason").text();
    assert!(text.zh.contains("摄像头") && text.en.contains("camera"));
}

#[test]
fn faulty_device_makes_items_unavailable_with_reason() {
    let c = demo();
    let mut devices =
        DevicePresence::with_present([DeviceClass::IdCardReader, DeviceClass::ReceiptPrinter]);
    devices.set_faulty(DeviceClass::ReceiptPrinter, true);
    let gjj = c
        .item("gjj-withdrawal")
        .expect("item")
        .availability(&devices);
    assert!(!gjj.available);
    assert_eq!(
        gjj.reason,
        Some(UnavailableReason::DeviceFaulty(DeviceClass::ReceiptPrinter))
    );
    assert!(gjj.reason.expect("reason").text().zh.contains("凭条打印机"));
}

#[test]
fn central_offline_pauses_items_that_need_it() {
    let c = demo();
    let a = c.availability_with_central(&DevicePresence::all(), false);
    let gjj = a.iter().find(|a| a.code == "gjj-withdrawal").expect("gjj");
    assert_eq!(gjj.reason, Some(UnavailableReason::CentralOffline));
    let checkin = a
        .iter()
        .find(|a| a.code == "appointment-checkin")
        .expect("checkin");
    assert!(checkin.available);
}

#[test]
fn search_finds_pinyin_initials_and_names() {
    let c = demo();
    let codes = |q: &str| -> Vec<String> { c.search(q).iter().map(|i| i.code.clone()).collect() };
    assert_eq!(
        codes("gjj").first().map(String::as_str),
        Some("gjj-withdrawal")
    );
    assert_eq!(
        codes("lssfzm").first().map(String::as_str),
        Some("temp-identity-certificate")
    );
    assert!(codes("公积金").contains(&"gjj-withdrawal".to_string()));
    assert!(codes("  GJJ ").contains(&"gjj-withdrawal".to_string()));
    assert!(codes("Passport").is_empty() || !codes("tax").is_empty());
    assert!(codes("tax").contains(&"personal-tax-record".to_string()));
    assert!(codes("").is_empty());
    assert!(codes("不存在的事项").is_empty());
}

#[test]
fn hours_are_checked() {
    let c = demo();
    let checkin = c.item("appointment-checkin").expect("item");
    assert!(checkin.hours.is_open_at(9 * 60));
    assert!(!checkin.hours.is_open_at(20 * 60));
    let msg = error_of(&SMALL.replace(
        "[items.guide]",
        "[items.hours]\nopen = \"8:00\"\nclose = \"20:00\"\n[items.guide]",
    ));
    assert!(msg.starts_with("item `checkin`: hours.open:"), "{msg}");
}

// ----- printouts: document templates and receipt QR codes ------------------------------------

/// SMALL with a certificate template and a print_document step using it.
fn with_document(template_extra: &str, row_source: &str) -> String {
    SMALL
        .replace(
            "[[items]]",
            &format!(
                "[[document_templates]]\nid = \"cert\"\ntitle = {{ zh = \"证明\", en = \"Certificate\" }}\n\
                 issuer = \"zwfw\"\nverify_url = \"https://v.example.gov.cn/?c=\"\n{template_extra}\n\
                 rows = [{{ label = {{ zh = \"值\", en = \"Value\" }}, source = \"{row_source}\" }}]\n\n[[items]]"
            ),
        )
        .replace(
            "kind = \"print_receipt\"",
            "kind = \"print_document\"\ntemplate = \"cert\"",
        )
}

#[test]
fn document_step_gets_its_resolved_template() {
    let c = Catalogue::parse(&with_document("", "field.phone")).expect("valid");
    let item = c.item("checkin").unwrap();
    let layout = item
        .steps
        .iter()
        .find_map(|s| match s {
            Step::PrintDocument(d) => d.layout.clone(),
            _ => None,
        })
        .expect("layout resolved");
    assert_eq!(layout.issuer_name.zh, "政务服务管理局");
    assert_eq!(layout.rows[0].1, RowSource::Field("phone".into()));
}

#[test]
fn document_template_mistakes_are_named() {
    let unknown = error_of(
        &with_document("", "field.phone")
            .replace("template = \"cert\"", "template = \"certificat\""),
    );
    assert!(unknown.contains("steps[3].template"), "{unknown}");
    assert!(
        unknown.contains("unknown document template `certificat`"),
        "{unknown}"
    );
    assert!(unknown.contains("cert"), "{unknown}");

    let source = error_of(&with_document("", "applicant.address"));
    assert!(
        source.contains("document_templates[0].rows[0].source"),
        "{source}"
    );
    assert!(source.contains("field.<key>"), "{source}");

    let field = error_of(&with_document("", "field.bank_card"));
    assert!(field.contains("item `checkin`"), "{field}");
    assert!(field.contains("`bank_card`"), "{field}");

    let validity = error_of(&with_document("", "valid_until"));
    assert!(validity.contains("validity_days"), "{validity}");
    assert!(Catalogue::parse(&with_document("validity_days = 30", "valid_until")).is_ok());

    let url = error_of(
        &with_document("", "issued_on").replace("https://v.example.gov.cn/?c=", "http://v"),
    );
    assert!(url.contains("document_templates[0].verify_url"), "{url}");

    let issuer = error_of(
        &with_document("", "issued_on").replace("issuer = \"zwfw\"", "issuer = \"police\""),
    );
    assert!(issuer.contains("document_templates[0].issuer"), "{issuer}");
}

#[test]
fn receipts_get_the_catalogue_progress_url_unless_they_name_their_own() {
    let receipt_qr = |c: &Catalogue| {
        c.item("checkin")
            .unwrap()
            .steps
            .iter()
            .find_map(|s| match s {
                Step::PrintReceipt(r) => Some(r.qr.clone()),
                _ => None,
            })
            .unwrap()
    };
    let none = Catalogue::parse(SMALL).unwrap();
    assert_eq!(receipt_qr(&none), None);
    let text = SMALL.replace(
        "[[departments]]",
        "progress_url = \"https://p.example.gov.cn/?tx=\"\n\n[[departments]]",
    );
    let qr = receipt_qr(&Catalogue::parse(&text).unwrap()).expect("default qr");
    assert_eq!(qr.purpose, ReceiptQrPurpose::Progress);
    assert_eq!(qr.url, "https://p.example.gov.cn/?tx=");
    let own = text.replace(
        "kind = \"print_receipt\"",
        "kind = \"print_receipt\"\nqr = { purpose = \"upload_materials\", url = \"https://u.example.gov.cn/?tx=\" }",
    );
    let qr = receipt_qr(&Catalogue::parse(&own).unwrap()).expect("own qr");
    assert_eq!(qr.purpose, ReceiptQrPurpose::UploadMaterials);
    let bad = error_of(&text.replace("https://p.example", "ftp://p.example"));
    assert!(bad.contains("progress_url"), "{bad}");
}

#[test]
fn face_check_options_parse_and_an_empty_alternative_list_is_refused() {
    use crate::catalogue::{FaceAlternative, FaceVerification, Step};
    let with_face = |extra: &str| {
        SMALL.replace(
            "[[items.steps]]\nkind = \"form\"",
            &format!(
                "[[items.steps]]\nkind = \"face_check\"\n{extra}\n[[items.steps]]\nkind = \"form\""
            ),
        )
    };
    let catalogue = Catalogue::parse(&with_face("")).expect("default face check");
    let face = catalogue
        .item("checkin")
        .unwrap()
        .steps
        .iter()
        .find_map(|s| match s {
            Step::FaceCheck(f) => Some(f.clone()),
            _ => None,
        });
    let face = face.expect("face step");
    assert_eq!(face.verification, FaceVerification::Local);
    assert_eq!(face.alternatives, vec![FaceAlternative::Staff]);

    let text = with_face("verification = \"remote\"\nalternatives = [\"remote\", \"staff\"]");
    assert!(Catalogue::parse(&text).is_ok());

    let msg = error_of(&with_face("alternatives = []"));
    assert!(
        msg.contains("alternatives") && msg.contains("dead end"),
        "{msg}"
    );
    let msg = error_of(&with_face("alternatives = [\"video_call\"]"));
    assert!(msg.contains("video_call"), "{msg}");
}

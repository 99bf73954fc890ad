//! The catalogue's data types: departments, items, guides, steps and form fields.

use crate::device::DeviceClass;
use crate::text::LocalizedText;
use serde::{Deserialize, Serialize};

use super::templates::{DocumentTemplate, ReceiptQr, RowSource};

/// A department (委办局) that owns items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    /// Stable short code, e.g. `gongan`.
    pub code: String,
    /// Its names.
    pub name: LocalizedText,
}

/// One service item (事项).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Stable code; never reused for a different item.
    pub code: String,
    /// Names; the Chinese one is required.
    pub name: LocalizedText,
    /// Department code.
    pub department: String,
    /// The department's names, filled in by the loader.
    pub department_name: LocalizedText,
    /// Home-screen category, e.g. 住房 / Housing.
    pub category: LocalizedText,
    /// Shown among the hot items on the home screen.
    pub hot: bool,
    /// Search words, including pinyin initials (`gjj`) — stored lower-case.
    pub keywords: Vec<String>,
    /// The item guide (办事指南).
    pub guide: Guide,
    /// Where else the item can be done, with URLs for QR codes.
    pub channels: Channels,
    /// When the item can be done at the kiosk.
    pub hours: Hours,
    /// Whether the item needs the central service reachable (e.g. live queries).
    pub needs_central_online: bool,
    /// Identity documents accepted at the identify step.
    pub allowed_cards: Vec<CardType>,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// The guide texts shown before a citizen starts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guide {
    /// Who may apply (申请条件).
    pub conditions: LocalizedText,
    /// What to bring (所需材料).
    pub materials: LocalizedText,
    /// Fee (收费标准).
    pub fee: LocalizedText,
    /// Time limit (办理时限).
    pub time_limit: LocalizedText,
    /// Legal basis (设定依据).
    pub legal_basis: LocalizedText,
    /// How the result is delivered (结果送达).
    pub result_delivery: LocalizedText,
}

/// Other channels offering the item; each URL becomes a QR code on screen.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channels {
    /// Web portal page.
    #[serde(default)]
    pub online: Option<String>,
    /// Mobile app / mini-program page.
    #[serde(default)]
    pub app: Option<String>,
    /// Mail (EMS) application page.
    #[serde(default)]
    pub mail: Option<String>,
}

/// Daily business hours at the kiosk, local time, `HH:MM`; `24:00` closes at midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hours {
    /// Opening time.
    pub open: String,
    /// Closing time.
    pub close: String,
    /// Extra explanation, e.g. that the back office works weekdays only.
    #[serde(default)]
    pub note: Option<LocalizedText>,
}

impl Default for Hours {
    fn default() -> Self {
        Hours {
            open: "00:00".into(),
            close: "24:00".into(),
            note: None,
        }
    }
}

impl Hours {
    /// Whether the item can be started at `minute_of_day` (0–1439, local time).
    pub fn is_open_at(&self, minute_of_day: u32) -> bool {
        match (parse_hhmm(&self.open), parse_hhmm(&self.close)) {
            (Some(open), Some(close)) => (open..close).contains(&minute_of_day),
            _ => false,
        }
    }
}

/// `HH:MM` → minutes since midnight; `24:00` is 1440.
pub(crate) fn parse_hhmm(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
    match (h, m) {
        (24, 0) => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

/// A way a citizen identifies: an identity document on the card reader, or a code shown to the
/// QR scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardType {
    /// 居民身份证.
    Resident,
    /// 港澳台居民居住证.
    HkMacaoTaiwanResidence,
    /// 外国人永久居留身份证.
    ForeignPermanentResidence,
    /// 电子身份证 / 网证 QR code on the citizen's phone (`EID:` codes), verified by the centre.
    EId,
    /// An appointment (预约) QR code (`APPT:` codes), for check-in.
    AppointmentCode,
}

impl CardType {
    /// Every card type.
    pub const ALL: [CardType; 5] = [
        CardType::Resident,
        CardType::HkMacaoTaiwanResidence,
        CardType::ForeignPermanentResidence,
        CardType::EId,
        CardType::AppointmentCode,
    ];

    /// Whether this identification is a code for the QR scanner rather than a card.
    pub fn is_code(self) -> bool {
        matches!(self, CardType::EId | CardType::AppointmentCode)
    }

    /// The identification a scanned code stands for, from its prefix (`EID:`, `APPT:`).
    pub fn of_code(code: &str) -> Option<CardType> {
        let code = code.trim();
        if code.starts_with("EID:") {
            Some(CardType::EId)
        } else if code.starts_with("APPT:") {
            Some(CardType::AppointmentCode)
        } else {
            None
        }
    }

    /// snake_case name, as in catalogues and [`kiosk_protocol::wire::MaskedApplicant::card_type`].
    pub fn as_str(self) -> &'static str {
        match self {
            CardType::Resident => "resident",
            CardType::HkMacaoTaiwanResidence => "hk_macao_taiwan_residence",
            CardType::ForeignPermanentResidence => "foreign_permanent_residence",
            CardType::EId => "e_id",
            CardType::AppointmentCode => "appointment_code",
        }
    }

    /// What the document is called.
    pub fn display_name(self) -> LocalizedText {
        match self {
            CardType::Resident => LocalizedText::new("居民身份证", "Resident ID card"),
            CardType::HkMacaoTaiwanResidence => LocalizedText::new(
                "港澳台居民居住证",
                "Residence permit for Hong Kong, Macao and Taiwan residents",
            ),
            CardType::ForeignPermanentResidence => {
                LocalizedText::new("外国人永久居留身份证", "Foreign permanent resident ID card")
            }
            CardType::EId => LocalizedText::new("电子身份证二维码", "Electronic ID QR code"),
            CardType::AppointmentCode => LocalizedText::new("预约二维码", "Appointment QR code"),
        }
    }
}

/// The fixed step vocabulary (DESIGN §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Read the applicant's identity card.
    Identify,
    /// Ask consent to use personal data.
    Consent,
    /// Live face check against the card photo.
    FaceCheck,
    /// Fill in typed fields.
    Form,
    /// Show a text the citizen acknowledges.
    Notice,
    /// Confirm and submit (commits the transaction).
    Submit,
    /// Print a receipt.
    PrintReceipt,
    /// Print an A4 document from a template.
    PrintDocument,
    /// Rewrite or issue a card.
    Card,
    /// Choose how the result is delivered.
    Delivery,
    /// Rate the service (好差评), optional for the citizen.
    Rate,
}

impl StepKind {
    /// The whole vocabulary, in documentation order.
    pub const ALL: [StepKind; 11] = [
        StepKind::Identify,
        StepKind::Consent,
        StepKind::FaceCheck,
        StepKind::Form,
        StepKind::Notice,
        StepKind::Submit,
        StepKind::PrintReceipt,
        StepKind::PrintDocument,
        StepKind::Card,
        StepKind::Delivery,
        StepKind::Rate,
    ];

    /// snake_case name, as written in catalogues and records.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Identify => "identify",
            StepKind::Consent => "consent",
            StepKind::FaceCheck => "face_check",
            StepKind::Form => "form",
            StepKind::Notice => "notice",
            StepKind::Submit => "submit",
            StepKind::PrintReceipt => "print_receipt",
            StepKind::PrintDocument => "print_document",
            StepKind::Card => "card",
            StepKind::Delivery => "delivery",
            StepKind::Rate => "rate",
        }
    }

    /// The kind with this name.
    pub fn from_name(name: &str) -> Option<StepKind> {
        StepKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The device class this kind of step cannot work without.
    pub fn required_device(self) -> Option<DeviceClass> {
        match self {
            StepKind::Identify => Some(DeviceClass::IdCardReader),
            StepKind::FaceCheck => Some(DeviceClass::Camera),
            StepKind::PrintReceipt => Some(DeviceClass::ReceiptPrinter),
            StepKind::PrintDocument => Some(DeviceClass::DocumentPrinter),
            StepKind::Card => Some(DeviceClass::CardWriter),
            StepKind::Consent
            | StepKind::Form
            | StepKind::Notice
            | StepKind::Submit
            | StepKind::Delivery
            | StepKind::Rate => None,
        }
    }
}

impl std::fmt::Display for StepKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step of an item, with what that kind of step needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Read the identity card.
    Identify,
    /// Ask consent.
    Consent(ConsentStep),
    /// Face check.
    FaceCheck(FaceCheckStep),
    /// Typed form fields.
    Form(FormStep),
    /// A text to acknowledge.
    Notice(NoticeStep),
    /// Confirm and submit.
    Submit,
    /// Print a receipt.
    PrintReceipt(ReceiptStep),
    /// Print an A4 document.
    PrintDocument(DocumentStep),
    /// Write or issue a card.
    Card(CardStep),
    /// Choose a delivery option.
    Delivery(DeliveryStep),
    /// Rate the service.
    Rate,
}

impl Step {
    /// The step's kind.
    pub fn kind(&self) -> StepKind {
        match self {
            Step::Identify => StepKind::Identify,
            Step::Consent(_) => StepKind::Consent,
            Step::FaceCheck(_) => StepKind::FaceCheck,
            Step::Form(_) => StepKind::Form,
            Step::Notice(_) => StepKind::Notice,
            Step::Submit => StepKind::Submit,
            Step::PrintReceipt(_) => StepKind::PrintReceipt,
            Step::PrintDocument(_) => StepKind::PrintDocument,
            Step::Card(_) => StepKind::Card,
            Step::Delivery(_) => StepKind::Delivery,
            Step::Rate => StepKind::Rate,
        }
    }
}

/// `kind = "consent"`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentStep {
    /// Item-specific consent text; the kiosk's standard text when absent.
    #[serde(default)]
    pub text: Option<LocalizedText>,
}

/// `kind = "face_check"`: the live face compared with the card holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceCheckStep {
    /// Where the match is decided (default `local`).
    #[serde(default)]
    pub verification: FaceVerification,
    /// What a citizen who declines the camera, or does not pass, may choose instead (default
    /// `["staff"]`; never empty, so declining is never a dead end).
    #[serde(default = "default_face_alternatives")]
    pub alternatives: Vec<FaceAlternative>,
    /// Item-specific text of the face-check consent screen; the kiosk's standard text when
    /// absent.
    #[serde(default)]
    pub consent: Option<LocalizedText>,
}

impl Default for FaceCheckStep {
    fn default() -> Self {
        FaceCheckStep {
            verification: FaceVerification::Local,
            alternatives: default_face_alternatives(),
            consent: None,
        }
    }
}

fn default_face_alternatives() -> Vec<FaceAlternative> {
    vec![FaceAlternative::Staff]
}

/// Where a face check's match is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaceVerification {
    /// On the kiosk, against the photo read from the card (the centre is asked instead when
    /// the kiosk has no photo decoder).
    #[default]
    Local,
    /// By the identity-verification service behind the central office: the kiosk sends the
    /// aligned face chip, never the camera frame.
    Remote,
}

/// A way to prove who one is without (or after failing) the kiosk's own face check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaceAlternative {
    /// The identity-verification service behind the central office decides.
    Remote,
    /// A member of staff checks the person against the card and confirms with their PIN.
    Staff,
}

/// `kind = "form"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormStep {
    /// The fields, in screen order.
    pub fields: Vec<FormField>,
}

/// One typed form field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormField {
    /// Key in the submitted form, `[a-z0-9_]+`, unique within the item.
    pub key: String,
    /// Label on screen.
    pub label: LocalizedText,
    /// Input type.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Minimum length in characters (digits fields).
    #[serde(default)]
    pub min_len: Option<u32>,
    /// Maximum length in characters (digits fields).
    #[serde(default)]
    pub max_len: Option<u32>,
    /// Whether an answer is needed (default true).
    #[serde(default = "default_true")]
    pub required: bool,
    /// The options of a `choice` field.
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// Help text under the field.
    #[serde(default)]
    pub hint: Option<LocalizedText>,
    /// Mask the value (all but the last four characters) in records and receipts. Phone fields
    /// are always masked.
    #[serde(default)]
    pub sensitive: bool,
}

fn default_true() -> bool {
    true
}

/// Input type of a form field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// ASCII digits only, length within `min_len..=max_len`.
    Digits,
    /// Mainland mobile number: 11 digits, `1[3-9]…`.
    Phone,
    /// One of `choices`.
    Choice,
    /// `YYYY-MM-DD`.
    Date,
}

impl FieldType {
    /// Every field type name, for error messages.
    pub const NAMES: [&'static str; 4] = ["digits", "phone", "choice", "date"];
}

/// One option of a `choice` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// Value stored in the form.
    pub value: String,
    /// Label on screen.
    pub label: LocalizedText,
}

/// `kind = "notice"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeStep {
    /// Title above the text.
    #[serde(default)]
    pub title: Option<LocalizedText>,
    /// The text.
    pub text: LocalizedText,
}

/// `kind = "print_receipt"`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptStep {
    /// Receipt title; "办件回执 / Transaction receipt" when absent.
    #[serde(default)]
    pub title: Option<LocalizedText>,
    /// What the citizen does next, one line each; the guide's `result_delivery` when empty.
    #[serde(default)]
    pub next_steps: Vec<LocalizedText>,
    /// The QR code; the loader fills in the catalogue's `progress_url` when absent.
    #[serde(default)]
    pub qr: Option<ReceiptQr>,
}

/// `kind = "print_document"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentStep {
    /// Id of a `[[document_templates]]` entry.
    pub template: String,
    /// The template itself, filled in by the loader.
    #[serde(skip)]
    pub layout: Option<Box<DocumentLayout>>,
}

/// A document template resolved against the catalogue: issuer name and typed row sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentLayout {
    /// The template as written.
    pub template: DocumentTemplate,
    /// The issuing department's name.
    pub issuer_name: LocalizedText,
    /// Row labels with their parsed sources, in order.
    pub rows: Vec<(LocalizedText, RowSource)>,
}

/// `kind = "card"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardStep {
    /// Rewrite the citizen's card or issue a new one.
    pub mode: CardMode,
    /// Days the written record is valid, the day of writing included (default 365).
    #[serde(default = "default_card_validity_days")]
    pub validity_days: u32,
}

fn default_card_validity_days() -> u32 {
    365
}

/// What the card writer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardMode {
    /// Take the citizen's card in, write it, give it back (e.g. 居住证签注).
    Rewrite,
    /// Issue a new card from stock.
    Issue,
}

/// `kind = "delivery"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryStep {
    /// The options offered, in screen order.
    pub options: Vec<DeliveryOption>,
}

/// How a result reaches the citizen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOption {
    /// Collect at a service counter.
    OnSite,
    /// Mailed (EMS) to the address on the card.
    Mail,
}

impl DeliveryOption {
    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryOption::OnSite => "on_site",
            DeliveryOption::Mail => "mail",
        }
    }

    /// Label on screen.
    pub fn label(self) -> LocalizedText {
        match self {
            DeliveryOption::OnSite => LocalizedText::new("窗口自取", "Collect at a counter"),
            DeliveryOption::Mail => {
                LocalizedText::new("邮寄到身份证地址", "Mail to the address on the ID card")
            }
        }
    }
}

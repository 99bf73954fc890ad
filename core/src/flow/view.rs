//! Everything the UI shows for a session, computed from its state at a given time.

use super::effect::ReceiptLine;
use super::phase::Phase;
use crate::catalogue::{Choice, DeliveryOption, FieldType, StepKind};
use crate::text::LocalizedText;
use kiosk_protocol::wire::MaskedApplicant;

/// A snapshot for the UI. Holds no unmasked personal data.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionView {
    /// The screen to show.
    pub phase: Phase,
    /// Item code.
    pub item_code: String,
    /// Item name.
    pub item_name: LocalizedText,
    /// Department name.
    pub department_name: LocalizedText,
    /// The current step's kind; `None` on the guide and after the steps.
    pub step_kind: Option<StepKind>,
    /// 1-based number of the current step ("step 2 of 6"); 0 on the guide.
    pub step_number: usize,
    /// Number of steps of the item.
    pub step_count: usize,
    /// Seconds until the countdown ends; `None` when no countdown is shown (the kiosk is busy
    /// or the session is over).
    pub seconds_left: Option<u32>,
    /// The countdown is in its last `warning_s` seconds: show "are you still there?".
    pub warning: bool,
    /// Masked applicant once the card was read; `None` after the wipe.
    pub applicant: Option<MaskedApplicant>,
    /// Fields of the current form step, with values and errors.
    pub form_fields: Vec<FormFieldView>,
    /// Consent text on the consent step and on the face-check consent screen.
    pub consent_text: Option<LocalizedText>,
    /// The choices on the face-check alternatives screen, in order.
    pub face_options: Vec<super::event::FaceOption>,
    /// Title and text of the current notice step.
    pub notice: Option<NoticeView>,
    /// Review lines on the confirm page (phone shown in full for checking, sensitive numbers
    /// masked).
    pub summary: Vec<ReceiptLine>,
    /// Options on the delivery step.
    pub delivery_options: Vec<DeliveryOption>,
    /// The chosen delivery option.
    pub delivery: Option<DeliveryOption>,
    /// What went wrong and what to do next, when something did.
    pub message: Option<FlowMessage>,
    /// The latest stage of the device work in progress (card writer, A4 printer).
    pub progress: Option<LocalizedText>,
    /// The transaction number, once committed.
    pub transaction_id: Option<String>,
    /// The rating given, if any.
    pub rating: Option<u8>,
    /// Whether "Back" does something now.
    pub can_go_back: bool,
    /// Whether "Cancel" / "Home" do something now (not while the kiosk is busy).
    pub can_cancel: bool,
    /// The session has ended; the app should drop it.
    pub is_over: bool,
}

/// One form field as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormFieldView {
    /// Field key (send it back in `FormInput`).
    pub key: String,
    /// Label.
    pub label: LocalizedText,
    /// Input type (picks the keypad).
    pub field_type: FieldType,
    /// Current value.
    pub value: String,
    /// Why the value is not accepted, after `FormSubmitted`.
    pub error: Option<LocalizedText>,
    /// Whether an answer is needed.
    pub required: bool,
    /// Help text.
    pub hint: Option<LocalizedText>,
    /// Options of a choice field.
    pub choices: Vec<Choice>,
    /// Longest accepted value, for the input box.
    pub max_len: Option<u32>,
}

/// A notice step's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeView {
    /// Optional title.
    pub title: Option<LocalizedText>,
    /// The text.
    pub text: LocalizedText,
}

/// A message for the citizen: what happened and what they can do next. Never a bare error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowMessage {
    /// What kind of situation this is (for icons and tests).
    pub kind: MessageKind,
    /// Headline.
    pub title: LocalizedText,
    /// Explanation.
    pub body: LocalizedText,
    /// What the citizen can do, one line each.
    pub next_steps: Vec<LocalizedText>,
    /// URL of the item's online channel, to show as a QR code.
    pub online_url: Option<String>,
    /// Phone number to call.
    pub service_phone: String,
}

/// The situations a [`FlowMessage`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// The card could not be read; try again.
    CardReadFailed,
    /// The card type is not accepted for this item.
    CardNotAccepted,
    /// A device failed before the submission; the session ended.
    DeviceFault,
    /// A device the next step needs is missing or out of order; the session ended.
    DeviceUnavailable,
    /// The face did not match the card.
    FaceCheckFailed,
    /// The submission could not be stored; nothing was submitted.
    SubmitFailed,
    /// The submission was not confirmed in time; it may or may not have been stored.
    SubmitUnconfirmed,
    /// The receipt was not printed; the transaction stands.
    ReceiptFailed,
    /// The document or card was not produced; the transaction stands.
    ResultFailed,
}

//! What the app must do because of a transition.

use crate::catalogue::{CardMode, StepKind};
use crate::device::DeviceClass;
use crate::text::LocalizedText;
use kiosk_protocol::wire::{MaskedApplicant, PersonalData, RatingRecord, TransactionRecord};
use serde::{Deserialize, Serialize};

/// A command for the app (services, drivers, UI navigation), in the order given.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Start polling the ID-card reader.
    StartCardReading,
    /// Stop polling it.
    StopCardReading,
    /// Start the camera and the face check: against the card photo, or (`remote`) by the
    /// centre's identity-verification service with the aligned face chip. The app answers with
    /// `DeviceProgress` (each new instruction) and `StepCompleted` / `StepRefused`.
    StartFaceCheck {
        /// Ask the centre rather than compare on the kiosk.
        remote: bool,
    },
    /// Stop the camera; drop any frames.
    StopFaceCheck,
    /// Write the transaction and its outbox row in one SQLite transaction, then answer
    /// `SubmitCommitted` (or `SubmitFailed`).
    CommitSubmission {
        /// Masked record, outcome `Completed`.
        record: TransactionRecord,
        /// Full personal data for the centre, to be sealed at rest.
        personal: Option<PersonalData>,
    },
    /// Print this receipt, then answer `ReceiptPrinted` / `ReceiptFailed`.
    PrintReceipt(ReceiptContent),
    /// Print an A4 document, then answer `StepCompleted` / `StepFailed`.
    PrintDocument(DocumentContent),
    /// Rewrite or issue a card, then answer `StepCompleted` / `StepFailed` (with
    /// `DeviceProgress` on the way).
    OperateCard(CardOrder),
    /// Store a rating (its own outbox event).
    RecordRating(RatingRecord),
    /// Store the outcome of a session that ended before submitting. Carries no personal data:
    /// no applicant and no form answers.
    RecordAbandoned {
        /// Outcome `Cancelled`, `TimedOut` or `Failed`, with `abandoned_at_step`.
        record: TransactionRecord,
    },
    /// A device failed the step in progress: open or update a fault.
    RaiseDeviceFault {
        /// Which class.
        class: DeviceClass,
        /// The step it failed in.
        during_step: StepKind,
    },
    /// Call staff to the kiosk (light, sound, staff console) for an identity check by hand.
    CallStaff,
    /// Forget every copy of this session's personal data (reader buffers, face frames, UI).
    WipePersonalData,
    /// Show the home screen; the session is over.
    ReturnHome,
}

/// What goes on a receipt. Masked values only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiptContent {
    /// Heading, e.g. 办件回执.
    pub title: LocalizedText,
    /// The item.
    pub item_name: LocalizedText,
    /// The department handling it.
    pub department_name: LocalizedText,
    /// Masked applicant.
    pub applicant: Option<MaskedApplicant>,
    /// The transaction number to quote.
    pub transaction_id: String,
    /// The kiosk.
    pub kiosk_id: String,
    /// Local time, `YYYY-MM-DD HH:MM`.
    pub time: String,
    /// Form answers (phone and sensitive numbers masked), delivery choice.
    pub lines: Vec<ReceiptLine>,
    /// What to do next, one line each.
    pub next_steps: Vec<LocalizedText>,
    /// The QR code (progress lookup or material upload) with its caption.
    pub qr: Option<PrintedQr>,
}

/// What the card writer must put on a card. Masked holder reference only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardOrder {
    /// Rewrite the citizen's card or issue a new one.
    pub mode: CardMode,
    /// The item.
    pub item_code: String,
    /// The holder's masked ID number.
    pub holder_ref: String,
    /// First valid day, `YYYY-MM-DD` (the day of issue).
    pub valid_from: String,
    /// Last valid day, `YYYY-MM-DD`.
    pub valid_until: String,
    /// The issuing kiosk.
    pub kiosk_id: String,
    /// The committed transaction.
    pub transaction_id: String,
}

/// A QR code on a printout and the words under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintedQr {
    /// What the code carries.
    pub url: String,
    /// The line under it.
    pub caption: LocalizedText,
}

/// What goes on an A4 certificate: the template's words with this transaction's values filled
/// in. Masked values only, like a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentContent {
    /// Template id.
    pub template: String,
    /// Title.
    pub title: LocalizedText,
    /// Issuing department.
    pub issuer: LocalizedText,
    /// Certifying paragraph above the table.
    pub statement: Option<LocalizedText>,
    /// Body table.
    pub rows: Vec<ReceiptLine>,
    /// Notes under the table.
    pub notes: Vec<LocalizedText>,
    /// Transaction number, also the verification code.
    pub transaction_id: String,
    /// Issuing kiosk.
    pub kiosk_id: String,
    /// Date of issue, `YYYY-MM-DD`.
    pub issued_on: String,
    /// Last valid day, `YYYY-MM-DD`, when the template sets a validity.
    pub valid_until: Option<String>,
    /// The verification QR code.
    pub verify: PrintedQr,
}

/// One labelled line of a receipt or of the review page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptLine {
    /// Field label.
    pub label: LocalizedText,
    /// Value (choice labels are translated; typed values are the same in both languages).
    pub value: LocalizedText,
}

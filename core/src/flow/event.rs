//! What happens to a session: taps, device results, time.

use crate::catalogue::{CardType, DeliveryOption};
use crate::device::DeviceClass;
use crate::text::LocalizedText;
use kiosk_protocol::wire::{MaskedApplicant, PersonalData};

/// The person identified by the card reader. Full personal data lives here only until it has
/// been handed to the store with the submission (or the session is wiped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicant {
    /// Which document was read.
    pub card_type: CardType,
    /// Name, ID number and address as read (its `Debug` is masked).
    pub personal: PersonalData,
}

impl Applicant {
    /// The masked form shown on screen, printed and recorded.
    pub fn masked(&self) -> MaskedApplicant {
        MaskedApplicant {
            card_type: self.card_type.as_str().to_string(),
            masked_name: kiosk_protocol::mask_name(&self.personal.name),
            masked_id_number: kiosk_protocol::mask_id_number(&self.personal.id_number),
        }
    }
}

/// Why a card could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardReadFailure {
    /// Misplaced, moved too early or damaged: place it again.
    Unreadable,
    /// The card has expired.
    Expired,
    /// Not an identity document this reader understands.
    Unsupported,
}

/// A choice on the face-check alternatives screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaceOption {
    /// Run the camera check again.
    Retry,
    /// Let the centre's identity-verification service decide.
    Remote,
    /// Call staff to check by hand.
    Staff,
}

impl FaceOption {
    /// The button text.
    pub fn label(self) -> LocalizedText {
        match self {
            FaceOption::Retry => LocalizedText::new("重新核验", "Try again"),
            FaceOption::Remote => LocalizedText::new("远程核验身份", "Verify through the centre"),
            FaceOption::Staff => LocalizedText::new("请工作人员协助", "Ask staff for help"),
        }
    }
}

/// Something that happened, fed to [`super::Session::handle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowEvent {
    /// Leave the guide and start the first step.
    Begin,
    /// The reader sees a card and is reading it.
    CardPresent,
    /// The card was read.
    CardRead(Applicant),
    /// The card could not be read.
    CardReadFailed(CardReadFailure),
    /// A way to go on after declining or not passing the face check.
    FaceOptionChosen(FaceOption),
    /// Staff checked the person against the card by hand and confirmed with a valid PIN (the
    /// app checks the PIN and records who).
    StaffVerified,
    /// Agreed to the consent text.
    ConsentGiven,
    /// Declined: the session ends (nothing can be done without consent).
    ConsentDeclined,
    /// A form field's current text.
    FormInput {
        /// Field key.
        key: String,
        /// The whole current value.
        value: String,
    },
    /// "Next" on a form: validate.
    FormSubmitted,
    /// "Confirm and submit" on the review page.
    Confirmed,
    /// "Next" on a notice, a printed/failed receipt or a failed result.
    Continue,
    /// Back to the previous step (before the submission only).
    Back,
    /// A delivery option was chosen.
    DeliveryChosen(DeliveryOption),
    /// The app stored the transaction and its outbox row (one SQLite transaction).
    SubmitCommitted {
        /// The id stored; normally the one the session proposed.
        transaction_id: String,
    },
    /// The app could not store the transaction.
    SubmitFailed {
        /// For logs only; never shown to citizens.
        reason: String,
    },
    /// The receipt came out.
    ReceiptPrinted,
    /// The receipt could not be printed.
    ReceiptFailed {
        /// For logs only.
        reason: String,
    },
    /// The device work of a `print_document` or `card` step reached a new stage ("insert your
    /// card", "writing…", "take your card"): shown under the headline, and the step's time
    /// limit starts again (the device is alive).
    DeviceProgress(LocalizedText),
    /// The device worked but the citizen's part could not be done (a card that is not theirs,
    /// no card inserted, a card left at the gate and taken back in): no device fault; the
    /// transaction stands and `message` says what happened and what to do.
    StepRefused {
        /// What happened, for the citizen.
        message: LocalizedText,
    },
    /// The device work of a `face_check` (match), `print_document` (printed) or `card` (card
    /// written/issued) step succeeded.
    StepCompleted,
    /// …or failed (face did not match, printer or card writer error).
    StepFailed {
        /// For logs only.
        reason: String,
    },
    /// Rated 1 (very dissatisfied) … 5 (very satisfied); other values are ignored.
    Rated(u8),
    /// Skipped rating.
    RatingSkipped,
    /// Any tap: restarts the step countdown.
    Activity,
    /// Time passed: checks the deadline.
    Tick,
    /// The device manager reports a device class out of order.
    DeviceFault {
        /// Which class.
        class: DeviceClass,
    },
    /// …and usable again.
    DeviceRecovered {
        /// Which class.
        class: DeviceClass,
    },
    /// "Cancel" (取消办理).
    Cancel,
    /// "Home" (首页).
    GoHome,
}

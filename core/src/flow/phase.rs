//! Where a citizen session is: one phase per screen the UI shows.

/// The screen a session is on. The UI shows one page per phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// The item guide (conditions, materials, fee…); `Begin` leaves it.
    Guide,
    /// `identify`: asking for the card to be placed.
    IdentifyWaiting,
    /// `identify`: a card is on the reader and being read.
    IdentifyReading,
    /// `identify`: the card could not be read or is not accepted; the message says what to do.
    /// The reader keeps polling, so placing the card again retries.
    IdentifyFailed,
    /// `consent`: the consent text with agree / decline.
    Consent,
    /// `face_check`, first: what the camera check does with the face, agree / decline (the
    /// camera is off until the citizen agrees).
    FaceConsent,
    /// `face_check`: live camera (the app runs the check, sends `DeviceProgress` with each new
    /// instruction and answers `StepCompleted`, or `StepRefused` / `StepFailed`).
    FaceCheck,
    /// `face_check`: declined or not passed; the item's alternatives (try again, verification
    /// by the centre, staff assistance).
    FaceAlternatives,
    /// `face_check`: staff were called and confirm the person's identity with their PIN.
    StaffAssist,
    /// `form`: typed fields with per-field errors.
    Form,
    /// `notice`: a text to acknowledge with `Continue`.
    Notice,
    /// `delivery`: choose on-site collection or mail.
    Delivery,
    /// `submit`, first half: review and confirm.
    Confirm,
    /// `submit`, second half: the app commits the transaction.
    Processing,
    /// `print_receipt`: printing.
    PrintingReceipt,
    /// `print_receipt`: printed — take the receipt.
    ReceiptPrinted,
    /// `print_receipt`: not printed; the transaction stands and the receipt can be reprinted
    /// with the transaction number.
    ReceiptFailed,
    /// `print_document`: printing an A4 document (the app answers `StepCompleted` /
    /// `StepFailed`).
    PrintingDocument,
    /// `card`: the card writer rewrites or issues a card (the app answers `StepCompleted` /
    /// `StepFailed`).
    CardOperation,
    /// `print_document` or `card` failed after the commit; the transaction stands.
    ResultFailed,
    /// `rate`: five levels, skippable, no default.
    Rate,
    /// Thank-you screen; returns home by itself.
    Goodbye,
    /// The session cannot continue (device fault, failed submission…); the message says what
    /// happened and what the citizen can do; `GoHome` leaves.
    Failed,
    /// The session is over and the app has been told to return home.
    Finished,
}

impl Phase {
    /// Stable snake_case name, for UI state mapping and transcripts.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Guide => "guide",
            Phase::IdentifyWaiting => "identify_waiting",
            Phase::IdentifyReading => "identify_reading",
            Phase::IdentifyFailed => "identify_failed",
            Phase::Consent => "consent",
            Phase::FaceConsent => "face_consent",
            Phase::FaceCheck => "face_check",
            Phase::FaceAlternatives => "face_alternatives",
            Phase::StaffAssist => "staff_assist",
            Phase::Form => "form",
            Phase::Notice => "notice",
            Phase::Delivery => "delivery",
            Phase::Confirm => "confirm",
            Phase::Processing => "processing",
            Phase::PrintingReceipt => "printing_receipt",
            Phase::ReceiptPrinted => "receipt_printed",
            Phase::ReceiptFailed => "receipt_failed",
            Phase::PrintingDocument => "printing_document",
            Phase::CardOperation => "card_operation",
            Phase::ResultFailed => "result_failed",
            Phase::Rate => "rate",
            Phase::Goodbye => "goodbye",
            Phase::Failed => "failed",
            Phase::Finished => "finished",
        }
    }

    /// Phases of the `identify` step.
    pub fn is_identify(self) -> bool {
        matches!(
            self,
            Phase::IdentifyWaiting | Phase::IdentifyReading | Phase::IdentifyFailed
        )
    }

    /// Phases where the kiosk, not the citizen, is working: no countdown is shown, and
    /// `Cancel`, `GoHome` and `Back` wait until it is done.
    pub fn is_busy(self) -> bool {
        matches!(
            self,
            Phase::Processing
                | Phase::PrintingReceipt
                | Phase::PrintingDocument
                | Phase::CardOperation
        )
    }
}

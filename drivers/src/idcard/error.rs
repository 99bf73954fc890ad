//! Errors of the ID card reader driver and of parsing what it returns.

use super::card_type::CardType;
use super::frame::{FrameError, HexError};
use super::sam_status::SamStatus;

/// Everything that can go wrong reading an ID card.
///
/// Messages never contain personal data (no names, ID numbers or addresses).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdCardError {
    /// The serial port could not be opened.
    #[error("cannot open ID card reader at {path}: {reason}")]
    Open {
        /// Device path.
        path: String,
        /// Why.
        reason: String,
    },
    /// The reader sent nothing within the command's timeout.
    #[error("ID card reader did not answer {command} within {waited_ms} ms")]
    Timeout {
        /// The command that went unanswered.
        command: &'static str,
        /// How long the driver waited.
        waited_ms: u64,
    },
    /// A reply arrived with a wrong checksum.
    #[error(
        "ID card reader reply checksum mismatch (frame {received:#04x}, computed {computed:#04x})"
    )]
    BadChecksum {
        /// The CHK byte received.
        received: u8,
        /// The XOR computed over the frame.
        computed: u8,
    },
    /// A reply started but stopped before LEN said it would end.
    #[error("ID card reader reply to {command} cut short ({received} bytes received)")]
    Truncated {
        /// The command whose reply was cut short.
        command: &'static str,
        /// Bytes of the frame received.
        received: usize,
    },
    /// A reply was a well-formed frame but not the shape the command expects.
    #[error("malformed ID card reader reply: {0}")]
    Framing(String),
    /// The reader is gone (unplugged, port closed, I/O error).
    #[error("ID card reader disconnected: {0}")]
    Disconnected(String),
    /// No card on the reader.
    #[error("no ID card on the reader")]
    NoCard,
    /// The SAM answered with a failure status.
    #[error(transparent)]
    Status(SamStatus),
    /// The SAM answered with a status byte that is not in the table.
    #[error("unrecognised SAM status {0:#04x}")]
    UnrecognisedStatus(u8),
    /// The card is not a resident ID card (its type marker says another kind).
    #[error("unsupported card type: {}", .0.as_str())]
    UnsupportedCardType(CardType),
    /// The ID number's check digit is wrong: the read is not trustworthy.
    #[error("ID number check digit is wrong")]
    BadCheckDigit,
    /// A text field does not hold what the card layout says.
    #[error("card field {field} is invalid: {reason}")]
    BadField {
        /// Which field.
        field: &'static str,
        /// What is wrong (no personal data).
        reason: String,
    },
    /// Captured reply text was not valid hex.
    #[error("captured reply is not hex: {0}")]
    BadHex(#[from] HexError),
}

impl IdCardError {
    /// A short message for the citizen, in Chinese.
    pub fn zh_message(&self) -> &'static str {
        match self {
            IdCardError::NoCard => "请将身份证放在读卡区",
            IdCardError::Status(status) => status.zh_message(),
            IdCardError::UnsupportedCardType(_) => "暂不支持此类证件",
            IdCardError::BadCheckDigit
            | IdCardError::BadField { .. }
            | IdCardError::BadChecksum { .. }
            | IdCardError::Truncated { .. }
            | IdCardError::Framing(_) => "读卡失败，请重新放置身份证",
            IdCardError::Open { .. }
            | IdCardError::Timeout { .. }
            | IdCardError::Disconnected(_)
            | IdCardError::UnrecognisedStatus(_)
            | IdCardError::BadHex(_) => "读卡器故障，请联系工作人员",
        }
    }

    /// A short message for the citizen, in English.
    pub fn en_message(&self) -> &'static str {
        match self {
            IdCardError::NoCard => "Please place your ID card on the reader",
            IdCardError::Status(status) => status.en_message(),
            IdCardError::UnsupportedCardType(_) => "This type of card is not supported yet",
            IdCardError::BadCheckDigit
            | IdCardError::BadField { .. }
            | IdCardError::BadChecksum { .. }
            | IdCardError::Truncated { .. }
            | IdCardError::Framing(_) => "The card could not be read; please place it again",
            IdCardError::Open { .. }
            | IdCardError::Timeout { .. }
            | IdCardError::Disconnected(_)
            | IdCardError::UnrecognisedStatus(_)
            | IdCardError::BadHex(_) => "The card reader is out of order; please ask staff",
        }
    }

    /// Whether the error says the device itself is at fault (a fault event), rather than the
    /// card or the citizen.
    pub fn is_device_fault(&self) -> bool {
        matches!(
            self,
            IdCardError::Open { .. }
                | IdCardError::Timeout { .. }
                | IdCardError::Disconnected(_)
                | IdCardError::UnrecognisedStatus(_)
                | IdCardError::Status(SamStatus::SamSelfTestFailed | SamStatus::SamNotAuthorised)
        )
    }
}

impl From<FrameError> for IdCardError {
    fn from(error: FrameError) -> Self {
        match error {
            FrameError::BadChecksum { received, computed } => {
                IdCardError::BadChecksum { received, computed }
            }
            FrameError::BadLength(len) => IdCardError::Framing(format!("impossible length {len}")),
        }
    }
}

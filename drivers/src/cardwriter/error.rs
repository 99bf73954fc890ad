//! Errors of the card dispenser / reader-writer drivers, both models.

use super::crt591::Crt591ErrorCode;
use super::record::RecordError;

/// Where a card is left after a failed write (never silently handed to the citizen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardDisposition {
    /// The card was captured into the error-card bin.
    Captured,
    /// The card is still inside the dispenser (at the encoder); the caller decides whether to
    /// capture it or return it with a message.
    HeldInside,
    /// Capturing it failed too: where the card is is unknown; staff must look.
    Unknown,
}

impl CardDisposition {
    /// English name for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            CardDisposition::Captured => "captured to the bin",
            CardDisposition::HeldInside => "held inside the dispenser",
            CardDisposition::Unknown => "position unknown",
        }
    }
}

/// Everything that can go wrong with a card dispenser / reader-writer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardWriterError {
    /// The port could not be opened.
    #[error("cannot open card writer at {path}: {reason}")]
    Open {
        /// Device path.
        path: String,
        /// Why.
        reason: String,
    },
    /// The device did not answer in time.
    #[error("card writer did not answer {what} in time")]
    Timeout {
        /// What was waited for.
        what: String,
    },
    /// The device is gone (unplugged, port closed, I/O error).
    #[error("card writer disconnected: {0}")]
    Disconnected(String),
    /// The device answered NAK to every attempt (bad BCC on the line).
    #[error("card writer refused {command} with NAK {attempts} times")]
    Nak {
        /// The command.
        command: String,
        /// How many times it was sent.
        attempts: u32,
    },
    /// A reply frame was corrupt: bad BCC, missing ETX, impossible length, garbage.
    #[error("corrupt reply from card writer to {command}: {reason}")]
    BadReply {
        /// The command.
        command: String,
        /// What was wrong.
        reason: String,
    },
    /// A well-formed reply that does not fit the command (other CM/PM, short data, …).
    #[error("unexpected reply from card writer to {command}: {reason}")]
    UnexpectedReply {
        /// The command.
        command: String,
        /// What was wrong.
        reason: String,
    },
    /// No blank card left in the stacker (CRT-591 A0, K720 box empty).
    #[error("card stack empty")]
    StackEmpty,
    /// The error-card bin is full (CRT-591 A1, K720 recycle bin full).
    #[error("error-card bin full")]
    BinFull,
    /// A card jammed (CRT-591 10, K720 jam bit).
    #[error("card jam")]
    Jam,
    /// Any other negative CRT-591 reply, typed by its error code.
    #[error("CRT-591 refused {command}: {code}")]
    Crt591 {
        /// The command.
        command: String,
        /// The device's error code.
        code: Crt591ErrorCode,
    },
    /// The K720 refused a command or reported it failed; the detail comes from its status.
    #[error("K720 could not {command}: {detail}")]
    K720 {
        /// The command.
        command: String,
        /// The device's reason.
        detail: String,
    },
    /// No card where one was needed (nothing at the encoder, nothing inserted in time).
    #[error("no card {0}")]
    NoCard(&'static str),
    /// A card is already in the channel (at the gate or inside) where none may be.
    #[error("a card is already in the dispenser ({0})")]
    ChannelOccupied(&'static str),
    /// The card's key did not authenticate a sector.
    #[error("card key rejected for sector {sector}")]
    WrongKey {
        /// The sector.
        sector: u8,
    },
    /// The chip (contact or contactless) failed: activation, transmission, a bad status word.
    #[error("card chip error: {0}")]
    Chip(String),
    /// What was read back differs from what was written.
    #[error("card read-back does not match what was written")]
    VerifyFailed,
    /// The data on the card is not a valid kiosk record (or the MAC does not verify).
    #[error(transparent)]
    Record(#[from] RecordError),
    /// A write failed; says where the card was left.
    #[error("card write failed ({}): {cause}", .disposition.as_str())]
    WriteFailed {
        /// Where the card is now.
        disposition: CardDisposition,
        /// What failed.
        cause: Box<CardWriterError>,
    },
    /// Card I/O was asked of a dispenser with no encoder attached (K720 without a reader).
    #[error("no card encoder attached to the {0} dispenser")]
    NoEncoder(&'static str),
    /// Not something this device or card can do.
    #[error("not supported: {0}")]
    Unsupported(String),
}

impl CardWriterError {
    /// Whether the device is gone or unreachable (as opposed to refusing something).
    pub fn is_link_error(&self) -> bool {
        matches!(
            self,
            CardWriterError::Open { .. }
                | CardWriterError::Disconnected(_)
                | CardWriterError::Timeout { .. }
        )
    }

    /// A short message for the citizen, in Chinese.
    pub fn zh_message(&self) -> &'static str {
        match self {
            CardWriterError::StackEmpty => "卡片已发完，请联系工作人员",
            CardWriterError::WrongKey { .. } | CardWriterError::Record(_) => {
                "卡片无法识别，请联系工作人员"
            }
            CardWriterError::NoCard(_) => "未检测到卡片，请按提示插入卡片",
            CardWriterError::WriteFailed { .. } | CardWriterError::VerifyFailed => {
                "写卡失败，请联系工作人员"
            }
            _ => "发卡设备故障，请联系工作人员",
        }
    }

    /// A short message for the citizen, in English.
    pub fn en_message(&self) -> &'static str {
        match self {
            CardWriterError::StackEmpty => "No cards left; please ask staff",
            CardWriterError::WrongKey { .. } | CardWriterError::Record(_) => {
                "The card cannot be read; please ask staff"
            }
            CardWriterError::NoCard(_) => "No card detected; please insert your card as shown",
            CardWriterError::WriteFailed { .. } | CardWriterError::VerifyFailed => {
                "Writing the card failed; please ask staff"
            }
            _ => "The card dispenser is out of order; please ask staff",
        }
    }

    /// The CRT-591 error for a negative reply: the stack, bin and jam codes get their own
    /// variants, every other code is [`CardWriterError::Crt591`].
    pub fn from_crt591(command: &str, code: Crt591ErrorCode) -> Self {
        match code {
            Crt591ErrorCode::StackerEmpty => CardWriterError::StackEmpty,
            Crt591ErrorCode::BinFull => CardWriterError::BinFull,
            Crt591ErrorCode::CardJam => CardWriterError::Jam,
            code => CardWriterError::Crt591 {
                command: command.to_owned(),
                code,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crt591_codes_become_typed_errors() {
        assert_eq!(
            CardWriterError::from_crt591("dispense", Crt591ErrorCode::StackerEmpty),
            CardWriterError::StackEmpty
        );
        assert_eq!(
            CardWriterError::from_crt591("capture", Crt591ErrorCode::BinFull),
            CardWriterError::BinFull
        );
        assert_eq!(
            CardWriterError::from_crt591("move", Crt591ErrorCode::CardJam),
            CardWriterError::Jam
        );
        for &code in Crt591ErrorCode::ALL {
            let error = CardWriterError::from_crt591("x", code);
            assert!(!error.to_string().is_empty());
            assert!(!error.is_link_error());
        }
        let failed = CardWriterError::WriteFailed {
            disposition: CardDisposition::Captured,
            cause: Box::new(CardWriterError::VerifyFailed),
        };
        assert_eq!(
            failed.to_string(),
            "card write failed (captured to the bin): card read-back does not match what was written"
        );
        assert_eq!(failed.zh_message(), "写卡失败，请联系工作人员");
    }
}

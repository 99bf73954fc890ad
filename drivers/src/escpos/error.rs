//! Errors of the receipt printer driver.

use super::receipt::EncodeError;
use crate::status::DeviceStatus;

/// Everything that can go wrong talking to a receipt printer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrinterError {
    /// The port could not be opened.
    #[error("cannot open receipt printer at {path}: {reason}")]
    Open {
        /// Device path.
        path: String,
        /// Why.
        reason: String,
    },
    /// The printer did not answer or accept data in time.
    #[error("receipt printer did not answer {what} in time")]
    Timeout {
        /// What was waited for.
        what: &'static str,
    },
    /// The printer is gone (unplugged, port closed, I/O error).
    #[error("receipt printer disconnected: {0}")]
    Disconnected(String),
    /// A status reply did not have the `0xx1xx10` pattern.
    #[error("invalid status byte {byte:#04x} in reply to DLE EOT {n}")]
    InvalidStatusByte {
        /// The query's n.
        n: u8,
        /// The byte received.
        byte: u8,
    },
    /// The printer cannot print now (paper out, cover open, offline, cutter error).
    #[error("receipt printer not ready: {}", .0.last_error.as_deref().unwrap_or(.0.state.as_str()))]
    NotReady(Box<DeviceStatus>),
    /// The receipt could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

impl PrinterError {
    /// A short message for the citizen, in Chinese.
    pub fn zh_message(&self) -> &'static str {
        match self {
            PrinterError::NotReady(_) => "凭条打印机暂不可用，请联系工作人员",
            _ => "凭条打印机故障，请联系工作人员",
        }
    }

    /// A short message for the citizen, in English.
    pub fn en_message(&self) -> &'static str {
        match self {
            PrinterError::NotReady(_) => "The receipt printer is not available; please ask staff",
            _ => "The receipt printer is out of order; please ask staff",
        }
    }
}

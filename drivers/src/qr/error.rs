//! Errors of the QR scanner driver.

use crate::traits::DeviceError;

/// Everything that can go wrong with the scanner. Messages never contain scanned data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// The serial port could not be opened.
    #[error("cannot open QR scanner at {path}: {reason}")]
    Open {
        /// Device path.
        path: String,
        /// Why.
        reason: String,
    },
    /// The scanner is gone (unplugged, port closed, I/O error).
    #[error("QR scanner disconnected: {0}")]
    Disconnected(String),
    /// The scanner did not acknowledge a command in time.
    #[error("QR scanner did not acknowledge the {command} command")]
    NoAck {
        /// Which command.
        command: &'static str,
    },
    /// The scanner answered a command with something other than the acknowledgement.
    #[error("QR scanner answered {command} with an unexpected response")]
    BadAck {
        /// Which command.
        command: &'static str,
    },
    /// A line longer than any code (garbage or a missing terminator); it was discarded.
    #[error("QR scanner sent a line of more than {limit} bytes")]
    LineTooLong {
        /// The limit.
        limit: usize,
    },
}

impl QrError {
    /// A short message for the citizen, in Chinese.
    pub fn zh_message(&self) -> &'static str {
        match self {
            QrError::LineTooLong { .. } => "未能识别二维码，请重新扫描",
            _ => "扫码器故障，请联系工作人员",
        }
    }

    /// A short message for the citizen, in English.
    pub fn en_message(&self) -> &'static str {
        match self {
            QrError::LineTooLong { .. } => "The code could not be read; please scan it again",
            _ => "The code scanner is out of order; please ask staff",
        }
    }

    /// Whether the device itself is at fault (a fault event).
    pub fn is_device_fault(&self) -> bool {
        !matches!(self, QrError::LineTooLong { .. })
    }
}

impl From<QrError> for DeviceError {
    fn from(error: QrError) -> Self {
        match error {
            QrError::Open { .. } | QrError::Disconnected(_) => {
                DeviceError::Disconnected(error.to_string())
            }
            QrError::NoAck { .. } => DeviceError::Timeout,
            QrError::BadAck { .. } => DeviceError::Hardware(error.to_string()),
            QrError::LineTooLong { .. } => DeviceError::User(error.to_string()),
        }
    }
}

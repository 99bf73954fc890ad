//! The SW3 status byte of SAM replies (reference §1.4), with Chinese and English messages.

/// Every SW3 value of the GA/T 467 status table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("SAM status {code:#04x}: {en}", code = self.code(), en = self.en_message())]
pub enum SamStatus {
    /// 0x90 操作成功.
    Success,
    /// 0x91 证/卡中此项无内容.
    NoContent,
    /// 0x9F 寻找证/卡成功.
    FindCardOk,
    /// 0x10 接收数据校验和错.
    HostChecksumError,
    /// 0x11 接收数据长度错.
    HostLengthError,
    /// 0x21 接收数据命令错.
    UnknownCommand,
    /// 0x23 越权操作.
    NotPermitted,
    /// 0x24 无法识别的错误.
    UnknownError,
    /// 0x31 证/卡认证 SAM 失败.
    CardAuthenticateSamFailed,
    /// 0x32 SAM 认证证/卡失败.
    SamAuthenticateCardFailed,
    /// 0x33 信息验证错误.
    InformationVerificationError,
    /// 0x40 无法识别的卡类型.
    UnknownCardType,
    /// 0x41 读证/卡操作失败.
    ReadFailed,
    /// 0x47 取随机数失败.
    GetRandomFailed,
    /// 0x60 SAM 自检失败.
    SamSelfTestFailed,
    /// 0x66 SAM 未经授权.
    SamNotAuthorised,
    /// 0x80 寻找证/卡失败.
    FindCardFailed,
    /// 0x81 选取证/卡失败.
    SelectCardFailed,
}

impl SamStatus {
    /// Every status, in table order.
    pub const ALL: [SamStatus; 18] = [
        SamStatus::Success,
        SamStatus::NoContent,
        SamStatus::FindCardOk,
        SamStatus::HostChecksumError,
        SamStatus::HostLengthError,
        SamStatus::UnknownCommand,
        SamStatus::NotPermitted,
        SamStatus::UnknownError,
        SamStatus::CardAuthenticateSamFailed,
        SamStatus::SamAuthenticateCardFailed,
        SamStatus::InformationVerificationError,
        SamStatus::UnknownCardType,
        SamStatus::ReadFailed,
        SamStatus::GetRandomFailed,
        SamStatus::SamSelfTestFailed,
        SamStatus::SamNotAuthorised,
        SamStatus::FindCardFailed,
        SamStatus::SelectCardFailed,
    ];

    /// The SW3 byte.
    pub fn code(self) -> u8 {
        match self {
            SamStatus::Success => 0x90,
            SamStatus::NoContent => 0x91,
            SamStatus::FindCardOk => 0x9F,
            SamStatus::HostChecksumError => 0x10,
            SamStatus::HostLengthError => 0x11,
            SamStatus::UnknownCommand => 0x21,
            SamStatus::NotPermitted => 0x23,
            SamStatus::UnknownError => 0x24,
            SamStatus::CardAuthenticateSamFailed => 0x31,
            SamStatus::SamAuthenticateCardFailed => 0x32,
            SamStatus::InformationVerificationError => 0x33,
            SamStatus::UnknownCardType => 0x40,
            SamStatus::ReadFailed => 0x41,
            SamStatus::GetRandomFailed => 0x47,
            SamStatus::SamSelfTestFailed => 0x60,
            SamStatus::SamNotAuthorised => 0x66,
            SamStatus::FindCardFailed => 0x80,
            SamStatus::SelectCardFailed => 0x81,
        }
    }

    /// The status for an SW3 byte, if it is in the table.
    pub fn from_code(code: u8) -> Option<SamStatus> {
        SamStatus::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether this status means the command succeeded.
    pub fn is_success(self) -> bool {
        matches!(
            self,
            SamStatus::Success | SamStatus::NoContent | SamStatus::FindCardOk
        )
    }

    /// The message in Chinese.
    pub fn zh_message(self) -> &'static str {
        match self {
            SamStatus::Success => "操作成功",
            SamStatus::NoContent => "证/卡中此项无内容",
            SamStatus::FindCardOk => "寻找证/卡成功",
            SamStatus::HostChecksumError => "接收数据校验和错",
            SamStatus::HostLengthError => "接收数据长度错",
            SamStatus::UnknownCommand => "接收数据命令错",
            SamStatus::NotPermitted => "越权操作",
            SamStatus::UnknownError => "无法识别的错误",
            SamStatus::CardAuthenticateSamFailed => "证/卡认证 SAM 失败",
            SamStatus::SamAuthenticateCardFailed => "SAM 认证证/卡失败",
            SamStatus::InformationVerificationError => "信息验证错误",
            SamStatus::UnknownCardType => "无法识别的卡类型",
            SamStatus::ReadFailed => "读证/卡操作失败",
            SamStatus::GetRandomFailed => "取随机数失败",
            SamStatus::SamSelfTestFailed => "SAM 自检失败",
            SamStatus::SamNotAuthorised => "SAM 未经授权",
            SamStatus::FindCardFailed => "寻找证/卡失败",
            SamStatus::SelectCardFailed => "选取证/卡失败",
        }
    }

    /// The message in English.
    pub fn en_message(self) -> &'static str {
        match self {
            SamStatus::Success => "success",
            SamStatus::NoContent => "no content for this item",
            SamStatus::FindCardOk => "find card OK",
            SamStatus::HostChecksumError => "host frame checksum error",
            SamStatus::HostLengthError => "host frame length error",
            SamStatus::UnknownCommand => "unknown command",
            SamStatus::NotPermitted => "operation not permitted",
            SamStatus::UnknownError => "unknown error",
            SamStatus::CardAuthenticateSamFailed => "card failed to authenticate the SAM",
            SamStatus::SamAuthenticateCardFailed => "SAM failed to authenticate the card",
            SamStatus::InformationVerificationError => "information verification error",
            SamStatus::UnknownCardType => "unknown card type",
            SamStatus::ReadFailed => "read failed",
            SamStatus::GetRandomFailed => "get-random failed",
            SamStatus::SamSelfTestFailed => "SAM self-test failed",
            SamStatus::SamNotAuthorised => "SAM not authorised",
            SamStatus::FindCardFailed => "find card failed (no card)",
            SamStatus::SelectCardFailed => "select card failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_and_has_messages() {
        let mut codes = std::collections::HashSet::new();
        for status in SamStatus::ALL {
            assert_eq!(SamStatus::from_code(status.code()), Some(status));
            assert!(codes.insert(status.code()), "duplicate code {status:?}");
            assert!(!status.zh_message().is_empty());
            assert!(!status.en_message().is_empty());
        }
        assert_eq!(SamStatus::from_code(0x00), None);
        assert_eq!(
            SamStatus::from_code(0x60).map(SamStatus::zh_message),
            Some("SAM 自检失败")
        );
        assert_eq!(
            SamStatus::FindCardFailed.to_string(),
            "SAM status 0x80: find card failed (no card)"
        );
    }
}

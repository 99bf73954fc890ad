//! The card-type marker at byte 248 of the text block (reference §1.7).

/// Byte offset of the type marker in the 256-byte text block.
pub const TYPE_MARKER_OFFSET: usize = 248;

/// Which kind of card the SAM read, by the marker at text byte 248 (UCS-2LE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardType {
    /// `20 00` (space): 居民身份证, resident ID card.
    Resident,
    /// `4A 00` 'J': 港澳台居民居住证.
    HkMacaoTaiwanResidencePermit,
    /// `49 00` 'I': 外国人永久居留证 (2017).
    ForeignerPermanentResidence2017,
    /// `59 00` 'Y': 外国人永久居留身份证 (2023).
    ForeignerPermanentResidence2023,
    /// Any other marker (the UCS-2 code unit).
    Unknown(u16),
}

impl CardType {
    /// The type for the marker code unit.
    pub fn from_marker(unit: u16) -> CardType {
        match unit {
            0x0020 => CardType::Resident,
            0x004A => CardType::HkMacaoTaiwanResidencePermit,
            0x0049 => CardType::ForeignerPermanentResidence2017,
            0x0059 => CardType::ForeignerPermanentResidence2023,
            other => CardType::Unknown(other),
        }
    }

    /// The type of a 256-byte text block, read from its marker.
    pub fn of_text_block(block: &[u8]) -> CardType {
        match block.get(TYPE_MARKER_OFFSET..TYPE_MARKER_OFFSET + 2) {
            Some([lo, hi]) => CardType::from_marker(u16::from_le_bytes([*lo, *hi])),
            _ => CardType::Unknown(0),
        }
    }

    /// The marker code unit written at byte 248.
    pub fn marker(self) -> u16 {
        match self {
            CardType::Resident => 0x0020,
            CardType::HkMacaoTaiwanResidencePermit => 0x004A,
            CardType::ForeignerPermanentResidence2017 => 0x0049,
            CardType::ForeignerPermanentResidence2023 => 0x0059,
            CardType::Unknown(unit) => unit,
        }
    }

    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            CardType::Resident => "resident",
            CardType::HkMacaoTaiwanResidencePermit => "hk_macao_taiwan_residence_permit",
            CardType::ForeignerPermanentResidence2017 => "foreigner_permanent_residence_2017",
            CardType::ForeignerPermanentResidence2023 => "foreigner_permanent_residence_2023",
            CardType::Unknown(_) => "unknown",
        }
    }
}

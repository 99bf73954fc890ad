//! CRT-591 status bytes (st0 st1 st2) and error codes (e1 e0), reference §3.1.

use crate::cardwriter::report::{BinLevel, CardPosition, StackLevel};

/// The three ASCII status bytes of every positive reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crt591Status {
    /// st0: card in the channel.
    pub card: CardPosition,
    /// st1: stacker.
    pub stack: StackLevel,
    /// st2: error-card bin.
    pub bin: BinLevel,
}

impl Crt591Status {
    /// Decode st0 st1 st2; `None` when a byte is outside the table.
    pub fn from_bytes(bytes: [u8; 3]) -> Option<Self> {
        let card = match bytes[0] {
            b'0' => CardPosition::None,
            b'1' => CardPosition::AtGate,
            b'2' => CardPosition::Inside,
            _ => return None,
        };
        let stack = match bytes[1] {
            b'0' => StackLevel::Empty,
            b'1' => StackLevel::Low,
            b'2' => StackLevel::Ok,
            _ => return None,
        };
        let bin = match bytes[2] {
            b'0' => BinLevel::NotFull,
            b'1' => BinLevel::Full,
            _ => return None,
        };
        Some(Crt591Status { card, stack, bin })
    }

    /// The three status bytes as sent on the wire.
    pub fn to_bytes(self) -> [u8; 3] {
        [
            match self.card {
                CardPosition::None => b'0',
                CardPosition::AtGate => b'1',
                CardPosition::Inside => b'2',
            },
            match self.stack {
                StackLevel::Empty => b'0',
                StackLevel::Low => b'1',
                StackLevel::Ok => b'2',
            },
            match self.bin {
                BinLevel::NotFull => b'0',
                BinLevel::Full => b'1',
            },
        ]
    }
}

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $name:ident = $code:literal, $text:literal; )*) => {
        /// An error code (e1 e0) of a negative CRT-591 reply. Every code of the reference's
        /// table has a variant; anything else is [`Crt591ErrorCode::Other`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Crt591ErrorCode {
            $( $(#[$doc])* $name, )*
            /// A code not in the reference's table (the two ASCII bytes as received).
            Other([u8; 2]),
        }

        impl Crt591ErrorCode {
            /// Every code in the reference's table.
            pub const ALL: &'static [Crt591ErrorCode] = &[$(Crt591ErrorCode::$name),*];

            /// Decode the two ASCII bytes e1 e0.
            pub fn from_bytes(bytes: [u8; 2]) -> Self {
                match &bytes {
                    $( $code => Crt591ErrorCode::$name, )*
                    _ => Crt591ErrorCode::Other(bytes),
                }
            }

            /// The two ASCII bytes e1 e0.
            pub fn to_bytes(self) -> [u8; 2] {
                match self {
                    $( Crt591ErrorCode::$name => *$code, )*
                    Crt591ErrorCode::Other(bytes) => bytes,
                }
            }

            /// The reference's meaning, in English.
            pub fn description(self) -> &'static str {
                match self {
                    $( Crt591ErrorCode::$name => $text, )*
                    Crt591ErrorCode::Other(_) => "error code not in the protocol table",
                }
            }
        }
    };
}

error_codes! {
    /// 00: undefined command.
    UndefinedCommand = b"00", "undefined command";
    /// 01: parameter error.
    ParameterError = b"01", "parameter error";
    /// 02: command sequence error.
    SequenceError = b"02", "command sequence error";
    /// 03: not supported by the hardware.
    NotSupportedByHardware = b"03", "not supported by hardware";
    /// 04: data error.
    DataError = b"04", "data error";
    /// 05: IC contact not released.
    IcContactNotReleased = b"05", "IC contact not released";
    /// 10: card jam.
    CardJam = b"10", "card jam";
    /// 12: sensor error.
    SensorError = b"12", "sensor error";
    /// 13: card too long.
    CardTooLong = b"13", "card too long";
    /// 14: card too short.
    CardTooShort = b"14", "card too short";
    /// 40: recycling disabled.
    RecyclingDisabled = b"40", "recycling disabled";
    /// 41: IC card magnet error.
    IcMagnetError = b"41", "IC card magnet error";
    /// 43: cannot move the card to the IC position.
    CannotMoveToIc = b"43", "cannot move card to IC position";
    /// 45: card moved manually.
    CardMovedManually = b"45", "card moved manually";
    /// 50: counter overflow.
    CounterOverflow = b"50", "counter overflow";
    /// 51: motor error.
    MotorError = b"51", "motor error";
    /// 60: IC power short.
    IcPowerShort = b"60", "IC power short";
    /// 61: card activation failed.
    ActivationFailed = b"61", "card activation failed";
    /// 62: command not supported by the card.
    NotSupportedByCard = b"62", "command not supported by card";
    /// 63: no response within WWT.
    NoResponseWithinWwt = b"63", "no response within WWT";
    /// 64: protocol error.
    ProtocolError = b"64", "protocol error";
    /// 65: card not activated.
    CardNotActivated = b"65", "card not activated";
    /// 66: not supported by the current card.
    NotSupportedByCurrentCard = b"66", "not supported by the current card";
    /// 67: transmission error.
    TransmissionError = b"67", "transmission error";
    /// 68: transmission timeout.
    TransmissionTimeout = b"68", "transmission timeout";
    /// 69: non-EMV ATR.
    NonEmvAtr = b"69", "non-EMV ATR";
    /// A0: stacker empty.
    StackerEmpty = b"A0", "stacker empty";
    /// A1: error-card bin full.
    BinFull = b"A1", "error-card bin full";
    /// B0: not reset (send Initialize first).
    NotReset = b"B0", "not reset (initialize first)";
}

impl Crt591ErrorCode {
    /// Whether the code is about the card's chip (contact or contactless) rather than the
    /// mechanics: 60–69.
    pub fn is_chip_error(self) -> bool {
        matches!(self.to_bytes(), [b'6', b'0'..=b'9'])
    }
}

impl std::fmt::Display for Crt591ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [e1, e0] = self.to_bytes();
        write!(
            f,
            "{}{} ({})",
            char::from(e1),
            char::from(e0),
            self.description()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        assert_eq!(Crt591ErrorCode::ALL.len(), 29);
        for &code in Crt591ErrorCode::ALL {
            assert_eq!(Crt591ErrorCode::from_bytes(code.to_bytes()), code);
        }
        assert_eq!(
            Crt591ErrorCode::from_bytes(*b"A0"),
            Crt591ErrorCode::StackerEmpty
        );
        assert_eq!(
            Crt591ErrorCode::from_bytes(*b"99"),
            Crt591ErrorCode::Other(*b"99")
        );
        assert!(Crt591ErrorCode::TransmissionError.is_chip_error());
        assert!(!Crt591ErrorCode::CardJam.is_chip_error());
        assert_eq!(
            Crt591ErrorCode::BinFull.to_string(),
            "A1 (error-card bin full)"
        );
    }

    #[test]
    fn status_bytes_follow_the_table() {
        let status = Crt591Status::from_bytes(*b"011").expect("valid");
        assert_eq!(status.card, CardPosition::None);
        assert_eq!(status.stack, StackLevel::Low);
        assert_eq!(status.bin, BinLevel::Full);
        let status = Crt591Status::from_bytes(*b"220").expect("valid");
        assert_eq!(status.card, CardPosition::Inside);
        assert_eq!(status.stack, StackLevel::Ok);
        assert_eq!(status.to_bytes(), *b"220");
        assert_eq!(
            Crt591Status::from_bytes(*b"100").map(|s| s.card),
            Some(CardPosition::AtGate)
        );
        assert!(Crt591Status::from_bytes(*b"302").is_none());
        assert!(Crt591Status::from_bytes(*b"032").is_none());
    }
}

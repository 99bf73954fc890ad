//! The CRT-591 commands (CM, PM) the kiosk uses, reference §3.1, and the DATA of the Mifare
//! pass-through `60 33`.

use super::frame::CommandFrame;
use crate::cardwriter::encoder::{KeyType, MifareKey};

/// A command code pair with a name for logs and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Crt591Command {
    /// Command byte.
    pub cm: u8,
    /// Parameter byte.
    pub pm: u8,
    /// English name.
    pub name: &'static str,
}

impl Crt591Command {
    /// The frame of this command without data.
    pub fn frame(self) -> CommandFrame {
        CommandFrame::new(self.cm, self.pm)
    }

    /// The frame of this command with `data`.
    pub fn frame_with(self, data: Vec<u8>) -> CommandFrame {
        CommandFrame::with_data(self.cm, self.pm, data)
    }

    /// The command with these codes, if the kiosk knows it.
    pub fn lookup(cm: u8, pm: u8) -> Option<Crt591Command> {
        ALL.iter().copied().find(|c| c.cm == cm && c.pm == pm)
    }

    /// Whether the device moves a card for it (longer time allowed).
    pub fn is_motion(self) -> bool {
        matches!(self.cm, 0x30 | 0x32)
    }
}

const fn command(cm: u8, pm: u8, name: &'static str) -> Crt591Command {
    Crt591Command { cm, pm, name }
}

/// Initialize; a card in the channel stays; the reply carries the firmware version.
pub const INIT_KEEP: Crt591Command = command(0x30, 0x33, "initialise");
/// Initialize and move a card in the channel to the gate.
pub const INIT_TO_GATE: Crt591Command = command(0x30, 0x30, "initialise (card to gate)");
/// Initialize and capture a card in the channel to the bin.
pub const INIT_CAPTURE: Crt591Command = command(0x30, 0x31, "initialise (capture card)");
/// Status: st0 st1 st2.
pub const STATUS: Crt591Command = command(0x31, 0x30, "status");
/// Sensor status: eight '0'/'1' bytes (S1..S7 and a reserve).
pub const SENSORS: Crt591Command = command(0x31, 0x31, "sensor status");
/// Move to the holding position.
pub const MOVE_HOLD: Crt591Command = command(0x32, 0x30, "move to holding position");
/// Dispense / move to the IC contact position.
pub const MOVE_IC: Crt591Command = command(0x32, 0x31, "move to IC position");
/// Dispense / move to the RF position.
pub const MOVE_RF: Crt591Command = command(0x32, 0x32, "move to RF position");
/// Capture to the error-card bin.
pub const CAPTURE: Crt591Command = command(0x32, 0x33, "capture to bin");
/// Eject out of the gate.
pub const EJECT: Crt591Command = command(0x32, 0x39, "eject to gate");
/// Enable card entry from the gate.
pub const ENTRY_ENABLE: Crt591Command = command(0x33, 0x30, "enable entry");
/// Disable card entry from the gate.
pub const ENTRY_DISABLE: Crt591Command = command(0x33, 0x31, "disable entry");
/// Auto-detect the IC card type.
pub const DETECT_IC: Crt591Command = command(0x50, 0x30, "detect IC card type");
/// Auto-detect the RF card type.
pub const DETECT_RF: Crt591Command = command(0x50, 0x31, "detect RF card type");
/// CPU card cold reset; DATA = Vcc ('0' EMV 5 V, '3' ISO 5 V, '5' ISO 3 V); reply Type + ATR.
pub const CPU_COLD_RESET: Crt591Command = command(0x51, 0x30, "CPU card cold reset");
/// CPU card power off.
pub const CPU_POWER_OFF: Crt591Command = command(0x51, 0x31, "CPU card power off");
/// CPU card status.
pub const CPU_STATUS: Crt591Command = command(0x51, 0x32, "CPU card status");
/// CPU card APDU, T=0.
pub const CPU_APDU_T0: Crt591Command = command(0x51, 0x33, "CPU card T=0 APDU");
/// CPU card APDU, T=1.
pub const CPU_APDU_T1: Crt591Command = command(0x51, 0x34, "CPU card T=1 APDU");
/// CPU card warm reset.
pub const CPU_WARM_RESET: Crt591Command = command(0x51, 0x38, "CPU card warm reset");
/// CPU card APDU, T=0 or T=1 chosen by the reader.
pub const CPU_APDU: Crt591Command = command(0x51, 0x39, "CPU card APDU");
/// RF activate; DATA = the order of types to try ('A' 'B').
pub const RF_ACTIVATE: Crt591Command = command(0x60, 0x30, "RF activate");
/// RF deactivate.
pub const RF_DEACTIVATE: Crt591Command = command(0x60, 0x31, "RF deactivate");
/// RF status.
pub const RF_STATUS: Crt591Command = command(0x60, 0x32, "RF status");
/// Mifare pass-through: DATA = one of the [`MifareOp`] frames.
pub const MIFARE: Crt591Command = command(0x60, 0x33, "Mifare");
/// Type A T=CL APDU.
pub const TYPE_A_APDU: Crt591Command = command(0x60, 0x34, "type A APDU");
/// Type B T=CL APDU.
pub const TYPE_B_APDU: Crt591Command = command(0x60, 0x35, "type B APDU");
/// Card (unit) serial number.
pub const SERIAL_NUMBER: Crt591Command = command(0xA2, 0x30, "serial number");
/// Configuration.
pub const CONFIG: Crt591Command = command(0xA3, 0x30, "configuration");
/// Firmware version.
pub const FIRMWARE: Crt591Command = command(0xA4, 0x30, "firmware version");
/// Error-bin counter read.
pub const BIN_COUNTER_READ: Crt591Command = command(0xA5, 0x30, "read bin counter");
/// Error-bin counter set.
pub const BIN_COUNTER_SET: Crt591Command = command(0xA5, 0x31, "set bin counter");

/// Every command above.
pub const ALL: &[Crt591Command] = &[
    INIT_KEEP,
    INIT_TO_GATE,
    INIT_CAPTURE,
    STATUS,
    SENSORS,
    MOVE_HOLD,
    MOVE_IC,
    MOVE_RF,
    CAPTURE,
    EJECT,
    ENTRY_ENABLE,
    ENTRY_DISABLE,
    DETECT_IC,
    DETECT_RF,
    CPU_COLD_RESET,
    CPU_POWER_OFF,
    CPU_STATUS,
    CPU_APDU_T0,
    CPU_APDU_T1,
    CPU_WARM_RESET,
    CPU_APDU,
    RF_ACTIVATE,
    RF_DEACTIVATE,
    RF_STATUS,
    MIFARE,
    TYPE_A_APDU,
    TYPE_B_APDU,
    SERIAL_NUMBER,
    CONFIG,
    FIRMWARE,
    BIN_COUNTER_READ,
    BIN_COUNTER_SET,
];

/// Vcc for the CPU card cold reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChipVoltage {
    /// '0': EMV, 5 V.
    Emv5V,
    /// '3': ISO 7816, 5 V.
    Iso5V,
    /// '5': ISO 7816, 3 V.
    Iso3V,
}

impl ChipVoltage {
    /// The DATA byte.
    pub fn byte(self) -> u8 {
        match self {
            ChipVoltage::Emv5V => b'0',
            ChipVoltage::Iso5V => b'3',
            ChipVoltage::Iso3V => b'5',
        }
    }
}

/// The Mifare operations carried in the DATA of `60 33` (reference §3.1):
/// verify key `00 20 ks sn 06 key6`, read `00 B0 sn bn le`, write `00 D1 sn bn lc data`.
/// The R-data ends with SW `90 00` (done) or `6F 00` (failed).
///
/// **[unverified]** The reference gives the layouts but not the values of `ks` and `le`:
/// this driver sends `ks` = 0x00 for key A and 0x01 for key B, `bn` as the block within the
/// sector, and `le` / `lc` as byte counts (16 per block). Check against the PDF's `60 33`
/// table before using another card layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MifareOp {
    /// Verify (load + authenticate) a sector key.
    VerifyKey {
        /// Sector number.
        sector: u8,
        /// The key.
        key: MifareKey,
    },
    /// Read `len` bytes from `block` of `sector`.
    Read {
        /// Sector number.
        sector: u8,
        /// First block within the sector.
        block: u8,
        /// Bytes to read (16 per block).
        len: u8,
    },
    /// Write `data` from `block` of `sector`.
    Write {
        /// Sector number.
        sector: u8,
        /// First block within the sector.
        block: u8,
        /// Whole blocks of data.
        data: Vec<u8>,
    },
}

/// SW of a Mifare operation that succeeded.
pub const SW_OK: [u8; 2] = [0x90, 0x00];
/// SW of a Mifare operation that failed (wrong key, write refused, …).
pub const SW_FAILED: [u8; 2] = [0x6F, 0x00];

impl MifareOp {
    /// The DATA bytes of `60 33`.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            MifareOp::VerifyKey { sector, key } => {
                let ks = match key.key_type {
                    KeyType::A => 0x00,
                    KeyType::B => 0x01,
                };
                let mut data = vec![0x00, 0x20, ks, *sector, 0x06];
                data.extend_from_slice(key.bytes());
                data
            }
            MifareOp::Read { sector, block, len } => vec![0x00, 0xB0, *sector, *block, *len],
            MifareOp::Write {
                sector,
                block,
                data,
            } => {
                let mut out = vec![
                    0x00,
                    0xD1,
                    *sector,
                    *block,
                    u8::try_from(data.len()).unwrap_or(u8::MAX),
                ];
                out.extend_from_slice(data);
                out
            }
        }
    }

    /// Parse the DATA of `60 33` (what the simulator receives).
    pub fn decode(data: &[u8]) -> Option<Self> {
        match data {
            [0x00, 0x20, ks, sector, 0x06, key @ ..] if key.len() == 6 => {
                let key_type = match ks {
                    0x00 => KeyType::A,
                    0x01 => KeyType::B,
                    _ => return None,
                };
                let mut bytes = [0u8; 6];
                bytes.copy_from_slice(key);
                Some(MifareOp::VerifyKey {
                    sector: *sector,
                    key: MifareKey::new(key_type, bytes),
                })
            }
            [0x00, 0xB0, sector, block, len] => Some(MifareOp::Read {
                sector: *sector,
                block: *block,
                len: *len,
            }),
            [0x00, 0xD1, sector, block, lc, rest @ ..] if rest.len() == usize::from(*lc) => {
                Some(MifareOp::Write {
                    sector: *sector,
                    block: *block,
                    data: rest.to_vec(),
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mifare_ops_round_trip() {
        let ops = [
            MifareOp::VerifyKey {
                sector: 2,
                key: MifareKey::new(KeyType::A, [0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5]),
            },
            MifareOp::VerifyKey {
                sector: 15,
                key: MifareKey::new(KeyType::B, [0xFF; 6]),
            },
            MifareOp::Read {
                sector: 1,
                block: 0,
                len: 48,
            },
            MifareOp::Write {
                sector: 3,
                block: 1,
                data: vec![0x03; 32],
            },
        ];
        for op in ops {
            assert_eq!(MifareOp::decode(&op.encode()), Some(op));
        }
        assert_eq!(
            MifareOp::VerifyKey {
                sector: 1,
                key: MifareKey::TRANSPORT
            }
            .encode(),
            vec![
                0x00, 0x20, 0x00, 0x01, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF
            ]
        );
        assert_eq!(MifareOp::decode(&[0x00, 0xD1, 1, 0, 16, 0]), None);
    }

    #[test]
    fn every_command_is_known_once() {
        for (i, a) in ALL.iter().enumerate() {
            assert_eq!(Crt591Command::lookup(a.cm, a.pm), Some(*a));
            for b in &ALL[i + 1..] {
                assert!((a.cm, a.pm) != (b.cm, b.pm), "{} twice", a.name);
            }
        }
        assert!(MOVE_RF.is_motion());
        assert!(!STATUS.is_motion());
    }
}

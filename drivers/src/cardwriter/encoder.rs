//! Card I/O, whatever carries it: the [`CardEncoder`] trait (Mifare-style sectors with keys,
//! and a contact CPU chip with APDU pass-through), the key type and the card identification.
//!
//! The CRT-591 carries card I/O on its own serial link (`60 3x`, `51 3x`); the K720 is a
//! dispenser only and needs an encoder at its read position (see [`super::pcsc`]).

use super::error::CardWriterError;

/// Bytes in one Mifare block.
pub const BLOCK_LEN: usize = 16;
/// Blocks in one (1K-style) sector; the last one is the sector trailer with the keys.
pub const BLOCKS_PER_SECTOR: u8 = 4;
/// Sectors on a 1K-style card.
pub const SECTORS: u8 = 16;

/// Which of the two sector keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// Key A.
    A,
    /// Key B.
    B,
}

/// A six-byte Mifare sector key. `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct MifareKey {
    /// Key A or key B.
    pub key_type: KeyType,
    bytes: [u8; 6],
}

impl MifareKey {
    /// The factory transport key (FF FF FF FF FF FF) as key A.
    pub const TRANSPORT: MifareKey = MifareKey {
        key_type: KeyType::A,
        bytes: [0xFF; 6],
    };

    /// A key of `key_type` with `bytes`.
    pub fn new(key_type: KeyType, bytes: [u8; 6]) -> Self {
        MifareKey { key_type, bytes }
    }

    /// The six key bytes.
    pub fn bytes(&self) -> &[u8; 6] {
        &self.bytes
    }
}

impl std::fmt::Debug for MifareKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MifareKey({:?}, ******)", self.key_type)
    }
}

/// A contactless card found by activation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RfCard {
    /// Card type as the reader reports it: `b'A'`, `b'B'` or `b'M'` (Mifare) on the CRT-591;
    /// `b'M'` from a PC/SC reader.
    pub kind: u8,
    /// The UID (4, 7 or 10 bytes).
    pub uid: Vec<u8>,
}

impl RfCard {
    /// The UID as upper-case hex.
    pub fn uid_hex(&self) -> String {
        self.uid.iter().map(|b| format!("{b:02X}")).collect()
    }
}

/// Card I/O on the card at the encoder position.
pub trait CardEncoder: Send {
    /// Power the RF field and activate the card; fails with [`CardWriterError::NoCard`] or
    /// [`CardWriterError::Chip`] when nothing answers.
    fn activate(&mut self) -> Result<RfCard, CardWriterError>;
    /// Authenticate `sector` with `key`; a rejected key is [`CardWriterError::WrongKey`].
    fn authenticate(&mut self, sector: u8, key: &MifareKey) -> Result<(), CardWriterError>;
    /// Read `count` blocks from `block` (within `sector`) of the authenticated sector.
    fn read_blocks(&mut self, sector: u8, block: u8, count: u8)
    -> Result<Vec<u8>, CardWriterError>;
    /// Write whole blocks from `block` (within `sector`); `data` is a multiple of 16 bytes.
    fn write_blocks(&mut self, sector: u8, block: u8, data: &[u8]) -> Result<(), CardWriterError>;
    /// Switch the RF field off.
    fn deactivate(&mut self) -> Result<(), CardWriterError>;
    /// Power the contact chip (cold reset) and return its ATR.
    fn chip_power_on(&mut self) -> Result<Vec<u8>, CardWriterError>;
    /// Send one C-APDU to the powered chip and return the R-APDU (data + SW1 SW2).
    fn chip_apdu(&mut self, apdu: &[u8]) -> Result<Vec<u8>, CardWriterError>;
    /// Power the contact chip off.
    fn chip_power_off(&mut self) -> Result<(), CardWriterError>;
}

/// Refuse block ranges that leave the sector or touch its trailer (keys and access bits are
/// never written by the kiosk).
pub fn check_data_blocks(sector: u8, block: u8, count: usize) -> Result<(), CardWriterError> {
    if sector >= SECTORS
        || count == 0
        || usize::from(block) + count > usize::from(BLOCKS_PER_SECTOR - 1)
    {
        return Err(CardWriterError::Unsupported(format!(
            "blocks {block}..{} of sector {sector} are not data blocks",
            usize::from(block) + count
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_do_not_show_in_debug() {
        let key = MifareKey::new(KeyType::B, [1, 2, 3, 4, 5, 6]);
        assert_eq!(format!("{key:?}"), "MifareKey(B, ******)");
        assert_eq!(key.bytes(), &[1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn only_data_blocks_are_writable() {
        assert!(check_data_blocks(1, 0, 3).is_ok());
        assert!(check_data_blocks(1, 2, 1).is_ok());
        assert!(check_data_blocks(1, 3, 1).is_err(), "trailer");
        assert!(check_data_blocks(1, 1, 3).is_err(), "runs into the trailer");
        assert!(check_data_blocks(16, 0, 1).is_err());
        assert!(check_data_blocks(1, 0, 0).is_err());
        assert_eq!(
            RfCard {
                kind: b'M',
                uid: vec![0xDE, 0xAD, 0x01]
            }
            .uid_hex(),
            "DEAD01"
        );
    }
}

//! A simulated card: a Mifare-1K-style sector store (16 sectors × 4 blocks, keys in each
//! sector trailer) and a small contact CPU chip with one binary file behind an application.

use crate::cardwriter::encoder::{BLOCK_LEN, BLOCKS_PER_SECTOR, KeyType, MifareKey, SECTORS};
use crate::cardwriter::layout::CardLayout;

/// The simulated chip's application identifier (proprietary RID range 0xF0).
pub const SIM_AID: [u8; 6] = [0xF0, 0x4B, 0x49, 0x4F, 0x53, 0x4B];
/// The simulated chip's ATR (T=0, no historical bytes beyond "KIOSK").
pub const SIM_ATR: [u8; 10] = [0x3B, 0x85, 0x80, 0x01, b'K', b'I', b'O', b'S', b'K', 0x7C];
/// Bytes of the chip's binary file.
pub const CHIP_FILE_LEN: usize = 256;
/// Factory access bits of a sector trailer.
const ACCESS_BITS: [u8; 4] = [0xFF, 0x07, 0x80, 0x69];

/// One simulated card.
#[derive(Clone, PartialEq, Eq)]
pub struct SimCard {
    uid: [u8; 4],
    blocks: Vec<[u8; BLOCK_LEN]>,
    chip_file: Vec<u8>,
    chip_selected: bool,
}

impl std::fmt::Debug for SimCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SimCard({})", self.uid_hex())
    }
}

impl SimCard {
    /// A blank card: data blocks zero, every sector keyed with the transport key
    /// (FF FF FF FF FF FF for A and B).
    pub fn blank(uid: [u8; 4]) -> Self {
        let mut blocks = vec![[0u8; BLOCK_LEN]; usize::from(SECTORS * BLOCKS_PER_SECTOR)];
        blocks[0][..4].copy_from_slice(&uid);
        blocks[0][4] = uid.iter().fold(0, |a, b| a ^ b);
        let mut card = SimCard {
            uid,
            blocks,
            chip_file: vec![0; CHIP_FILE_LEN],
            chip_selected: false,
        };
        card.set_keys(&[0xFF; 6], &[0xFF; 6]);
        card
    }

    /// The same card with key A and key B of every sector set to `key`'s bytes (a card keyed
    /// by someone else, for the wrong-key case).
    pub fn keyed(mut self, key: &MifareKey) -> Self {
        self.set_keys(key.bytes(), key.bytes());
        self
    }

    /// The same card with `bytes` written into the record area of `layout` (zero-padded),
    /// as a card issued earlier would hold it.
    pub fn with_record_area(mut self, layout: &CardLayout, bytes: &[u8]) -> Self {
        let mut area = bytes.to_vec();
        area.resize(layout.capacity(), 0);
        let data_blocks = (BLOCKS_PER_SECTOR - 1) as usize;
        for (i, chunk) in area.chunks(BLOCK_LEN).enumerate() {
            let sector = layout.sectors[i / data_blocks];
            let index = usize::from(sector * BLOCKS_PER_SECTOR) + i % data_blocks;
            self.blocks[index].copy_from_slice(chunk);
        }
        self
    }

    fn set_keys(&mut self, a: &[u8; 6], b: &[u8; 6]) {
        for sector in 0..SECTORS {
            let trailer = &mut self.blocks[usize::from(sector * BLOCKS_PER_SECTOR + 3)];
            trailer[..6].copy_from_slice(a);
            trailer[6..10].copy_from_slice(&ACCESS_BITS);
            trailer[10..].copy_from_slice(b);
        }
    }

    /// The UID.
    pub fn uid(&self) -> [u8; 4] {
        self.uid
    }

    /// The UID as upper-case hex (as the driver reports it).
    pub fn uid_hex(&self) -> String {
        self.uid.iter().map(|b| format!("{b:02X}")).collect()
    }

    /// The record area of `layout` as stored (for checking what a write left on the card).
    pub fn record_area(&self, layout: &CardLayout) -> Vec<u8> {
        let mut area = Vec::with_capacity(layout.capacity());
        for &sector in &layout.sectors {
            for block in 0..BLOCKS_PER_SECTOR - 1 {
                area.extend_from_slice(
                    &self.blocks[usize::from(sector * BLOCKS_PER_SECTOR + block)],
                );
            }
        }
        area
    }

    /// Whether `key` opens `sector`.
    pub fn key_opens(&self, sector: u8, key: &MifareKey) -> bool {
        if sector >= SECTORS {
            return false;
        }
        let trailer = &self.blocks[usize::from(sector * BLOCKS_PER_SECTOR + 3)];
        let stored = match key.key_type {
            KeyType::A => &trailer[..6],
            KeyType::B => &trailer[10..],
        };
        stored == key.bytes()
    }

    /// Read absolute block `index`.
    pub(crate) fn block(&self, index: usize) -> Option<[u8; BLOCK_LEN]> {
        self.blocks.get(index).copied()
    }

    /// Write absolute block `index` (never a trailer or block 0).
    pub(crate) fn write_block(&mut self, index: usize, data: &[u8]) -> bool {
        if index == 0 || index % usize::from(BLOCKS_PER_SECTOR) == 3 || data.len() != BLOCK_LEN {
            return false;
        }
        match self.blocks.get_mut(index) {
            Some(block) => {
                block.copy_from_slice(data);
                true
            }
            None => false,
        }
    }

    /// The chip's binary file.
    pub fn chip_file(&self) -> &[u8] {
        &self.chip_file
    }

    /// Reset the chip (power on).
    pub(crate) fn chip_reset(&mut self) -> Vec<u8> {
        self.chip_selected = false;
        SIM_ATR.to_vec()
    }

    /// Answer one ISO 7816-4 C-APDU: SELECT by AID, READ BINARY, UPDATE BINARY.
    pub(crate) fn chip_apdu(&mut self, apdu: &[u8]) -> Vec<u8> {
        let sw = |a: u8, b: u8| vec![a, b];
        let [cla, ins, p1, p2, body @ ..] = apdu else {
            return sw(0x67, 0x00);
        };
        if *cla != 0x00 {
            return sw(0x6E, 0x00);
        }
        let offset = usize::from(*p1) << 8 | usize::from(*p2);
        match ins {
            0xA4 => {
                let [lc, rest @ ..] = body else {
                    return sw(0x67, 0x00);
                };
                let aid = rest.get(..usize::from(*lc)).unwrap_or_default();
                if (*p1, *p2) == (0x04, 0x00) && aid == SIM_AID {
                    self.chip_selected = true;
                    sw(0x90, 0x00)
                } else {
                    sw(0x6A, 0x82)
                }
            }
            0xB0 if !self.chip_selected => sw(0x69, 0x86),
            0xB0 => {
                let le = match body {
                    [0] => 256,
                    [le] => usize::from(*le),
                    _ => return sw(0x67, 0x00),
                };
                if offset + le > CHIP_FILE_LEN {
                    return sw(0x6B, 0x00);
                }
                let mut out = self.chip_file[offset..offset + le].to_vec();
                out.extend_from_slice(&[0x90, 0x00]);
                out
            }
            0xD6 if !self.chip_selected => sw(0x69, 0x86),
            0xD6 => {
                let [lc, data @ ..] = body else {
                    return sw(0x67, 0x00);
                };
                if data.len() != usize::from(*lc) {
                    return sw(0x67, 0x00);
                }
                if offset + data.len() > CHIP_FILE_LEN {
                    return sw(0x6B, 0x00);
                }
                self.chip_file[offset..offset + data.len()].copy_from_slice(data);
                sw(0x90, 0x00)
            }
            _ => sw(0x6D, 0x00),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_cards_open_with_the_transport_key_only() {
        let card = SimCard::blank([1, 2, 3, 4]);
        assert!(card.key_opens(1, &MifareKey::TRANSPORT));
        assert!(card.key_opens(1, &MifareKey::new(KeyType::B, [0xFF; 6])));
        let keyed = card.clone().keyed(&MifareKey::new(KeyType::A, [7; 6]));
        assert!(!keyed.key_opens(1, &MifareKey::TRANSPORT));
        assert!(keyed.key_opens(15, &MifareKey::new(KeyType::A, [7; 6])));
        assert_eq!(card.uid_hex(), "01020304");
    }

    #[test]
    fn record_area_round_trips_and_trailers_are_protected() {
        let layout = CardLayout::default();
        let bytes: Vec<u8> = (0..100).collect();
        let card = SimCard::blank([9; 4]).with_record_area(&layout, &bytes);
        let area = card.record_area(&layout);
        assert_eq!(&area[..100], &bytes[..]);
        assert!(area[100..].iter().all(|&b| b == 0));
        let mut card = card;
        assert!(!card.write_block(7, &[0; 16]), "trailer of sector 1");
        assert!(!card.write_block(0, &[0; 16]), "manufacturer block");
        assert!(card.write_block(4, &[1; 16]));
        assert_eq!(card.block(4), Some([1; 16]));
    }

    #[test]
    fn chip_answers_select_read_update() {
        let mut card = SimCard::blank([1; 4]);
        assert_eq!(card.chip_reset(), SIM_ATR.to_vec());
        assert_eq!(card.chip_apdu(&[0x00, 0xB0, 0, 0, 4]), vec![0x69, 0x86]);
        let mut select = vec![0x00, 0xA4, 0x04, 0x00, 6];
        select.extend_from_slice(&SIM_AID);
        assert_eq!(card.chip_apdu(&select), vec![0x90, 0x00]);
        assert_eq!(
            card.chip_apdu(&[0x00, 0xD6, 0, 2, 2, 0xAB, 0xCD]),
            vec![0x90, 0x00]
        );
        assert_eq!(
            card.chip_apdu(&[0x00, 0xB0, 0, 1, 3]),
            vec![0x00, 0xAB, 0xCD, 0x90, 0x00]
        );
        assert_eq!(card.chip_apdu(&[0x00, 0xB0, 0, 255, 2]), vec![0x6B, 0x00]);
        assert_eq!(card.chip_apdu(&[0x00, 0x84, 0, 0, 8]), vec![0x6D, 0x00]);
        assert_eq!(card.chip_apdu(&[0x80, 0xA4, 0, 0]), vec![0x6E, 0x00]);
        let mut other = vec![0x00, 0xA4, 0x04, 0x00, 2, 0xA0, 0x00];
        other.push(0);
        assert_eq!(card.chip_apdu(&other), vec![0x6A, 0x82]);
    }
}

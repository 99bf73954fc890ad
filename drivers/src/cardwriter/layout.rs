//! Where on the card the kiosk's record lives: the data blocks (0–2) of a few sectors,
//! authenticated with one key. Sector 0 (manufacturer block) and the sector trailers (keys,
//! access bits) are never written.

use super::encoder::{BLOCK_LEN, BLOCKS_PER_SECTOR, CardEncoder, MifareKey, SECTORS};
use super::error::CardWriterError;
use super::record::MAX_RECORD_LEN;

/// Data blocks per sector.
const DATA_BLOCKS: u8 = BLOCKS_PER_SECTOR - 1;
/// Bytes of record area per sector.
pub const SECTOR_DATA_LEN: usize = DATA_BLOCKS as usize * BLOCK_LEN;

/// The record area on the card and the key that opens it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardLayout {
    /// The sector key (key A or B).
    pub key: MifareKey,
    /// The sectors holding the record, in order (1–15).
    pub sectors: Vec<u8>,
}

impl Default for CardLayout {
    /// Sectors 1, 2 and 3 (144 bytes) with the factory transport key.
    fn default() -> Self {
        CardLayout {
            key: MifareKey::TRANSPORT,
            sectors: vec![1, 2, 3],
        }
    }
}

impl CardLayout {
    /// Bytes available for the record.
    pub fn capacity(&self) -> usize {
        self.sectors.len() * SECTOR_DATA_LEN
    }

    /// Check the sectors (1–15, no repeats) and that a record of the longest kind fits.
    pub fn validate(&self) -> Result<(), CardWriterError> {
        let bad = |reason: String| Err(CardWriterError::Unsupported(reason));
        for (i, &sector) in self.sectors.iter().enumerate() {
            if sector == 0 || sector >= SECTORS {
                return bad(format!("sector {sector} cannot hold the record"));
            }
            if self.sectors[..i].contains(&sector) {
                return bad(format!("sector {sector} listed twice"));
            }
        }
        if self.capacity() < MAX_RECORD_LEN {
            return bad(format!(
                "{} bytes of record area, {MAX_RECORD_LEN} needed",
                self.capacity()
            ));
        }
        Ok(())
    }

    /// Write `bytes` (zero-padded to the capacity) sector by sector.
    pub fn write(
        &self,
        encoder: &mut dyn CardEncoder,
        bytes: &[u8],
    ) -> Result<(), CardWriterError> {
        self.validate()?;
        if bytes.len() > self.capacity() {
            return Err(CardWriterError::Unsupported(format!(
                "{} bytes do not fit the record area",
                bytes.len()
            )));
        }
        let mut area = bytes.to_vec();
        area.resize(self.capacity(), 0);
        for (&sector, chunk) in self.sectors.iter().zip(area.chunks(SECTOR_DATA_LEN)) {
            encoder.authenticate(sector, &self.key)?;
            encoder.write_blocks(sector, 0, chunk)?;
        }
        Ok(())
    }

    /// Read the whole record area.
    pub fn read(&self, encoder: &mut dyn CardEncoder) -> Result<Vec<u8>, CardWriterError> {
        self.validate()?;
        let mut area = Vec::with_capacity(self.capacity());
        for &sector in &self.sectors {
            encoder.authenticate(sector, &self.key)?;
            area.extend(encoder.read_blocks(sector, 0, DATA_BLOCKS)?);
        }
        Ok(area)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_layout_fits_the_longest_record() {
        let layout = CardLayout::default();
        assert_eq!(layout.capacity(), 144);
        assert!(layout.validate().is_ok());
        let short = CardLayout {
            sectors: vec![1, 2],
            ..CardLayout::default()
        };
        assert!(short.validate().is_err());
        let manufacturer = CardLayout {
            sectors: vec![0, 1, 2],
            ..CardLayout::default()
        };
        assert!(manufacturer.validate().is_err());
        let twice = CardLayout {
            sectors: vec![1, 1, 2],
            ..CardLayout::default()
        };
        assert!(twice.validate().is_err());
    }
}

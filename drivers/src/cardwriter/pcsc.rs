//! A card encoder that speaks PC/SC part 3 storage-card pseudo-APDUs (reference §3.5) over
//! any [`ApduTransport`]: the encoder a K720 needs at its read position.
//!
//! ```text
//! FF CA 00 00 00                          get UID
//! FF 82 00 00 06 <key6>                   load key into slot 0
//! FF 86 00 00 05 01 00 <block> <60|61> 00 general authenticate (60 key A, 61 key B)
//! FF B0 00 <block> 10                     read 16 bytes
//! FF D6 00 <block> 10 <16 bytes>          write 16 bytes
//! ```
//!
//! Success is `90 00`. Blocks are absolute (sector × 4 + block). The transport is what
//! connects to the reader: a real one would use pcsc-lite (`pcsc` crate: establish context,
//! connect, transmit), which this crate does not link; the simulator provides an in-process
//! one (a PC/SC reader cannot be simulated on a pty, reference §3.5).

use super::encoder::{BLOCK_LEN, BLOCKS_PER_SECTOR, CardEncoder, KeyType, MifareKey, RfCard};
use super::error::CardWriterError;

/// Success status word.
pub const SW_SUCCESS: [u8; 2] = [0x90, 0x00];

/// Sends APDUs to the card on a reader.
pub trait ApduTransport: Send {
    /// Connect to the card on the reader; returns its ATR. No card is
    /// [`CardWriterError::NoCard`].
    fn connect(&mut self) -> Result<Vec<u8>, CardWriterError>;
    /// Send one APDU and return the response (data + SW1 SW2).
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, CardWriterError>;
    /// Disconnect from the card.
    fn disconnect(&mut self);
}

/// The pseudo-APDU builders.
pub mod apdu {
    use super::{KeyType, MifareKey};

    /// Get the UID.
    pub fn get_uid() -> Vec<u8> {
        vec![0xFF, 0xCA, 0x00, 0x00, 0x00]
    }

    /// Load `key` into key slot 0.
    pub fn load_key(key: &MifareKey) -> Vec<u8> {
        let mut apdu = vec![0xFF, 0x82, 0x00, 0x00, 0x06];
        apdu.extend_from_slice(key.bytes());
        apdu
    }

    /// Authenticate absolute `block` with the key in slot 0 as key A or B.
    pub fn authenticate(block: u8, key_type: KeyType) -> Vec<u8> {
        let kind = match key_type {
            KeyType::A => 0x60,
            KeyType::B => 0x61,
        };
        vec![0xFF, 0x86, 0x00, 0x00, 0x05, 0x01, 0x00, block, kind, 0x00]
    }

    /// Read 16 bytes of absolute `block`.
    pub fn read(block: u8) -> Vec<u8> {
        vec![0xFF, 0xB0, 0x00, block, 0x10]
    }

    /// Write 16 bytes to absolute `block`.
    pub fn write(block: u8, data: &[u8; 16]) -> Vec<u8> {
        let mut apdu = vec![0xFF, 0xD6, 0x00, block, 0x10];
        apdu.extend_from_slice(data);
        apdu
    }
}

/// A [`CardEncoder`] over PC/SC storage-card pseudo-APDUs.
pub struct PcscStorageEncoder<T: ApduTransport> {
    transport: T,
}

impl<T: ApduTransport> PcscStorageEncoder<T> {
    /// Wrap a transport.
    pub fn new(transport: T) -> Self {
        PcscStorageEncoder { transport }
    }

    /// Send `apdu`; the data and the status word.
    fn send(&mut self, apdu: &[u8], what: &str) -> Result<(Vec<u8>, [u8; 2]), CardWriterError> {
        let mut reply = self.transport.transmit(apdu)?;
        if reply.len() < 2 {
            return Err(CardWriterError::Chip(format!(
                "{what}: response without SW"
            )));
        }
        let sw = reply.split_off(reply.len() - 2);
        Ok((reply, [sw[0], sw[1]]))
    }

    /// Send `apdu`; anything but `90 00` is a chip error.
    fn run(&mut self, apdu: &[u8], what: &str) -> Result<Vec<u8>, CardWriterError> {
        let (data, sw) = self.send(apdu, what)?;
        if sw != SW_SUCCESS {
            return Err(CardWriterError::Chip(format!(
                "{what}: SW {:02X} {:02X}",
                sw[0], sw[1]
            )));
        }
        Ok(data)
    }
}

fn absolute(sector: u8, block: u8) -> u8 {
    sector * BLOCKS_PER_SECTOR + block
}

impl<T: ApduTransport> CardEncoder for PcscStorageEncoder<T> {
    fn activate(&mut self) -> Result<RfCard, CardWriterError> {
        self.transport.connect()?;
        let uid = self.run(&apdu::get_uid(), "get UID")?;
        if !matches!(uid.len(), 4 | 7 | 10) {
            return Err(CardWriterError::Chip(format!("UID of {} bytes", uid.len())));
        }
        Ok(RfCard { kind: b'M', uid })
    }

    fn authenticate(&mut self, sector: u8, key: &MifareKey) -> Result<(), CardWriterError> {
        self.run(&apdu::load_key(key), "load key")?;
        let (_, sw) = self.send(
            &apdu::authenticate(absolute(sector, 0), key.key_type),
            "authenticate",
        )?;
        if sw == SW_SUCCESS {
            Ok(())
        } else {
            Err(CardWriterError::WrongKey { sector })
        }
    }

    fn read_blocks(
        &mut self,
        sector: u8,
        block: u8,
        count: u8,
    ) -> Result<Vec<u8>, CardWriterError> {
        let mut out = Vec::with_capacity(usize::from(count) * BLOCK_LEN);
        for i in 0..count {
            let data = self.run(&apdu::read(absolute(sector, block + i)), "read block")?;
            if data.len() != BLOCK_LEN {
                return Err(CardWriterError::Chip(format!("{} bytes read", data.len())));
            }
            out.extend(data);
        }
        Ok(out)
    }

    fn write_blocks(&mut self, sector: u8, block: u8, data: &[u8]) -> Result<(), CardWriterError> {
        if data.is_empty() || !data.len().is_multiple_of(BLOCK_LEN) {
            return Err(CardWriterError::Unsupported(format!(
                "writing {} bytes (whole blocks only)",
                data.len()
            )));
        }
        for (i, chunk) in data.chunks(BLOCK_LEN).enumerate() {
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(chunk);
            self.run(
                &apdu::write(absolute(sector, block + i as u8), &bytes),
                "write block",
            )?;
        }
        Ok(())
    }

    fn deactivate(&mut self) -> Result<(), CardWriterError> {
        self.transport.disconnect();
        Ok(())
    }

    fn chip_power_on(&mut self) -> Result<Vec<u8>, CardWriterError> {
        self.transport.connect()
    }

    fn chip_apdu(&mut self, apdu: &[u8]) -> Result<Vec<u8>, CardWriterError> {
        let reply = self.transport.transmit(apdu)?;
        if reply.len() < 2 {
            return Err(CardWriterError::Chip("R-APDU without SW".to_owned()));
        }
        Ok(reply)
    }

    fn chip_power_off(&mut self) -> Result<(), CardWriterError> {
        self.transport.disconnect();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudo_apdus_match_the_reference() {
        assert_eq!(apdu::get_uid(), vec![0xFF, 0xCA, 0x00, 0x00, 0x00]);
        assert_eq!(
            apdu::load_key(&MifareKey::TRANSPORT),
            vec![
                0xFF, 0x82, 0x00, 0x00, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF
            ]
        );
        assert_eq!(
            apdu::authenticate(4, KeyType::A),
            vec![0xFF, 0x86, 0x00, 0x00, 0x05, 0x01, 0x00, 0x04, 0x60, 0x00]
        );
        assert_eq!(apdu::authenticate(8, KeyType::B)[8], 0x61);
        assert_eq!(apdu::read(5), vec![0xFF, 0xB0, 0x00, 0x05, 0x10]);
        let write = apdu::write(6, &[0xAB; 16]);
        assert_eq!(&write[..5], &[0xFF, 0xD6, 0x00, 0x06, 0x10]);
        assert_eq!(write.len(), 21);
        assert_eq!(absolute(3, 2), 14);
    }
}

//! An in-process PC/SC-style reader on the simulated dispenser's read position (a PC/SC
//! reader cannot be simulated on a pty, reference §3.5). It answers the storage-card
//! pseudo-APDUs of [`crate::cardwriter::pcsc`] and passes every other APDU to the card's
//! chip; the simulator's faults (chip error, write failure, foreign-keyed card) apply.

use std::sync::{Arc, Mutex};

use super::lock;
use super::state::{DispenserState, IoError};
use crate::cardwriter::encoder::{BLOCKS_PER_SECTOR, KeyType, MifareKey};
use crate::cardwriter::error::CardWriterError;
use crate::cardwriter::pcsc::ApduTransport;

/// A reader at the simulated K720's read position.
pub struct SimulatedPcscReader {
    state: Arc<Mutex<DispenserState>>,
    key: Option<[u8; 6]>,
}

impl SimulatedPcscReader {
    pub(crate) fn new(state: Arc<Mutex<DispenserState>>) -> Self {
        SimulatedPcscReader { state, key: None }
    }
}

fn io_error(error: IoError) -> CardWriterError {
    match error {
        IoError::NoCard => CardWriterError::NoCard("at the read position"),
        IoError::NotActive => CardWriterError::Chip("card not connected".to_owned()),
        IoError::Chip => CardWriterError::Chip("transmission error".to_owned()),
    }
}

fn sw(mut data: Vec<u8>, sw: [u8; 2]) -> Vec<u8> {
    data.extend_from_slice(&sw);
    data
}

impl ApduTransport for SimulatedPcscReader {
    fn connect(&mut self) -> Result<Vec<u8>, CardWriterError> {
        let mut state = lock(&self.state);
        let atr = state.chip_power_on().map_err(io_error)?;
        state.rf_activate().map_err(io_error)?;
        Ok(atr)
    }

    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, CardWriterError> {
        let mut state = lock(&self.state);
        let ok = [0x90, 0x00];
        match apdu {
            [0xFF, 0xCA, 0x00, 0x00, 0x00] => {
                let uid = state.rf_activate().map_err(io_error)?;
                Ok(sw(uid.to_vec(), ok))
            }
            [0xFF, 0x82, 0x00, 0x00, 0x06, key @ ..] if key.len() == 6 => {
                let mut bytes = [0u8; 6];
                bytes.copy_from_slice(key);
                self.key = Some(bytes);
                Ok(ok.to_vec())
            }
            [
                0xFF,
                0x86,
                0x00,
                0x00,
                0x05,
                0x01,
                0x00,
                block,
                kind @ (0x60 | 0x61),
                0x00,
            ] => {
                let Some(bytes) = self.key else {
                    return Ok(vec![0x69, 0x86]);
                };
                let key_type = if *kind == 0x60 {
                    KeyType::A
                } else {
                    KeyType::B
                };
                let opens = state
                    .mifare_auth(block / BLOCKS_PER_SECTOR, &MifareKey::new(key_type, bytes))
                    .map_err(io_error)?;
                Ok(if opens { ok.to_vec() } else { vec![0x63, 0x00] })
            }
            [0xFF, 0xB0, 0x00, block, 0x10] => {
                let data = state
                    .mifare_read(block / BLOCKS_PER_SECTOR, block % BLOCKS_PER_SECTOR, 1)
                    .map_err(io_error)?;
                Ok(match data {
                    Some(data) => sw(data, ok),
                    None => vec![0x69, 0x82],
                })
            }
            [0xFF, 0xD6, 0x00, block, 0x10, data @ ..] if data.len() == 16 => {
                let written = state
                    .mifare_write(block / BLOCKS_PER_SECTOR, block % BLOCKS_PER_SECTOR, data)
                    .map_err(io_error)?;
                Ok(if written {
                    ok.to_vec()
                } else {
                    vec![0x65, 0x81]
                })
            }
            [0xFF, ..] => Ok(vec![0x6A, 0x81]),
            _ => state.chip_apdu(apdu).map_err(io_error),
        }
    }

    fn disconnect(&mut self) {
        let mut state = lock(&self.state);
        state.rf_deactivate();
        state.chip_power_off();
    }
}

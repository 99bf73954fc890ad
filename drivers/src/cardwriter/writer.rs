//! [`CardWriter`]: a dispenser of either model with the record layout, implementing
//! [`Device`] and [`CardWriterDevice`]. Open it by model and port with [`CardWriter::open`].

use std::time::Duration;

use super::crt591::{Crt591, Crt591Timeouts};
use super::encoder::CardEncoder;
use super::error::CardWriterError;
use super::k720::{K720, K720Settings};
use super::layout::CardLayout;
use super::model::CardWriterModel;
use super::record::{CardRecord, RecordKey};
use super::report::CardWriterReport;
use super::steps::CardContent;
use super::unit::CardUnit;
use crate::status::{DeviceClass, DeviceState, DeviceStatus};
use crate::traits::{CardWriterDevice, Device};

/// How to open a card writer.
#[derive(Debug, Clone)]
pub struct CardWriterSettings {
    /// Baud rate (9600 for both models unless configured otherwise on the device).
    pub baud: u32,
    /// CRT-591 timeouts.
    pub crt591: Crt591Timeouts,
    /// K720 address and timeouts.
    pub k720: K720Settings,
    /// Where the record lives on the card.
    pub layout: CardLayout,
    /// Send initialise (card stays where it is) right after opening.
    pub initialise_on_open: bool,
}

impl Default for CardWriterSettings {
    fn default() -> Self {
        CardWriterSettings {
            baud: 9600,
            crt591: Crt591Timeouts::default(),
            k720: K720Settings::default(),
            layout: CardLayout::default(),
            initialise_on_open: true,
        }
    }
}

/// A card dispenser / reader-writer of either model.
pub struct CardWriter {
    unit: Box<dyn CardUnit>,
    layout: CardLayout,
    last_error: Option<String>,
}

impl CardWriter {
    /// Open the dispenser of `model` at `path`. A K720 opened this way has no encoder:
    /// card I/O fails with [`CardWriterError::NoEncoder`] until one is attached with
    /// [`Self::open_k720`].
    pub fn open(
        model: CardWriterModel,
        path: &str,
        settings: &CardWriterSettings,
    ) -> Result<Self, CardWriterError> {
        let unit: Box<dyn CardUnit> = match model {
            CardWriterModel::Crt591 => {
                Box::new(Crt591::open(path, settings.baud, settings.crt591)?)
            }
            CardWriterModel::K720 => Box::new(K720::open(path, settings.baud, settings.k720)?),
        };
        Self::from_unit(unit, settings)
    }

    /// Open a K720 at `path` with `encoder` at its read position.
    pub fn open_k720(
        path: &str,
        settings: &CardWriterSettings,
        encoder: Box<dyn CardEncoder>,
    ) -> Result<Self, CardWriterError> {
        let unit = K720::open(path, settings.baud, settings.k720)?.with_encoder(encoder);
        Self::from_unit(Box::new(unit), settings)
    }

    /// Wrap an opened unit.
    pub fn from_unit(
        unit: Box<dyn CardUnit>,
        settings: &CardWriterSettings,
    ) -> Result<Self, CardWriterError> {
        settings.layout.validate()?;
        let mut writer = CardWriter {
            unit,
            layout: settings.layout.clone(),
            last_error: None,
        };
        if settings.initialise_on_open {
            writer.initialise()?;
        }
        Ok(writer)
    }

    /// The unit underneath (model-specific commands).
    pub fn unit(&mut self) -> &mut dyn CardUnit {
        self.unit.as_mut()
    }

    /// The device path in use.
    pub fn path(&self) -> &str {
        self.unit.path()
    }

    /// Close and reopen the port (after an unplug).
    pub fn reconnect(&mut self) -> Result<(), CardWriterError> {
        let result = self.unit.reconnect();
        self.note(&result);
        result
    }

    /// Initialise the mechanics; returns the firmware identification.
    pub fn initialise(&mut self) -> Result<String, CardWriterError> {
        let result = self.unit.initialise();
        self.note(&result);
        result
    }

    /// The last error seen, if the last operation failed.
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// Power the contact chip of the card at the encoder; returns the ATR.
    pub fn chip_power_on(&mut self) -> Result<Vec<u8>, CardWriterError> {
        let result = self.unit.encoder().and_then(|e| e.chip_power_on());
        self.note(&result);
        result
    }

    /// Send one APDU to the powered chip; returns the R-APDU (data + SW).
    pub fn chip_apdu(&mut self, apdu: &[u8]) -> Result<Vec<u8>, CardWriterError> {
        let result = self.unit.encoder().and_then(|e| e.chip_apdu(apdu));
        self.note(&result);
        result
    }

    /// Power the contact chip off.
    pub fn chip_power_off(&mut self) -> Result<(), CardWriterError> {
        let result = self.unit.encoder().and_then(|e| e.chip_power_off());
        self.note(&result);
        result
    }

    fn note<T>(&mut self, result: &Result<T, CardWriterError>) {
        match result {
            Ok(_) => self.last_error = None,
            Err(error) => self.last_error = Some(error.to_string()),
        }
    }

    fn read_area(&mut self) -> Result<(String, Vec<u8>), CardWriterError> {
        let layout = self.layout.clone();
        let encoder = self.unit.encoder()?;
        let card = encoder.activate()?;
        let area = layout.read(encoder);
        let _ = encoder.deactivate();
        Ok((card.uid_hex(), area?))
    }
}

impl Device for CardWriter {
    type Error = CardWriterError;

    fn class(&self) -> DeviceClass {
        DeviceClass::CardWriter
    }

    fn status(&mut self) -> DeviceStatus {
        match CardWriterDevice::report(self) {
            Ok(report) => report.to_device_status(),
            Err(error) => {
                let state = match error {
                    CardWriterError::Disconnected(_) | CardWriterError::Open { .. } => {
                        DeviceState::NoDevice
                    }
                    CardWriterError::Timeout { .. } => DeviceState::Offline,
                    _ => DeviceState::HardwareError,
                };
                DeviceStatus::new(DeviceClass::CardWriter, state).with_error(error.to_string())
            }
        }
    }

    fn self_test(&mut self) -> Result<DeviceStatus, CardWriterError> {
        self.initialise()?;
        Ok(CardWriterDevice::report(self)?.to_device_status())
    }

    fn reset(&mut self) -> Result<(), CardWriterError> {
        self.initialise().map(drop)
    }
}

impl CardWriterDevice for CardWriter {
    fn model(&self) -> CardWriterModel {
        self.unit.model()
    }

    fn report(&mut self) -> Result<CardWriterReport, CardWriterError> {
        let result = self.unit.report();
        self.note(&result);
        result
    }

    fn dispense_blank(&mut self) -> Result<(), CardWriterError> {
        let result = self.unit.dispense_to_encoder();
        self.note(&result);
        result
    }

    fn accept_card(&mut self, wait: Duration) -> Result<bool, CardWriterError> {
        let result = self.unit.accept_from_front(wait);
        self.note(&result);
        result
    }

    fn read_card(&mut self, key: &RecordKey) -> Result<CardContent, CardWriterError> {
        let result = self.read_area().map(|(uid, area)| CardContent {
            uid,
            record: CardRecord::decode_verified(&area, key),
        });
        self.note(&result);
        result
    }

    fn write_card(&mut self, record: &CardRecord, key: &RecordKey) -> Result<(), CardWriterError> {
        let result = (|| {
            let bytes = record.encode(key)?;
            let layout = self.layout.clone();
            let encoder = self.unit.encoder()?;
            encoder.activate()?;
            let written = layout.write(encoder, &bytes);
            let _ = encoder.deactivate();
            written
        })();
        self.note(&result);
        result
    }

    fn verify_card(
        &mut self,
        record: &CardRecord,
        key: &RecordKey,
    ) -> Result<CardContent, CardWriterError> {
        let result = (|| {
            let expected = record.encode(key)?;
            let (uid, area) = self.read_area()?;
            if area.len() < expected.len() || area[..expected.len()] != expected[..] {
                return Err(CardWriterError::VerifyFailed);
            }
            if area[expected.len()..].iter().any(|&b| b != 0) {
                return Err(CardWriterError::VerifyFailed);
            }
            let decoded = CardRecord::decode_verified(&area, key)?;
            if decoded != *record {
                return Err(CardWriterError::VerifyFailed);
            }
            Ok(CardContent {
                uid,
                record: Ok(decoded),
            })
        })();
        self.note(&result);
        result
    }

    fn present_card(&mut self) -> Result<(), CardWriterError> {
        let result = self.unit.present_at_gate();
        self.note(&result);
        result
    }

    fn capture_card(&mut self) -> Result<(), CardWriterError> {
        let result = self.unit.capture_to_bin();
        self.note(&result);
        result
    }
}

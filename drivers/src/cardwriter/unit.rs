//! The mechanics of a dispenser, one implementation per model: [`CardUnit`]. The
//! [`super::CardWriter`] runs the issue and rewrite sequences on top of it.

use std::time::Duration;

use super::encoder::CardEncoder;
use super::error::CardWriterError;
use super::model::CardWriterModel;
use super::report::CardWriterReport;

/// One dispenser model's mechanics and its card encoder.
pub trait CardUnit: Send {
    /// Which model this is.
    fn model(&self) -> CardWriterModel;
    /// The device path in use.
    fn path(&self) -> &str;
    /// Close and reopen the port at the same path.
    fn reconnect(&mut self) -> Result<(), CardWriterError>;
    /// Initialise the mechanics (a card in the channel stays where it is); returns the
    /// device's identification (firmware version) when it sends one.
    fn initialise(&mut self) -> Result<String, CardWriterError>;
    /// Current status.
    fn report(&mut self) -> Result<CardWriterReport, CardWriterError>;
    /// Move a blank card from the stacker to the encoder (RF) position.
    fn dispense_to_encoder(&mut self) -> Result<(), CardWriterError>;
    /// Let a card in through the front slot and bring it to the encoder position, waiting up
    /// to `wait` for the citizen to insert it; `Ok(false)` when nobody did.
    fn accept_from_front(&mut self, wait: Duration) -> Result<bool, CardWriterError>;
    /// Move the card in the channel to the gate, held there for the citizen to take.
    fn present_at_gate(&mut self) -> Result<(), CardWriterError>;
    /// Move the card in the channel (or at the gate) into the error-card bin.
    fn capture_to_bin(&mut self) -> Result<(), CardWriterError>;
    /// The card encoder at the encoder position.
    fn encoder(&mut self) -> Result<&mut dyn CardEncoder, CardWriterError>;
}

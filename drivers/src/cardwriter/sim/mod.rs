//! placeholder
pub struct CardWriterFault; pub struct CardWriterSimulator; pub struct SimCard; pub struct SimulatorConfig;

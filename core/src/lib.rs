//! Pure kiosk logic: the kiosk configuration, the service-item catalogue and the flow engine
//! that drives one citizen session (DESIGN §3 layer 2, §4).
//!
//! Nothing here touches Slint, serial ports, HTTP, threads or the clock: time is passed in by the
//! caller, and files are read only by the two loaders ([`KioskConfig::load`],
//! [`Catalogue::load`]).
//!
//! * [`config`] — `kiosk.toml`: parsed, validated, relative paths resolved.
//! * [`catalogue`] — service items as data: guide texts, steps, availability, search.
//! * [`flow`] — the per-session state machine: events in, effects and a view out.
//! * [`device`] — the device classes the catalogue and the flow engine talk about.
//! * [`staff_auth`] — staff PIN check for diagnostics mode: Argon2id hashes, lock-out with a
//!   growing delay (time passed in).
//! * [`text`] — Chinese/English text pairs.

pub mod catalogue;
pub mod config;
pub mod device;
pub mod flow;
pub mod staff_auth;
pub mod text;
mod toml_error;
pub mod wall_clock;

pub use catalogue::{Catalogue, CatalogueError, Item, Step, StepKind};
pub use config::{ConfigError, KioskConfig};
pub use device::{DeviceClass, DevicePresence};
pub use flow::{Effect, FlowEvent, Phase, Session, SessionContext, SessionView};
pub use text::LocalizedText;

//! The terminal's application layer: the controller between UI, flow engine and services.

pub mod action;
pub mod clock;
pub mod controller;
pub mod fault_watch;
pub mod health;
pub mod runtime;

pub use action::UiAction;
pub use controller::KioskController;
pub use runtime::{KioskRuntime, ResolvedPorts};

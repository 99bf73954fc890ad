//! The terminal's application layer: the controller between UI, flow engine and services.

mod a4_test_page;
pub mod action;
pub mod catalogue_updater;
pub mod clock;
pub mod controller;
pub mod fault_watch;
pub mod health;
pub mod recent_log;
pub mod remote_face;
pub mod runtime;

pub use a4_test_page::a4_test_page;
pub use action::UiAction;
pub use controller::KioskController;
pub use runtime::{CameraPort, CardWriterPort, KioskRuntime, ResolvedPorts, SharedPhotoDecoder};

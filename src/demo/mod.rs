//! The demo: embedded central service + device simulators + the kiosk, in a window or headless.

pub mod camera_sim;
pub mod demo_pki;
pub mod identity_service;
pub mod rig;
pub mod run;
pub mod walker;

pub use rig::DemoRig;
pub use walker::{Identification, JourneyRecord, JourneyWalker};

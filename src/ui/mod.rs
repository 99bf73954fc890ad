//! The UI adapter layer: plain-data screen model, the adapter that draws it into Slint, the
//! binding of Slint callbacks to controller actions, and the headless driver (software renderer,
//! taps by accessible id).

pub mod adapter;
pub mod bind;
pub mod driver;
pub mod model;
pub mod qr_image;

pub use bind::KioskUi;

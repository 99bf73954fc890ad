//! The e政务 kiosk terminal: CLI, app wiring, device manager, UI adapter and the demo rig.
//! The flow engine, catalogue and configuration live in `kiosk-core`; the store and sync in
//! `kiosk-services`; device drivers in `kiosk-drivers`.

slint::include_modules!();

pub mod app;
pub mod cli;
pub mod demo;
pub mod devices;
pub mod diag_report;
pub mod fonts;
pub mod receipt;
pub mod ui;

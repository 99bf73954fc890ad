//! What the screen shows, as plain Rust data: built by the controller, drawn by the adapter.

use kiosk_core::flow::SessionView;
use kiosk_core::text::{Language, LocalizedText};

/// One service item on the home screen.
#[derive(Debug, Clone, PartialEq)]
pub struct HomeTile {
    pub code: String,
    pub name: LocalizedText,
    pub department: LocalizedText,
    pub available: bool,
    pub reason: Option<LocalizedText>,
}

/// One department filter chip on the home screen.
#[derive(Debug, Clone, PartialEq)]
pub struct HomeDepartment {
    pub code: String,
    pub name: LocalizedText,
}

/// The home screen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HomeView {
    pub tiles: Vec<HomeTile>,
    pub departments: Vec<HomeDepartment>,
    pub selected_department: String,
}

/// Everything one frame of the kiosk screen shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ScreenModel {
    pub language: Language,
    pub elder_mode: bool,
    pub portrait: bool,
    pub kiosk_name: String,
    pub clock: String,
    pub home: HomeView,
    /// The guide of the item being done (sections of title + body).
    pub guide: Vec<(LocalizedText, LocalizedText)>,
    /// The item's other channels (label, URL), shown as QR codes on the guide page.
    pub channels: Vec<(LocalizedText, String)>,
    /// The current item accepts a QR code (e-ID, appointment) instead of a card.
    pub accepts_codes: bool,
    pub session: Option<SessionView>,
}

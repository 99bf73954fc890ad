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
    /// "上次消毒 HH:MM" for citizens on the home screen (empty when never recorded).
    pub disinfection_note: LocalizedText,
    /// Diagnostics mode (staff only); `None` for citizens.
    pub diagnostics: Option<DiagView>,
    /// Staff assistance: digits typed and why the last PIN was refused.
    pub staff_pin: (usize, Option<LocalizedText>),
}

/// One line of a diagnostics list (device, fault, consumable, health figure) with up to two
/// actions (`action` ids as `UiAction::Diag` takes them).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DiagRowModel {
    pub title: LocalizedText,
    pub detail: LocalizedText,
    /// `ok`, `warn` or `bad`.
    pub tone: &'static str,
    pub action: String,
    pub action_label: LocalizedText,
    pub action2: String,
    pub action2_label: LocalizedText,
}

/// A selectable choice (disinfection method or surface, fault device or description).
#[derive(Debug, Clone, PartialEq)]
pub struct DiagChoiceModel {
    pub action: String,
    pub label: LocalizedText,
    pub selected: bool,
}

/// What the diagnostics screens show. Never a citizen's personal data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DiagView {
    /// `pin`, `devices`, `faults`, `disinfection`, `consumables`, `health`, `reprint`.
    pub page: String,
    pub staff_id: String,
    pub pin_length: usize,
    /// Digits typed on the reprint page.
    pub entry: String,
    pub message: LocalizedText,
    pub message_bad: bool,
    /// The disinfection state (last, due) as one line.
    pub disinfection: LocalizedText,
    pub overdue: bool,
    pub rows: Vec<DiagRowModel>,
    pub choices_a: Vec<DiagChoiceModel>,
    pub choices_b: Vec<DiagChoiceModel>,
    /// Third choice list (the note a fault is closed with).
    pub choices_c: Vec<DiagChoiceModel>,
}

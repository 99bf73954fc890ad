//! The flow engine (DESIGN §3 layer 2): a pure state machine for one citizen session.
//!
//! The app creates a [`Session`] when a citizen opens an item, feeds it [`FlowEvent`]s (taps,
//! device results, ticks) with the current monotonic time, carries out the returned
//! [`Effect`]s in order, and renders [`Session::view`]. No Slint, no I/O, no clock reads.
//!
//! * [`phase`](Phase) — one phase per screen.
//! * [`event`](FlowEvent) — what can happen.
//! * [`effect`](Effect) — what the app must do.
//! * [`view`](SessionView) — what the UI shows.
//! * `session` — the transitions; `form_check` — answer validation; `messages` — texts.

mod effect;
mod event;
mod form_check;
mod messages;
mod phase;
mod session;
mod view;

pub use effect::{CardOrder, DocumentContent, Effect, PrintedQr, ReceiptContent, ReceiptLine};
pub use event::{Applicant, CardReadFailure, FaceOption, FlowEvent};
pub use phase::Phase;
pub use session::Session;
pub use view::{FlowMessage, FormFieldView, MessageKind, NoticeView, SessionView};

use crate::config::TimeoutsSection;
use crate::device::DevicePresence;

/// What a session needs to know about the kiosk and the moment it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionContext {
    /// `kiosk.id` from the configuration.
    pub kiosk_id: String,
    /// Version of the catalogue the item came from.
    pub catalogue_version: u32,
    /// Countdowns (`[timeouts]`; the app may lengthen them in elder mode).
    pub timeouts: TimeoutsSection,
    /// Wall-clock time (Unix milliseconds) at the moment the session starts, i.e. at the
    /// `now_ms` passed to [`Session::start`]. Record and receipt times are derived from it.
    pub wall_clock_unix_ms: i64,
    /// Local time offset east of UTC in minutes (480 for China Standard Time); used for the
    /// transaction date and receipt times. Record times are UTC.
    pub utc_offset_minutes: i32,
    /// The session's number within the kiosk's local day, from the store (1, 2, …).
    pub sequence: u32,
    /// Devices present and usable when the session starts.
    pub devices: DevicePresence,
    /// Phone number citizens are told to call (`kiosk.service_phone`).
    pub service_phone: String,
}

impl SessionContext {
    /// The transaction id this session proposes: `<kiosk id>-<local date YYYYMMDD>-<sequence,
    /// 6 digits>`, e.g. `KSK-DEMO-0001-20261121-000042`. Deterministic in the context, unique
    /// as long as the store hands out a fresh sequence number per session and day.
    pub fn transaction_id(&self) -> String {
        let date =
            crate::wall_clock::CivilTime::at(self.wall_clock_unix_ms, self.utc_offset_minutes);
        format!(
            "{}-{}-{:06}",
            self.kiosk_id,
            date.compact_date(),
            self.sequence
        )
    }
}

#[cfg(test)]
mod tests;

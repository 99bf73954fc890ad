//! The controller's part of the face check: what the camera needs (the card photo and number,
//! memory only), the audit record of each decision, and staff assistance (the call and the PIN
//! typed on the citizen's screen).

use super::KioskController;
use crate::devices::{CardPhoto, FaceCheckRecord, FaceSubject};
use kiosk_core::flow::FlowEvent;
use kiosk_core::text::LocalizedText;

/// Held from the card read until the session's personal data is wiped.
#[derive(Default)]
pub(super) struct FaceState {
    pub card_photo: Option<CardPhoto>,
    pub id_number: Option<String>,
    pub card_type: Option<String>,
    /// Digits staff typed on the staff-assistance screen.
    pub staff_pin: String,
    /// Why the last PIN was refused.
    pub staff_message: Option<LocalizedText>,
}

impl std::fmt::Debug for FaceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceState")
            .field("card_photo", &self.card_photo.is_some())
            .field("pin_digits", &self.staff_pin.len())
            .finish_non_exhaustive()
    }
}

impl KioskController {
    pub(super) fn start_face_check(&mut self, remote: bool) {
        let subject = FaceSubject {
            photo_wlt: self.face.card_photo.as_ref().map(|p| p.0.clone()),
            id_number: self.face.id_number.clone().unwrap_or_default(),
            card_type: self.face.card_type.clone().unwrap_or_default(),
        };
        self.devices.start_face_check(subject, remote);
    }

    /// The decision of a face check, for the audit trail (synced to the centre): decision,
    /// distance, threshold, liveness mode and model version — never an image.
    pub(super) fn record_face_check(&mut self, record: &FaceCheckRecord) {
        let item = self
            .session
            .as_ref()
            .map(|s| s.item().code.clone())
            .unwrap_or_default();
        // Three decimals: the audit trail masks long digit runs as possible ID numbers.
        let round = |v: f32| (f64::from(v) * 1000.0).round() / 1000.0;
        let detail = serde_json::json!({
            "item": item,
            "decision": record.decision,
            "reason": record.reason,
            "distance": record.distance.map(round),
            "threshold": round(record.threshold),
            "liveness": record.liveness,
            "model_version": record.model_version,
            "verified_by": record.verified_by,
        });
        self.audit("system", "face.check", &detail.to_string());
    }

    /// Staff are called to the kiosk (the staff console sees the audit event).
    pub(super) fn call_staff(&mut self) {
        let item = self
            .session
            .as_ref()
            .map(|s| s.item().code.clone())
            .unwrap_or_default();
        tracing::warn!(item = %item, "staff called to check a citizen's identity");
        self.face.staff_pin.clear();
        self.face.staff_message = None;
        self.audit(
            "system",
            "staff.called",
            &format!("identity check for {item}"),
        );
    }

    pub(super) fn staff_pin_key(&mut self, key: &str, now: u64) {
        match key {
            "back" => {
                self.face.staff_pin.pop();
            }
            "clear" => self.face.staff_pin.clear(),
            d if d.len() == 1
                && d.chars().all(|c| c.is_ascii_digit())
                && self.face.staff_pin.len() < kiosk_core::staff_auth::MAX_PIN_DIGITS =>
            {
                self.face.staff_pin.push_str(d);
            }
            _ => {}
        }
        self.dispatch(FlowEvent::Activity, now);
    }

    pub(super) fn staff_pin_submit(&mut self, now: u64) {
        let pin = std::mem::take(&mut self.face.staff_pin);
        let result = self.staff.verify_pin(&pin, now);
        drop(pin);
        match result {
            Ok(staff) => {
                let item = self
                    .session
                    .as_ref()
                    .map(|s| s.item().code.clone())
                    .unwrap_or_default();
                tracing::info!(staff = %staff, "identity confirmed by staff");
                self.audit(
                    &staff,
                    "face.staff_verified",
                    &format!("identity checked by hand for {item}"),
                );
                self.face.staff_message = None;
                self.dispatch(FlowEvent::StaffVerified, now);
            }
            Err(message) => {
                self.audit(
                    "system",
                    "face.staff_pin_refused",
                    "staff assistance PIN refused",
                );
                self.face.staff_message = Some(message);
                self.dispatch(FlowEvent::Activity, now);
            }
        }
    }

    /// Digits typed and the refusal message, for the staff-assistance screen.
    pub fn staff_pin_entry(&self) -> (usize, Option<LocalizedText>) {
        (self.face.staff_pin.len(), self.face.staff_message.clone())
    }
}

//! Which items this kiosk can offer right now, and why not (DESIGN §5, fleet-and-sync §3.3).
//!
//! An item needing a device class the kiosk lacks is a valid catalogue entry; it is simply
//! unavailable here, and the home screen shows the reason.

use super::model::StepKind;
use super::{Catalogue, Item};
use crate::device::{DeviceClass, DevicePresence, DeviceProblem};
use crate::text::LocalizedText;

/// Whether one item can be done at this kiosk now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemAvailability {
    /// The item code.
    pub code: String,
    /// Whether a citizen can start it.
    pub available: bool,
    /// Why not, when not.
    pub reason: Option<UnavailableReason>,
}

/// Why an item cannot be done here now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnavailableReason {
    /// This kiosk has no device of the class a step needs.
    DeviceMissing(DeviceClass),
    /// The device is there but out of order.
    DeviceFaulty(DeviceClass),
    /// The item needs the central service and it cannot be reached.
    CentralOffline,
}

impl UnavailableReason {
    /// The text the home screen shows.
    pub fn text(&self) -> LocalizedText {
        match self {
            UnavailableReason::DeviceMissing(class) => {
                let name = class.display_name();
                LocalizedText::new(
                    format!("本机未配备{}，请到其他自助机或窗口办理", name.zh),
                    format!(
                        "This kiosk has no {}; please use another kiosk or a service counter",
                        name.en
                    ),
                )
            }
            UnavailableReason::DeviceFaulty(class) => {
                let name = class.display_name();
                LocalizedText::new(
                    format!("{}暂时无法使用，请稍后再试或到其他自助机办理", name.zh),
                    format!(
                        "The {} is out of order; please try later or use another kiosk",
                        name.en
                    ),
                )
            }
            UnavailableReason::CentralOffline => LocalizedText::new(
                "网络暂时中断，本事项暂停办理，请稍后再试",
                "The network is down; this item is paused, please try again later",
            ),
        }
    }

    /// The device class at fault, if a device is the reason.
    pub fn device_class(&self) -> Option<DeviceClass> {
        match self {
            UnavailableReason::DeviceMissing(c) | UnavailableReason::DeviceFaulty(c) => Some(*c),
            UnavailableReason::CentralOffline => None,
        }
    }
}

impl Item {
    /// The devices the item needs, one group per need: a group is satisfied when any one of its
    /// devices is usable. Identification is one group (the card reader for cards, the QR
    /// scanner for codes — whichever the item allows); every other device-bound step is a group
    /// of one. Step order, without repeats.
    pub fn device_needs(&self) -> Vec<Vec<DeviceClass>> {
        let mut needs: Vec<Vec<DeviceClass>> = Vec::new();
        for step in &self.steps {
            let group = match step.kind() {
                StepKind::Identify => {
                    let mut group = Vec::new();
                    if self.allowed_cards.iter().any(|c| !c.is_code()) {
                        group.push(DeviceClass::IdCardReader);
                    }
                    if self.allowed_cards.iter().any(|c| c.is_code()) {
                        group.push(DeviceClass::QrScanner);
                    }
                    group
                }
                kind => kind.required_device().into_iter().collect(),
            };
            if !group.is_empty() && !needs.contains(&group) {
                needs.push(group);
            }
        }
        needs
    }

    /// Every device class the item may use, in step order, without repeats.
    pub fn required_devices(&self) -> Vec<DeviceClass> {
        let mut classes = Vec::new();
        for class in self.device_needs().into_iter().flatten() {
            if !classes.contains(&class) {
                classes.push(class);
            }
        }
        classes
    }

    /// Whether this item can be done with these devices. A missing device outranks a faulty
    /// one in the reason, since it will not come back by itself.
    pub fn availability(&self, devices: &DevicePresence) -> ItemAvailability {
        let unmet: Vec<Vec<DeviceClass>> = self
            .device_needs()
            .into_iter()
            .filter(|group| !group.iter().any(|c| devices.problem(*c).is_none()))
            .collect();
        let missing = unmet.iter().find_map(|group| {
            group
                .iter()
                .all(|c| devices.problem(*c) == Some(DeviceProblem::Missing))
                .then(|| group[0])
        });
        let faulty = unmet.iter().find_map(|group| {
            group
                .iter()
                .find(|c| devices.problem(**c) == Some(DeviceProblem::Faulty))
                .copied()
        });
        let reason = match (missing, faulty) {
            (Some(c), _) => Some(UnavailableReason::DeviceMissing(c)),
            (None, Some(c)) => Some(UnavailableReason::DeviceFaulty(c)),
            (None, None) => None,
        };
        ItemAvailability {
            code: self.code.clone(),
            available: reason.is_none(),
            reason,
        }
    }
}

impl Catalogue {
    /// Availability of every item, in catalogue order, considering devices only.
    pub fn availability(&self, devices: &DevicePresence) -> Vec<ItemAvailability> {
        self.items.iter().map(|i| i.availability(devices)).collect()
    }

    /// Availability of every item considering devices and whether the central service is
    /// reachable (items with `needs_central_online` pause while it is not).
    pub fn availability_with_central(
        &self,
        devices: &DevicePresence,
        central_online: bool,
    ) -> Vec<ItemAvailability> {
        self.items
            .iter()
            .map(|item| {
                let mut a = item.availability(devices);
                if a.available && item.needs_central_online && !central_online {
                    a.available = false;
                    a.reason = Some(UnavailableReason::CentralOffline);
                }
                a
            })
            .collect()
    }
}

#[cfg(test)]
mod code_identification_tests {
    use super::*;
    use crate::catalogue::CardType;

    fn demo() -> Catalogue {
        Catalogue::parse(include_str!("../../../kiosk-config/catalogue.toml")).unwrap()
    }

    #[test]
    fn codes_are_recognised_by_prefix() {
        assert_eq!(
            CardType::of_code("APPT:20261121-0042"),
            Some(CardType::AppointmentCode)
        );
        assert_eq!(CardType::of_code("EID:abc"), Some(CardType::EId));
        assert_eq!(CardType::of_code("https://example.org"), None);
        assert!(CardType::AppointmentCode.is_code() && !CardType::Resident.is_code());
    }

    #[test]
    fn identification_needs_the_card_reader_or_the_qr_scanner() {
        let catalogue = demo();
        let checkin = catalogue.item("appointment-checkin").unwrap();
        assert_eq!(
            checkin.device_needs()[0],
            vec![DeviceClass::IdCardReader, DeviceClass::QrScanner]
        );
        let with = |present: &[DeviceClass], faulty: &[DeviceClass]| {
            let mut p = DevicePresence::with_present(present.iter().copied());
            for c in faulty {
                p.set_faulty(*c, true);
            }
            checkin.availability(&p)
        };
        use DeviceClass::*;
        // Either identification device will do…
        assert!(with(&[QrScanner, ReceiptPrinter], &[]).available);
        assert!(with(&[IdCardReader, ReceiptPrinter], &[]).available);
        assert!(with(&[IdCardReader, QrScanner, ReceiptPrinter], &[IdCardReader]).available);
        // …but not none of them.
        let neither = with(
            &[IdCardReader, QrScanner, ReceiptPrinter],
            &[IdCardReader, QrScanner],
        );
        assert_eq!(
            neither.reason,
            Some(UnavailableReason::DeviceFaulty(IdCardReader))
        );
        let absent = with(&[ReceiptPrinter], &[]);
        assert_eq!(
            absent.reason,
            Some(UnavailableReason::DeviceMissing(IdCardReader))
        );
        // An item that takes cards only still needs the card reader.
        let gjj = catalogue.item("exit-entry-progress").unwrap();
        let p = DevicePresence::with_present([QrScanner, ReceiptPrinter]);
        assert!(!gjj.availability(&p).available);
    }
}

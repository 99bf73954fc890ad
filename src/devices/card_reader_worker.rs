//! The ID-card reader's worker thread: polls for a card while a session waits for one, turns
//! what it reads into a flow event (personal data stays in memory), and reconnects a reader
//! that was unplugged.

use super::worker::WorkerHandle;
use super::{DeviceEvent, StatusBoard};
use kiosk_core::catalogue::CardType;
use kiosk_core::device::DeviceClass;
use kiosk_core::flow::{Applicant, CardReadFailure, FlowEvent};
use kiosk_drivers::idcard::{
    CardDate, CardIdentity, CardType as DriverCardType, IdCardError, IdCardReader, ReaderTimeouts,
};
use kiosk_drivers::status::{DeviceClass as DriverClass, DeviceState, DeviceStatus};
use kiosk_protocol::wire::PersonalData;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// Where the reader is and how often to look for a card.
#[derive(Debug, Clone)]
pub struct CardReaderSettings {
    pub port: String,
    pub baud: u32,
    pub poll_interval: Duration,
}

enum Command {
    StartReading,
    StopReading,
    Shutdown,
}

pub(crate) struct Handle(WorkerHandle<Command>);

impl Handle {
    pub(crate) fn start_reading(&self) {
        self.0.send(Command::StartReading);
    }

    pub(crate) fn stop_reading(&self) {
        self.0.send(Command::StopReading);
    }

    pub(crate) fn shutdown(self) {
        self.0.shutdown(Command::Shutdown);
    }
}

const RECONNECT_EVERY: Duration = Duration::from_secs(2);
const IDLE_CHECK_EVERY: Duration = Duration::from_secs(2);

pub(crate) fn spawn(
    settings: CardReaderSettings,
    board: StatusBoard,
    events: Sender<DeviceEvent>,
) -> Handle {
    Handle(WorkerHandle::spawn("id-card-reader", move |rx| {
        run(settings, rx, board, events)
    }))
}

fn status(state: DeviceState, error: Option<String>) -> DeviceStatus {
    let status = DeviceStatus::new(DriverClass::IdCardReader, state);
    match error {
        Some(e) => status.with_error(e),
        None => status,
    }
}

fn run(
    settings: CardReaderSettings,
    commands: Receiver<Command>,
    board: StatusBoard,
    events: Sender<DeviceEvent>,
) {
    let class = DeviceClass::IdCardReader;
    let mut reader: Option<IdCardReader> = None;
    let mut last_attempt: Option<Instant> = None;
    let mut reading = false;
    // A failed read is reported once; the next report waits for the card to be taken away.
    let mut failure_reported = false;
    let mut last_check = Instant::now();
    loop {
        match commands.recv_timeout(settings.poll_interval) {
            Ok(Command::StartReading) => {
                reading = true;
                failure_reported = false;
            }
            Ok(Command::StopReading) => reading = false,
            Ok(Command::Shutdown) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {}
        }
        if reader.is_none() && last_attempt.is_none_or(|t| t.elapsed() >= RECONNECT_EVERY) {
            last_attempt = Some(Instant::now());
            match IdCardReader::open(&settings.port, settings.baud, ReaderTimeouts::default()) {
                Ok(r) => {
                    reader = Some(r);
                    board.update(class, status(DeviceState::Online, None), &events);
                }
                Err(e) => board.update(
                    class,
                    status(DeviceState::NoDevice, Some(e.to_string())),
                    &events,
                ),
            }
        }
        let Some(r) = reader.as_mut() else { continue };
        if !reading {
            // Between sessions, ask the SAM for its status now and then, so an unplugged or
            // failed reader is noticed (and a fault raised) before a citizen needs it.
            if last_check.elapsed() >= IDLE_CHECK_EVERY {
                last_check = Instant::now();
                match r.sam_status() {
                    Ok(_) => board.update(class, status(DeviceState::Online, None), &events),
                    Err(e) if e.is_device_fault() => {
                        if device_fault(&e, &board, &events) {
                            reader = None;
                        }
                    }
                    Err(_) => {}
                }
            }
            continue;
        }
        match r.read_identity() {
            Ok(identity) => {
                reading = false;
                board.update(class, status(DeviceState::Online, None), &events);
                let _ = events.send(DeviceEvent::Flow(FlowEvent::CardPresent));
                let photo = identity.photo_wlt().to_vec();
                if !photo.is_empty() {
                    let _ = events.send(DeviceEvent::CardPhoto(super::CardPhoto(photo)));
                }
                let _ = events.send(DeviceEvent::Flow(card_event(identity)));
            }
            Err(IdCardError::NoCard) => failure_reported = false,
            Err(e) if e.is_device_fault() => {
                if device_fault(&e, &board, &events) {
                    reader = None;
                }
            }
            Err(e) => {
                board.update(class, status(DeviceState::Online, None), &events);
                if !failure_reported {
                    failure_reported = true;
                    tracing::info!(device = "id_card_reader", error = %e, "card could not be read");
                    let failure = match e {
                        IdCardError::UnsupportedCardType(_) => CardReadFailure::Unsupported,
                        _ => CardReadFailure::Unreadable,
                    };
                    let _ = events.send(DeviceEvent::Flow(FlowEvent::CardReadFailed(failure)));
                }
            }
        }
    }
}

/// Publishes a reader fault; returns whether the device is gone (to be reopened).
fn device_fault(e: &IdCardError, board: &StatusBoard, events: &Sender<DeviceEvent>) -> bool {
    tracing::warn!(device = "id_card_reader", error = %e, "reader fault");
    let gone = matches!(e, IdCardError::Disconnected(_) | IdCardError::Open { .. });
    let state = if gone {
        DeviceState::NoDevice
    } else {
        DeviceState::HardwareError
    };
    board.update(
        DeviceClass::IdCardReader,
        status(state, Some(e.to_string())),
        events,
    );
    gone
}

/// The catalogue's name for a card type the reader recognised.
fn card_type(card: &CardIdentity) -> Option<CardType> {
    match card.card_type() {
        DriverCardType::Resident => Some(CardType::Resident),
        DriverCardType::HkMacaoTaiwanResidencePermit => Some(CardType::HkMacaoTaiwanResidence),
        DriverCardType::ForeignerPermanentResidence2017
        | DriverCardType::ForeignerPermanentResidence2023 => {
            Some(CardType::ForeignPermanentResidence)
        }
        DriverCardType::Unknown(_) => None,
    }
}

/// An expired card is refused; a valid one becomes the session's applicant. Personal data stays
/// in memory (the flow engine hands it to the store sealed).
fn card_event(card: CardIdentity) -> FlowEvent {
    if card.is_expired(CardDate::today_china()) {
        return FlowEvent::CardReadFailed(CardReadFailure::Expired);
    }
    let Some(card_type) = card_type(&card) else {
        return FlowEvent::CardReadFailed(CardReadFailure::Unsupported);
    };
    FlowEvent::CardRead(Applicant {
        card_type,
        personal: PersonalData {
            name: card.name().to_string(),
            id_number: card.document_number().to_string(),
            address: card.address().unwrap_or_default().to_string(),
        },
    })
}

//! The card writer's worker thread: issues a new card or rewrites the citizen's card for a
//! session's `card` step, reporting each stage as on-screen progress; waits for the card to
//! be taken and captures it to the bin when it is not; keeps stock, bin, jam and card position
//! on the status board between operations (stock low/empty drives consumables and availability).
//!
//! A failed write is never handed out silently: an issued blank that failed is captured, and a
//! citizen's card that failed mid-rewrite is kept in the bin and the citizen is told to collect
//! the result at a counter with the transaction number.

use super::worker::WorkerHandle;
use super::{DeviceEvent, StatusBoard};
use kiosk_core::catalogue::CardMode;
use kiosk_core::device::DeviceClass;
use kiosk_core::flow::{CardOrder, FlowEvent};
use kiosk_core::text::LocalizedText;
use kiosk_drivers::cardwriter::{
    CardContent, CardPosition, CardRecord, CardStep, CardWriter, CardWriterError, CardWriterModel,
    CardWriterSettings, RecordDate, RecordKey, RewriteOutcome,
};
use kiosk_drivers::status::{DeviceClass as DriverClass, DeviceState, DeviceStatus};
use kiosk_drivers::traits::{CardWriterDevice, Device};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct CardWriterWorkerSettings {
    pub port: String,
    pub model: CardWriterModel,
    pub baud: u32,
    /// The card-record MAC key file.
    pub key_file: PathBuf,
    /// How long a card may wait at the gate (and how long the slot waits for a card).
    pub take_timeout: Duration,
    /// How often the device is read when idle.
    pub status_interval: Duration,
}

enum Command {
    Operate(Box<CardOrder>),
    /// Staff's card cycle: a blank is written, verified and captured to the bin.
    SelfTest {
        kiosk_id: String,
    },
    /// Close the port and open it again (the driver initialises on open).
    Reset,
    Shutdown,
}

pub(crate) struct Handle(WorkerHandle<Command>);

impl Handle {
    pub(crate) fn operate(&self, order: CardOrder) {
        self.0.send(Command::Operate(Box::new(order)));
    }

    pub(crate) fn self_test(&self, kiosk_id: &str) {
        self.0.send(Command::SelfTest {
            kiosk_id: kiosk_id.to_string(),
        });
    }

    pub(crate) fn reset(&self) {
        self.0.send(Command::Reset);
    }

    pub(crate) fn shutdown(self) {
        self.0.shutdown(Command::Shutdown);
    }
}

pub(crate) fn spawn(
    settings: CardWriterWorkerSettings,
    board: StatusBoard,
    events: Sender<DeviceEvent>,
) -> Handle {
    Handle(WorkerHandle::spawn("card-writer", move |rx| {
        run(settings, rx, board, events)
    }))
}

fn t(zh: &str, en: &str) -> LocalizedText {
    LocalizedText::new(zh, en)
}

fn run(
    settings: CardWriterWorkerSettings,
    commands: Receiver<Command>,
    board: StatusBoard,
    events: Sender<DeviceEvent>,
) {
    let class = DeviceClass::CardWriter;
    let key = RecordKey::load(&settings.key_file)
        .map_err(|e| format!("card-record key {}: {e}", settings.key_file.display()));
    let mut writer: Option<CardWriter> = None;
    let mut first = true;
    loop {
        let mut self_test: Option<String> = None;
        let command = if first {
            first = false;
            None
        } else {
            match commands.recv_timeout(settings.status_interval) {
                Ok(Command::Shutdown) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(Command::Operate(order)) => Some(order),
                Ok(Command::SelfTest { kiosk_id }) => {
                    self_test = Some(kiosk_id);
                    None
                }
                Ok(Command::Reset) => {
                    writer = None;
                    None
                }
                Err(RecvTimeoutError::Timeout) => None,
            }
        };
        if writer.is_none() {
            match CardWriter::open(
                settings.model,
                &settings.port,
                &CardWriterSettings {
                    baud: settings.baud,
                    ..CardWriterSettings::default()
                },
            ) {
                Ok(w) => writer = Some(w),
                Err(e) => board.update(
                    class,
                    DeviceStatus::new(DriverClass::CardWriter, DeviceState::NoDevice)
                        .with_error(e.to_string()),
                    &events,
                ),
            }
        }
        if let Err(e) = &key {
            board.update(
                class,
                DeviceStatus::new(DriverClass::CardWriter, DeviceState::HardwareError)
                    .with_error(e.clone()),
                &events,
            );
            if command.is_some() {
                let _ = events.send(DeviceEvent::Flow(FlowEvent::StepFailed {
                    reason: e.clone(),
                }));
            }
            if self_test.is_some() {
                let _ = events.send(DeviceEvent::CardWriterTested(Err(e.clone())));
            }
            continue;
        }
        let Some(w) = writer.as_mut() else {
            if command.is_some() {
                let _ = events.send(DeviceEvent::Flow(FlowEvent::StepFailed {
                    reason: "card writer not connected".into(),
                }));
            }
            if self_test.is_some() {
                let _ = events.send(DeviceEvent::CardWriterTested(Err(
                    "card writer not connected".into(),
                )));
            }
            continue;
        };
        if let (Some(kiosk_id), Ok(key)) = (self_test, &key) {
            let outcome = test_cycle(w, key, &kiosk_id);
            if outcome.is_ok() {
                let _ = events.send(DeviceEvent::CardsUsed { cards: 1 });
            }
            let _ = events.send(DeviceEvent::CardWriterTested(outcome));
        }
        if let (Some(order), Ok(key)) = (command, &key) {
            // The result first, the status after: a stack emptied by this very card must not
            // fail the session that took it.
            let event = operate(w, &order, key, &settings, &events);
            let _ = events.send(DeviceEvent::Flow(event));
        }
        let status = w.status();
        if matches!(status.state, DeviceState::NoDevice) {
            writer = None;
        }
        board.update(class, status, &events);
    }
}

fn progress(events: &Sender<DeviceEvent>, note: LocalizedText) {
    let _ = events.send(DeviceEvent::Flow(FlowEvent::DeviceProgress(note)));
}

fn step_note(step: CardStep, mode: CardMode) -> LocalizedText {
    match step {
        CardStep::Dispensing => t("正在取出新卡，请稍候", "Taking a new card, please wait"),
        CardStep::WaitingForCard => t(
            "请将您的居住证插入下方卡口",
            "Please insert your residence permit into the card slot below",
        ),
        CardStep::Reading => t("正在读取卡片，请勿拔卡", "Reading the card, do not pull it"),
        CardStep::Writing => match mode {
            CardMode::Issue => t(
                "正在写入证照信息，请稍候",
                "Writing the certificate onto the card",
            ),
            CardMode::Rewrite => t(
                "正在写入签注信息，请勿拔卡",
                "Writing the endorsement, do not pull the card",
            ),
        },
        CardStep::Verifying => t("正在核对写入内容", "Checking what was written"),
        CardStep::Presenting => t(
            "请从出卡口取走您的卡片",
            "Please take your card from the slot",
        ),
    }
}

fn date(iso: &str) -> Option<RecordDate> {
    let mut parts = iso.split('-').map(|p| p.parse::<u32>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    RecordDate::new(
        u16::try_from(y).ok()?,
        u8::try_from(m).ok()?,
        u8::try_from(d).ok()?,
    )
}

fn record_of(order: &CardOrder) -> Option<CardRecord> {
    Some(CardRecord {
        item_id: order.item_code.clone(),
        holder_ref: order.holder_ref.clone(),
        valid_from: date(&order.valid_from)?,
        valid_until: date(&order.valid_until)?,
        kiosk_id: order.kiosk_id.clone(),
    })
}

/// Runs one card operation and returns the session's result event.
fn operate(
    w: &mut CardWriter,
    order: &CardOrder,
    key: &RecordKey,
    settings: &CardWriterWorkerSettings,
    events: &Sender<DeviceEvent>,
) -> FlowEvent {
    let Some(record) = record_of(order) else {
        return FlowEvent::StepFailed {
            reason: format!(
                "card order with bad dates: {} – {}",
                order.valid_from, order.valid_until
            ),
        };
    };
    let mode = order.mode;
    let mut on_step = |step: CardStep| progress(events, step_note(step, mode));
    let result = match mode {
        CardMode::Issue => w.issue_card(&record, key, &mut on_step).map(|_| None),
        CardMode::Rewrite => {
            let mut update = |before: &CardContent| -> Option<CardRecord> {
                // Only this holder's card for this item is endorsed again.
                match &before.record {
                    Ok(old)
                        if old.item_id == record.item_id && old.holder_ref == record.holder_ref =>
                    {
                        Some(record.clone())
                    }
                    _ => None,
                }
            };
            w.rewrite_card(settings.take_timeout, key, &mut update, &mut on_step)
                .map(Some)
        }
    };
    match result {
        Ok(None) => {
            // A blank left the stack, whether the citizen takes it or it is captured.
            let _ = events.send(DeviceEvent::CardsUsed { cards: 1 });
            wait_until_taken(w, order, settings, events)
        }
        Ok(Some(RewriteOutcome::Rewritten { .. })) => wait_until_taken(w, order, settings, events),
        Ok(Some(RewriteOutcome::NoCardInserted)) => FlowEvent::StepRefused {
            message: t(
                "未在规定时间内插入卡片，本次签注未写入",
                "No card was inserted in time; nothing was written",
            ),
        },
        Ok(Some(RewriteOutcome::Declined { .. })) => {
            let taken = wait_until_taken(w, order, settings, events);
            let refused = FlowEvent::StepRefused {
                message: t(
                    "这张卡不是您本人的居住证，未写入，请取回卡片",
                    "This card is not your residence permit; nothing was written",
                ),
            };
            match taken {
                FlowEvent::StepCompleted => refused,
                captured => captured,
            }
        }
        Err(CardWriterError::WriteFailed { disposition, cause }) => {
            if mode == CardMode::Issue {
                let _ = events.send(DeviceEvent::CardsUsed { cards: 1 });
            }
            tracing::warn!(transaction = %order.transaction_id, ?disposition, error = %cause, "card write failed");
            if mode == CardMode::Rewrite {
                // The citizen's card is half-written: keep it, say so.
                if w.capture_card().is_ok() {
                    let _ = events.send(DeviceEvent::CardCaptured {
                        transaction_id: order.transaction_id.clone(),
                        reason: "write failed".into(),
                    });
                }
            }
            FlowEvent::StepFailed {
                reason: format!("card write failed ({disposition:?}): {cause}"),
            }
        }
        Err(e) => FlowEvent::StepFailed {
            reason: e.to_string(),
        },
    }
}

/// Polls "card taken?" until the card is gone or the time is up; captures it then.
fn wait_until_taken(
    w: &mut CardWriter,
    order: &CardOrder,
    settings: &CardWriterWorkerSettings,
    events: &Sender<DeviceEvent>,
) -> FlowEvent {
    let deadline = Instant::now() + settings.take_timeout;
    loop {
        match w.card_position() {
            Ok(CardPosition::None) => return FlowEvent::StepCompleted,
            Ok(_) if Instant::now() >= deadline => break,
            Ok(_) => {}
            Err(e) => {
                return FlowEvent::StepFailed {
                    reason: e.to_string(),
                };
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    match w.capture_card() {
        Ok(()) => {
            let _ = events.send(DeviceEvent::CardCaptured {
                transaction_id: order.transaction_id.clone(),
                reason: "not taken".into(),
            });
            FlowEvent::StepRefused {
                message: t(
                    "卡片未在规定时间内取走，已回收到机内",
                    "The card was not taken in time and has been taken back in",
                ),
            }
        }
        Err(e) => FlowEvent::StepFailed {
            reason: e.to_string(),
        },
    }
}

/// The technician's cycle: a blank card is written with a test record, read back and checked,
/// then captured to the bin (a test never hands a card out).
fn test_cycle(w: &mut CardWriter, key: &RecordKey, kiosk_id: &str) -> Result<String, String> {
    let today = kiosk_core::wall_clock::CivilTime::at(
        crate::app::clock::wall_clock_unix_ms(),
        crate::app::controller::UTC_OFFSET_MINUTES,
    );
    let day = RecordDate::new(
        u16::try_from(today.year).unwrap_or(2026),
        u8::try_from(today.month).unwrap_or(1),
        u8::try_from(today.day).unwrap_or(1),
    )
    .ok_or("today is not a date")?;
    let record = CardRecord {
        item_id: "self-test".into(),
        holder_ref: "TEST**********0000".into(),
        valid_from: day,
        valid_until: day,
        kiosk_id: kiosk_id.to_string(),
    };
    let run = (|| -> Result<String, CardWriterError> {
        w.dispense_blank()?;
        w.write_card(&record, key)?;
        let content = w.verify_card(&record, key)?;
        w.capture_card()?;
        Ok(content.uid)
    })();
    run.map_err(|e| {
        let _ = w.capture_card();
        e.to_string()
    })
}

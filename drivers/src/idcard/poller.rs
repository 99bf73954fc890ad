//! Card polling: look at the reader every `interval` and report a card placed (with its
//! identity), a card removed, a read failure (once per presentation), and the reader going
//! away and coming back. Blocking; run it on the reader's own thread.

use std::time::{Duration, Instant};

use super::base_info::FingerprintData;
use super::card_identity::CardIdentity;
use super::error::IdCardError;
use super::reader::IdCardReader;

/// How the poller works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollerSettings {
    /// Time between two looks at the reader (default 150 ms).
    pub interval: Duration,
    /// Time between two attempts to reopen a reader that went away (default 500 ms).
    pub reconnect_interval: Duration,
    /// Read with 30 10 (text, photo and fingerprints) instead of 30 01.
    pub read_fingerprint: bool,
}

impl Default for PollerSettings {
    fn default() -> Self {
        PollerSettings {
            interval: Duration::from_millis(150),
            reconnect_interval: Duration::from_millis(500),
            read_fingerprint: false,
        }
    }
}

/// What the poller noticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardEvent {
    /// A card was placed and read.
    Placed {
        /// Its identity.
        identity: CardIdentity,
        /// Its fingerprints, when reading with 30 10.
        fingerprint: Option<FingerprintData>,
    },
    /// The card was taken away.
    Removed,
    /// A card is there but could not be read (reported once per presentation; the poller keeps
    /// trying and reports `Placed` if a later read succeeds).
    ReadFailed(IdCardError),
    /// The reader went away (unplugged) or stopped answering; the poller keeps reopening it.
    ReaderLost(IdCardError),
    /// The reader is back and answering.
    ReaderBack,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Presence {
    Absent,
    Read,
    Unreadable,
}

/// Watches an [`IdCardReader`] for cards coming and going.
pub struct CardPoller {
    reader: IdCardReader,
    settings: PollerSettings,
    presence: Presence,
    reader_lost: bool,
    next_tick: Instant,
}

impl CardPoller {
    /// Poll `reader` with `settings`. The reader's own auto-reconnect is set to the poller's
    /// reconnect interval.
    pub fn new(mut reader: IdCardReader, settings: PollerSettings) -> Self {
        reader.set_auto_reconnect(Some(settings.reconnect_interval));
        CardPoller {
            reader,
            settings,
            presence: Presence::Absent,
            reader_lost: false,
            next_tick: Instant::now(),
        }
    }

    /// The reader, e.g. for status or the additional address after a `Placed`.
    pub fn reader(&mut self) -> &mut IdCardReader {
        &mut self.reader
    }

    /// Give the reader back.
    pub fn into_reader(self) -> IdCardReader {
        self.reader
    }

    /// The settings in use.
    pub fn settings(&self) -> PollerSettings {
        self.settings
    }

    /// Whether the poller believes a card is on the reader.
    pub fn card_present(&self) -> bool {
        self.presence != Presence::Absent
    }

    /// Look at the reader once, now, and return what changed (at most two events: `Removed`
    /// then `Placed` when one card was swapped for another between two looks).
    pub fn poll_once(&mut self) -> Vec<CardEvent> {
        let mut events = Vec::new();
        match self.reader.card_present() {
            Ok(present) => {
                if self.reader_lost {
                    self.reader_lost = false;
                    events.push(CardEvent::ReaderBack);
                }
                let new_presentation = self.reader.last_find_was_new();
                match (present, self.presence) {
                    (false, Presence::Absent) => {}
                    (false, _) => {
                        self.presence = Presence::Absent;
                        events.push(CardEvent::Removed);
                    }
                    // The same card still lies there (find said "none", select worked).
                    (true, Presence::Read) if !new_presentation => {}
                    (true, previous) => {
                        if previous == Presence::Read {
                            // Find reported a new presentation: the card was swapped.
                            events.push(CardEvent::Removed);
                        }
                        events.extend(self.read_present_card(previous));
                    }
                }
            }
            Err(error) if error.is_device_fault() => events.extend(self.device_error(error)),
            Err(error) => {
                // The SAM answered find/select with a card-side failure (e.g. 0x31).
                if self.presence != Presence::Unreadable {
                    events.push(CardEvent::ReadFailed(error));
                }
                self.presence = Presence::Unreadable;
            }
        }
        events
    }

    fn read_present_card(&mut self, previous: Presence) -> Option<CardEvent> {
        let read = if self.settings.read_fingerprint {
            self.reader
                .read_selected_with_fingerprint()
                .map(|read| (read.identity, Some(read.fingerprint)))
        } else {
            self.reader.read_selected().map(|identity| (identity, None))
        };
        match read {
            Ok((identity, fingerprint)) => {
                self.presence = Presence::Read;
                Some(CardEvent::Placed {
                    identity,
                    fingerprint,
                })
            }
            Err(error) if error.is_device_fault() => self.device_error(error),
            Err(error) => {
                self.presence = Presence::Unreadable;
                (previous != Presence::Unreadable).then_some(CardEvent::ReadFailed(error))
            }
        }
    }

    fn device_error(&mut self, error: IdCardError) -> Option<CardEvent> {
        if self.reader_lost {
            return None;
        }
        self.reader_lost = true;
        self.presence = Presence::Absent;
        tracing::warn!(device = "id_card_reader", %error, "reader lost");
        Some(CardEvent::ReaderLost(error))
    }

    /// Poll every interval until something happens or `timeout` passes.
    pub fn next_events(&mut self, timeout: Duration) -> Vec<CardEvent> {
        let deadline = Instant::now() + timeout;
        loop {
            let now = Instant::now();
            if now < self.next_tick {
                if self.next_tick > deadline {
                    std::thread::sleep(deadline.saturating_duration_since(now));
                    return Vec::new();
                }
                std::thread::sleep(self.next_tick - now);
            }
            self.next_tick = Instant::now() + self.settings.interval;
            let events = self.poll_once();
            if !events.is_empty() || Instant::now() >= deadline {
                return events;
            }
        }
    }
}

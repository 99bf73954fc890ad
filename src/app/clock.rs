//! The kiosk's monotonic clock for the flow engine, which tests and the headless demo can move
//! forward (to prove idle timeouts) without waiting.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct AppClock {
    start: Instant,
    skipped_ms: AtomicU64,
}

impl Default for AppClock {
    fn default() -> Self {
        Self {
            start: Instant::now(),
            skipped_ms: AtomicU64::new(0),
        }
    }
}

impl AppClock {
    /// Milliseconds since the kiosk started, plus any time skipped.
    pub fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64 + self.skipped_ms.load(Ordering::Relaxed)
    }

    /// The wall clock for records (faults, disinfection, audit), moved forward by the same
    /// skipped time as [`Self::now_ms`] so tests can pass an interval without waiting.
    pub fn wall(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc()
            + Duration::from_millis(self.skipped_ms.load(Ordering::Relaxed))
    }

    /// Moves the clock forward as if `by` had passed.
    pub fn skip(&self, by: Duration) {
        self.skipped_ms
            .fetch_add(by.as_millis() as u64, Ordering::Relaxed);
    }
}

/// Unix time in milliseconds (the wall clock, for records and receipts).
pub fn wall_clock_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

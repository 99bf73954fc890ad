//! Paces frames by the clock: each frame is due one period after the one before.

use std::time::{Duration, Instant};

/// Blocks until the next frame is due. The first frame after [`FramePacer::restart`] is due at
/// once. A reader that falls more than one period behind is not repaid with a burst of
/// frames: the schedule starts again from now.
#[derive(Debug, Clone)]
pub(crate) struct FramePacer {
    period: Duration,
    next_due: Option<Instant>,
}

impl FramePacer {
    /// A pacer for `fps` frames per second (at least 1).
    pub(crate) fn new(fps: u32) -> Self {
        FramePacer {
            period: Duration::from_secs(1) / fps.max(1),
            next_due: None,
        }
    }

    /// The next frame is due at once.
    pub(crate) fn restart(&mut self) {
        self.next_due = None;
    }

    /// Sleeps until the next frame is due and books the one after it.
    pub(crate) fn wait(&mut self) {
        let now = Instant::now();
        let due = match self.next_due {
            Some(due) if due > now => {
                std::thread::sleep(due - now);
                due
            }
            Some(due) if now - due <= self.period => due,
            _ => now,
        };
        self.next_due = Some(due + self.period);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_come_one_period_apart() {
        let mut pacer = FramePacer::new(50);
        let start = Instant::now();
        for _ in 0..5 {
            pacer.wait();
        }
        // First at once, then four periods of 20 ms.
        assert!(start.elapsed() >= Duration::from_millis(80));
    }

    #[test]
    fn a_late_reader_gets_no_burst() {
        let mut pacer = FramePacer::new(100);
        pacer.wait();
        std::thread::sleep(Duration::from_millis(50));
        pacer.wait(); // late: at once, and the schedule restarts from now
        let before = Instant::now();
        pacer.wait();
        assert!(before.elapsed() >= Duration::from_millis(8));
    }
}

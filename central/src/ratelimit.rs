//! Simple in-memory rate limits (per process): failed console logins per user name and per
//! address, failed kiosk enrolments per address. Each instance behind a load balancer counts
//! on its own, which still bounds guessing to a few tries a minute per instance.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys kept before old ones are swept out.
const MAX_KEYS: usize = 10_000;

/// At most `max` counted events per key within a sliding `window`.
#[derive(Debug)]
pub struct RateLimiter {
    max: usize,
    window: Duration,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    pub fn new(max: usize, window: Duration) -> Self {
        Self {
            max: max.max(1),
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        self.hits
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `Err(wait)` when the key used up its events in the window (the wait until one expires).
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut hits = self.lock();
        let Some(times) = hits.get_mut(key) else {
            return Ok(());
        };
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() < self.max {
            return Ok(());
        }
        let oldest = times.front().copied().unwrap_or(now);
        Err(self.window.saturating_sub(now.duration_since(oldest)))
    }

    /// Counts one event for the key.
    pub fn hit(&self, key: &str) {
        let now = Instant::now();
        let mut hits = self.lock();
        if hits.len() >= MAX_KEYS && !hits.contains_key(key) {
            let window = self.window;
            hits.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        let times = hits.entry(key.to_string()).or_default();
        times.push_back(now);
        while times.len() > self.max {
            times.pop_front();
        }
    }

    /// Forgets the key's events (a successful login).
    pub fn reset(&self, key: &str) {
        self.lock().remove(key);
    }
}

/// The limits the service applies.
#[derive(Debug)]
pub struct Limits {
    /// Failed console logins per user name.
    pub login_per_user: RateLimiter,
    /// Failed console logins per client address.
    pub login_per_address: RateLimiter,
    /// Refused `POST /api/v1/enrol` per client address.
    pub enrol_per_address: RateLimiter,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            login_per_user: RateLimiter::new(5, Duration::from_secs(15 * 60)),
            login_per_address: RateLimiter::new(20, Duration::from_secs(15 * 60)),
            enrol_per_address: RateLimiter::new(10, Duration::from_secs(10 * 60)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_up_to_max_then_waits() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        assert!(limiter.check("a").is_ok());
        limiter.hit("a");
        limiter.hit("a");
        let wait = limiter.check("a").expect_err("limited");
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(50));
        assert!(limiter.check("b").is_ok());
        limiter.reset("a");
        assert!(limiter.check("a").is_ok());
    }

    #[test]
    fn events_expire() {
        let limiter = RateLimiter::new(1, Duration::from_millis(30));
        limiter.hit("a");
        assert!(limiter.check("a").is_err());
        std::thread::sleep(Duration::from_millis(40));
        assert!(limiter.check("a").is_ok());
    }
}

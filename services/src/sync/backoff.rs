//! Exponential back-off with full jitter: after the n-th failure in a row the next attempt waits
//! a uniformly random time between zero and `min(cap, base · 2^(n-1))`, so that a fleet coming
//! back after an outage spreads out instead of arriving at once. A `Retry-After` from the centre
//! is a floor under that delay.

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// Ceiling of the first delay.
    pub base: Duration,
    /// Largest ceiling, however many failures.
    pub cap: Duration,
    /// Largest `Retry-After` honoured (a centre asking for more is asked again after this).
    pub max_retry_after: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(300),
            max_retry_after: Duration::from_secs(3600),
        }
    }
}

impl BackoffPolicy {
    /// The largest delay after `failures` consecutive failures (zero for none).
    pub fn ceiling(&self, failures: u32) -> Duration {
        if failures == 0 {
            return Duration::ZERO;
        }
        let factor = 2u32.checked_pow(failures - 1).unwrap_or(u32::MAX);
        self.base
            .checked_mul(factor)
            .unwrap_or(self.cap)
            .min(self.cap)
    }

    /// The delay for a given point `unit` in `[0, 1]` of the jitter range, never shorter than the
    /// (capped) `retry_after`.
    pub fn delay_at(&self, failures: u32, retry_after: Option<Duration>, unit: f64) -> Duration {
        let jittered = self.ceiling(failures).mul_f64(unit.clamp(0.0, 1.0));
        match retry_after {
            Some(floor) => jittered.max(floor.min(self.max_retry_after)),
            None => jittered,
        }
    }

    /// A random delay (full jitter) after `failures` consecutive failures.
    pub fn delay(&self, failures: u32, retry_after: Option<Duration>) -> Duration {
        self.delay_at(failures, retry_after, rand::random::<f64>())
    }
}

/// Reads a `Retry-After` value: delay seconds, or an HTTP date (then the time left until it).
pub fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = OffsetDateTime::parse(value, &Rfc2822).ok()?;
    Some(Duration::try_from(at - now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BackoffPolicy {
        BackoffPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
        }
    }

    #[test]
    fn ceiling_doubles_from_base_up_to_the_cap() {
        let p = policy();
        assert_eq!(p.ceiling(0), Duration::ZERO);
        assert_eq!(p.ceiling(1), Duration::from_millis(100));
        assert_eq!(p.ceiling(2), Duration::from_millis(200));
        assert_eq!(p.ceiling(5), Duration::from_millis(1600));
        assert_eq!(p.ceiling(8), Duration::from_secs(10));
        assert_eq!(p.ceiling(u32::MAX), Duration::from_secs(10));
    }

    #[test]
    fn jitter_spans_zero_to_the_ceiling() {
        let p = policy();
        assert_eq!(p.delay_at(3, None, 0.0), Duration::ZERO);
        assert_eq!(p.delay_at(3, None, 1.0), Duration::from_millis(400));
        assert_eq!(p.delay_at(3, None, 0.5), Duration::from_millis(200));
        for _ in 0..1000 {
            assert!(p.delay(40, None) <= Duration::from_secs(10));
        }
    }

    #[test]
    fn retry_after_is_a_floor_but_capped() {
        let p = policy();
        assert_eq!(
            p.delay_at(1, Some(Duration::from_secs(7)), 0.0),
            Duration::from_secs(7)
        );
        assert_eq!(
            p.delay_at(1, Some(Duration::from_secs(7200)), 1.0),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = OffsetDateTime::parse("Sat, 21 Nov 2026 10:00:00 +0000", &Rfc2822).unwrap();
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sat, 21 Nov 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sat, 21 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}

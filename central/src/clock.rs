//! Server time: the only clock the centre trusts for `received_at` and `last_seen` (kiosk
//! clocks may be skewed), and the RFC 3339 check applied to the times kiosks send.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// One reading of the server clock, as text and as milliseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTime {
    /// RFC 3339 in UTC with millisecond precision, e.g. `2026-11-21T10:00:00.123Z`.
    pub rfc3339: String,
    pub unix_ms: i64,
}

impl ServerTime {
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    pub fn from_unix_ms(unix_ms: i64) -> Self {
        let nanos = i128::from(unix_ms) * 1_000_000;
        let at =
            OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        Self::from_datetime(at)
    }

    fn from_datetime(at: OffsetDateTime) -> Self {
        let at = at.to_offset(time::UtcOffset::UTC);
        let unix_ms = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
        let layout = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        // Formatting a UTC time with a fixed layout only fails for years outside 0..=9999.
        let rfc3339 = at
            .format(&layout)
            .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".to_string());
        Self { rfc3339, unix_ms }
    }
}

/// Whether `text` is an RFC 3339 date-time (any offset).
pub fn is_rfc3339(text: &str) -> bool {
    OffsetDateTime::parse(text, &Rfc3339).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_time_is_fixed_width_utc() {
        let t = ServerTime::from_unix_ms(1_795_000_000_123);
        assert_eq!(t.rfc3339, "2026-11-18T11:06:40.123Z");
        assert_eq!(t.unix_ms, 1_795_000_000_123);
        assert!(is_rfc3339(&t.rfc3339));
        assert!(is_rfc3339(&ServerTime::now().rfc3339));
    }

    #[test]
    fn rfc3339_check() {
        assert!(is_rfc3339("2026-11-21T10:00:00+08:00"));
        assert!(!is_rfc3339("2026-11-21 10:00"));
        assert!(!is_rfc3339(""));
    }
}

//! The last lines the kiosk logged, kept in memory for the diagnostics health screen: a
//! `tracing` layer that formats each event (time, level, target, message, fields) into a ring
//! of [`CAPACITY`] lines. Long digit runs (ID, bank card and phone numbers) are masked before a
//! line is kept, as a second guard: the code logs masked values only.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;

/// Lines kept.
pub const CAPACITY: usize = 50;

fn ring() -> &'static Mutex<VecDeque<String>> {
    static RING: OnceLock<Mutex<VecDeque<String>>> = OnceLock::new();
    RING.get_or_init(|| Mutex::new(VecDeque::with_capacity(CAPACITY)))
}

/// The `n` latest lines, newest last.
pub fn recent_lines(n: usize) -> Vec<String> {
    let Ok(lines) = ring().lock() else {
        return Vec::new();
    };
    lines
        .iter()
        .skip(lines.len().saturating_sub(n))
        .cloned()
        .collect()
}

/// Keeps every event's line in the ring.
#[derive(Debug, Default, Clone, Copy)]
pub struct RecentLogLayer;

struct LineVisitor(String);

impl Visit for LineVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, " {value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            let _ = write!(self.0, " {value}");
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for RecentLogLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let now = time::OffsetDateTime::now_utc();
        let mut visitor = LineVisitor(format!(
            "{:02}:{:02}:{:02} {} {}:",
            now.hour(),
            now.minute(),
            now.second(),
            meta.level(),
            meta.target()
        ));
        event.record(&mut visitor);
        let line = mask_long_numbers(&visitor.0);
        if let Ok(mut lines) = ring().lock() {
            if lines.len() == CAPACITY {
                lines.pop_front();
            }
            lines.push_back(line);
        }
    }
}

/// Replaces every run of 11 or more digits (an ID card's 17 digits + check character, a bank
/// card, a mobile number) by its first 3 and last 4 digits around asterisks.
pub fn mask_long_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len()
            && (chars[i].is_ascii_digit() || (i > start && i - start == 17 && chars[i] == 'X'))
        {
            i += 1;
        }
        let run = i - start;
        if run >= 11 {
            out.extend(&chars[start..start + 3]);
            out.extend(std::iter::repeat_n('*', run - 7));
            out.extend(&chars[i - 4..i]);
        } else if run > 0 {
            out.extend(&chars[start..i]);
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn events_are_kept_masked_and_bounded() {
        let subscriber = tracing_subscriber::registry().with(RecentLogLayer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(
                device = "receipt_printer",
                "paper out near 110101194912310021"
            );
            for i in 0..CAPACITY {
                tracing::info!(n = i, "filler");
            }
            tracing::error!(card = "6222020200112233", "last line");
        });
        let lines = recent_lines(CAPACITY + 10);
        assert_eq!(lines.len(), CAPACITY, "bounded");
        let last = lines.last().unwrap();
        assert!(
            last.contains("ERROR") && last.contains("last line"),
            "{last}"
        );
        assert!(last.contains("622*********2233"), "{last}");
        assert!(!lines.iter().any(|l| l.contains("110101194912310021")));
    }

    #[test]
    fn long_numbers_are_masked_short_ones_kept() {
        assert_eq!(
            mask_long_numbers("id 11010519491231002X ok"),
            "id 110***********002X ok"
        );
        assert_eq!(mask_long_numbers("tel 13912345678"), "tel 139****5678");
        assert_eq!(mask_long_numbers("job 42 at 09:15"), "job 42 at 09:15");
    }
}

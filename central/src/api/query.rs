//! Query-string parameters of the admin endpoints (`?by=item&from=2026-11-01`).

use super::ApiError;
use axum::http::Uri;
use std::collections::BTreeMap;

/// The decoded parameters of a request's query string (the last value of a repeated name).
pub struct Params(BTreeMap<String, String>);

impl Params {
    pub fn of(uri: &Uri) -> Self {
        Self::parse(uri.query().unwrap_or(""))
    }

    /// Parses `a=1&b=x+y` (a query string, or an `application/x-www-form-urlencoded` body).
    pub fn parse(text: &str) -> Self {
        let mut map = BTreeMap::new();
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            map.insert(decode(name), decode(value));
        }
        Self(map)
    }

    /// A parameter, `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A parameter as sent (also when empty); `None` when absent.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A whole number in `range`, or `default` when absent.
    pub fn number(
        &self,
        name: &str,
        default: i64,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<i64, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "{name} must be a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ))
                }),
        }
    }

    /// A date `YYYY-MM-DD`.
    pub fn day(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(text) if is_day(text) => Ok(Some(text.to_string())),
            Some(_) => Err(ApiError::bad_request(format!(
                "{name} must be a date YYYY-MM-DD"
            ))),
        }
    }
}

fn is_day(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        })
}

/// Percent-decoding, with `+` as a space.
pub(crate) fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() && text.is_char_boundary(i + 3) => {
                match u8::from_str_radix(&text[i + 1..i + 3], 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_decodes() {
        let uri: Uri = "/x?by=item&from=2026-11-01&kiosk=k%2D1&q=a+b&bad=%zz&end=%4"
            .parse()
            .expect("uri");
        let params = Params::of(&uri);
        assert_eq!(params.get("by"), Some("item"));
        assert_eq!(params.get("kiosk"), Some("k-1"));
        assert_eq!(params.get("q"), Some("a b"));
        assert_eq!(params.get("bad"), Some("%zz"));
        assert_eq!(params.get("end"), Some("%4"));
        assert_eq!(params.day("from").expect("day"), Some("2026-11-01".into()));
        assert!(params.day("by").is_err());
        assert_eq!(params.number("days", 7, 1..=90).expect("default"), 7);
    }
}

//! Turns `toml`/`serde` deserialisation errors into one-line messages that name the full key
//! path (`ui.orienttion: unknown key …`).
//!
//! `toml::Value::try_into` reports the table a problem was found in as a trailing
//! ``in `a.b` `` line; the message itself names the offending field. Both are combined here. The
//! tests pin the wording `toml` uses, so an upgrade that changes it fails loudly.

/// Describes a deserialisation error of the value found at `prefix` (empty for the document
/// root) as `full.key.path: problem`.
pub(crate) fn describe(err: &toml::de::Error, prefix: &str) -> String {
    let shown = err.to_string();
    let inner_path = shown
        .lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix("in `")?.strip_suffix('`'))
        .unwrap_or("");
    let table = join(prefix, inner_path);
    let message = err.message().trim();

    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (field, expected) = split_quoted(rest);
        let known = expected
            .trim_start_matches(", ")
            .trim_start_matches("expected one of ")
            .trim_start_matches("expected ")
            .replace('`', "");
        let known = if known.contains("there are no fields") || known.is_empty() {
            String::from("this table takes no keys")
        } else {
            format!("known keys: {known}")
        };
        return format!("{}: unknown key ({known})", join(&table, field));
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let (field, _) = split_quoted(rest);
        return format!("{}: missing required key", join(&table, field));
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (value, expected) = split_quoted(rest);
        let expected = expected
            .trim_start_matches(", ")
            .trim_start_matches("expected one of ")
            .trim_start_matches("expected ")
            .replace('`', "");
        return format!("{table}: `{value}` is not a valid value (use {expected})");
    }
    if table.is_empty() {
        message.to_string()
    } else {
        format!("{table}: {message}")
    }
}

/// Joins two dotted key paths, either of which may be empty.
pub(crate) fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}.{b}"),
    }
}

/// Splits "name` rest" into ("name", " rest").
fn split_quoted(rest: &str) -> (&str, &str) {
    match rest.find('`') {
        Some(end) => (&rest[..end], &rest[end + 1..]),
        None => (rest, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        inner: Inner,
    }

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        count: u32,
        mode: Mode,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Mode {
        Fast,
        Slow,
    }

    fn error_for(text: &str) -> String {
        let value: toml::Value = toml::from_str(text).expect("test TOML parses");
        let err = value.try_into::<Outer>().expect_err("test TOML is invalid");
        describe(&err, "root")
    }

    #[test]
    fn unknown_key_names_the_path() {
        let msg = error_for("[inner]\ncount = 1\nmode = 'fast'\ncuont = 2\n");
        assert!(msg.starts_with("root.inner.cuont: unknown key"), "{msg}");
        assert!(msg.contains("count"), "{msg}");
    }

    #[test]
    fn missing_key_names_the_path() {
        let msg = error_for("[inner]\nmode = 'fast'\n");
        assert_eq!(msg, "root.inner.count: missing required key");
    }

    #[test]
    fn bad_type_names_the_path() {
        let msg = error_for("[inner]\ncount = 'x'\nmode = 'fast'\n");
        assert!(msg.starts_with("root.inner.count: invalid type"), "{msg}");
    }

    #[test]
    fn bad_variant_lists_the_valid_ones() {
        let msg = error_for("[inner]\ncount = 1\nmode = 'medium'\n");
        assert!(
            msg.starts_with("root.inner.mode: `medium` is not a valid value"),
            "{msg}"
        );
        assert!(msg.contains("fast") && msg.contains("slow"), "{msg}");
    }
}

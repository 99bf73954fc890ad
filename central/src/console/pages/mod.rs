//! One module per page group. Each page reads through the same functions as the JSON admin API
//! and renders; each action checks the role, calls the shared action, writes the audit entry and
//! redirects back with a one-time message.

pub(crate) mod alarms;
pub(crate) mod audit;
pub(crate) mod availability;
pub(crate) mod catalogue;
pub(crate) mod catalogue_edit;
pub(crate) mod fleet;
pub(crate) mod kiosk;
pub(crate) mod rollout;
pub(crate) mod stats;
pub(crate) mod users;

use serde_json::Value;

/// A text field of a JSON view.
pub(crate) fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// A whole-number field of a JSON view.
pub(crate) fn int(value: &Value, key: &str) -> Option<i64> {
    value.get(key).and_then(Value::as_i64)
}

/// A number field of a JSON view.
pub(crate) fn real(value: &Value, key: &str) -> Option<f64> {
    value.get(key).and_then(Value::as_f64)
}

/// An optional number as text, `—` when absent.
pub(crate) fn or_dash(value: Option<impl std::fmt::Display>) -> String {
    value.map_or_else(|| "—".to_string(), |v| v.to_string())
}

/// A list field of a JSON view.
pub(crate) fn list<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

//! Validation of form answers and their masked forms.

use crate::catalogue::{FieldType, FormField};
use crate::text::LocalizedText;

/// Checks one answer; the error says what is expected.
pub(crate) fn check_field(field: &FormField, value: &str) -> Result<(), LocalizedText> {
    let value = value.trim();
    if value.is_empty() {
        return if field.required {
            Err(LocalizedText::new("此项必填", "This field is required"))
        } else {
            Ok(())
        };
    }
    match field.field_type {
        FieldType::Digits => {
            if !value.chars().all(|c| c.is_ascii_digit()) {
                return Err(LocalizedText::new("只能输入数字", "Digits only, please"));
            }
            let len = value.chars().count() as u32;
            let min = field.min_len.unwrap_or(1);
            let max = field.max_len.unwrap_or(u32::MAX);
            if len < min || len > max {
                return Err(if min == max {
                    LocalizedText::new(
                        format!("请输入 {min} 位数字"),
                        format!("Enter {min} digits"),
                    )
                } else if max == u32::MAX {
                    LocalizedText::new(
                        format!("请至少输入 {min} 位数字"),
                        format!("Enter at least {min} digits"),
                    )
                } else {
                    LocalizedText::new(
                        format!("请输入 {min} 至 {max} 位数字"),
                        format!("Enter {min} to {max} digits"),
                    )
                });
            }
            Ok(())
        }
        FieldType::Phone => {
            let bytes = value.as_bytes();
            let ok = bytes.len() == 11
                && bytes.iter().all(u8::is_ascii_digit)
                && bytes[0] == b'1'
                && (b'3'..=b'9').contains(&bytes[1]);
            if ok {
                Ok(())
            } else {
                Err(LocalizedText::new(
                    "请输入 11 位手机号码，以 1 开头",
                    "Enter an 11-digit mobile number starting with 1",
                ))
            }
        }
        FieldType::Choice => {
            if field.choices.iter().any(|c| c.value == value) {
                Ok(())
            } else {
                Err(LocalizedText::new("请选择一项", "Please choose one option"))
            }
        }
        FieldType::Date => {
            if crate::wall_clock::is_valid_date(value) {
                Ok(())
            } else {
                Err(LocalizedText::new(
                    "请输入有效日期，格式如 2026-12-01",
                    "Enter a valid date such as 2026-12-01",
                ))
            }
        }
    }
}

/// The answer as it may appear in records and receipts: phone numbers keep their first three
/// and last four digits; sensitive numbers keep their last four.
pub(crate) fn masked_value(field: &FormField, value: &str) -> String {
    let value = value.trim();
    let chars: Vec<char> = value.chars().collect();
    if field.field_type == FieldType::Phone && chars.len() == 11 {
        let mut out: String = chars[..3].iter().collect();
        out.push_str("****");
        out.extend(&chars[7..]);
        out
    } else if field.sensitive || field.field_type == FieldType::Phone {
        let keep = chars.len().min(4);
        let hidden = chars.len() - keep;
        "*".repeat(hidden) + &chars[hidden..].iter().collect::<String>()
    } else {
        value.to_string()
    }
}

/// The answer as shown on screen for a choice (its label) or typed value.
pub(crate) fn display_value(field: &FormField, value: &str) -> LocalizedText {
    if field.field_type == FieldType::Choice
        && let Some(choice) = field.choices.iter().find(|c| c.value == value)
    {
        return choice.label.clone();
    }
    LocalizedText::new(value, value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Choice;

    fn field(field_type: FieldType) -> FormField {
        FormField {
            key: "f".into(),
            label: LocalizedText::new("字段", "Field"),
            field_type,
            min_len: None,
            max_len: None,
            required: true,
            choices: vec![Choice {
                value: "a".into(),
                label: LocalizedText::new("甲", "A"),
            }],
            hint: None,
            sensitive: false,
        }
    }

    #[test]
    fn digits_respect_length() {
        let mut f = field(FieldType::Digits);
        f.min_len = Some(2);
        f.max_len = Some(4);
        assert!(check_field(&f, "123").is_ok());
        assert!(check_field(&f, "1").is_err());
        assert!(check_field(&f, "12345").is_err());
        assert!(check_field(&f, "12a").is_err());
        assert!(check_field(&f, "１２３").is_err(), "full-width digits");
    }

    #[test]
    fn phone_must_be_a_mainland_mobile() {
        let f = field(FieldType::Phone);
        assert!(check_field(&f, "13812345678").is_ok());
        assert!(check_field(&f, "12812345678").is_err());
        assert!(check_field(&f, "1381234567").is_err());
        assert_eq!(masked_value(&f, "13812345678"), "138****5678");
    }

    #[test]
    fn optional_fields_may_be_empty() {
        let mut f = field(FieldType::Phone);
        assert!(check_field(&f, " ").is_err());
        f.required = false;
        assert!(check_field(&f, "").is_ok());
    }

    #[test]
    fn choices_and_dates() {
        let f = field(FieldType::Choice);
        assert!(check_field(&f, "a").is_ok());
        assert!(check_field(&f, "b").is_err());
        assert_eq!(display_value(&f, "a").en, "A");
        let f = field(FieldType::Date);
        assert!(check_field(&f, "2026-12-01").is_ok());
        assert!(check_field(&f, "2026-02-30").is_err());
    }

    #[test]
    fn sensitive_values_keep_last_four() {
        let mut f = field(FieldType::Digits);
        f.sensitive = true;
        assert_eq!(masked_value(&f, "6222020200112233"), "************2233");
        f.sensitive = false;
        assert_eq!(masked_value(&f, "5000"), "5000");
    }
}

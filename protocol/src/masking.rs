//! Masking of personal data (DESIGN §6): the only form in which an ID number or a name may
//! appear on screen, on a receipt, in a log line or in a plain database column.

/// Masks a resident ID number: the birth-date digits (positions 7–14, 1-based) are hidden.
/// Numbers of other lengths keep only their first and last two characters.
///
/// ```
/// assert_eq!(kiosk_protocol::mask_id_number("11010519491231002X"), "110105********002X");
/// ```
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    if chars.len() == 18 {
        chars
            .iter()
            .enumerate()
            .map(|(i, c)| if (6..14).contains(&i) { '*' } else { *c })
            .collect()
    } else if chars.len() > 4 {
        let n = chars.len();
        chars
            .iter()
            .enumerate()
            .map(|(i, c)| if i < 2 || i >= n - 2 { *c } else { '*' })
            .collect()
    } else {
        "*".repeat(chars.len())
    }
}

/// Masks a name: all but the first character are hidden (`张三丰` → `张**`).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => {
            let mut out = String::new();
            out.push(first);
            for c in chars {
                out.push(if c == ' ' { ' ' } else { '*' });
            }
            out
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_number_hides_birth_date() {
        assert_eq!(mask_id_number("110105194912310021"), "110105********0021");
        assert!(!mask_id_number("110105194912310021").contains("19491231"));
    }

    #[test]
    fn odd_length_numbers_are_masked_too() {
        assert_eq!(mask_id_number("H12345678"), "H1*****78");
        assert_eq!(mask_id_number("123"), "***");
    }

    #[test]
    fn name_keeps_first_character() {
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name("李"), "李");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_name("JOHN SMITH"), "J*** *****");
    }
}

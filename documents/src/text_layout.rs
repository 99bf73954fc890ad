//! Line breaking for mixed Chinese and Latin text: a break is allowed between any two CJK
//! characters and at spaces; Latin words stay whole unless a word alone is wider than the line.

use crate::fonts::FontFace;

/// Breaks `text` into lines no wider than `width` points at `size`. Explicit newlines are kept.
pub fn wrap(text: &str, font: &FontFace, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for token in tokens(paragraph) {
            let candidate = format!("{line}{token}");
            if line.is_empty() || font.width(candidate.trim_end(), size) <= width {
                line = candidate;
                continue;
            }
            lines.push(line.trim_end().to_string());
            line = token.trim_start().to_string();
            // A single token wider than the line is split by character.
            while font.width(&line, size) > width && line.chars().count() > 1 {
                let mut head = String::new();
                for c in line.chars() {
                    if !head.is_empty() && font.width(&format!("{head}{c}"), size) > width {
                        break;
                    }
                    head.push(c);
                }
                line = line[head.len()..].to_string();
                lines.push(head);
            }
        }
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// CJK characters one by one; other runs up to and including their trailing spaces.
fn tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if is_cjk(c) {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            out.push(c.to_string());
        } else {
            word.push(c);
            if c == ' ' {
                out.push(std::mem::take(&mut word));
            }
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Han characters, CJK punctuation and full-width forms.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FFF | 0x3000..=0x303F | 0x3040..=0x30FF | 0x3400..=0x4DBF |
        0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x3134F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_cjk_and_keep_words() {
        assert_eq!(
            tokens("证明 valid until 2026"),
            vec!["证", "明", " ", "valid ", "until ", "2026"]
        );
    }

    #[test]
    fn cjk_ranges() {
        assert!(is_cjk('证'));
        assert!(is_cjk('，'));
        assert!(!is_cjk('A'));
        assert!(is_cjk('\u{20000}'));
    }
}

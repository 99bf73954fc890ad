//! Text shown to citizens, always in Chinese and English (DESIGN §9: Chinese first, English
//! complete).

use serde::{Deserialize, Serialize};

/// A Chinese text with its English counterpart. The Chinese text is the one that must exist;
/// an empty English text falls back to the Chinese one when shown.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalizedText {
    /// Simplified Chinese.
    pub zh: String,
    /// English; may be empty in a catalogue, then [`LocalizedText::en_or_zh`] shows Chinese.
    #[serde(default)]
    pub en: String,
}

impl LocalizedText {
    /// Builds a text pair.
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        LocalizedText {
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// The English text, or the Chinese one when no translation exists.
    pub fn en_or_zh(&self) -> &str {
        if self.en.trim().is_empty() {
            &self.zh
        } else {
            &self.en
        }
    }

    /// The text in the given language.
    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::Zh => &self.zh,
            Language::En => self.en_or_zh(),
        }
    }
}

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// Simplified Chinese, the default.
    #[default]
    Zh,
    /// English.
    En,
}

impl Language {
    /// `zh` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Language::Zh => "zh",
            Language::En => "en",
        }
    }

    /// The language with this code.
    pub fn from_code(code: &str) -> Option<Language> {
        match code {
            "zh" => Some(Language::Zh),
            "en" => Some(Language::En),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_falls_back_to_chinese() {
        let t = LocalizedText::new("预约取号", "");
        assert_eq!(t.get(Language::En), "预约取号");
        let t = LocalizedText::new("预约取号", "Appointment check-in");
        assert_eq!(t.get(Language::En), "Appointment check-in");
        assert_eq!(t.get(Language::Zh), "预约取号");
    }
}

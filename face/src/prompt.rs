//! What the kiosk shows and says to the citizen: a stable code plus voice-ready Chinese and
//! English text.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Prompt {
    /// Stable machine-readable code (for logs, records and tests), e.g. `too_far`, `blink`.
    pub code: &'static str,
    /// Short, voice-ready Simplified Chinese.
    pub zh: &'static str,
    pub en: &'static str,
}

impl Prompt {
    pub const fn new(code: &'static str, zh: &'static str, en: &'static str) -> Self {
        Self { code, zh, en }
    }

    /// "Look at the screen": shown while no step is asked yet or a frontal frame is wanted.
    pub const FACE_SCREEN: Prompt =
        Prompt::new("face_screen", "请正对屏幕", "Please face the screen");
    /// Shown while the match is being computed or the chip handed over.
    pub const HOLD_STILL: Prompt = Prompt::new("hold_still", "请保持不动", "Please hold still");
}

//! The K720 advanced status ("AP" → "SF" + four characters, each `0x30 | bits`), reference
//! §3.3.
//!
//! | Char | bit3 (0x08) | bit2 (0x04) | bit1 (0x02) | bit0 (0x01) |
//! |---|---|---|---|---|
//! | B1 machine | recycle bin full | command cannot execute | prepare-card failed | (K750) box pre-full |
//! | B2 action | dispensing | capturing | dispense error | capture error |
//! | B3 card box | (K750) box full | overlapped cards | jam | box low |
//! | B4 channel | box empty | card at sensor 3 | at sensor 2 | at sensor 1 |
//!
//! **[unverified]** Sensors 1–2 are the read position (the C# table's 0x33 "卡在传感器1-2位置
//! (读卡位置)"); that sensor 3 is the gate is inferred from the card's path, not stated by a
//! source.

use crate::cardwriter::report::{BinLevel, CardPosition, StackLevel};

/// The four status characters of an "SF" reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct K720Status {
    /// B1..B4 as received.
    pub chars: [u8; 4],
}

macro_rules! flag {
    ($(#[$doc:meta])* $name:ident, $index:literal, $bit:literal) => {
        $(#[$doc])*
        pub fn $name(&self) -> bool {
            self.chars[$index] & $bit != 0
        }
    };
}

impl K720Status {
    /// Parse the reply text "SF" + 4 characters; `None` when it is not one.
    pub fn parse(text: &[u8]) -> Option<Self> {
        match text {
            [b'S', b'F', b1, b2, b3, b4] if [b1, b2, b3, b4].iter().all(|&&c| c & 0xF0 == 0x30) => {
                Some(K720Status {
                    chars: [*b1, *b2, *b3, *b4],
                })
            }
            _ => None,
        }
    }

    /// The reply text "SF" + 4 characters.
    pub fn text(&self) -> Vec<u8> {
        let mut text = b"SF".to_vec();
        text.extend_from_slice(&self.chars);
        text
    }

    flag!(/// B1 bit 3: recycle bin full.
        bin_full, 0, 0x08);
    flag!(/// B1 bit 2: the command cannot be executed.
        cannot_execute, 0, 0x04);
    flag!(/// B1 bit 1: preparing a card failed.
        prepare_failed, 0, 0x02);
    flag!(/// B1 bit 0: (K750) box pre-full / preparing.
        box_prefull, 0, 0x01);
    flag!(/// B2 bit 3: dispensing.
        dispensing, 1, 0x08);
    flag!(/// B2 bit 2: capturing.
        capturing, 1, 0x04);
    flag!(/// B2 bit 1: dispense error.
        dispense_error, 1, 0x02);
    flag!(/// B2 bit 0: capture error.
        capture_error, 1, 0x01);
    flag!(/// B3 bit 3: (K750) box full.
        box_full, 2, 0x08);
    flag!(/// B3 bit 2: overlapped cards.
        overlapped, 2, 0x04);
    flag!(/// B3 bit 1: card jam.
        jam, 2, 0x02);
    flag!(/// B3 bit 0: box low (预空).
        box_low, 2, 0x01);
    flag!(/// B4 bit 3: box empty.
        box_empty, 3, 0x08);
    flag!(/// B4 bit 2: card at sensor 3.
        sensor3, 3, 0x04);
    flag!(/// B4 bit 1: card at sensor 2.
        sensor2, 3, 0x02);
    flag!(/// B4 bit 0: card at sensor 1.
        sensor1, 3, 0x01);

    /// Whether a movement is still going on.
    pub fn busy(&self) -> bool {
        self.dispensing() || self.capturing()
    }

    /// The card position: sensor 3 is the gate, sensors 1–2 inside (see the module note).
    pub fn card(&self) -> CardPosition {
        if self.sensor3() {
            CardPosition::AtGate
        } else if self.sensor1() || self.sensor2() {
            CardPosition::Inside
        } else {
            CardPosition::None
        }
    }

    /// The card box level.
    pub fn stack(&self) -> StackLevel {
        if self.box_empty() {
            StackLevel::Empty
        } else if self.box_low() {
            StackLevel::Low
        } else {
            StackLevel::Ok
        }
    }

    /// The recycle bin level.
    pub fn bin(&self) -> BinLevel {
        if self.bin_full() {
            BinLevel::Full
        } else {
            BinLevel::NotFull
        }
    }

    /// Problems other than stock, bin and jam, in English.
    pub fn problems(&self) -> Vec<String> {
        [
            (self.cannot_execute(), "command cannot execute"),
            (self.prepare_failed(), "prepare-card failed"),
            (self.dispense_error(), "dispense error"),
            (self.capture_error(), "capture error"),
            (self.overlapped(), "overlapped cards"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, text)| text.to_owned())
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_replies_decode() {
        let idle = K720Status::parse(b"SF0000").expect("status");
        assert_eq!(idle.card(), CardPosition::None);
        assert_eq!(idle.stack(), StackLevel::Ok);
        assert!(idle.problems().is_empty());
        let reading = K720Status::parse(b"SF0003").expect("status");
        assert_eq!(reading.card(), CardPosition::Inside);
        assert!(reading.sensor1() && reading.sensor2() && !reading.sensor3());
    }

    #[test]
    fn named_values_of_the_c_sharp_table() {
        // 0x31 卡箱预空, 0x32 卡堵塞, 0x34 重叠卡 in B3; 0x38 卡箱已空 in B4.
        let low = K720Status::parse(b"SF0010").expect("status");
        assert!(low.box_low());
        assert_eq!(low.stack(), StackLevel::Low);
        assert!(K720Status::parse(b"SF0020").expect("status").jam());
        assert!(K720Status::parse(b"SF0040").expect("status").overlapped());
        let empty = K720Status::parse(b"SF0008").expect("status");
        assert_eq!(empty.stack(), StackLevel::Empty);
        let gate = K720Status::parse(b"SF0006").expect("status");
        assert_eq!(gate.card(), CardPosition::AtGate);
        let full = K720Status::parse(b"SF8000").expect("status");
        assert_eq!(full.bin(), BinLevel::Full);
        let busy = K720Status::parse(b"SF0800").expect("status");
        assert!(busy.busy());
        let failed = K720Status::parse(b"SF0200").expect("status");
        assert_eq!(failed.problems(), vec!["dispense error".to_owned()]);
        assert_eq!(failed.text(), b"SF0200".to_vec());
        assert!(K720Status::parse(b"SF00").is_none());
        assert!(K720Status::parse(b"XF0000").is_none());
        assert!(K720Status::parse(b"SF00A0").is_none());
    }
}

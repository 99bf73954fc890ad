//! TTCE K720 / K750 framing (reference §3.3):
//!
//! ```text
//! Command : 02 | ADDH ADDL | LENH LENL | ASCII command… | 03 | BCC   (BCC = XOR STX..ETX)
//! Device  : 06 ADDH ADDL (ACK)  or  15 ADDH ADDL (NAK)
//! Host    : 05 ADDH ADDL (ENQ: "give me the result")
//! Device  : 02 ADDH ADDL LENH LENL <reply text> 03 BCC
//! ```
//!
//! The address is two ASCII decimal digits (0 → `30 30`, 15 → `31 35`). Two older variants
//! were captured and are supported by [`K720Framing`]: an older K720 without the length field
//! (`02 31 35 46 43 34 03 34`) and the Creator CRT-531 without address or length
//! (`02 41 50 03 10`, ENQ a lone `05`).

use crate::cardwriter::bcc::bcc;

/// Start of a frame.
pub const STX: u8 = 0x02;
/// End of the text.
pub const ETX: u8 = 0x03;
/// Acknowledge.
pub const ACK: u8 = 0x06;
/// Negative acknowledge (bad BCC).
pub const NAK: u8 = 0x15;
/// Enquiry: the host asks for the result.
pub const ENQ: u8 = 0x05;
/// Longest text accepted.
pub const MAX_TEXT: usize = 512;

/// Which frame layout the unit speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum K720Framing {
    /// Current firmware: address and a two-byte length.
    WithLength,
    /// Older K720: address, no length (the text ends at ETX).
    NoLength,
    /// CRT-531 style: no address, no length.
    Bare,
}

/// A bus address 0–15 and its two ASCII digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct K720Address(u8);

impl K720Address {
    /// The address, if 0–15.
    pub fn new(address: u8) -> Option<Self> {
        (address <= 15).then_some(K720Address(address))
    }

    /// The two ASCII digits on the wire.
    pub fn digits(self) -> [u8; 2] {
        [b'0' + self.0 / 10, b'0' + self.0 % 10]
    }

    /// The numeric address.
    pub fn value(self) -> u8 {
        self.0
    }
}

/// Encode a frame (command or reply) carrying `text`.
pub fn encode(framing: K720Framing, address: K720Address, text: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(text.len() + 7);
    frame.push(STX);
    if framing != K720Framing::Bare {
        frame.extend_from_slice(&address.digits());
    }
    if framing == K720Framing::WithLength {
        let len = u16::try_from(text.len()).unwrap_or(u16::MAX);
        frame.extend_from_slice(&len.to_be_bytes());
    }
    frame.extend_from_slice(text);
    frame.push(ETX);
    frame.push(bcc(&frame));
    frame
}

/// The ACK, NAK or ENQ for `address` (a lone byte with [`K720Framing::Bare`]).
pub fn control(framing: K720Framing, address: K720Address, byte: u8) -> Vec<u8> {
    let mut out = vec![byte];
    if framing != K720Framing::Bare {
        out.extend_from_slice(&address.digits());
    }
    out
}

/// Something cut out of the byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum K720Item {
    /// ACK, NAK or ENQ, with the address digits it carried (none with `Bare`).
    Control {
        /// The control byte.
        byte: u8,
        /// Address digits.
        address: Option<[u8; 2]>,
    },
    /// A frame with a good BCC.
    Frame {
        /// Address digits (none with `Bare`).
        address: Option<[u8; 2]>,
        /// The text.
        text: Vec<u8>,
    },
    /// A frame with a bad BCC, no ETX where the length says, or an impossible length.
    Corrupt(String),
}

/// Cuts control sequences and frames out of a byte stream.
#[derive(Debug)]
pub struct K720Assembler {
    framing: K720Framing,
    buf: Vec<u8>,
    skipped: usize,
}

impl K720Assembler {
    /// An assembler for `framing`.
    pub fn new(framing: K720Framing) -> Self {
        K720Assembler {
            framing,
            buf: Vec::new(),
            skipped: 0,
        }
    }

    /// Add received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Forget everything buffered.
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Bytes thrown away so far.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Bytes waiting.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    fn address_len(&self) -> usize {
        if self.framing == K720Framing::Bare {
            0
        } else {
            2
        }
    }

    /// The next item, `None` when more bytes are needed.
    pub fn next_item(&mut self) -> Option<K720Item> {
        loop {
            let first = *self.buf.first()?;
            let addr_len = self.address_len();
            match first {
                ACK | NAK | ENQ => {
                    if self.buf.len() < 1 + addr_len {
                        return None;
                    }
                    let address = (addr_len == 2).then(|| [self.buf[1], self.buf[2]]);
                    self.buf.drain(..1 + addr_len);
                    return Some(K720Item::Control {
                        byte: first,
                        address,
                    });
                }
                STX => return self.next_frame(addr_len),
                _ => {
                    self.buf.remove(0);
                    self.skipped += 1;
                }
            }
        }
    }

    fn next_frame(&mut self, addr_len: usize) -> Option<K720Item> {
        let (text_start, text_end) = if self.framing == K720Framing::WithLength {
            if self.buf.len() < 5 {
                return None;
            }
            let len = usize::from(u16::from_be_bytes([self.buf[3], self.buf[4]]));
            if len == 0 || len > MAX_TEXT {
                self.buf.remove(0);
                self.skipped += 1;
                return Some(K720Item::Corrupt(format!("impossible length {len}")));
            }
            if self.buf.len() < 5 + len + 2 {
                return None;
            }
            (5, 5 + len)
        } else {
            let start = 1 + addr_len;
            let end = self.buf.iter().skip(start).position(|&b| b == ETX)? + start;
            if self.buf.len() < end + 2 {
                return None;
            }
            (start, end)
        };
        let frame: Vec<u8> = self.buf.drain(..text_end + 2).collect();
        if frame[text_end] != ETX {
            return Some(K720Item::Corrupt("no ETX after the text".to_owned()));
        }
        let expected = bcc(&frame[..=text_end]);
        if frame[text_end + 1] != expected {
            return Some(K720Item::Corrupt(format!(
                "bad BCC: expected {expected:#04x}, got {:#04x}",
                frame[text_end + 1]
            )));
        }
        Some(K720Item::Frame {
            address: (addr_len == 2).then(|| [frame[1], frame[2]]),
            text: frame[text_start..text_end].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).expect("hex"))
            .collect()
    }

    fn addr(n: u8) -> K720Address {
        K720Address::new(n).expect("address")
    }

    /// Every command frame of the reference's K720 table (address 00).
    #[test]
    fn command_frames_match_the_reference() {
        let published: &[(&str, &str)] = &[
            ("AP", "02 30 30 00 02 41 50 03 12"),
            ("RF", "02 30 30 00 02 52 46 03 17"),
            ("DC", "02 30 30 00 02 44 43 03 04"),
            ("FC7", "02 30 30 00 03 46 43 37 03 30"),
            ("FC6", "02 30 30 00 03 46 43 36 03 31"),
            ("FC4", "02 30 30 00 03 46 43 34 03 33"),
            ("FC0", "02 30 30 00 03 46 43 30 03 37"),
            ("FC8", "02 30 30 00 03 46 43 38 03 3F"),
            ("CP", "02 30 30 00 02 43 50 03 10"),
            ("DB", "02 30 30 00 02 44 42 03 05"),
            ("RS", "02 30 30 00 02 52 53 03 02"),
            // "…42 45 03 04" / "…42 44 03 05": the elided head is 02 30 30 00 02.
            ("BE", "02 30 30 00 02 42 45 03 04"),
            ("BD", "02 30 30 00 02 42 44 03 05"),
            ("GV", "02 30 30 00 02 47 56 03 12"),
        ];
        for (command, frame) in published {
            assert_eq!(
                encode(K720Framing::WithLength, addr(0), command.as_bytes()),
                hex(frame),
                "{command}"
            );
        }
    }

    /// The captured exchange: AP, ACK, ENQ, and the two "SF" replies.
    #[test]
    fn captured_exchange_matches() {
        assert_eq!(
            control(K720Framing::WithLength, addr(0), ACK),
            hex("06 30 30")
        );
        assert_eq!(
            control(K720Framing::WithLength, addr(0), ENQ),
            hex("05 30 30")
        );
        assert_eq!(
            encode(K720Framing::WithLength, addr(0), b"SF0000"),
            hex("02 30 30 00 06 53 46 30 30 30 30 03 12")
        );
        assert_eq!(
            encode(K720Framing::WithLength, addr(0), b"SF0003"),
            hex("02 30 30 00 06 53 46 30 30 30 33 03 11")
        );
        let mut assembler = K720Assembler::new(K720Framing::WithLength);
        assembler.push(&hex("06 30 30"));
        assembler.push(&hex("02 30 30 00 06 53 46 30 30 30 33 03 11"));
        assert_eq!(
            assembler.next_item(),
            Some(K720Item::Control {
                byte: ACK,
                address: Some(*b"00")
            })
        );
        assert_eq!(
            assembler.next_item(),
            Some(K720Item::Frame {
                address: Some(*b"00"),
                text: b"SF0003".to_vec()
            })
        );
        assert_eq!(assembler.next_item(), None);
    }

    /// The older variants: K720 without length at address 15, CRT-531 without address.
    #[test]
    fn older_variants_match() {
        assert_eq!(
            encode(K720Framing::NoLength, addr(15), b"FC4"),
            hex("02 31 35 46 43 34 03 34")
        );
        assert_eq!(
            encode(K720Framing::NoLength, addr(15), b"AP"),
            hex("02 31 35 41 50 03 14")
        );
        assert_eq!(
            control(K720Framing::NoLength, addr(15), ENQ),
            hex("05 31 35")
        );
        assert_eq!(
            encode(K720Framing::Bare, addr(0), b"AP"),
            hex("02 41 50 03 10")
        );
        assert_eq!(
            encode(K720Framing::Bare, addr(0), b"RF"),
            hex("02 52 46 03 15")
        );
        assert_eq!(
            encode(K720Framing::Bare, addr(0), b"DC"),
            hex("02 44 43 03 06")
        );
        assert_eq!(control(K720Framing::Bare, addr(0), ENQ), hex("05"));
        let mut assembler = K720Assembler::new(K720Framing::NoLength);
        assembler.push(&hex("02 31 35 46 43 34 03 34"));
        assert_eq!(
            assembler.next_item(),
            Some(K720Item::Frame {
                address: Some(*b"15"),
                text: b"FC4".to_vec()
            })
        );
        let mut bare = K720Assembler::new(K720Framing::Bare);
        bare.push(&hex("05 02 41 50 03 10"));
        assert_eq!(
            bare.next_item(),
            Some(K720Item::Control {
                byte: ENQ,
                address: None
            })
        );
        assert_eq!(
            bare.next_item(),
            Some(K720Item::Frame {
                address: None,
                text: b"AP".to_vec()
            })
        );
    }

    #[test]
    fn corrupt_frames_are_reported() {
        let mut frame = encode(K720Framing::WithLength, addr(0), b"SF0000");
        let last = frame.len() - 1;
        frame[last] ^= 0x01;
        let mut assembler = K720Assembler::new(K720Framing::WithLength);
        assembler.push(&[0xAA]);
        assembler.push(&frame);
        assert!(matches!(assembler.next_item(), Some(K720Item::Corrupt(_))));
        assert_eq!(assembler.skipped(), 1);
        assembler.push(&[STX, b'0', b'0', 0xFF, 0xFF]);
        assert!(matches!(assembler.next_item(), Some(K720Item::Corrupt(_))));
        assert_eq!(K720Address::new(16), None);
        assert_eq!(addr(7).digits(), *b"07");
    }
}

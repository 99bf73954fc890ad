//! CRT-591 framing (reference §3.1):
//!
//! ```text
//! Command : F2 | ADDR | LENH LENL | 43('C') CM PM DATA… | 03 | BCC
//! Positive: F2 | ADDR | LENH LENL | 50('P') CM PM st0 st1 st2 DATA… | 03 | BCC
//! Negative: F2 | ADDR | LENH LENL | 4E('N') CM PM e1 e0 DATA… | 03 | BCC
//! ```
//!
//! LEN counts the TEXT (from the 'C'/'P'/'N' byte through the last DATA byte); BCC is the XOR
//! of every byte from STX through ETX. Frames are cut by LEN, never by looking for ETX (DATA
//! may contain 0x03). The negative header is 0x4E in the per-command tables and 0x45 in the
//! format section and a public C# driver; [`ReplyFrame::decode`] accepts both, the simulator
//! sends 0x4E.

use super::codes::{Crt591ErrorCode, Crt591Status};
use crate::cardwriter::bcc::bcc;

/// Start of a frame.
pub const STX: u8 = 0xF2;
/// End of the TEXT.
pub const ETX: u8 = 0x03;
/// Positive acknowledgement.
pub const ACK: u8 = 0x06;
/// Negative acknowledgement (bad BCC: resend).
pub const NAK: u8 = 0x15;
/// Enquiry (not used by the CRT-591; the K720 and CRT-310 ask for results with it).
pub const ENQ: u8 = 0x05;
/// Cancel.
pub const EOT: u8 = 0x04;
/// Command header.
pub const HEADER_COMMAND: u8 = b'C';
/// Positive reply header.
pub const HEADER_POSITIVE: u8 = b'P';
/// Negative reply header, as in the per-command tables.
pub const HEADER_NEGATIVE: u8 = b'N';
/// Negative reply header, as in the format section of the PDF and the C# driver.
pub const HEADER_NEGATIVE_ALT: u8 = 0x45;
/// Largest frame the device handles.
pub const MAX_FRAME: usize = 1024;
/// Largest DATA field.
pub const MAX_DATA: usize = 512;
/// Bytes of a frame outside the TEXT: STX ADDR LENH LENL … ETX BCC.
const OVERHEAD: usize = 6;

/// Wrap `text` in STX ADDR LEN … ETX BCC.
pub fn wrap(addr: u8, text: &[u8]) -> Vec<u8> {
    let len = u16::try_from(text.len()).unwrap_or(u16::MAX);
    let mut frame = Vec::with_capacity(text.len() + OVERHEAD);
    frame.push(STX);
    frame.push(addr);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(text);
    frame.push(ETX);
    frame.push(bcc(&frame));
    frame
}

/// A command: CM, PM and DATA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandFrame {
    /// Command byte.
    pub cm: u8,
    /// Parameter byte.
    pub pm: u8,
    /// Data (up to [`MAX_DATA`] bytes).
    pub data: Vec<u8>,
}

impl CommandFrame {
    /// A command without data.
    pub fn new(cm: u8, pm: u8) -> Self {
        CommandFrame {
            cm,
            pm,
            data: Vec::new(),
        }
    }

    /// A command with data.
    pub fn with_data(cm: u8, pm: u8, data: Vec<u8>) -> Self {
        CommandFrame { cm, pm, data }
    }

    /// The frame for the unit at `addr`.
    pub fn encode(&self, addr: u8) -> Vec<u8> {
        let mut text = Vec::with_capacity(3 + self.data.len());
        text.extend_from_slice(&[HEADER_COMMAND, self.cm, self.pm]);
        text.extend_from_slice(&self.data);
        wrap(addr, &text)
    }

    /// Parse a command TEXT (what the simulator receives).
    pub fn from_text(text: &[u8]) -> Option<Self> {
        match text {
            [HEADER_COMMAND, cm, pm, data @ ..] => {
                Some(CommandFrame::with_data(*cm, *pm, data.to_vec()))
            }
            _ => None,
        }
    }
}

/// A reply TEXT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyFrame {
    /// 'P': done; the status bytes and any data.
    Positive {
        /// Command byte echoed.
        cm: u8,
        /// Parameter byte echoed.
        pm: u8,
        /// st0 st1 st2 as received.
        status: [u8; 3],
        /// Reply data.
        data: Vec<u8>,
    },
    /// 'N' (or 0x45): refused, with the error code.
    Negative {
        /// Command byte echoed.
        cm: u8,
        /// Parameter byte echoed.
        pm: u8,
        /// e1 e0.
        code: Crt591ErrorCode,
        /// Any data after the code.
        data: Vec<u8>,
    },
}

impl ReplyFrame {
    /// The CM PM the reply echoes.
    pub fn command(&self) -> (u8, u8) {
        match self {
            ReplyFrame::Positive { cm, pm, .. } | ReplyFrame::Negative { cm, pm, .. } => (*cm, *pm),
        }
    }

    /// Decoded status bytes of a positive reply.
    pub fn status(&self) -> Option<Crt591Status> {
        match self {
            ReplyFrame::Positive { status, .. } => Crt591Status::from_bytes(*status),
            ReplyFrame::Negative { .. } => None,
        }
    }

    /// Parse a reply TEXT; accepts both negative headers.
    pub fn decode(text: &[u8]) -> Result<Self, FrameError> {
        match text {
            [HEADER_POSITIVE, cm, pm, s0, s1, s2, data @ ..] => Ok(ReplyFrame::Positive {
                cm: *cm,
                pm: *pm,
                status: [*s0, *s1, *s2],
                data: data.to_vec(),
            }),
            [
                HEADER_NEGATIVE | HEADER_NEGATIVE_ALT,
                cm,
                pm,
                e1,
                e0,
                data @ ..,
            ] => Ok(ReplyFrame::Negative {
                cm: *cm,
                pm: *pm,
                code: Crt591ErrorCode::from_bytes([*e1, *e0]),
                data: data.to_vec(),
            }),
            [header, ..] => Err(FrameError::BadHeader(*header)),
            [] => Err(FrameError::BadLength(0)),
        }
    }

    /// The TEXT of this reply (negative replies with 'N').
    pub fn text(&self) -> Vec<u8> {
        match self {
            ReplyFrame::Positive {
                cm,
                pm,
                status,
                data,
            } => {
                let mut text = vec![HEADER_POSITIVE, *cm, *pm];
                text.extend_from_slice(status);
                text.extend_from_slice(data);
                text
            }
            ReplyFrame::Negative { cm, pm, code, data } => {
                let mut text = vec![HEADER_NEGATIVE, *cm, *pm];
                text.extend_from_slice(&code.to_bytes());
                text.extend_from_slice(data);
                text
            }
        }
    }

    /// The whole frame for the unit at `addr`.
    pub fn encode(&self, addr: u8) -> Vec<u8> {
        wrap(addr, &self.text())
    }
}

/// Why received bytes are not a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The BCC does not match.
    #[error("bad BCC: expected {expected:#04x}, got {got:#04x}")]
    BadBcc {
        /// Computed.
        expected: u8,
        /// Received.
        got: u8,
    },
    /// The byte after the TEXT is not ETX.
    #[error("no ETX after {0} bytes of text")]
    MissingEtx(usize),
    /// LEN is zero or larger than a frame can be.
    #[error("impossible length {0}")]
    BadLength(usize),
    /// The TEXT does not start with 'C', 'P', 'N' or 0x45.
    #[error("unknown header byte {0:#04x}")]
    BadHeader(u8),
}

/// One frame cut out of the byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    /// The ADDR byte.
    pub addr: u8,
    /// The TEXT.
    pub text: Vec<u8>,
}

/// Cuts frames out of a byte stream by LEN. Bytes before an STX are skipped (and counted); a
/// frame with an impossible LEN is dropped one byte at a time so a real frame after it is
/// still found.
#[derive(Debug, Default)]
pub struct FrameAssembler {
    buf: Vec<u8>,
    skipped: usize,
}

impl FrameAssembler {
    /// An empty assembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes waiting that are not a whole frame yet.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    /// Bytes skipped because they were not inside a frame.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Forget everything buffered.
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Take the next bytes outside any frame that sit before the next STX (ACK, NAK, …): the
    /// leading byte if it is not STX.
    pub fn take_control_byte(&mut self) -> Option<u8> {
        match self.buf.first() {
            Some(&b) if b != STX => {
                self.buf.remove(0);
                Some(b)
            }
            _ => None,
        }
    }

    /// The next whole frame, `Some(Err(_))` for a corrupt one (consumed), `None` when more
    /// bytes are needed.
    pub fn next_frame(&mut self) -> Option<Result<RawFrame, FrameError>> {
        loop {
            let start = self.buf.iter().position(|&b| b == STX);
            match start {
                None => {
                    self.skipped += self.buf.len();
                    self.buf.clear();
                    return None;
                }
                Some(n) if n > 0 => {
                    self.skipped += n;
                    self.buf.drain(..n);
                }
                Some(_) => {}
            }
            if self.buf.len() < 4 {
                return None;
            }
            let len = usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]]));
            if len == 0 || len + OVERHEAD > MAX_FRAME {
                self.buf.remove(0);
                self.skipped += 1;
                if self.buf.is_empty() {
                    return Some(Err(FrameError::BadLength(len)));
                }
                continue;
            }
            let total = len + OVERHEAD;
            if self.buf.len() < total {
                return None;
            }
            let frame: Vec<u8> = self.buf.drain(..total).collect();
            if frame[4 + len] != ETX {
                return Some(Err(FrameError::MissingEtx(len)));
            }
            let expected = bcc(&frame[..total - 1]);
            let got = frame[total - 1];
            if expected != got {
                return Some(Err(FrameError::BadBcc { expected, got }));
            }
            return Some(Ok(RawFrame {
                addr: frame[1],
                text: frame[4..4 + len].to_vec(),
            }));
        }
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

    /// Every command frame published in the reference's command table (ADDR 00).
    #[test]
    fn command_frames_match_the_reference() {
        let published: &[(u8, u8, &str)] = &[
            (0x30, 0x33, "F2 00 00 03 43 30 33 03 B2"),
            (0x30, 0x30, "F2 00 00 03 43 30 30 03 B1"),
            (0x30, 0x31, "F2 00 00 03 43 30 31 03 B0"),
            (0x31, 0x30, "F2 00 00 03 43 31 30 03 B0"),
            (0x31, 0x31, "F2 00 00 03 43 31 31 03 B1"),
            (0x32, 0x30, "F2 00 00 03 43 32 30 03 B3"),
            (0x32, 0x31, "F2 00 00 03 43 32 31 03 B2"),
            (0x32, 0x32, "F2 00 00 03 43 32 32 03 B1"),
            (0x32, 0x33, "F2 00 00 03 43 32 33 03 B0"),
            (0x32, 0x39, "F2 00 00 03 43 32 39 03 BA"),
            // "…43 33 30 03 B2" / "…43 33 31 03 B3": the elided head is F2 00 00 03.
            (0x33, 0x30, "F2 00 00 03 43 33 30 03 B2"),
            (0x33, 0x31, "F2 00 00 03 43 33 31 03 B3"),
            (0x50, 0x30, "F2 00 00 03 43 50 30 03 D1"),
            (0xA2, 0x30, "F2 00 00 03 43 A2 30 03 23"),
            (0xA4, 0x30, "F2 00 00 03 43 A4 30 03 25"),
            (0xA5, 0x30, "F2 00 00 03 43 A5 30 03 24"),
        ];
        for &(cm, pm, frame) in published {
            assert_eq!(
                CommandFrame::new(cm, pm).encode(0x00),
                hex(frame),
                "command {cm:02X} {pm:02X}"
            );
        }
    }

    /// Every reply frame published in the reference's example table.
    #[test]
    fn reply_frames_match_the_reference() {
        let status = ReplyFrame::Positive {
            cm: 0x31,
            pm: 0x30,
            status: *b"011",
            data: vec![],
        };
        assert_eq!(status.encode(0), hex("F2 00 00 06 50 31 30 30 31 31 03 96"));
        let moved = ReplyFrame::Positive {
            cm: 0x32,
            pm: 0x32,
            status: *b"220",
            data: vec![],
        };
        assert_eq!(moved.encode(0), hex("F2 00 00 06 50 32 32 32 32 30 03 97"));
        let empty = ReplyFrame::Negative {
            cm: 0x32,
            pm: 0x32,
            code: Crt591ErrorCode::StackerEmpty,
            data: vec![],
        };
        assert_eq!(empty.encode(0), hex("F2 00 00 05 4E 32 32 41 30 03 CB"));
        let init = ReplyFrame::Positive {
            cm: 0x30,
            pm: 0x33,
            status: *b"020",
            data: b"CRT-591-M001".to_vec(),
        };
        assert_eq!(
            init.encode(0),
            hex("F2 00 00 12 50 30 33 30 32 30 43 52 54 2D 35 39 31 2D 4D 30 30 31 03 86")
        );
    }

    #[test]
    fn published_replies_decode() {
        let mut assembler = FrameAssembler::new();
        assembler.push(&hex("F2 00 00 06 50 31 30 30 31 31 03 96"));
        assembler.push(&hex("F2 00 00 05 4E 32 32 41 30 03 CB"));
        let status = ReplyFrame::decode(&assembler.next_frame().expect("frame").expect("ok").text)
            .expect("reply");
        let decoded = status.status().expect("status bytes");
        assert_eq!(decoded.card, crate::cardwriter::report::CardPosition::None);
        assert_eq!(decoded.stack, crate::cardwriter::report::StackLevel::Low);
        let negative =
            ReplyFrame::decode(&assembler.next_frame().expect("frame").expect("ok").text)
                .expect("reply");
        assert_eq!(
            negative,
            ReplyFrame::Negative {
                cm: 0x32,
                pm: 0x32,
                code: Crt591ErrorCode::StackerEmpty,
                data: vec![]
            }
        );
        assert!(assembler.next_frame().is_none());
    }

    #[test]
    fn both_negative_headers_are_accepted() {
        for header in [HEADER_NEGATIVE, HEADER_NEGATIVE_ALT] {
            let frame = wrap(0, &[header, 0x32, 0x33, b'A', b'1']);
            let mut assembler = FrameAssembler::new();
            assembler.push(&frame);
            let raw = assembler.next_frame().expect("frame").expect("valid");
            match ReplyFrame::decode(&raw.text).expect("reply") {
                ReplyFrame::Negative { code, .. } => assert_eq!(code, Crt591ErrorCode::BinFull),
                other => panic!("not negative: {other:?}"),
            }
        }
        assert_eq!(
            ReplyFrame::decode(&[0x51, 0x31, 0x30, 0x30, 0x30, 0x30]),
            Err(FrameError::BadHeader(0x51))
        );
    }

    #[test]
    fn data_containing_etx_is_framed_by_length() {
        let reply = ReplyFrame::Positive {
            cm: 0x60,
            pm: 0x33,
            status: *b"220",
            data: vec![0x03, 0x03, 0xF2, 0x90, 0x00],
        };
        let frame = reply.encode(0);
        let mut assembler = FrameAssembler::new();
        // Byte by byte, with garbage in front.
        assembler.push(&[0x00, 0x99]);
        for b in &frame {
            assert!(assembler.next_frame().is_none());
            assembler.push(&[*b]);
        }
        let raw = assembler.next_frame().expect("frame").expect("valid");
        assert_eq!(ReplyFrame::decode(&raw.text).expect("reply"), reply);
        assert_eq!(assembler.skipped(), 2);
    }

    #[test]
    fn corrupt_frames_are_reported_and_skipped() {
        let mut frame = CommandFrame::new(0x31, 0x30).encode(0);
        let last = frame.len() - 1;
        frame[last] ^= 0xFF;
        let mut assembler = FrameAssembler::new();
        assembler.push(&frame);
        assert!(matches!(
            assembler.next_frame(),
            Some(Err(FrameError::BadBcc { .. }))
        ));
        let mut no_etx = CommandFrame::new(0x31, 0x30).encode(0);
        no_etx[7] = 0x00;
        assembler.push(&no_etx);
        assert_eq!(assembler.next_frame(), Some(Err(FrameError::MissingEtx(3))));
        // An impossible LEN is skipped and the valid frame behind it found.
        assembler.push(&[STX, 0x00, 0xFF, 0xFF]);
        assembler.push(&CommandFrame::new(0x31, 0x30).encode(0));
        let raw = assembler.next_frame().expect("frame").expect("valid");
        assert_eq!(
            CommandFrame::from_text(&raw.text),
            Some(CommandFrame::new(0x31, 0x30))
        );
    }

    #[test]
    fn control_bytes_before_a_frame_are_taken_one_by_one() {
        let mut assembler = FrameAssembler::new();
        assembler.push(&[ACK]);
        assembler.push(&CommandFrame::new(0x31, 0x30).encode(0));
        assert_eq!(assembler.take_control_byte(), Some(ACK));
        assert_eq!(assembler.take_control_byte(), None);
        assert!(assembler.next_frame().expect("frame").is_ok());
    }
}

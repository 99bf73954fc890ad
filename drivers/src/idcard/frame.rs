//! GA/T 467 SAM frames (reference §1.2):
//! `AA AA AA 96 69 | LEN_H LEN_L | body… | CHK`, LEN counting body + CHK, CHK the XOR of LEN
//! and body. Host frames carry `CMD PARA DATA…`, replies `SW1 SW2 SW3 DATA…`.

use super::sam_status::SamStatus;

/// The 5-byte preamble of every frame.
pub const PREAMBLE: [u8; 5] = [0xAA, 0xAA, 0xAA, 0x96, 0x69];

/// Largest LEN accepted (the longest reply, 30 10 with a full fingerprint, is 0x090A).
pub const MAX_LEN: usize = 0x1000;

/// XOR of the LEN bytes and the body, the value of the CHK byte.
pub fn checksum(len: u16, body: &[u8]) -> u8 {
    let [hi, lo] = len.to_be_bytes();
    body.iter().fold(hi ^ lo, |acc, b| acc ^ b)
}

/// Encode a frame around `body` (computing LEN and CHK).
pub fn encode_frame(body: &[u8]) -> Vec<u8> {
    let len = u16::try_from(body.len() + 1).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(PREAMBLE.len() + 2 + body.len() + 1);
    out.extend_from_slice(&PREAMBLE);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    out.push(checksum(len, body));
    out
}

/// A host → SAM command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command {
    /// Command byte.
    pub cmd: u8,
    /// Parameter byte.
    pub para: u8,
}

impl Command {
    /// 10 FF: reset the SAM.
    pub const RESET_SAM: Command = Command {
        cmd: 0x10,
        para: 0xFF,
    };
    /// 11 FF: SAM status (self-test result).
    pub const SAM_STATUS: Command = Command {
        cmd: 0x11,
        para: 0xFF,
    };
    /// 12 FF: read the SAM module id.
    pub const READ_SAM_ID: Command = Command {
        cmd: 0x12,
        para: 0xFF,
    };
    /// 20 01: find a card.
    pub const FIND_CARD: Command = Command {
        cmd: 0x20,
        para: 0x01,
    };
    /// 20 02: select the card.
    pub const SELECT_CARD: Command = Command {
        cmd: 0x20,
        para: 0x02,
    };
    /// 30 01: read text and photo.
    pub const READ_BASE_INFO: Command = Command {
        cmd: 0x30,
        para: 0x01,
    };

    /// 30 10: read text, photo and fingerprints.
    pub const READ_BASE_INFO_FINGERPRINT: Command = Command {
        cmd: 0x30,
        para: 0x10,
    };
    /// 30 03: read the additional address.
    pub const READ_ADDITIONAL_ADDRESS: Command = Command {
        cmd: 0x30,
        para: 0x03,
    };
    /// 61 FF + 1 data byte: set the maximum RF frame size.
    pub const SET_MAX_RF_BYTES: Command = Command {
        cmd: 0x61,
        para: 0xFF,
    };

    /// 60 nn: set the UART baud rate (nn from [`baud_code`]; reference §1.3, unverified).
    pub fn set_baud(code: u8) -> Command {
        Command {
            cmd: 0x60,
            para: code,
        }
    }

    /// The full frame for this command (no data bytes).
    pub fn encode(self) -> Vec<u8> {
        encode_frame(&[self.cmd, self.para])
    }

    /// The full frame for this command followed by `data`.
    pub fn encode_with(self, data: &[u8]) -> Vec<u8> {
        let mut body = vec![self.cmd, self.para];
        body.extend_from_slice(data);
        encode_frame(&body)
    }
}

/// The 60 nn code for a baud rate: 115200 → 00, 57600 → 01, 38400 → 02, 19200 → 03,
/// 9600 → 04 (GA/T 467 as remembered; unverified on hardware).
pub fn baud_code(baud: u32) -> Option<u8> {
    match baud {
        115_200 => Some(0),
        57_600 => Some(1),
        38_400 => Some(2),
        19_200 => Some(3),
        9_600 => Some(4),
        _ => None,
    }
}

/// The baud rate for a 60 nn code.
pub fn baud_for_code(code: u8) -> Option<u32> {
    [115_200, 57_600, 38_400, 19_200, 9_600]
        .get(usize::from(code))
        .copied()
}

impl Command {
    /// A short name for logs and errors, e.g. `"30 01 read base info"`.
    pub fn name(self) -> &'static str {
        match (self.cmd, self.para) {
            (0x10, 0xFF) => "10 FF reset SAM",
            (0x11, 0xFF) => "11 FF SAM status",
            (0x12, 0xFF) => "12 FF SAM id",
            (0x20, 0x01) => "20 01 find card",
            (0x20, 0x02) => "20 02 select card",
            (0x30, 0x01) => "30 01 read base info",
            (0x30, 0x03) => "30 03 read additional address",
            (0x30, 0x10) => "30 10 read base info + fingerprint",
            (0x61, 0xFF) => "61 FF set max RF bytes",
            (0x60, _) => "60 set baud",
            _ => "unknown command",
        }
    }
}

/// A SAM → host reply: status bytes and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// SW1 (0x00 in every reply seen).
    pub sw1: u8,
    /// SW2 (0x00 in every reply seen).
    pub sw2: u8,
    /// SW3, the status.
    pub sw3: u8,
    /// Data after the status bytes.
    pub data: Vec<u8>,
}

impl Reply {
    /// A reply with the given status and data.
    pub fn new(status: SamStatus, data: Vec<u8>) -> Self {
        Reply {
            sw1: 0,
            sw2: 0,
            sw3: status.code(),
            data,
        }
    }

    /// Parse a frame body as a reply.
    pub fn from_body(body: &[u8]) -> Result<Self, FrameError> {
        match body {
            [sw1, sw2, sw3, data @ ..] => Ok(Reply {
                sw1: *sw1,
                sw2: *sw2,
                sw3: *sw3,
                data: data.to_vec(),
            }),
            _ => Err(FrameError::BadLength(body.len() + 1)),
        }
    }

    /// The full frame for this reply.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(3 + self.data.len());
        body.extend_from_slice(&[self.sw1, self.sw2, self.sw3]);
        body.extend_from_slice(&self.data);
        encode_frame(&body)
    }
}

/// What can be wrong with a received frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// CHK does not match the bytes.
    #[error("frame checksum mismatch: frame says {received:#04x}, bytes give {computed:#04x}")]
    BadChecksum {
        /// The CHK byte received.
        received: u8,
        /// The XOR computed over LEN and body.
        computed: u8,
    },
    /// LEN is impossible (0 or larger than any frame).
    #[error("impossible frame length {0}")]
    BadLength(usize),
}

/// Collects bytes until a whole frame is there, by the preamble and LEN (never by timing).
/// Garbage before a preamble is skipped.
#[derive(Debug, Default)]
pub struct FrameAssembler {
    buffer: Vec<u8>,
    skipped: usize,
}

impl FrameAssembler {
    /// An empty assembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Bytes held that do not form a whole frame yet.
    pub fn pending(&self) -> usize {
        self.buffer.len()
    }

    /// Bytes thrown away while looking for a preamble.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Whether a preamble has been seen (a frame has started).
    pub fn frame_started(&self) -> bool {
        self.buffer.starts_with(&PREAMBLE)
    }

    /// Forget everything held.
    pub fn clear(&mut self) {
        self.buffer.clear();
    }

    /// Take the next whole frame's body, if one is complete. A frame with a bad checksum is
    /// consumed and reported; an impossible LEN makes the assembler resynchronise on the next
    /// preamble.
    pub fn next_frame(&mut self) -> Option<Result<Vec<u8>, FrameError>> {
        loop {
            self.skip_to_preamble();
            if self.buffer.len() < PREAMBLE.len() + 2 {
                return None;
            }
            let len = usize::from(u16::from_be_bytes([self.buffer[5], self.buffer[6]]));
            if len == 0 || len > MAX_LEN {
                // Not a real frame start: drop one byte and look for the next preamble.
                self.buffer.remove(0);
                self.skipped += 1;
                continue;
            }
            let total = PREAMBLE.len() + 2 + len;
            if self.buffer.len() < total {
                return None;
            }
            let frame: Vec<u8> = self.buffer.drain(..total).collect();
            let body = &frame[7..total - 1];
            let received = frame[total - 1];
            let computed = checksum(len as u16, body);
            if received != computed {
                return Some(Err(FrameError::BadChecksum { received, computed }));
            }
            return Some(Ok(body.to_vec()));
        }
    }

    fn skip_to_preamble(&mut self) {
        let start = find_preamble(&self.buffer).unwrap_or_else(|| {
            // Keep a tail that might be the start of a preamble split across reads.
            let keep = (PREAMBLE.len() - 1).min(self.buffer.len());
            let tail_start = self.buffer.len() - keep;
            (tail_start..self.buffer.len())
                .find(|&i| PREAMBLE.starts_with(&self.buffer[i..]))
                .unwrap_or(self.buffer.len())
        });
        if start > 0 {
            self.buffer.drain(..start);
            self.skipped += start;
        }
    }
}

fn find_preamble(bytes: &[u8]) -> Option<usize> {
    bytes.windows(PREAMBLE.len()).position(|w| w == PREAMBLE)
}

/// Parse hex text (spaces, newlines, `0x` prefixes and commas allowed) into bytes.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, HexError> {
    let cleaned: String = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|token| token.trim_start_matches("0x").trim_start_matches("0X"))
        .collect();
    if let Some((position, bad)) = cleaned.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(HexError::BadCharacter {
            character: bad,
            position,
        });
    }
    if !cleaned.len().is_multiple_of(2) {
        return Err(HexError::OddLength(cleaned.len()));
    }
    (0..cleaned.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&cleaned[i..i + 2], 16).map_err(|_| HexError::BadCharacter {
                character: '?',
                position: i,
            })
        })
        .collect()
}

/// Why hex text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    /// A character that is not a hex digit.
    #[error("not a hex digit: {character:?} at digit {position}")]
    BadCharacter {
        /// The offending character.
        character: char,
        /// Its position among the hex digits.
        position: usize,
    },
    /// An odd number of hex digits.
    #[error("odd number of hex digits ({0})")]
    OddLength(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        parse_hex(s).expect("test hex")
    }

    #[test]
    fn commands_match_published_frames() {
        assert_eq!(
            Command::RESET_SAM.encode(),
            hex("AA AA AA 96 69 00 03 10 FF EC")
        );
        assert_eq!(
            Command::SAM_STATUS.encode(),
            hex("AA AA AA 96 69 00 03 11 FF ED")
        );
        assert_eq!(
            Command::READ_SAM_ID.encode(),
            hex("AA AA AA 96 69 00 03 12 FF EE")
        );
        assert_eq!(
            Command::FIND_CARD.encode(),
            hex("AA AA AA 96 69 00 03 20 01 22")
        );
        assert_eq!(
            Command::SELECT_CARD.encode(),
            hex("AA AA AA 96 69 00 03 20 02 21")
        );
        assert_eq!(
            Command::READ_BASE_INFO.encode(),
            hex("AA AA AA 96 69 00 03 30 01 32")
        );
        assert_eq!(
            encode_frame(&[0x30, 0x03]),
            hex("AA AA AA 96 69 00 03 30 03 30")
        );
        assert_eq!(
            encode_frame(&[0x30, 0x10]),
            hex("AA AA AA 96 69 00 03 30 10 23")
        );
        assert_eq!(
            Command::READ_ADDITIONAL_ADDRESS.encode(),
            hex("AA AA AA 96 69 00 03 30 03 30")
        );
        assert_eq!(
            Command::READ_BASE_INFO_FINGERPRINT.encode(),
            hex("AA AA AA 96 69 00 03 30 10 23")
        );
        assert_eq!(
            Command::SET_MAX_RF_BYTES.encode_with(&[0x50]),
            hex("AA AA AA 96 69 00 04 61 FF 50 CA")
        );
        assert_eq!(
            Command::set_baud(0).encode(),
            hex("AA AA AA 96 69 00 03 60 00 63")
        );
        assert_eq!(baud_code(9600).and_then(baud_for_code), Some(9600));
        assert_eq!(baud_code(1200), None);
        assert_eq!(
            encode_frame(&[0x61, 0xFF, 0x50]),
            hex("AA AA AA 96 69 00 04 61 FF 50 CA")
        );
        assert_eq!(
            encode_frame(&[0x60, 0x00]),
            hex("AA AA AA 96 69 00 03 60 00 63")
        );
    }

    #[test]
    fn status_replies_match_published_frames() {
        let cases = [
            (SamStatus::Success, "aaaaaa9669000400009094"),
            (SamStatus::SamSelfTestFailed, "aaaaaa9669000400006064"),
            (SamStatus::FindCardFailed, "aaaaaa9669000400008084"),
            (SamStatus::SelectCardFailed, "aaaaaa9669000400008185"),
            (SamStatus::ReadFailed, "aaaaaa9669000400004145"),
            (SamStatus::NoContent, "aaaaaa9669000400009195"),
            (
                SamStatus::CardAuthenticateSamFailed,
                "aa aa aa 96 69 00 04 00 00 31 35",
            ),
        ];
        for (status, frame) in cases {
            assert_eq!(
                Reply::new(status, vec![]).encode(),
                hex(frame),
                "{status:?}"
            );
        }
        assert_eq!(
            Reply::new(SamStatus::FindCardOk, vec![0; 4]).encode(),
            hex("aaaaaa9669000800009f0000000097")
        );
        assert_eq!(
            Reply::new(SamStatus::Success, vec![0; 8]).encode(),
            hex("aaaaaa9669000c00009000000000000000009c")
        );
    }

    #[test]
    fn read_reply_header_matches_published_prefix() {
        let mut data = vec![0x01, 0x00, 0x04, 0x00];
        data.resize(4 + 256 + 1024, 0x20);
        let frame = Reply::new(SamStatus::Success, data).encode();
        assert_eq!(frame.len(), 1295);
        assert!(frame.starts_with(&hex("aaaaaa9669050800009001000400")));
    }

    #[test]
    fn assembler_resyncs_on_garbage_and_split_reads() {
        let frame = hex("aaaaaa9669000800009f0000000097");
        let mut asm = FrameAssembler::new();
        asm.push(&[0x00, 0xAA, 0x13, 0xAA, 0xAA]);
        assert!(asm.next_frame().is_none());
        asm.push(&frame[..3]);
        assert!(asm.next_frame().is_none());
        asm.push(&frame[3..9]);
        assert!(asm.next_frame().is_none());
        assert!(asm.frame_started());
        asm.push(&frame[9..]);
        let body = asm.next_frame().expect("frame").expect("valid");
        assert_eq!(body, vec![0x00, 0x00, 0x9F, 0, 0, 0, 0]);
        assert_eq!(asm.skipped(), 5);
        assert_eq!(asm.pending(), 0);
    }

    #[test]
    fn assembler_reports_bad_checksum_then_continues() {
        let mut bad = hex("aaaaaa9669000400009094");
        bad[10] ^= 0xFF;
        let good = hex("aaaaaa9669000400008084");
        let mut asm = FrameAssembler::new();
        asm.push(&bad);
        asm.push(&good);
        assert!(matches!(
            asm.next_frame(),
            Some(Err(FrameError::BadChecksum { .. }))
        ));
        assert_eq!(asm.next_frame(), Some(Ok(vec![0, 0, 0x80])));
    }

    #[test]
    fn assembler_skips_impossible_length() {
        let mut bytes = hex("aaaaaa9669 0000");
        bytes.extend(hex("aaaaaa9669000400009094"));
        let mut asm = FrameAssembler::new();
        asm.push(&bytes);
        assert_eq!(asm.next_frame(), Some(Ok(vec![0, 0, 0x90])));
    }

    #[test]
    fn hex_parsing_errors_are_clear() {
        assert_eq!(parse_hex("0xAA, bb\n0C"), Ok(vec![0xAA, 0xBB, 0x0C]));
        assert!(matches!(
            parse_hex("AA BG"),
            Err(HexError::BadCharacter { character: 'G', .. })
        ));
        assert_eq!(parse_hex("AAB"), Err(HexError::OddLength(3)));
    }
}

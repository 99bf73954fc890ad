//! The incremental parser for the scanner's output: command acknowledgements
//! (`02 00 00 LEN DATA… CRC CRC`) and decoded data lines ending in CR, LF or CR LF.

/// Longest line accepted; longer ones are discarded up to the next terminator.
pub const MAX_LINE: usize = 4096;

/// One thing the scanner sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScannerOutput {
    /// A decoded code (UTF-8, or GB18030 when not valid UTF-8). May be personal data: never log it.
    Code(String),
    /// A command response frame (`02 00 00 LEN …`), whole.
    Response(Vec<u8>),
    /// A line longer than [`MAX_LINE`] was thrown away.
    Overlong,
}

/// Feed bytes in, take outputs out. Never panics on any input.
#[derive(Debug, Default)]
pub struct ScanLineParser {
    buffer: Vec<u8>,
    discarding: bool,
}

impl ScanLineParser {
    /// An empty parser.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Bytes held that are not a whole output yet.
    pub fn pending(&self) -> usize {
        self.buffer.len()
    }

    /// Forget everything held.
    pub fn clear(&mut self) {
        self.buffer.clear();
        self.discarding = false;
    }

    /// The next whole output, if there is one.
    pub fn next_output(&mut self) -> Option<ScannerOutput> {
        loop {
            // Terminators left over from CR LF, or empty lines.
            while let Some(&b) = self.buffer.first() {
                if b == b'\r' || b == b'\n' {
                    self.buffer.remove(0);
                    if self.discarding {
                        self.discarding = false;
                        return Some(ScannerOutput::Overlong);
                    }
                } else {
                    break;
                }
            }
            if self.buffer.is_empty() {
                return None;
            }
            if !self.discarding && self.buffer[0] == 0x02 {
                // A response frame: 02 00 00 LEN, LEN data bytes, 2 CRC bytes.
                match self.buffer.get(1..4) {
                    None => return None,
                    Some([0x00, 0x00, len]) => {
                        let total = 4 + usize::from(*len) + 2;
                        if self.buffer.len() < total {
                            return None;
                        }
                        return Some(ScannerOutput::Response(
                            self.buffer.drain(..total).collect(),
                        ));
                    }
                    Some(_) => {} // Not a response: treat as line data.
                }
            }
            match self.buffer.iter().position(|&b| b == b'\r' || b == b'\n') {
                Some(end) if self.discarding => {
                    self.buffer.drain(..end);
                    continue;
                }
                Some(end) => {
                    let line: Vec<u8> = self.buffer.drain(..end).collect();
                    if line.len() > MAX_LINE {
                        return Some(ScannerOutput::Overlong);
                    }
                    return Some(ScannerOutput::Code(decode(&line)));
                }
                None if self.buffer.len() > MAX_LINE => {
                    self.buffer.clear();
                    self.discarding = true;
                    return None;
                }
                None => return None,
            }
        }
    }
}

fn decode(line: &[u8]) -> String {
    match std::str::from_utf8(line) {
        Ok(text) => text.to_owned(),
        Err(_) => encoding_rs::GB18030
            .decode_without_bom_handling(line)
            .0
            .into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(parser: &mut ScanLineParser) -> Vec<ScannerOutput> {
        std::iter::from_fn(|| parser.next_output()).collect()
    }

    #[test]
    fn ack_then_line_in_pieces() {
        let mut p = ScanLineParser::new();
        p.push(&[0x02, 0x00]);
        assert_eq!(p.next_output(), None);
        p.push(&[0x00, 0x01, 0x00, 0x33, 0x31, b'A', b'B']);
        assert_eq!(
            p.next_output(),
            Some(ScannerOutput::Response(super::super::ACK.to_vec()))
        );
        assert_eq!(p.next_output(), None);
        p.push(b"C\r\nDEF\n\n");
        assert_eq!(
            all(&mut p),
            vec![
                ScannerOutput::Code("ABC".into()),
                ScannerOutput::Code("DEF".into())
            ]
        );
        assert_eq!(p.pending(), 0);
    }

    #[test]
    fn gb18030_and_overlong_lines() {
        let mut p = ScanLineParser::new();
        let (gbk, _, _) = encoding_rs::GB18030.encode("预约号A123");
        p.push(&gbk);
        p.push(b"\r");
        assert_eq!(all(&mut p), vec![ScannerOutput::Code("预约号A123".into())]);
        p.push(&vec![b'x'; MAX_LINE + 10]);
        assert_eq!(p.next_output(), None);
        p.push(&[b'y'; 20]);
        p.push(b"\nOK\n");
        assert_eq!(
            all(&mut p),
            vec![ScannerOutput::Overlong, ScannerOutput::Code("OK".into())]
        );
    }
}

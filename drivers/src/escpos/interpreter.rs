//! Splits an ESC/POS byte stream into commands and text, incrementally, so the simulator can
//! answer DLE EOT at once and never mistakes command parameters for text.

/// One item of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamItem {
    /// ESC @.
    Init,
    /// Printable bytes (ASCII or whole GB18030 characters).
    Text(Vec<u8>),
    /// LF: print the line.
    LineFeed,
    /// DLE EOT n: real-time status request.
    StatusRequest(u8),
    /// GS V …: cut.
    Cut,
    /// GS ( k fn 180: QR payload stored.
    QrData(Vec<u8>),
    /// Any other command (styling, feeds, images…).
    Command,
}

/// Incremental ESC/POS parser.
#[derive(Debug, Default)]
pub struct StreamParser {
    pending: Vec<u8>,
}

enum Parse {
    Complete(StreamItem, usize),
    Incomplete,
}

impl StreamParser {
    /// An empty parser.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed bytes; returns every complete item with its raw bytes.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<(StreamItem, Vec<u8>)> {
        self.pending.extend_from_slice(bytes);
        let mut items = Vec::new();
        let mut at = 0;
        while at < self.pending.len() {
            match parse_one(&self.pending[at..]) {
                Parse::Complete(item, used) => {
                    items.push((item, self.pending[at..at + used].to_vec()));
                    at += used;
                }
                Parse::Incomplete => break,
            }
        }
        self.pending.drain(..at);
        items
    }
}

fn need(buf: &[u8], len: usize, item: impl FnOnce(&[u8]) -> StreamItem) -> Parse {
    if buf.len() < len {
        Parse::Incomplete
    } else {
        Parse::Complete(item(&buf[..len]), len)
    }
}

fn command(buf: &[u8], len: usize) -> Parse {
    need(buf, len, |_| StreamItem::Command)
}

fn parse_one(buf: &[u8]) -> Parse {
    match buf[0] {
        0x10 => parse_dle(buf),
        0x1B => parse_esc(buf),
        0x1D => parse_gs(buf),
        0x1C => parse_fs(buf),
        0x0A => Parse::Complete(StreamItem::LineFeed, 1),
        b if b < 0x20 || b == 0x7F => Parse::Complete(StreamItem::Command, 1),
        _ => parse_text(buf),
    }
}

fn parse_dle(buf: &[u8]) -> Parse {
    match buf.get(1) {
        None => Parse::Incomplete,
        Some(0x04) => need(buf, 3, |b| StreamItem::StatusRequest(b[2])),
        Some(0x05) => command(buf, 3),
        Some(0x14) => command(buf, 5),
        Some(_) => Parse::Complete(StreamItem::Command, 1),
    }
}

fn parse_esc(buf: &[u8]) -> Parse {
    let Some(&op) = buf.get(1) else {
        return Parse::Incomplete;
    };
    match op {
        0x40 => Parse::Complete(StreamItem::Init, 2),
        0x70 => command(buf, 5),
        0x24 | 0x42 => command(buf, 4),
        0x63 => command(buf, 4),
        0x2A => {
            // ESC * m nL nH d…: bit image, 1 or 3 bytes per column.
            if buf.len() < 5 {
                return Parse::Incomplete;
            }
            let columns = usize::from(u16::from_le_bytes([buf[3], buf[4]]));
            let per_column = if buf[2] >= 32 { 3 } else { 1 };
            command(buf, 5 + columns * per_column)
        }
        0x32 | 0x3C => command(buf, 2),
        0x21 | 0x2D | 0x33 | 0x45 | 0x47 | 0x4A | 0x4D | 0x52 | 0x56 | 0x20 | 0x61 | 0x64
        | 0x74 | 0x7B => command(buf, 3),
        _ => command(buf, 2),
    }
}

fn parse_gs(buf: &[u8]) -> Parse {
    let Some(&op) = buf.get(1) else {
        return Parse::Incomplete;
    };
    match op {
        0x56 => {
            let Some(&m) = buf.get(2) else {
                return Parse::Incomplete;
            };
            let len = if matches!(m, 0x41 | 0x42 | 0x61 | 0x62 | 0x67 | 0x68) {
                4
            } else {
                3
            };
            need(buf, len, |_| StreamItem::Cut)
        }
        0x28 => {
            if buf.len() < 5 {
                return Parse::Incomplete;
            }
            let len = 5 + usize::from(u16::from_le_bytes([buf[3], buf[4]]));
            need(buf, len, |b| {
                if b[2] == 0x6B && b.len() >= 8 && b[5] == 0x31 && b[6] == 0x50 {
                    StreamItem::QrData(b[8..].to_vec())
                } else {
                    StreamItem::Command
                }
            })
        }
        0x76 => {
            if buf.len() < 8 {
                return Parse::Incomplete;
            }
            let x = usize::from(u16::from_le_bytes([buf[4], buf[5]]));
            let y = usize::from(u16::from_le_bytes([buf[6], buf[7]]));
            command(buf, 8 + x * y)
        }
        0x6B => {
            let Some(&m) = buf.get(2) else {
                return Parse::Incomplete;
            };
            if m <= 6 {
                match buf[3..].iter().position(|&b| b == 0) {
                    Some(nul) => command(buf, 3 + nul + 1),
                    None => Parse::Incomplete,
                }
            } else {
                match buf.get(3) {
                    Some(&n) => command(buf, 4 + usize::from(n)),
                    None => Parse::Incomplete,
                }
            }
        }
        0x4C | 0x57 | 0x24 | 0x5C => command(buf, 4),
        0x21 | 0x42 | 0x48 | 0x49 | 0x61 | 0x66 | 0x68 | 0x72 | 0x77 => command(buf, 3),
        _ => command(buf, 2),
    }
}

fn parse_fs(buf: &[u8]) -> Parse {
    let Some(&op) = buf.get(1) else {
        return Parse::Incomplete;
    };
    match op {
        0x21 | 0x2D | 0x43 | 0x57 => command(buf, 3),
        0x53 | 0x70 => command(buf, 4),
        _ => command(buf, 2),
    }
}

/// Length of the character starting `buf`, or `None` when it is cut off.
fn text_char_len(buf: &[u8]) -> Option<usize> {
    let lead = buf[0];
    if !(0x81..=0xFE).contains(&lead) {
        return Some(1);
    }
    let second = *buf.get(1)?;
    let len = if (0x30..=0x39).contains(&second) {
        4
    } else {
        2
    };
    (buf.len() >= len).then_some(len)
}

fn parse_text(buf: &[u8]) -> Parse {
    let mut at = 0;
    while at < buf.len() && (buf[at] >= 0x20 && buf[at] != 0x7F) {
        match text_char_len(&buf[at..]) {
            Some(len) => at += len,
            None => break,
        }
    }
    if at == 0 {
        Parse::Incomplete
    } else {
        Parse::Complete(StreamItem::Text(buf[..at].to_vec()), at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escpos::receipt::{Cut, QrOptions, ReceiptBuilder};

    fn items(bytes: &[u8]) -> Vec<StreamItem> {
        StreamParser::new()
            .push(bytes)
            .into_iter()
            .map(|(i, _)| i)
            .collect()
    }

    #[test]
    fn parses_a_built_receipt_in_any_split() {
        let receipt = ReceiptBuilder::new()
            .bold(true)
            .line("办理回执")
            .qr("https://example.invalid/q?1", QrOptions::default())
            .expect("qr")
            .cut(Cut::Partial)
            .build();
        let whole = items(receipt.as_bytes());
        for split in 1..receipt.as_bytes().len() {
            let mut parser = StreamParser::new();
            let mut got: Vec<StreamItem> = parser
                .push(&receipt.as_bytes()[..split])
                .into_iter()
                .map(|(i, _)| i)
                .collect();
            got.extend(
                parser
                    .push(&receipt.as_bytes()[split..])
                    .into_iter()
                    .map(|(i, _)| i),
            );
            let joined: Vec<u8> = got
                .iter()
                .filter_map(|i| match i {
                    StreamItem::Text(t) => Some(t.clone()),
                    _ => None,
                })
                .flatten()
                .collect();
            assert_eq!(
                joined,
                crate::escpos::receipt::encode_gb18030("办理回执"),
                "split {split}"
            );
            assert!(got.contains(&StreamItem::Cut), "split {split}");
        }
        assert!(whole.contains(&StreamItem::QrData(b"https://example.invalid/q?1".to_vec())));
        assert_eq!(whole.first(), Some(&StreamItem::Init));
    }

    #[test]
    fn status_request_is_seen_between_commands() {
        let got = items(&[0x1B, 0x45, 0x10, 0x10, 0x04, 0x04, 0x41]);
        // ESC E 0x10 is a command whose parameter happens to be 0x10; then DLE EOT 4.
        assert_eq!(
            got,
            vec![
                StreamItem::Command,
                StreamItem::StatusRequest(4),
                StreamItem::Text(vec![0x41])
            ]
        );
    }
}

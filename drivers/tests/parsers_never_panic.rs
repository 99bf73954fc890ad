//! Property-style robustness: thousands of random and mutated inputs to every parser, from a
//! small seeded PRNG (deterministic, no extra dependencies). No parser may panic, random bytes
//! never yield an identity, and after garbage the next good frame is still read. The same
//! parsers are `cargo fuzz` targets in `drivers/fuzz/`.

use kiosk_drivers::escpos::interpreter::StreamParser;
use kiosk_drivers::idcard::base_info::{decode_any_reply, join_base_info};
use kiosk_drivers::idcard::frame::{FrameAssembler, PREAMBLE, Reply};
use kiosk_drivers::idcard::text_block::parse_card;
use kiosk_drivers::idcard::{SamStatus, TestCard};
use kiosk_drivers::qr::ScanLineParser;

/// xorshift64*: enough randomness for mutation, identical on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
    /// Flip, overwrite, insert, delete or truncate a few bytes.
    fn mutate(&mut self, input: &[u8]) -> Vec<u8> {
        let mut out = input.to_vec();
        for _ in 0..=self.below(4) {
            let at = self.below(out.len() + 1);
            match self.below(5) {
                0 if at < out.len() => out[at] ^= 1 << self.below(8),
                1 if at < out.len() => out[at] = self.next() as u8,
                2 => out.insert(at, self.next() as u8),
                3 if at < out.len() => {
                    out.remove(at);
                }
                _ => out.truncate(at),
            }
        }
        out
    }
}

fn cards() -> Vec<TestCard> {
    [
        "demo-resident.toml",
        "demo-hk-permit.toml",
        "demo-foreigner-2017.toml",
        "demo-foreigner-2023.toml",
    ]
    .iter()
    .map(|name| {
        TestCard::load(format!(
            "{}/../kiosk-config/cards/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("card")
    })
    .collect()
}

#[test]
fn text_block_parsers_survive_random_and_mutated_blocks() {
    let mut rng = Rng(0x5EED_0001);
    for _ in 0..3000 {
        let block = rng.bytes(256);
        assert!(
            parse_card(&block, &[]).is_err(),
            "random block became an identity"
        );
    }
    for card in cards() {
        let block = card.text_block().expect("block");
        assert!(parse_card(&block, &card.photo_wlt()).is_ok());
        for _ in 0..3000 {
            let _ = parse_card(&rng.mutate(&block), &[]);
        }
    }
}

#[test]
fn frame_assembler_and_reply_decoder_survive_garbage_and_then_read_a_good_frame() {
    let mut rng = Rng(0x5EED_0002);
    let card = &cards()[0];
    let good = Reply::new(
        SamStatus::Success,
        join_base_info(&card.text_block().expect("block"), &card.photo_wlt()),
    )
    .encode();
    let status = Reply::new(SamStatus::FindCardFailed, vec![]).encode();
    for round in 0..3000 {
        let garbage = if round % 2 == 0 {
            {
                let n = rng.below(300);
                rng.bytes(n)
            }
        } else {
            rng.mutate(if round % 4 == 1 { &good } else { &status })
        };
        let mut assembler = FrameAssembler::new();
        // Feed garbage in random chunks; decode whatever frames come out.
        let mut rest = garbage.as_slice();
        while !rest.is_empty() {
            let n = 1 + rng.below(rest.len());
            assembler.push(&rest[..n]);
            rest = &rest[n..];
            while let Some(frame) = assembler.next_frame() {
                if let Ok(body) = frame
                    && let Ok(reply) = Reply::from_body(&body)
                {
                    let _ = decode_any_reply(&reply);
                }
            }
        }
        // Garbage then a good frame: the good frame is read, unless the garbage holds a
        // preamble whose LEN swallows it (a driver gives such a frame up at the command's
        // deadline and starts the next command with drained input and a fresh assembler).
        let mut assembler = FrameAssembler::new();
        assembler.push(&garbage);
        assembler.push(&status);
        let mut found = false;
        while let Some(frame) = assembler.next_frame() {
            if frame.as_deref() == Ok(&status[7..10]) {
                found = true;
            }
        }
        let garbage_has_preamble = garbage.windows(5).any(|w| w == PREAMBLE);
        assert!(
            found || garbage_has_preamble,
            "round {round}: good frame lost after garbage"
        );
        let mut fresh = FrameAssembler::new();
        fresh.push(&status);
        assert_eq!(fresh.next_frame(), Some(Ok(status[7..10].to_vec())));
    }
}

#[test]
fn qr_line_parser_survives_random_bytes() {
    let mut rng = Rng(0x5EED_0003);
    for _ in 0..3000 {
        let mut parser = ScanLineParser::new();
        let bytes = {
            let n = rng.below(600);
            rng.bytes(n)
        };
        let mut rest = bytes.as_slice();
        while !rest.is_empty() {
            let n = 1 + rng.below(rest.len());
            parser.push(&rest[..n]);
            rest = &rest[n..];
            while parser.next_output().is_some() {}
        }
        parser.push(b"\nAFTER\n");
        let outputs: Vec<_> = std::iter::from_fn(|| parser.next_output()).collect();
        assert!(
            outputs.iter().any(
                |o| matches!(o, kiosk_drivers::qr::ScannerOutput::Code(c) if c.ends_with("AFTER"))
            ),
            "{outputs:?}"
        );
    }
}

#[test]
fn escpos_stream_parser_survives_random_bytes() {
    let mut rng = Rng(0x5EED_0004);
    for _ in 0..3000 {
        let mut parser = StreamParser::new();
        let bytes = {
            let n = rng.below(400);
            rng.bytes(n)
        };
        let mut rest = bytes.as_slice();
        while !rest.is_empty() {
            let n = 1 + rng.below(rest.len());
            let _ = parser.push(&rest[..n]);
            rest = &rest[n..];
        }
    }
}

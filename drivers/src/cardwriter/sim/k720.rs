//! The K720 side of the simulator: ACK/NAK, ENQ for the result, "AP" with the live status
//! characters, movements answered `'P' CM PM` (or `'N' CM PM ERR` with the status error bits
//! set; the reply to movements is the simulator's choice, see the driver's note).

use super::state::{CardWriterFault, DispenserState, MoveError, MoveFlags, Place};
use crate::cardwriter::k720::frame::{
    ACK, ENQ, K720Address, K720Assembler, K720Framing, K720Item, NAK, control, encode,
};
use crate::cardwriter::k720::status::K720Status;
use crate::cardwriter::report::{BinLevel, CardPosition, StackLevel};

/// The firmware version the simulated unit reports.
pub const SIM_K720_FIRMWARE: &str = "TTCE_K720_V2.00";

pub(crate) struct K720Front {
    assembler: K720Assembler,
    framing: K720Framing,
    address: K720Address,
    pending: Option<Vec<u8>>,
}

impl K720Front {
    pub fn new(address: u8) -> Self {
        let framing = K720Framing::WithLength;
        K720Front {
            assembler: K720Assembler::new(framing),
            framing,
            address: K720Address::new(address.min(15)).unwrap_or(K720Address::new(0).expect("0")),
            pending: None,
        }
    }

    pub fn on_bytes(&mut self, bytes: &[u8], state: &mut DispenserState) -> Vec<u8> {
        self.assembler.push(bytes);
        let ours = Some(self.address.digits());
        let mut out = Vec::new();
        while let Some(item) = self.assembler.next_item() {
            match item {
                K720Item::Control { byte: ENQ, address } if address == ours => {
                    if let Some(reply) = self.pending.take() {
                        out.extend(reply);
                    }
                }
                K720Item::Control { .. } => {}
                K720Item::Corrupt(_) => out.extend(control(self.framing, self.address, NAK)),
                K720Item::Frame { address, .. } if address != ours => {}
                K720Item::Frame { text, .. } => {
                    if let Some(CardWriterFault::Nak(n)) =
                        state.take_fault(|f| matches!(f, CardWriterFault::Nak(_)))
                    {
                        if n > 1 {
                            state.faults.push_front(CardWriterFault::Nak(n - 1));
                        }
                        out.extend(control(self.framing, self.address, NAK));
                        continue;
                    }
                    out.extend(control(self.framing, self.address, ACK));
                    let command = String::from_utf8_lossy(&text).into_owned();
                    state.commands.push(command.clone());
                    state.tick();
                    let reply = execute(state, &command);
                    self.pending = if state
                        .take_fault(|f| *f == CardWriterFault::Silence)
                        .is_some()
                    {
                        None
                    } else {
                        let mut frame = encode(self.framing, self.address, &reply);
                        if state
                            .take_fault(|f| *f == CardWriterFault::GarbledReply)
                            .is_some()
                        {
                            let middle = frame.len() / 2;
                            frame[middle] ^= 0x20;
                        }
                        Some(frame)
                    };
                }
            }
        }
        out
    }
}

/// The four "SF" status characters of the state.
pub(crate) fn status_of(state: &DispenserState) -> K720Status {
    let bit = |on: bool, value: u8| if on { value } else { 0 };
    let flags = state.flags;
    let b1 = bit(state.bin_level() == BinLevel::Full, 0x08)
        | bit(flags.cannot_execute, 0x04)
        | bit(flags.prepare_failed, 0x02);
    let b2 = bit(flags.dispense_error, 0x02) | bit(flags.capture_error, 0x01);
    let b3 = bit(state.jammed, 0x02) | bit(state.stack_level() == StackLevel::Low, 0x01);
    let b4 = bit(state.stack_level() == StackLevel::Empty, 0x08)
        | match state.card_position() {
            CardPosition::None => 0,
            CardPosition::AtGate => 0x04,
            CardPosition::Inside => 0x03,
        };
    K720Status {
        chars: [0x30 | b1, 0x30 | b2, 0x30 | b3, 0x30 | b4],
    }
}

fn execute(state: &mut DispenserState, command: &str) -> Vec<u8> {
    let head: Vec<u8> = command.as_bytes().iter().take(2).copied().collect();
    let movement = |state: &mut DispenserState, result: Result<(), MoveError>, capture: bool| {
        let mut reply = Vec::new();
        match result {
            Ok(()) => {
                reply.push(b'P');
                reply.extend_from_slice(&head);
            }
            Err(error) => {
                let flags = &mut state.flags;
                match error {
                    MoveError::StackEmpty => {
                        flags.prepare_failed = true;
                        flags.dispense_error = true;
                    }
                    MoveError::BinFull => flags.capture_error = true,
                    MoveError::Jam if capture => flags.capture_error = true,
                    MoveError::Jam => flags.dispense_error = true,
                    MoveError::NoCard | MoveError::NotInitialised => flags.cannot_execute = true,
                }
                reply.push(b'N');
                reply.extend_from_slice(&head);
                reply.push(b'1');
            }
        }
        reply
    };
    let is_motion = matches!(
        command,
        "DC" | "FC7" | "FC6" | "FC4" | "FC0" | "FC8" | "CP" | "DB"
    );
    if is_motion {
        state.flags = MoveFlags::default();
    }
    match command {
        "AP" => status_of(state).text(),
        "RF" => {
            // Three characters: card position, stack, bin (the simulator's own layout; the
            // reference does not give the basic status bytes).
            let s = status_of(state);
            vec![s.chars[3], s.chars[2], s.chars[0]]
        }
        "GV" => SIM_K720_FIRMWARE.as_bytes().to_vec(),
        "RS" => {
            state.entry = None;
            let result = state.initialise();
            movement(state, result, false)
        }
        "DC" => {
            let result = state.move_to_encoder().and_then(|()| state.move_to_gate());
            movement(state, result, false)
        }
        "FC7" | "FC6" => {
            let result = state.move_to_encoder();
            movement(state, result, false)
        }
        "FC4" => {
            let result = if state.channel.is_none() {
                state.move_to_encoder().and_then(|()| state.move_to_gate())
            } else {
                state.move_to_gate()
            };
            movement(state, result, false)
        }
        "FC0" => {
            let result = match state.channel {
                Some((_, Place::Gate)) => {
                    state.take_card();
                    Ok(())
                }
                Some(_) => state.move_to_gate(),
                None => state.move_to_encoder().and_then(|()| state.move_to_gate()),
            };
            movement(state, result, false)
        }
        "FC8" => {
            state.entry = Some(Place::Inside);
            state.tick();
            movement(state, Ok(()), false)
        }
        "CP" => {
            let result = state.capture();
            movement(state, result, true)
        }
        "DB" => {
            let result = state.back_to_box();
            movement(state, result, false)
        }
        "BE" | "BD" => movement(state, Ok(()), false),
        c if c.starts_with("CS") || c.starts_with("FD") || c.starts_with("LP") => {
            movement(state, Ok(()), false)
        }
        _ => {
            state.flags.cannot_execute = true;
            let mut reply = vec![b'N'];
            reply.extend_from_slice(&head);
            reply.push(b'0');
            reply
        }
    }
}

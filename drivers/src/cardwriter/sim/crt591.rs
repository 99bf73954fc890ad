//! The CRT-591 side of the simulator: ACK/NAK handshake, the commands of
//! [`crate::cardwriter::crt591::command`], replies with the live status bytes, and negative
//! replies with the reference's error codes.

use super::state::{CardWriterFault, DispenserState, IoError, MoveError, Place};
use crate::cardwriter::crt591::codes::{Crt591ErrorCode as Code, Crt591Status};
use crate::cardwriter::crt591::command::{self as cmd, MifareOp, SW_FAILED, SW_OK};
use crate::cardwriter::crt591::frame::{ACK, CommandFrame, FrameAssembler, NAK, ReplyFrame};

/// The firmware version the simulated unit reports.
pub const SIM_FIRMWARE: &str = "CRT-591-M001";

pub(crate) struct Crt591Front {
    assembler: FrameAssembler,
    addr: u8,
}

impl Crt591Front {
    pub fn new(addr: u8) -> Self {
        Crt591Front {
            assembler: FrameAssembler::new(),
            addr,
        }
    }

    /// Handle received bytes; returns what to send back.
    pub fn on_bytes(&mut self, bytes: &[u8], state: &mut DispenserState) -> Vec<u8> {
        self.assembler.push(bytes);
        let mut out = Vec::new();
        loop {
            // The host's ACK after a reply, or EOT: nothing to answer.
            while self.assembler.take_control_byte().is_some() {}
            let raw = match self.assembler.next_frame() {
                None => break,
                Some(Err(_)) => {
                    out.push(NAK);
                    continue;
                }
                Some(Ok(raw)) => raw,
            };
            if raw.addr != self.addr {
                continue;
            }
            let Some(command) = CommandFrame::from_text(&raw.text) else {
                out.push(NAK);
                continue;
            };
            if let Some(CardWriterFault::Nak(n)) =
                state.take_fault(|f| matches!(f, CardWriterFault::Nak(_)))
            {
                if n > 1 {
                    state.faults.push_front(CardWriterFault::Nak(n - 1));
                }
                out.push(NAK);
                continue;
            }
            out.push(ACK);
            state
                .commands
                .push(format!("{:02X} {:02X}", command.cm, command.pm));
            if state
                .take_fault(|f| *f == CardWriterFault::Silence)
                .is_some()
            {
                continue;
            }
            state.tick();
            let mut frame = reply_to(state, &command).encode(self.addr);
            if state
                .take_fault(|f| *f == CardWriterFault::GarbledReply)
                .is_some()
            {
                let middle = frame.len() / 2;
                frame[middle] ^= 0x20;
            }
            out.extend(frame);
        }
        out
    }
}

fn status_bytes(state: &DispenserState) -> [u8; 3] {
    Crt591Status {
        card: state.card_position(),
        stack: state.stack_level(),
        bin: state.bin_level(),
    }
    .to_bytes()
}

fn move_code(error: MoveError) -> Code {
    match error {
        MoveError::NotInitialised => Code::NotReset,
        MoveError::Jam => Code::CardJam,
        MoveError::StackEmpty => Code::StackerEmpty,
        MoveError::BinFull => Code::BinFull,
        MoveError::NoCard => Code::SequenceError,
    }
}

fn io_code(error: IoError, activation: bool) -> Code {
    match (error, activation) {
        (IoError::NoCard | IoError::Chip, true) => Code::ActivationFailed,
        (IoError::NoCard | IoError::NotActive, false) => Code::CardNotActivated,
        (IoError::NotActive, true) => Code::CardNotActivated,
        (IoError::Chip, false) => Code::TransmissionError,
    }
}

fn reply_to(state: &mut DispenserState, command: &CommandFrame) -> ReplyFrame {
    let (cm, pm) = (command.cm, command.pm);
    let result: Result<Vec<u8>, Code> = match cmd::Crt591Command::lookup(cm, pm) {
        Some(c) if c == cmd::INIT_KEEP || c == cmd::INIT_TO_GATE || c == cmd::INIT_CAPTURE => {
            let mut result = state.initialise().map_err(move_code);
            if result.is_ok() && state.channel.is_some() {
                if c == cmd::INIT_TO_GATE {
                    result = state.move_to_gate().map_err(move_code);
                } else if c == cmd::INIT_CAPTURE {
                    result = state.capture().map_err(move_code);
                }
            }
            result.map(|()| SIM_FIRMWARE.as_bytes().to_vec())
        }
        Some(cmd::STATUS) => Ok(vec![]),
        Some(cmd::SENSORS) => Ok(match state.channel {
            None => b"00000000".to_vec(),
            Some((_, Place::Gate)) => b"11000000".to_vec(),
            Some((_, Place::Inside)) => b"00111000".to_vec(),
        }),
        Some(cmd::MOVE_HOLD | cmd::MOVE_IC | cmd::MOVE_RF) => {
            state.move_to_encoder().map(|()| vec![]).map_err(move_code)
        }
        Some(cmd::CAPTURE) => state.capture().map(|()| vec![]).map_err(move_code),
        Some(cmd::EJECT) => state.move_to_gate().map(|()| vec![]).map_err(move_code),
        Some(cmd::ENTRY_ENABLE) => {
            state.entry = Some(Place::Gate);
            state.tick();
            Ok(vec![])
        }
        Some(cmd::ENTRY_DISABLE) => {
            state.entry = None;
            Ok(vec![])
        }
        Some(cmd::DETECT_IC | cmd::DETECT_RF) => match state.channel {
            // The reply layout is not in the reference; the simulator answers 'M' (Mifare)
            // for RF and 'C' (CPU) for IC.
            Some((_, Place::Inside)) => Ok(vec![if pm == 0x31 { b'M' } else { b'C' }]),
            _ => Err(Code::CardNotActivated),
        },
        Some(c) if c == cmd::CPU_COLD_RESET || c == cmd::CPU_WARM_RESET => {
            if c == cmd::CPU_COLD_RESET && !matches!(command.data[..], [b'0' | b'3' | b'5']) {
                Err(Code::ParameterError)
            } else {
                state
                    .chip_power_on()
                    .map(|atr| {
                        let mut data = vec![b'0'];
                        data.extend(atr);
                        data
                    })
                    .map_err(|e| io_code(e, true))
            }
        }
        Some(cmd::CPU_POWER_OFF) => {
            state.chip_power_off();
            Ok(vec![])
        }
        Some(cmd::CPU_STATUS) => Ok(vec![]),
        Some(cmd::CPU_APDU | cmd::CPU_APDU_T0 | cmd::CPU_APDU_T1) => {
            if !(4..=261).contains(&command.data.len()) {
                Err(Code::ParameterError)
            } else {
                state
                    .chip_apdu(&command.data)
                    .map_err(|e| io_code(e, false))
            }
        }
        Some(cmd::RF_ACTIVATE) => state
            .rf_activate()
            .map(|uid| {
                let mut data = vec![b'M', 0x00, 0x04, 4];
                data.extend_from_slice(&uid);
                data.push(0x08);
                data
            })
            .map_err(|e| io_code(e, true)),
        Some(cmd::RF_DEACTIVATE) => {
            state.rf_deactivate();
            Ok(vec![])
        }
        Some(cmd::RF_STATUS) => Ok(vec![]),
        Some(cmd::MIFARE) => mifare(state, &command.data),
        Some(cmd::TYPE_A_APDU | cmd::TYPE_B_APDU) => Err(Code::NotSupportedByCurrentCard),
        Some(cmd::SERIAL_NUMBER) => Ok(b"SIM591000001".to_vec()),
        Some(cmd::CONFIG) => Ok(b"0".to_vec()),
        Some(cmd::FIRMWARE) => Ok(SIM_FIRMWARE.as_bytes().to_vec()),
        Some(cmd::BIN_COUNTER_READ) => Ok(state.bin_counter.to_string().into_bytes()),
        Some(cmd::BIN_COUNTER_SET) => match std::str::from_utf8(&command.data)
            .ok()
            .and_then(|s| s.parse().ok())
        {
            Some(n) => {
                state.bin_counter = n;
                Ok(vec![])
            }
            None => Err(Code::ParameterError),
        },
        _ => Err(Code::UndefinedCommand),
    };
    match result {
        Ok(data) => ReplyFrame::Positive {
            cm,
            pm,
            status: status_bytes(state),
            data,
        },
        Err(code) => ReplyFrame::Negative {
            cm,
            pm,
            code,
            data: vec![],
        },
    }
}

fn mifare(state: &mut DispenserState, data: &[u8]) -> Result<Vec<u8>, Code> {
    let Some(op) = MifareOp::decode(data) else {
        return Err(Code::ParameterError);
    };
    let with_sw = |mut data: Vec<u8>, ok: bool| {
        data.extend_from_slice(if ok { &SW_OK } else { &SW_FAILED });
        data
    };
    match op {
        MifareOp::VerifyKey { sector, key } => state
            .mifare_auth(sector, &key)
            .map(|ok| with_sw(vec![], ok)),
        MifareOp::Read { sector, block, len } => state
            .mifare_read(sector, block, usize::from(len) / 16)
            .map(|data| match data {
                Some(data) if usize::from(len) % 16 == 0 => with_sw(data, true),
                _ => with_sw(vec![], false),
            }),
        MifareOp::Write {
            sector,
            block,
            data,
        } => state
            .mifare_write(sector, block, &data)
            .map(|ok| with_sw(vec![], ok)),
    }
    .map_err(|e| io_code(e, false))
}

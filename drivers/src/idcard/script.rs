//! Scripting the ID card simulator from a TOML file: cards placed and removed over time,
//! faults injected, the reader unplugged and plugged back.
//!
//! ```toml
//! # Cards are test-card TOML files, relative to this script.
//! [cards]
//! resident = "../cards/demo-resident.toml"
//! permit = "../cards/demo-hk-permit.toml"
//!
//! [[step]]
//! after_ms = 300            # wait this long after the previous step (default 0)
//! action = "place"
//! card = "resident"
//!
//! [[step]]
//! after_ms = 2000
//! action = "remove"
//!
//! [[step]]
//! action = "fault"
//! fault = "status"          # bad_checksum | truncated | silence | garbage | status | delay
//! sw3 = 0x41                # for "status": any SW3 byte, also outside the table
//! command = "30 01"         # optional: only the next reply to this command
//!
//! [[step]]
//! action = "unplug"         # then "replug"; also "self_test_failed" with failed = true
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Deserialize;

use super::frame::{Command, parse_hex};
use super::sam_status::SamStatus;
use super::simulator::{IdCardSimulator, InjectedFault, SimulatorError};
use super::test_card::{TestCard, TestCardError};

/// Why a script could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The file could not be read.
    #[error("cannot read simulator script {path}: {source}")]
    Read {
        /// File path.
        path: String,
        /// I/O error.
        source: std::io::Error,
    },
    /// The TOML is invalid.
    #[error("invalid simulator script: {0}")]
    Toml(#[from] toml::de::Error),
    /// A step is inconsistent.
    #[error("simulator script step {step}: {reason}")]
    BadStep {
        /// 1-based step number.
        step: usize,
        /// What is wrong.
        reason: String,
    },
    /// A card file is unusable.
    #[error("simulator script card {name}: {source}")]
    Card {
        /// The card's name in `[cards]`.
        name: String,
        /// Why.
        source: TestCardError,
    },
    /// The simulator failed (replug).
    #[error(transparent)]
    Simulator(#[from] SimulatorError),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptFile {
    #[serde(default)]
    cards: BTreeMap<String, String>,
    #[serde(default)]
    step: Vec<StepFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFile {
    #[serde(default)]
    after_ms: u64,
    action: String,
    card: Option<String>,
    fault: Option<String>,
    sw3: Option<u8>,
    command: Option<String>,
    delay_ms: Option<u64>,
    garbage: Option<String>,
    failed: Option<bool>,
}

/// One scripted step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptStep {
    /// Put this card on the reader.
    Place(Box<TestCard>),
    /// Take the card away.
    Remove,
    /// Inject a fault into the next reply (to `command`, if given).
    Fault {
        /// The fault.
        fault: InjectedFault,
        /// Only for the next reply to this command.
        command: Option<Command>,
    },
    /// Make 11 FF report a failed self-test, or stop doing so.
    SelfTestFailed(bool),
    /// Unplug the reader.
    Unplug,
    /// Plug it back in.
    Replug,
}

/// A loaded script: steps, each after a delay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatorScript {
    /// (wait before, step).
    pub steps: Vec<(Duration, ScriptStep)>,
}

impl SimulatorScript {
    /// Load a script file; card paths are relative to its folder.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ScriptError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScriptError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::from_toml_str(&text, &base)
    }

    /// Parse a script; card paths are relative to `base`.
    pub fn from_toml_str(text: &str, base: &Path) -> Result<Self, ScriptError> {
        let file: ScriptFile = toml::from_str(text)?;
        let mut cards = BTreeMap::new();
        for (name, card_path) in &file.cards {
            let full: PathBuf = base.join(card_path);
            let card = TestCard::load(&full).map_err(|source| ScriptError::Card {
                name: name.clone(),
                source,
            })?;
            card.text_block().map_err(|source| ScriptError::Card {
                name: name.clone(),
                source,
            })?;
            cards.insert(name.clone(), card);
        }
        let mut steps = Vec::with_capacity(file.step.len());
        for (i, step) in file.step.into_iter().enumerate() {
            let bad = |reason: String| ScriptError::BadStep {
                step: i + 1,
                reason,
            };
            let action = match step.action.as_str() {
                "place" => {
                    let name = step.card.ok_or_else(|| bad("place needs card".into()))?;
                    let card = cards
                        .get(&name)
                        .ok_or_else(|| bad(format!("no card {name:?} in [cards]")))?;
                    ScriptStep::Place(Box::new(card.clone()))
                }
                "remove" => ScriptStep::Remove,
                "unplug" => ScriptStep::Unplug,
                "replug" => ScriptStep::Replug,
                "self_test_failed" => ScriptStep::SelfTestFailed(step.failed.unwrap_or(true)),
                "fault" => {
                    let command = match &step.command {
                        None => None,
                        Some(text) => match parse_hex(text).as_deref() {
                            Ok([cmd, para]) => Some(Command {
                                cmd: *cmd,
                                para: *para,
                            }),
                            _ => return Err(bad(format!("command {text:?} is not two hex bytes"))),
                        },
                    };
                    let fault = match step.fault.as_deref() {
                        Some("bad_checksum") => InjectedFault::BadChecksum,
                        Some("truncated") => InjectedFault::Truncated,
                        Some("silence") => InjectedFault::Silence,
                        Some("garbage") => {
                            let hex = step.garbage.as_deref().unwrap_or("00 FF 13 AA AA");
                            InjectedFault::LeadingGarbage(
                                parse_hex(hex).map_err(|e| bad(format!("garbage: {e}")))?,
                            )
                        }
                        Some("status") => {
                            let sw3 = step.sw3.ok_or_else(|| bad("status needs sw3".into()))?;
                            match SamStatus::from_code(sw3) {
                                Some(status) => InjectedFault::Status(status),
                                None => InjectedFault::RawStatus(sw3),
                            }
                        }
                        Some("delay") => InjectedFault::Delay(Duration::from_millis(
                            step.delay_ms
                                .ok_or_else(|| bad("delay needs delay_ms".into()))?,
                        )),
                        other => return Err(bad(format!("unknown fault {other:?}"))),
                    };
                    ScriptStep::Fault { fault, command }
                }
                other => return Err(bad(format!("unknown action {other:?}"))),
            };
            steps.push((Duration::from_millis(step.after_ms), action));
        }
        Ok(SimulatorScript { steps })
    }

    /// Run every step on `simulator`, sleeping between them. Blocks until the last step.
    pub fn run(&self, simulator: &mut IdCardSimulator) -> Result<(), ScriptError> {
        for (wait, step) in &self.steps {
            std::thread::sleep(*wait);
            match step {
                ScriptStep::Place(card) => {
                    simulator
                        .place_card(card)
                        .map_err(|source| ScriptError::Card {
                            name: "placed".to_owned(),
                            source,
                        })?
                }
                ScriptStep::Remove => simulator.remove_card(),
                ScriptStep::Fault {
                    fault,
                    command: Some(command),
                } => simulator.inject_for(*command, fault.clone()),
                ScriptStep::Fault {
                    fault,
                    command: None,
                } => simulator.inject(fault.clone()),
                ScriptStep::SelfTestFailed(failed) => simulator.set_self_test_failed(*failed),
                ScriptStep::Unplug => simulator.unplug(),
                ScriptStep::Replug => simulator.replug()?,
            }
        }
        Ok(())
    }

    /// Run the script on its own thread; the simulator is handed back when it ends.
    pub fn run_in_background(
        self,
        mut simulator: IdCardSimulator,
    ) -> JoinHandle<(IdCardSimulator, Result<(), ScriptError>)> {
        std::thread::spawn(move || {
            let result = self.run(&mut simulator);
            (simulator, result)
        })
    }
}

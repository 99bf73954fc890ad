//! The `kiosk` command line: the terminal itself, the headless demo, and maintenance commands.
//! Every failure is one line on stderr and exit code 2 (bad input) or 1 (a journey failed).

mod cardwriter;
mod face;
mod printer;

use crate::demo::run::{run_headless, run_window};
use clap::{Parser, Subcommand};
use kiosk_drivers::idcard::base_info::decode_any_reply_hex;
use kiosk_drivers::idcard::{
    IdCardError, IdCardReader, IdCardSimulator, ReaderTimeouts, SimulatorScript, TestCard,
};
use kiosk_drivers::qr::{QrScanner, ScanMode};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(name = "kiosk", version, about = "e政务 self-service kiosk terminal")]
pub struct Cli {
    /// Kiosk configuration file.
    #[arg(long, default_value = "kiosk-config/demo.toml", global = true)]
    config: PathBuf,
    /// Walk every demo journey through the real UI without a display.
    #[arg(long)]
    headless: bool,
    /// Folder for the headless demo's screenshots and transcript.json.
    #[arg(long, default_value = "shots")]
    shots: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// ID-card reader tools.
    Idcard {
        #[command(subcommand)]
        command: IdcardCommand,
    },
    /// QR scanner tools.
    Qr {
        #[command(subcommand)]
        command: QrCommand,
    },
    /// Health, faults, consumables, disinfection and device summary as JSON (remote support;
    /// no personal data).
    Diag {
        /// Also open each configured device briefly and read its state (stop the kiosk app
        /// first: it holds the ports).
        #[arg(long)]
        probe: bool,
    },
    /// Receipt printer (serial path or tcp://host:9100) or A4 printer (ipp://…) tools.
    Printer {
        #[command(subcommand)]
        command: PrinterCommand,
    },
    /// Card dispenser / reader-writer tools (Creator CRT-591, TTCE K720).
    Cardwriter {
        #[command(subcommand)]
        command: CardwriterCommand,
    },
    /// Face check tools: compare two pictures, evaluate a folder of identities.
    Face {
        #[command(subcommand)]
        command: FaceCommand,
    },
    /// Device simulators on pseudo-terminals.
    Sim {
        #[command(subcommand)]
        command: SimCommand,
    },
}

#[derive(Subcommand, Debug)]
enum IdcardCommand {
    /// Parse a captured "read base info" reply (hex text, spaces allowed) and print its fields
    /// as JSON, masked.
    Decode {
        file: PathBuf,
        /// Print name, ID number and address unmasked (for the card holder's own support case).
        #[arg(long)]
        unmasked: bool,
    },
    /// Read the card on a real reader once and print its fields as JSON, masked.
    Read {
        #[arg(long)]
        port: String,
        #[arg(long, default_value_t = 115_200)]
        baud: u32,
        /// How long to wait for a card to be placed, in seconds.
        #[arg(long, default_value_t = 30)]
        wait: u64,
        #[arg(long)]
        unmasked: bool,
    },
}

#[derive(Subcommand, Debug)]
enum PrinterCommand {
    /// Read the printer's state (paper, cover, cutter, queue) and print it as JSON; exit code 1
    /// when the printer cannot print.
    Status {
        #[arg(long)]
        port: String,
        #[arg(long, default_value_t = 38_400)]
        baud: u32,
    },
    /// Print a test receipt (or an A4 test page for ipp://) and print the state afterwards.
    Test {
        #[arg(long)]
        port: String,
        #[arg(long, default_value_t = 38_400)]
        baud: u32,
    },
}

#[derive(Subcommand, Debug)]
enum FaceCommand {
    /// Detect the faces on two pictures and compare them: detections, quality issues,
    /// distance, threshold and decision as JSON. Exit code 0 = same person, 1 = not (or not
    /// exactly one face on each).
    Compare {
        a: PathBuf,
        b: PathBuf,
        /// Grey border in pixels added around each picture first (tight face crops need
        /// context for the detector, e.g. 50).
        #[arg(long, default_value_t = 0)]
        pad: u32,
        /// Folder with the face models (default: the ones in the source tree).
        #[arg(long)]
        models: Option<PathBuf>,
    },
    /// Every genuine and impostor pair of `DIR/<identity>/*.jpg` (or `DIR/identities/…`),
    /// the simulated ID photo of each image against the others, and the detector on
    /// `DIR/nonfaces/`: counts, distance distributions, false accepts and rejects at the
    /// threshold, as JSON. Exit code 0 when there are no errors.
    Eval {
        dir: PathBuf,
        #[arg(long)]
        models: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum CardwriterCommand {
    /// Read the dispenser's state (stack, bin, card position, jam) and print it as JSON; exit
    /// code 1 when it cannot issue cards. A CRT-591 is initialised first (a card in it stays
    /// where it is): only then does it report a jam.
    Status {
        #[arg(long)]
        port: String,
        /// crt591 or k720.
        #[arg(long, default_value = "crt591")]
        model: String,
        /// Baud rate (default: the model's, 9600).
        #[arg(long)]
        baud: Option<u32>,
    },
    /// Test cycle: dispense a blank card, write a test record (item "self-test", holder
    /// "TEST**********0000", valid today, kiosk "CLI"), read it back and verify it, then
    /// capture the card into the bin (a test never hands out a card). Prints each step as
    /// JSON; exit code 1 when a step failed.
    Test {
        #[arg(long)]
        port: String,
        /// crt591 or k720 (a K720 needs a card encoder; none is linked into this tool).
        #[arg(long, default_value = "crt591")]
        model: String,
        #[arg(long)]
        baud: Option<u32>,
        /// Record key file (hex, as on the kiosk). Without it the fixed test key
        /// 000102030405060708090A0B0C0D0E0F is used: test cards only, real kiosks use their
        /// key file.
        #[arg(long)]
        key: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum QrCommand {
    /// Print every code a serial-mode QR scanner reads (continuous mode), one per line.
    Listen {
        #[arg(long)]
        port: String,
        #[arg(long, default_value_t = 9600)]
        baud: u32,
    },
}

#[derive(Subcommand, Debug)]
enum SimCommand {
    /// ID-card reader simulator with a test card; prints the device path it serves.
    Idcard {
        #[arg(long)]
        card: PathBuf,
        /// A scenario to play (cards placed and removed, faults, unplug), see
        /// `drivers/src/idcard/script.rs`.
        #[arg(long)]
        script: Option<PathBuf>,
    },
    /// Receipt printer simulator; prints the device path, then each receipt's text.
    Printer {
        /// Render every receipt as a PNG (576 dots wide) into this folder.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Listen on TCP (e.g. 127.0.0.1:9100) instead of a pseudo-terminal.
        #[arg(long)]
        tcp: Option<String>,
    },
    /// Card dispenser simulator (crt591 or k720); prints the device path, then a line whenever
    /// the stack, the bin or the card position changes.
    Cardwriter {
        #[arg(long, default_value = "crt591")]
        model: String,
        /// Blank cards in the stack.
        #[arg(long, default_value_t = 50)]
        cards: usize,
    },
}

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    init_logging();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kiosk: {e:#}");
            2
        }
    }
}

fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // stderr for the operator; the last lines also for the diagnostics health screen.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(crate::app::recent_log::RecentLogLayer)
        .try_init();
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Some(Command::Idcard {
            command: IdcardCommand::Decode { file, unmasked },
        }) => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let identity = decode_any_reply_hex(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let json = if unmasked {
                identity.full_json()
            } else {
                identity.masked_json()
            };
            println!("{}", serde_json::to_string_pretty(&json)?);
            Ok(0)
        }
        Some(Command::Idcard {
            command:
                IdcardCommand::Read {
                    port,
                    baud,
                    wait,
                    unmasked,
                },
        }) => {
            let mut reader = IdCardReader::open(&port, baud, ReaderTimeouts::default())?;
            let deadline = std::time::Instant::now() + Duration::from_secs(wait);
            let card = loop {
                match reader.read_identity() {
                    Ok(card) => break card,
                    Err(IdCardError::NoCard) if std::time::Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(200));
                    }
                    Err(e) => anyhow::bail!("{port}: {e} ({})", e.zh_message()),
                }
            };
            let json = if unmasked {
                card.full_json()
            } else {
                card.masked_json()
            };
            println!("{}", serde_json::to_string_pretty(&json)?);
            Ok(0)
        }
        Some(Command::Qr {
            command: QrCommand::Listen { port, baud },
        }) => {
            let mut scanner = QrScanner::open(&port, baud, ScanMode::Continuous)?;
            loop {
                if let Some(code) = scanner.scan(Duration::from_secs(3600))? {
                    println!("{code}");
                }
            }
        }
        Some(Command::Diag { probe }) => {
            let config = kiosk_core::config::KioskConfig::load(&cli.config)?;
            let report = crate::diag_report::report(&config, probe)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(0)
        }
        Some(Command::Sim {
            command: SimCommand::Idcard { card, script },
        }) => {
            let script = script
                .map(|path| {
                    SimulatorScript::load(&path)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
                })
                .transpose()?;
            let card =
                TestCard::load(&card).map_err(|e| anyhow::anyhow!("{}: {e}", card.display()))?;
            let mut sim = IdCardSimulator::spawn_with_card(&card)?;
            println!("{}", sim.path());
            if let Some(script) = script {
                script.run(&mut sim)?;
                println!("script finished; serving at {}", sim.path());
            }
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        Some(Command::Sim {
            command: SimCommand::Printer { out, tcp },
        }) => printer::simulate(out, tcp),
        Some(Command::Printer {
            command: PrinterCommand::Status { port, baud },
        }) => printer::status(&port, baud),
        Some(Command::Printer {
            command: PrinterCommand::Test { port, baud },
        }) => printer::test(&port, baud),
        Some(Command::Sim {
            command: SimCommand::Cardwriter { model, cards },
        }) => cardwriter::simulate(&model, cards),
        Some(Command::Face {
            command: FaceCommand::Compare { a, b, pad, models },
        }) => face::compare(&a, &b, pad, models.as_deref()),
        Some(Command::Face {
            command: FaceCommand::Eval { dir, models },
        }) => face::eval(&dir, models.as_deref()),
        Some(Command::Cardwriter {
            command: CardwriterCommand::Status { port, model, baud },
        }) => cardwriter::status(&port, &model, baud),
        Some(Command::Cardwriter {
            command:
                CardwriterCommand::Test {
                    port,
                    model,
                    baud,
                    key,
                },
        }) => cardwriter::test(&port, &model, baud, key.as_deref()),
        None => {
            if let Err(e) = crate::fonts::find_cjk_font() {
                anyhow::bail!("{e}");
            }
            if cli.headless {
                let journeys = run_headless(&cli.config, &cli.shots)?;
                let failed: Vec<_> = journeys.iter().filter(|j| !j.succeeded()).collect();
                for j in &journeys {
                    let note = match (j.succeeded(), j.preview_fps) {
                        (false, _) => j.outcome.clone(),
                        (true, Some(fps)) => format!("face check, camera preview {fps:.1} fps"),
                        (true, None) => String::new(),
                    };
                    println!(
                        "{:<32} {:<2} {:<5} {:<10} {}",
                        j.item_code,
                        j.language,
                        if j.elder_mode { "elder" } else { "" },
                        if j.succeeded() { "ok" } else { "FAILED" },
                        note
                    );
                }
                println!(
                    "{} journeys, {} failed; screenshots and transcript.json in {}",
                    journeys.len(),
                    failed.len(),
                    cli.shots.display()
                );
                Ok(if failed.is_empty() { 0 } else { 1 })
            } else {
                run_window(&cli.config)?;
                Ok(0)
            }
        }
    }
}

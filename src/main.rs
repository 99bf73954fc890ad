//! `kiosk`: the e政务 self-service terminal. See `kiosk --help`.

fn main() {
    std::process::exit(kiosk::cli::main());
}

//! Prints the Argon2id hash of a staff PIN for `[[staff]] pin_hash` in `kiosk.toml`:
//! `cargo run -p kiosk-core --example hash_pin -- 123456`.
fn main() {
    let Some(pin) = std::env::args().nth(1) else {
        eprintln!("usage: hash_pin <PIN of 4 to 12 digits>");
        std::process::exit(2);
    };
    match kiosk_core::staff_auth::hash_pin(&pin) {
        Ok(hash) => println!("{hash}"),
        Err(e) => {
            eprintln!("hash_pin: {e}");
            std::process::exit(2);
        }
    }
}

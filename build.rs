//! Compiles the Slint UI. Slint debug info is always on: the headless demo and the UI tests find
//! elements by their accessible id, which needs it (it adds a few kilobytes).
fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_style("fluent".into())
        .with_debug_info(true);
    if let Err(e) = slint_build::compile_with_config("ui/app.slint", config) {
        eprintln!("Slint compilation failed: {e}");
        std::process::exit(1);
    }
}

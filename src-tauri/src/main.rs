//! `leakwatch-app`: the tray app's entry point (flags, display check, then the Tauri app).

fn main() {
    std::process::exit(leakwatch_app::app::main());
}

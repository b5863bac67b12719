//! `leakwatch-tray`: the resident tray process of Linux (`leakwatch_app::resident`) in a binary
//! that does not link Tauri, GTK or WebKit. `leakwatch-app` execs it when started as a client of
//! the service; it starts `leakwatch-app --window` for the window.

fn main() {
    #[cfg(target_os = "linux")]
    std::process::exit(leakwatch_app::resident::main());
    #[cfg(not(target_os = "linux"))]
    std::process::exit(leakwatch_app::app::main());
}

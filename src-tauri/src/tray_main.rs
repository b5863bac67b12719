//! `leakwatch-tray`: the resident tray process of Linux (`leakwatch_app::resident`) in a binary
//! that does not link Tauri, GTK or WebKit. `leakwatch-app` execs it when started as a client of
//! the service; it starts `leakwatch-app --window` for the window.

fn main() {
    std::process::exit(leakwatch_app::os::tray_main());
}

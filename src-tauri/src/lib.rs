//! The Leakwatch tray app: Tauri glue over the Leakwatch service (or, for `--replay` and
//! `--embedded`, an engine in the app). [`backend`] is where alerts come from (the service's
//! API, or the embedded engine); [`state`] is what the app shows, owned by one thread that
//! [`core`] runs and answers the commands with (all testable without a display); [`app`] wires
//! it to Tauri (window, tray, plugins); [`notify`] shows desktop notifications; [`menu`] is the
//! tray menu as plain data.
//!
//! Processes (Linux, as a client of the service): `leakwatch-app` is the resident tray process
//! of [`os::resident`] (no GTK, WebKit or GL); it starts the window on demand as
//! `leakwatch-app --window`, [`app`]'s Tauri window, which exits when its window closes.
//! `--replay`, `--embedded` and the other systems run [`app`] alone, tray included.

pub mod app;
pub mod args;
pub mod autostart;
pub mod backend;
pub mod commands;
pub mod core;
pub mod first_senders;
pub mod health;
pub mod history;
pub mod menu;
pub mod notify;
pub mod os;
pub mod paths;
pub mod settings;
pub mod state;
pub mod tray;
pub mod views;

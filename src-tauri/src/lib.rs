//! The Leakwatch tray app: Tauri glue over the engine. [`core`] holds everything testable
//! without a display (engine, events, commands); [`app`] wires it to Tauri (window, tray,
//! plugins); [`notify`] shows desktop notifications; [`menu`] is the tray menu as plain data.

pub mod app;
pub mod args;
pub mod commands;
pub mod core;
pub mod history;
pub mod menu;
pub mod notify;
pub mod settings;
pub mod tray;
pub mod views;

//! Leakwatch engine: watches outgoing traffic and says, in plain words, when a program is
//! sending data out.
//!
//! Data flows one way: frames become [`packet::Packet`]s (capture threads), the engine
//! ([`engine`]) accounts them per flow ([`flows`]), runs the detectors ([`detect`]) and
//! publishes [`alert::AlertEvent`]s. Front ends only hold an [`engine::EngineHandle`].

pub mod alert;
pub mod api;
pub mod bounded;
pub mod capture;
pub mod cli;
pub mod compose;
pub mod detect;
pub mod direction;
pub mod engine;
pub mod files;
pub mod flows;
pub mod history;
pub mod i18n;
pub mod ignores;
pub mod judge;
pub mod legacy;
pub mod logging;
pub mod naming;
pub mod os;
pub mod packet;
pub mod parse;
pub mod patterns;
pub mod process;
pub mod service;
pub mod settings;
pub mod text;
pub mod time;

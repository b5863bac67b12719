//! Helpers shared by the integration tests (each test crate uses only part of them).
#![allow(dead_code)]

pub mod synth;

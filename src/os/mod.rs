//! What differs between operating systems, behind plain functions: who is on the other end of a
//! local API connection, users and groups, and signals for a daemon. The rest of the platform
//! code (socket tables, interfaces) still lives with its users and moves here with the Windows
//! and macOS work.

pub mod installed;
#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;

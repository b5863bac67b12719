//! One tray process per session: the first `leakwatch-app` owns the D-Bus name
//! `org.leakwatch.App` on the session bus and serves `Open()` there; a later launch finds the
//! name taken, calls `Open()` (the first one opens its window) and ends. Anyone on the session
//! bus may call `Open()`: it only opens the window.

use super::Event;
use crossbeam_channel::Sender;
use zbus::blocking::Connection;
use zbus::fdo::{RequestNameFlags, RequestNameReply};

pub const BUS_NAME: &str = "org.leakwatch.App";
pub const OBJECT_PATH: &str = "/org/leakwatch/App";
pub const INTERFACE: &str = "org.leakwatch.App";

/// The object served at [`OBJECT_PATH`].
struct Instance(Sender<Event>);

#[zbus::interface(name = "org.leakwatch.App")]
impl Instance {
    /// Opens (or raises) the window.
    fn open(&self) {
        let _ = self.0.send(Event::Open(None));
    }
}

/// Who this process is.
pub enum Claim {
    /// The first: keep the connection (it holds the name).
    First(Connection),
    /// Another process holds the name and was asked to open its window.
    Second,
}

/// Claims the name, or asks its owner to open the window. Errors say what failed (no session
/// bus, …); the caller goes on without single-instance.
pub fn claim(events: Sender<Event>) -> Result<Claim, String> {
    let conn = zbus::blocking::connection::Builder::session()
        .and_then(|b| b.serve_at(OBJECT_PATH, Instance(events)))
        .and_then(|b| b.build())
        .map_err(|e| format!("no D-Bus session bus: {e}"))?;
    let taken = match conn.request_name_with_flags(BUS_NAME, RequestNameFlags::DoNotQueue.into()) {
        Ok(RequestNameReply::PrimaryOwner | RequestNameReply::AlreadyOwner) => false,
        Ok(RequestNameReply::Exists | RequestNameReply::InQueue) | Err(zbus::Error::NameTaken) => true,
        Err(e) => return Err(format!("cannot own {BUS_NAME} on the session bus: {e}")),
    };
    if !taken {
        return Ok(Claim::First(conn));
    }
    conn.call_method(Some(BUS_NAME), OBJECT_PATH, Some(INTERFACE), "Open", &())
        .map_err(|e| format!("Leakwatch already runs ({BUS_NAME} is taken) but did not answer: {e}"))?;
    Ok(Claim::Second)
}

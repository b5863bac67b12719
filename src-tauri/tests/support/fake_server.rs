//! A small fake `org.freedesktop.Notifications` server for a private session bus: records each
//! `Notify` and lets the test emit `ActionInvoked` as the server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use zbus::blocking::Connection;
use zbus::zvariant::OwnedValue;

/// One recorded `Notify` call.
#[derive(Clone, Debug)]
pub struct Notified {
    pub id: u32,
    pub replaces_id: u32,
    pub summary: String,
    pub body: String,
    pub actions: Vec<String>,
}

pub struct FakeServer {
    pub log: Arc<Mutex<Vec<Notified>>>,
    next: u32,
    actions: bool,
    markup: bool,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl FakeServer {
    fn get_capabilities(&self) -> Vec<String> {
        let mut caps = vec!["body".to_string()];
        if self.actions {
            caps.push("actions".into());
        }
        if self.markup {
            caps.push("body-markup".into());
        }
        caps
    }

    #[allow(clippy::too_many_arguments)]
    fn notify(
        &mut self,
        _app_name: String,
        replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        _hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let id = if replaces_id != 0 {
            replaces_id
        } else {
            self.next += 1;
            self.next
        };
        self.log.lock().unwrap().push(Notified { id, replaces_id, summary, body, actions });
        id
    }

    fn close_notification(&self, _id: u32) {}

    fn get_server_information(&self) -> (String, String, String, String) {
        ("fake".into(), "leakwatch-tests".into(), "1".into(), "1.2".into())
    }
}

/// Starts the server on the session bus; returns its connection and its log.
pub fn start(actions: bool) -> (Connection, Arc<Mutex<Vec<Notified>>>) {
    start_with(actions, false)
}

/// [`start`], the server also reading bodies as markup (`body-markup`) when `markup`.
pub fn start_with(actions: bool, markup: bool) -> (Connection, Arc<Mutex<Vec<Notified>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let server = FakeServer { log: log.clone(), next: 0, actions, markup };
    let conn = zbus::blocking::connection::Builder::session()
        .unwrap()
        .name("org.freedesktop.Notifications")
        .unwrap()
        .serve_at("/org/freedesktop/Notifications", server)
        .unwrap()
        .build()
        .unwrap();
    (conn, log)
}

/// Emits `ActionInvoked(id, key)` from `conn` (the server, or an impostor).
pub fn invoke(conn: &Connection, id: u32, key: &str) {
    conn.emit_signal(
        None::<zbus::names::BusName<'_>>,
        "/org/freedesktop/Notifications",
        "org.freedesktop.Notifications",
        "ActionInvoked",
        &(id, key),
    )
    .unwrap();
}

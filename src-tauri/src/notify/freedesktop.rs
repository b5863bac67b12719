//! Linux notifications over D-Bus (`org.freedesktop.Notifications`), spoken directly with zbus.
//!
//! Why not notify-rust here: its listener subscribes to `ActionInvoked` without a sender, so any
//! local program could emit "always_ignore" for our notification and silence Leakwatch; and
//! servers such as GNOME Shell send the signal only to the connection that called `Notify`, so
//! sending and listening must share one connection, which notify-rust keeps private.
//!
//! Every signal is checked: its sender must be the current owner of
//! `org.freedesktop.Notifications` (asked from the bus at that moment), and its id one we got
//! back from `Notify` *from that same owner*. Anything else is dropped.
//!
//! The server can go away and come back (a desktop shell restarting, a notification daemon
//! killed): ids are per server, so ids of a server that left are forgotten — a new server's id 1
//! is not our old notification 1, and a click on some other program's notification there must not
//! ignore one of our alerts. Each notification first asks who owns the name: with no owner it
//! fails at once with a clear error (the app goes on without notifications); with a new owner
//! the old ids are dropped and the capabilities are asked again.

use super::{
    ACTION_ALWAYS_IGNORE, ACTION_DEFAULT, ACTION_IGNORE_NOW, Note, NoteAction, NoteEvent, Notifier, NotifyError,
};
use crossbeam_channel::Sender;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use zbus::blocking::{Connection, MessageIterator};
use zbus::zvariant::Value;

pub const BUS_NAME: &str = "org.freedesktop.Notifications";
pub const OBJECT_PATH: &str = "/org/freedesktop/Notifications";
pub const INTERFACE: &str = "org.freedesktop.Notifications";

/// Notification ids we received from the server (its unique bus name), and the alert each one
/// is about.
#[derive(Debug, Default)]
struct Sent {
    /// The unique name of the server the ids below are from.
    owner: Option<String>,
    by_server_id: HashMap<u32, u64>,
    by_alert: HashMap<u64, u32>,
}

/// Freedesktop notifications with actions, on the session bus.
pub struct FreedesktopNotifier {
    conn: Connection,
    sent: Arc<Mutex<Sent>>,
    actions: bool,
    /// The server reads the body as markup (`body-markup`): text from the network or a process
    /// name (`<a href=…>`) must be escaped to be shown as text.
    markup: bool,
}

/// Whether the server at the other end of `conn` offers action buttons and reads body markup.
fn capabilities(conn: &Connection) -> Result<(bool, bool), NotifyError> {
    let caps: Vec<String> = conn
        .call_method(Some(BUS_NAME), OBJECT_PATH, Some(INTERFACE), "GetCapabilities", &())
        .and_then(|m| m.body().deserialize())
        .map_err(unavailable)?;
    Ok((caps.iter().any(|c| c == "actions"), caps.iter().any(|c| c == "body-markup")))
}

/// `s` as text inside notification body markup (`&`, `<`, `>` as entities).
pub fn escape_markup(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn unavailable(e: impl std::fmt::Display) -> NotifyError {
    NotifyError::Unavailable(e.to_string())
}

impl FreedesktopNotifier {
    /// Connects to the session bus, asks the server's capabilities and starts listening for
    /// actions (delivered on `events`).
    pub fn connect(events: Sender<NoteEvent>) -> Result<FreedesktopNotifier, NotifyError> {
        let conn = Connection::session().map_err(unavailable)?;
        FreedesktopNotifier::on(conn, events)
    }

    /// The same on a given connection (tests use a private bus).
    pub fn on(conn: Connection, events: Sender<NoteEvent>) -> Result<FreedesktopNotifier, NotifyError> {
        let (actions, markup) = capabilities(&conn)?;
        let sent = Arc::new(Mutex::new(Sent { owner: current_owner(&conn), ..Sent::default() }));
        let rule = zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .interface(INTERFACE)
            .and_then(|b| b.path(OBJECT_PATH))
            .map_err(unavailable)?
            .build();
        let iter = MessageIterator::for_match_rule(rule, &conn, Some(64)).map_err(unavailable)?;
        let (c, s) = (conn.clone(), sent.clone());
        std::thread::Builder::new()
            .name("leakwatch-notify".into())
            .spawn(move || listen(iter, &c, &s, &events))
            .map_err(unavailable)?;
        Ok(FreedesktopNotifier { conn, sent, actions, markup })
    }
}

impl FreedesktopNotifier {
    /// Checks who serves notifications now: none is an error; a new server (restarted) makes
    /// the ids of the old one meaningless, so they are forgotten and its capabilities asked.
    fn check_server(&mut self) -> Result<(), NotifyError> {
        let owner = current_owner(&self.conn)
            .ok_or_else(|| NotifyError::Unavailable(format!("nothing owns {BUS_NAME} on the session bus now")))?;
        let changed = self.sent.lock().map(|s| s.owner.as_deref() != Some(owner.as_str())).unwrap_or(true);
        if changed {
            (self.actions, self.markup) = capabilities(&self.conn)?;
            if let Ok(mut s) = self.sent.lock() {
                *s = Sent { owner: Some(owner), ..Sent::default() };
            }
        }
        Ok(())
    }

    /// Calls `Notify` (replacing notification `replaces` unless 0) and returns the server's id.
    fn notify(&self, replaces: u32, title: &str, body: &str, actions: &[&str]) -> Result<u32, NotifyError> {
        let mut hints: HashMap<&str, Value> = HashMap::new();
        hints.insert("urgency", Value::U8(1));
        hints.insert("desktop-entry", Value::from("leakwatch-app"));
        let reply = self
            .conn
            .call_method(
                Some(BUS_NAME),
                OBJECT_PATH,
                Some(INTERFACE),
                "Notify",
                &("Leakwatch", replaces, "", title, body, actions, hints, -1i32),
            )
            .map_err(|e| match &e {
                // The server left between asking for its name and calling it.
                zbus::Error::MethodError(name, ..)
                    if matches!(
                        name.as_str(),
                        "org.freedesktop.DBus.Error.ServiceUnknown" | "org.freedesktop.DBus.Error.NameHasNoOwner"
                    ) =>
                {
                    unavailable(e)
                }
                _ => NotifyError::Refused(e.to_string()),
            })?;
        reply.body().deserialize().map_err(|e| NotifyError::Refused(e.to_string()))
    }
}

/// The unique name that owns the notification service now.
fn current_owner(conn: &Connection) -> Option<String> {
    conn.call_method(
        Some("org.freedesktop.DBus"),
        "/org/freedesktop/DBus",
        Some("org.freedesktop.DBus"),
        "GetNameOwner",
        &(BUS_NAME,),
    )
    .and_then(|m| m.body().deserialize::<String>())
    .ok()
}

fn listen(iter: MessageIterator, conn: &Connection, sent: &Mutex<Sent>, events: &Sender<NoteEvent>) {
    for msg in iter {
        let Ok(msg) = msg else { continue };
        let header = msg.header();
        let member = header.member().map(|m| m.as_str().to_string()).unwrap_or_default();
        let sender = header.sender().map(|s| s.as_str().to_string());
        match member.as_str() {
            "ActionInvoked" => {
                let Ok((id, key)) = msg.body().deserialize::<(u32, String)>() else { continue };
                let owner = current_owner(conn);
                if let Some(event) = accept(sender.as_deref(), owner.as_deref(), id, &key, sent) {
                    if events.send(event).is_err() {
                        return;
                    }
                } else {
                    tracing::info!(
                        "ignored an ActionInvoked ({key:?} for id {id}) from {}: not from the notification server or not our notification",
                        sender.as_deref().unwrap_or("an unknown sender")
                    );
                }
            }
            "NotificationClosed" => {
                let Ok((id, _reason)) = msg.body().deserialize::<(u32, u32)>() else { continue };
                if sender.is_some()
                    && sender == current_owner(conn)
                    && let Ok(mut s) = sent.lock()
                    && s.owner == sender
                    && let Some(alert) = s.by_server_id.remove(&id)
                {
                    s.by_alert.remove(&alert);
                }
            }
            _ => {}
        }
    }
}

/// The event for an `ActionInvoked(id, key)` from `sender`, or `None` when it must be dropped:
/// the sender is not the service's current owner, the id is not one we sent, or the key is unknown.
fn accept(sender: Option<&str>, owner: Option<&str>, id: u32, key: &str, sent: &Mutex<Sent>) -> Option<NoteEvent> {
    let (sender, owner) = (sender?, owner?);
    if sender != owner || sent.lock().ok()?.owner.as_deref() != Some(owner) {
        return None;
    }
    let alert_id = *sent.lock().ok()?.by_server_id.get(&id)?;
    Some(NoteEvent { alert_id, action: NoteAction::from_key(key)? })
}

impl Notifier for FreedesktopNotifier {
    fn show(&mut self, note: &Note) -> Result<(), NotifyError> {
        self.check_server()?;
        let replaces = self.sent.lock().ok().and_then(|s| s.by_alert.get(&note.alert_id).copied()).unwrap_or(0);
        let actions: Vec<&str> = if self.actions {
            vec![
                ACTION_DEFAULT,
                note.title.as_str(),
                ACTION_IGNORE_NOW,
                note.ignore_now_label.as_str(),
                ACTION_ALWAYS_IGNORE,
                note.always_ignore_label.as_str(),
            ]
        } else {
            Vec::new()
        };
        let body = super::body_for(note, self.actions);
        let body = if self.markup { escape_markup(&body) } else { body };
        let id = self.notify(replaces, &super::title_for(note), &body, &actions)?;
        if let Ok(mut s) = self.sent.lock() {
            if replaces != 0 && replaces != id {
                s.by_server_id.remove(&replaces);
            }
            s.by_server_id.insert(id, note.alert_id);
            s.by_alert.insert(note.alert_id, id);
        }
        Ok(())
    }

    fn supports_actions(&self) -> bool {
        self.actions
    }

    fn inform(&mut self, title: &str, body: &str) -> Result<(), NotifyError> {
        self.check_server()?;
        let body = if self.markup { escape_markup(body) } else { body.to_string() };
        self.notify(0, title, &body, &[]).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_checks_sender_and_id() {
        let sent = Mutex::new(Sent { owner: Some(":1.7".into()), ..Sent::default() });
        sent.lock().unwrap().by_server_id.insert(5, 42);
        let ok = accept(Some(":1.7"), Some(":1.7"), 5, "always_ignore", &sent);
        assert_eq!(ok, Some(NoteEvent { alert_id: 42, action: NoteAction::AlwaysIgnore }));
        assert_eq!(accept(Some(":1.9"), Some(":1.7"), 5, "always_ignore", &sent), None, "spoofed sender");
        assert_eq!(accept(None, Some(":1.7"), 5, "always_ignore", &sent), None, "no sender");
        assert_eq!(accept(Some(":1.7"), None, 5, "always_ignore", &sent), None, "no server");
        assert_eq!(accept(Some(":1.7"), Some(":1.7"), 6, "always_ignore", &sent), None, "not our id");
        assert_eq!(accept(Some(":1.7"), Some(":1.7"), 5, "other", &sent), None, "unknown key");
        // The server was replaced: its ids mean other notifications now.
        assert_eq!(accept(Some(":1.9"), Some(":1.9"), 5, "always_ignore", &sent), None, "ids of an old server");
    }
}

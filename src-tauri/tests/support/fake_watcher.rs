//! A fake `org.kde.StatusNotifierWatcher` for a private session bus (no panel exists under
//! Xvfb): records which bus names registered a tray item, so a test can reach the item's
//! dbusmenu and click its entries with `com.canonical.dbusmenu.Event`, as a panel does.

use std::sync::{Arc, Mutex};
use zbus::blocking::Connection;
use zbus::zvariant::{OwnedValue, Value};

/// Registered items: (service the item gave, unique name of the connection that registered it).
pub type Items = Arc<Mutex<Vec<(String, String)>>>;

pub struct FakeWatcher {
    pub items: Items,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl FakeWatcher {
    fn register_status_notifier_item(&self, service: String, #[zbus(header)] header: zbus::message::Header<'_>) {
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        self.items.lock().unwrap().push((service, sender));
    }

    fn register_status_notifier_host(&self, _service: String) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.items.lock().unwrap().iter().map(|(s, _)| s.clone()).collect()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }
}

/// Starts the watcher on the session bus; returns its connection and the registered items.
pub fn start() -> (Connection, Items) {
    let items = Arc::new(Mutex::new(Vec::new()));
    let conn = zbus::blocking::connection::Builder::session()
        .unwrap()
        .name("org.kde.StatusNotifierWatcher")
        .unwrap()
        .serve_at("/StatusNotifierWatcher", FakeWatcher { items: items.clone() })
        .unwrap()
        .build()
        .unwrap();
    (conn, items)
}

/// One dbusmenu entry: id, label and children.
#[derive(Debug, Clone)]
pub struct MenuEntry {
    pub id: i32,
    pub label: String,
    pub children: Vec<MenuEntry>,
}

/// A `(ia{sv}av)` layout node as a [`MenuEntry`].
fn entry(v: &Value<'_>) -> Option<MenuEntry> {
    let v = match v {
        Value::Value(inner) => inner.as_ref(),
        other => other,
    };
    let Value::Structure(s) = v else { return None };
    let [Value::I32(id), Value::Dict(props), Value::Array(children)] = s.fields() else { return None };
    let label = props
        .iter()
        .find(|(k, _)| matches!(k, Value::Str(k) if k.as_str() == "label"))
        .and_then(|(_, v)| match v {
            Value::Value(b) => match b.as_ref() {
                Value::Str(s) => Some(s.to_string()),
                _ => None,
            },
            Value::Str(s) => Some(s.to_string()),
            _ => None,
        })
        .unwrap_or_default();
    Some(MenuEntry { id: *id, label, children: children.inner().iter().filter_map(entry).collect() })
}

/// The item's whole menu (`GetLayout` of its menu object).
pub fn menu(conn: &Connection, item_owner: &str) -> zbus::Result<MenuEntry> {
    let path: zbus::zvariant::OwnedObjectPath = conn
        .call_method(
            Some(item_owner),
            "/StatusNotifierItem",
            Some("org.freedesktop.DBus.Properties"),
            "Get",
            &("org.kde.StatusNotifierItem", "Menu"),
        )?
        .body()
        .deserialize::<OwnedValue>()?
        .try_into()
        .map_err(zbus::Error::Variant)?;
    let reply = conn.call_method(
        Some(item_owner),
        path.as_str(),
        Some("com.canonical.dbusmenu"),
        "GetLayout",
        &(0i32, -1i32, Vec::<String>::new()),
    )?;
    type Root = (i32, std::collections::HashMap<String, OwnedValue>, Vec<OwnedValue>);
    let (_rev, (id, _props, children)): (u32, Root) = reply.body().deserialize()?;
    Ok(MenuEntry { id, label: String::new(), children: children.iter().filter_map(|c| entry(c)).collect() })
}

/// Finds the entry labelled `label` anywhere in `m`.
pub fn find<'a>(m: &'a MenuEntry, label: &str) -> Option<&'a MenuEntry> {
    if m.label == label {
        return Some(m);
    }
    m.children.iter().find_map(|c| find(c, label))
}

/// Clicks entry `id` of the item's menu, as a panel does.
pub fn click(conn: &Connection, item_owner: &str, id: i32) -> zbus::Result<()> {
    conn.call_method(
        Some(item_owner),
        "/MenuBar",
        Some("com.canonical.dbusmenu"),
        "Event",
        &(id, "clicked", Value::I32(0), 0u32),
    )?;
    Ok(())
}

/// The item's tooltip as a panel reads it: (title, description).
pub fn tooltip(conn: &Connection, item_owner: &str) -> zbus::Result<(String, String)> {
    let v: OwnedValue = conn
        .call_method(
            Some(item_owner),
            "/StatusNotifierItem",
            Some("org.freedesktop.DBus.Properties"),
            "Get",
            &("org.kde.StatusNotifierItem", "ToolTip"),
        )?
        .body()
        .deserialize()?;
    // (icon name, icon pixmaps, title, description)
    type ToolTip = (String, Vec<(i32, i32, Vec<u8>)>, String, String);
    let (_icon, _pixmaps, title, description): ToolTip = v.try_into().map_err(zbus::Error::Variant)?;
    Ok((title, description))
}

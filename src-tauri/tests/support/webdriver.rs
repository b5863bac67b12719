//! A minimal W3C WebDriver client over HTTP/1.1 on loopback (enough for tauri-driver):
//! sessions, finding and clicking elements, attributes, properties and screenshots.

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Session {
    port: u16,
    pub id: String,
}

/// One HTTP exchange. tauri-driver forwards each request to WebKitWebDriver over a pooled
/// keep-alive connection; when WebKitWebDriver has just closed that connection, the forward fails
/// ("client error (SendRequest)") before the request reached it, and we get an empty reply.
/// Such a reply is retried (up to 3 tries); anything else is returned as it is.
fn request(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut resp = Vec::new();
    for attempt in 0..3 {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(300));
        }
        let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
        s.set_read_timeout(Some(Duration::from_secs(60))).ok();
        s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
        resp.clear();
        s.read_to_end(&mut resp).map_err(|e| e.to_string())?;
        if !resp.is_empty() {
            break;
        }
        eprintln!("webdriver: {method} {path}: empty reply from tauri-driver (try {})", attempt + 1);
    }
    let text = String::from_utf8_lossy(&resp);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| format!("{method} {path}: no HTTP reply"))?;
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_string() };
    let v: Value = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
    if let Some(err) = v["value"].get("error") {
        return Err(format!("{err}: {}", v["value"]["message"]));
    }
    Ok(v["value"].clone())
}

fn dechunk(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some((len, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(len.trim(), 16).unwrap_or(0);
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

/// Waits until something listens on `port`.
pub fn wait_port(port: u16, timeout: Duration) -> bool {
    let t = Instant::now();
    while t.elapsed() < timeout {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

impl Session {
    pub fn new(port: u16, application: &str, args: &[String]) -> Result<Session, String> {
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "wry",
            "tauri:options": { "application": application, "args": args }
        }}});
        let v = request(port, "POST", "/session", Some(&caps))?;
        Ok(Session { port, id: v["sessionId"].as_str().ok_or("no session id")?.to_string() })
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        request(self.port, method, &format!("/session/{}{path}", self.id), body)
    }

    pub fn find_all(&self, css: &str) -> Result<Vec<String>, String> {
        let v = self.call("POST", "/elements", Some(&json!({ "using": "css selector", "value": css })))?;
        Ok(v.as_array()
            .map(|a| a.iter().filter_map(|e| e[ELEMENT_KEY].as_str().map(String::from)).collect())
            .unwrap_or_default())
    }

    /// The first element matching `css`, waiting up to `timeout`.
    pub fn wait(&self, css: &str, timeout: Duration) -> Result<String, String> {
        let t = Instant::now();
        loop {
            if let Some(e) = self.find_all(css)?.into_iter().next() {
                return Ok(e);
            }
            if t.elapsed() > timeout {
                return Err(format!("no {css} within {timeout:?}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn click(&self, el: &str) -> Result<(), String> {
        self.call("POST", &format!("/element/{el}/click"), Some(&json!({}))).map(|_| ())
    }

    pub fn attribute(&self, el: &str, name: &str) -> Result<Option<String>, String> {
        Ok(self.call("GET", &format!("/element/{el}/attribute/{name}"), None)?.as_str().map(String::from))
    }

    pub fn property(&self, el: &str, name: &str) -> Result<Value, String> {
        self.call("GET", &format!("/element/{el}/property/{name}"), None)
    }

    /// Runs `script` in the page with `args`.
    pub fn execute(&self, script: &str, args: Value) -> Result<Value, String> {
        self.call("POST", "/execute/sync", Some(&json!({ "script": script, "args": args })))
    }

    /// A PNG screenshot of the window.
    pub fn screenshot(&self) -> Result<Vec<u8>, String> {
        let v = self.call("GET", "/screenshot", None)?;
        base64_decode(v.as_str().ok_or("no screenshot")?)
    }

    pub fn close(self) {
        let _ = self.call("DELETE", "", None);
    }
}

fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b'\n' | b'\r' => continue,
            _ => return Err(format!("bad base64 byte {c}")),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

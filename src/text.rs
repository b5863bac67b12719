//! Text that came from outside (process names, executable paths, host names, TLS names, filters,
//! ignore names, socket lines, file contents) made safe to show: the one escaping rule of every
//! output, and shortening before a text is quoted in a message.
//!
//! The rule ([`safe`]): every control character (C0, DEL, C1), every bidirectional-text control
//! (which can make `exe.txt` display as `txt.exe`), the Unicode line and paragraph separators and
//! the byte-order mark are written as a visible escape, `\u{1b}`; bytes that are not UTF-8
//! ([`safe_bytes`]) are written as `\xff`. Nothing else changes: accents, CJK and emoji stay as
//! they are. Output in JSON is already escaped by its encoder; the rule is for text a person
//! reads (terminal lines, logs, notifications, plain-text socket replies).

use std::borrow::Cow;

/// Whether `c` must not reach a person's screen as it is.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' // Arabic letter mark
                | '\u{200e}' | '\u{200f}' // left-to-right / right-to-left marks
                | '\u{202a}'..='\u{202e}' // embeddings and overrides
                | '\u{2066}'..='\u{2069}' // isolates
                | '\u{2028}' | '\u{2029}' // line and paragraph separators
                | '\u{feff}' // byte-order mark / zero-width no-break space
        )
}

/// `s` with every unsafe character (see [`is_unsafe`]) written as `\u{…}`; borrowed when there
/// is none.
pub fn safe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Bytes from outside (a socket line, a file) as safe text: valid UTF-8 as [`safe`] writes it,
/// every byte that is not part of valid UTF-8 as `\xNN`.
pub fn safe_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(&safe(chunk.valid()));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// `text` cut to at most `max` bytes at a character boundary, followed by `… (N bytes)` when it
/// was longer (so a multi-megabyte regex or filter gives a line a person can read).
pub fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], text.len())
}

/// [`clip`], then [`safe`]: how a text from outside is quoted in a message.
pub fn quote(text: &str, max: usize) -> String {
    safe(&clip(text, max)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_clipped_at_a_character_boundary() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("exactly10!", 10), "exactly10!");
        let long = "é".repeat(100);
        let c = clip(&long, 11);
        assert_eq!(c, format!("{}… (200 bytes)", "é".repeat(5)));
    }

    #[test]
    fn controls_bidi_and_separators_are_escaped_visibly() {
        assert!(matches!(safe("firefox"), Cow::Borrowed("firefox")));
        assert_eq!(safe("a\u{1b}[2Jb\r\n\0"), "a\\u{1b}[2Jb\\u{d}\\u{a}\\u{0}");
        assert_eq!(safe("\u{9b}31m"), "\\u{9b}31m", "C1 CSI");
        assert_eq!(safe("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(safe("\u{2066}x\u{2069}\u{200f}"), "\\u{2066}x\\u{2069}\\u{200f}");
        assert_eq!(safe("a\u{2028}b\u{feff}"), "a\\u{2028}b\\u{feff}");
        assert_eq!(safe("naïve ✓ 日本 🙂"), "naïve ✓ 日本 🙂");
    }

    #[test]
    fn invalid_utf8_is_written_as_hex_bytes() {
        assert_eq!(safe_bytes(b"ok"), "ok");
        assert_eq!(safe_bytes(b"a\xffb\x1b"), "a\\xffb\\u{1b}");
        assert_eq!(safe_bytes("é".as_bytes()), "é");
        assert_eq!(safe_bytes(b"\xc3"), "\\xc3", "a cut multi-byte sequence");
    }

    #[test]
    fn quote_clips_then_escapes() {
        assert_eq!(quote("\u{1b}[2K\u{1b}[1A", 100), "\\u{1b}[2K\\u{1b}[1A");
        assert_eq!(quote(&"x".repeat(50), 10), format!("{}… (50 bytes)", "x".repeat(10)));
    }
}

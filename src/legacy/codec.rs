//! The legacy wire format, without sockets: splitting input into lines (LF, CR or CRLF, at
//! most [`MAX_LINE`] bytes), recognising commands, the fixed reply strings and the framing of
//! replies. Pure and allocation-bounded, so it can be fuzzed and property-tested.

/// The greeting sent on connect.
pub const GREETING: &str = ":::daemon_protocol_start:::";
/// Reply to `ping`.
pub const PINGED: &str = ":::daemon_protocol_pinged:::";
/// Reply to `get_alert` when the queue is empty.
pub const NO_MSG: &str = ":::daemon_protocol_no_msg:::";
/// Sent before the daemon closes a connection.
pub const FINISH: &str = ":::daemon_protocol_finish:::";
/// Reply to anything that is not a command.
pub const UNKNOWN: &str = ":::daemon_protocol_unknown_command:::";
/// Reply to a `delete_user_ignore` that worked.
pub const OK: &str = ":::daemon_protocol_ok:::";
/// Prefix of the reply to a `delete_user_ignore` that did not work (a reason follows).
pub const ERROR: &str = ":::daemon_protocol_error:::";

/// Longest line accepted, in bytes, without its terminator. A longer line closes the
/// connection.
pub const MAX_LINE: usize = 64 * 1024;

/// A client command (one line, trimmed, compared case-insensitively).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Ping,
    GetAlert,
    GetInfo,
    /// The next line is a filter to ignore until restart.
    IgnoreTmp,
    /// The next line is a filter to ignore for ever.
    IgnorePermanent,
    GrabAllUserIgnores,
    /// The next line is an ignore's id or name.
    DeleteUserIgnore,
    /// `quit` or a blank line.
    Quit,
    Unknown,
}

/// Recognises a command line. Invalid UTF-8 is an unknown command.
pub fn parse_command(line: &[u8]) -> Command {
    let Ok(text) = std::str::from_utf8(line) else { return Command::Unknown };
    let word = java_trim(text);
    const TABLE: [(&str, Command); 8] = [
        ("ping", Command::Ping),
        ("get_alert", Command::GetAlert),
        ("get_info", Command::GetInfo),
        ("ignore_tmp", Command::IgnoreTmp),
        ("ignore_permanent", Command::IgnorePermanent),
        ("grab_all_user_ignores", Command::GrabAllUserIgnores),
        ("delete_user_ignore", Command::DeleteUserIgnore),
        ("quit", Command::Quit),
    ];
    if word.is_empty() {
        return Command::Quit;
    }
    TABLE.iter().find(|(name, _)| name.eq_ignore_ascii_case(word)).map_or(Command::Unknown, |&(_, c)| c)
}

/// Java's `String.trim()`: removes every character up to U+0020 at both ends.
pub fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= '\u{20}')
}

/// Frames a reply: the text and `\n`, to go out in one write. The C# client trims, and reads
/// until a read returns fewer than 1024 bytes, so a reply whose length is a multiple of 1024
/// gets one more space before the `\n` (it would otherwise wait for its timeout and
/// disconnect).
pub fn frame(reply: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(reply.len() + 2);
    out.extend_from_slice(reply.as_bytes());
    if (out.len() + 1).is_multiple_of(1024) {
        out.push(b' ');
    }
    out.push(b'\n');
    out
}

/// What the splitter found.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A complete line, without its terminator.
    Line(&'a [u8]),
    /// The current line went over [`MAX_LINE`]: close the connection.
    TooLong,
}

/// Splits a byte stream into lines ended by LF, CR or CRLF (Java `readLine`), holding at most
/// [`MAX_LINE`] bytes of an unfinished line.
#[derive(Debug, Default)]
pub struct LineSplitter {
    /// The unfinished line (never longer than [`MAX_LINE`]).
    partial: Vec<u8>,
    /// Bytes of the current chunk still to split.
    pending: Vec<u8>,
    /// Where splitting resumes in `pending`.
    pos: usize,
    /// The last line ended with CR: an LF right after it belongs to that terminator.
    after_cr: bool,
    /// A complete line is held in `partial` and is handed out by the next call.
    line_ready: bool,
    too_long: bool,
}

impl LineSplitter {
    pub fn new() -> LineSplitter {
        LineSplitter::default()
    }

    /// Hands over a chunk of input; call [`LineSplitter::next_event`] until it gives `None`
    /// before pushing the next chunk.
    pub fn push(&mut self, bytes: &[u8]) {
        self.pending.clear();
        self.pending.extend_from_slice(bytes);
        self.pos = 0;
    }

    /// The next complete line of the input pushed so far, if any.
    pub fn next_event(&mut self) -> Option<Event<'_>> {
        if self.too_long {
            return None;
        }
        if self.line_ready {
            self.line_ready = false;
            self.partial.clear();
        }
        while self.pos < self.pending.len() {
            let rest = &self.pending[self.pos..];
            if self.after_cr {
                self.after_cr = false;
                if rest[0] == b'\n' {
                    self.pos += 1;
                    continue;
                }
            }
            let rest = &self.pending[self.pos..];
            match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(end) => {
                    if self.partial.len() + end > MAX_LINE {
                        self.too_long = true;
                        return Some(Event::TooLong);
                    }
                    append_capped(&mut self.partial, &rest[..end]);
                    self.after_cr = rest[end] == b'\r';
                    self.pos += end + 1;
                    self.line_ready = true;
                    return Some(Event::Line(&self.partial));
                }
                None => {
                    if self.partial.len() + rest.len() > MAX_LINE {
                        self.too_long = true;
                        return Some(Event::TooLong);
                    }
                    append_capped(&mut self.partial, rest);
                    self.pos = self.pending.len();
                }
            }
        }
        None
    }

    /// Whether part of a line has arrived without its terminator.
    pub fn has_partial(&self) -> bool {
        !self.line_ready && !self.partial.is_empty()
    }

    /// Memory held, in bytes (bounded by [`MAX_LINE`] plus the last chunk).
    pub fn buffered(&self) -> usize {
        self.partial.capacity() + self.pending.capacity()
    }
}

/// Appends to a line buffer whose capacity never exceeds [`MAX_LINE`] (the caller has checked
/// the length), doubling as usual below that.
fn append_capped(buf: &mut Vec<u8>, bytes: &[u8]) {
    let needed = buf.len() + bytes.len();
    if needed > buf.capacity() {
        let target = needed.max(buf.capacity() * 2).min(MAX_LINE);
        buf.reserve_exact(target - buf.len());
    }
    buf.extend_from_slice(bytes);
}

/// Splits all of `input` at once (tests and fuzzing): the lines, and whether it ended with a
/// line that was too long.
pub fn split_all(input: &[u8]) -> (Vec<Vec<u8>>, bool) {
    let mut s = LineSplitter::new();
    s.push(input);
    let mut lines = Vec::new();
    while let Some(e) = s.next_event() {
        match e {
            Event::Line(l) => lines.push(l.to_vec()),
            Event::TooLong => return (lines, true),
        }
    }
    (lines, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminators_lf_cr_crlf() {
        assert_eq!(split_all(b"a\nb\rc\r\nd").0, [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
        assert_eq!(split_all(b"\r\n\r\n").0, [b"".to_vec(), b"".to_vec()]);
        assert_eq!(split_all(b"\n\r").0, [b"".to_vec(), b"".to_vec()]);
        // CRLF split across two reads is one terminator.
        let mut s = LineSplitter::new();
        s.push(b"ping\r");
        assert_eq!(s.next_event(), Some(Event::Line(b"ping")));
        assert_eq!(s.next_event(), None);
        s.push(b"\nget_alert\n");
        assert_eq!(s.next_event(), Some(Event::Line(b"get_alert")));
        assert_eq!(s.next_event(), None);
    }

    #[test]
    fn lines_over_the_limit_are_refused_even_in_pieces() {
        let (lines, too_long) = split_all(&vec![b'x'; MAX_LINE]);
        assert!(lines.is_empty() && !too_long);
        let mut ok = vec![b'x'; MAX_LINE];
        ok.push(b'\n');
        assert_eq!(split_all(&ok).0.len(), 1);
        let mut s = LineSplitter::new();
        for _ in 0..MAX_LINE / 1000 + 1 {
            s.push(&[b'y'; 1000]);
            while let Some(e) = s.next_event() {
                assert_eq!(e, Event::TooLong);
            }
        }
        assert!(s.buffered() <= MAX_LINE + 2048);
    }

    #[test]
    fn commands_trim_and_ignore_case() {
        assert_eq!(parse_command(b" PiNg\t"), Command::Ping);
        assert_eq!(parse_command(b"GET_INFO"), Command::GetInfo);
        assert_eq!(parse_command(b"\x01 \x1f"), Command::Quit);
        assert_eq!(parse_command(b""), Command::Quit);
        assert_eq!(parse_command(b"QUIT"), Command::Quit);
        assert_eq!(parse_command(b"pin\xffg"), Command::Unknown);
        assert_eq!(parse_command(b"ping ping"), Command::Unknown);
        assert_eq!(parse_command("ping\u{a0}".as_bytes()), Command::Unknown);
    }

    #[test]
    fn replies_never_fill_whole_1024_byte_blocks() {
        for n in [0, 1, 1022, 1023, 1024, 2046, 2047] {
            let f = frame(&"a".repeat(n));
            assert!(!f.len().is_multiple_of(1024), "{n}");
            assert_eq!(f.last(), Some(&b'\n'));
        }
    }
}

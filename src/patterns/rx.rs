//! Legacy (Java) regex text to a compiled `regex::Regex`: `\Q…\E` quoting, full match,
//! case-insensitive, size-limited; look-around and backreferences refused.

use super::REGEX_SIZE_LIMIT;
use regex::{Regex, RegexBuilder};

/// Rewrites Java regex text into `regex`-crate syntax. `Err` carries the reason.
pub(crate) fn translate(src: &str) -> Result<String, String> {
    let mut out = String::with_capacity(src.len() + 8);
    let mut class_depth = 0usize;
    // True right after `[` or `[^`, where `]` is a literal.
    let mut class_start = false;
    let mut rest = src;
    while let Some(c) = rest.chars().next() {
        if c == '\\' {
            let mut it = rest[1..].chars();
            let Some(n) = it.next() else {
                return Err("trailing backslash".into());
            };
            if n == 'Q' {
                let body = &rest[2..];
                let (lit, skip) = match body.find("\\E") {
                    Some(p) => (&body[..p], p + 2),
                    None => (body, body.len()),
                };
                out.push_str(&regex::escape(lit));
                rest = &body[skip..];
                class_start = false;
                continue;
            }
            if class_depth == 0 && (matches!(n, '1'..='9') || n == 'k') {
                return Err(format!("backreference `\\{n}` is not supported"));
            }
            out.push('\\');
            out.push(n);
            rest = &rest[1 + n.len_utf8()..];
            class_start = false;
            continue;
        }
        if c == '[' {
            // A class opens (or nests, as the regex crate allows): a leading `^` and a `]`
            // right after it are literal parts of the class.
            class_depth += 1;
            class_start = true;
            out.push(c);
            rest = &rest[1..];
            if rest.starts_with('^') {
                out.push('^');
                rest = &rest[1..];
            }
            continue;
        }
        if class_depth > 0 {
            if c == ']' && !class_start {
                class_depth -= 1;
            }
        } else if c == '(' {
            for la in ["(?=", "(?!", "(?<=", "(?<!"] {
                if rest.starts_with(la) {
                    return Err(format!("look-around `{la}` is not supported"));
                }
            }
        }
        class_start = false;
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    Ok(out)
}

/// How big one compiled regex may be: its program (`size`) and its lazy DFA's cache (`dfa`,
/// which grows only while matching; matching happens once per alert, never per packet, so a
/// small cache costs nothing that matters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegexLimits {
    pub size: usize,
    pub dfa: usize,
}

/// Pattern and filter files (the shipped ones, `--patterns`, `--filters`).
pub const FILE_LIMITS: RegexLimits = RegexLimits { size: REGEX_SIZE_LIMIT, dfa: 64 * 1024 };
/// The user's ignores, from any source (file, socket, app, CLI, API): a callback filter's
/// quoted literals compile to well under 1 KiB.
pub const USER_LIMITS: RegexLimits = RegexLimits { size: 64 * 1024, dfa: 8 * 1024 };

/// Translates and compiles `src` as a case-insensitive full match (file limits).
#[cfg(test)]
pub(crate) fn compile(src: &str) -> Result<Regex, String> {
    compile_with(src, FILE_LIMITS).map(|(r, _)| r)
}

/// Translates and compiles `src` within `limits`; also returns a bound on its memory: twice
/// the smallest of 1, 4, 16, 64, 256 KiB and 1 MiB that the program fits in (the program, and
/// the lazy DFA's cache, which matching short field values grows by a few states at most and
/// `limits.dfa` caps). The `regex` crate does not report its size; compiling again with a
/// larger limit costs only the regexes that need it.
pub(crate) fn compile_with(src: &str, limits: RegexLimits) -> Result<(Regex, usize), String> {
    let t = translate(src)?;
    let full = format!("^(?:{t})$");
    let mut size = 1024.min(limits.size);
    loop {
        let built = RegexBuilder::new(&full).case_insensitive(true).size_limit(size).dfa_size_limit(limits.dfa).build();
        match built {
            Ok(r) => return Ok((r, 2 * size)),
            Err(regex::Error::CompiledTooBig(_)) if size < limits.size => size = (size * 4).min(limits.size),
            Err(regex::Error::CompiledTooBig(n)) => {
                return Err(format!("compiled regex exceeds the {n}-byte size limit"));
            }
            Err(e) => return Err(e.to_string().lines().last().unwrap_or("invalid regex").trim().to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::quote_literal;

    fn full(re: &str, s: &str) -> bool {
        compile(re).unwrap().is_match(s)
    }

    #[test]
    fn quoting_is_translated() {
        assert_eq!(translate(r"^\Qa.b\E$").unwrap(), r"^a\.b$");
        assert!(full(r"^\Qcurl\E$", "CURL"));
        assert!(!full(r"^\Qa.b\E$", "axb"));
        assert!(full(r"\Q(x)*", "(x)*"));
        for s in [r"a\Eb", r"\E", r"x\E\Qy\E", r"tail\", "[*]\\E\\E"] {
            let re = format!("^{}$", quote_literal(s));
            assert!(full(&re, s), "{re} should match {s}");
            assert!(!full(&re, &format!("{s}x")));
        }
    }

    #[test]
    fn full_match_and_case_insensitive() {
        assert!(full(".*google.*", "Google LLC"));
        assert!(!full("google", "Google LLC"));
        assert!(full("a|b", "B"));
        assert!(!full("a|b", "ab"));
        assert!(full(r"^[0-9]{1,5}$", "12345"));
        assert!(full(r".*VKontakte\sLtd.*", "vkontakte ltd"));
    }

    #[test]
    fn look_around_and_backreferences_are_refused() {
        for re in [r"^(?!Pattern\.IP).*$", "a(?=b)", "(?<=a)b", "(?<!a)b", r"(a)\1", r"(?<n>a)\k<n>"] {
            assert!(translate(re).is_err(), "{re}");
        }
        // Inside a class or quoted, these are plain characters.
        assert!(translate(r"[(?!]x").is_ok());
        assert!(translate(r"\Q(?=\E").is_ok());
        assert!(translate(r"[]\1]").is_ok());
        assert!(translate(r"(?<name>a)").is_ok());
    }

    #[test]
    fn bad_and_huge_regexes_are_errors() {
        assert!(compile("(").is_err());
        assert!(compile(r"a\").is_err());
        assert!(compile(r"\w{1000}{1000}").is_err());
    }
}

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

/// Translates and compiles `src` as a case-insensitive full match.
pub(crate) fn compile(src: &str) -> Result<Regex, String> {
    let t = translate(src)?;
    RegexBuilder::new(&format!("^(?:{t})$"))
        .case_insensitive(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(n) => format!("compiled regex exceeds the {n}-byte size limit"),
            e => e.to_string().lines().last().unwrap_or("invalid regex").trim().to_owned(),
        })
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

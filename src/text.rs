//! Shortening texts that come from files and clients before they are quoted in a message, so a
//! multi-megabyte regex or filter gives a line a person can read.

/// `text` cut to at most `max` bytes at a character boundary, followed by `… (N bytes)` when it
/// was longer.
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
}

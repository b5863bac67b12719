//! Load errors. Every one names the file; pattern-level ones also name the pattern.

/// Why a pattern or filter file was refused.
#[derive(Debug, thiserror::Error)]
pub enum PatternError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: file is {size} bytes, over the {limit}-byte limit")]
    TooLarge { file: String, size: u64, limit: u64 },
    #[error("{file}: file is empty")]
    Empty { file: String },
    #[error("{file}: not UTF-8 text")]
    NotUtf8 { file: String },
    #[error("{file}:{line}:{column}: not valid JSON: {message}")]
    NotJson { file: String, line: usize, column: usize, message: String },
    /// Unknown key, wrong type, missing required key, missing root key.
    #[error("{file}:{line}:{column}: {message}")]
    Schema { file: String, line: usize, column: usize, message: String },
    /// A semantically invalid entry (missing priority, bad relation-mode, unknown differ-by field).
    #[error("{file}: pattern {pattern:?}: {message}")]
    Invalid { file: String, pattern: String, message: String },
    /// A regex that does not compile or uses an unsupported feature (look-around, backreference).
    #[error("{file}: pattern {pattern:?}, field {field:?}: regex {regex:?}: {reason}")]
    Regex { file: String, pattern: String, field: String, regex: String, reason: String },
    #[error("{file}: relation cycle: {cycle}")]
    Cycle { file: String, cycle: String },
    /// The compiled regexes would take more memory than allowed (a few huge or many big ones).
    #[error(
        "{file}: pattern {pattern:?}: the compiled regexes would take more than {limit} bytes ({used} with this one): \
         use fewer or simpler regexes (quoted literals such as ^\\Qname\\E$ cost almost nothing)"
    )]
    Budget { file: String, pattern: String, used: usize, limit: usize },
}

/// Longest piece of a file's text (a regex, a name, a compiler message) quoted in an error.
pub const QUOTE_MAX: usize = 240;

/// `text` shortened for an error message (see [`crate::text::clip`]).
pub fn clip(text: &str) -> String {
    crate::text::clip(text, QUOTE_MAX)
}

//! Reading and strict deserialisation of pattern and filter files.

use super::{MAX_FILE_BYTES, PatternError};
use serde::Deserialize;
use std::path::Path;

/// One entry, exactly as written in the file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPattern {
    pub name: String,
    #[serde(default)]
    pub pattern: Option<RawConstraints>,
    #[serde(default)]
    pub priority: Option<i64>,
    #[serde(default, rename = "related-patterns")]
    pub related_patterns: Option<String>,
    #[serde(default, rename = "relation-mode")]
    pub relation_mode: Option<String>,
    #[serde(default)]
    pub msg: Option<String>,
    #[serde(default)]
    pub msg_exciter: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// The `"pattern"` object.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConstraints {
    pub pid: Option<String>,
    pub dstip: Option<String>,
    pub srcport: Option<String>,
    pub processname: Option<String>,
    pub orgname: Option<String>,
    pub hostname: Option<String>,
    pub dstport: Option<String>,
    pub asn: Option<String>,
    pub country: Option<String>,
    pub exe: Option<String>,
    pub kind: Option<String>,
    #[serde(rename = "differ-by")]
    pub differ_by: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThreatFile {
    patterns: Vec<RawPattern>,
    #[serde(default)]
    #[allow(dead_code)]
    comment: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FilterFile {
    #[serde(alias = "ignores")]
    filters: Vec<RawPattern>,
    #[serde(default)]
    #[allow(dead_code)]
    comment: Option<String>,
}

/// Reads a file, refusing oversized ones before reading.
pub(crate) fn read(path: &Path) -> Result<String, PatternError> {
    let file = path.display().to_string();
    let io = |source| PatternError::Io { file: file.clone(), source };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_FILE_BYTES {
        return Err(PatternError::TooLarge { file, size, limit: MAX_FILE_BYTES });
    }
    let bytes = crate::files::read_regular(path, MAX_FILE_BYTES).map_err(io)?;
    String::from_utf8(bytes).map_err(|_| PatternError::NotUtf8 { file })
}

fn parse<T: for<'de> Deserialize<'de>>(text: &str, file: &str) -> Result<T, PatternError> {
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(PatternError::TooLarge { file: file.into(), size: text.len() as u64, limit: MAX_FILE_BYTES });
    }
    if text.trim().is_empty() {
        return Err(PatternError::Empty { file: file.into() });
    }
    serde_json::from_str(text).map_err(|e| json_error(&e, file))
}

pub(crate) fn json_error(e: &serde_json::Error, file: &str) -> PatternError {
    let (line, column) = (e.line(), e.column());
    let full = e.to_string();
    let suffix = format!(" at line {line} column {column}");
    let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
    let file = file.to_owned();
    match e.classify() {
        serde_json::error::Category::Data => PatternError::Schema { file, line, column, message },
        _ => PatternError::NotJson { file, line, column, message },
    }
}

pub(crate) fn parse_threats(text: &str, file: &str) -> Result<Vec<RawPattern>, PatternError> {
    parse::<ThreatFile>(text, file).map(|f| f.patterns)
}

pub(crate) fn parse_filters(text: &str, file: &str) -> Result<Vec<RawPattern>, PatternError> {
    parse::<FilterFile>(text, file).map(|f| f.filters)
}

/// One filter object on its own (a callback filter sent back by a client).
pub(crate) fn parse_one(text: &str, file: &str) -> Result<RawPattern, PatternError> {
    parse::<RawPattern>(text, file)
}

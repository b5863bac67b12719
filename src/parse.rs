//! Parsers of the values people write in flags, the service's configuration file and API
//! requests: durations (`90s`, `10m`, `1h`) and port ranges (`5000-5010`). One place, so a value
//! means the same wherever it is written.

/// Parses a port range `A-B` (or one port `A`), 1 ≤ A ≤ B ≤ 65535.
pub fn parse_port_range(s: &str) -> Result<std::ops::RangeInclusive<u16>, String> {
    let s = s.trim();
    let port = |p: &str| -> Result<u16, String> {
        match p.trim().parse::<u16>() {
            Ok(0) | Err(_) => Err(format!("`{s}` is not a port range: write e.g. 5000-5010 (ports 1 to 65535)")),
            Ok(n) => Ok(n),
        }
    };
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (port(a)?, port(b)?),
        None => (port(s)?, port(s)?),
    };
    if a > b {
        return Err(format!("`{s}`: the first port must not be above the last, e.g. 5000-5010"));
    }
    Ok(a..=b)
}

/// Parses `90`, `90s`, `10m`, `1h`, `250ms` into microseconds.
pub fn parse_duration_us(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("`{s}` is not a duration: write e.g. 90s, 10m or 1h"))?;
    let mult = match unit {
        "" | "s" => 1e6,
        "ms" => 1e3,
        "m" | "min" => 60e6,
        "h" => 3600e6,
        _ => return Err(format!("unknown unit `{unit}` in `{s}`: use ms, s, m or h")),
    };
    let us = n * mult;
    if !(0.0..=1e15).contains(&us) {
        return Err(format!("`{s}` is out of range"));
    }
    Ok(us as i64)
}

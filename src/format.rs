//! Human formatting of sizes and durations, the legacy way (`1.3 KB`, HALF_UP rounding).

/// Formats a byte count like the legacy daemon: `< 1024` → `"N B"`, `< 1 MiB` → `"x.y KB"`,
/// else `"x.y MB"`, rounding half up on the exact value (1280 → `1.3 KB`).
pub fn size(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{} KB", tenths_half_up(bytes, 1024))
    } else {
        format!("{} MB", tenths_half_up(bytes, 1024 * 1024))
    }
}

/// `n / unit` with one decimal, rounded half up, computed in integers (no float error).
fn tenths_half_up(n: u64, unit: u64) -> String {
    let n = n as u128;
    let unit = unit as u128;
    let tenths = (n * 10 * 2 + unit) / (unit * 2);
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// Seconds with one decimal, rounded half up like the legacy `%.1f` (8.25 → `8.3`).
pub fn secs(s: f64) -> String {
    format!("{:.1}", (s * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_size_examples() {
        for (n, s) in [
            (700, "700 B"),
            (1023, "1023 B"),
            (1024, "1.0 KB"),
            (1280, "1.3 KB"),
            (48000, "46.9 KB"),
            (1048575, "1024.0 KB"),
            (1048576, "1.0 MB"),
            (2621440, "2.5 MB"),
        ] {
            assert_eq!(size(n), s, "size({n})");
        }
    }
}

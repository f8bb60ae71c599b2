//! Go-style durations (`10ms`, `1.5s`, `1h30m`) as the `/sandbox/...` endpoints, the
//! annotations and `cetus sandbox --latency` spell them, and their rendering back.

use std::time::Duration;

/// A duration that is not `<number><unit>` with unit `ns`, `us`, `ms`, `s`, `m` or `h`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("duration {0:?} is invalid: expected a number and a unit (ms, s, m, h), e.g. 10ms")]
pub struct DurationError(pub String);

/// Parses a Go-style duration: `10ms`, `1.5s`, `2m`, `1h30m`, `0`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let err = || DurationError(text.to_string());
    let s = text.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return Err(err());
    }
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(err)?;
        let number: f64 = rest[..num_len].parse().map_err(|_| err())?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(err()),
        };
        total += number * scale;
        rest = &rest[unit_len..];
    }
    Ok(Duration::from_secs_f64(total))
}

/// Renders a duration the way [`parse_duration`] reads it back (`150ms`, `2s`, `0`).
pub fn format_duration(d: Duration) -> String {
    if d.is_zero() {
        return "0".into();
    }
    if d.subsec_nanos() == 0 {
        return format!("{}s", d.as_secs());
    }
    if d.subsec_nanos().is_multiple_of(1_000_000) {
        return format!("{}ms", d.as_millis());
    }
    format!("{}us", d.as_micros())
}

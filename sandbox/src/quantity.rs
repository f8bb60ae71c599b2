//! Resource quantities (`cpu: 500m`, `memory: 1Gi`) in the canonical form kube-apiserver
//! stores them in: apimachinery's `resource.Quantity` is parsed when an object is decoded
//! into its Go type and re-emitted by `MarshalJSON`, so `0.5` comes back as `500m`,
//! `1024Mi` as `1Gi` and `1000m` as `1`.
//!
//! Owns the parse (the grammar of `pkg/api/resource/quantity.go`, its rounding of finer
//! values up to `1n`, its cap of binary quantities at 2^63-1) and the canonical emit (the
//! format family kept, the largest exact suffix). Exact: values are decimal digit strings
//! with an exponent, never floats. It does not know which fields are quantities (the
//! compiled schema does, see [`crate::schema`]).

use serde_json::Value;

/// Why a quantity does not parse; the messages are apimachinery's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// Not of the quantity grammar.
    #[error(
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )]
    Format,
    /// An unknown suffix (`1i`, `0.1mi`).
    #[error("unable to parse quantity's suffix")]
    Suffix,
}

/// The three ways a quantity is written; the canonical form keeps the family it was
/// written in (with the exceptions in [`canonical`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `12M` (powers of 1000, also `n`, `u`, `m`).
    DecimalSi,
    /// `12Mi` (powers of 1024).
    BinarySi,
    /// `12e6`.
    DecimalExponent,
}

/// A decimal number: `digits` (most significant first, no leading zeros; empty for zero)
/// times ten to `exp`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    exp: i64,
}

/// The pieces apimachinery's scanner splits a quantity into.
struct Scanned<'a> {
    positive: bool,
    /// Integer digits without leading zeros ("0" when there are none).
    num: &'a str,
    /// Fraction digits.
    denom: &'a str,
    suffix: &'a str,
}

fn is_digit(b: u8) -> bool {
    b.is_ascii_digit()
}

/// apimachinery's `parseQuantityString`: sign, integer digits, fraction, then a suffix of
/// unit letters optionally followed by a signed exponent.
fn scan(s: &str) -> Result<Scanned<'_>, QuantityError> {
    let b = s.as_bytes();
    let end = b.len();
    let mut pos = 0;
    let mut positive = true;
    match b.first() {
        Some(b'-') => {
            positive = false;
            pos = 1;
        }
        Some(b'+') => pos = 1,
        _ => {}
    }
    while pos < end && b[pos] == b'0' {
        pos += 1;
    }
    if pos == end {
        return Ok(Scanned { positive, num: "0", denom: "", suffix: "" });
    }
    let start = pos;
    while pos < end && is_digit(b[pos]) {
        pos += 1;
    }
    let num = if pos == start { "0" } else { &s[start..pos] };
    let mut denom = "";
    if pos < end && b[pos] == b'.' {
        pos += 1;
        let start = pos;
        while pos < end && is_digit(b[pos]) {
            pos += 1;
        }
        denom = &s[start..pos];
    }
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < end && matches!(b[pos], b'-' | b'+') {
        pos += 1;
    }
    while pos < end && is_digit(b[pos]) {
        pos += 1;
    }
    if pos < end {
        return Err(QuantityError::Format);
    }
    Ok(Scanned { positive, num, denom, suffix: &s[suffix_start..] })
}

/// The base, exponent and format a suffix stands for (apimachinery's `interpret`).
fn interpret(suffix: &str) -> Result<(u32, i64, Format), QuantityError> {
    const DECIMAL: &[(&str, i64)] = &[
        ("n", -9),
        ("u", -6),
        ("m", -3),
        ("", 0),
        ("k", 3),
        ("M", 6),
        ("G", 9),
        ("T", 12),
        ("P", 15),
        ("E", 18),
    ];
    const BINARY: &[(&str, i64)] =
        &[("Ki", 10), ("Mi", 20), ("Gi", 30), ("Ti", 40), ("Pi", 50), ("Ei", 60)];
    if let Some((_, e)) = DECIMAL.iter().find(|(s, _)| *s == suffix) {
        return Ok((10, *e, Format::DecimalSi));
    }
    if let Some((_, e)) = BINARY.iter().find(|(s, _)| *s == suffix) {
        return Ok((2, *e, Format::BinarySi));
    }
    match suffix.strip_prefix(['e', 'E']) {
        Some(rest) if !rest.is_empty() => match rest.parse::<i32>() {
            Ok(e) => Ok((10, i64::from(e), Format::DecimalExponent)),
            Err(_) => Err(QuantityError::Suffix),
        },
        _ => Err(QuantityError::Suffix),
    }
}

/// Whether apimachinery's fast path keeps the string as written: an int64-sized value, no
/// finer than nano, whose decimal digits already have the canonical shape (or a binary
/// value not divisible by 8). Such a string is re-emitted verbatim, sign and leading zeros
/// included (`+1` stays `+1`).
fn kept_as_written(sc: &Scanned<'_>, exponent: i64, format: Format) -> bool {
    let digits = sc.num.len() + sc.denom.len();
    let (precision, scale, mantissa_bits) = match format {
        Format::DecimalSi | Format::DecimalExponent => (18 - digits as i64, exponent, 0),
        Format::BinarySi if sc.denom.is_empty() => {
            (15 - sc.num.len() as i64 - exponent * 3 / 10 - 1, 0, exponent)
        }
        Format::BinarySi => (-1, 0, 0),
    };
    if precision < 0 {
        return false;
    }
    let scale = scale - sc.denom.len() as i64;
    if scale < -9 {
        return false;
    }
    let shifted = format!("{}{}", sc.num, sc.denom);
    let Ok(value) = shifted.parse::<i64>() else { return false };
    if value.checked_mul(1i64 << mantissa_bits).is_none() {
        return false;
    }
    match format {
        Format::BinarySi => exponent % 10 == 0 && value & 0x07 != 0,
        _ => scale % 3 == 0 && !shifted.ends_with("000") && !shifted.starts_with('0'),
    }
}

impl Decimal {
    fn from_digits(negative: bool, text: &str, exp: i64) -> Decimal {
        let digits: Vec<u8> = text.bytes().skip_while(|b| *b == b'0').map(|b| b - b'0').collect();
        Decimal { negative, digits, exp }
    }

    fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// Multiplies the magnitude by a small factor.
    fn mul_small(&mut self, factor: u32) {
        let mut carry = 0u64;
        for d in self.digits.iter_mut().rev() {
            let v = u64::from(*d) * u64::from(factor) + carry;
            *d = (v % 10) as u8;
            carry = v / 10;
        }
        while carry > 0 {
            self.digits.insert(0, (carry % 10) as u8);
            carry /= 10;
        }
    }

    /// Adds one unit of the last digit to the magnitude.
    fn increment(&mut self) {
        for d in self.digits.iter_mut().rev() {
            if *d < 9 {
                *d += 1;
                return;
            }
            *d = 0;
        }
        self.digits.insert(0, 1);
    }

    /// Rounds the magnitude up (away from zero) to a multiple of 10^`min_exp`.
    fn round_up_to(&mut self, min_exp: i64) {
        if self.exp >= min_exp || self.is_zero() {
            return;
        }
        let drop = (min_exp - self.exp) as usize;
        let keep = self.digits.len().saturating_sub(drop);
        let inexact = self.digits[keep..].iter().any(|d| *d != 0);
        self.digits.truncate(keep);
        self.exp = min_exp;
        if inexact {
            self.increment();
        }
    }

    /// Moves trailing zero digits into the exponent.
    fn normalize(&mut self) {
        while self.digits.last() == Some(&0) {
            self.digits.pop();
            self.exp += 1;
        }
        if self.digits.is_empty() {
            self.exp = 0;
        }
    }

    /// The magnitude as an integer, if it is one and fits.
    fn integer(&self) -> Option<u64> {
        let mut n = self.clone();
        n.normalize();
        if n.exp < 0 {
            return None;
        }
        let mut v: u64 = 0;
        for d in &n.digits {
            v = v.checked_mul(10)?.checked_add(u64::from(*d))?;
        }
        for _ in 0..n.exp {
            v = v.checked_mul(10)?;
        }
        Some(v)
    }

    /// Whether the magnitude is below `bound` (a small integer).
    fn magnitude_below(&self, bound: u64) -> bool {
        let mut n = self.clone();
        n.normalize();
        let int_digits = n.digits.len() as i64 + n.exp;
        if int_digits <= 0 {
            return true;
        }
        if int_digits > 20 {
            return false;
        }
        let mut v: u128 = 0;
        for i in 0..int_digits as usize {
            let d = n.digits.get(i).copied().unwrap_or(0);
            v = v * 10 + u128::from(d);
        }
        v < u128::from(bound)
    }
}

/// 2^63-1, apimachinery's cap of binary quantities.
const MAX_BINARY: u64 = i64::MAX as u64;

fn parse(input: &str) -> Result<(Decimal, Format, bool), QuantityError> {
    if input.is_empty() {
        return Err(QuantityError::Format);
    }
    if input == "0" {
        return Ok((Decimal::from_digits(false, "", 0), Format::DecimalSi, true));
    }
    let sc = scan(input)?;
    let (base, exponent, mut format) = interpret(sc.suffix)?;
    let kept = kept_as_written(&sc, exponent, format);
    let text = format!("{}{}", sc.num, sc.denom);
    let mut value = Decimal::from_digits(!sc.positive, &text, -(sc.denom.len() as i64));
    if base == 10 {
        value.exp += exponent;
    } else {
        for _ in 0..exponent / 10 {
            value.mul_small(1024);
        }
    }
    // Finer than nano rounds up to the next nano: asking for some resource gets some.
    value.round_up_to(-9);
    if format == Format::BinarySi {
        if !value.magnitude_below(MAX_BINARY) && value.integer() != Some(MAX_BINARY) {
            value = Decimal::from_digits(value.negative, &MAX_BINARY.to_string(), 0);
        }
        if !value.is_zero() && value.magnitude_below(1) {
            format = Format::DecimalSi;
        }
    }
    value.negative &= !value.is_zero();
    Ok((value, format, kept))
}

fn decimal_suffix(exp: i64) -> Option<&'static str> {
    Some(match exp {
        -9 => "n",
        -6 => "u",
        -3 => "m",
        0 => "",
        3 => "k",
        6 => "M",
        9 => "G",
        12 => "T",
        15 => "P",
        18 => "E",
        _ => return None,
    })
}

/// The canonical form of a quantity: zero is `0`; a decimal quantity gets the largest
/// power-of-1000 suffix (or `e` exponent, for the exponent family) that leaves no fraction;
/// a binary one the largest power-of-1024 suffix, unless it is below 1024 in magnitude or
/// not whole, which is written as a decimal quantity instead. A string that already is in
/// that shape is kept exactly as written (apimachinery caches it).
pub fn canonical(input: &str) -> Result<String, QuantityError> {
    let trimmed = input.trim();
    let (mut value, mut format, kept) = parse(trimmed)?;
    if kept {
        return Ok(trimmed.to_string());
    }
    if value.is_zero() {
        return Ok("0".to_string());
    }
    let sign = if value.negative { "-" } else { "" };
    if format == Format::BinarySi {
        match value.integer() {
            Some(mut n) if n >= 1024 => {
                let mut power = 0;
                while n % 1024 == 0 && power < 6 {
                    n /= 1024;
                    power += 1;
                }
                let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][power];
                return Ok(format!("{sign}{n}{suffix}"));
            }
            _ => format = Format::DecimalSi,
        }
    }
    value.normalize();
    while value.exp.rem_euclid(3) != 0 {
        value.digits.push(0);
        value.exp -= 1;
    }
    let digits: String = value.digits.iter().map(|d| char::from(b'0' + d)).collect();
    let suffix = match (format, decimal_suffix(value.exp)) {
        (Format::DecimalSi, Some(s)) => s.to_string(),
        (_, _) if value.exp == 0 => String::new(),
        // Beyond `E` there is no decimal suffix: the exponent is written instead.
        (_, _) => format!("e{}", value.exp),
    };
    Ok(format!("{sign}{digits}{suffix}"))
}

/// A JSON number as the text Go's encoder would have sent for it (`0.5`, `1000`, `1e-07`
/// style exponents outside [1e-6, 1e21)), which is what a Quantity field then parses.
fn number_text(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) { format!("{f:e}") } else { format!("{f}") }
}

/// The canonical string of a Quantity field's JSON value (a string or a number, as
/// apimachinery's `UnmarshalJSON` accepts); anything else does not parse.
pub fn canonical_value(v: &Value) -> Result<String, QuantityError> {
    match v {
        Value::String(s) => canonical(s),
        Value::Number(n) => canonical(&number_text(n)),
        _ => Err(QuantityError::Format),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Inputs and canonical forms from apimachinery's own tests (`TestQuantityParseEmit`,
    /// the alternates of `TestQuantityString`, values of `TestQuantityParse`), plus the
    /// quirks of its fast path.
    const CASES: &[(&str, &str)] = &[
        // TestQuantityParseEmit
        ("1Ki", "1Ki"),
        ("1Mi", "1Mi"),
        ("1Gi", "1Gi"),
        ("1024Mi", "1Gi"),
        ("1000M", "1G"),
        (".001Ki", "1024m"),
        (".000001Ki", "1024u"),
        (".000000001Ki", "1024n"),
        (".000000000001Ki", "2n"),
        // TestQuantityString: alternate spelling -> canonical
        ("307200Ki", "300Mi"),
        ("1025024Mi", "1001Gi"),
        ("1024Gi", "1Ti"),
        ("5000m", "5"),
        ("0.5", "500m"),
        ("0.001T", "1G"),
        ("1000u", "1m"),
        ("1.08", "1080m"),
        ("1080000000n", "1080m"),
        ("1000E", "1e21"),
        ("5000E", "5e21"),
        ("1000000E", "1e24"),
        (".001e12", "1e9"),
        ("0.001e0", "1e-3"),
        ("1000e-12", "1e-9"),
        ("00", "0"),
        // TestQuantityString: canonical strings are kept
        ("300Mi", "300Mi"),
        ("6Ki", "6Ki"),
        ("1234567M", "1234567M"),
        ("1025", "1025"),
        ("80e-3", "80e-3"),
        ("1e3", "1e3"),
        ("1080u", "1080u"),
        // Values of TestQuantityParse, emitted
        ("0Ki", "0"),
        ("0m", "0"),
        // Already shaped like a canonical value (scale a multiple of 3): kept as written.
        ("100.035k", "100.035k"),
        ("0.0005k", "500m"),
        ("0.00050k", "500m"),
        ("1.2e3", "1200"),
        ("1.3E+6", "1300e3"),
        ("1.53E12", "1530e9"),
        ("7.123456M", "7.123456M"),
        ("5.444T", "5.444T"),
        ("2.5P", "2500T"),
        ("3.001n", "4n"),
        ("1.1E-9", "2e-9"),
        ("0.0000000001", "1n"),
        ("0.9n", "1n"),
        ("0.00000012345", "124n"),
        ("9Ei", "9223372036854775807"),
        ("100.035Ki", "102435840m"),
        ("0.5Mi", "512Ki"),
        ("0.05Gi", "53687091200m"),
        ("0.000000000001Ki", "2n"),
        (".0001k", "100m"),
        ("1.", "1."),
        ("1.G", "1.G"),
        ("1.50", "1500m"),
        ("12E", "12E"),
        // Below 1024 a binary quantity is written as a decimal one.
        ("0.5Ki", "512"),
        ("1.5Ki", "1536"),
        // The examples.
        ("1000m", "1"),
        ("2000m", "2"),
        ("1500m", "1500m"),
        ("0.1", "100m"),
        ("1024Ki", "1Mi"),
        ("-1024Mi", "-1Gi"),
        ("-0.5", "-500m"),
        ("-0", "0"),
        // The fast path keeps an already canonical shape verbatim.
        ("+1", "+1"),
        ("01", "01"),
        (" 2Gi ", "2Gi"),
    ];

    #[test]
    fn canonical_forms_match_apimachinery() {
        for (input, want) in CASES {
            assert_eq!(canonical(input).as_deref(), Ok(*want), "{input:?}");
        }
    }

    #[test]
    fn invalid_quantities_are_refused() {
        for input in ["1.1.M", "1+1.0M", "aoeu", "1 1", "0.1am", ""] {
            assert_eq!(canonical(input), Err(QuantityError::Format), "{input:?}");
        }
        for input in ["0.1mi", ".5i", "1i", "-3.01i", "-3.01e-"] {
            assert_eq!(canonical(input), Err(QuantityError::Suffix), "{input:?}");
        }
    }

    #[test]
    fn json_numbers_parse_as_the_go_encoder_wrote_them() {
        let cases = [
            (json!(0.5), "500m"),
            (json!(1000), "1k"),
            (json!(1000.0), "1k"),
            (json!(2), "2"),
            (json!(0.0000001), "100e-9"),
            (json!(1e21), "1e21"),
        ];
        for (v, want) in cases {
            assert_eq!(canonical_value(&v).as_deref(), Ok(want), "{v}");
        }
        assert_eq!(canonical_value(&json!(true)), Err(QuantityError::Format));
    }
}

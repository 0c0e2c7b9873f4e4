//! Arbitrary-precision decimal numbers, as Terraform's `number` type needs them.
//!
//! Terraform numbers are big floats; values such as `12345678901234567890123` or `1e400`
//! must survive a trip through the provider unchanged, so nothing here goes through `f64`
//! unless a caller asks for one.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Largest decimal exponent magnitude accepted. Far beyond anything Terraform can hold
/// (its big floats have a 32-bit binary exponent) and small enough that exponent
/// arithmetic can never overflow.
const MAX_EXPONENT: i64 = 1 << 40;

/// Up to this many zeros of padding, `Display` writes plain decimal digits (the form
/// Terraform shows); beyond it, scientific notation keeps output bounded.
const PLAIN_PADDING_LIMIT: i64 = 1000;

/// Every finite `f64` is an exact decimal of at most 767 significant digits.
const F64_MAX_SIGNIFICANT_DIGITS: usize = 767;

/// A decimal number of arbitrary precision: `(-1)^negative × digits × 10^exponent`.
///
/// Always normalized (no leading or trailing zero digits, zero is non-negative with
/// exponent 0), so the derived equality and hash compare numeric values: `1`, `1.0`
/// and `1e0` are equal.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    /// Significant decimal digits, each 0..=9; empty for zero.
    digits: Vec<u8>,
    exponent: i64,
}

impl Number {
    /// Zero.
    pub fn zero() -> Number {
        Number { negative: false, digits: Vec::new(), exponent: 0 }
    }

    fn normalized(negative: bool, mut digits: Vec<u8>, mut exponent: i64) -> Number {
        let leading = digits.iter().take_while(|d| **d == 0).count();
        digits.drain(..leading);
        while digits.last() == Some(&0) {
            digits.pop();
            exponent += 1;
        }
        if digits.is_empty() {
            return Number::zero();
        }
        Number { negative, digits, exponent }
    }

    fn from_unsigned(negative: bool, magnitude: u128) -> Number {
        let digits = magnitude.to_string().bytes().map(|b| b - b'0').collect();
        Number::normalized(negative, digits, 0)
    }

    /// Parses decimal syntax as JSON and Terraform write it: optional sign, digits with an
    /// optional fraction, optional exponent (`-12.5`, `1e400`, `3E-2`, `.5`, `+7`).
    /// `None` for anything else (empty, `NaN`, `Infinity`, hex, separators).
    pub fn parse(text: &str) -> Option<Number> {
        let bytes = text.as_bytes();
        let mut pos = 0;
        let negative = match bytes.first() {
            Some(b'-') => {
                pos += 1;
                true
            }
            Some(b'+') => {
                pos += 1;
                false
            }
            _ => false,
        };
        let mut digits = Vec::new();
        let mut any_digit = false;
        while let Some(b @ b'0'..=b'9') = bytes.get(pos) {
            digits.push(b - b'0');
            any_digit = true;
            pos += 1;
        }
        let mut fraction_len: i64 = 0;
        if bytes.get(pos) == Some(&b'.') {
            pos += 1;
            while let Some(b @ b'0'..=b'9') = bytes.get(pos) {
                digits.push(b - b'0');
                any_digit = true;
                fraction_len += 1;
                pos += 1;
            }
        }
        if !any_digit || fraction_len > MAX_EXPONENT {
            return None;
        }
        let mut exponent: i64 = 0;
        if matches!(bytes.get(pos), Some(b'e' | b'E')) {
            pos += 1;
            let exp_negative = match bytes.get(pos) {
                Some(b'-') => {
                    pos += 1;
                    true
                }
                Some(b'+') => {
                    pos += 1;
                    false
                }
                _ => false,
            };
            let start = pos;
            while let Some(b @ b'0'..=b'9') = bytes.get(pos) {
                exponent = exponent.saturating_mul(10).saturating_add(i64::from(b - b'0'));
                pos += 1;
            }
            if pos == start || exponent > MAX_EXPONENT {
                return None;
            }
            if exp_negative {
                exponent = -exponent;
            }
        }
        if pos != bytes.len() {
            return None;
        }
        let number = Number::normalized(negative, digits, exponent - fraction_len);
        // Bound the position of the most significant digit too, so that callers can
        // add digit counts to exponents freely.
        if number.exponent.abs() > MAX_EXPONENT {
            return None;
        }
        Some(number)
    }

    /// The exact value of a finite float (as cty's `NumberFloatVal` holds it): `0.1`
    /// becomes `0.1000000000000000055511151231257827021181583404541015625`.
    /// `None` for NaN and infinities. See [`Number::from_f64_shortest`] for the
    /// human-facing reading.
    pub fn from_f64(value: f64) -> Option<Number> {
        if !value.is_finite() {
            return None;
        }
        // Rust formats floats exactly at any requested precision; 800 digits covers
        // every f64 (at most 767 significant digits).
        Number::parse(&format!("{value:.800e}"))
    }

    /// The shortest decimal that reads back as the same float (`0.1` stays `0.1`).
    /// Use this for floats that came from a decimal a person wrote.
    pub fn from_f64_shortest(value: f64) -> Option<Number> {
        if !value.is_finite() {
            return None;
        }
        Number::parse(&format!("{value:e}"))
    }

    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// True when the number has no fractional part.
    pub fn is_integer(&self) -> bool {
        self.exponent >= 0
    }

    /// Magnitude as an integer when integral and below 2^127 or so.
    fn integer_magnitude(&self) -> Option<u128> {
        if !self.is_integer() {
            return None;
        }
        // u128 holds every 38-digit integer.
        if self.digits.len() as i64 + self.exponent > 38 {
            return None;
        }
        let mut magnitude: u128 = 0;
        for d in &self.digits {
            magnitude = magnitude * 10 + u128::from(*d);
        }
        for _ in 0..self.exponent {
            magnitude *= 10;
        }
        Some(magnitude)
    }

    /// The value as `i64` when integral and in range.
    pub fn as_i64(&self) -> Option<i64> {
        let magnitude = self.integer_magnitude()?;
        if self.negative {
            0i128.checked_sub(i128::try_from(magnitude).ok()?).and_then(|v| i64::try_from(v).ok())
        } else {
            i64::try_from(magnitude).ok()
        }
    }

    /// The value as `u64` when integral, non-negative and in range.
    pub fn as_u64(&self) -> Option<u64> {
        if self.negative {
            return None;
        }
        u64::try_from(self.integer_magnitude()?).ok()
    }

    /// The nearest `f64` (correctly rounded); `None` when the magnitude is too large for
    /// a float. Very small magnitudes round to zero.
    pub fn as_f64(&self) -> Option<f64> {
        let value: f64 = self.scientific_text().parse().ok()?;
        value.is_finite().then_some(value)
    }

    /// The value as `f64` only when the float holds it exactly.
    pub fn as_f64_exact(&self) -> Option<f64> {
        if self.digits.len() > F64_MAX_SIGNIFICANT_DIGITS {
            return None;
        }
        // A fraction is a binary fraction only if its last significant digit is 5.
        if self.exponent < 0 && self.digits.last() != Some(&5) {
            return None;
        }
        let value = self.as_f64()?;
        (Number::from_f64(value).as_ref() == Some(self)).then_some(value)
    }

    /// `<sign><digits>e<exponent>`: exact, bounded in size, and parseable by `f64`.
    fn scientific_text(&self) -> String {
        if self.is_zero() {
            return "0".to_string();
        }
        let mut out = String::with_capacity(self.digits.len() + 24);
        if self.negative {
            out.push('-');
        }
        out.extend(self.digits.iter().map(|d| char::from(b'0' + d)));
        out.push('e');
        out.push_str(&self.exponent.to_string());
        out
    }

    fn push_digits(&self, out: &mut String, digits: &[u8]) {
        out.extend(digits.iter().map(|d| char::from(b'0' + d)));
    }
}

impl fmt::Display for Number {
    /// Plain decimal (`12.5`, `-0.001`, `12345678901234567890123`) as Terraform shows
    /// numbers; scientific notation (`1.5e+2000`) only when plain form would need more than
    /// a thousand padding zeros. Either form is valid JSON and parses back exactly.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let n = self.digits.len() as i64;
        let e = self.exponent;
        let mut out = String::new();
        if self.negative {
            out.push('-');
        }
        if (0..=PLAIN_PADDING_LIMIT).contains(&e) {
            self.push_digits(&mut out, &self.digits);
            out.extend(std::iter::repeat_n('0', e as usize));
        } else if e < 0 && -e < n {
            let point = (n + e) as usize;
            self.push_digits(&mut out, &self.digits[..point]);
            out.push('.');
            self.push_digits(&mut out, &self.digits[point..]);
        } else if e < 0 && -e - n <= PLAIN_PADDING_LIMIT {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-e - n) as usize));
            self.push_digits(&mut out, &self.digits);
        } else {
            self.push_digits(&mut out, &self.digits[..1]);
            if n > 1 {
                out.push('.');
                self.push_digits(&mut out, &self.digits[1..]);
            }
            let adjusted = e + n - 1;
            out.push('e');
            out.push(if adjusted < 0 { '-' } else { '+' });
            out.push_str(&adjusted.unsigned_abs().to_string());
        }
        f.write_str(&out)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => return Ordering::Greater,
            (true, false) => return Ordering::Less,
            _ => {}
        }
        let magnitude = match (self.is_zero(), other.is_zero()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => {
                // Position of the most significant digit first, then the digits (no
                // trailing zeros, so a shorter prefix is the smaller value).
                let a = self.exponent + self.digits.len() as i64;
                let b = other.exponent + other.digits.len() as i64;
                a.cmp(&b).then_with(|| self.digits.cmp(&other.digits))
            }
        };
        if self.negative {
            magnitude.reverse()
        } else {
            magnitude
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl From<i64> for Number {
    fn from(n: i64) -> Number {
        Number::from_unsigned(n < 0, u128::from(n.unsigned_abs()))
    }
}

impl From<u64> for Number {
    fn from(n: u64) -> Number {
        Number::from_unsigned(false, u128::from(n))
    }
}

impl From<i32> for Number {
    fn from(n: i32) -> Number {
        Number::from(i64::from(n))
    }
}

impl From<u32> for Number {
    fn from(n: u32) -> Number {
        Number::from(u64::from(n))
    }
}

/// Error for text that is not a decimal number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a decimal number")]
pub struct ParseNumberError;

impl FromStr for Number {
    type Err = ParseNumberError;
    fn from_str(s: &str) -> Result<Number, ParseNumberError> {
        Number::parse(s).ok_or(ParseNumberError)
    }
}

impl serde::Serialize for Number {
    /// A JSON number with every digit kept (serde_json's `arbitrary_precision`).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let json = serde_json::Number::from_str(&self.to_string()).map_err(serde::ser::Error::custom)?;
        json.serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Number, D::Error> {
        let json = serde_json::Number::deserialize(deserializer)?;
        Number::parse(json.as_str()).ok_or_else(|| serde::de::Error::custom("number out of range"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap_or_else(|| panic!("{s} should parse"))
    }

    #[test]
    fn equality_is_numeric() {
        assert_eq!(n("1"), n("1.0"));
        assert_eq!(n("1"), n("1e0"));
        assert_eq!(n("100"), n("1e2"));
        assert_eq!(n("0.5"), n("5e-1"));
        assert_eq!(n("-0"), Number::zero());
        assert_eq!(n("0.000"), n("0e10"));
        assert_eq!(n("007"), Number::from(7i64));
        assert_ne!(n("1"), n("-1"));
        assert_ne!(n("0.1"), n("0.10000000000000001"));
    }

    #[test]
    fn parse_rejects_non_numbers() {
        for bad in [
            "", "-", "+", ".", "e5", "1e", "1e+", "1.2.3", "NaN", "inf", "Infinity", "0x10", "1_000", " 1", "1 ",
            "--1", "1e5.5", "1ee5",
        ] {
            assert_eq!(Number::parse(bad), None, "{bad:?}");
        }
        assert_eq!(Number::parse("1e99999999999999999999999"), None);
        assert_eq!(n(".5"), n("0.5"));
        assert_eq!(n("5."), n("5"));
        assert_eq!(n("+7"), n("7"));
        assert_eq!(n("1E3"), n("1000"));
    }

    #[test]
    fn display_is_plain_decimal() {
        let cases = [
            ("1", "1"),
            ("1.0", "1"),
            ("-12.50", "-12.5"),
            ("0.1", "0.1"),
            ("0.001", "0.001"),
            ("1e3", "1000"),
            ("-0", "0"),
            ("12345678901234567890123", "12345678901234567890123"),
            ("123.456e-10", "0.0000000123456"),
        ];
        for (input, shown) in cases {
            assert_eq!(n(input).to_string(), shown, "{input}");
        }
        let big = n("1e400").to_string();
        assert_eq!(big.len(), 401);
        assert!(big.starts_with('1') && big[1..].bytes().all(|b| b == b'0'));
        assert_eq!(n("1.5e5000").to_string(), "1.5e+5000");
        assert_eq!(n("-2e-5000").to_string(), "-2e-5000");
    }

    #[test]
    fn display_round_trips() {
        for s in ["1e400", "1.5e5000", "-2e-5000", "0.000123", "98765.4321", "1e-1001"] {
            assert_eq!(n(&n(s).to_string()), n(s), "{s}");
        }
    }

    #[test]
    fn integers() {
        assert_eq!(Number::from(i64::MIN).as_i64(), Some(i64::MIN));
        assert_eq!(Number::from(i64::MAX).as_i64(), Some(i64::MAX));
        assert_eq!(Number::from(u64::MAX).as_u64(), Some(u64::MAX));
        assert_eq!(Number::from(u64::MAX).as_i64(), None);
        assert_eq!(Number::from(-5i64).as_u64(), None);
        assert_eq!(Number::from(-5i64).to_string(), "-5");
        assert_eq!(n("1e3").as_i64(), Some(1000));
        assert_eq!(n("1.5").as_i64(), None);
        assert_eq!(n("1e400").as_i64(), None);
        assert_eq!(n("9223372036854775808").as_i64(), None);
        assert_eq!(n("-9223372036854775808").as_i64(), Some(i64::MIN));
        assert!(n("1e400").is_integer());
        assert!(!n("0.5").is_integer());
        assert!(Number::zero().is_integer());
    }

    #[test]
    fn floats() {
        let exact = Number::from_f64(0.1).unwrap();
        assert_eq!(exact.to_string(), "0.1000000000000000055511151231257827021181583404541015625");
        assert_eq!(Number::from_f64_shortest(0.1), Some(n("0.1")));
        assert_eq!(Number::from_f64(0.5), Some(n("0.5")));
        assert_eq!(Number::from_f64(-0.0), Some(Number::zero()));
        assert_eq!(Number::from_f64(1e300).unwrap().as_f64(), Some(1e300));
        assert_eq!(
            Number::from_f64(f64::MIN_POSITIVE * f64::EPSILON).unwrap().as_f64(),
            Some(f64::MIN_POSITIVE * f64::EPSILON)
        );
        assert_eq!(Number::from_f64(f64::NAN), None);
        assert_eq!(Number::from_f64(f64::INFINITY), None);
        assert_eq!(n("0.1").as_f64(), Some(0.1));
        assert_eq!(n("1e400").as_f64(), None);
        assert_eq!(n("1e-400").as_f64(), Some(0.0));
        assert_eq!(n("0.1").as_f64_exact(), None);
        assert_eq!(n("0.375").as_f64_exact(), Some(0.375));
        assert_eq!(exact.as_f64_exact(), Some(0.1));
        assert_eq!(n("12345678901234567890123").as_f64_exact(), None);
    }

    #[test]
    fn ordering_is_numeric() {
        let mut values: Vec<Number> =
            ["3", "-1", "0.5", "-10", "1e400", "0", "-0.25", "2.5e-3"].iter().map(|s| n(s)).collect();
        values.sort();
        let shown: Vec<String> = values.iter().map(Number::to_string).collect();
        assert_eq!(shown[..7], ["-10", "-1", "-0.25", "0", "0.0025", "0.5", "3"]);
        assert!(n("12") < n("12.5"));
        assert!(n("-12") > n("-12.5"));
    }

    #[test]
    fn serializes_as_precise_json_number() {
        let json = serde_json::to_string(&vec![n("12345678901234567890123"), n("0.1"), n("-1e400")]).unwrap();
        assert!(json.starts_with("[12345678901234567890123,0.1,-1000"), "{json}");
        let back: Vec<Number> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, vec![n("12345678901234567890123"), n("0.1"), n("-1e400")]);
        let huge = serde_json::to_string(&n("1.5e5000")).unwrap();
        assert_eq!(huge, "1.5e+5000");
    }
}

//! Attribute validators. They see only known, non-null values: unknown values are checked
//! again once known (Terraform validates again at apply).

use std::time::Duration as StdDuration;

use crate::cty::Value;

use super::diag::Diagnostics;
use super::path::AttrPath;

pub trait Validator: Send + Sync {
    /// Markdown description, shown in generated docs.
    fn description(&self) -> String;
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics);
}

/// The value must be one of a fixed set of strings.
pub struct OneOf(pub &'static [&'static str]);

impl Validator for OneOf {
    fn description(&self) -> String {
        let quoted: Vec<String> = self.0.iter().map(|s| format!("`{s}`")).collect();
        format!("One of {}.", quoted.join(", "))
    }
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        if let Some(s) = value.as_str() {
            if !self.0.contains(&s) {
                diags.error_at(
                    path.clone(),
                    "Invalid value",
                    format!("{s:?} is not allowed here. Expected one of: {}.", self.0.join(", ")),
                );
            }
        }
    }
}

/// An Alibaba Cloud resource ID with a fixed prefix (`vsw-`, `sg-`, `vpc-`): prefix followed
/// by lowercase letters and digits.
pub struct IdWithPrefix(pub &'static str);

impl IdWithPrefix {
    pub fn check(&self, s: &str) -> bool {
        s.strip_prefix(self.0)
            .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
    }
}

impl Validator for IdWithPrefix {
    fn description(&self) -> String {
        format!("An ID starting with `{}`.", self.0)
    }
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        // Lists of IDs are validated element by element.
        if let Some(items) = value.as_seq() {
            for (i, v) in items.iter().enumerate() {
                self.validate(&path.then_index(i), v, diags);
            }
            return;
        }
        if let Some(s) = value.as_str() {
            if !self.check(s) {
                diags.error_at(
                    path.clone(),
                    "Invalid ID",
                    format!("{s:?} is not a valid ID: expected {:?} followed by lowercase letters and digits.", self.0),
                );
            }
        }
    }
}

/// A whole number within an inclusive range.
pub struct IntBetween(pub i64, pub i64);

impl Validator for IntBetween {
    fn description(&self) -> String {
        format!("A whole number from {} to {}.", self.0, self.1)
    }
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        match value.as_i64() {
            Some(n) if n >= self.0 && n <= self.1 => {}
            _ => diags.error_at(
                path.clone(),
                "Value out of range",
                format!("Expected a whole number from {} to {}.", self.0, self.1),
            ),
        }
    }
}

/// A non-empty string.
pub struct NonEmpty;

impl Validator for NonEmpty {
    fn description(&self) -> String {
        "Must not be empty.".into()
    }
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        if value.as_str().is_some_and(str::is_empty) {
            diags.error_at(path.clone(), "Empty value", "This attribute must not be an empty string.");
        }
    }
}

/// A Go-style duration such as `90s`, `10m`, `1h30m`.
pub struct Duration;

impl Validator for Duration {
    fn description(&self) -> String {
        "A duration such as `30s`, `10m` or `1h30m`.".into()
    }
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        if let Some(s) = value.as_str() {
            if let Err(e) = parse_duration(s) {
                diags.error_at(path.clone(), "Invalid duration", e);
            }
        }
    }
}

/// Parses durations as Go's `time.ParseDuration` does for the units people use in Terraform
/// (`ms`, `s`, `m`, `h`), including fractions (`1.5h`).
pub fn parse_duration(s: &str) -> Result<StdDuration, String> {
    let bad = || format!("{s:?} is not a duration; use forms like \"30s\", \"10m\" or \"1h30m\".");
    if s.is_empty() {
        return Err(bad());
    }
    if s == "0" {
        return Ok(StdDuration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        if num_len == 0 {
            return Err(bad());
        }
        let n: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let secs = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += n * secs;
        rest = &rest[unit_len..];
    }
    if !total.is_finite() || total > 365.0 * 24.0 * 3600.0 {
        return Err(bad());
    }
    Ok(StdDuration::from_secs_f64(total))
}

/// A validator from a closure returning an error message for bad values.
pub struct Check<F> {
    pub description: &'static str,
    pub check: F,
}

impl<F> Validator for Check<F>
where
    F: Fn(&Value) -> Result<(), String> + Send + Sync,
{
    fn description(&self) -> String {
        self.description.to_string()
    }
    fn validate(&self, path: &AttrPath, value: &Value, diags: &mut Diagnostics) {
        if let Err(msg) = (self.check)(value) {
            diags.error_at(path.clone(), "Invalid value", msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("10m").unwrap(), StdDuration::from_secs(600));
        assert_eq!(parse_duration("1h30m").unwrap(), StdDuration::from_secs(5400));
        assert_eq!(parse_duration("1.5s").unwrap(), StdDuration::from_millis(1500));
        assert_eq!(parse_duration("250ms").unwrap(), StdDuration::from_millis(250));
        for bad in ["", "10", "m", "10x", "-1s", "1h-", "1e9h"] {
            assert!(parse_duration(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn id_prefix_rejects_wrong_shape() {
        let v = IdWithPrefix("vsw-");
        assert!(v.check("vsw-abc123"));
        assert!(!v.check("vsw-"));
        assert!(!v.check("sg-abc"));
        assert!(!v.check("vsw-ABC"));
        let mut d = Diagnostics::new();
        v.validate(&AttrPath::attr("ids"), &Value::List(vec!["vsw-ok1".into(), "bad".into()]), &mut d);
        assert_eq!(d.0.len(), 1);
        assert_eq!(d.0[0].path.as_ref().unwrap().to_string(), "ids[1]");
    }

    #[test]
    fn one_of_names_the_choices() {
        let mut d = Diagnostics::new();
        OneOf(&["a", "b"]).validate(&AttrPath::attr("x"), &"c".into(), &mut d);
        assert!(d.has_errors());
        assert!(d.0[0].detail.contains("a, b"));
    }
}

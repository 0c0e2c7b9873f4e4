//! State checks for [`crate::Step`]s, in the spirit of terraform-plugin-testing's
//! `TestCheckResourceAttr` family. Each returns a [`Check`]; failures name the resource,
//! attribute and actual value (sensitive values are never shown).

use anyhow::{bail, Result};
use serde_json::Value;

use crate::state::{describe, State};

/// A check run against the state after a step.
pub type Check = Box<dyn Fn(&State) -> Result<()> + Send + Sync>;

/// Any closure over the state.
pub fn custom(f: impl Fn(&State) -> Result<()> + Send + Sync + 'static) -> Check {
    Box::new(f)
}

/// The resource or data source exists in the state.
pub fn exists(address: &str) -> Check {
    let address = address.to_string();
    Box::new(move |state| {
        state.values(&address)?;
        Ok(())
    })
}

/// The resource is not in the state.
pub fn absent(address: &str) -> Check {
    let address = address.to_string();
    Box::new(move |state| {
        if state.resource(&address).is_some() {
            bail!("{address} is still in the state");
        }
        Ok(())
    })
}

/// The attribute equals `expected` (a string, number, bool, or any JSON value).
pub fn attr_eq(address: &str, path: &str, expected: impl Into<Value>) -> Check {
    let (address, path, expected) = (address.to_string(), path.to_string(), expected.into());
    Box::new(move |state| {
        let actual = state.attr(&address, &path)?;
        if actual != expected {
            let sensitive = state.is_sensitive(&address, &path);
            bail!(
                "{address}.{path}: expected {}, got {}",
                describe(&expected, sensitive),
                describe(&actual, sensitive)
            );
        }
        Ok(())
    })
}

/// The attribute is set (present and not null).
pub fn attr_set(address: &str, path: &str) -> Check {
    let (address, path) = (address.to_string(), path.to_string());
    Box::new(move |state| {
        if state.attr(&address, &path)?.is_null() {
            bail!("{address}.{path}: expected a value, got null");
        }
        Ok(())
    })
}

/// The attribute is null (or a path through a null value).
pub fn attr_null(address: &str, path: &str) -> Check {
    let (address, path) = (address.to_string(), path.to_string());
    Box::new(move |state| {
        let actual = state.attr(&address, &path)?;
        if !actual.is_null() {
            bail!("{address}.{path}: expected null, got {}", describe(&actual, state.is_sensitive(&address, &path)));
        }
        Ok(())
    })
}

/// The attribute is a string matching the regular expression `pattern`.
pub fn attr_matches(address: &str, path: &str, pattern: &str) -> Check {
    let (address, path) = (address.to_string(), path.to_string());
    let re = regex::Regex::new(pattern);
    let pattern = pattern.to_string();
    Box::new(move |state| {
        let re = match &re {
            Ok(re) => re,
            Err(e) => bail!("bad pattern {pattern:?}: {e}"),
        };
        let actual = state.attr_str(&address, &path)?;
        if !re.is_match(&actual) {
            let shown = describe(&Value::String(actual), state.is_sensitive(&address, &path));
            bail!("{address}.{path}: {shown} does not match /{pattern}/");
        }
        Ok(())
    })
}

/// Two attributes (possibly of different resources) are equal.
pub fn attr_pair(address_a: &str, path_a: &str, address_b: &str, path_b: &str) -> Check {
    let (aa, pa, ab, pb) = (address_a.to_string(), path_a.to_string(), address_b.to_string(), path_b.to_string());
    Box::new(move |state| {
        let a = state.attr(&aa, &pa)?;
        let b = state.attr(&ab, &pb)?;
        if a != b {
            let sensitive = state.is_sensitive(&aa, &pa) || state.is_sensitive(&ab, &pb);
            bail!("{aa}.{pa} = {} but {ab}.{pb} = {}", describe(&a, sensitive), describe(&b, sensitive));
        }
        Ok(())
    })
}

/// A root module output equals `expected`.
pub fn output_eq(name: &str, expected: impl Into<Value>) -> Check {
    let (name, expected) = (name.to_string(), expected.into());
    Box::new(move |state| {
        let actual = state.output(&name)?;
        if actual != expected {
            bail!("output {name}: expected {expected}, got {actual}");
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state() -> State {
        State::new(json!({"values": {
            "outputs": {"o": {"value": 3}},
            "root_module": {"resources": [
                {"address": "x.a", "values": {"s": "v1.2", "n": 2, "z": null, "secret": "hunter2"},
                 "sensitive_values": {"secret": true}},
                {"address": "x.b", "values": {"s": "v1.2"}}
            ]}
        }}))
    }

    #[test]
    fn passing_checks() {
        let s = state();
        for check in [
            exists("x.a"),
            absent("x.c"),
            attr_eq("x.a", "s", "v1.2"),
            attr_eq("x.a", "n", 2),
            attr_set("x.a", "s"),
            attr_null("x.a", "z"),
            attr_matches("x.a", "s", r"^v\d+\.\d+$"),
            attr_pair("x.a", "s", "x.b", "s"),
            output_eq("o", 3),
            custom(|s| s.values("x.b").map(|_| ())),
        ] {
            check(&s).unwrap();
        }
    }

    #[test]
    fn failing_checks_explain_and_hide_secrets() {
        let s = state();
        let msg = |c: Check| c(&s).unwrap_err().to_string();
        assert_eq!(msg(attr_eq("x.a", "s", "v2")), r#"x.a.s: expected "v2", got "v1.2""#);
        assert_eq!(msg(attr_eq("x.a", "secret", "x")), "x.a.secret: expected (sensitive), got (sensitive)");
        assert!(msg(attr_set("x.a", "z")).contains("got null"));
        assert!(msg(attr_null("x.a", "secret")).contains("(sensitive)"));
        assert!(!msg(attr_matches("x.a", "secret", "^x$")).contains("hunter2"));
        assert!(msg(absent("x.a")).contains("still in the state"));
        assert!(msg(exists("x.c")).contains("not in the state"));
        assert!(msg(attr_matches("x.a", "s", "(")).contains("bad pattern"));
        assert!(msg(output_eq("o", 4)).contains("expected 4, got 3"));
    }
}

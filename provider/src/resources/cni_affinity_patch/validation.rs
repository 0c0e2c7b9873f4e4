//! Plan-time checks of a configuration, each reported on the attribute at fault.

use crate::cty::Value;
use crate::framework::{AttrPath, Diagnostics};

use super::target;

/// Cross-attribute checks: something names the DaemonSet, a preset agrees with an explicit
/// namespace/name, and the values are label values. Unknown values are skipped.
pub fn config(config: &Value, diags: &mut Diagnostics) {
    let get = |a: &str| config.get(a).unwrap_or(&Value::Null);
    let known = |a: &str| get(a).as_str();
    if get("preset").is_null() && get("name").is_null() {
        diags.error_at(
            AttrPath::attr("name"),
            "Missing DaemonSet",
            "Set `preset` (calico, flannel, cilium) or `name` (and `namespace`, default kube-system) of the \
             DaemonSet to patch.",
        );
    }
    if let Some(p) = known("preset").and_then(target::preset) {
        let namespace = if get("namespace").is_unknown() { None } else { known("namespace") };
        let name = if get("name").is_unknown() { None } else { known("name") };
        if let Some((attr, detail)) = target::preset_conflict(p, namespace, name) {
            diags.error_at(AttrPath::attr(attr), "Conflicts with the preset", detail);
        }
    }
    if let Some(values) = get("values").as_seq() {
        if values.is_empty() {
            diags.error_at(AttrPath::attr("values"), "Empty values", "NotIn needs at least one value.");
        }
        for (i, v) in values.iter().enumerate() {
            if let Some(Err(why)) = v.as_str().map(label_value) {
                diags.error_at(AttrPath::attr("values").then_index(i), "Invalid label value", why);
            }
        }
    }
}

/// A label name part (and value): at most 63 characters, alphanumeric at both ends, `-`, `_`,
/// `.` inside (Kubernetes "Syntax and character set" of labels).
fn name_part(s: &str) -> bool {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    s.len() <= 63
        && s.chars().all(ok_char)
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars().last().is_some_and(|c| c.is_ascii_alphanumeric())
}

/// A label key: an optional DNS-subdomain prefix and `/`, then a name part.
pub fn label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        p.len() <= 253
            && p.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            })
    });
    if prefix_ok && name_part(name) {
        Ok(())
    } else {
        Err(format!(
            "{key:?} is not a Kubernetes label key: an optional DNS subdomain prefix and `/`, then at most 63 \
             characters [A-Za-z0-9-_.] starting and ending alphanumeric (e.g. `alibabacloud.com/external`)."
        ))
    }
}

/// A label value: empty, or a name part.
pub fn label_value(value: &str) -> Result<(), String> {
    if value.is_empty() || name_part(value) {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not a Kubernetes label value: at most 63 characters [A-Za-z0-9-_.] starting and ending \
             alphanumeric."
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_syntax() {
        assert!(label_key("alibabacloud.com/external").is_ok());
        assert!(label_key("kubernetes.io/os").is_ok());
        assert!(label_key("external").is_ok());
        assert!(label_key("").is_err());
        assert!(label_key("Alibabacloud.com/external").is_err(), "prefix must be lowercase");
        assert!(label_key("alibabacloud.com/").is_err());
        assert!(label_key("a/b/c").is_err());
        assert!(label_key(&format!("x/{}", "a".repeat(64))).is_err());
        assert!(label_value("true").is_ok());
        assert!(label_value("").is_ok());
        assert!(label_value("-true").is_err());
        assert!(label_value("has space").is_err());
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    fn errors_at(config: &Value) -> Vec<String> {
        let mut d = Diagnostics::new();
        super::config(config, &mut d);
        d.iter().map(|x| x.path.as_ref().map(|p| p.to_string()).unwrap_or_default()).collect()
    }

    #[test]
    fn cross_attribute_checks_point_at_the_attribute() {
        assert_eq!(errors_at(&obj(&[])), vec!["name"]);
        assert_eq!(errors_at(&obj(&[("preset", "calico".into()), ("name", "kube-flannel-ds".into())])), vec!["name"]);
        assert_eq!(
            errors_at(&obj(&[("preset", "flannel".into()), ("namespace", "calico-system".into())])),
            vec!["namespace"]
        );
        assert!(errors_at(&obj(&[("preset", "calico".into()), ("namespace", "calico-system".into())])).is_empty());
        assert!(errors_at(&obj(&[("preset", "calico".into()), ("name", Value::Unknown)])).is_empty());
        assert!(errors_at(&obj(&[("name", "agent".into())])).is_empty(), "namespace defaults to kube-system");
        assert_eq!(errors_at(&obj(&[("name", "a".into()), ("values", Value::List(vec![]))])), vec!["values"]);
        assert_eq!(
            errors_at(&obj(&[("name", "a".into()), ("values", Value::List(vec!["ok".into(), "not ok".into()]))])),
            vec!["values[1]"]
        );
    }
}

//! Validation the real server performs for the kinds served here: type checks while decoding (400)
//! and field validation (422 Invalid with one cause per field error), after k8s.io/apimachinery
//! `validation` and k8s.io/kubernetes pkg/apis/*/validation.

use crate::kube::resources::ResourceInfo;
use crate::kube::status::{field_invalid, field_required, ApiError, Cause};
use base64::Engine;
use serde_json::Value;

const DNS1123_SUBDOMAIN: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1123_LABEL: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const CONFIG_KEY: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
const LABEL_VALUE: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const QUALIFIED_NAME: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

pub fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

fn is_label_value(s: &str) -> bool {
    s.is_empty()
        || (s.len() <= 63
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

fn is_qualified_name(s: &str) -> bool {
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    prefix.is_none_or(is_dns1123_subdomain) && !name.is_empty() && is_label_value(name)
}

fn is_config_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && s != "."
        && s != ".."
}

fn decode_error(info: &ResourceInfo, field: &str, want: &str, got: &Value) -> ApiError {
    let got_kind = match got {
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::String(_) => "string",
        Value::Null => "null",
    };
    ApiError::bad_request(format!(
        "{kind} in version \"{v}\" cannot be handled as a {kind}: json: cannot unmarshal {got_kind} into Go struct field {field} of type {want}",
        kind = info.kind,
        v = info.version
    ))
}

fn check_string_map(info: &ResourceInfo, v: &Value, go_field: &str) -> Result<(), ApiError> {
    match v {
        Value::Null => Ok(()),
        Value::Object(m) => {
            for val in m.values() {
                if !val.is_string() && !val.is_null() {
                    return Err(decode_error(info, go_field, "string", val));
                }
            }
            Ok(())
        }
        other => Err(decode_error(info, go_field, "map[string]string", other)),
    }
}

/// The checks the typed decoder would make: wrong JSON types are a 400 BadRequest.
pub fn decode_check(info: &ResourceInfo, obj: &Value) -> Result<(), ApiError> {
    if !obj.is_object() {
        return Err(ApiError::bad_request(format!(
            "{kind} in version \"{v}\" cannot be handled as a {kind}: the object must be a JSON object",
            kind = info.kind,
            v = info.version
        )));
    }
    let meta = &obj["metadata"];
    if !meta.is_null() && !meta.is_object() {
        return Err(decode_error(info, &format!("{}.metadata", info.kind), "v1.ObjectMeta", meta));
    }
    check_string_map(info, &meta["labels"], &format!("{}.metadata.labels", info.kind))?;
    check_string_map(info, &meta["annotations"], &format!("{}.metadata.annotations", info.kind))?;
    for field in ["spec", "status"] {
        let v = &obj[field];
        if !v.is_null() && !v.is_object() {
            return Err(decode_error(info, &format!("{}.{field}", info.kind), "object", v));
        }
    }
    if matches!(info.kind.as_str(), "DaemonSet" | "Deployment") && info.is_builtin() {
        for (path, v) in
            [("spec.template", &obj["spec"]["template"]), ("spec.template.spec", &obj["spec"]["template"]["spec"])]
        {
            if !v.is_null() && !v.is_object() {
                return Err(decode_error(info, &format!("{}.{path}", info.kind), "object", v));
            }
        }
    }
    if info.is_builtin() {
        match info.kind.as_str() {
            "ConfigMap" => {
                check_string_map(info, &obj["data"], "ConfigMap.data")?;
                check_string_map(info, &obj["binaryData"], "ConfigMap.binaryData")?;
            }
            "Secret" => {
                check_string_map(info, &obj["data"], "Secret.data")?;
                check_string_map(info, &obj["stringData"], "Secret.stringData")?;
                for v in obj["data"].as_object().into_iter().flatten().map(|(_, v)| v) {
                    let s = v.as_str().unwrap_or_default();
                    if let Err(e) = base64::engine::general_purpose::STANDARD.decode(s) {
                        return Err(ApiError::bad_request(format!(
                            "Secret in version \"v1\" cannot be handled as a Secret: {e}"
                        )));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn meta_causes(info: &ResourceInfo, obj: &Value, causes: &mut Vec<Cause>) {
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    let name_ok = if info.kind == "Namespace" { is_dns1123_label(name) } else { is_dns1123_subdomain(name) };
    if !name_ok && !name.is_empty() {
        let msg = if info.kind == "Namespace" { DNS1123_LABEL } else { DNS1123_SUBDOMAIN };
        causes.push(field_invalid("metadata.name", &Value::String(name.into()), msg));
    }
    for (k, v) in obj["metadata"]["labels"].as_object().into_iter().flatten() {
        if !is_qualified_name(k) {
            causes.push(field_invalid("metadata.labels", &Value::String(k.clone()), QUALIFIED_NAME));
        }
        let s = v.as_str().unwrap_or_default();
        if !is_label_value(s) {
            causes.push(field_invalid("metadata.labels", v, LABEL_VALUE));
        }
    }
    for k in obj["metadata"]["annotations"].as_object().into_iter().flatten().map(|(k, _)| k) {
        if !is_qualified_name(k) {
            causes.push(field_invalid("metadata.annotations", &Value::String(k.clone()), QUALIFIED_NAME));
        }
    }
}

fn workload_causes(obj: &Value, old: Option<&Value>, causes: &mut Vec<Cause>) {
    let spec = &obj["spec"];
    let selector = &spec["selector"];
    if selector.is_null() {
        causes.push(field_required("spec.selector", ""));
    } else {
        let tpl_labels = spec["template"]["metadata"]["labels"].as_object();
        let matches = selector["matchLabels"]
            .as_object()
            .into_iter()
            .flatten()
            .all(|(k, v)| tpl_labels.and_then(|l| l.get(k)) == Some(v));
        if !matches {
            causes.push(field_invalid(
                "spec.template.metadata.labels",
                &spec["template"]["metadata"]["labels"],
                "`selector` does not match template `labels`",
            ));
        }
        if selector["matchLabels"].as_object().is_none_or(|m| m.is_empty())
            && selector["matchExpressions"].as_array().is_none_or(|a| a.is_empty())
        {
            causes.push(field_invalid("spec.selector", selector, "empty selector is invalid for daemonset"));
        }
    }
    if let Some(old) = old {
        if old["spec"]["selector"] != *selector && obj["kind"] == "DaemonSet" {
            causes.push(field_invalid("spec.selector", selector, "field is immutable"));
        }
    }
    match spec["template"]["spec"]["containers"].as_array() {
        Some(cs) if !cs.is_empty() => {
            for (i, c) in cs.iter().enumerate() {
                let name = c["name"].as_str().unwrap_or_default();
                if name.is_empty() {
                    causes.push(field_required(&format!("spec.template.spec.containers[{i}].name"), ""));
                } else if !is_dns1123_label(name) {
                    causes.push(field_invalid(
                        &format!("spec.template.spec.containers[{i}].name"),
                        &c["name"],
                        DNS1123_LABEL,
                    ));
                }
                if c["image"].as_str().is_none_or(str::is_empty) {
                    causes.push(field_required(&format!("spec.template.spec.containers[{i}].image"), ""));
                }
            }
        }
        _ => causes.push(field_required("spec.template.spec.containers", "")),
    }
}

/// Field validation; `old` is the stored object on update.
pub fn validate(info: &ResourceInfo, obj: &Value, old: Option<&Value>) -> Result<(), ApiError> {
    let mut causes = Vec::new();
    meta_causes(info, obj, &mut causes);
    if info.is_builtin() {
        match info.kind.as_str() {
            "ConfigMap" | "Secret" => {
                for field in ["data", "binaryData", "stringData"] {
                    for k in obj[field].as_object().into_iter().flatten().map(|(k, _)| k) {
                        if !is_config_key(k) {
                            causes.push(field_invalid(&format!("{field}[{k}]"), &Value::String(k.clone()), CONFIG_KEY));
                        }
                    }
                }
                if let Some(old) = old {
                    if old["immutable"] == Value::Bool(true) {
                        for field in ["data", "binaryData"] {
                            if old[field] != obj[field] {
                                causes.push(Cause {
                                    reason: Some("FieldValueForbidden".into()),
                                    message: "Forbidden: field is immutable when `immutable` is set".to_string(),
                                    field: Some(field.into()),
                                });
                            }
                        }
                    }
                    if info.kind == "Secret" && old["type"] != obj["type"] {
                        causes.push(field_invalid("type", &obj["type"], "field is immutable"));
                    }
                }
            }
            "DaemonSet" | "Deployment" => workload_causes(obj, old, &mut causes),
            "CustomResourceDefinition" => {
                let spec = &obj["spec"];
                let expected = format!(
                    "{}.{}",
                    spec["names"]["plural"].as_str().unwrap_or_default(),
                    spec["group"].as_str().unwrap_or_default()
                );
                if obj["metadata"]["name"].as_str() != Some(expected.as_str()) {
                    causes.push(field_invalid(
                        "metadata.name",
                        &obj["metadata"]["name"],
                        "must be spec.names.plural+\".\"+spec.group",
                    ));
                }
                let versions = spec["versions"].as_array().cloned().unwrap_or_default();
                if versions.is_empty() {
                    causes.push(field_required(
                        "spec.versions",
                        "must have exactly one version marked as storage version",
                    ));
                } else if versions.iter().filter(|v| v["storage"] == Value::Bool(true)).count() != 1 {
                    causes.push(field_invalid(
                        "spec.versions",
                        &Value::Array(versions.clone()),
                        "must have exactly one version marked as storage version",
                    ));
                }
                if !matches!(spec["scope"].as_str(), Some("Namespaced") | Some("Cluster")) {
                    causes.push(field_required("spec.scope", ""));
                }
            }
            _ => {}
        }
    }
    if causes.is_empty() {
        Ok(())
    } else {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        Err(ApiError::invalid(&info.group, &info.kind, name, causes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::resources::builtins;
    use serde_json::json;

    fn info(kind: &str) -> ResourceInfo {
        builtins().into_iter().find(|r| r.kind == kind).unwrap()
    }

    // API conventions "Naming conventions" / Object Names and IDs: DNS-1123 subdomain names.
    #[test]
    fn bad_name_is_invalid() {
        let e = validate(&info("ConfigMap"), &json!({"metadata":{"name":"Bad_Name"}}), None).unwrap_err();
        assert_eq!(e.code, 422);
        assert_eq!(e.causes[0].field.as_deref(), Some("metadata.name"));
    }

    // ConfigMap docs: keys must be valid config keys; values are strings (a number fails decoding with 400).
    #[test]
    fn configmap_keys_and_types() {
        let cm = info("ConfigMap");
        assert_eq!(decode_check(&cm, &json!({"data":{"a":1}})).unwrap_err().code, 400);
        let ds = info("DaemonSet");
        assert_eq!(decode_check(&ds, &json!({"spec":"x"})).unwrap_err().code, 400);
        assert_eq!(decode_check(&ds, &json!({"spec":{"template":[]}})).unwrap_err().code, 400);
        let e = validate(&cm, &json!({"metadata":{"name":"x"},"data":{"a b":"1"}}), None).unwrap_err();
        assert_eq!(e.causes[0].field.as_deref(), Some("data[a b]"));
    }

    // DaemonSet docs "Pod Selector": the selector must match the template labels and is immutable.
    #[test]
    fn daemonset_selector_rules() {
        let ds = info("DaemonSet");
        let good = json!({"kind":"DaemonSet","metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"a":"b"}},
            "template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}});
        validate(&ds, &good, None).unwrap();
        let mut moved = good.clone();
        moved["spec"]["selector"]["matchLabels"]["a"] = json!("c");
        moved["spec"]["template"]["metadata"]["labels"]["a"] = json!("c");
        let e = validate(&ds, &moved, Some(&good)).unwrap_err();
        assert!(e.message.contains("field is immutable"), "{}", e.message);
        let mut mismatched = good.clone();
        mismatched["spec"]["template"]["metadata"]["labels"] = json!({"x":"y"});
        assert!(validate(&ds, &mismatched, None).unwrap_err().message.contains("does not match"));
    }
}

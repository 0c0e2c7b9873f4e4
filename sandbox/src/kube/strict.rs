//! `fieldValidation=Strict` (API concepts, "Field validation"): unknown fields are a 400.
//!
//! Custom resources are checked against their CRD's structural schema (honouring
//! `x-kubernetes-preserve-unknown-fields`). Built-in kinds are checked at the top level and in
//! `metadata` only, because the sandbox does not carry their full schemas.

use crate::kube::resources::ResourceInfo;
use crate::kube::status::ApiError;
use serde_json::Value;

const OBJECT_META: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

fn builtin_top_level(kind: &str) -> &'static [&'static str] {
    match kind {
        "ConfigMap" => &["apiVersion", "kind", "metadata", "data", "binaryData", "immutable"],
        "Secret" => &["apiVersion", "kind", "metadata", "data", "stringData", "type", "immutable"],
        _ => &["apiVersion", "kind", "metadata", "spec", "status"],
    }
}

fn walk(v: &Value, schema: Option<&Value>, path: &str, out: &mut Vec<String>) {
    let Some(s) = schema else { return };
    if s.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) && s.get("properties").is_none() {
        return;
    }
    match v {
        Value::Object(m) => {
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                let preserve = s.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
                for (k, c) in m {
                    let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    match props.get(k) {
                        Some(cs) => walk(c, Some(cs), &p, out),
                        None if !preserve => out.push(p),
                        None => {}
                    }
                }
            } else if let Some(ap) = s.get("additionalProperties").filter(|a| a.is_object()) {
                for (k, c) in m {
                    walk(c, Some(ap), &format!("{path}.{k}"), out);
                }
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                walk(c, s.get("items"), &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// The unknown fields of `obj`, as dotted paths.
pub fn unknown_fields(info: &ResourceInfo, obj: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(m) = obj.as_object() {
        let top: Vec<&str> = match &info.custom {
            Some(_) => vec!["apiVersion", "kind", "metadata"],
            None => builtin_top_level(&info.kind).to_vec(),
        };
        for (k, v) in m {
            if k == "metadata" {
                for mk in v.as_object().into_iter().flatten().map(|(k, _)| k) {
                    if !OBJECT_META.contains(&mk.as_str()) {
                        out.push(format!("metadata.{mk}"));
                    }
                }
            } else if !top.contains(&k.as_str()) {
                match &info.custom {
                    Some(c) => {
                        let props = c.schema.get("properties");
                        match props.and_then(|p| p.get(k)) {
                            Some(s) => walk(v, Some(s), k, &mut out),
                            None if c.schema.get("x-kubernetes-preserve-unknown-fields")
                                != Some(&Value::Bool(true)) =>
                            {
                                out.push(k.clone())
                            }
                            None => {}
                        }
                    }
                    None => out.push(k.clone()),
                }
            }
        }
    }
    out
}

/// Rejects unknown fields when `directive` is `Strict`; `Warn` and `Ignore` accept the object.
pub fn check(info: &ResourceInfo, obj: &Value, directive: &str) -> Result<(), ApiError> {
    if directive != "Strict" {
        return Ok(());
    }
    let unknown = unknown_fields(info, obj);
    if unknown.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = unknown.iter().map(|f| format!("unknown field \"{f}\"")).collect();
    Err(ApiError::bad_request(format!(
        "{kind} in version \"{v}\" cannot be handled as a {kind}: strict decoding error: {}",
        list.join(", "),
        kind = info.kind,
        v = info.version
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::resources::{builtins, from_crd};
    use crate::kube::seed::calico_crds;
    use serde_json::json;

    // API concepts "Field validation": Strict rejects unknown fields with a 400 listing them.
    #[test]
    fn strict_rejects_unknown_fields() {
        let cm = builtins().into_iter().find(|r| r.kind == "ConfigMap").unwrap();
        assert!(check(&cm, &json!({"metadata":{"name":"x"},"data":{}}), "Strict").is_ok());
        let e = check(&cm, &json!({"metadata":{"name":"x","bogus":1},"spec":{}}), "Strict").unwrap_err();
        assert_eq!(e.code, 400);
        assert!(e.message.contains("unknown field \"metadata.bogus\""), "{}", e.message);
        assert!(check(&cm, &json!({"spec":{}}), "Ignore").is_ok());
        let pool = from_crd(&calico_crds()[0]).remove(0);
        assert!(
            unknown_fields(&pool, &json!({"spec":{"cidr":"x","other":1}})).is_empty(),
            "spec preserves unknown fields"
        );
        assert_eq!(unknown_fields(&pool, &json!({"extra":1})), vec!["extra".to_string()]);
    }
}

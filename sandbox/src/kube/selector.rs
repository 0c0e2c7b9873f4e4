//! Label and field selectors for list calls (Labels and Selectors user guide; API conventions
//! "List Operations": `labelSelector` and `fieldSelector` query parameters).

use crate::kube::status::ApiError;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Req {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed `labelSelector` (set-based and equality-based requirements, ANDed).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LabelSelector(Vec<Req>);

fn split_top(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

fn values(s: &str) -> Result<Vec<String>, ApiError> {
    let inner = s
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| ApiError::bad_request(format!("unable to parse requirement: found '{s}', expected: '('")))?;
    Ok(inner.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect())
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        for part in split_top(s) {
            let p = part.trim();
            if p.is_empty() {
                continue;
            }
            let req = if let Some(k) = p.strip_prefix('!') {
                Req::NotExists(k.trim().to_string())
            } else if let Some((k, v)) = p.split_once("!=") {
                Req::NotEq(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = p.split_once("==") {
                Req::Eq(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = p.split_once('=') {
                Req::Eq(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = p.split_once(" notin ") {
                Req::NotIn(k.trim().into(), values(v)?)
            } else if let Some((k, v)) = p.split_once(" in ") {
                Req::In(k.trim().into(), values(v)?)
            } else if p.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c)) {
                Req::Exists(p.to_string())
            } else {
                return Err(ApiError::bad_request(format!(
                    "unable to parse requirement: <nil>: Invalid value: \"{p}\": invalid label selector"
                )));
            };
            reqs.push(req);
        }
        Ok(LabelSelector(reqs))
    }

    pub fn matches(&self, labels: Option<&serde_json::Map<String, Value>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            Req::Eq(k, v) => get(k) == Some(v.as_str()),
            Req::NotEq(k, v) => get(k) != Some(v.as_str()),
            Req::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Req::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            Req::Exists(k) => get(k).is_some(),
            Req::NotExists(k) => get(k).is_none(),
        })
    }
}

/// A parsed `fieldSelector`; like most resources, only `metadata.name` and `metadata.namespace` are supported.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, eq, v) = if let Some((k, v)) = part.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = part.split_once("==") {
                (k, true, v)
            } else if let Some((k, v)) = part.split_once('=') {
                (k, true, v)
            } else {
                return Err(ApiError::bad_request(format!("invalid selector: '{part}'; can't understand '{part}'")));
            };
            let k = k.trim();
            if k != "metadata.name" && k != "metadata.namespace" {
                return Err(ApiError::bad_request(format!("field label not supported: {k}")));
            }
            out.push((k.to_string(), eq, v.trim().to_string()));
        }
        Ok(FieldSelector(out))
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(k, eq, v)| {
            let field = k.trim_start_matches("metadata.");
            let actual = obj["metadata"][field].as_str().unwrap_or_default();
            (actual == v) == *eq
        })
    }
}

/// Matches a workload's `nodeSelector` map and required node affinity against a Node's labels,
/// the way the DaemonSet controller decides where its pods go.
pub fn node_matches_pod_spec(pod_spec: &Value, node_labels: Option<&serde_json::Map<String, Value>>) -> bool {
    let get = |k: &str| node_labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    if let Some(sel) = pod_spec["nodeSelector"].as_object() {
        if !sel.iter().all(|(k, v)| get(k) == v.as_str()) {
            return false;
        }
    }
    let terms =
        &pod_spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"];
    let Some(terms) = terms.as_array() else {
        return true;
    };
    // Terms are ORed; expressions within a term are ANDed; an empty term matches nothing.
    terms.iter().any(|t| {
        let exprs = t["matchExpressions"].as_array().cloned().unwrap_or_default();
        if exprs.is_empty() {
            return false;
        }
        exprs.iter().all(|e| {
            let key = e["key"].as_str().unwrap_or_default();
            let vals: Vec<&str> = e["values"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            match e["operator"].as_str().unwrap_or_default() {
                "In" => get(key).is_some_and(|x| vals.contains(&x)),
                "NotIn" => get(key).is_none_or(|x| !vals.contains(&x)),
                "Exists" => get(key).is_some(),
                "DoesNotExist" => get(key).is_none(),
                "Gt" | "Lt" => {
                    let (Some(x), Some(v)) = (
                        get(key).and_then(|x| x.parse::<i64>().ok()),
                        vals.first().and_then(|v| v.parse::<i64>().ok()),
                    ) else {
                        return false;
                    };
                    if e["operator"] == "Gt" {
                        x > v
                    } else {
                        x < v
                    }
                }
                _ => false,
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Labels and Selectors guide, "Equality-based requirement" and "Set-based requirement".
    #[test]
    fn label_selectors() {
        let labels = json!({"env":"prod","tier":"fe"});
        let l = labels.as_object();
        assert!(LabelSelector::parse("env=prod,tier!=be").unwrap().matches(l));
        assert!(LabelSelector::parse("env in (prod, qa),!gone,tier").unwrap().matches(l));
        assert!(!LabelSelector::parse("env notin (prod)").unwrap().matches(l));
        assert!(!LabelSelector::parse("missing").unwrap().matches(l));
        assert!(LabelSelector::parse("").unwrap().matches(None));
    }

    // API conventions "List Operations": unsupported field labels are a 400.
    #[test]
    fn field_selectors() {
        let obj = json!({"metadata":{"name":"a","namespace":"n"}});
        assert!(FieldSelector::parse("metadata.name=a").unwrap().matches(&obj));
        assert!(!FieldSelector::parse("metadata.namespace!=n").unwrap().matches(&obj));
        assert_eq!(FieldSelector::parse("spec.x=1").unwrap_err().code, 400);
    }

    // Assigning Pods to Nodes, "Node affinity": terms ORed, expressions ANDed.
    #[test]
    fn node_affinity_matching() {
        let spec = json!({"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{
            "nodeSelectorTerms":[{"matchExpressions":[{"key":"kubernetes.io/os","operator":"In","values":["linux"]},
                                                      {"key":"alibabacloud.com/external","operator":"NotIn","values":["true"]}]}]}}}});
        let onprem = json!({"kubernetes.io/os":"linux"});
        let cloud = json!({"kubernetes.io/os":"linux","alibabacloud.com/external":"true"});
        assert!(node_matches_pod_spec(&spec, onprem.as_object()));
        assert!(!node_matches_pod_spec(&spec, cloud.as_object()));
    }
}

//! Reading resources and attributes out of Terraform's JSON state and plan representations.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Result};
use serde_json::Value;

/// `terraform show -json` of the state, with lookups by resource address.
#[derive(Debug, Clone)]
pub struct State {
    pub json: Value,
}

impl State {
    pub fn new(json: Value) -> Self {
        State { json }
    }

    /// Every resource and data source in the state (root and child modules).
    pub fn resources(&self) -> Vec<&Value> {
        let mut out = Vec::new();
        if let Some(root) = self.json.pointer("/values/root_module") {
            collect_resources(root, &mut out);
        }
        out
    }

    /// Addresses of everything in the state, e.g. `data.hybrid_datapath_image.x`.
    pub fn addresses(&self) -> Vec<String> {
        self.resources().iter().filter_map(|r| r.get("address")?.as_str().map(str::to_owned)).collect()
    }

    /// The state entry (address, mode, type, values, sensitive_values, ...) for `address`.
    pub fn resource(&self, address: &str) -> Option<&Value> {
        self.resources().into_iter().find(|r| r.get("address").and_then(Value::as_str) == Some(address))
    }

    /// The attribute values of `address`.
    pub fn values(&self, address: &str) -> Result<&Value> {
        let resource = self
            .resource(address)
            .ok_or_else(|| anyhow!("{address} is not in the state (state has: [{}])", self.addresses().join(", ")))?;
        resource.get("values").ok_or_else(|| anyhow!("{address} has no values in the state"))
    }

    /// One attribute of `address` by path (see [`lookup`]); null when the attribute is null.
    pub fn attr(&self, address: &str, path: &str) -> Result<Value> {
        lookup(self.values(address)?, path).map_err(|e| anyhow!("{address}: {e}"))
    }

    /// A string attribute of `address`.
    pub fn attr_str(&self, address: &str, path: &str) -> Result<String> {
        match self.attr(address, path)? {
            Value::String(s) => Ok(s),
            other => bail!("{address}.{path} is {}, not a string", describe(&other, self.is_sensitive(address, path))),
        }
    }

    /// Whether Terraform marks the attribute (or a containing value) sensitive.
    pub fn is_sensitive(&self, address: &str, path: &str) -> bool {
        let Some(marks) = self.resource(address).and_then(|r| r.get("sensitive_values")) else {
            return false;
        };
        is_marked(marks, path)
    }

    /// A root module output's value.
    pub fn output(&self, name: &str) -> Result<Value> {
        self.json
            .pointer(&format!("/values/outputs/{name}/value"))
            .cloned()
            .ok_or_else(|| anyhow!("output {name:?} is not in the state"))
    }
}

fn collect_resources<'a>(module: &'a Value, out: &mut Vec<&'a Value>) {
    if let Some(resources) = module.get("resources").and_then(Value::as_array) {
        out.extend(resources.iter());
    }
    if let Some(children) = module.get("child_modules").and_then(Value::as_array) {
        for child in children {
            collect_resources(child, out);
        }
    }
}

/// One step of an attribute path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    /// An object key, or a list index when the value there is a list.
    Name(String),
    /// A quoted map key (`["kubernetes.io/os"]`): always a key.
    Key(String),
    /// `#` or `%` at the end: the number of elements.
    Count,
}

/// Parses `a.b.0.c`, `labels["kubernetes.io/os"]`, `items[2].name`, `list.#`.
pub fn parse_path(path: &str) -> Result<Vec<PathSegment>> {
    let mut segments = Vec::new();
    let mut chars = path.chars().peekable();
    let mut current = String::new();
    // `a[0].b`: a dot right after `]` separates nothing new.
    let mut after_bracket = false;
    let flush = |current: &mut String, segments: &mut Vec<PathSegment>| {
        if !current.is_empty() {
            let seg = if current == "#" || current == "%" {
                PathSegment::Count
            } else {
                PathSegment::Name(std::mem::take(current))
            };
            current.clear();
            segments.push(seg);
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if current.is_empty() && !after_bracket {
                    bail!("empty segment in attribute path {path:?}");
                }
                flush(&mut current, &mut segments);
                after_bracket = false;
            }
            '[' => {
                flush(&mut current, &mut segments);
                let mut inner = String::new();
                if chars.peek() == Some(&'"') {
                    chars.next();
                    loop {
                        match chars.next() {
                            Some('\\') => inner.push(chars.next().ok_or_else(|| anyhow!("bad escape in {path:?}"))?),
                            Some('"') => break,
                            Some(c) => inner.push(c),
                            None => bail!("unterminated quoted key in {path:?}"),
                        }
                    }
                    if chars.next() != Some(']') {
                        bail!("expected ] after quoted key in {path:?}");
                    }
                    segments.push(PathSegment::Key(inner));
                } else {
                    for c in chars.by_ref() {
                        if c == ']' {
                            break;
                        }
                        inner.push(c);
                    }
                    if inner.parse::<usize>().is_err() {
                        bail!("[{inner}] in {path:?} is neither an index nor a quoted key");
                    }
                    segments.push(PathSegment::Name(inner));
                }
                after_bracket = true;
            }
            c => {
                if after_bracket {
                    bail!("expected . or [ after ] in {path:?}");
                }
                current.push(c);
            }
        }
    }
    flush(&mut current, &mut segments);
    if segments.is_empty() {
        bail!("empty attribute path");
    }
    if segments[..segments.len() - 1].contains(&PathSegment::Count) {
        bail!("# or % may only end an attribute path ({path:?})");
    }
    Ok(segments)
}

/// Follows `path` into `value`. Missing object keys are an error naming the keys that exist;
/// a path through a null value yields null.
pub fn lookup(value: &Value, path: &str) -> Result<Value> {
    let mut current = value;
    let mut walked = String::new();
    for seg in parse_path(path)? {
        match (&seg, current) {
            (_, Value::Null) => return Ok(Value::Null),
            (PathSegment::Count, Value::Array(items)) => return Ok(Value::from(items.len())),
            (PathSegment::Count, Value::Object(map)) => return Ok(Value::from(map.len())),
            (PathSegment::Count, other) => bail!("{walked} is {}, it has no element count", kind(other)),
            (PathSegment::Name(name), Value::Array(items)) => {
                let index: usize = name.parse().map_err(|_| anyhow!("{walked} is a list; {name:?} is not an index"))?;
                current =
                    items.get(index).ok_or_else(|| anyhow!("{walked} has {} elements, no [{index}]", items.len()))?;
            }
            (PathSegment::Name(key) | PathSegment::Key(key), Value::Object(map)) => {
                current = map.get(key).ok_or_else(|| {
                    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
                    anyhow!("no attribute {key:?} at {:?} (has: {})", display_walked(&walked), keys.join(", "))
                })?;
            }
            (_, other) => bail!("{} is {}, cannot go into it", display_walked(&walked), kind(other)),
        }
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(&match seg {
            PathSegment::Name(s) | PathSegment::Key(s) => s,
            PathSegment::Count => "#".into(),
        });
    }
    Ok(current.clone())
}

fn display_walked(walked: &str) -> &str {
    if walked.is_empty() {
        "the top level"
    } else {
        walked
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A value for a message: the JSON text, or `(sensitive)`.
pub fn describe(value: &Value, sensitive: bool) -> String {
    if sensitive {
        "(sensitive)".into()
    } else {
        value.to_string()
    }
}

/// Whether a `sensitive_values`/`after_sensitive` tree marks `path` (or a value containing it) true.
pub fn is_marked(marks: &Value, path: &str) -> bool {
    let Ok(segments) = parse_path(path) else { return false };
    let mut current = marks;
    for seg in segments {
        if current == &Value::Bool(true) {
            return true;
        }
        current = match (seg, current) {
            (PathSegment::Name(n), Value::Array(items)) => match n.parse::<usize>().ok().and_then(|i| items.get(i)) {
                Some(v) => v,
                None => return false,
            },
            (PathSegment::Name(k) | PathSegment::Key(k), Value::Object(map)) => match map.get(&k) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    current == &Value::Bool(true)
}

/// Flattens a value into `path -> leaf` (lists also get `path.#` = length), for comparing two
/// objects attribute by attribute.
pub fn flatten(value: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    flatten_into(value, String::new(), &mut out);
    out
}

fn flatten_into(value: &Value, prefix: String, out: &mut BTreeMap<String, Value>) {
    let join = |k: &str| if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") };
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                flatten_into(v, join(k), out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            out.insert(join("#"), Value::from(items.len()));
            for (i, v) in items.iter().enumerate() {
                flatten_into(v, join(&i.to_string()), out);
            }
        }
        leaf => {
            out.insert(prefix, leaf.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> State {
        State::new(json!({
            "format_version": "1.0",
            "values": {
                "outputs": {"ref": {"sensitive": false, "value": "r:1"}},
                "root_module": {
                    "resources": [{
                        "address": "data.hybrid_datapath_image.x",
                        "mode": "data",
                        "values": {
                            "region": "cn-hangzhou",
                            "images": [{"name": "terway", "tag": "v1"}],
                            "labels": {"kubernetes.io/os": "linux"},
                            "secret": "s3cr3t",
                            "nothing": null
                        },
                        "sensitive_values": {"secret": true, "images": [{}], "labels": {}}
                    }],
                    "child_modules": [{
                        "address": "module.m",
                        "resources": [{"address": "module.m.terraform_data.t", "values": {"id": "abc"}}]
                    }]
                }
            }
        }))
    }

    #[test]
    fn finds_resources_in_root_and_child_modules() {
        let s = sample();
        assert_eq!(s.addresses(), vec!["data.hybrid_datapath_image.x", "module.m.terraform_data.t"]);
        assert_eq!(s.attr_str("module.m.terraform_data.t", "id").unwrap(), "abc");
        let err = s.attr("terraform_data.missing", "id").unwrap_err().to_string();
        assert!(err.contains("not in the state") && err.contains("module.m.terraform_data.t"), "{err}");
        assert!(State::new(json!({"format_version": "1.0"})).resources().is_empty());
    }

    #[test]
    fn attribute_paths() {
        let s = sample();
        let a = "data.hybrid_datapath_image.x";
        assert_eq!(s.attr(a, "images.0.tag").unwrap(), json!("v1"));
        assert_eq!(s.attr(a, "images[0].name").unwrap(), json!("terway"));
        assert_eq!(s.attr(a, "images.#").unwrap(), json!(1));
        assert_eq!(s.attr(a, "labels.%").unwrap(), json!(1));
        assert_eq!(s.attr(a, r#"labels["kubernetes.io/os"]"#).unwrap(), json!("linux"));
        assert_eq!(s.attr(a, "nothing").unwrap(), Value::Null);
        assert_eq!(s.attr(a, "nothing.deeper").unwrap(), Value::Null);
        let err = s.attr(a, "regoin").unwrap_err().to_string();
        assert!(err.contains("regoin") && err.contains("region"), "{err}");
        assert!(s.attr(a, "images.3").unwrap_err().to_string().contains("1 elements"));
        assert!(s.attr(a, "region.x").is_err());
        assert!(parse_path("a..b").is_err());
        assert!(parse_path("a.#.b").is_err());
        assert!(parse_path("a[x]").is_err());
    }

    #[test]
    fn sensitivity_follows_the_marks() {
        let s = sample();
        let a = "data.hybrid_datapath_image.x";
        assert!(s.is_sensitive(a, "secret"));
        assert!(!s.is_sensitive(a, "region"));
        assert!(!s.is_sensitive(a, "images.0.tag"));
        assert!(is_marked(&json!({"k": true}), "k.inner.0"));
        let err = State::new(s.json.clone()).attr_str(a, "images").unwrap_err().to_string();
        assert!(err.contains("not a string"), "{err}");
    }

    #[test]
    fn outputs() {
        assert_eq!(sample().output("ref").unwrap(), json!("r:1"));
        assert!(sample().output("nope").is_err());
    }

    #[test]
    fn flatten_lists_every_leaf() {
        let flat = flatten(&json!({"a": {"b": 1, "c": [true, {"d": null}]}, "e": [], "f": {}}));
        let keys: Vec<&str> = flat.keys().map(String::as_str).collect();
        assert_eq!(keys, vec!["a.b", "a.c.#", "a.c.0", "a.c.1.d", "e", "f"]);
        assert_eq!(flat["a.c.#"], json!(2));
    }
}

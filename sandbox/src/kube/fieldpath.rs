//! Field paths and field sets, the ownership model behind `metadata.managedFields`
//! (sigs.k8s.io/structured-merge-diff `fieldpath`, serialized as `FieldsV1`).

use crate::kube::schema::{ListType, Node};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// One step of a path: a field name, a keyed list item (`k:{...}`), a set element (`v:...`), or an
/// index into an atomic-but-walked list (`i:N`, only ever read back from clients).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathElement {
    Field(String),
    /// Canonical JSON of the key fields, sorted by field name.
    Key(String),
    /// Canonical JSON of the element value.
    Value(String),
    Index(usize),
}

pub type Path = Vec<PathElement>;

/// A set of owned paths. Leaves, list items and set elements are members; plain maps and structs
/// are only present through their children, as in structured-merge-diff.
pub type FieldSet = BTreeSet<Path>;

fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let inner: Vec<String> =
                keys.into_iter().map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&m[k]))).collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// The `k:` element of a keyed list item, or `None` when the item is not an object.
pub fn key_element(item: &Value, keys: &[String]) -> Option<PathElement> {
    let m = item.as_object()?;
    let mut km = Map::new();
    let mut sorted = keys.to_vec();
    sorted.sort();
    for k in sorted {
        if let Some(v) = m.get(&k) {
            km.insert(k, v.clone());
        }
    }
    Some(PathElement::Key(canonical(&Value::Object(km))))
}

pub fn value_element(v: &Value) -> PathElement {
    PathElement::Value(canonical(v))
}

/// `fieldpath.Path.String()`: `.spec.containers[name="c"].image`, `.metadata.finalizers[="x"]`.
pub fn path_string(p: &[PathElement]) -> String {
    let mut s = String::new();
    for e in p {
        match e {
            PathElement::Field(f) => {
                s.push('.');
                s.push_str(f);
            }
            PathElement::Key(k) => {
                let parsed: Value = serde_json::from_str(k).unwrap_or(Value::Null);
                let parts: Vec<String> =
                    parsed.as_object().map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect()).unwrap_or_default();
                s.push_str(&format!("[{}]", parts.join(",")));
            }
            PathElement::Value(v) => s.push_str(&format!("[={v}]")),
            PathElement::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn is_walked_object(v: &Value, schema: &Node<'_>) -> bool {
    v.is_object() && !schema.is_atomic_object()
}

fn walked_list(v: &Value, schema: &Node<'_>) -> Option<ListType> {
    if !v.is_array() {
        return None;
    }
    match schema.list_type() {
        ListType::Atomic => None,
        t => Some(t),
    }
}

/// The children of a walked map or list: (element, child value, child schema).
fn children<'v, 's>(v: &'v Value, schema: &Node<'s>) -> Vec<(PathElement, &'v Value, Node<'s>)> {
    if is_walked_object(v, schema) {
        return v
            .as_object()
            .map(|m| m.iter().map(|(k, c)| (PathElement::Field(k.clone()), c, schema.field(k))).collect())
            .unwrap_or_default();
    }
    match walked_list(v, schema) {
        Some(ListType::Set) => {
            v.as_array().map(|a| a.iter().map(|c| (value_element(c), c, schema.items())).collect()).unwrap_or_default()
        }
        Some(ListType::Map(keys)) => v
            .as_array()
            .map(|a| {
                a.iter()
                    .enumerate()
                    .map(|(i, c)| (key_element(c, &keys).unwrap_or(PathElement::Index(i)), c, schema.items()))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn is_container(v: &Value, schema: &Node<'_>) -> bool {
    is_walked_object(v, schema) || walked_list(v, schema).is_some()
}

/// The fields an applied configuration sets (`TypedValue.ToFieldSet`).
pub fn to_field_set(v: &Value, schema: &Node<'_>) -> FieldSet {
    let mut out = FieldSet::new();
    walk_set(v, schema, &mut Vec::new(), &mut out, false);
    out
}

fn walk_set(v: &Value, schema: &Node<'_>, path: &mut Path, out: &mut FieldSet, is_list_item: bool) {
    if !is_container(v, schema) {
        if !path.is_empty() {
            out.insert(path.clone());
        }
        return;
    }
    if is_list_item {
        out.insert(path.clone());
    }
    let list = v.is_array();
    for (pe, c, cs) in children(v, schema) {
        path.push(pe);
        walk_set(c, &cs, path, out, list);
        path.pop();
    }
}

/// What changed between two objects (`typed.Comparison`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Comparison {
    pub added: FieldSet,
    pub modified: FieldSet,
    pub removed: FieldSet,
}

impl Comparison {
    pub fn is_same(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.removed.is_empty()
    }
}

pub fn compare(old: &Value, new: &Value, schema: &Node<'_>) -> Comparison {
    let mut c = Comparison::default();
    walk_compare(Some(old), Some(new), schema, &mut Vec::new(), &mut c);
    c
}

/// Structs the schema describes field by field are never owned as a whole (Go non-pointer structs).
fn owns_container(schema: &Node<'_>, path: &Path) -> bool {
    !path.is_empty() && schema.0.is_none_or(|s| s.get("properties").is_none())
}

fn walk_compare(old: Option<&Value>, new: Option<&Value>, schema: &Node<'_>, path: &mut Path, c: &mut Comparison) {
    match (old, new) {
        (None, None) => {}
        (None, Some(n)) => {
            if is_container(n, schema) {
                if owns_container(schema, path) {
                    c.added.insert(path.clone());
                }
                for (pe, child, cs) in children(n, schema) {
                    path.push(pe);
                    walk_compare(None, Some(child), &cs, path, c);
                    path.pop();
                }
            } else if !path.is_empty() {
                c.added.insert(path.clone());
            }
        }
        (Some(o), None) => {
            if !path.is_empty() {
                c.removed.insert(path.clone());
            }
            if is_container(o, schema) {
                for (pe, child, cs) in children(o, schema) {
                    path.push(pe);
                    walk_compare(Some(child), None, &cs, path, c);
                    path.pop();
                }
            }
        }
        (Some(o), Some(n)) => {
            let same_shape = is_container(o, schema) && is_container(n, schema) && o.is_array() == n.is_array();
            if !same_shape {
                if o != n && !path.is_empty() {
                    c.modified.insert(path.clone());
                }
                return;
            }
            let oc = children(o, schema);
            let nc = children(n, schema);
            for (pe, child, cs) in &nc {
                let before = oc.iter().find(|(p, _, _)| p == pe).map(|(_, v, _)| *v);
                path.push(pe.clone());
                walk_compare(before, Some(child), cs, path, c);
                path.pop();
            }
            for (pe, child, cs) in &oc {
                if !nc.iter().any(|(p, _, _)| p == pe) {
                    path.push(pe.clone());
                    walk_compare(Some(child), None, cs, path, c);
                    path.pop();
                }
            }
        }
    }
}

/// Server-side apply's merge of an applied configuration into the live object
/// (structured-merge-diff `merge`): maps and associative lists merge, everything else is replaced.
pub fn apply_merge(live: &Value, config: &Value, schema: &Node<'_>) -> Value {
    if is_walked_object(config, schema) && live.is_object() {
        let mut out = live.as_object().cloned().unwrap_or_default();
        for (k, cv) in config.as_object().into_iter().flatten() {
            let merged = match out.get(k) {
                Some(lv) => apply_merge(lv, cv, &schema.field(k)),
                None => cv.clone(),
            };
            out.insert(k.clone(), merged);
        }
        return Value::Object(out);
    }
    if let (Some(lt), Value::Array(la), Value::Array(ca)) = (walked_list(config, schema), live, config) {
        let ident = |v: &Value| match &lt {
            ListType::Map(keys) => key_element(v, keys),
            _ => Some(value_element(v)),
        };
        let item_schema = schema.items();
        let lk: Vec<Option<PathElement>> = la.iter().map(ident).collect();
        let ck: Vec<Option<PathElement>> = ca.iter().map(ident).collect();
        // Interleave live and applied items keeping both relative orders (structured-merge-diff's
        // list merge): matched items merge, live-only items stay where they were.
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < la.len() || j < ca.len() {
            if i < la.len() && j < ca.len() && lk[i] == ck[j] {
                out.push(apply_merge(&la[i], &ca[j], &item_schema));
                i += 1;
                j += 1;
            } else if i < la.len() && !ck.contains(&lk[i]) {
                out.push(la[i].clone());
                i += 1;
            } else if j < ca.len() {
                let pos = lk.iter().position(|k| *k == ck[j]);
                match pos {
                    Some(p) => out.push(apply_merge(&la[p], &ca[j], &item_schema)),
                    None => out.push(ca[j].clone()),
                }
                j += 1;
            } else {
                // Live item that the config also has but was already emitted.
                i += 1;
            }
        }
        return Value::Array(out);
    }
    config.clone()
}

/// Removes the value at each path in `paths` (deepest first), leaving everything else untouched.
pub fn remove_paths(v: &mut Value, paths: &FieldSet, schema: &Node<'_>) {
    let mut sorted: Vec<&Path> = paths.iter().collect();
    sorted.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in sorted {
        remove_path(v, p, schema);
    }
}

fn remove_path(v: &mut Value, p: &[PathElement], schema: &Node<'_>) {
    let Some((first, rest)) = p.split_first() else {
        return;
    };
    match (v, first) {
        (Value::Object(m), PathElement::Field(f)) => {
            if rest.is_empty() {
                m.remove(f);
            } else if let Some(c) = m.get_mut(f) {
                remove_path(c, rest, &schema.field(f));
            }
        }
        (Value::Array(a), pe) => {
            let keys = match schema.list_type() {
                ListType::Map(k) => k,
                _ => Vec::new(),
            };
            let pos = a.iter().enumerate().position(|(i, item)| match pe {
                PathElement::Key(_) => key_element(item, &keys).as_ref() == Some(pe),
                PathElement::Value(_) => &value_element(item) == pe,
                PathElement::Index(n) => i == *n,
                PathElement::Field(_) => false,
            });
            if let Some(i) = pos {
                if rest.is_empty() {
                    a.remove(i);
                } else {
                    remove_path(&mut a[i], rest, &schema.items());
                }
            }
        }
        _ => {}
    }
}

/// Serializes a set as `FieldsV1` (`{"f:data":{".":{},"f:key":{}}}`).
pub fn to_fields_v1(set: &FieldSet) -> Value {
    #[derive(Default)]
    struct Tree {
        member: bool,
        children: std::collections::BTreeMap<PathElement, Tree>,
    }
    let mut root = Tree::default();
    for p in set {
        let mut node = &mut root;
        for e in p {
            node = node.children.entry(e.clone()).or_default();
        }
        node.member = true;
    }
    fn emit(t: &Tree) -> Value {
        let mut m = Map::new();
        if t.member && !t.children.is_empty() {
            m.insert(".".into(), Value::Object(Map::new()));
        }
        for (e, c) in &t.children {
            let k = match e {
                PathElement::Field(f) => format!("f:{f}"),
                PathElement::Key(k) => format!("k:{k}"),
                PathElement::Value(v) => format!("v:{v}"),
                PathElement::Index(i) => format!("i:{i}"),
            };
            m.insert(k, emit(c));
        }
        Value::Object(m)
    }
    emit(&root)
}

/// Parses `FieldsV1`; unknown prefixes are an error, as in the server's decoder.
pub fn from_fields_v1(v: &Value) -> Result<FieldSet, String> {
    let mut out = FieldSet::new();
    fn walk(v: &Value, path: &mut Path, out: &mut FieldSet) -> Result<(), String> {
        let m = v.as_object().ok_or("FieldsV1 nodes must be objects")?;
        if m.is_empty() && !path.is_empty() {
            out.insert(path.clone());
        }
        for (k, c) in m {
            if k == "." {
                if !path.is_empty() {
                    out.insert(path.clone());
                }
                continue;
            }
            let e = if let Some(f) = k.strip_prefix("f:") {
                PathElement::Field(f.to_string())
            } else if let Some(j) = k.strip_prefix("k:") {
                let parsed: Value = serde_json::from_str(j).map_err(|e| format!("bad key {k}: {e}"))?;
                PathElement::Key(canonical(&parsed))
            } else if let Some(j) = k.strip_prefix("v:") {
                let parsed: Value = serde_json::from_str(j).map_err(|e| format!("bad value {k}: {e}"))?;
                PathElement::Value(canonical(&parsed))
            } else if let Some(i) = k.strip_prefix("i:") {
                PathElement::Index(i.parse().map_err(|_| format!("bad index {k}"))?)
            } else {
                return Err(format!("unexpected FieldsV1 key {k:?}"));
            };
            path.push(e);
            walk(c, path, out)?;
            path.pop();
        }
        Ok(())
    }
    walk(v, &mut Vec::new(), &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::schema;
    use serde_json::json;

    fn ds() -> Node<'static> {
        Node(schema::builtin("DaemonSet"))
    }

    // Server-Side Apply docs, "Field Management": list items of associative lists are keyed
    // (`k:{"name":...}`) and atomic structs such as NodeSelector are owned as one leaf.
    #[test]
    fn field_set_of_daemonset_config() {
        let cfg = json!({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"i"}],
            "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[]}}}}}}});
        let set = to_field_set(&cfg, &ds());
        let v1 = to_fields_v1(&set);
        assert_eq!(
            v1,
            json!({"f:spec":{"f:template":{"f:spec":{
                "f:affinity":{"f:nodeAffinity":{"f:requiredDuringSchedulingIgnoredDuringExecution":{}}},
                "f:containers":{"k:{\"name\":\"c\"}":{".":{},"f:image":{},"f:name":{}}}}}}})
        );
        assert_eq!(from_fields_v1(&v1).unwrap(), set);
        let p: Vec<String> = set.iter().map(|p| path_string(p)).collect();
        assert!(p.contains(&".spec.template.spec.containers[name=\"c\"].image".to_string()));
    }

    // Server-Side Apply docs, "Merge strategy": associative lists merge by key, maps merge, atomic lists replace.
    #[test]
    fn apply_merge_rules() {
        let live = json!({"metadata":{"labels":{"a":"1"}},"spec":{"template":{"spec":{
            "containers":[{"name":"a","image":"1"},{"name":"b","image":"2"}],"tolerations":[{"key":"x"}]}}}});
        let cfg = json!({"metadata":{"labels":{"b":"2"}},"spec":{"template":{"spec":{
            "containers":[{"name":"b","image":"3"},{"name":"c","image":"4"}],"tolerations":[{"key":"y"}]}}}});
        let out = apply_merge(&live, &cfg, &ds());
        assert_eq!(out["metadata"]["labels"], json!({"a":"1","b":"2"}));
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name":"a","image":"1"},{"name":"b","image":"3"},{"name":"c","image":"4"}])
        );
        assert_eq!(out["spec"]["template"]["spec"]["tolerations"], json!([{"key":"y"}]));
    }

    #[test]
    fn compare_reports_changes() {
        let old = json!({"data":{"a":"1","b":"2"}});
        let new = json!({"data":{"a":"9","c":"3"}});
        let c = compare(&old, &new, &Node(schema::builtin("ConfigMap")));
        let f = |s: &str| vec![PathElement::Field("data".into()), PathElement::Field(s.into())];
        assert!(c.modified.contains(&f("a")));
        assert!(c.added.contains(&f("c")));
        assert!(c.removed.contains(&f("b")));
    }
}

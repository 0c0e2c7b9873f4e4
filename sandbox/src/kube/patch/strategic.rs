//! Strategic merge patch as the API server applies it to built-in types
//! (k8s.io/apimachinery `strategicpatch`, documented in community/contributors/devel/sig-api-machinery/
//! strategic-merge-patch.md): maps merge recursively and `null` deletes; a list merges only when its
//! field has `patchStrategy:"merge"` (by `patchMergeKey` for lists of objects, as a set for primitives),
//! otherwise the patch's list replaces it. Directives: `$patch: replace|delete|merge`,
//! `$retainKeys`, `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>`.

use crate::kube::schema::Node;
use serde_json::{Map, Value};

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_PRIMITIVE: &str = "$deleteFromPrimitiveList/";
const SET_ORDER: &str = "$setElementOrder/";

/// Applies a strategic merge patch to `original` using `schema` for patch strategies and merge keys.
pub fn apply(original: &Value, patch: &Value, schema: Node<'_>) -> Result<Value, String> {
    let Value::Object(p) = patch else {
        return Err("strategic merge patch must be a JSON object".into());
    };
    let o = match original {
        Value::Object(o) => o.clone(),
        _ => Map::new(),
    };
    merge_map(o, p, &schema).map(Value::Object)
}

fn merge_map(
    mut original: Map<String, Value>,
    patch: &Map<String, Value>,
    schema: &Node<'_>,
) -> Result<Map<String, Value>, String> {
    if let Some(d) = patch.get(DIRECTIVE) {
        match d.as_str() {
            Some("replace") => {
                let mut p = patch.clone();
                p.remove(DIRECTIVE);
                return merge_map(Map::new(), &p, schema);
            }
            Some("delete") => return Ok(Map::new()),
            Some("merge") => {}
            _ => return Err(format!("Unknown patch type: {d} in map: {}", Value::Object(patch.clone()))),
        }
    }
    if let Some(retain) = patch.get(RETAIN_KEYS) {
        let keep: Vec<&str> = retain
            .as_array()
            .ok_or("$retainKeys must be a list of strings")?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        original.retain(|k, _| keep.contains(&k.as_str()));
    }
    // `$deleteFromPrimitiveList/<f>` runs before the merge of `<f>` itself.
    for (k, v) in patch {
        if let Some(field) = k.strip_prefix(DELETE_PRIMITIVE) {
            let remove = v.as_array().ok_or("$deleteFromPrimitiveList must be a list")?;
            if let Some(Value::Array(items)) = original.get_mut(field) {
                items.retain(|i| !remove.contains(i));
            }
        }
    }
    for (k, pv) in patch {
        if k == DIRECTIVE || k == RETAIN_KEYS || k.starts_with(DELETE_PRIMITIVE) || k.starts_with(SET_ORDER) {
            continue;
        }
        let field_schema = schema.field(k);
        if pv.is_null() {
            original.remove(k);
            continue;
        }
        let ov = original.remove(k);
        let order = patch.get(&format!("{SET_ORDER}{k}"));
        let merged = merge_value(ov, pv, &field_schema, order)?;
        if let Some(m) = merged {
            original.insert(k.clone(), m);
        }
    }
    // A `$setElementOrder` for a list the patch did not otherwise touch still reorders it.
    for (k, order) in patch {
        if let Some(field) = k.strip_prefix(SET_ORDER) {
            if patch.contains_key(field) {
                continue;
            }
            if let Some(Value::Array(items)) = original.get(field) {
                let fs = schema.field(field);
                let key = fs.patch_merge_key();
                let reordered = normalize_order(Vec::new(), items.clone(), order, key, items)?;
                original.insert(field.to_string(), Value::Array(reordered));
            }
        }
    }
    Ok(original)
}

/// Merges one field value; `None` means the field is dropped.
fn merge_value(
    original: Option<Value>,
    patch: &Value,
    schema: &Node<'_>,
    order: Option<&Value>,
) -> Result<Option<Value>, String> {
    match patch {
        Value::Object(pm) => {
            let base = match original {
                Some(Value::Object(o)) => o,
                _ => Map::new(),
            };
            Ok(Some(Value::Object(merge_map(base, pm, schema)?)))
        }
        Value::Array(pl) => {
            let strategies = schema.patch_strategies();
            if !strategies.contains(&"merge") {
                return Ok(Some(Value::Array(strip_list(pl, schema)?)));
            }
            let base = match original {
                Some(Value::Array(o)) => o,
                _ => Vec::new(),
            };
            merge_list(base, pl, schema, order).map(|l| Some(Value::Array(l)))
        }
        other => Ok(Some(other.clone())),
    }
}

/// A replaced list still must not carry directives into the stored object.
fn strip_list(items: &[Value], schema: &Node<'_>) -> Result<Vec<Value>, String> {
    let item_schema = schema.items();
    let mut out = Vec::new();
    for i in items {
        match i {
            Value::Object(m) => {
                if m.get(DIRECTIVE).is_some() && m.len() == 1 {
                    continue;
                }
                out.push(Value::Object(merge_map(Map::new(), m, &item_schema)?));
            }
            other => out.push(other.clone()),
        }
    }
    Ok(out)
}

fn key_of<'v>(item: &'v Value, key: &str) -> Option<&'v Value> {
    item.as_object().and_then(|m| m.get(key))
}

fn merge_list(
    original: Vec<Value>,
    patch: &[Value],
    schema: &Node<'_>,
    order: Option<&Value>,
) -> Result<Vec<Value>, String> {
    let merge_key = schema.patch_merge_key();
    let item_schema = schema.items();
    // `{"$patch": "replace"}` as a list element: the rest of the patch list replaces the original.
    let replace = patch.iter().any(|i| i.get(DIRECTIVE).and_then(Value::as_str) == Some("replace"));
    let server_order = original.clone();
    let mut result = if replace { Vec::new() } else { original };
    let mut patched_items: Vec<Value> = Vec::new();
    for p in patch {
        match (p, merge_key) {
            (Value::Object(pm), Some(key)) => {
                if pm.get(DIRECTIVE).and_then(Value::as_str) == Some("replace") && pm.len() == 1 {
                    continue;
                }
                let kv = pm.get(key).ok_or_else(|| format!("map: {} does not contain declared merge key: {key}", p))?;
                let pos = result.iter().position(|o| key_of(o, key) == Some(kv));
                if pm.get(DIRECTIVE).and_then(Value::as_str) == Some("delete") {
                    result.retain(|o| key_of(o, key) != Some(kv));
                    continue;
                }
                match pos {
                    Some(i) => {
                        let base = result[i].as_object().cloned().unwrap_or_default();
                        result[i] = Value::Object(merge_map(base, pm, &item_schema)?);
                        patched_items.push(result[i].clone());
                    }
                    None => {
                        let item = Value::Object(merge_map(Map::new(), pm, &item_schema)?);
                        patched_items.push(item.clone());
                        result.push(item);
                    }
                }
            }
            (Value::Object(_), None) => {
                return Err("strategic merge of a list of objects needs a merge key".into());
            }
            (prim, _) => {
                if !result.contains(prim) {
                    result.push(prim.clone());
                }
                patched_items.push(prim.clone());
            }
        }
    }
    match order {
        Some(order) => {
            let key = merge_key;
            let (in_patch, server_only): (Vec<Value>, Vec<Value>) =
                result.into_iter().partition(|i| order_index(order, i, key).is_some());
            normalize_order(in_patch, server_only, order, key, &server_order)
        }
        None => Ok(result),
    }
}

fn identity<'v>(item: &'v Value, key: Option<&str>) -> Option<&'v Value> {
    match key {
        Some(k) => key_of(item, k),
        None => Some(item),
    }
}

fn order_index(order: &Value, item: &Value, key: Option<&str>) -> Option<usize> {
    let id = identity(item, key)?;
    order.as_array()?.iter().position(|o| identity(o, key) == Some(id))
}

fn server_index(server: &[Value], item: &Value, key: Option<&str>) -> Option<usize> {
    let id = identity(item, key)?;
    server.iter().position(|o| identity(o, key) == Some(id))
}

/// Orders the items named by `$setElementOrder` as listed, interleaving the items only the server
/// has by their original positions (apimachinery `normalizeElementOrder` / `mergeSortedSlice`).
fn normalize_order(
    mut in_patch: Vec<Value>,
    mut server_only: Vec<Value>,
    order: &Value,
    key: Option<&str>,
    server: &[Value],
) -> Result<Vec<Value>, String> {
    if !order.is_array() {
        return Err("$setElementOrder must be a list".into());
    }
    in_patch.sort_by_key(|i| order_index(order, i, key).unwrap_or(usize::MAX));
    server_only.sort_by_key(|i| server_index(server, i, key).unwrap_or(usize::MAX));
    let mut out = Vec::with_capacity(in_patch.len() + server_only.len());
    let (mut l, mut r) = (in_patch.into_iter().peekable(), server_only.into_iter().peekable());
    loop {
        match (l.peek(), r.peek()) {
            (Some(a), Some(b)) => {
                let take_left = match (server_index(server, a, key), server_index(server, b, key)) {
                    (Some(x), Some(y)) => x < y,
                    _ => false,
                };
                if take_left {
                    out.extend(l.next());
                } else {
                    out.extend(r.next());
                }
            }
            (Some(_), None) => out.extend(l.next()),
            (None, Some(_)) => out.extend(r.next()),
            (None, None) => break,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::schema;
    use serde_json::json;

    fn ds_schema() -> Node<'static> {
        Node(schema::builtin("DaemonSet"))
    }

    fn calico() -> Value {
        json!({"spec":{"template":{"spec":{
            "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
                {"matchExpressions":[{"key":"kubernetes.io/os","operator":"In","values":["linux"]}]}]}}},
            "containers":[{"name":"calico-node","image":"calico/node:v3.27.0",
                           "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}],
            "tolerations":[{"operator":"Exists","effect":"NoSchedule"}]}}}})
    }

    // strategic-merge-patch.md "Basic Patch Format" + k8s.io/api core/v1 NodeSelector: nodeSelectorTerms has no
    // patchStrategy, so the patch's terms REPLACE the existing ones (the behaviour the runbook's patch hits).
    #[test]
    fn node_selector_terms_are_replaced() {
        let patch = json!({"spec":{"template":{"spec":{"affinity":{"nodeAffinity":{
            "requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[
                {"key":"alibabacloud.com/external","operator":"NotIn","values":["true"]}]}]}}}}}}});
        let out = apply(&calico(), &patch, ds_schema()).unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]
                ["requiredDuringSchedulingIgnoredDuringExecution"],
            json!({"nodeSelectorTerms":[{"matchExpressions":[
                {"key":"alibabacloud.com/external","operator":"NotIn","values":["true"]}]}]})
        );
        // Untouched siblings survive the merge.
        assert_eq!(out["spec"]["template"]["spec"]["containers"][0]["image"], json!("calico/node:v3.27.0"));
    }

    // k8s.io/api core/v1 PodSpec.containers `patchStrategy:"merge" patchMergeKey:"name"`, Container.env likewise.
    #[test]
    fn containers_and_env_merge_by_name() {
        let patch = json!({"spec":{"template":{"spec":{"containers":[
            {"name":"calico-node","env":[{"name":"B","value":"3"},{"name":"C","value":"4"}]},
            {"name":"sidecar","image":"busybox"}]}}}});
        let out = apply(&calico(), &patch, ds_schema()).unwrap();
        let c = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(c[0]["image"], json!("calico/node:v3.27.0"));
        assert_eq!(c[0]["env"], json!([{"name":"A","value":"1"},{"name":"B","value":"3"},{"name":"C","value":"4"}]));
        assert_eq!(c[1], json!({"name":"sidecar","image":"busybox"}));
    }

    // PodSpec.tolerations has no patch strategy: replaced as a whole.
    #[test]
    fn tolerations_replace() {
        let patch = json!({"spec":{"template":{"spec":{"tolerations":[{"key":"x","operator":"Exists"}]}}}});
        let out = apply(&calico(), &patch, ds_schema()).unwrap();
        assert_eq!(out["spec"]["template"]["spec"]["tolerations"], json!([{"key":"x","operator":"Exists"}]));
    }

    // strategic-merge-patch.md "$patch: delete" in a merging list removes the keyed element; null deletes a field.
    #[test]
    fn delete_directive_and_null() {
        let patch = json!({"spec":{"template":{"spec":{"affinity":null,"containers":[
            {"name":"calico-node","env":[{"name":"A","$patch":"delete"}]}]}}}});
        let out = apply(&calico(), &patch, ds_schema()).unwrap();
        assert!(out["spec"]["template"]["spec"].get("affinity").is_none());
        assert_eq!(out["spec"]["template"]["spec"]["containers"][0]["env"], json!([{"name":"B","value":"2"}]));
    }

    // strategic-merge-patch.md "$patch: replace" on a map, "$retainKeys", "$deleteFromPrimitiveList".
    #[test]
    fn replace_retain_and_primitive_delete() {
        let orig = json!({"metadata":{"finalizers":["a","b"],"labels":{"x":"1","y":"2"}},
                          "spec":{"template":{"spec":{"nodeSelector":{"a":"b"}}}}});
        let patch = json!({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"],"finalizers":["c"],
                                        "labels":{"$retainKeys":["y","z"],"z":"3"}},
                           "spec":{"template":{"spec":{"nodeSelector":{"$patch":"replace","c":"d"}}}}});
        let out = apply(&orig, &patch, ds_schema()).unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["b", "c"]));
        assert_eq!(out["metadata"]["labels"], json!({"y":"2","z":"3"}));
        assert_eq!(out["spec"]["template"]["spec"]["nodeSelector"], json!({"c":"d"}));
    }

    // strategic-merge-patch.md "$setElementOrder": the listed order wins (kubectl edit sends it).
    #[test]
    fn set_element_order() {
        let orig = json!({"spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"b"}]}}}});
        let patch = json!({"spec":{"template":{"spec":{
            "$setElementOrder/containers":[{"name":"b"},{"name":"a"}],
            "containers":[{"name":"a","image":"x"}]}}}});
        let out = apply(&orig, &patch, ds_schema()).unwrap();
        assert_eq!(out["spec"]["template"]["spec"]["containers"], json!([{"name":"b"},{"name":"a","image":"x"}]));
    }

    // A merging list element without its merge key is rejected, as the server does.
    #[test]
    fn missing_merge_key_is_an_error() {
        let patch = json!({"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}});
        assert!(apply(&calico(), &patch, ds_schema()).is_err());
    }
}

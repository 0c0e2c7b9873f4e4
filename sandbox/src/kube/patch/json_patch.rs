//! JSON patch, RFC 6902 (`add`, `remove`, `replace`, `move`, `copy`, `test`) over JSON pointers (RFC 6901).

use serde_json::Value;

/// Why a patch could not be applied; the caller maps `Malformed` to 400 and `Failed` to 422 as the
/// API server does.
#[derive(Debug, PartialEq)]
pub enum PatchError {
    Malformed(String),
    Failed(String),
}

fn parse_pointer(p: &str) -> Result<Vec<String>, PatchError> {
    if p.is_empty() {
        return Ok(Vec::new());
    }
    if !p.starts_with('/') {
        return Err(PatchError::Malformed(format!("invalid JSON pointer {p:?}: must start with '/'")));
    }
    Ok(p[1..].split('/').map(|t| t.replace("~1", "/").replace("~0", "~")).collect())
}

fn index(token: &str, len: usize, allow_end: bool) -> Result<usize, PatchError> {
    if token == "-" && allow_end {
        return Ok(len);
    }
    let i: usize = token.parse().map_err(|_| PatchError::Failed(format!("invalid array index {token:?}")))?;
    if (allow_end && i > len) || (!allow_end && i >= len) {
        return Err(PatchError::Failed(format!("array index {i} out of bounds")));
    }
    Ok(i)
}

fn get<'a>(doc: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = doc;
    for t in path {
        cur = match cur {
            Value::Object(m) => m.get(t)?,
            Value::Array(a) => a.get(t.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn parent_mut<'a>(doc: &'a mut Value, path: &[String], full: &str) -> Result<&'a mut Value, PatchError> {
    let mut cur = doc;
    for t in &path[..path.len() - 1] {
        cur = match cur {
            Value::Object(m) => m.get_mut(t),
            Value::Array(a) => t.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| PatchError::Failed(format!("doc is missing path: {full:?}")))?;
    }
    Ok(cur)
}

fn add(doc: &mut Value, path: &[String], value: Value, full: &str) -> Result<(), PatchError> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let last = &path[path.len() - 1];
    match parent_mut(doc, path, full)? {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            let i = index(last, a.len(), true)?;
            a.insert(i, value);
            Ok(())
        }
        _ => Err(PatchError::Failed(format!("doc is missing path: {full:?}"))),
    }
}

fn remove(doc: &mut Value, path: &[String], full: &str) -> Result<Value, PatchError> {
    if path.is_empty() {
        return Ok(std::mem::take(doc));
    }
    let last = &path[path.len() - 1];
    let missing = || PatchError::Failed(format!("unable to remove nonexistent key: {full}: missing value"));
    match parent_mut(doc, path, full)? {
        Value::Object(m) => m.remove(last).ok_or_else(missing),
        Value::Array(a) => {
            let i = index(last, a.len(), false)?;
            Ok(a.remove(i))
        }
        _ => Err(missing()),
    }
}

fn field<'a>(op: &'a Value, name: &str, which: &str) -> Result<&'a Value, PatchError> {
    op.get(name).ok_or_else(|| PatchError::Malformed(format!("{which} operation missing '{name}' field")))
}

fn field_str<'a>(op: &'a Value, name: &str, which: &str) -> Result<&'a str, PatchError> {
    field(op, name, which)?
        .as_str()
        .ok_or_else(|| PatchError::Malformed(format!("{which} operation: '{name}' must be a string")))
}

/// Applies `patch` (a JSON array of operations) to `doc`.
pub fn apply(doc: &Value, patch: &Value) -> Result<Value, PatchError> {
    let ops = patch.as_array().ok_or_else(|| {
        PatchError::Malformed("json: cannot unmarshal object into Go value of type jsonpatch.Patch".into())
    })?;
    let mut doc = doc.clone();
    for op in ops {
        let name = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or_else(|| PatchError::Malformed("operation missing 'op' field".into()))?;
        let path_str = field_str(op, "path", name)?;
        let path = parse_pointer(path_str)?;
        match name {
            "add" => add(&mut doc, &path, field(op, "value", name)?.clone(), path_str)?,
            "remove" => {
                remove(&mut doc, &path, path_str)?;
            }
            "replace" => {
                if get(&doc, &path).is_none() {
                    return Err(PatchError::Failed(format!(
                        "replace operation does not apply: doc is missing key: {path_str}: missing value"
                    )));
                }
                remove(&mut doc, &path, path_str)?;
                add(&mut doc, &path, field(op, "value", name)?.clone(), path_str)?;
            }
            "move" => {
                let from_str = field_str(op, "from", name)?;
                let from = parse_pointer(from_str)?;
                let v = remove(&mut doc, &from, from_str)?;
                add(&mut doc, &path, v, path_str)?;
            }
            "copy" => {
                let from_str = field_str(op, "from", name)?;
                let from = parse_pointer(from_str)?;
                let v = get(&doc, &from)
                    .cloned()
                    .ok_or_else(|| PatchError::Failed(format!("copy from does not exist: {from_str}")))?;
                add(&mut doc, &path, v, path_str)?;
            }
            "test" => {
                let want = field(op, "value", name)?;
                if get(&doc, &path) != Some(want) {
                    return Err(PatchError::Failed(format!("testing value {path_str} failed: test failed")));
                }
            }
            other => {
                return Err(PatchError::Malformed(format!("Unexpected kind: {other}")));
            }
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // RFC 6902 appendix A.1/A.2/A.4: add to object, insert into array, remove.
    #[test]
    fn add_insert_remove() {
        let d = json!({"foo":["bar","baz"],"x":1});
        let p = json!([{"op":"add","path":"/foo/1","value":"qux"},{"op":"remove","path":"/x"},
                       {"op":"add","path":"/foo/-","value":"end"},{"op":"add","path":"/a~1b","value":2}]);
        assert_eq!(apply(&d, &p).unwrap(), json!({"foo":["bar","qux","baz","end"],"a/b":2}));
    }

    // RFC 6902 A.6/A.7/A.8: move, copy and a successful test.
    #[test]
    fn move_copy_test() {
        let d = json!({"a":{"b":"c"}});
        let p = json!([{"op":"copy","from":"/a/b","path":"/d"},{"op":"move","from":"/a","path":"/e"},
                       {"op":"test","path":"/d","value":"c"},{"op":"replace","path":"/d","value":"z"}]);
        assert_eq!(apply(&d, &p).unwrap(), json!({"d":"z","e":{"b":"c"}}));
    }

    // RFC 6902 section 5: a failed `test` aborts the whole patch; removing a missing member is an error.
    #[test]
    fn failures() {
        let d = json!({"a":1});
        assert!(matches!(apply(&d, &json!([{"op":"test","path":"/a","value":2}])), Err(PatchError::Failed(_))));
        assert!(matches!(apply(&d, &json!([{"op":"remove","path":"/b"}])), Err(PatchError::Failed(_))));
        assert!(matches!(apply(&d, &json!([{"op":"bogus","path":"/a"}])), Err(PatchError::Malformed(_))));
        assert!(matches!(apply(&d, &json!({"op":"add"})), Err(PatchError::Malformed(_))));
    }
}

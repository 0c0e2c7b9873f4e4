//! JSON merge patch, RFC 7386: objects merge recursively, `null` removes a member, anything else replaces.

use serde_json::Value;

pub fn apply(target: &Value, patch: &Value) -> Value {
    let Value::Object(p) = patch else {
        return patch.clone();
    };
    let mut out = match target {
        Value::Object(t) => t.clone(),
        _ => serde_json::Map::new(),
    };
    for (k, v) in p {
        if v.is_null() {
            out.remove(k);
        } else {
            let merged = apply(out.get(k).unwrap_or(&Value::Null), v);
            out.insert(k.clone(), merged);
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::apply;
    use serde_json::json;

    // RFC 7386 section 3, the example document and patch.
    #[test]
    fn rfc7386_example() {
        let target = json!({"title":"Goodbye!","author":{"givenName":"John","familyName":"Doe"},
                            "tags":["example","sample"],"content":"This will be unchanged"});
        let patch = json!({"title":"Hello!","phoneNumber":"+01-123-456-7890",
                           "author":{"familyName":null},"tags":["example"]});
        assert_eq!(
            apply(&target, &patch),
            json!({"title":"Hello!","author":{"givenName":"John"},"tags":["example"],
                   "content":"This will be unchanged","phoneNumber":"+01-123-456-7890"})
        );
    }

    // RFC 7386 appendix A: a non-object patch replaces the target.
    #[test]
    fn non_object_patch_replaces() {
        assert_eq!(apply(&json!({"a":"b"}), &json!(["c"])), json!(["c"]));
        assert_eq!(apply(&json!({"a":"b"}), &json!({"a":null})), json!({}));
    }
}

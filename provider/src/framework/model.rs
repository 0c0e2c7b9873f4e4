//! Typed models: resources read configuration into plain Rust structs with serde and write
//! state back from them, instead of walking `Value` trees by hand.
//!
//! Unknown values read as `null` (so `Option::None`): code that must tell unknown from null
//! checks the `Value` itself.

use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value as Json;

use crate::cty::{Number, Type, Value};

use super::diag::{self, Diagnostics};

/// Converts a value to JSON: unknown becomes null, dynamic values are unwrapped.
pub fn to_json(v: &Value) -> Json {
    match v {
        Value::Null | Value::Unknown => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => serde_json::from_str(&n.to_string()).unwrap_or(Json::Null),
        Value::String(s) => Json::String(s.clone()),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            Json::Array(items.iter().map(to_json).collect())
        }
        Value::Map(m) | Value::Object(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        Value::Dynamic(_, inner) => to_json(inner),
    }
}

/// Converts JSON to a value of type `ty`. Object attributes missing from the JSON become null;
/// JSON that does not fit the type is an error naming where.
pub fn from_json(j: &Json, ty: &Type) -> Result<Value, String> {
    from_json_at(j, ty, "")
}

fn from_json_at(j: &Json, ty: &Type, at: &str) -> Result<Value, String> {
    if j.is_null() {
        return Ok(Value::Null);
    }
    let mismatch = || format!("{}: expected {ty:?}, found {j}", if at.is_empty() { "value" } else { at });
    Ok(match ty {
        Type::String => Value::String(match j {
            Json::String(s) => s.clone(),
            Json::Number(n) => n.to_string(),
            Json::Bool(b) => b.to_string(),
            _ => return Err(mismatch()),
        }),
        Type::Number => match j {
            Json::Number(n) => Value::Number(Number::parse(&n.to_string()).ok_or_else(mismatch)?),
            Json::String(s) => Value::Number(Number::parse(s).ok_or_else(mismatch)?),
            _ => return Err(mismatch()),
        },
        Type::Bool => match j {
            Json::Bool(b) => Value::Bool(*b),
            Json::String(s) if s == "true" || s == "false" => Value::Bool(s == "true"),
            _ => return Err(mismatch()),
        },
        Type::List(et) | Type::Set(et) => {
            let items = j.as_array().ok_or_else(mismatch)?;
            let vals = items
                .iter()
                .enumerate()
                .map(|(i, e)| from_json_at(e, et, &format!("{at}[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            if matches!(ty, Type::Set(_)) {
                let mut distinct: Vec<Value> = Vec::with_capacity(vals.len());
                for v in vals {
                    if !distinct.iter().any(|d| d.semantic_eq(&v)) {
                        distinct.push(v);
                    }
                }
                Value::Set(distinct)
            } else {
                Value::List(vals)
            }
        }
        Type::Tuple(ets) => {
            let items = j.as_array().ok_or_else(mismatch)?;
            if items.len() != ets.len() {
                return Err(mismatch());
            }
            Value::Tuple(
                items
                    .iter()
                    .zip(ets)
                    .enumerate()
                    .map(|(i, (e, et))| from_json_at(e, et, &format!("{at}[{i}]")))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Map(et) => {
            let m = j.as_object().ok_or_else(mismatch)?;
            Value::Map(
                m.iter()
                    .map(|(k, e)| Ok((k.clone(), from_json_at(e, et, &format!("{at}[{k:?}]"))?)))
                    .collect::<Result<_, String>>()?,
            )
        }
        Type::Object { attrs, .. } => {
            let m = j.as_object().ok_or_else(mismatch)?;
            let mut out = std::collections::BTreeMap::new();
            for (name, at_ty) in attrs {
                let path = if at.is_empty() { name.clone() } else { format!("{at}.{name}") };
                out.insert(name.clone(), from_json_at(m.get(name).unwrap_or(&Json::Null), at_ty, &path)?);
            }
            Value::Object(out)
        }
        Type::Dynamic => {
            let (t, v) = infer_dynamic(j);
            Value::Dynamic(t, Box::new(v))
        }
    })
}

/// The type a JSON value most naturally has in a dynamic slot (objects and tuples, as
/// Terraform infers for literals).
fn infer_dynamic(j: &Json) -> (Type, Value) {
    match j {
        Json::Null => (Type::Dynamic, Value::Null),
        Json::Bool(b) => (Type::Bool, Value::Bool(*b)),
        Json::Number(n) => (Type::Number, Number::parse(&n.to_string()).map(Value::Number).unwrap_or(Value::Null)),
        Json::String(s) => (Type::String, Value::String(s.clone())),
        Json::Array(items) => {
            let (ts, vs): (Vec<_>, Vec<_>) = items.iter().map(infer_dynamic).unzip();
            (Type::Tuple(ts), Value::Tuple(vs))
        }
        Json::Object(m) => {
            let mut ts = std::collections::BTreeMap::new();
            let mut vs = std::collections::BTreeMap::new();
            for (k, e) in m {
                let (t, v) = infer_dynamic(e);
                ts.insert(k.clone(), t);
                vs.insert(k.clone(), v);
            }
            (Type::Object { attrs: ts, optional: Vec::new() }, Value::Object(vs))
        }
    }
}

/// Reads a value into a typed model.
pub fn decode<T: DeserializeOwned>(v: &Value) -> Result<T, Diagnostics> {
    serde_json::from_value(to_json(v)).map_err(|e| {
        diag::error(
            "Provider error: unexpected value shape",
            format!("Could not read the value: {e}. This is a bug in the provider."),
        )
    })
}

/// Writes a typed model as a value of type `ty`.
pub fn encode<T: Serialize>(model: &T, ty: &Type) -> Result<Value, Diagnostics> {
    let j = serde_json::to_value(model)
        .map_err(|e| diag::error("Provider error: could not encode state", e.to_string()))?;
    from_json(&j, ty).map_err(|e| diag::error("Provider error: could not encode state", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct M {
        name: String,
        size: Option<i64>,
        zones: std::collections::BTreeMap<String, Vec<String>>,
    }

    #[test]
    fn models_round_trip_through_values() {
        let ty = Type::object([
            ("name", Type::String),
            ("size", Type::Number),
            ("zones", Type::map(Type::list(Type::String))),
            ("extra", Type::Bool),
        ]);
        let m = M { name: "a".into(), size: Some(3), zones: [("z1".to_string(), vec!["vsw-1".to_string()])].into() };
        let v = encode(&m, &ty).unwrap();
        assert_eq!(v.get("extra"), Some(&Value::Null));
        assert_eq!(v.get("size").and_then(Value::as_i64), Some(3));
        let back: M = decode(&v).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn unknown_reads_as_none_and_bad_shapes_error() {
        let v = Value::Object(
            [
                ("name".to_string(), "a".into()),
                ("size".to_string(), Value::Unknown),
                ("zones".to_string(), Value::Map(Default::default())),
            ]
            .into(),
        );
        let m: M = decode(&v).unwrap();
        assert_eq!(m.size, None);
        assert!(from_json(&serde_json::json!({"a": [1]}), &Type::object([("a", Type::String)])).is_err());
    }
}

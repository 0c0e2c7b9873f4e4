//! JSON encoding of values, per Terraform's `object-wire-format.md`: the fallback form of
//! `DynamicValue` and the form of prior state in `UpgradeResourceState` (`RawState.json`).
//!
//! JSON has no unknowns, so encoding one is an error. Numbers keep every digit. A value of
//! type `dynamic` is `{"value": ..., "type": <type expression>}`. Like go-cty, decoding
//! converts primitives where Terraform would: a number may arrive as a string, a bool as
//! `"true"`/`"false"`, and a string as a number or bool.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::path::{Path, Step};
use super::{type_json, CodecError, Number, Type, Value};

/// What to do with object attributes the type does not declare.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Extra {
    Reject,
    Drop,
}

/// Decodes `bytes` as a value of type `ty`. Absent object attributes become null;
/// attributes the type does not declare are errors.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    decode_with(bytes, ty, Extra::Reject)
}

/// Like [`decode`], but silently drops object attributes the type does not declare (at
/// any depth): prior state may hold attributes a newer schema has removed.
pub fn decode_lenient(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    decode_with(bytes, ty, Extra::Drop)
}

fn decode_with(bytes: &[u8], ty: &Type, extra: Extra) -> Result<Value, CodecError> {
    let json: Json = serde_json::from_slice(bytes).map_err(|e| Path::ROOT.error(format!("invalid JSON: {e}")))?;
    from_json(&json, ty, &Path::ROOT, extra)
}

/// [`decode`] for JSON already parsed (e.g. state after a JSON-level upgrade step).
pub fn decode_value(json: &Json, ty: &Type) -> Result<Value, CodecError> {
    from_json(json, ty, &Path::ROOT, Extra::Reject)
}

/// [`decode_lenient`] for JSON already parsed.
pub fn decode_value_lenient(json: &Json, ty: &Type) -> Result<Value, CodecError> {
    from_json(json, ty, &Path::ROOT, Extra::Drop)
}

/// [`encode`] to a JSON value rather than bytes.
pub fn encode_value(value: &Value, ty: &Type) -> Result<Json, CodecError> {
    to_json(value, ty, &Path::ROOT)
}

/// Encodes `value` as type `ty`; fails on unknown values.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let json = to_json(value, ty, &Path::ROOT)?;
    serde_json::to_vec(&json).map_err(|e| Path::ROOT.error(format!("cannot write JSON: {e}")))
}

fn json_kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a bool",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn expected(what: &str, json: &Json, path: &Path) -> CodecError {
    path.error(format!("{what} is required, found {}", json_kind(json)))
}

fn from_json(json: &Json, ty: &Type, path: &Path, extra: Extra) -> Result<Value, CodecError> {
    if json.is_null() {
        return Ok(Value::Null);
    }
    match ty {
        Type::Dynamic => dynamic_from_json(json, path, extra),
        Type::String => match json {
            Json::String(s) => Ok(Value::String(s.clone())),
            Json::Number(n) => Ok(Value::String(n.to_string())),
            Json::Bool(b) => Ok(Value::String(b.to_string())),
            other => Err(expected("a string", other, path)),
        },
        Type::Number => {
            let text = match json {
                Json::Number(n) => n.to_string(),
                Json::String(s) => s.clone(),
                other => return Err(expected("a number", other, path)),
            };
            Number::parse(&text).map(Value::Number).ok_or_else(|| path.error(format!("{text:?} is not a number")))
        }
        Type::Bool => match json {
            Json::Bool(b) => Ok(Value::Bool(*b)),
            Json::String(s) if s == "true" => Ok(Value::Bool(true)),
            Json::String(s) if s == "false" => Ok(Value::Bool(false)),
            other => Err(expected("a bool", other, path)),
        },
        Type::List(et) | Type::Set(et) => {
            let items = json.as_array().ok_or_else(|| expected("an array", json, path))?;
            let items = items
                .iter()
                .enumerate()
                .map(|(i, item)| from_json(item, et, &path.child(Step::Index(i)), extra))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, Type::Set(_)) { Value::Set(items) } else { Value::List(items) })
        }
        Type::Tuple(types) => {
            let items = json.as_array().ok_or_else(|| expected("an array", json, path))?;
            if items.len() != types.len() {
                return Err(path.error(format!(
                    "a tuple of {} elements is required, found {}",
                    types.len(),
                    items.len()
                )));
            }
            let items = items
                .iter()
                .zip(types)
                .enumerate()
                .map(|(i, (item, et))| from_json(item, et, &path.child(Step::Index(i)), extra))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::Tuple(items))
        }
        Type::Map(et) => {
            let entries = json.as_object().ok_or_else(|| expected("an object (map)", json, path))?;
            let entries = entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), from_json(v, et, &path.child(Step::Key(k)), extra)?)))
                .collect::<Result<BTreeMap<_, _>, CodecError>>()?;
            Ok(Value::Map(entries))
        }
        Type::Object { attrs, .. } => {
            let entries = json.as_object().ok_or_else(|| expected("an object", json, path))?;
            let mut out = BTreeMap::new();
            for (name, item) in entries {
                let attr_path = path.child(Step::Attr(name));
                match attrs.get(name) {
                    Some(attr_ty) => {
                        out.insert(name.clone(), from_json(item, attr_ty, &attr_path, extra)?);
                    }
                    None if extra == Extra::Drop => {}
                    None => return Err(attr_path.error("unsupported attribute")),
                }
            }
            for name in attrs.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
    }
}

fn dynamic_from_json(json: &Json, path: &Path, extra: Extra) -> Result<Value, CodecError> {
    let fields =
        json.as_object().ok_or_else(|| expected("an object with \"type\" and \"value\" (dynamic)", json, path))?;
    if let Some(other) = fields.keys().find(|k| *k != "type" && *k != "value") {
        return Err(path.error(format!("invalid key {other:?} in a dynamic value")));
    }
    let type_json = fields.get("type").ok_or_else(|| path.error("dynamic value has no \"type\""))?;
    let value_json = fields.get("value").ok_or_else(|| path.error("dynamic value has no \"value\""))?;
    let ty = type_json::from_json(type_json).map_err(|message| path.error(format!("dynamic value type: {message}")))?;
    let value = from_json(value_json, &ty, path, extra)?;
    Ok(Value::Dynamic(ty, Box::new(value)))
}

fn to_json(value: &Value, ty: &Type, path: &Path) -> Result<Json, CodecError> {
    match value {
        Value::Unknown => return Err(path.error("unknown values cannot be encoded as JSON")),
        Value::Null => return Ok(Json::Null),
        _ => {}
    }
    if *ty == Type::Dynamic {
        let (concrete, inner) = match value {
            Value::Dynamic(concrete, inner) => (concrete.clone(), inner.as_ref()),
            other => (
                other
                    .implied_type()
                    .ok_or_else(|| path.error("a value in a dynamic attribute needs its type (use Value::Dynamic)"))?,
                other,
            ),
        };
        let mut fields = serde_json::Map::new();
        fields.insert("value".to_string(), to_json(inner, &concrete, path)?);
        fields.insert("type".to_string(), type_json::to_json(&concrete));
        return Ok(Json::Object(fields));
    }
    if let Value::Dynamic(_, inner) = value {
        return to_json(inner, ty, path);
    }
    Ok(match (ty, value) {
        (Type::String, Value::String(s)) => Json::String(s.clone()),
        (Type::Bool, Value::Bool(b)) => Json::Bool(*b),
        (Type::Number, Value::Number(n)) => {
            let number: serde_json::Number =
                n.to_string().parse().map_err(|e| path.error(format!("cannot write number {n}: {e}")))?;
            Json::Number(number)
        }
        (Type::List(et) | Type::Set(et), Value::List(items) | Value::Set(items) | Value::Tuple(items)) => Json::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| to_json(item, et, &path.child(Step::Index(i))))
                .collect::<Result<_, _>>()?,
        ),
        (Type::Tuple(types), Value::List(items) | Value::Set(items) | Value::Tuple(items)) => {
            if items.len() != types.len() {
                return Err(path.error(format!(
                    "a tuple of {} elements is required, found {}",
                    types.len(),
                    items.len()
                )));
            }
            Json::Array(
                items
                    .iter()
                    .zip(types)
                    .enumerate()
                    .map(|(i, (item, et))| to_json(item, et, &path.child(Step::Index(i))))
                    .collect::<Result<_, _>>()?,
            )
        }
        (Type::Map(et), Value::Map(entries) | Value::Object(entries)) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), to_json(v, et, &path.child(Step::Key(k)))?)))
                .collect::<Result<_, CodecError>>()?,
        ),
        (Type::Object { attrs, .. }, Value::Map(entries) | Value::Object(entries)) => {
            if let Some(extra) = entries.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(path.child(Step::Attr(extra)).error("unsupported attribute"));
            }
            Json::Object(
                attrs
                    .iter()
                    .map(|(name, attr_ty)| {
                        let item = entries.get(name).unwrap_or(&Value::Null);
                        Ok((name.clone(), to_json(item, attr_ty, &path.child(Step::Attr(name)))?))
                    })
                    .collect::<Result<_, CodecError>>()?,
            )
        }
        (ty, _) => {
            return Err(path
                .error(format!("value does not conform to type {}", String::from_utf8_lossy(&type_json::encode(ty)))))
        }
    })
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;

//! Terraform's JSON type expressions: `"string"`, `["list","number"]`,
//! `["object",{"a":"bool"}]`, `["object",{"a":"bool"},["a"]]` (optional attributes),
//! `["tuple",["string","number"]]`. Schemas carry attribute types in this form and
//! dynamic values carry their concrete type in it.

use serde_json::Value as Json;

use super::path::Path;
use super::{CodecError, Type};

/// Compact JSON type expression, as `Schema.Attribute.type` expects it.
pub fn encode(ty: &Type) -> Vec<u8> {
    to_json(ty).to_string().into_bytes()
}

/// Parses a JSON type expression.
pub fn decode(bytes: &[u8]) -> Result<Type, CodecError> {
    let json: Json =
        serde_json::from_slice(bytes).map_err(|e| Path::ROOT.error(format!("invalid type expression: {e}")))?;
    from_json(&json).map_err(|message| Path::ROOT.error(format!("invalid type expression: {message}")))
}

/// The type expression as a JSON value (for embedding, e.g. in a dynamic value's JSON).
pub fn to_json(ty: &Type) -> Json {
    match ty {
        Type::String => Json::from("string"),
        Type::Number => Json::from("number"),
        Type::Bool => Json::from("bool"),
        Type::Dynamic => Json::from("dynamic"),
        Type::List(t) => Json::Array(vec![Json::from("list"), to_json(t)]),
        Type::Set(t) => Json::Array(vec![Json::from("set"), to_json(t)]),
        Type::Map(t) => Json::Array(vec![Json::from("map"), to_json(t)]),
        Type::Object { attrs, optional } => {
            let attrs: serde_json::Map<String, Json> = attrs.iter().map(|(k, t)| (k.clone(), to_json(t))).collect();
            let mut out = vec![Json::from("object"), Json::Object(attrs)];
            let mut optional: Vec<&String> = optional.iter().collect();
            optional.sort();
            optional.dedup();
            if !optional.is_empty() {
                out.push(Json::Array(optional.into_iter().map(|name| Json::from(name.as_str())).collect()));
            }
            Json::Array(out)
        }
        Type::Tuple(types) => Json::Array(vec![Json::from("tuple"), Json::Array(types.iter().map(to_json).collect())]),
    }
}

/// Reads a type expression from a JSON value; the error says what is wrong.
pub fn from_json(json: &Json) -> Result<Type, String> {
    match json {
        Json::String(name) => match name.as_str() {
            "string" => Ok(Type::String),
            "number" => Ok(Type::Number),
            "bool" => Ok(Type::Bool),
            "dynamic" => Ok(Type::Dynamic),
            other => Err(format!("unknown primitive type {other:?}")),
        },
        Json::Array(items) => {
            let kind = items.first().and_then(Json::as_str).ok_or("a complex type must start with its kind name")?;
            let argument = items.get(1).ok_or_else(|| format!("{kind} type needs an argument"))?;
            let max_len = if kind == "object" { 3 } else { 2 };
            if items.len() > max_len {
                return Err(format!("extra data in {kind} type"));
            }
            match kind {
                "list" => Ok(Type::List(Box::new(from_json(argument)?))),
                "set" => Ok(Type::Set(Box::new(from_json(argument)?))),
                "map" => Ok(Type::Map(Box::new(from_json(argument)?))),
                "tuple" => {
                    let elements = argument.as_array().ok_or("tuple type needs an array of element types")?;
                    Ok(Type::Tuple(elements.iter().map(from_json).collect::<Result<_, _>>()?))
                }
                "object" => object_from_json(argument, items.get(2)),
                other => Err(format!("unknown type kind {other:?}")),
            }
        }
        _ => Err("a type is a string or an array".to_string()),
    }
}

fn object_from_json(attrs: &Json, optional: Option<&Json>) -> Result<Type, String> {
    let attrs = attrs.as_object().ok_or("object type needs a map of attribute types")?;
    let attrs = attrs
        .iter()
        .map(|(name, t)| Ok((name.clone(), from_json(t)?)))
        .collect::<Result<std::collections::BTreeMap<_, _>, String>>()?;
    let mut names = Vec::new();
    if let Some(optional) = optional {
        let list = optional.as_array().ok_or("optional attributes must be an array of names")?;
        for name in list {
            let name = name.as_str().ok_or("optional attribute names must be strings")?;
            if !attrs.contains_key(name) {
                return Err(format!("optional attribute {name:?} is not an attribute of the object"));
            }
            names.push(name.to_string());
        }
    }
    names.sort();
    names.dedup();
    Ok(Type::Object { attrs, optional: names })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(ty: &Type, expected: &str) {
        assert_eq!(String::from_utf8(encode(ty)).unwrap(), expected);
        assert_eq!(&decode(expected.as_bytes()).unwrap(), ty);
    }

    #[test]
    fn primitives_and_collections() {
        round_trip(&Type::String, r#""string""#);
        round_trip(&Type::Number, r#""number""#);
        round_trip(&Type::Bool, r#""bool""#);
        round_trip(&Type::Dynamic, r#""dynamic""#);
        round_trip(&Type::list(Type::String), r#"["list","string"]"#);
        round_trip(&Type::set(Type::Number), r#"["set","number"]"#);
        round_trip(&Type::map(Type::list(Type::Bool)), r#"["map",["list","bool"]]"#);
        round_trip(&Type::Tuple(vec![Type::String, Type::Dynamic]), r#"["tuple",["string","dynamic"]]"#);
        round_trip(&Type::Tuple(vec![]), r#"["tuple",[]]"#);
    }

    #[test]
    fn objects_sorted_with_optional_attributes() {
        let plain = Type::object([("zeta", Type::String), ("alpha", Type::Number)]);
        round_trip(&plain, r#"["object",{"alpha":"number","zeta":"string"}]"#);
        let Type::Object { attrs, .. } = plain else { unreachable!() };
        let with_optional = Type::Object { attrs, optional: vec!["alpha".into()] };
        round_trip(&with_optional, r#"["object",{"alpha":"number","zeta":"string"},["alpha"]]"#);
        let spaced = decode(br#" [ "object" , { "a\"b" : "bool" } ] "#).unwrap();
        assert_eq!(spaced, Type::object([("a\"b", Type::Bool)]));
        assert_eq!(encode(&spaced), br#"["object",{"a\"b":"bool"}]"#);
    }

    #[test]
    fn rejects_invalid_expressions() {
        for bad in [
            r#""str""#,
            r#"["list"]"#,
            r#"["list","string","extra"]"#,
            r#"["bag","string"]"#,
            r#"["object",["string"]]"#,
            r#"["object",{"a":"bool"},["b"]]"#,
            r#"["object",{"a":"bool"},[1]]"#,
            r#"["tuple","string"]"#,
            r#"[1,"string"]"#,
            r#"[]"#,
            "42",
            "null",
            "",
            r#""string" "number""#,
        ] {
            assert!(decode(bad.as_bytes()).is_err(), "{bad}");
        }
        let err = decode(br#"["list","strin"]"#).unwrap_err();
        assert!(err.to_string().contains("unknown primitive type \"strin\""), "{err}");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}\"string\"{}", "[\"list\",".repeat(100_000), "]".repeat(100_000));
        assert!(decode(deep.as_bytes()).is_err());
    }
}

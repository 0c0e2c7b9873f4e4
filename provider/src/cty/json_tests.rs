use std::collections::BTreeMap;

use super::*;

fn n(s: &str) -> Number {
    Number::parse(s).unwrap()
}

fn obj(entries: &[(&str, Value)]) -> Value {
    Value::Object(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

fn enc(value: &Value, ty: &Type) -> String {
    String::from_utf8(encode(value, ty).unwrap_or_else(|e| panic!("encode {value:?}: {e}"))).unwrap()
}

fn dec(json: &str, ty: &Type) -> Value {
    decode(json.as_bytes(), ty).unwrap_or_else(|e| panic!("decode {json}: {e}"))
}

#[test]
fn primitives_and_nulls() {
    assert_eq!(enc(&Value::string("a\"b"), &Type::String), r#""a\"b""#);
    assert_eq!(enc(&Value::Bool(true), &Type::Bool), "true");
    assert_eq!(enc(&Value::Null, &Type::list(Type::String)), "null");
    assert_eq!(dec("null", &Type::object([("a", Type::String)])), Value::Null);
    assert_eq!(dec(r#""x""#, &Type::String), Value::string("x"));
    assert_eq!(dec("false", &Type::Bool), Value::Bool(false));
}

#[test]
fn numbers_keep_full_precision() {
    for text in ["12345678901234567890123", "0.1", "-42", "3.14159265358979323846264338327950288", "1e-7"] {
        let value = dec(text, &Type::Number);
        assert_eq!(value, Value::Number(n(text)), "{text}");
        assert_eq!(dec(&enc(&value, &Type::Number), &Type::Number), value, "{text}");
    }
    assert_eq!(enc(&Value::Number(n("12345678901234567890123")), &Type::Number), "12345678901234567890123");
    assert_eq!(enc(&Value::Number(n("1.50")), &Type::Number), "1.5");
    let big = enc(&Value::Number(n("1e400")), &Type::Number);
    assert_eq!(big.len(), 401);
    assert_eq!(dec(&big, &Type::Number), Value::Number(n("1e400")));
    assert_eq!(dec("1e400", &Type::Number), Value::Number(n("1e400")));
    assert_eq!(dec("-1E+2", &Type::Number), Value::from(-100));
}

#[test]
fn primitive_conversions_match_terraform() {
    assert_eq!(dec(r#""12.5""#, &Type::Number), Value::Number(n("12.5")));
    assert!(decode(br#""twelve""#, &Type::Number).is_err());
    assert_eq!(dec(r#""true""#, &Type::Bool), Value::Bool(true));
    assert!(decode(br#""yes""#, &Type::Bool).is_err());
    assert_eq!(dec("12.50", &Type::String), Value::string("12.50"));
    assert_eq!(dec("true", &Type::String), Value::string("true"));
    assert!(decode(b"[]", &Type::String).is_err());
}

#[test]
fn collections_and_nesting() {
    let ty = Type::object([
        ("tags", Type::map(Type::String)),
        ("ports", Type::set(Type::Number)),
        ("pair", Type::Tuple(vec![Type::String, Type::Bool])),
        ("rules", Type::list(Type::object([("cidr", Type::String)]))),
    ]);
    let value = obj(&[
        ("tags", Value::Map(BTreeMap::from([("env".to_string(), Value::string("prod"))]))),
        ("ports", Value::Set(vec![Value::from(80), Value::from(443)])),
        ("pair", Value::Tuple(vec![Value::string("a"), Value::Bool(true)])),
        ("rules", Value::List(vec![obj(&[("cidr", Value::Null)])])),
    ]);
    let json = enc(&value, &ty);
    assert_eq!(json, r#"{"pair":["a",true],"ports":[80,443],"rules":[{"cidr":null}],"tags":{"env":"prod"}}"#);
    assert_eq!(dec(&json, &ty), value);
    assert!(decode(br#"{"pair":["a"]}"#, &ty).is_err(), "short tuple");
}

#[test]
fn object_attributes_missing_and_unknown() {
    let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
    assert_eq!(dec(r#"{"b":1}"#, &ty), obj(&[("a", Value::Null), ("b", Value::from(1))]));
    assert_eq!(enc(&obj(&[("b", Value::from(1))]), &ty), r#"{"a":null,"b":1}"#);
    let err = decode(br#"{"a":"x","gone":true}"#, &ty).unwrap_err();
    assert_eq!(err.path(), ".gone");
    assert_eq!(err.message(), "unsupported attribute");
    assert!(encode(&obj(&[("gone", Value::Bool(true))]), &ty).is_err());
}

#[test]
fn lenient_decoding_drops_removed_attributes_at_any_depth() {
    let ty = Type::object([("a", Type::String), ("nested", Type::list(Type::object([("x", Type::Number)])))]);
    let json = br#"{"a":"x","old":{"deep":[1,2]},"nested":[{"x":1,"removed":"y"}]}"#;
    assert!(decode(json, &ty).is_err());
    assert_eq!(
        decode_lenient(json, &ty).unwrap(),
        obj(&[("a", Value::string("x")), ("nested", Value::List(vec![obj(&[("x", Value::from(1))])]))])
    );
    // Type errors in attributes that remain are still errors.
    assert!(decode_lenient(br#"{"a":[]}"#, &ty).is_err());
}

#[test]
fn dynamic_values() {
    let value = Value::Dynamic(Type::list(Type::String), Box::new(Value::List(vec![Value::string("a")])));
    let json = enc(&value, &Type::Dynamic);
    assert_eq!(json, r#"{"value":["a"],"type":["list","string"]}"#);
    assert_eq!(dec(&json, &Type::Dynamic), value);
    assert_eq!(
        dec(r#"{"type":"number","value":5}"#, &Type::Dynamic),
        Value::Dynamic(Type::Number, Box::new(Value::from(5)))
    );
    assert_eq!(dec("null", &Type::Dynamic), Value::Null);
    // Typed null round-trips.
    let typed_null = Value::Dynamic(Type::String, Box::new(Value::Null));
    assert_eq!(dec(&enc(&typed_null, &Type::Dynamic), &Type::Dynamic), typed_null);
    // A plain value whose type is evident is wrapped.
    assert_eq!(enc(&Value::from(5), &Type::Dynamic), r#"{"value":5,"type":"number"}"#);
    for bad in [
        r#"{"value":5}"#,
        r#"{"type":"number"}"#,
        r#"{"type":"number","value":5,"x":1}"#,
        r#"{"type":"nope","value":5}"#,
        "5",
        r#"{"type":"number","value":"x"}"#,
    ] {
        assert!(decode(bad.as_bytes(), &Type::Dynamic).is_err(), "{bad}");
    }
}

#[test]
fn unknowns_cannot_be_json() {
    let err = encode(&obj(&[("a", Value::Unknown)]), &Type::object([("a", Type::String)])).unwrap_err();
    assert_eq!(err.path(), ".a");
    assert!(encode(&Value::Unknown, &Type::Dynamic).is_err());
}

#[test]
fn errors_carry_the_path() {
    let ty = Type::object([("attr", Type::list(Type::map(Type::Number)))]);
    let err = decode(br#"{"attr":[{},{},{"key":true}]}"#, &ty).unwrap_err();
    assert_eq!(err.to_string(), r#".attr[2]["key"]: a number is required, found a bool"#);
}

#[test]
fn garbage_never_panics() {
    let ty = Type::object([("a", Type::list(Type::Dynamic)), ("b", Type::Number)]);
    let json = r#"{"a":[{"type":"string","value":"x"},null],"b":1.5}"#;
    assert!(decode(json.as_bytes(), &ty).is_ok());
    for end in 0..json.len() {
        assert!(decode(&json.as_bytes()[..end], &ty).is_err(), "prefix {end}");
    }
    for bad in ["", "{", "[1,", "\u{0}", "{\"a\":[", "\"\\u12\"", "1e999999999999999999999", "nul"] {
        let _ = decode(bad.as_bytes(), &Type::Number);
        let _ = decode(bad.as_bytes(), &ty);
    }
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(decode(deep.as_bytes(), &Type::list(Type::Dynamic)).is_err());
    let huge_exp = decode(b"1e999999999999999999999", &Type::Number);
    assert!(huge_exp.is_err());
}

#[test]
fn value_level_functions_match_byte_level_ones() {
    let ty = Type::object([("a", Type::Number)]);
    let json: serde_json::Value = serde_json::from_str(r#"{"a":12345678901234567890123,"old":1}"#).unwrap();
    assert!(decode_value(&json, &ty).is_err());
    let value = decode_value_lenient(&json, &ty).unwrap();
    assert_eq!(value, obj(&[("a", Value::Number(n("12345678901234567890123")))]));
    let back = encode_value(&value, &ty).unwrap();
    assert_eq!(back.to_string(), r#"{"a":12345678901234567890123}"#);
    assert_eq!(decode_value(&back, &ty).unwrap(), value);
}

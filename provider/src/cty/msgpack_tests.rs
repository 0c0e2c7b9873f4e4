use std::collections::BTreeMap;

use super::*;

fn n(s: &str) -> Number {
    Number::parse(s).unwrap()
}

fn obj(entries: &[(&str, Value)]) -> Value {
    Value::Object(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

fn enc(value: &Value, ty: &Type) -> Vec<u8> {
    encode(value, ty).unwrap_or_else(|e| panic!("encode {value:?}: {e}"))
}

fn dec(bytes: &[u8], ty: &Type) -> Value {
    decode(bytes, ty).unwrap_or_else(|e| panic!("decode {bytes:02x?}: {e}"))
}

fn msgpack_str(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    rmp::encode::write_str(&mut out, s).unwrap();
    out
}

#[test]
fn primitives() {
    assert_eq!(enc(&Value::string("hi"), &Type::String), [0xa2, b'h', b'i']);
    assert_eq!(enc(&Value::Bool(true), &Type::Bool), [0xc3]);
    assert_eq!(enc(&Value::Bool(false), &Type::Bool), [0xc2]);
    assert_eq!(dec(&[0xa2, b'h', b'i'], &Type::String), Value::string("hi"));
    // str8 and bin forms of a string are both accepted.
    assert_eq!(dec(&[0xd9, 0x01, b'x'], &Type::String), Value::string("x"));
    assert_eq!(dec(&[0xc4, 0x01, b'x'], &Type::String), Value::string("x"));
    assert_eq!(dec(&[0xc3], &Type::Bool), Value::Bool(true));
    let unicode = "héllo wörld ✓";
    assert_eq!(dec(&enc(&Value::string(unicode), &Type::String), &Type::String), Value::string(unicode));
}

#[test]
fn nulls_of_every_type() {
    let types = [
        Type::String,
        Type::Number,
        Type::Bool,
        Type::Dynamic,
        Type::list(Type::String),
        Type::set(Type::Number),
        Type::map(Type::Bool),
        Type::object([("a", Type::String)]),
        Type::Tuple(vec![Type::String]),
    ];
    for ty in &types {
        assert_eq!(enc(&Value::Null, ty), [0xc0]);
        assert_eq!(dec(&[0xc0], ty), Value::Null);
    }
}

#[test]
fn decodes_every_integer_width() {
    let cases: [(&[u8], i128); 12] = [
        (&[0x05], 5),
        (&[0x7f], 127),
        (&[0xff], -1),
        (&[0xe0], -32),
        (&[0xcc, 0xff], 255),
        (&[0xcd, 0x01, 0x2c], 300),
        (&[0xce, 0xff, 0xff, 0xff, 0xff], 4294967295),
        (&[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], u64::MAX as i128),
        (&[0xd0, 0x80], -128),
        (&[0xd1, 0x80, 0x00], -32768),
        (&[0xd2, 0x80, 0x00, 0x00, 0x00], i32::MIN as i128),
        (&[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], i64::MIN as i128),
    ];
    for (bytes, expected) in cases {
        assert_eq!(dec(bytes, &Type::Number), Value::Number(n(&expected.to_string())), "{bytes:02x?}");
    }
}

#[test]
fn decodes_floats_and_decimal_strings() {
    assert_eq!(dec(&[0xca, 0x3f, 0x00, 0x00, 0x00], &Type::Number), Value::Number(n("0.5")));
    let mut f64_bytes = vec![0xcb];
    f64_bytes.extend_from_slice(&(-2.25f64).to_be_bytes());
    assert_eq!(dec(&f64_bytes, &Type::Number), Value::Number(n("-2.25")));
    // A float64 0.1 is the exact binary value, as in cty.
    let mut tenth = vec![0xcb];
    tenth.extend_from_slice(&0.1f64.to_be_bytes());
    assert_eq!(dec(&tenth, &Type::Number), Value::Number(Number::from_f64(0.1).unwrap()));
    for text in ["0.1", "12345678901234567890123", "1e400", "-3.5e-7"] {
        assert_eq!(dec(&msgpack_str(text), &Type::Number), Value::Number(n(text)), "{text}");
    }
    let mut nan = vec![0xcb];
    nan.extend_from_slice(&f64::NAN.to_be_bytes());
    assert!(decode(&nan, &Type::Number).is_err());
    assert!(decode(&msgpack_str("twelve"), &Type::Number).is_err());
    assert!(decode(&[0xc3], &Type::Number).is_err());
}

#[test]
fn encodes_numbers_compactly_without_losing_precision() {
    let num = |s: &str| enc(&Value::Number(n(s)), &Type::Number);
    assert_eq!(num("1"), [0x01]);
    assert_eq!(num("1.0"), [0x01]);
    assert_eq!(num("-1"), [0xff]);
    assert_eq!(num("-200"), [0xd1, 0xff, 0x38]);
    assert_eq!(num("300"), [0xcd, 0x01, 0x2c]);
    assert_eq!(num("18446744073709551615"), [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    let mut half = vec![0xcb];
    half.extend_from_slice(&0.5f64.to_be_bytes());
    assert_eq!(num("0.5"), half);
    // 0.1 and other decimals that no float holds exactly travel as strings.
    assert_eq!(num("0.1"), msgpack_str("0.1"));
    assert_eq!(num("12345678901234567890123"), msgpack_str("12345678901234567890123"));
    let big = num("1e400");
    assert_eq!(big[0], 0xda, "str16");
    assert_eq!(dec(&big, &Type::Number), Value::Number(n("1e400")));
    // 2^64 is integral but beyond u64, and exactly a float.
    let mut two64 = vec![0xcb];
    two64.extend_from_slice(&18446744073709551616f64.to_be_bytes());
    assert_eq!(num("18446744073709551616"), two64);
    for s in [
        "0.1",
        "-0.3",
        "12345678901234567890123",
        "1e400",
        "-1e-400",
        "9007199254740993",
        "3.14159265358979323846264338327950288",
    ] {
        assert_eq!(dec(&num(s), &Type::Number), Value::Number(n(s)), "{s}");
    }
}

#[test]
fn unknowns_encode_as_go_cty_does() {
    assert_eq!(enc(&Value::Unknown, &Type::String), [0xd4, 0x00, 0x00]);
    assert_eq!(enc(&Value::Unknown, &Type::Dynamic), [0xd4, 0x00, 0x00]);
    assert_eq!(enc(&Value::Unknown, &Type::list(Type::String)), [0xd4, 0x00, 0x00]);
}

#[test]
fn unknowns_decode_from_any_extension_including_refinements() {
    let refined: [(&[u8], Type); 9] = [
        (&[0xd4, 0x00, 0x00], Type::String),
        // ext8 with an empty payload
        (&[0xc7, 0x00, 0x00], Type::Number),
        // refined: definitely not null ({1: false})
        (&[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2], Type::String),
        // refined: not null and string prefix "ab"
        (&[0xc7, 0x07, 0x0c, 0x82, 0x01, 0xc2, 0x02, 0xa2, b'a', b'b'], Type::String),
        // refined: number lower bound [0, inclusive]
        (&[0xc7, 0x05, 0x0c, 0x81, 0x03, 0x92, 0x00, 0xc3], Type::Number),
        // refined: collection length between 1 and 3
        (&[0xc7, 0x05, 0x0c, 0x82, 0x05, 0x01, 0x06, 0x03], Type::list(Type::String)),
        // some future extension code with a payload
        (&[0xd5, 0x2a, 0xde, 0xad], Type::Bool),
        // fixext4: not null, string prefix "a"
        (&[0xd6, 0x0c, 0x81, 0x02, 0xa1, b'a'], Type::String),
        // ext16
        (&[0xc8, 0x00, 0x01, 0x0c, 0x80], Type::Dynamic),
    ];
    for (bytes, ty) in refined {
        assert_eq!(dec(bytes, &ty), Value::Unknown, "{bytes:02x?}");
    }
    // A refined unknown nested in an object, followed by more attributes.
    let ty = Type::object([("id", Type::String), ("name", Type::String)]);
    let mut bytes = vec![0x82];
    bytes.extend(msgpack_str("id"));
    bytes.extend([0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2]);
    bytes.extend(msgpack_str("name"));
    bytes.extend(msgpack_str("x"));
    assert_eq!(dec(&bytes, &ty), obj(&[("id", Value::Unknown), ("name", Value::string("x"))]));
    // A truncated refinement payload is an error, not a panic.
    assert!(decode(&[0xc7, 0x07, 0x0c, 0x82, 0x01], &Type::String).is_err());
}

#[test]
fn collections() {
    let list = Value::List(vec![Value::string("a"), Value::Null, Value::Unknown]);
    let ty = Type::list(Type::String);
    let bytes = enc(&list, &ty);
    assert_eq!(bytes, [0x93, 0xa1, b'a', 0xc0, 0xd4, 0x00, 0x00]);
    assert_eq!(dec(&bytes, &ty), list);

    let set = Value::Set(vec![Value::from(1), Value::from(2)]);
    let set_ty = Type::set(Type::Number);
    assert_eq!(enc(&set, &set_ty), [0x92, 0x01, 0x02]);
    assert_eq!(dec(&[0x92, 0x02, 0x01], &set_ty), Value::Set(vec![Value::from(2), Value::from(1)]));
    assert!(dec(&[0x92, 0x02, 0x01], &set_ty).semantic_eq(&set));

    let map_ty = Type::map(Type::Number);
    let map = Value::Map(BTreeMap::from([("b".to_string(), Value::from(2)), ("a".to_string(), Value::from(1))]));
    let bytes = enc(&map, &map_ty);
    assert_eq!(bytes, [0x82, 0xa1, b'a', 0x01, 0xa1, b'b', 0x02]);
    assert_eq!(dec(&bytes, &map_ty), map);
    assert_eq!(dec(&[0x80], &map_ty), Value::Map(BTreeMap::new()));
    assert!(decode(&[0x82, 0xa1, b'a', 0x01, 0xa1, b'a', 0x02], &map_ty).is_err(), "duplicate key");

    let tuple_ty = Type::Tuple(vec![Type::String, Type::Number]);
    let tuple = Value::Tuple(vec![Value::string("x"), Value::from(7)]);
    assert_eq!(enc(&tuple, &tuple_ty), [0x92, 0xa1, b'x', 0x07]);
    assert_eq!(dec(&[0x92, 0xa1, b'x', 0x07], &tuple_ty), tuple);
    assert!(decode(&[0x91, 0xa1, b'x'], &tuple_ty).is_err());
    assert!(encode(&Value::Tuple(vec![Value::string("x")]), &tuple_ty).is_err());
}

#[test]
fn nested_blocks() {
    let rule = Type::object([("port", Type::Number), ("cidrs", Type::set(Type::String))]);
    let ty = Type::object([("name", Type::String), ("rule", Type::list(rule))]);
    let value = obj(&[
        ("name", Value::string("web")),
        (
            "rule",
            Value::List(vec![
                obj(&[("port", Value::from(443)), ("cidrs", Value::Set(vec![Value::string("10.0.0.0/8")]))]),
                obj(&[("port", Value::Unknown), ("cidrs", Value::Null)]),
            ]),
        ),
    ]);
    assert_eq!(dec(&enc(&value, &ty), &ty), value);
}

#[test]
fn objects_always_carry_every_attribute() {
    let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
    // Encoding fills absent attributes with nil, in sorted order.
    let bytes = enc(&obj(&[("b", Value::from(1))]), &ty);
    assert_eq!(bytes, [0x82, 0xa1, b'a', 0xc0, 0xa1, b'b', 0x01]);
    // Decoding makes absent attributes null.
    assert_eq!(dec(&[0x81, 0xa1, b'b', 0x01], &ty), obj(&[("a", Value::Null), ("b", Value::from(1))]));
    assert_eq!(dec(&[0x80], &ty), obj(&[("a", Value::Null), ("b", Value::Null)]));
    // Attributes the type does not have are errors both ways.
    let err = decode(&[0x81, 0xa1, b'c', 0x01], &ty).unwrap_err();
    assert_eq!(err.path(), ".c");
    let err = encode(&obj(&[("c", Value::from(1))]), &ty).unwrap_err();
    assert_eq!(err.path(), ".c");
    assert!(decode(&[0x82, 0xa1, b'a', 0xc0, 0xa1, b'a', 0xc0], &ty).is_err(), "duplicate attribute");
    // Map-shaped values are accepted for object types on encode.
    let as_map = Value::Map(BTreeMap::from([("a".to_string(), Value::string("x"))]));
    assert_eq!(enc(&as_map, &ty), [0x82, 0xa1, b'a', 0xa1, b'x', 0xa1, b'b', 0xc0]);
}

#[test]
fn dynamic_values() {
    let bytes = enc(&Value::Dynamic(Type::String, Box::new(Value::string("x"))), &Type::Dynamic);
    let mut expected = vec![0x92, 0xc4, 0x08];
    expected.extend_from_slice(b"\"string\"");
    expected.extend([0xa1, b'x']);
    assert_eq!(bytes, expected);
    assert_eq!(dec(&bytes, &Type::Dynamic), Value::Dynamic(Type::String, Box::new(Value::string("x"))));

    // The type may also arrive as a msgpack str.
    let list_ty = Type::list(Type::Number);
    let mut bytes = vec![0x92];
    bytes.extend(msgpack_str(r#"["list","number"]"#));
    bytes.extend([0x92, 0x01, 0x02]);
    let decoded = dec(&bytes, &Type::Dynamic);
    assert_eq!(decoded, Value::Dynamic(list_ty.clone(), Box::new(Value::List(vec![Value::from(1), Value::from(2)]))));
    assert_eq!(decoded.as_seq().map(<[Value]>::len), None, "dynamic wrapper is explicit");

    // Null and unknown in a dynamic slot are plain.
    assert_eq!(dec(&[0xc0], &Type::Dynamic), Value::Null);
    assert_eq!(dec(&[0xd4, 0x00, 0x00], &Type::Dynamic), Value::Unknown);
    // A typed null is kept, and reads as null.
    let mut typed_null = vec![0x92, 0xc4, 0x08];
    typed_null.extend_from_slice(b"\"number\"");
    typed_null.push(0xc0);
    let value = dec(&typed_null, &Type::Dynamic);
    assert!(value.is_null());
    assert_eq!(enc(&value, &Type::Dynamic), typed_null);

    // Dynamic attributes inside objects, and plain values whose type is evident.
    let ty = Type::object([("v", Type::Dynamic)]);
    let value = obj(&[("v", Value::from(5))]);
    let decoded = dec(&enc(&value, &ty), &ty);
    assert_eq!(decoded, obj(&[("v", Value::Dynamic(Type::Number, Box::new(Value::from(5))))]));
    assert!(encode(&Value::List(vec![]), &Type::Dynamic).is_err(), "empty list has no evident type");

    // Malformed dynamic wrappers.
    assert!(decode(&[0x91, 0xc4, 0x00], &Type::Dynamic).is_err());
    assert!(decode(&[0x92, 0xc4, 0x03, b'b', b'a', b'd', 0xc0], &Type::Dynamic).is_err());
    assert!(decode(&[0xa1, b'x'], &Type::Dynamic).is_err());
}

#[test]
fn errors_carry_the_path() {
    let ty = Type::object([("attr", Type::list(Type::map(Type::Number)))]);
    let mut bytes = vec![0x81];
    bytes.extend(msgpack_str("attr"));
    bytes.extend([0x93, 0x80, 0x80, 0x81]);
    bytes.extend(msgpack_str("key"));
    bytes.extend(msgpack_str("not a number"));
    let err = decode(&bytes, &ty).unwrap_err();
    assert_eq!(err.path(), r#".attr[2]["key"]"#);
    assert_eq!(err.to_string(), r#".attr[2]["key"]: string is not a decimal number"#);

    let value = obj(&[("attr", Value::List(vec![Value::Map(BTreeMap::from([("k".to_string(), Value::Bool(true))]))]))]);
    let err = encode(&value, &ty).unwrap_err();
    assert_eq!(err.path(), r#".attr[0]["k"]"#);
    assert!(err.message().contains("does not conform"), "{err}");

    let err = decode(&[0xc3], &Type::String).unwrap_err();
    assert_eq!(err.to_string(), "a string is required, found a bool");
}

#[test]
fn garbage_never_panics() {
    let ty = Type::object([
        ("a", Type::list(Type::map(Type::Number))),
        ("b", Type::Dynamic),
        ("c", Type::Tuple(vec![Type::String, Type::Bool])),
    ]);
    let value = obj(&[
        ("a", Value::List(vec![Value::Map(BTreeMap::from([("k".to_string(), Value::Number(n("0.1")))]))])),
        ("b", Value::Dynamic(Type::set(Type::String), Box::new(Value::Set(vec![Value::string("s")])))),
        ("c", Value::Tuple(vec![Value::Unknown, Value::Bool(false)])),
    ]);
    let bytes = enc(&value, &ty);
    assert_eq!(dec(&bytes, &ty), value);
    // Every proper prefix is an error.
    for end in 0..bytes.len() {
        assert!(decode(&bytes[..end], &ty).is_err(), "prefix of {end} bytes");
    }
    // Trailing bytes are an error.
    let mut longer = bytes.clone();
    longer.push(0xc0);
    assert!(decode(&longer, &ty).is_err());
    // Every single-byte corruption decodes or fails cleanly.
    for i in 0..bytes.len() {
        for b in [0x00, 0x7f, 0x80, 0xc1, 0xd4, 0xdb, 0xdd, 0xdf, 0xff] {
            let mut corrupt = bytes.clone();
            corrupt[i] = b;
            let _ = decode(&corrupt, &ty);
        }
    }
}

#[test]
fn huge_lengths_are_not_trusted() {
    let list = Type::list(Type::String);
    assert!(decode(&[0xdd, 0xff, 0xff, 0xff, 0xff], &list).is_err());
    assert!(decode(&[0xdf, 0xff, 0xff, 0xff, 0xff], &Type::map(Type::String)).is_err());
    assert!(decode(&[0xdb, 0xff, 0xff, 0xff, 0xff, b'a'], &Type::String).is_err());
    assert!(decode(&[0xc9, 0xff, 0xff, 0xff, 0xff, 0x00], &Type::String).is_err());
}

#[test]
fn nesting_depth_is_bounded() {
    // A dynamic value whose type is "dynamic", nested without end.
    let mut level = vec![0x92, 0xc4, 0x09];
    level.extend_from_slice(b"\"dynamic\"");
    let mut bytes = level.repeat(100_000);
    bytes.push(0xc0);
    let err = decode(&bytes, &Type::Dynamic).unwrap_err();
    assert!(err.message().contains("too deeply"), "{err}");
    // Moderate nesting still works.
    let mut shallow = level.repeat(20);
    shallow.extend([0x92, 0xc4, 0x08]);
    shallow.extend_from_slice(b"\"string\"");
    shallow.extend([0xa1, b'x']);
    let mut value = dec(&shallow, &Type::Dynamic);
    let mut depth = 0;
    while let Value::Dynamic(Type::Dynamic, inner) = value {
        value = *inner;
        depth += 1;
    }
    assert_eq!(depth, 20);
    assert_eq!(value, Value::Dynamic(Type::String, Box::new(Value::string("x"))));
}

#[test]
fn type_mismatches_on_encode_are_errors() {
    assert!(encode(&Value::from(1), &Type::String).is_err());
    assert!(encode(&Value::string("1"), &Type::Number).is_err());
    assert!(encode(&Value::List(vec![]), &Type::map(Type::String)).is_err());
    assert!(encode(&Value::Map(BTreeMap::new()), &Type::list(Type::String)).is_err());
}

//! Property tests: every codec round-trips what it writes and survives any input.

use proptest::prelude::*;

use super::testing::{arb_concrete_type, arb_number, arb_type, arb_typed_known_value, arb_typed_value};
use super::{json, msgpack, type_json, Number, Value};

proptest! {
    #[test]
    fn msgpack_round_trips((ty, value) in arb_typed_value()) {
        let bytes = msgpack::encode(&value, &ty).unwrap();
        let back = msgpack::decode(&bytes, &ty).unwrap();
        prop_assert!(back.semantic_eq(&value), "{value:?}\nbecame {back:?}");
    }

    #[test]
    fn json_round_trips_known_values((ty, value) in arb_typed_known_value()) {
        let bytes = json::encode(&value, &ty).unwrap();
        let back = json::decode(&bytes, &ty).unwrap();
        prop_assert!(back.semantic_eq(&value), "{value:?}\nbecame {back:?}");
        prop_assert!(json::decode_lenient(&bytes, &ty).unwrap().semantic_eq(&value));
    }

    #[test]
    fn json_refuses_unknowns((ty, value) in arb_typed_value()) {
        prop_assert_eq!(json::encode(&value, &ty).is_ok(), value.is_wholly_known());
    }

    #[test]
    fn type_expressions_round_trip(ty in arb_type()) {
        prop_assert_eq!(type_json::decode(&type_json::encode(&ty)).unwrap(), ty);
    }

    #[test]
    fn numbers_round_trip_through_text(n in arb_number()) {
        prop_assert_eq!(Number::parse(&n.to_string()), Some(n.clone()));
        if let Some(i) = n.as_i64() {
            prop_assert_eq!(Number::from(i), n.clone());
        }
        if let Some(f) = n.as_f64_exact() {
            prop_assert_eq!(Number::from_f64(f), Some(n.clone()));
        }
        let json = serde_json::to_string(&n).unwrap();
        prop_assert_eq!(serde_json::from_str::<Number>(&json).unwrap(), n);
    }

    #[test]
    fn number_order_agrees_with_floats(a in any::<f64>(), b in any::<f64>()) {
        prop_assume!(a.is_finite() && b.is_finite());
        let (na, nb) = (Number::from_f64(a).unwrap(), Number::from_f64(b).unwrap());
        prop_assert_eq!(na.partial_cmp(&nb), a.partial_cmp(&b));
        prop_assert_eq!(na.as_f64(), Some(if a == 0.0 { 0.0 } else { a }));
    }

    #[test]
    fn random_bytes_never_panic(ty in arb_type(), bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = msgpack::decode(&bytes, &ty);
        let _ = json::decode(&bytes, &ty);
        let _ = json::decode_lenient(&bytes, &ty);
        let _ = type_json::decode(&bytes);
    }

    #[test]
    fn corrupted_encodings_never_panic(
        (ty, value) in arb_typed_value(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = msgpack::encode(&value, &ty).unwrap();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        let _ = msgpack::decode(&bytes, &ty);
    }

    #[test]
    fn values_decode_against_other_types_without_panicking(
        (ty, value) in arb_typed_value(),
        other in arb_concrete_type(),
    ) {
        let bytes = msgpack::encode(&value, &ty).unwrap();
        let _ = msgpack::decode(&bytes, &other);
        if value.is_wholly_known() {
            let bytes = json::encode(&value, &ty).unwrap();
            let _ = json::decode(&bytes, &other);
        }
        prop_assert!(msgpack::encode(&Value::Null, &other).is_ok());
    }
}

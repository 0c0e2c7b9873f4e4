//! proptest strategies for cty types and values, shared by tests across the crate.

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::subsequence;

use super::{Number, Type, Value};

/// How many dynamic values may nest inside one another in a generated value.
const DYNAMIC_NESTING: u32 = 2;

fn attr_name() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,8}"
}

/// Any type, nested up to three levels, with optional object attributes now and then.
pub fn arb_type() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![Just(Type::String), Just(Type::Number), Just(Type::Bool), Just(Type::Dynamic)];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            btree_map(attr_name(), inner.clone(), 0..4).prop_flat_map(|attrs| {
                let names: Vec<String> = attrs.keys().cloned().collect();
                let len = names.len();
                subsequence(names, 0..=len).prop_map(move |optional| Type::Object { attrs: attrs.clone(), optional })
            }),
            vec(inner, 0..4).prop_map(Type::Tuple),
        ]
    })
}

/// A type a known dynamic value can have (anything but `dynamic` itself at the top).
pub fn arb_concrete_type() -> impl Strategy<Value = Type> {
    arb_type().prop_filter("a concrete type", |t| *t != Type::Dynamic)
}

/// Numbers of every shape: small and large integers, floats, long decimals, huge exponents.
pub fn arb_number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        any::<u64>().prop_map(Number::from),
        (-1000i64..1000).prop_map(Number::from),
        any::<f64>().prop_filter_map("finite", Number::from_f64),
        any::<f64>().prop_filter_map("finite", Number::from_f64_shortest),
        ("-?[0-9]{1,40}", -450i64..450)
            .prop_filter_map("decimal", |(digits, exp)| Number::parse(&format!("{digits}e{exp}"))),
    ]
}

/// A value of type `ty`, with nulls and unknowns at any position.
pub fn arb_value(ty: &Type) -> BoxedStrategy<Value> {
    value_of(ty, true, DYNAMIC_NESTING)
}

/// A value of type `ty` with nulls but no unknowns anywhere.
pub fn arb_known_value(ty: &Type) -> BoxedStrategy<Value> {
    value_of(ty, false, DYNAMIC_NESTING)
}

/// A type together with a value of it (nulls and unknowns included).
pub fn arb_typed_value() -> impl Strategy<Value = (Type, Value)> {
    arb_type().prop_flat_map(|t| (Just(t.clone()), arb_value(&t)))
}

/// A type together with a wholly known value of it.
pub fn arb_typed_known_value() -> impl Strategy<Value = (Type, Value)> {
    arb_type().prop_flat_map(|t| (Just(t.clone()), arb_known_value(&t)))
}

fn value_of(ty: &Type, unknowns: bool, dynamic_budget: u32) -> BoxedStrategy<Value> {
    let known = known_value_of(ty, unknowns, dynamic_budget);
    if unknowns {
        prop_oneof![1 => Just(Value::Null), 1 => Just(Value::Unknown), 8 => known].boxed()
    } else {
        prop_oneof![1 => Just(Value::Null), 8 => known].boxed()
    }
}

fn known_value_of(ty: &Type, unknowns: bool, budget: u32) -> BoxedStrategy<Value> {
    let element = |t: &Type| value_of(t, unknowns, budget);
    match ty {
        Type::String => any::<String>().prop_map(Value::String).boxed(),
        Type::Number => arb_number().prop_map(Value::Number).boxed(),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::List(et) => vec(element(et), 0..4).prop_map(Value::List).boxed(),
        Type::Set(et) => vec(element(et), 0..4).prop_map(|items| Value::Set(distinct(items))).boxed(),
        Type::Map(et) => btree_map(any::<String>(), element(et), 0..4).prop_map(Value::Map).boxed(),
        Type::Tuple(types) => types.iter().map(element).collect::<Vec<_>>().prop_map(Value::Tuple).boxed(),
        Type::Object { attrs, .. } => {
            let names: Vec<String> = attrs.keys().cloned().collect();
            attrs
                .values()
                .map(element)
                .collect::<Vec<_>>()
                .prop_map(move |values| Value::Object(names.iter().cloned().zip(values).collect()))
                .boxed()
        }
        Type::Dynamic => {
            let types = if budget == 0 {
                prop_oneof![Just(Type::String), Just(Type::Number), Just(Type::Bool)].boxed()
            } else {
                arb_concrete_type().boxed()
            };
            types
                .prop_flat_map(move |t| {
                    value_of(&t, unknowns, budget.saturating_sub(1))
                        .prop_map(move |v| Value::Dynamic(t.clone(), Box::new(v)))
                })
                .boxed()
        }
    }
}

/// Set elements are distinct.
fn distinct(items: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        if !out.iter().any(|seen| seen.semantic_eq(&item)) {
            out.push(item);
        }
    }
    out
}

//! cty, Terraform's type system, as far as the plugin protocol carries it.
//!
//! `Type` and `Value` are the in-memory forms; `msgpack` and `json` convert them to and
//! from the wire (`DynamicValue`), and `type_json` encodes types as Terraform's JSON type
//! expressions (`"string"`, `["list","string"]`, `["object",{...}]`).
//!
//! Values are untyped trees: the schema `Type` is passed alongside whenever encoding or
//! decoding needs it. The one exception is a value in a `DynamicPseudoType` slot, which
//! keeps its concrete type in [`Value::Dynamic`] so that it re-encodes exactly.

pub mod json;
pub mod msgpack;
mod number;
mod path;
#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod testing;
pub mod type_json;

use std::collections::BTreeMap;

pub use number::{Number, ParseNumberError};

/// A cty type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    String,
    Number,
    Bool,
    /// `DynamicPseudoType`: any type, decided by the value.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    /// Attribute types; `optional` names attributes declared optional in a type
    /// constraint (only meaningful in type constraints, kept for round-tripping).
    Object {
        attrs: BTreeMap<String, Type>,
        optional: Vec<String>,
    },
    Tuple(Vec<Type>),
}

impl Type {
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }
    pub fn set(t: Type) -> Type {
        Type::Set(Box::new(t))
    }
    pub fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }
    pub fn object<I, K>(attrs: I) -> Type
    where
        I: IntoIterator<Item = (K, Type)>,
        K: Into<String>,
    {
        Type::Object { attrs: attrs.into_iter().map(|(k, t)| (k.into(), t)).collect(), optional: Vec::new() }
    }
}

/// A cty value. Collections keep insertion order for lists/tuples; sets are kept as a
/// list of distinct elements (order is not significant: compare with [`Value::semantic_eq`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    /// Not known until apply. Refinements sent by Terraform are accepted and dropped.
    Unknown,
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    Set(Vec<Value>),
    Tuple(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    /// A value in a `DynamicPseudoType` slot, with its concrete type. Usually known and
    /// non-null; Terraform may also send a typed null or unknown here (`[type, nil]`), which
    /// is kept so that it re-encodes exactly — `is_null`/`is_unknown` look through it.
    Dynamic(Type, Box<Value>),
}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }
    /// True for null, including a typed null in a dynamic slot.
    pub fn is_null(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Dynamic(_, v) => v.is_null(),
            _ => false,
        }
    }
    /// True for an unknown, including a typed unknown in a dynamic slot.
    pub fn is_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::Dynamic(_, v) => v.is_unknown(),
            _ => false,
        }
    }
    /// True when neither this value nor anything nested in it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => v.iter().all(Value::is_wholly_known),
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Dynamic(_, v) => v.is_wholly_known(),
            _ => true,
        }
    }
    /// Attribute of an object value; `None` when this is not an object or has no such attribute.
    pub fn get(&self, attr: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => m.get(attr),
            Value::Dynamic(_, v) => v.get(attr),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }
    /// Elements of a list, set or tuple.
    pub fn as_seq(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }
    /// Entries of a map or object.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }
    /// The type a known value evidently has, for values placed in a `dynamic` slot
    /// without one. `None` when it cannot be told: nulls, unknowns, empty or mixed
    /// lists, sets and maps.
    pub fn implied_type(&self) -> Option<Type> {
        fn uniform<'a>(items: impl Iterator<Item = &'a Value>) -> Option<Type> {
            let mut found: Option<Type> = None;
            for item in items {
                let t = item.implied_type()?;
                match &found {
                    Some(f) if *f != t => return None,
                    _ => found = Some(t),
                }
            }
            found
        }
        match self {
            Value::String(_) => Some(Type::String),
            Value::Number(_) => Some(Type::Number),
            Value::Bool(_) => Some(Type::Bool),
            Value::Dynamic(t, _) => Some(t.clone()),
            Value::List(items) => Some(Type::list(uniform(items.iter())?)),
            Value::Set(items) => Some(Type::set(uniform(items.iter())?)),
            Value::Map(entries) => Some(Type::map(uniform(entries.values())?)),
            Value::Tuple(items) => Some(Type::Tuple(items.iter().map(Value::implied_type).collect::<Option<_>>()?)),
            Value::Object(entries) => Some(Type::Object {
                attrs: entries.iter().map(|(k, v)| Some((k.clone(), v.implied_type()?))).collect::<Option<_>>()?,
                optional: Vec::new(),
            }),
            Value::Null | Value::Unknown => None,
        }
    }
    /// Equality that ignores set element order (and nothing else).
    pub fn semantic_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Set(a), Value::Set(b)) => {
                a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| x.semantic_eq(y)))
            }
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.semantic_eq(y))
            }
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, x)| b.get(k).is_some_and(|y| x.semantic_eq(y)))
            }
            (Value::Dynamic(ta, a), Value::Dynamic(tb, b)) => ta == tb && a.semantic_eq(b),
            _ => self == other,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Number(Number::from(n))
    }
}
impl From<Number> for Value {
    fn from(n: Number) -> Value {
        Value::Number(n)
    }
}

/// Errors converting between wire bytes and values. `path` locates the offending value
/// (`.attr[2]["key"]`, empty for the whole value).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CodecError {
    #[error("{}", describe_invalid(.path, .message))]
    Invalid { path: String, message: String },
}

impl CodecError {
    /// Path of the offending value.
    pub fn path(&self) -> &str {
        match self {
            CodecError::Invalid { path, .. } => path,
        }
    }
    /// What is wrong with it.
    pub fn message(&self) -> &str {
        match self {
            CodecError::Invalid { message, .. } => message,
        }
    }
}

fn describe_invalid(path: &str, message: &str) -> String {
    if path.is_empty() {
        message.to_string()
    } else {
        format!("{path}: {message}")
    }
}

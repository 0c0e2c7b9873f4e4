//! MessagePack encoding of values, per Terraform's `object-wire-format.md`: how
//! `DynamicValue.msgpack` carries config, plan and state.
//!
//! - null ↔ nil; unknown ↔ any extension (Terraform 1.6+ sends refinements under code 12;
//!   they are accepted and dropped). Unknowns are written as go-cty writes them:
//!   fixext1, code 0, one zero byte.
//! - numbers: read from any int, float or decimal string; written as an int when integral
//!   and within i64/u64, else a float64 when that is exact, else the decimal string.
//! - list, set, tuple ↔ array; map, object ↔ map with string keys. Objects are written
//!   with every attribute of their type (absent ones as nil) and read leniently (absent
//!   attributes become null), but unknown attribute names are errors.
//! - a value of type `dynamic` is `[type JSON as bin, value]`, unless null or unknown.
//!
//! Decoding never trusts lengths from the input for allocation, bounds nesting depth,
//! and reports errors with the path of the offending value.

use rmp::Marker;

use super::path::{Path, Step};
use super::{type_json, CodecError, Number, Type, Value};

/// How deeply values may nest (dynamic values can nest types without bound otherwise).
const MAX_DEPTH: usize = 128;

/// What go-cty writes for a wholly unknown value.
const UNKNOWN_BYTES: [u8; 3] = [0xd4, 0x00, 0x00];

/// Decodes `bytes` as a value of type `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let mut reader = Reader { bytes, pos: 0 };
    let value = decode_value(&mut reader, ty, &Path::ROOT, 0)?;
    if reader.pos != bytes.len() {
        return Err(Path::ROOT.error(format!("{} unexpected bytes after the value", bytes.len() - reader.pos)));
    }
    Ok(value)
}

/// Encodes `value` as type `ty`.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    encode_value(&mut out, value, ty, &Path::ROOT)?;
    Ok(out)
}

/// A cursor over untrusted input; every read is bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize, path: &Path) -> Result<&'a [u8], CodecError> {
        if n > self.remaining() {
            return Err(path.error("unexpected end of input"));
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    fn peek_marker(&self, path: &Path) -> Result<Marker, CodecError> {
        match self.bytes.get(self.pos) {
            Some(b) => Ok(Marker::from_u8(*b)),
            None => Err(path.error("unexpected end of input")),
        }
    }

    fn marker(&mut self, path: &Path) -> Result<Marker, CodecError> {
        let marker = self.peek_marker(path)?;
        self.pos += 1;
        Ok(marker)
    }

    fn be<const N: usize>(&mut self, path: &Path) -> Result<[u8; N], CodecError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, path)?);
        Ok(out)
    }

    fn len8(&mut self, path: &Path) -> Result<usize, CodecError> {
        Ok(usize::from(self.be::<1>(path)?[0]))
    }

    fn len16(&mut self, path: &Path) -> Result<usize, CodecError> {
        Ok(usize::from(u16::from_be_bytes(self.be(path)?)))
    }

    fn len32(&mut self, path: &Path) -> Result<usize, CodecError> {
        usize::try_from(u32::from_be_bytes(self.be(path)?)).map_err(|_| path.error("length too large"))
    }

    /// Length of an array whose marker was just read, or `None` if it is not an array.
    fn array_len(&mut self, marker: Marker, path: &Path) -> Result<Option<usize>, CodecError> {
        Ok(Some(match marker {
            Marker::FixArray(n) => usize::from(n),
            Marker::Array16 => self.len16(path)?,
            Marker::Array32 => self.len32(path)?,
            _ => return Ok(None),
        }))
    }

    fn map_len(&mut self, marker: Marker, path: &Path) -> Result<Option<usize>, CodecError> {
        Ok(Some(match marker {
            Marker::FixMap(n) => usize::from(n),
            Marker::Map16 => self.len16(path)?,
            Marker::Map32 => self.len32(path)?,
            _ => return Ok(None),
        }))
    }

    /// Payload of a str (or, when `allow_bin`, bin) whose marker was just read.
    fn raw_str(&mut self, marker: Marker, allow_bin: bool, path: &Path) -> Result<Option<&'a [u8]>, CodecError> {
        let len = match marker {
            Marker::FixStr(n) => usize::from(n),
            Marker::Str8 => self.len8(path)?,
            Marker::Str16 => self.len16(path)?,
            Marker::Str32 => self.len32(path)?,
            Marker::Bin8 if allow_bin => self.len8(path)?,
            Marker::Bin16 if allow_bin => self.len16(path)?,
            Marker::Bin32 if allow_bin => self.len32(path)?,
            _ => return Ok(None),
        };
        self.take(len, path).map(Some)
    }

    fn utf8(&mut self, marker: Marker, path: &Path) -> Result<Option<&'a str>, CodecError> {
        match self.raw_str(marker, true, path)? {
            Some(raw) => std::str::from_utf8(raw).map(Some).map_err(|_| path.error("string is not valid UTF-8")),
            None => Ok(None),
        }
    }

    /// Skips the payload of an extension whose marker was just read; false if not one.
    fn skip_ext(&mut self, marker: Marker, path: &Path) -> Result<bool, CodecError> {
        let len = match marker {
            Marker::FixExt1 => 1,
            Marker::FixExt2 => 2,
            Marker::FixExt4 => 4,
            Marker::FixExt8 => 8,
            Marker::FixExt16 => 16,
            Marker::Ext8 => self.len8(path)?,
            Marker::Ext16 => self.len16(path)?,
            Marker::Ext32 => self.len32(path)?,
            _ => return Ok(false),
        };
        // The extension type byte, then the payload (refinements, ignored).
        self.take(1 + len, path)?;
        Ok(true)
    }
}

fn describe(marker: Marker) -> &'static str {
    match marker {
        Marker::Null => "nil",
        Marker::True | Marker::False => "a bool",
        Marker::FixPos(_)
        | Marker::FixNeg(_)
        | Marker::U8
        | Marker::U16
        | Marker::U32
        | Marker::U64
        | Marker::I8
        | Marker::I16
        | Marker::I32
        | Marker::I64 => "an integer",
        Marker::F32 | Marker::F64 => "a float",
        Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => "a string",
        Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => "binary data",
        Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => "an array",
        Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => "a map",
        Marker::Reserved => "a reserved byte",
        _ => "an extension",
    }
}

fn expected(what: &str, marker: Marker, path: &Path) -> CodecError {
    path.error(format!("{what} is required, found {}", describe(marker)))
}

fn decode_value(r: &mut Reader, ty: &Type, path: &Path, depth: usize) -> Result<Value, CodecError> {
    if depth > MAX_DEPTH {
        return Err(path.error("value nested too deeply"));
    }
    let marker = r.marker(path)?;
    if r.skip_ext(marker, path)? {
        return Ok(Value::Unknown);
    }
    if marker == Marker::Null {
        return Ok(Value::Null);
    }
    match ty {
        Type::Dynamic => decode_dynamic(r, marker, path, depth),
        Type::String => match r.utf8(marker, path)? {
            Some(s) => Ok(Value::String(s.to_string())),
            None => Err(expected("a string", marker, path)),
        },
        Type::Bool => match marker {
            Marker::True => Ok(Value::Bool(true)),
            Marker::False => Ok(Value::Bool(false)),
            _ => Err(expected("a bool", marker, path)),
        },
        Type::Number => decode_number(r, marker, path).map(Value::Number),
        Type::List(et) | Type::Set(et) => {
            let len = r.array_len(marker, path)?.ok_or_else(|| expected("an array", marker, path))?;
            let mut items = Vec::with_capacity(len.min(r.remaining()));
            for i in 0..len {
                items.push(decode_value(r, et, &path.child(Step::Index(i)), depth + 1)?);
            }
            Ok(if matches!(ty, Type::Set(_)) { Value::Set(items) } else { Value::List(items) })
        }
        Type::Tuple(types) => {
            let len = r.array_len(marker, path)?.ok_or_else(|| expected("an array", marker, path))?;
            if len != types.len() {
                return Err(path.error(format!("a tuple of {} elements is required, found {len}", types.len())));
            }
            let mut items = Vec::with_capacity(len);
            for (i, et) in types.iter().enumerate() {
                items.push(decode_value(r, et, &path.child(Step::Index(i)), depth + 1)?);
            }
            Ok(Value::Tuple(items))
        }
        Type::Map(et) => {
            let len = r.map_len(marker, path)?.ok_or_else(|| expected("a map", marker, path))?;
            let mut entries = std::collections::BTreeMap::new();
            for _ in 0..len {
                let key = decode_key(r, path)?;
                let value = decode_value(r, et, &path.child(Step::Key(key)), depth + 1)?;
                if entries.insert(key.to_string(), value).is_some() {
                    return Err(path.child(Step::Key(key)).error("duplicate map key"));
                }
            }
            Ok(Value::Map(entries))
        }
        Type::Object { attrs, .. } => {
            let len = r.map_len(marker, path)?.ok_or_else(|| expected("a map (object)", marker, path))?;
            let mut entries = std::collections::BTreeMap::new();
            for _ in 0..len {
                let key = decode_key(r, path)?;
                let attr_path = path.child(Step::Attr(key));
                let attr_ty = attrs.get(key).ok_or_else(|| attr_path.error("unsupported attribute"))?;
                let value = decode_value(r, attr_ty, &attr_path, depth + 1)?;
                if entries.insert(key.to_string(), value).is_some() {
                    return Err(attr_path.error("duplicate attribute"));
                }
            }
            for name in attrs.keys() {
                entries.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(entries))
        }
    }
}

fn decode_key<'a>(r: &mut Reader<'a>, path: &Path) -> Result<&'a str, CodecError> {
    let marker = r.marker(path)?;
    match r.raw_str(marker, false, path)? {
        Some(raw) => std::str::from_utf8(raw).map_err(|_| path.error("map key is not valid UTF-8")),
        None => Err(expected("a string map key", marker, path)),
    }
}

fn decode_dynamic(r: &mut Reader, marker: Marker, path: &Path, depth: usize) -> Result<Value, CodecError> {
    let len = r.array_len(marker, path)?.ok_or_else(|| expected("a [type, value] array (dynamic)", marker, path))?;
    if len != 2 {
        return Err(path.error(format!("a dynamic value must be a [type, value] array, found {len} elements")));
    }
    let type_marker = r.marker(path)?;
    let type_bytes =
        r.raw_str(type_marker, true, path)?.ok_or_else(|| expected("a type expression (bytes)", type_marker, path))?;
    let ty = type_json::decode(type_bytes).map_err(|e| path.error(format!("dynamic value: {}", e.message())))?;
    let value = decode_value(r, &ty, path, depth + 1)?;
    Ok(Value::Dynamic(ty, Box::new(value)))
}

fn decode_number(r: &mut Reader, marker: Marker, path: &Path) -> Result<Number, CodecError> {
    let number = match marker {
        Marker::FixPos(n) => Number::from(u64::from(n)),
        Marker::FixNeg(n) => Number::from(i64::from(n)),
        Marker::U8 => Number::from(u64::from(u8::from_be_bytes(r.be(path)?))),
        Marker::U16 => Number::from(u64::from(u16::from_be_bytes(r.be(path)?))),
        Marker::U32 => Number::from(u64::from(u32::from_be_bytes(r.be(path)?))),
        Marker::U64 => Number::from(u64::from_be_bytes(r.be(path)?)),
        Marker::I8 => Number::from(i64::from(i8::from_be_bytes(r.be(path)?))),
        Marker::I16 => Number::from(i64::from(i16::from_be_bytes(r.be(path)?))),
        Marker::I32 => Number::from(i64::from(i32::from_be_bytes(r.be(path)?))),
        Marker::I64 => Number::from(i64::from_be_bytes(r.be(path)?)),
        Marker::F32 => float(f64::from(f32::from_be_bytes(r.be(path)?)), path)?,
        Marker::F64 => float(f64::from_be_bytes(r.be(path)?), path)?,
        _ => match r.raw_str(marker, false, path)? {
            Some(raw) => std::str::from_utf8(raw)
                .ok()
                .and_then(Number::parse)
                .ok_or_else(|| path.error("string is not a decimal number"))?,
            None => return Err(expected("a number", marker, path)),
        },
    };
    Ok(number)
}

fn float(value: f64, path: &Path) -> Result<Number, CodecError> {
    Number::from_f64(value).ok_or_else(|| path.error(format!("{value} is not a supported number")))
}

/// Wraps rmp's infallible-for-`Vec` writes so callers can use `?`.
fn write_failed<'p, E: std::fmt::Display>(path: &'p Path<'p>) -> impl FnOnce(E) -> CodecError + 'p {
    move |e| path.error(format!("cannot encode: {e}"))
}

fn length(len: usize, path: &Path) -> Result<u32, CodecError> {
    u32::try_from(len).map_err(|_| path.error("too many elements to encode"))
}

fn encode_value(out: &mut Vec<u8>, value: &Value, ty: &Type, path: &Path) -> Result<(), CodecError> {
    match value {
        Value::Unknown => {
            out.extend_from_slice(&UNKNOWN_BYTES);
            return Ok(());
        }
        Value::Null => {
            rmp::encode::write_nil(out).map_err(write_failed(path))?;
            return Ok(());
        }
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
        rmp::encode::write_array_len(out, 2).map_err(write_failed(path))?;
        rmp::encode::write_bin(out, &type_json::encode(&concrete)).map_err(write_failed(path))?;
        return encode_value(out, inner, &concrete, path);
    }
    if let Value::Dynamic(_, inner) = value {
        // A dynamic value copied into a slot of a fixed type: only its content matters.
        return encode_value(out, inner, ty, path);
    }
    match (ty, value) {
        (Type::String, Value::String(s)) => rmp::encode::write_str(out, s).map_err(write_failed(path))?,
        (Type::Bool, Value::Bool(b)) => rmp::encode::write_bool(out, *b).map_err(write_failed(path))?,
        (Type::Number, Value::Number(n)) => encode_number(out, n, path)?,
        (Type::List(et) | Type::Set(et), Value::List(items) | Value::Set(items) | Value::Tuple(items)) => {
            rmp::encode::write_array_len(out, length(items.len(), path)?).map_err(write_failed(path))?;
            for (i, item) in items.iter().enumerate() {
                encode_value(out, item, et, &path.child(Step::Index(i)))?;
            }
        }
        (Type::Tuple(types), Value::List(items) | Value::Set(items) | Value::Tuple(items)) => {
            if items.len() != types.len() {
                return Err(path.error(format!(
                    "a tuple of {} elements is required, found {}",
                    types.len(),
                    items.len()
                )));
            }
            rmp::encode::write_array_len(out, length(items.len(), path)?).map_err(write_failed(path))?;
            for (i, (item, et)) in items.iter().zip(types).enumerate() {
                encode_value(out, item, et, &path.child(Step::Index(i)))?;
            }
        }
        (Type::Map(et), Value::Map(entries) | Value::Object(entries)) => {
            rmp::encode::write_map_len(out, length(entries.len(), path)?).map_err(write_failed(path))?;
            for (key, item) in entries {
                rmp::encode::write_str(out, key).map_err(write_failed(path))?;
                encode_value(out, item, et, &path.child(Step::Key(key)))?;
            }
        }
        (Type::Object { attrs, .. }, Value::Map(entries) | Value::Object(entries)) => {
            if let Some(extra) = entries.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(path.child(Step::Attr(extra)).error("unsupported attribute"));
            }
            rmp::encode::write_map_len(out, length(attrs.len(), path)?).map_err(write_failed(path))?;
            for (name, attr_ty) in attrs {
                rmp::encode::write_str(out, name).map_err(write_failed(path))?;
                let attr_path = path.child(Step::Attr(name));
                encode_value(out, entries.get(name).unwrap_or(&Value::Null), attr_ty, &attr_path)?;
            }
        }
        (ty, value) => {
            return Err(path.error(format!(
                "{} value does not conform to type {}",
                value_kind(value),
                String::from_utf8_lossy(&type_json::encode(ty))
            )))
        }
    }
    Ok(())
}

fn encode_number(out: &mut Vec<u8>, n: &Number, path: &Path) -> Result<(), CodecError> {
    if let Some(i) = n.as_i64() {
        rmp::encode::write_sint(out, i).map_err(write_failed(path))?;
    } else if let Some(u) = n.as_u64() {
        rmp::encode::write_uint(out, u).map_err(write_failed(path))?;
    } else if let Some(f) = n.as_f64_exact() {
        rmp::encode::write_f64(out, f).map_err(write_failed(path))?;
    } else {
        rmp::encode::write_str(out, &n.to_string()).map_err(write_failed(path))?;
    }
    Ok(())
}

fn value_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Unknown => "unknown",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::List(_) => "list",
        Value::Set(_) => "set",
        Value::Tuple(_) => "tuple",
        Value::Map(_) => "map",
        Value::Object(_) => "object",
        Value::Dynamic(..) => "dynamic",
    }
}

#[cfg(test)]
#[path = "msgpack_tests.rs"]
mod tests;

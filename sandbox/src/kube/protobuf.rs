//! Decoding of Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) for the kinds
//! kubectl's generators send that way: `kubectl create namespace|configmap|secret`. The envelope is
//! the `k8s\0` magic followed by a `runtime.Unknown` message (k8s.io/apimachinery protobuf
//! serializer); field numbers follow the `protobuf:"..."` tags of k8s.io/api core/v1 and
//! k8s.io/apimachinery meta/v1. Other kinds, and fields a client must not send, are rejected.

use base64::Engine;
use serde_json::{json, Map, Value};

const MAGIC: &[u8] = b"k8s\x00";

/// One field of a protobuf message.
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or("truncated varint")?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint too long".into())
    }

    fn next(&mut self) -> Result<Option<(u64, Field<'a>)>, String> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let (num, wire) = (key >> 3, key & 7);
        let f = match wire {
            0 => Field::Varint(self.varint()?),
            1 | 5 => {
                let n = if wire == 1 { 8 } else { 4 };
                self.pos = self.pos.checked_add(n).filter(|p| *p <= self.buf.len()).ok_or("truncated fixed field")?;
                Field::Fixed
            }
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| "length overflow")?;
                let end = self.pos.checked_add(len).filter(|e| *e <= self.buf.len()).ok_or("truncated bytes")?;
                let b = &self.buf[self.pos..end];
                self.pos = end;
                Field::Bytes(b)
            }
            other => return Err(format!("unsupported wire type {other}")),
        };
        Ok(Some((num, f)))
    }
}

fn string(b: &[u8]) -> Result<String, String> {
    String::from_utf8(b.to_vec()).map_err(|_| "invalid UTF-8 in a string field".to_string())
}

/// A `map<string, string|bytes>` entry (`1: key, 2: value`).
fn map_entry(b: &[u8]) -> Result<(String, Vec<u8>), String> {
    let mut r = Reader::new(b);
    let (mut k, mut v) = (String::new(), Vec::new());
    while let Some((n, f)) = r.next()? {
        match (n, f) {
            (1, Field::Bytes(x)) => k = string(x)?,
            (2, Field::Bytes(x)) => v = x.to_vec(),
            _ => {}
        }
    }
    Ok((k, v))
}

fn insert_str(m: &mut Map<String, Value>, key: &str, entry: &[u8]) -> Result<(), String> {
    let (k, v) = map_entry(entry)?;
    let obj = m.entry(key.to_string()).or_insert_with(|| json!({}));
    obj[k] = json!(string(&v)?);
    Ok(())
}

fn insert_b64(m: &mut Map<String, Value>, key: &str, entry: &[u8]) -> Result<(), String> {
    let (k, v) = map_entry(entry)?;
    let obj = m.entry(key.to_string()).or_insert_with(|| json!({}));
    obj[k] = json!(base64::engine::general_purpose::STANDARD.encode(v));
    Ok(())
}

/// proto3 strings have no "unset": an empty string is an omitted field.
fn insert_nonempty(m: &mut Map<String, Value>, key: &str, b: &[u8]) -> Result<(), String> {
    if !b.is_empty() {
        m.insert(key.to_string(), json!(string(b)?));
    }
    Ok(())
}

fn object_meta(b: &[u8]) -> Result<Value, String> {
    let mut m = Map::new();
    let mut r = Reader::new(b);
    while let Some((n, f)) = r.next()? {
        match (n, f) {
            (1, Field::Bytes(x)) => insert_nonempty(&mut m, "name", x)?,
            (2, Field::Bytes(x)) => insert_nonempty(&mut m, "generateName", x)?,
            (3, Field::Bytes(x)) => insert_nonempty(&mut m, "namespace", x)?,
            (6, Field::Bytes(x)) => insert_nonempty(&mut m, "resourceVersion", x)?,
            (11, Field::Bytes(x)) => insert_str(&mut m, "labels", x)?,
            (12, Field::Bytes(x)) => insert_str(&mut m, "annotations", x)?,
            (14, Field::Bytes(x)) => {
                let list = m.entry("finalizers").or_insert_with(|| json!([]));
                if let Some(a) = list.as_array_mut() {
                    a.push(json!(string(x)?));
                }
            }
            // Server-set fields (selfLink, uid, generation, timestamps, managedFields) are ignored
            // on create like the server resets them.
            (4 | 5 | 7 | 8 | 9 | 10 | 17, _) => {}
            (n, _) => {
                return Err(format!("ObjectMeta field {n} is not supported by hybrid-sandbox's protobuf decoder"))
            }
        }
    }
    Ok(Value::Object(m))
}

fn config_map(b: &[u8]) -> Result<Value, String> {
    let mut m = Map::new();
    let mut r = Reader::new(b);
    while let Some((n, f)) = r.next()? {
        match (n, f) {
            (1, Field::Bytes(x)) => {
                m.insert("metadata".into(), object_meta(x)?);
            }
            (2, Field::Bytes(x)) => insert_str(&mut m, "data", x)?,
            (3, Field::Bytes(x)) => insert_b64(&mut m, "binaryData", x)?,
            (4, Field::Varint(v)) => {
                m.insert("immutable".into(), json!(v != 0));
            }
            (n, _) => return Err(format!("ConfigMap field {n} is not supported")),
        }
    }
    Ok(Value::Object(m))
}

fn secret(b: &[u8]) -> Result<Value, String> {
    let mut m = Map::new();
    let mut r = Reader::new(b);
    while let Some((n, f)) = r.next()? {
        match (n, f) {
            (1, Field::Bytes(x)) => {
                m.insert("metadata".into(), object_meta(x)?);
            }
            (2, Field::Bytes(x)) => insert_b64(&mut m, "data", x)?,
            (3, Field::Bytes(x)) => insert_nonempty(&mut m, "type", x)?,
            (4, Field::Bytes(x)) => insert_str(&mut m, "stringData", x)?,
            (5, Field::Varint(v)) => {
                m.insert("immutable".into(), json!(v != 0));
            }
            (n, _) => return Err(format!("Secret field {n} is not supported")),
        }
    }
    Ok(Value::Object(m))
}

fn namespace(b: &[u8]) -> Result<Value, String> {
    let mut m = Map::new();
    let mut r = Reader::new(b);
    while let Some((n, f)) = r.next()? {
        match (n, f) {
            (1, Field::Bytes(x)) => {
                m.insert("metadata".into(), object_meta(x)?);
            }
            (2, Field::Bytes(x)) => {
                let mut fin = Vec::new();
                let mut sr = Reader::new(x);
                while let Some((sn, sf)) = sr.next()? {
                    if let (1, Field::Bytes(y)) = (sn, sf) {
                        fin.push(json!(string(y)?));
                    }
                }
                if !fin.is_empty() {
                    m.insert("spec".into(), json!({"finalizers": fin}));
                }
            }
            // Status is the server's.
            (3, _) => {}
            (n, _) => return Err(format!("Namespace field {n} is not supported")),
        }
    }
    Ok(Value::Object(m))
}

/// Why a protobuf body was refused.
#[derive(Debug, PartialEq)]
pub enum DecodeError {
    /// The kind has no protobuf decoder here (answer 415).
    UnsupportedKind(String),
    /// The bytes are not a valid envelope or message (answer 400).
    Malformed(String),
}

/// Decodes an enveloped protobuf body into the JSON object it represents.
pub fn decode(body: &[u8]) -> Result<Value, DecodeError> {
    let rest = body
        .strip_prefix(MAGIC)
        .ok_or_else(|| DecodeError::Malformed("missing the k8s protobuf magic prefix".into()))?;
    let mut r = Reader::new(rest);
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), None);
    while let Some((n, f)) = r.next().map_err(DecodeError::Malformed)? {
        match (n, f) {
            (1, Field::Bytes(tm)) => {
                let mut t = Reader::new(tm);
                while let Some((tn, tf)) = t.next().map_err(DecodeError::Malformed)? {
                    match (tn, tf) {
                        (1, Field::Bytes(x)) => api_version = string(x).map_err(DecodeError::Malformed)?,
                        (2, Field::Bytes(x)) => kind = string(x).map_err(DecodeError::Malformed)?,
                        _ => {}
                    }
                }
            }
            (2, Field::Bytes(x)) => raw = Some(x),
            _ => {}
        }
    }
    let raw = raw.ok_or_else(|| DecodeError::Malformed("the envelope has no raw object".into()))?;
    let decoded = match (api_version.as_str(), kind.as_str()) {
        ("v1", "ConfigMap") => config_map(raw),
        ("v1", "Secret") => secret(raw),
        ("v1", "Namespace") => namespace(raw),
        _ => return Err(DecodeError::UnsupportedKind(format!("{api_version}, Kind={kind}"))),
    };
    let mut obj = decoded.map_err(DecodeError::Malformed)?;
    obj["apiVersion"] = json!(api_version);
    obj["kind"] = json!(kind);
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn bytes(num: u64, b: &[u8], out: &mut Vec<u8>) {
        varint(num << 3 | 2, out);
        varint(b.len() as u64, out);
        out.extend_from_slice(b);
    }

    fn entry(k: &str, v: &[u8]) -> Vec<u8> {
        let mut e = Vec::new();
        bytes(1, k.as_bytes(), &mut e);
        bytes(2, v, &mut e);
        e
    }

    fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
        let mut tm = Vec::new();
        bytes(1, api_version.as_bytes(), &mut tm);
        bytes(2, kind.as_bytes(), &mut tm);
        let mut u = Vec::new();
        bytes(1, &tm, &mut u);
        bytes(2, raw, &mut u);
        bytes(4, b"application/vnd.kubernetes.protobuf", &mut u);
        let mut out = MAGIC.to_vec();
        out.extend(u);
        out
    }

    // k8s.io/api core/v1 generated.proto: Secret{metadata=1,data=2,type=3}, ObjectMeta{name=1,namespace=3,labels=11}.
    #[test]
    fn decodes_a_secret() {
        let mut meta = Vec::new();
        bytes(1, b"alibaba-addon-secret", &mut meta);
        bytes(3, b"kube-system", &mut meta);
        bytes(11, &entry("app", b"terway"), &mut meta);
        let mut s = Vec::new();
        bytes(1, &meta, &mut s);
        bytes(2, &entry("access-key-id", b"LTAI"), &mut s);
        bytes(3, b"Opaque", &mut s);
        let v = decode(&envelope("v1", "Secret", &s)).unwrap();
        assert_eq!(
            v,
            json!({"metadata":{"name":"alibaba-addon-secret","namespace":"kube-system","labels":{"app":"terway"}},
                   "data":{"access-key-id":"TFRBSQ=="},"type":"Opaque","apiVersion":"v1","kind":"Secret"})
        );
    }

    #[test]
    fn refuses_other_kinds_and_garbage() {
        let e = decode(&envelope("apps/v1", "Deployment", &[])).unwrap_err();
        assert!(matches!(e, DecodeError::UnsupportedKind(_)));
        assert!(matches!(decode(b"{}"), Err(DecodeError::Malformed(_))));
        let mut truncated = envelope("v1", "ConfigMap", &[]);
        truncated.push(0x12);
        truncated.push(0x7f);
        assert!(matches!(decode(&truncated), Err(DecodeError::Malformed(_))));
    }
}

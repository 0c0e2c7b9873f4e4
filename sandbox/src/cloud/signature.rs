//! Server-side verification of the ACS3-HMAC-SHA256 ("V3") request signature.
//!
//! The canonical request is rebuilt from what was received (method, raw path, raw query, the headers
//! named in `SignedHeaders`, and the `x-acs-content-sha256` header), never from what a client
//! library would have produced, so a client that signs something other than what it sends fails.

use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Headers that must be present and signed on every request.
pub const REQUIRED_SIGNED: [&str; 6] =
    ["host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"];

/// Why a request's authentication failed, before credentials are looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureProblem {
    /// The Authorization header is absent, malformed, or leaves required headers unsigned.
    Incomplete(String),
    /// The signature (or the body hash) does not match.
    Mismatch { reason: String, string_to_sign: Option<String> },
}

/// The fields of an `Authorization: ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key_id: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// The parts of a received HTTP request the signature covers.
pub struct Received<'a> {
    pub method: &'a str,
    /// The path exactly as on the request line (still percent-encoded).
    pub raw_path: &'a str,
    /// The query string exactly as received, without `?`.
    pub raw_query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

pub fn parse_authorization(value: &str) -> Result<Authorization, SignatureProblem> {
    let incomplete = |m: &str| SignatureProblem::Incomplete(m.to_string());
    let (algorithm, rest) = value.trim().split_once(' ').ok_or_else(|| incomplete("malformed Authorization header"))?;
    if algorithm != ALGORITHM {
        return Err(incomplete(&format!(
            "unsupported signature algorithm {algorithm:?}; this endpoint verifies {ALGORITHM}"
        )));
    }
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=').ok_or_else(|| incomplete("malformed Authorization header"))?;
        match k {
            "Credential" => credential = Some(v.to_string()),
            "SignedHeaders" => signed = Some(v.to_string()),
            "Signature" => signature = Some(v.to_string()),
            _ => return Err(incomplete(&format!("unknown Authorization field {k:?}"))),
        }
    }
    let access_key_id = credential.filter(|c| !c.is_empty()).ok_or_else(|| incomplete("Credential is missing"))?;
    let signed = signed.filter(|s| !s.is_empty()).ok_or_else(|| incomplete("SignedHeaders is missing"))?;
    let signature = signature.filter(|s| !s.is_empty()).ok_or_else(|| incomplete("Signature is missing"))?;
    let signed_headers: Vec<String> = signed.split(';').map(|h| h.to_ascii_lowercase()).collect();
    if signed_headers.iter().any(|h| h.is_empty()) {
        return Err(incomplete("SignedHeaders contains an empty name"));
    }
    Ok(Authorization { access_key_id, signed_headers, signature })
}

/// Percent-encodes with only RFC 3986 unreserved characters left as they are (plus `/` when `keep_slash`).
pub fn percent_encode(input: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(input.len());
    for b in input.bytes() {
        let unreserved = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
        if unreserved || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`, as in query strings the
/// official SDKs build with form encoding). Invalid escapes are kept literally.
pub fn percent_decode(input: &str, plus_is_space: bool) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Decoded `(name, value)` pairs of a raw query string, in received order.
pub fn query_pairs(raw_query: Option<&str>) -> Vec<(String, String)> {
    raw_query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k, true), percent_decode(v, true)),
            None => (percent_decode(p, true), String::new()),
        })
        .collect()
}

pub fn canonical_query(raw_query: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = query_pairs(raw_query)
        .into_iter()
        .map(|(k, v)| (percent_encode(&k, false), percent_encode(&v, false)))
        .collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

fn canonical_uri(raw_path: &str) -> String {
    if raw_path.is_empty() {
        return "/".to_string();
    }
    percent_encode(&percent_decode(raw_path, false), true)
}

/// `name:value\n` for each signed header; several values of one header are trimmed, sorted and
/// joined with commas.
fn canonical_headers(headers: &HeaderMap, signed: &[String]) -> Result<String, SignatureProblem> {
    let mut out = String::new();
    for name in signed {
        let mut values: Vec<String> = headers
            .get_all(name.as_str())
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
            .collect();
        if values.is_empty() {
            return Err(SignatureProblem::Incomplete(format!("the signed header {name:?} is not in the request")));
        }
        values.sort();
        out.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    Ok(out)
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

pub fn hmac_sha256_hex(key: &[u8], data: &[u8]) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// Checks the header set and body hash, and returns the parsed Authorization together with the
/// string to sign the client must have signed.
pub fn prepare(req: &Received<'_>) -> Result<(Authorization, String), SignatureProblem> {
    let auth_value = req
        .headers
        .get(http::header::AUTHORIZATION)
        .ok_or_else(|| SignatureProblem::Incomplete("the Authorization header is missing".into()))?;
    let auth = parse_authorization(&String::from_utf8_lossy(auth_value.as_bytes()))?;
    let mut must_sign: Vec<String> = REQUIRED_SIGNED.iter().map(|s| s.to_string()).collect();
    for name in req.headers.keys() {
        if name.as_str().starts_with("x-acs-") && !must_sign.iter().any(|m| m == name.as_str()) {
            must_sign.push(name.as_str().to_string());
        }
    }
    for name in &must_sign {
        if !auth.signed_headers.iter().any(|s| s == name) {
            return Err(SignatureProblem::Incomplete(format!("the header {name:?} must be signed")));
        }
    }
    let declared = req
        .headers
        .get("x-acs-content-sha256")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
        .unwrap_or_default();
    if declared != sha256_hex(req.body) {
        return Err(SignatureProblem::Mismatch {
            reason: "x-acs-content-sha256 is not the SHA-256 of the request body".into(),
            string_to_sign: None,
        });
    }
    let canonical = canonical_request(req, &auth.signed_headers, &declared)?;
    Ok((auth, string_to_sign(&canonical)))
}

pub fn canonical_request(
    req: &Received<'_>,
    signed: &[String],
    payload_hash: &str,
) -> Result<String, SignatureProblem> {
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        canonical_uri(req.raw_path),
        canonical_query(req.raw_query),
        canonical_headers(req.headers, signed)?,
        signed.join(";"),
        payload_hash
    ))
}

pub fn string_to_sign(canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{}", sha256_hex(canonical_request.as_bytes()))
}

/// Compares the presented signature with the one `secret` gives, in constant time.
pub fn check(auth: &Authorization, string_to_sign: &str, secret: &str) -> Result<(), SignatureProblem> {
    let expected = hmac_sha256_hex(secret.as_bytes(), string_to_sign.as_bytes());
    let presented = auth.signature.to_ascii_lowercase();
    let same = expected.len() == presented.len()
        && expected.bytes().zip(presented.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if same {
        Ok(())
    } else {
        Err(SignatureProblem::Mismatch {
            reason: "the signature does not match".into(),
            string_to_sign: Some(string_to_sign.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const SECRET: &str = "testSecretKey0123456789";

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn roa_vector() -> (HeaderMap, &'static [u8]) {
        let body: &[u8] = br#"[{"name":"terway-eniip","version":"v1.9.0","config":""}]"#;
        let h = headers(&[
            ("host", "cs.cn-hangzhou.aliyuncs.com"),
            ("x-acs-action", "InstallClusterAddons"),
            ("x-acs-version", "2015-12-15"),
            ("x-acs-date", "2026-11-24T12:00:00Z"),
            ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
            ("content-type", "application/json; charset=utf-8"),
            ("x-acs-content-sha256", "8d1c7e28d8f85eeac04f0ac6876faffae41f32b1fcdca122f9003b245f4c7a81"),
            ("authorization", "ACS3-HMAC-SHA256 Credential=LTAItestAccessKeyId,SignedHeaders=content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=ad805aa3829d9514d5e016f108a309462bdf1114cde390672fb444a6b8a9675b"),
        ]);
        (h, body)
    }

    fn rpc_vector() -> HeaderMap {
        headers(&[
            ("host", "ram.aliyuncs.com"),
            ("x-acs-action", "CreateUser"),
            ("x-acs-version", "2015-05-01"),
            ("x-acs-date", "2026-11-24T12:00:00Z"),
            ("x-acs-signature-nonce", "6a0b8b51c1bc4bc98a52a63e1fd94e4b"),
            ("x-acs-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("authorization", "ACS3-HMAC-SHA256 Credential=LTAItestAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=20d503e16643287e3238dbeb9172037b791dffbd5ec76eba7bcdf8566c52479f"),
        ])
    }

    fn verify(
        method: &str,
        path: &str,
        query: Option<&str>,
        h: &HeaderMap,
        body: &[u8],
    ) -> Result<String, SignatureProblem> {
        let req = Received { method, raw_path: path, raw_query: query, headers: h, body };
        let (auth, sts) = prepare(&req)?;
        check(&auth, &sts, SECRET)?;
        Ok(auth.access_key_id)
    }

    #[test]
    fn roa_vector_from_the_reference_verifies() {
        let (h, body) = roa_vector();
        assert_eq!(sha256_hex(body), "8d1c7e28d8f85eeac04f0ac6876faffae41f32b1fcdca122f9003b245f4c7a81");
        let id = verify("POST", "/clusters/c0123456789abcdef/components/install", None, &h, body).unwrap();
        assert_eq!(id, "LTAItestAccessKeyId");
    }

    #[test]
    fn rpc_vector_from_the_reference_verifies_with_either_query_encoding() {
        let h = rpc_vector();
        // The Python SDK sends spaces as `+`; RFC 3986 clients send `%20`. Both sign `%20`.
        for q in [
            "UserName=ack-one-user-ce313528c3&DisplayName=ack+one+user",
            "DisplayName=ack%20one%20user&UserName=ack-one-user-ce313528c3",
        ] {
            assert_eq!(verify("POST", "/", Some(q), &h, b"").unwrap(), "LTAItestAccessKeyId");
        }
    }

    #[test]
    fn tampering_breaks_the_signature() {
        let (h, body) = roa_vector();
        let path = "/clusters/c0123456789abcdef/components/install";
        // Body changed but hash header kept: the body hash check fails.
        let tampered = br#"[{"name":"terway-eniip","version":"v1.9.1","config":""}]"#;
        assert!(matches!(verify("POST", path, None, &h, tampered), Err(SignatureProblem::Mismatch { .. })));
        // A signed header changed.
        let mut h2 = h.clone();
        h2.insert("x-acs-action", HeaderValue::from_static("UnInstallClusterAddons"));
        assert!(matches!(verify("POST", path, None, &h2, body), Err(SignatureProblem::Mismatch { .. })));
        // Another path, method or an added query parameter.
        assert!(matches!(
            verify("POST", "/clusters/cother/components/install", None, &h, body),
            Err(SignatureProblem::Mismatch { .. })
        ));
        assert!(matches!(verify("PUT", path, None, &h, body), Err(SignatureProblem::Mismatch { .. })));
        assert!(matches!(verify("POST", path, Some("a=b"), &h, body), Err(SignatureProblem::Mismatch { .. })));
        // RPC: a query value changed.
        let h = rpc_vector();
        let q = "UserName=ack-one-user-ce313528c4&DisplayName=ack%20one%20user";
        assert!(matches!(verify("POST", "/", Some(q), &h, b""), Err(SignatureProblem::Mismatch { .. })));
    }

    #[test]
    fn unsigned_or_missing_required_headers_are_incomplete() {
        let mut h = rpc_vector();
        h.insert("x-acs-security-token", HeaderValue::from_static("tok"));
        let q = Some("UserName=ack-one-user-ce313528c3&DisplayName=ack%20one%20user");
        assert!(
            matches!(verify("POST", "/", q, &h, b""), Err(SignatureProblem::Incomplete(m)) if m.contains("x-acs-security-token"))
        );
        let mut h = rpc_vector();
        h.insert(
            "authorization",
            HeaderValue::from_static("ACS3-HMAC-SHA256 Credential=LTAItestAccessKeyId,SignedHeaders=x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=00"),
        );
        assert!(matches!(verify("POST", "/", q, &h, b""), Err(SignatureProblem::Incomplete(m)) if m.contains("host")));
        h.remove("authorization");
        assert!(matches!(verify("POST", "/", q, &h, b""), Err(SignatureProblem::Incomplete(_))));
        assert!(parse_authorization("ACS3-HMAC-SM3 Credential=a,SignedHeaders=host,Signature=00").is_err());
        assert!(parse_authorization("ACS3-HMAC-SHA256 Credential=a,Signature=00").is_err());
    }

    #[test]
    fn encoding_rules() {
        assert_eq!(percent_encode("a b*~/", false), "a%20b%2A~%2F");
        assert_eq!(percent_encode("/a b/", true), "/a%20b/");
        assert_eq!(percent_decode("a+b%2Bc%zz%4", true), "a b+c%zz%4");
        assert_eq!(canonical_query(Some("b=2&a=&c")), "a=&b=2&c=");
    }
}

//! ACS3-HMAC-SHA256 request signing (Alibaba Cloud's "V3" signature), for RPC and ROA calls alike.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Lowercase hex SHA-256, as `x-acs-content-sha256` and the canonical request use it.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Percent-encodes everything but the unreserved characters (`A-Z a-z 0-9 - _ . ~`); with
/// `keep_slash`, `/` too (for the canonical URI).
pub fn percent_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The query string as signed and as sent: sorted by name, names and values percent-encoded.
pub fn canonical_query(params: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> =
        params.iter().map(|(k, v)| (percent_encode(k, false), percent_encode(v, false))).collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// One request's parts that the signature covers.
pub struct Signable<'a> {
    pub method: &'a str,
    /// The path, unencoded (`/` for RPC).
    pub path: &'a str,
    pub query: &'a [(String, String)],
    /// Every header to sign, names lowercase (must include host and the x-acs-* headers).
    pub headers: &'a BTreeMap<String, String>,
    /// `x-acs-content-sha256`.
    pub payload_hash: &'a str,
}

/// The `Authorization` header value for `req` signed with the given key.
pub fn authorization(req: &Signable<'_>, access_key_id: &str, access_key_secret: &str) -> String {
    let canonical_headers: String = req.headers.iter().map(|(k, v)| format!("{k}:{}\n", v.trim())).collect();
    let signed_headers = req.headers.keys().cloned().collect::<Vec<_>>().join(";");
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        percent_encode(req.path, true),
        canonical_query(req.query),
        canonical_headers,
        signed_headers,
        req.payload_hash
    );
    let string_to_sign = format!("{ALGORITHM}\n{}", sha256_hex(canonical_request.as_bytes()));
    let mut mac = Hmac::<Sha256>::new_from_slice(access_key_secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(string_to_sign.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    format!("{ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "LTAItestAccessKeyId";
    const SECRET: &str = "testSecretKey0123456789";

    fn headers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    // Vectors from ../shared/reference/alibaba-openapi.md (computed with the official SDK's signer).
    #[test]
    fn roa_vector() {
        let body = br#"[{"name":"terway-eniip","version":"v1.9.0","config":""}]"#;
        let hash = sha256_hex(body);
        assert_eq!(hash, "8d1c7e28d8f85eeac04f0ac6876faffae41f32b1fcdca122f9003b245f4c7a81");
        let h = headers(&[
            ("content-type", "application/json; charset=utf-8"),
            ("host", "cs.cn-hangzhou.aliyuncs.com"),
            ("x-acs-action", "InstallClusterAddons"),
            ("x-acs-content-sha256", &hash),
            ("x-acs-date", "2026-11-24T12:00:00Z"),
            ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
            ("x-acs-version", "2015-12-15"),
        ]);
        let req = Signable {
            method: "POST",
            path: "/clusters/c0123456789abcdef/components/install",
            query: &[],
            headers: &h,
            payload_hash: &hash,
        };
        assert_eq!(
            authorization(&req, ID, SECRET),
            "ACS3-HMAC-SHA256 Credential=LTAItestAccessKeyId,SignedHeaders=content-type;host;x-acs-action;\
             x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,\
             Signature=ad805aa3829d9514d5e016f108a309462bdf1114cde390672fb444a6b8a9675b"
        );
    }

    #[test]
    fn rpc_vector() {
        let hash = sha256_hex(b"");
        assert_eq!(hash, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        let h = headers(&[
            ("host", "ram.aliyuncs.com"),
            ("x-acs-action", "CreateUser"),
            ("x-acs-content-sha256", &hash),
            ("x-acs-date", "2026-11-24T12:00:00Z"),
            ("x-acs-signature-nonce", "6a0b8b51c1bc4bc98a52a63e1fd94e4b"),
            ("x-acs-version", "2015-05-01"),
        ]);
        let query = [
            ("UserName".to_string(), "ack-one-user-ce313528c3".to_string()),
            ("DisplayName".to_string(), "ack one user".to_string()),
        ];
        let req = Signable { method: "POST", path: "/", query: &query, headers: &h, payload_hash: &hash };
        assert_eq!(
            authorization(&req, ID, SECRET),
            "ACS3-HMAC-SHA256 Credential=LTAItestAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;\
             x-acs-date;x-acs-signature-nonce;x-acs-version,\
             Signature=20d503e16643287e3238dbeb9172037b791dffbd5ec76eba7bcdf8566c52479f"
        );
    }

    #[test]
    fn encoding_rules() {
        assert_eq!(percent_encode("a b*~/", false), "a%20b%2A~%2F");
        assert_eq!(percent_encode("/a b/", true), "/a%20b/");
        let q = [("b".to_string(), "2".to_string()), ("a".to_string(), String::new())];
        assert_eq!(canonical_query(&q), "a=&b=2");
    }
}

//! A small ACS3-HMAC-SHA256 client for the cloud API tests: a third, independent implementation of
//! the signing rules (the provider has its own, the sandbox verifies with another).

#![allow(dead_code)]

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const RAM: &str = "2015-05-01";
pub const CS: &str = "2015-12-15";
pub const VPC: &str = "2016-04-28";
pub const ECS: &str = "2014-05-26";

#[derive(Clone)]
pub struct Credentials {
    pub id: String,
    pub secret: String,
    pub token: Option<String>,
}

impl Credentials {
    pub fn new(id: &str, secret: &str) -> Self {
        Credentials { id: id.into(), secret: secret.into(), token: None }
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn sha_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// A signed request that tests may alter before sending.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Prepared {
    pub fn header(&mut self, name: &str, value: &str) -> &mut Self {
        self.headers.retain(|(k, _)| k != name);
        self.headers.push((name.into(), value.into()));
        self
    }
}

pub struct Signing<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a [(&'a str, &'a str)],
    pub action: &'a str,
    pub version: &'a str,
    pub body: Option<(&'a str, Vec<u8>)>,
    pub date: Option<String>,
    pub nonce: Option<String>,
}

pub fn now_iso() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

pub fn sign(host: &str, creds: &Credentials, s: Signing<'_>) -> Prepared {
    let (content_type, body) = s.body.map(|(c, b)| (Some(c.to_string()), b)).unwrap_or((None, Vec::new()));
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), host.into()),
        ("x-acs-action".into(), s.action.into()),
        ("x-acs-version".into(), s.version.into()),
        ("x-acs-date".into(), s.date.unwrap_or_else(now_iso)),
        ("x-acs-signature-nonce".into(), s.nonce.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())),
        ("x-acs-content-sha256".into(), sha_hex(&body)),
    ];
    if let Some(c) = content_type {
        headers.push(("content-type".into(), c));
    }
    if let Some(t) = &creds.token {
        headers.push(("x-acs-security-token".into(), t.clone()));
    }
    headers.sort();
    let mut q: Vec<(String, String)> = s.query.iter().map(|(k, v)| (enc(k), enc(v))).collect();
    q.sort();
    let canonical_query = q.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{}\n", v.trim())).collect();
    let signed: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    let canonical = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        s.method,
        s.path,
        canonical_query,
        canonical_headers,
        signed.join(";"),
        sha_hex(&body)
    );
    let to_sign = format!("ACS3-HMAC-SHA256\n{}", sha_hex(canonical.as_bytes()));
    let mut mac = Hmac::<Sha256>::new_from_slice(creds.secret.as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    let sig = hex::encode(mac.finalize().into_bytes());
    let auth = format!("ACS3-HMAC-SHA256 Credential={},SignedHeaders={},Signature={sig}", creds.id, signed.join(";"));
    headers.push(("authorization".into(), auth));
    Prepared {
        method: s.method.into(),
        path: s.path.into(),
        query: s.query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        headers,
        body,
    }
}

/// Status, headers and JSON body of a response; `Err` when the connection failed.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

pub fn send(base: &str, p: &Prepared) -> Result<Reply, reqwest::Error> {
    let query: String = p.query.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
    let url = if query.is_empty() { format!("{base}{}", p.path) } else { format!("{base}{}?{query}", p.path) };
    let client = reqwest::blocking::Client::builder().timeout(std::time::Duration::from_secs(20)).build()?;
    let mut rb = client.request(reqwest::Method::from_bytes(p.method.as_bytes()).unwrap(), url);
    for (k, v) in &p.headers {
        rb = rb.header(k, v);
    }
    let resp = rb.body(p.body.clone()).send()?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text()?;
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    Ok(Reply { status, headers, body })
}

/// A client for one sandbox: base URL and host header.
pub struct Client {
    pub base: String,
    pub host: String,
    pub creds: Credentials,
}

impl Client {
    pub fn new(base: &str, creds: Credentials) -> Self {
        let host = base.trim_start_matches("http://").trim_end_matches('/').to_string();
        Client { base: base.trim_end_matches('/').to_string(), host, creds }
    }

    pub fn with(&self, creds: Credentials) -> Self {
        Client { base: self.base.clone(), host: self.host.clone(), creds }
    }

    pub fn prepare_rpc(&self, version: &str, action: &str, params: &[(&str, &str)]) -> Prepared {
        sign(
            &self.host,
            &self.creds,
            Signing { method: "POST", path: "/", query: params, action, version, body: None, date: None, nonce: None },
        )
    }

    pub fn rpc(&self, version: &str, action: &str, params: &[(&str, &str)]) -> Reply {
        send(&self.base, &self.prepare_rpc(version, action, params)).expect("request")
    }

    pub fn prepare_roa(
        &self,
        method: &str,
        path: &str,
        action: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Prepared {
        let body = body.map(|b| ("application/json; charset=utf-8", b.to_string().into_bytes()));
        sign(
            &self.host,
            &self.creds,
            Signing { method, path, query, action, version: CS, body, date: None, nonce: None },
        )
    }

    pub fn roa(&self, method: &str, path: &str, action: &str, query: &[(&str, &str)], body: Option<&Value>) -> Reply {
        send(&self.base, &self.prepare_roa(method, path, action, query, body)).expect("request")
    }

    /// Polls DescribeTaskInfo until the task leaves `running`.
    pub fn wait_task(&self, task_id: &str) -> Value {
        for _ in 0..200 {
            let r = self.roa("GET", &format!("/tasks/{task_id}"), "DescribeTaskInfo", &[], None);
            assert_eq!(r.status, 200, "{}", r.body);
            if r.body["state"] != "running" {
                return r.body;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("task {task_id} did not finish");
    }
}

/// Admin endpoint call with the sandbox's bearer token.
pub fn admin(base: &str, token: Option<&str>, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::blocking::Client::new();
    let mut rb = client
        .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), format!("{base}/__sandbox/cloud/{path}"));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    if let Some(b) = body {
        rb = rb.header("content-type", "application/json").body(b.to_string());
    }
    let r = rb.send().expect("admin request");
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

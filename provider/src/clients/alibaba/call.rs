//! Sending one API call: build, sign, send, classify, retry.
//!
//! Retries (bounded, exponential backoff with jitter, cancellable):
//! - throttling (`Throttling*` codes, HTTP 429): always — the request was refused unprocessed;
//! - 5xx, timeouts and connection resets: only for [`Retry::Idempotent`] calls (reads, deletes that
//!   tolerate "not found", creates made idempotent by a `ClientToken`), since the first attempt may
//!   have taken effect;
//! - connection refused (nothing was sent): always.

use std::collections::BTreeMap;
use std::time::Duration;

use http::Method;
use serde_json::Value as Json;

use super::error::CloudError;
use super::sign::{self, Signable};
use super::{Alibaba, Service};

/// Whether a call may be sent again after an ambiguous failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Repeating it has no further effect.
    Idempotent,
    /// A repeat could act twice: retried only when the request surely did not take effect.
    Never,
}

struct Request<'a> {
    service: Service,
    action: &'a str,
    method: Method,
    path: &'a str,
    query: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

fn now_iso8601() -> String {
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

fn nonce() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// The server's requested wait: `x-acs-retry-after` (milliseconds) or `Retry-After` (seconds).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    get("x-acs-retry-after").map(Duration::from_millis).or_else(|| get("retry-after").map(Duration::from_secs))
}

/// The error in a failed answer's body (RPC: `Code`/`Message`/`RequestId`; CS: lowercase).
fn parse_error(call: &str, status: u16, body: &[u8]) -> CloudError {
    let j: Json = serde_json::from_slice(body).unwrap_or(Json::Null);
    let field = |a: &str, b: &str| j.get(a).or_else(|| j.get(b)).and_then(Json::as_str).map(str::to_string);
    CloudError {
        code: field("Code", "code").unwrap_or_else(|| format!("HTTP{status}")),
        message: field("Message", "message")
            .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(300)]).trim().to_string()),
        request_id: field("RequestId", "requestId"),
        status,
        call: call.to_string(),
    }
}

impl Alibaba {
    /// An RPC-style call (RAM, VPC, ECS): parameters in the query string of `POST /`.
    pub async fn rpc(
        &self,
        service: Service,
        action: &str,
        params: &[(&str, String)],
        retry: Retry,
    ) -> Result<Json, CloudError> {
        let query = params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        self.send(Request { service, action, method: Method::POST, path: "/", query, body: None }, retry).await
    }

    /// A ROA-style call to Container Service (the one ROA API used): identifiers in the path,
    /// JSON body.
    pub async fn cs(
        &self,
        action: &str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Json>,
        retry: Retry,
    ) -> Result<Json, CloudError> {
        let query = query.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        let body = body.map(|b| serde_json::to_vec(b).unwrap_or_default());
        self.send(Request { service: Service::Cs, action, method, path, query, body }, retry).await
    }

    /// Sends a call that must not simply be repeated (it creates something). When its answer is
    /// lost or a server error comes back, `happened` looks whether it took effect; if not, the call
    /// is sent again. `Ok(None)`: it took effect, but its answer is gone.
    pub async fn send_checked<S, SF, H, HF>(&self, send: S, happened: H) -> Result<Option<Json>, CloudError>
    where
        S: Fn() -> SF,
        SF: std::future::Future<Output = Result<Json, CloudError>>,
        H: Fn() -> HF,
        HF: std::future::Future<Output = Result<bool, CloudError>>,
    {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match send().await {
                Ok(j) => return Ok(Some(j)),
                Err(e) if e.is_server_error() || e.code == "Transport" => {
                    if happened().await? {
                        tracing::debug!(call = %e.call, "the answer was lost but the change happened");
                        return Ok(None);
                    }
                    if attempt >= self.inner.policy.max_attempts {
                        return Err(e);
                    }
                    let delay = self.inner.policy.delay(attempt, None, rand::random::<f64>());
                    self.sleep(delay, &e.call).await?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn send(&self, req: Request<'_>, retry: Retry) -> Result<Json, CloudError> {
        let call = format!("{} {}", req.service.name(), req.action);
        tracing::debug!(call = %call, path = req.path, "calling");
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let outcome = self.attempt(&req, &call).await;
            let (err, wait) = match outcome {
                Ok(json) => return Ok(json),
                Err(Attempt::Answer(err, wait)) => (err, wait),
                Err(Attempt::NotSent(err)) => (err, None),
                Err(Attempt::Lost(err)) => {
                    if retry == Retry::Never {
                        return Err(err);
                    }
                    (err, None)
                }
            };
            let transient = err.is_throttling()
                || (err.is_server_error() && retry == Retry::Idempotent)
                || err.code == "ConnectionRefused"
                || (err.code == "Transport" && retry == Retry::Idempotent);
            if !transient || attempt >= self.inner.policy.max_attempts {
                return Err(err);
            }
            let delay = self.inner.policy.delay(attempt, wait, rand::random::<f64>());
            tracing::debug!(call = %call, code = %err.code, attempt, delay_ms = delay.as_millis() as u64, "retrying");
            self.sleep(delay, &call).await?;
        }
    }

    async fn sleep(&self, d: Duration, call: &str) -> Result<(), CloudError> {
        match &self.cancel {
            Some(c) => tokio::select! {
                _ = c.cancelled() => Err(CloudError::local(call, "Cancelled", "the operation was cancelled")),
                _ = tokio::time::sleep(d) => Ok(()),
            },
            None => {
                tokio::time::sleep(d).await;
                Ok(())
            }
        }
    }

    async fn attempt(&self, req: &Request<'_>, call: &str) -> Result<Json, Attempt> {
        let base = &self.inner.base_urls[&req.service];
        let url: reqwest::Url = format!("{base}{}", sign::percent_encode(req.path, true))
            .parse()
            .map_err(|e| Attempt::NotSent(CloudError::local(call, "InvalidEndpoint", format!("{base}: {e}"))))?;
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => return Err(Attempt::NotSent(CloudError::local(call, "InvalidEndpoint", base.clone()))),
        };
        let body = req.body.clone().unwrap_or_default();
        let payload_hash = sign::sha256_hex(&body);
        let creds = &self.inner.credentials;
        let mut headers = BTreeMap::from([
            ("host".to_string(), host),
            ("x-acs-action".to_string(), req.action.to_string()),
            ("x-acs-version".to_string(), req.service.version().to_string()),
            ("x-acs-date".to_string(), now_iso8601()),
            ("x-acs-signature-nonce".to_string(), nonce()),
            ("x-acs-content-sha256".to_string(), payload_hash.clone()),
        ]);
        if req.body.is_some() {
            headers.insert("content-type".into(), "application/json; charset=utf-8".into());
        }
        if let Some(token) = &creds.security_token {
            headers.insert("x-acs-security-token".into(), token.clone());
        }
        let signable = Signable {
            method: req.method.as_str(),
            path: req.path,
            query: &req.query,
            headers: &headers,
            payload_hash: &payload_hash,
        };
        let authorization = sign::authorization(&signable, &creds.access_key_id, &creds.access_key_secret);
        let query = sign::canonical_query(&req.query);
        let full = if query.is_empty() { url.to_string() } else { format!("{url}?{query}") };
        let mut builder = self.inner.http.request(req.method.clone(), &full).header("authorization", authorization);
        for (k, v) in &headers {
            if k != "host" {
                builder = builder.header(k.as_str(), v.as_str());
            }
        }
        if req.body.is_some() {
            builder = builder.body(body);
        }
        let send = builder.send();
        let resp = match &self.cancel {
            Some(c) => tokio::select! {
                _ = c.cancelled() => return Err(Attempt::NotSent(CloudError::local(call, "Cancelled", "the operation was cancelled"))),
                r = send => r,
            },
            None => send.await,
        };
        let resp = resp.map_err(|e| classify_transport(call, &e))?;
        let status = resp.status().as_u16();
        let wait = retry_after(resp.headers());
        let bytes = resp.bytes().await.map_err(|e| classify_transport(call, &e))?;
        if !(200..300).contains(&status) {
            let err = parse_error(call, status, &bytes);
            tracing::debug!(call, status, code = %err.code, request_id = ?err.request_id, "call failed");
            return Err(Attempt::Answer(err, wait));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Json::Null);
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| Attempt::Answer(CloudError::local(call, "Decode", format!("unreadable answer: {e}")), None))
    }
}

/// How an attempt failed.
enum Attempt {
    /// The service answered with an error.
    Answer(CloudError, Option<Duration>),
    /// Nothing reached the service.
    NotSent(CloudError),
    /// Sent, but no (complete) answer: the call may have taken effect.
    Lost(CloudError),
}

fn classify_transport(call: &str, e: &reqwest::Error) -> Attempt {
    // The innermost cause names what happened ("Connection refused", "connection reset").
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if e.is_connect() {
        Attempt::NotSent(CloudError::local(call, "ConnectionRefused", detail))
    } else {
        Attempt::Lost(CloudError::local(call, "Transport", detail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_parse_in_both_casings() {
        let rpc =
            parse_error("ram GetUser", 404, br#"{"RequestId":"r1","Code":"EntityNotExist.User","Message":"gone"}"#);
        assert_eq!((rpc.code.as_str(), rpc.request_id.as_deref()), ("EntityNotExist.User", Some("r1")));
        assert!(rpc.is_not_found());
        let roa = parse_error(
            "cs DescribeClusterDetail",
            404,
            br#"{"code":"ErrorClusterNotFound","message":"no","requestId":"r2"}"#,
        );
        assert_eq!(roa.code, "ErrorClusterNotFound");
        let html = parse_error("cs X", 502, b"<html>bad gateway</html>");
        assert_eq!(html.code, "HTTP502");
        assert!(html.is_server_error());
        assert!(parse_error("ram X", 400, br#"{"Code":"Throttling.User"}"#).is_throttling());
    }

    #[test]
    fn dates_are_iso8601_utc() {
        let d = now_iso8601();
        assert_eq!(d.len(), 20, "{d}");
        assert!(d.ends_with('Z') && d.as_bytes()[10] == b'T', "{d}");
    }
}

//! Sending one API call: build, sign, send, classify, retry (rules in `retry`).

use std::collections::BTreeMap;
use std::time::Duration;

use http::Method;
use serde_json::Value as Json;

use super::error::CloudError;
use super::retry::{self, Failure, Retry};
use super::sign::{self, Signable};
use super::{Alibaba, Service};

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

/// The error in a failed answer's body (RPC: `Code`/`Message`/`RequestId`; CS: lowercase).
fn parse_error(call: &str, status: u16, body: &[u8]) -> CloudError {
    let j: Json = serde_json::from_slice(body).unwrap_or(Json::Null);
    let field = |a: &str, b: &str| j.get(a).or_else(|| j.get(b)).and_then(Json::as_str).map(str::to_string);
    CloudError {
        code: field("Code", "code").unwrap_or_else(|| format!("HTTP{status}")),
        message: field("Message", "message").unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            text.chars().take(300).collect::<String>().trim().to_string()
        }),
        request_id: field("RequestId", "requestId"),
        status,
        call: call.to_string(),
    }
}

fn has_param(params: &[(&str, String)], names: &[&str]) -> bool {
    params.iter().any(|(k, v)| names.contains(k) && !v.is_empty())
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
        let retry = retry.effective(has_param(params, &["ClientToken"]));
        let query = params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        self.send(Request { service, action, method: Method::POST, path: "/", query, body: None }, retry).await
    }

    /// A ROA-style call (CS): identifiers in the path, query parameters, JSON body. The action
    /// named in the signature is looked up from method and path (see `roa::cs_action`); use
    /// [`Alibaba::cs`] to name it explicitly.
    pub async fn roa(
        &self,
        service: Service,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Json>,
        retry: Retry,
    ) -> Result<Json, CloudError> {
        let action = match service {
            Service::Cs => super::roa::cs_action(&method, path),
            _ => None,
        };
        let Some(action) = action else {
            return Err(CloudError::local(
                &format!("{} {method} {path}", service.name()),
                "UnknownOperation",
                format!("no known ROA operation of {} is served at {method} {path}", service.name()),
            ));
        };
        self.cs(action, method, path, query, body, retry).await
    }

    /// A ROA-style call to Container Service (the one ROA API used) naming its action:
    /// identifiers in the path, JSON body.
    pub async fn cs(
        &self,
        action: &str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Json>,
        retry: Retry,
    ) -> Result<Json, CloudError> {
        let token_in_body =
            body.is_some_and(|b| ["client_token", "ClientToken"].iter().any(|k| b.get(k).is_some_and(|t| t != "")));
        let retry = retry.effective(token_in_body || has_param(query, &["client_token", "ClientToken"]));
        let query = query.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        let body = match body.map(serde_json::to_vec).transpose() {
            Ok(b) => b,
            Err(e) => {
                return Err(CloudError::local(&format!("cs {action}"), "InvalidBody", e.to_string()));
            }
        };
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
            let outcome = match &self.cancel {
                Some(c) => tokio::select! {
                    _ = c.cancelled() => return Err(cancelled(&call)),
                    r = self.attempt(&req, &call) => r,
                },
                None => self.attempt(&req, &call).await,
            };
            let (err, failure, wait) = match outcome {
                Ok(json) => return Ok(json),
                Err(failed) => failed,
            };
            if !self.inner.policy.should_retry(failure, retry, attempt) {
                if attempt > 1 {
                    tracing::debug!(call = %call, code = %err.code, attempt, "giving up");
                }
                return Err(err);
            }
            let delay = self.inner.policy.delay(attempt, wait, rand::random::<f64>());
            tracing::debug!(
                call = %call,
                code = %err.code,
                request_id = ?err.request_id,
                attempt,
                delay_ms = delay.as_millis() as u64,
                "retrying"
            );
            self.sleep(delay, &call).await?;
        }
    }

    async fn sleep(&self, d: Duration, call: &str) -> Result<(), CloudError> {
        match &self.cancel {
            Some(c) => tokio::select! {
                _ = c.cancelled() => Err(cancelled(call)),
                _ = tokio::time::sleep(d) => Ok(()),
            },
            None => {
                tokio::time::sleep(d).await;
                Ok(())
            }
        }
    }

    /// One attempt. On failure: the error, how it failed, and the server's requested wait.
    async fn attempt(&self, req: &Request<'_>, call: &str) -> Result<Json, (CloudError, Failure, Option<Duration>)> {
        let not_sent = |code: &str, msg: String| (CloudError::local(call, code, msg), Failure::Final, None);
        let base = &self.inner.base_urls[&req.service];
        let url: reqwest::Url = format!("{base}{}", sign::percent_encode(req.path, true))
            .parse()
            .map_err(|e| not_sent("InvalidEndpoint", format!("{base}: {e}")))?;
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => return Err(not_sent("InvalidEndpoint", base.clone())),
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
            // As the official SDKs send them with STS credentials.
            headers.insert("x-acs-accesskey-id".into(), creds.access_key_id.clone());
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
        let mut builder = self.inner.http.request(req.method.clone(), &full).header("authorization", &authorization);
        for (k, v) in &headers {
            if k != "host" {
                builder = builder.header(k.as_str(), v.as_str());
            }
        }
        if req.body.is_some() {
            builder = builder.body(body);
        }
        let resp = builder.send().await.map_err(|e| transport_failure(call, &e))?;
        let status = resp.status().as_u16();
        let wait = retry::retry_after(resp.headers());
        let bytes = resp.bytes().await.map_err(|e| transport_failure(call, &e))?;
        if !(200..300).contains(&status) {
            let mut err = parse_error(call, status, &bytes);
            let signature = authorization.rsplit("Signature=").next().unwrap_or_default();
            let secrets = [creds.access_key_secret.as_str(), creds.security_token.as_deref().unwrap_or(""), signature];
            err.message = super::error::scrub(&err.message, &secrets);
            tracing::debug!(call, status, code = %err.code, request_id = ?err.request_id, "call failed");
            let failure = if err.is_throttling() {
                Failure::Throttled
            } else if err.is_server_error() {
                Failure::ServerError
            } else {
                Failure::Final
            };
            return Err((err, failure, wait));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Json::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| {
            (CloudError::local(call, "Decode", format!("unreadable answer (HTTP {status}): {e}")), Failure::Final, None)
        })
    }
}

fn cancelled(call: &str) -> CloudError {
    CloudError::local(call, "Cancelled", "the operation was cancelled")
}

/// A failure without an answer. Connect errors (refused, DNS, TLS handshake, connect timeout)
/// happen before anything is sent; anything later (timeouts, resets) may follow a request the
/// service received.
fn transport_failure(call: &str, e: &reqwest::Error) -> (CloudError, Failure, Option<Duration>) {
    // The innermost cause names what happened ("Connection refused", "connection reset"). It
    // never carries headers, so no signature or token.
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if e.is_connect() {
        (CloudError::local(call, "ConnectionRefused", detail), Failure::NotSent, None)
    } else if e.is_timeout() {
        (CloudError::local(call, "Transport", format!("timed out: {detail}")), Failure::Lost, None)
    } else {
        (CloudError::local(call, "Transport", detail), Failure::Lost, None)
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
        // A long non-JSON body is cut, even in the middle of a multi-byte character.
        let long = "é".repeat(400);
        assert_eq!(parse_error("x", 500, long.as_bytes()).message.chars().count(), 300);
    }

    #[test]
    fn dates_are_iso8601_utc() {
        let d = now_iso8601();
        assert_eq!(d.len(), 20, "{d}");
        assert!(d.ends_with('Z') && d.as_bytes()[10] == b'T', "{d}");
    }

    #[test]
    fn client_tokens_are_recognised() {
        assert!(has_param(&[("ClientToken", "abc".into())], &["ClientToken"]));
        assert!(!has_param(&[("ClientToken", String::new())], &["ClientToken"]));
        assert!(!has_param(&[("UserName", "abc".into())], &["ClientToken"]));
    }
}

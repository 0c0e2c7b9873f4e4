//! The calls resources make, with retries, cancellation and readable errors. Bodies are JSON
//! (`serde_json::Value` or typed `k8s-openapi` objects); every write names the field manager
//! `terraform-provider-hybrid`.

use std::sync::Arc;
use std::time::Duration;

use http::{header, Method, Request};
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use tokio_util::sync::CancellationToken;

use super::error::{redact, KubeError};
use super::paths::query_value;
use super::retry::{self, Failure, RetryPolicy};

/// The field manager of every write: `kubectl get -o yaml --show-managed-fields` names it.
pub const FIELD_MANAGER: &str = "terraform-provider-hybrid";

/// How many times a read-modify-write is restarted after a 409 Conflict.
const MAX_CONFLICT_RETRIES: u32 = 8;

/// A Kubernetes API client for the provider's resources. Cheap to clone.
#[derive(Clone)]
pub struct Kube {
    client: kube::Client,
    policy: RetryPolicy,
    /// Strings scrubbed from every error message (the configured token).
    secrets: Arc<Vec<String>>,
    cancel: Option<CancellationToken>,
}

/// One request, rebuilt for each attempt.
struct Call<'a> {
    method: Method,
    path: String,
    body: Option<Vec<u8>>,
    content_type: &'a str,
    idempotent: bool,
}

impl Kube {
    pub fn new(client: kube::Client, secrets: Vec<String>) -> Self {
        Kube { client, policy: RetryPolicy::default(), secrets: Arc::new(secrets), cancel: None }
    }

    /// The same client, with waits and retries ending early when `cancel` fires.
    pub fn with_cancel(&self, cancel: CancellationToken) -> Self {
        Kube { cancel: Some(cancel), ..self.clone() }
    }

    /// The same client with another retry policy (tests use short waits).
    pub fn with_policy(&self, policy: RetryPolicy) -> Self {
        Kube { policy, ..self.clone() }
    }

    async fn sleep(&self, d: Duration) -> Result<(), KubeError> {
        match &self.cancel {
            Some(c) => tokio::select! {
                _ = c.cancelled() => Err(KubeError::Cancelled),
                _ = tokio::time::sleep(d) => Ok(()),
            },
            None => {
                tokio::time::sleep(d).await;
                Ok(())
            }
        }
    }

    /// Sends `call`, retrying per the policy. Returns the status and body of a 2xx answer.
    async fn execute(&self, call: Call<'_>) -> Result<(u16, Vec<u8>), KubeError> {
        let verb = call.method.to_string();
        let shown_path = call.path.split('?').next().unwrap_or_default().to_string();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut req = Request::builder()
                .method(call.method.clone())
                .uri(&call.path)
                .header(header::ACCEPT, "application/json");
            if call.body.is_some() {
                req = req.header(header::CONTENT_TYPE, call.content_type);
            }
            let req = req.body(kube::client::Body::from(call.body.clone().unwrap_or_default())).map_err(|e| {
                KubeError::Decode { verb: verb.clone(), path: shown_path.clone(), detail: e.to_string() }
            })?;
            let sent = match &self.cancel {
                Some(c) => tokio::select! {
                    _ = c.cancelled() => return Err(KubeError::Cancelled),
                    r = self.client.send(req) => r,
                },
                None => self.client.send(req).await,
            };
            let (failure, retry_after, error) = match sent {
                Ok(res) => {
                    let status = res.status().as_u16();
                    let header_wait =
                        res.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_string);
                    let body = res.into_body().collect_bytes().await;
                    match body {
                        Ok(bytes) if (200..300).contains(&status) => return Ok((status, bytes.to_vec())),
                        Ok(bytes) => {
                            let status_body: Option<Json> = serde_json::from_slice(&bytes).ok();
                            let wait = retry::retry_after(header_wait.as_deref(), status_body.as_ref());
                            let message = status_body
                                .as_ref()
                                .and_then(|b| b.get("message"))
                                .and_then(Json::as_str)
                                .map(str::to_string)
                                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(300).collect());
                            let reason = status_body
                                .as_ref()
                                .and_then(|b| b.get("reason"))
                                .and_then(Json::as_str)
                                .map(str::to_string)
                                .unwrap_or_else(|| {
                                    http::StatusCode::from_u16(status)
                                        .ok()
                                        .and_then(|s| s.canonical_reason())
                                        .unwrap_or("Error")
                                        .to_string()
                                });
                            let err = KubeError::Api {
                                verb: verb.clone(),
                                path: shown_path.clone(),
                                code: status,
                                reason,
                                message: redact(&message, &self.secrets),
                                attempts: attempt,
                            };
                            (Failure::Status(status), wait, err)
                        }
                        Err(e) => (
                            Failure::Transport,
                            None,
                            KubeError::Transport {
                                verb: verb.clone(),
                                path: shown_path.clone(),
                                detail: redact(&format!("reading the response: {e}"), &self.secrets),
                                attempts: attempt,
                            },
                        ),
                    }
                }
                Err(kube::Error::Auth(e)) => {
                    return Err(KubeError::Config(redact(&format!("authentication failed: {e}"), &self.secrets)));
                }
                Err(e) => (
                    Failure::Transport,
                    None,
                    KubeError::Transport {
                        verb: verb.clone(),
                        path: shown_path.clone(),
                        detail: redact(&transport_detail(&e), &self.secrets),
                        attempts: attempt,
                    },
                ),
            };
            if !self.policy.should_retry(failure, call.idempotent, attempt) {
                return Err(error);
            }
            let wait = self.policy.delay(attempt, retry_after, rand::random::<f64>());
            tracing::debug!(method = %verb, path = %shown_path, ?failure, attempt, wait_ms = wait.as_millis() as u64, "retrying Kubernetes API call");
            self.sleep(wait).await?;
        }
    }

    fn decode<T: DeserializeOwned>(&self, verb: &str, path: &str, bytes: &[u8]) -> Result<T, KubeError> {
        serde_json::from_slice(bytes).map_err(|e| KubeError::Decode {
            verb: verb.to_string(),
            path: path.split('?').next().unwrap_or_default().to_string(),
            detail: e.to_string(),
        })
    }

    /// Reads an object; `None` when it does not exist.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, KubeError> {
        let call = Call { method: Method::GET, path: path.to_string(), body: None, content_type: "", idempotent: true };
        match self.execute(call).await {
            Ok((_, bytes)) => self.decode("GET", path, &bytes).map(Some),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Lists a collection, optionally filtered by a label selector. `None` when the API does
    /// not serve the resource type (e.g. a CRD that is not installed).
    pub async fn list<T: DeserializeOwned>(
        &self,
        collection: &str,
        label_selector: Option<&str>,
    ) -> Result<Option<Vec<T>>, KubeError> {
        let path = match label_selector {
            Some(sel) => format!("{collection}?labelSelector={}", query_value(sel)),
            None => collection.to_string(),
        };
        let list: Option<Json> = self.get(&path).await?;
        let Some(list) = list else { return Ok(None) };
        let items = list.get("items").cloned().unwrap_or(Json::Array(Vec::new()));
        let items = if items.is_null() { Json::Array(Vec::new()) } else { items };
        serde_json::from_value(items).map(Some).map_err(|e| KubeError::Decode {
            verb: "GET".into(),
            path: collection.to_string(),
            detail: e.to_string(),
        })
    }

    /// Server-side apply of `body` (a full object with apiVersion, kind, metadata.name) as
    /// `terraform-provider-hybrid`. `force` takes over fields other managers own.
    /// Idempotent, so retried on server errors.
    pub async fn apply<T: DeserializeOwned>(&self, path: &str, body: &Json, force: bool) -> Result<T, KubeError> {
        let q = format!("{path}?fieldManager={FIELD_MANAGER}{}", if force { "&force=true" } else { "" });
        let call = Call {
            method: Method::PATCH,
            path: q,
            body: Some(serde_json::to_vec(body).unwrap_or_default()),
            content_type: "application/apply-patch+yaml",
            idempotent: true,
        };
        let (_, bytes) = self.execute(call).await?;
        self.decode("PATCH", path, &bytes)
    }

    /// JSON merge patch (RFC 7386); `None` when the object does not exist. Setting the same
    /// keys twice has the same effect as once, so it is retried on server errors.
    pub async fn merge_patch<T: DeserializeOwned>(&self, path: &str, patch: &Json) -> Result<Option<T>, KubeError> {
        let call = Call {
            method: Method::PATCH,
            path: format!("{path}?fieldManager={FIELD_MANAGER}"),
            body: Some(serde_json::to_vec(patch).unwrap_or_default()),
            content_type: "application/merge-patch+json",
            idempotent: true,
        };
        match self.execute(call).await {
            Ok((_, bytes)) => self.decode("PATCH", path, &bytes).map(Some),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Replaces an object (PUT). With `metadata.resourceVersion` set, a replay after a lost
    /// answer gets 409 instead of overwriting, so it counts as idempotent.
    pub async fn replace<T: DeserializeOwned>(&self, path: &str, body: &Json) -> Result<T, KubeError> {
        let guarded =
            body.pointer("/metadata/resourceVersion").is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty()));
        let call = Call {
            method: Method::PUT,
            path: format!("{path}?fieldManager={FIELD_MANAGER}"),
            body: Some(serde_json::to_vec(body).unwrap_or_default()),
            content_type: "application/json",
            idempotent: guarded,
        };
        let (_, bytes) = self.execute(call).await?;
        self.decode("PUT", path, &bytes)
    }

    /// Deletes an object. With `resource_version`, only that exact version is deleted (409
    /// otherwise). Returns false when the object was already gone.
    pub async fn delete(&self, path: &str, resource_version: Option<&str>) -> Result<bool, KubeError> {
        let body = resource_version.map(|rv| {
            serde_json::to_vec(&serde_json::json!({
                "kind": "DeleteOptions",
                "apiVersion": "v1",
                "preconditions": { "resourceVersion": rv },
            }))
            .unwrap_or_default()
        });
        let call = Call {
            method: Method::DELETE,
            path: path.to_string(),
            body,
            content_type: "application/json",
            idempotent: true,
        };
        match self.execute(call).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Optimistic-concurrency update: reads the object, lets `change` compute the new one
    /// (`None`: nothing to do), and replaces it guarded by the read resourceVersion. On 409
    /// Conflict (someone wrote in between) it starts over from a fresh read, so no concurrent
    /// write is lost. Returns the object as stored, or `None` when it does not exist.
    pub async fn read_modify_write<F>(&self, path: &str, mut change: F) -> Result<Option<Json>, KubeError>
    where
        F: FnMut(&Json) -> Result<Option<Json>, KubeError>,
    {
        let mut conflicts = 0;
        loop {
            let Some(current) = self.get::<Json>(path).await? else { return Ok(None) };
            let Some(mut updated) = change(&current)? else { return Ok(Some(current)) };
            if let Some(rv) = current.pointer("/metadata/resourceVersion").cloned() {
                if let Some(meta) = updated.get_mut("metadata").and_then(Json::as_object_mut) {
                    meta.insert("resourceVersion".into(), rv);
                }
            }
            match self.replace::<Json>(path, &updated).await {
                Ok(stored) => return Ok(Some(stored)),
                Err(e) if e.is_conflict() && conflicts < MAX_CONFLICT_RETRIES => {
                    conflicts += 1;
                    tracing::debug!(path, conflicts, "conflict on update; re-reading");
                    let wait = self.policy.delay(conflicts, None, rand::random::<f64>());
                    self.sleep(wait).await?;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// A readable cause of a failed request, down to the innermost source (e.g. "Connection refused").
fn transport_detail(e: &kube::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

//! Fault injection for the sandbox's APIs: latency, 429 with `Retry-After`, 5xx, and forced
//! optimistic-concurrency conflicts on writes. Configured at start (CLI flags / [`FaultConfig`])
//! and at run time through the admin endpoint `/__sandbox/faults`:
//!
//! * `GET /__sandbox/faults` returns the current configuration as JSON;
//! * `POST /__sandbox/faults` with a JSON object changes the fields it names (others keep their value);
//! * `DELETE /__sandbox/faults` turns every fault off.
//!
//! The fields are those of [`FaultConfig`]. `fail_next` is a queue of HTTP codes (429, 500, 503, 409)
//! answered to the next matching requests, one each, for deterministic tests; the `*_rate` fields are
//! probabilities in `[0, 1]` applied to every matching request. `path_prefix` and `methods` narrow
//! which requests are affected (the admin endpoint itself never is).

use crate::kube::api::error_response;
use crate::kube::status::ApiError;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::{Arc, Mutex};

pub const ADMIN_PATH: &str = "/__sandbox/faults";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Delay added before every matching request, in milliseconds.
    pub latency_ms: u64,
    /// Probability of answering 429 TooManyRequests (with `Retry-After`).
    pub rate_429: f64,
    /// Probability of answering a 5xx (`code_5xx`).
    pub rate_5xx: f64,
    /// The 5xx code used by `rate_5xx`: 500 or 503 (default 503).
    pub code_5xx: Option<u16>,
    /// Probability of answering 409 Conflict to a write (PUT/PATCH).
    pub rate_conflict: f64,
    /// `Retry-After` seconds on 429s (default 1).
    pub retry_after_seconds: Option<u64>,
    /// Codes answered, in order, to the next matching requests.
    pub fail_next: Vec<u16>,
    /// Only requests whose path starts with this are affected.
    pub path_prefix: Option<String>,
    /// Only these methods are affected (e.g. `["PATCH","PUT"]`).
    pub methods: Option<Vec<String>>,
}

/// Shared, runtime-changeable fault configuration.
#[derive(Clone, Default)]
pub struct Faults(Arc<Mutex<FaultConfig>>);

impl Faults {
    pub fn new(cfg: FaultConfig) -> Self {
        Faults(Arc::new(Mutex::new(cfg)))
    }

    pub fn get(&self) -> FaultConfig {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set(&self, cfg: FaultConfig) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = cfg;
    }

    /// Merges a JSON object of changes into the configuration.
    pub fn update(&self, changes: &Value) -> Result<FaultConfig, String> {
        let mut current = serde_json::to_value(self.get()).map_err(|e| e.to_string())?;
        let Some(obj) = changes.as_object() else {
            return Err("the fault configuration must be a JSON object".into());
        };
        for (k, v) in obj {
            current[k] = v.clone();
        }
        let cfg: FaultConfig = serde_json::from_value(current).map_err(|e| e.to_string())?;
        validate(&cfg)?;
        self.set(cfg.clone());
        Ok(cfg)
    }

    /// Decides the fault for one request, consuming a `fail_next` entry when one applies.
    fn decide(&self, method: &Method, path: &str) -> (u64, Option<u16>) {
        let mut cfg = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if cfg.path_prefix.as_deref().is_some_and(|p| !path.starts_with(p)) {
            return (0, None);
        }
        if cfg.methods.as_ref().is_some_and(|ms| !ms.iter().any(|m| m.eq_ignore_ascii_case(method.as_str()))) {
            return (0, None);
        }
        let latency = cfg.latency_ms;
        if !cfg.fail_next.is_empty() {
            return (latency, Some(cfg.fail_next.remove(0)));
        }
        let roll = |p: f64| p > 0.0 && rand::random::<f64>() < p;
        let code = if roll(cfg.rate_429) {
            Some(429)
        } else if roll(cfg.rate_5xx) {
            Some(cfg.code_5xx.unwrap_or(503))
        } else if (method == Method::PUT || method == Method::PATCH) && roll(cfg.rate_conflict) {
            Some(409)
        } else {
            None
        };
        (latency, code)
    }
}

pub fn validate(cfg: &FaultConfig) -> Result<(), String> {
    for (name, r) in [("rate_429", cfg.rate_429), ("rate_5xx", cfg.rate_5xx), ("rate_conflict", cfg.rate_conflict)] {
        if !(0.0..=1.0).contains(&r) {
            return Err(format!("{name} must be between 0 and 1, got {r}"));
        }
    }
    if let Some(c) = cfg.code_5xx {
        if c != 500 && c != 503 {
            return Err(format!("code_5xx must be 500 or 503, got {c}"));
        }
    }
    for c in &cfg.fail_next {
        if ![409, 429, 500, 503].contains(c) {
            return Err(format!("fail_next codes must be 409, 429, 500 or 503, got {c}"));
        }
    }
    Ok(())
}

/// The Status a fault answers with, shaped like the real server's.
fn fault_error(code: u16, retry_after: u64, path: &str) -> ApiError {
    match code {
        429 => ApiError::too_many_requests(retry_after),
        500 => ApiError::internal("injected fault (hybrid-sandbox)"),
        409 => {
            // `.../<resource>/<name>`: name the object like the registry's conflict does.
            let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
            let n = segs.len();
            let (resource, name) = if n >= 2 { (segs[n - 2], segs[n - 1]) } else { ("", "") };
            let group = if segs.first() == Some(&"apis") && n > 1 { segs[1] } else { "" };
            ApiError::conflict_modified(group, resource, name)
        }
        _ => ApiError::service_unavailable(),
    }
}

/// Middleware applying the configured faults; mount it on any API router (Kubernetes or cloud).
pub async fn middleware(State(faults): State<Faults>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with(ADMIN_PATH) {
        return next.run(req).await;
    }
    let (latency, code) = faults.decide(req.method(), &path);
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    match code {
        Some(c) => {
            let retry = faults.get().retry_after_seconds.unwrap_or(1);
            error_response(&fault_error(c, retry, &path))
        }
        None => next.run(req).await,
    }
}

/// The admin router for `/__sandbox/faults`. `authorized` decides who may use it.
pub fn admin_router<F>(faults: Faults, authorized: F) -> Router
where
    F: Fn(&axum::http::HeaderMap) -> bool + Clone + Send + Sync + 'static,
{
    let auth = move |headers: &axum::http::HeaderMap| authorized(headers);
    let a1 = auth.clone();
    let a2 = auth.clone();
    let a3 = auth;
    let (f1, f2, f3) = (faults.clone(), faults.clone(), faults);
    Router::new().route(
        ADMIN_PATH,
        get(move |headers: axum::http::HeaderMap| async move {
            if !a1(&headers) {
                return error_response(&ApiError::unauthorized());
            }
            axum::Json(f1.get()).into_response()
        })
        .post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| async move {
            if !a2(&headers) {
                return error_response(&ApiError::unauthorized());
            }
            let changes: Value = match serde_json::from_slice(&body) {
                Ok(v) => v,
                Err(e) => return error_response(&ApiError::bad_request(format!("invalid JSON: {e}"))),
            };
            match f2.update(&changes) {
                Ok(cfg) => axum::Json(cfg).into_response(),
                Err(e) => error_response(&ApiError::bad_request(e)),
            }
        })
        .delete(move |headers: axum::http::HeaderMap| async move {
            if !a3(&headers) {
                return error_response(&ApiError::unauthorized());
            }
            f3.set(FaultConfig::default());
            (StatusCode::OK, axum::Json(FaultConfig::default())).into_response()
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_next_is_consumed_in_order() {
        let f = Faults::new(FaultConfig { fail_next: vec![429, 503], ..Default::default() });
        assert_eq!(f.decide(&Method::GET, "/api/v1").1, Some(429));
        assert_eq!(f.decide(&Method::GET, "/api/v1").1, Some(503));
        assert_eq!(f.decide(&Method::GET, "/api/v1").1, None);
    }

    #[test]
    fn filters_and_validation() {
        let f = Faults::new(FaultConfig {
            fail_next: vec![500],
            methods: Some(vec!["PATCH".into()]),
            ..Default::default()
        });
        assert_eq!(f.decide(&Method::GET, "/x").1, None);
        assert_eq!(f.decide(&Method::PATCH, "/x").1, Some(500));
        assert!(f.update(&serde_json::json!({"rate_429": 2.0})).is_err());
        assert!(f.update(&serde_json::json!({"bogus": 1})).is_err());
        assert_eq!(f.update(&serde_json::json!({"latency_ms": 5})).unwrap().latency_ms, 5);
    }

    // API conventions "HTTP Status codes": 429 carries Retry-After and details.retryAfterSeconds.
    #[test]
    fn conflict_fault_names_the_object() {
        let e = fault_error(409, 1, "/apis/apps/v1/namespaces/kube-system/daemonsets/calico-node");
        assert_eq!(e.message, "Operation cannot be fulfilled on daemonsets.apps \"calico-node\": the object has been modified; please apply your changes to the latest version and try again");
        assert_eq!(fault_error(429, 2, "/").retry_after_seconds, Some(2));
    }
}

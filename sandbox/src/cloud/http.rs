//! The HTTP side: one axum router serving all four services plus the `/__sandbox/cloud/*` admin
//! endpoints, and a standalone server for tests.

use super::state::{ApiCall, CloudState, Outcome};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::future::Future;

pub const ADMIN_PREFIX: &str = "/__sandbox/cloud";
const MAX_BODY: usize = 8 * 1024 * 1024;

pub fn router(state: CloudState) -> Router {
    Router::new()
        .route(&format!("{ADMIN_PREFIX}/faults"), get(get_faults).post(post_faults).delete(delete_faults))
        .route(&format!("{ADMIN_PREFIX}/state"), get(get_state))
        .route(&format!("{ADMIN_PREFIX}/sts"), post(post_sts))
        .route(&format!("{ADMIN_PREFIX}/tasks/finish"), post(post_finish_tasks))
        .fallback(api)
        .with_state(state)
}

/// Serves the cloud APIs on `listener` until `shutdown` completes.
pub async fn serve_cloud(
    listener: tokio::net::TcpListener,
    state: CloudState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}

async fn api(State(st): State<CloudState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response(),
    };
    let call = ApiCall {
        method: parts.method.as_str().to_string(),
        raw_path: parts.uri.path().to_string(),
        raw_query: parts.uri.query().map(str::to_string),
        headers: parts.headers,
        body: body.to_vec(),
    };
    match st.process(call).await {
        Outcome::Respond { status, headers, body } => {
            let mut r = Response::new(Body::from(body));
            *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            for (k, v) in headers {
                if let (Ok(k), Ok(v)) = (http::HeaderName::from_bytes(k.as_bytes()), http::HeaderValue::from_str(&v)) {
                    r.headers_mut().insert(k, v);
                }
            }
            r
        }
        Outcome::Drop => dropped_connection(),
    }
}

/// A response whose body fails at once: the server aborts the connection before the response is
/// complete, which clients see as a reset or an incomplete read.
fn dropped_connection() -> Response {
    let failing = tokio_stream::once(Err::<Bytes, std::io::Error>(std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "injected connection drop",
    )));
    Response::new(Body::from_stream(failing))
}

fn authorized(st: &CloudState, headers: &HeaderMap) -> bool {
    match st.admin_token() {
        None => true,
        Some(token) => headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| t == token),
    }
}

fn forbidden() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({"error": "a bearer token (HYBRID_SANDBOX_KUBE_TOKEN) is required"})))
        .into_response()
}

async fn get_faults(State(st): State<CloudState>, headers: HeaderMap) -> Response {
    if !authorized(&st, &headers) {
        return forbidden();
    }
    Json(st.faults_status()).into_response()
}

async fn post_faults(State(st): State<CloudState>, headers: HeaderMap, body: Bytes) -> Response {
    if !authorized(&st, &headers) {
        return forbidden();
    }
    let changes: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, Json(json!({"error": format!("invalid JSON: {e}")}))).into_response()
        }
    };
    match st.update_faults(&changes) {
        Ok(v) => Json(v).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({"error": e}))).into_response(),
    }
}

async fn delete_faults(State(st): State<CloudState>, headers: HeaderMap) -> Response {
    if !authorized(&st, &headers) {
        return forbidden();
    }
    Json(st.reset_faults()).into_response()
}

async fn get_state(State(st): State<CloudState>, headers: HeaderMap) -> Response {
    if !authorized(&st, &headers) {
        return forbidden();
    }
    Json(st.dump()).into_response()
}

/// `{"ttl_seconds": N}` (default 3600; negative gives an already expired credential).
async fn post_sts(State(st): State<CloudState>, headers: HeaderMap, body: Bytes) -> Response {
    if !authorized(&st, &headers) {
        return forbidden();
    }
    let req: Value = if body.is_empty() { json!({}) } else { serde_json::from_slice(&body).unwrap_or(Value::Null) };
    let Some(ttl) = req.get("ttl_seconds").map_or(Some(3600), Value::as_i64) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "ttl_seconds must be an integer"}))).into_response();
    };
    let c = st.mint_sts(ttl);
    Json(json!({"AccessKeyId": c.access_key_id, "AccessKeySecret": c.secret, "SecurityToken": c.token,
                "ExpirationUnix": c.expires}))
    .into_response()
}

async fn post_finish_tasks(State(st): State<CloudState>, headers: HeaderMap) -> Response {
    if !authorized(&st, &headers) {
        return forbidden();
    }
    st.finish_all_tasks();
    Json(json!({"finished": true})).into_response()
}

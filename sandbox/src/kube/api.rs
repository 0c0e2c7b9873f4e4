//! The HTTP face of the Kubernetes API: path routing, content negotiation, authentication and the
//! mapping of store results to responses (API concepts, "Resource URIs" and "API verbs").

use crate::kube::resources::{ResourceInfo, ResourceRef};
use crate::kube::selector::{FieldSelector, LabelSelector};
use crate::kube::status::ApiError;
use crate::kube::store::{DeleteOptions, PatchKind, Store, WriteOptions};
use crate::kube::table;
use crate::kube::watch::Event;
use crate::kube::{discovery, openapi, protobuf};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// Largest request body accepted (the real server's limit is 3 MiB per object).
const MAX_BODY: usize = 3 * 1024 * 1024;

/// Shared state of the Kubernetes endpoints.
pub struct KubeApi {
    pub store: Arc<Store>,
    token: String,
    /// `host:port` reported in `/api`'s `serverAddressByClientCIDRs`; set once the port is known.
    server_address: OnceLock<String>,
}

impl KubeApi {
    pub fn new(store: Arc<Store>, token: &str) -> Self {
        KubeApi { store, token: token.to_string(), server_address: OnceLock::new() }
    }

    pub fn set_server_address(&self, addr: &str) {
        let _ = self.server_address.set(addr.to_string());
    }

    /// Whether the request carries this server's bearer token.
    pub fn authorized(&self, headers: &HeaderMap) -> bool {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| constant_time_eq(t.trim().as_bytes(), self.token.as_bytes()))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The Kubernetes API router: everything is handled by one dispatcher because resource paths are
/// dynamic (CRDs add resources at run time).
pub fn router(api: Arc<KubeApi>) -> Router {
    Router::new().fallback(handle).with_state(api)
}

/// Public endpoints that real clusters serve to anonymous clients (`system:public-info-viewer`).
fn is_public(path: &str) -> bool {
    matches!(path, "/version" | "/healthz" | "/livez" | "/readyz")
}

pub fn error_response(e: &ApiError) -> Response {
    let mut resp = json_response(e.code, &e.to_status());
    if let Some(s) = e.retry_after_seconds {
        if let Ok(v) = s.to_string().parse() {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    resp
}

pub fn json_response(code: u16, v: &Value) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_default();
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn handle(State(api): State<Arc<KubeApi>>, req: Request<Body>) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    if !is_public(&path) && !api.authorized(&parts.headers) {
        return error_response(&ApiError::unauthorized());
    }
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return error_response(&ApiError::new(
                413,
                "RequestEntityTooLarge",
                "Request entity too large: limit is 3145728",
            ))
        }
    };
    let query: HashMap<String, String> = axum::extract::Query::try_from_uri(&parts.uri)
        .map(|q: axum::extract::Query<HashMap<String, String>>| q.0)
        .unwrap_or_default();
    let req = Req { method: parts.method.clone(), path, query, headers: parts.headers, body: bytes };
    match api.dispatch(&req) {
        Ok(r) => r,
        Err(e) => error_response(&e),
    }
}

struct Req {
    method: Method,
    path: String,
    query: HashMap<String, String>,
    headers: HeaderMap,
    body: Bytes,
}

impl Req {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    fn q(&self, k: &str) -> Option<&str> {
        self.query.get(k).map(String::as_str)
    }

    fn wants_table(&self) -> bool {
        let a = self.header(header::ACCEPT);
        a.split(',').next().is_some_and(|first| first.contains("as=Table") && first.contains("g=meta.k8s.io"))
    }

    fn wants_yaml(&self) -> bool {
        let a = self.header(header::ACCEPT);
        a.starts_with("application/yaml") && !a.contains("application/json")
    }

    fn content_type(&self) -> String {
        self.header(header::CONTENT_TYPE).split(';').next().unwrap_or_default().trim().to_string()
    }

    /// `fieldManager`, or the User-Agent up to its first `/`, as the server derives it.
    fn manager(&self) -> String {
        if let Some(m) = self.q("fieldManager").filter(|m| !m.is_empty()) {
            return m.to_string();
        }
        let ua = self.header(header::USER_AGENT);
        let prefix: String = ua.split('/').next().unwrap_or_default().chars().take(128).collect();
        prefix
    }

    fn dry_run(&self) -> Result<bool, ApiError> {
        match self.q("dryRun") {
            None | Some("") => Ok(false),
            Some("All") => Ok(true),
            Some(other) => {
                Err(ApiError::bad_request(format!("Invalid dry run value: {other} (supported values: All)")))
            }
        }
    }
}

/// How a request body is encoded.
#[derive(Clone, Copy, PartialEq)]
enum BodyFormat {
    Json,
    Yaml,
    Protobuf,
}

fn parse_body(req: &Req, format: BodyFormat) -> Result<Value, ApiError> {
    if req.body.is_empty() {
        return Err(ApiError::bad_request("the body of the request is empty"));
    }
    match format {
        BodyFormat::Yaml => serde_yaml::from_slice::<Value>(&req.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}"))),
        BodyFormat::Json => serde_json::from_slice::<Value>(&req.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding JSON: {e}"))),
        BodyFormat::Protobuf => protobuf::decode(&req.body).map_err(|e| match e {
            // Only Namespace, ConfigMap and Secret are decoded from protobuf; other kinds need JSON or YAML.
            protobuf::DecodeError::UnsupportedKind(_) => {
                ApiError::unsupported_media_type("", &["application/json", "application/yaml"])
            }
            protobuf::DecodeError::Malformed(m) => ApiError::bad_request(format!("error decoding protobuf: {m}")),
        }),
    }
}

/// Where a resource request points.
struct Target {
    info: ResourceInfo,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

impl KubeApi {
    fn dispatch(&self, req: &Req) -> Result<Response, ApiError> {
        let segs: Vec<&str> = req.path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
        if req.method != Method::GET && matches!(segs.first(), Some(&"version") | Some(&"openapi") | Some(&"healthz")) {
            return Err(ApiError::method_not_allowed());
        }
        match segs.as_slice() {
            ["version"] => return Ok(self.respond(req, 200, &discovery::version())),
            ["healthz"] | ["livez"] | ["readyz"] => {
                return Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], "ok").into_response())
            }
            ["api"] if req.method == Method::GET => {
                let addr = self.server_address.get().cloned().unwrap_or_default();
                return Ok(self.respond(req, 200, &discovery::api_versions(&addr)));
            }
            ["apis"] if req.method == Method::GET => {
                return Ok(self.respond(req, 200, &discovery::api_group_list(&self.store.resources())));
            }
            ["api", "v1"] if req.method == Method::GET => {
                let l = discovery::api_resource_list(&self.store.resources(), "", "v1")
                    .ok_or_else(ApiError::no_such_resource)?;
                return Ok(self.respond(req, 200, &l));
            }
            ["apis", g] if req.method == Method::GET => {
                let l = discovery::api_group(&self.store.resources(), g).ok_or_else(ApiError::no_such_resource)?;
                return Ok(self.respond(req, 200, &l));
            }
            ["openapi", "v3"] => {
                return Ok(json_response(200, &openapi::root(&self.store.resources())));
            }
            ["openapi", "v3", "api", v] => {
                let d =
                    openapi::group_version(&self.store.resources(), "", v).ok_or_else(ApiError::no_such_resource)?;
                return Ok(json_response(200, &d));
            }
            ["openapi", "v3", "apis", g, v] => {
                let d = openapi::group_version(&self.store.resources(), g, v).ok_or_else(ApiError::no_such_resource)?;
                return Ok(json_response(200, &d));
            }
            ["apis", g, v] if req.method == Method::GET => {
                let l = discovery::api_resource_list(&self.store.resources(), g, v)
                    .ok_or_else(ApiError::no_such_resource)?;
                return Ok(self.respond(req, 200, &l));
            }
            _ => {}
        }
        let (group, version, rest) = match segs.as_slice() {
            ["api", v, rest @ ..] if !rest.is_empty() => ("", *v, rest),
            ["apis", g, v, rest @ ..] if !rest.is_empty() => (*g, *v, rest),
            _ => return Err(ApiError::no_such_resource()),
        };
        let target = self.target(group, version, rest)?;
        self.resource_request(req, target)
    }

    fn target(&self, group: &str, version: &str, rest: &[&str]) -> Result<Target, ApiError> {
        let resolve = |r: &str| self.store.resolve(&ResourceRef::new(group, version, r));
        let t = |info, ns: Option<&str>, name: Option<&str>, sub: Option<&str>| Target {
            info,
            namespace: ns.map(str::to_string),
            name: name.map(str::to_string),
            subresource: sub.map(str::to_string),
        };
        match rest {
            [r] => Ok(t(resolve(r)?, None, None, None)),
            ["namespaces", ns, r] if group.is_empty() || *r != "status" => match resolve(r) {
                Ok(info) if info.namespaced => Ok(t(info, Some(ns), None, None)),
                _ if group.is_empty() => Ok(t(resolve("namespaces")?, None, Some(ns), Some(r))),
                _ => Err(ApiError::no_such_resource()),
            },
            [r, name] => Ok(t(resolve(r)?, None, Some(name), None)),
            [r, name, sub] => Ok(t(resolve(r)?, None, Some(name), Some(sub))),
            ["namespaces", ns, r, name] => Ok(t(resolve(r)?, Some(ns), Some(name), None)),
            ["namespaces", ns, r, name, sub] => Ok(t(resolve(r)?, Some(ns), Some(name), Some(sub))),
            _ => Err(ApiError::no_such_resource()),
        }
    }

    fn respond(&self, req: &Req, code: u16, v: &Value) -> Response {
        if req.wants_yaml() {
            if let Ok(y) = serde_yaml::to_string(v) {
                let status = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
                return (status, [(header::CONTENT_TYPE, "application/yaml")], y).into_response();
            }
        }
        json_response(code, v)
    }

    fn resource_request(&self, req: &Req, t: Target) -> Result<Response, ApiError> {
        let info = &t.info;
        let r = ResourceRef::new(&info.group, &info.version, &info.resource);
        if info.namespaced != t.namespace.is_some() && t.name.is_some() {
            // A namespaced object must be addressed inside its namespace (and vice versa).
            return Err(ApiError::no_such_resource());
        }
        if !info.namespaced && t.namespace.is_some() {
            return Err(ApiError::no_such_resource());
        }
        match t.subresource.as_deref() {
            None => {}
            Some("status") if info.status_subresource => {}
            Some(_) => return Err(ApiError::no_such_resource()),
        }
        if matches!(req.q("watch"), Some("true") | Some("1")) {
            if req.method != Method::GET || t.subresource.is_some() {
                return Err(ApiError::method_not_allowed());
            }
            return self.watch(req, &t);
        }
        let ns = t.namespace.as_deref();
        let opts = WriteOptions {
            field_manager: req.manager(),
            dry_run: req.dry_run()?,
            force: false,
            subresource: t.subresource.clone(),
            field_validation: match req.q("fieldValidation") {
                None | Some("") => "Warn".to_string(),
                Some(v @ ("Strict" | "Warn" | "Ignore")) => v.to_string(),
                Some(other) => {
                    return Err(ApiError::bad_request(format!(
                    "fieldValidation: Invalid value: \"{other}\": fieldValidation must be one of Ignore, Warn, Strict"
                )))
                }
            },
        };
        match (&req.method, t.name.as_deref()) {
            (&Method::GET, None) => {
                let labels = req.q("labelSelector").map(LabelSelector::parse).transpose()?;
                let fields = req.q("fieldSelector").map(FieldSelector::parse).transpose()?;
                let list = self.store.list(&r, ns, labels.as_ref(), fields.as_ref())?;
                if req.wants_table() {
                    let tbl = table::to_table(
                        info,
                        &list.items,
                        req.q("includeObject").unwrap_or("Metadata"),
                        &list.resource_version,
                    );
                    return Ok(json_response(200, &tbl));
                }
                Ok(self.respond(req, 200, &list_object(info, list.items, &list.resource_version)))
            }
            (&Method::GET, Some(name)) => {
                let obj = self.store.get(&r, ns, name)?;
                if req.wants_table() {
                    let rv = obj["metadata"]["resourceVersion"].as_str().unwrap_or_default().to_string();
                    let tbl = table::to_table(info, &[obj], req.q("includeObject").unwrap_or("Metadata"), &rv);
                    return Ok(json_response(200, &tbl));
                }
                Ok(self.respond(req, 200, &obj))
            }
            (&Method::POST, None) => {
                let obj = parse_body(req, body_format(req)?)?;
                let created = self.store.create(&r, ns, obj, &opts)?;
                Ok(self.respond(req, 201, &created))
            }
            (&Method::PUT, Some(name)) => {
                let obj = parse_body(req, body_format(req)?)?;
                let updated = self.store.update(&r, ns, name, obj, &opts)?;
                Ok(self.respond(req, 200, &updated))
            }
            (&Method::PATCH, Some(name)) => {
                let ct = req.content_type();
                let kind = match ct.as_str() {
                    "application/json-patch+json" => PatchKind::Json,
                    "application/merge-patch+json" => PatchKind::Merge,
                    "application/strategic-merge-patch+json" if info.is_builtin() => PatchKind::Strategic,
                    "application/apply-patch+yaml" => PatchKind::Apply,
                    _ => {
                        let mut accepted = vec![
                            "application/json-patch+json",
                            "application/merge-patch+json",
                            "application/apply-patch+yaml",
                        ];
                        if info.is_builtin() {
                            accepted.push("application/strategic-merge-patch+json");
                        }
                        return Err(ApiError::unsupported_media_type(&ct, &accepted));
                    }
                };
                let body = parse_body(req, if kind == PatchKind::Apply { BodyFormat::Yaml } else { BodyFormat::Json })?;
                let force = match req.q("force") {
                    None => false,
                    Some("true") | Some("1") => true,
                    Some("false") | Some("0") => false,
                    Some(other) => return Err(ApiError::bad_request(format!("invalid value for force: {other}"))),
                };
                if force && kind != PatchKind::Apply {
                    return Err(ApiError::bad_request(
                        "force flag is only valid for apply patches (application/apply-patch+yaml)",
                    ));
                }
                let opts = WriteOptions { force, ..opts };
                let (obj, created) = self.store.patch(&r, ns, name, kind, &body, &opts)?;
                Ok(self.respond(req, if created { 201 } else { 200 }, &obj))
            }
            (&Method::DELETE, Some(name)) => {
                if t.subresource.is_some() {
                    return Err(ApiError::method_not_allowed());
                }
                let dopts = delete_options(req)?;
                let d = self.store.delete(&r, ns, name, &dopts)?;
                if d.finished {
                    let mut details = json!({"name": name, "kind": info.resource, "uid": d.object["metadata"]["uid"]});
                    if !info.group.is_empty() {
                        details["group"] = json!(info.group);
                    }
                    let status =
                        json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","details": details});
                    return Ok(self.respond(req, 200, &status));
                }
                let pending = d.object["metadata"]["finalizers"].as_array().is_some_and(|f| !f.is_empty());
                Ok(self.respond(req, if pending { 202 } else { 200 }, &d.object))
            }
            (&Method::DELETE, None) => {
                let labels = req.q("labelSelector").map(LabelSelector::parse).transpose()?;
                let fields = req.q("fieldSelector").map(FieldSelector::parse).transpose()?;
                let dopts = delete_options(req)?;
                let list = self.store.list(&r, ns, labels.as_ref(), fields.as_ref())?;
                let mut deleted = Vec::new();
                for o in list.items {
                    let name = o["metadata"]["name"].as_str().unwrap_or_default().to_string();
                    let ons = o["metadata"]["namespace"].as_str().map(str::to_string);
                    deleted.push(self.store.delete(&r, ons.as_deref(), &name, &dopts)?.object);
                }
                Ok(self.respond(req, 200, &list_object(info, deleted, &self.store.resource_version())))
            }
            _ => Err(ApiError::method_not_allowed()),
        }
    }
}

impl KubeApi {
    /// `?watch=true`: a stream of `{"type": ..., "object": ...}` lines (API concepts, "Watch"), as
    /// Tables when the client asks for them (kubectl get -w), ending after `timeoutSeconds`.
    fn watch(&self, req: &Req, t: &Target) -> Result<Response, ApiError> {
        let r = ResourceRef::new(&t.info.group, &t.info.version, &t.info.resource);
        let labels = req.q("labelSelector").map(LabelSelector::parse).transpose()?;
        let fields = req.q("fieldSelector").map(FieldSelector::parse).transpose()?;
        let since = match req.q("resourceVersion") {
            None | Some("") | Some("0") => None,
            Some(v) => {
                Some(v.parse::<u64>().map_err(|_| ApiError::bad_request(format!("invalid resource version: {v}")))?)
            }
        };
        let timeout = req.q("timeoutSeconds").and_then(|s| s.parse::<u64>().ok()).unwrap_or(1800);
        let table = req.wants_table().then(|| req.q("includeObject").unwrap_or("Metadata").to_string());
        let (info, backlog, mut rx, expired) = match self.store.watch(&r, since) {
            Ok((info, backlog, rx)) => (info, backlog, Some(rx), None),
            Err(e) if e.code == 410 => (t.info.clone(), Vec::new(), None, Some(e)),
            Err(e) => return Err(e),
        };
        let ns = t.namespace.clone();
        let name = t.name.clone();
        let wanted = move |e: &Event| {
            e.group == info.group
                && e.resource == info.resource
                && ns.as_ref().is_none_or(|n| *n == e.namespace)
                && name.as_ref().is_none_or(|n| e.object["metadata"]["name"].as_str() == Some(n))
                && labels.as_ref().is_none_or(|l| l.matches(e.object["metadata"]["labels"].as_object()))
                && fields.as_ref().is_none_or(|f| f.matches(&e.object))
        };
        let info = t.info.clone();
        let (tx, out) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(64);
        tokio::spawn(async move {
            let mut columns_sent = false;
            let mut encode = |e: &Event| -> Bytes {
                let mut obj = e.object.clone();
                obj["apiVersion"] = json!(info.api_version());
                let object = match &table {
                    Some(include) => {
                        let rv = obj["metadata"]["resourceVersion"].as_str().unwrap_or_default().to_string();
                        let mut tbl = table::to_table(&info, &[obj], include, &rv);
                        if columns_sent {
                            tbl["columnDefinitions"] = json!([]);
                        }
                        columns_sent = true;
                        tbl
                    }
                    None => obj,
                };
                let mut line = serde_json::to_vec(&json!({"type": e.kind, "object": object})).unwrap_or_default();
                line.push(b'\n');
                Bytes::from(line)
            };
            if let Some(e) = expired {
                let line = json!({"type": "ERROR", "object": e.to_status()});
                let _ = tx.send(Ok(Bytes::from(format!("{line}\n")))).await;
                return;
            }
            for e in backlog.iter().filter(|e| wanted(e)) {
                if tx.send(Ok(encode(e))).await.is_err() {
                    return;
                }
            }
            let Some(rx) = rx.as_mut() else { return };
            let deadline = tokio::time::sleep(std::time::Duration::from_secs(timeout));
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    _ = &mut deadline => break,
                    _ = tx.closed() => break,
                    got = rx.recv() => match got {
                        Ok(e) if wanted(&e) => {
                            if tx.send(Ok(encode(&e))).await.is_err() {
                                break;
                            }
                        }
                        Ok(_) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                            let e = ApiError::new(410, "Expired", "the watch fell behind; start a new one");
                            let line = json!({"type": "ERROR", "object": e.to_status()});
                            let _ = tx.send(Ok(Bytes::from(format!("{line}\n")))).await;
                            break;
                        }
                        Err(_) => break,
                    }
                }
            }
        });
        let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(out));
        Ok((StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body).into_response())
    }
}

/// The encoding of a POST/PUT body from its Content-Type.
fn body_format(req: &Req) -> Result<BodyFormat, ApiError> {
    match req.content_type().as_str() {
        "application/json" | "" => Ok(BodyFormat::Json),
        "application/yaml" => Ok(BodyFormat::Yaml),
        "application/vnd.kubernetes.protobuf" => Ok(BodyFormat::Protobuf),
        _ => Err(ApiError::unsupported_media_type(
            "",
            &["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"],
        )),
    }
}

fn delete_options(req: &Req) -> Result<DeleteOptions, ApiError> {
    let mut o = DeleteOptions { dry_run: req.dry_run()?, ..Default::default() };
    if !req.body.is_empty() {
        let body: Value = serde_json::from_slice(&req.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding DeleteOptions: {e}")))?;
        o.uid = body["preconditions"]["uid"].as_str().map(str::to_string);
        o.resource_version = body["preconditions"]["resourceVersion"].as_str().map(str::to_string);
        if body["dryRun"].as_array().is_some_and(|a| a.iter().any(|v| v == "All")) {
            o.dry_run = true;
        }
    }
    Ok(o)
}

/// A `<Kind>List`; built-in lists carry no per-item type meta, custom resource lists do.
fn list_object(info: &ResourceInfo, items: Vec<Value>, rv: &str) -> Value {
    let items: Vec<Value> = items
        .into_iter()
        .map(|mut o| {
            if info.is_builtin() {
                if let Some(m) = o.as_object_mut() {
                    m.remove("apiVersion");
                    m.remove("kind");
                }
            }
            o
        })
        .collect();
    json!({"kind": info.list_kind(), "apiVersion": info.api_version(), "metadata": {"resourceVersion": rv}, "items": items})
}

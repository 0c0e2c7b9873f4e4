//! The in-memory object store behind the Kubernetes API, with the semantics of the generic registry:
//! a global resourceVersion, optimistic concurrency, uid/generation/creationTimestamp, defaulting,
//! validation, managedFields, finalizers, and a few controllers' effects (CRDs become served,
//! DaemonSet/Deployment status follows the nodes).
//!
//! This is also the in-process API the cloud side calls: every method takes a [`ResourceRef`]
//! (group, version, plural) and JSON objects, and returns the object as a client would see it.

use crate::kube::defaults;
use crate::kube::managed::{self, Entry};
use crate::kube::patch::{json_patch, merge, strategic};
use crate::kube::resources::{self, ResourceInfo, ResourceRef};
use crate::kube::schema::{self, Node};
use crate::kube::selector::{node_matches_pod_spec, FieldSelector, LabelSelector};
use crate::kube::status::{field_required, ApiError};
use crate::kube::watch::{Event, EventLog};
use crate::kube::{strict, validate};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Mutex;
use tokio::sync::broadcast;

/// How a write is attributed and whether it is persisted.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// `fieldManager`; the HTTP layer fills it from the query or the User-Agent like the real server.
    pub field_manager: String,
    /// `dryRun=All`: validate and answer, persist nothing.
    pub dry_run: bool,
    /// `force` for server-side apply.
    pub force: bool,
    /// `Some("status")` for the `/status` subresource.
    pub subresource: Option<String>,
    /// `fieldValidation`: `Strict` rejects unknown fields (see [`crate::kube::strict`]); anything else accepts them.
    pub field_validation: String,
}

impl WriteOptions {
    pub fn manager(name: &str) -> Self {
        WriteOptions { field_manager: name.to_string(), ..Default::default() }
    }
}

/// The PATCH body formats (`Content-Type` of the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    /// `application/json-patch+json` (RFC 6902).
    Json,
    /// `application/merge-patch+json` (RFC 7386).
    Merge,
    /// `application/strategic-merge-patch+json` (built-in kinds only).
    Strategic,
    /// `application/apply-patch+yaml` (server-side apply).
    Apply,
}

/// Preconditions of a DELETE (`DeleteOptions.preconditions`).
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
    pub dry_run: bool,
}

/// What a DELETE did: `finished` is false when finalizers keep the object (it is then returned with
/// `deletionTimestamp` set, HTTP 202) or when the kind reports the object itself (namespaces, CRDs).
#[derive(Debug, Clone)]
pub struct Deleted {
    pub object: Value,
    pub finished: bool,
}

/// A list call's result.
#[derive(Debug, Clone)]
pub struct ListResult {
    pub items: Vec<Value>,
    pub resource_version: String,
}

type Key = (String, String);

/// Metadata the server owns; an applied configuration never changes these.
const SYSTEM_META: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
];

struct Inner {
    rv: u64,
    builtins: Vec<ResourceInfo>,
    custom: Vec<ResourceInfo>,
    objects: BTreeMap<Key, BTreeMap<Key, Value>>,
    events: EventLog,
}

/// The Kubernetes object store. Cheap to share behind an `Arc`; every method is atomic.
pub struct Store {
    inner: Mutex<Inner>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

/// `metav1.Time` format: RFC 3339 in UTC with second precision.
pub fn now() -> String {
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

fn meta(obj: &Value) -> &Value {
    &obj["metadata"]
}

fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    obj["metadata"].as_object_mut().expect("metadata is an object")
}

fn schema_value(info: &ResourceInfo) -> Value {
    match &info.custom {
        Some(c) => c.schema.clone(),
        None => schema::builtin(&info.kind).cloned().unwrap_or_else(|| schema::object_with_meta().clone()),
    }
}

fn gr_key(info: &ResourceInfo) -> Key {
    (info.group.clone(), info.resource.clone())
}

fn obj_key(info: &ResourceInfo, ns: Option<&str>, name: &str) -> Key {
    let ns = if info.namespaced { ns.unwrap_or_default() } else { "" };
    (ns.to_string(), name.to_string())
}

/// Whether a change is a "spec change" that bumps `metadata.generation` (API conventions,
/// "Metadata": generation increments on changes to the desired state).
fn spec_changed(info: &ResourceInfo, old: &Value, new: &Value) -> bool {
    if info.is_builtin() {
        return old.get("spec") != new.get("spec");
    }
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v.as_object_mut() {
            m.remove("metadata");
            m.remove("status");
        }
        v
    };
    strip(old) != strip(new)
}

fn random_suffix() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::thread_rng();
    (0..5).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

impl Store {
    pub fn new() -> Self {
        Store {
            inner: Mutex::new(Inner {
                rv: 1,
                builtins: resources::builtins(),
                custom: Vec::new(),
                objects: BTreeMap::new(),
                events: EventLog::default(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (writes are applied at the end).
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every served resource (built-ins, then custom resources), for discovery.
    pub fn resources(&self) -> Vec<ResourceInfo> {
        let inner = self.lock();
        inner.builtins.iter().chain(inner.custom.iter()).cloned().collect()
    }

    /// The served resource for a group/version/plural, or the generic 404.
    pub fn resolve(&self, r: &ResourceRef) -> Result<ResourceInfo, ApiError> {
        self.lock().resolve(r)
    }

    /// The resource serving `kind` at `api_version` (`apps/v1`, `DaemonSet`).
    pub fn resolve_kind(&self, api_version: &str, kind: &str) -> Option<ResourceInfo> {
        let (g, v) = api_version.split_once('/').unwrap_or(("", api_version));
        self.resources().into_iter().find(|r| r.group == g && r.version == v && r.kind == kind)
    }

    /// The current resourceVersion (of the last write).
    pub fn resource_version(&self) -> String {
        self.lock().rv.to_string()
    }

    pub fn get(&self, r: &ResourceRef, ns: Option<&str>, name: &str) -> Result<Value, ApiError> {
        let inner = self.lock();
        let info = inner.resolve(r)?;
        inner.get(&info, ns, name).map(|o| with_version(o, &info))
    }

    /// Lists objects; `ns = None` lists across namespaces.
    pub fn list(
        &self,
        r: &ResourceRef,
        ns: Option<&str>,
        labels: Option<&LabelSelector>,
        fields: Option<&FieldSelector>,
    ) -> Result<ListResult, ApiError> {
        let inner = self.lock();
        let info = inner.resolve(r)?;
        let items = inner
            .objects
            .get(&gr_key(&info))
            .into_iter()
            .flat_map(|m| m.iter())
            .filter(|((ons, _), _)| !info.namespaced || ns.is_none_or(|n| n == ons))
            .map(|(_, o)| o)
            .filter(|o| labels.is_none_or(|s| s.matches(meta(o)["labels"].as_object())))
            .filter(|o| fields.is_none_or(|f| f.matches(o)))
            .map(|o| with_version(o.clone(), &info))
            .collect();
        Ok(ListResult { items, resource_version: inner.rv.to_string() })
    }

    pub fn create(
        &self,
        r: &ResourceRef,
        ns: Option<&str>,
        obj: Value,
        opts: &WriteOptions,
    ) -> Result<Value, ApiError> {
        let mut inner = self.lock();
        let info = inner.resolve(r)?;
        inner.create(&info, ns, obj, opts).map(|o| with_version(o, &info))
    }

    /// PUT: replaces the object (`metadata.resourceVersion`, when set, must be current).
    pub fn update(
        &self,
        r: &ResourceRef,
        ns: Option<&str>,
        name: &str,
        obj: Value,
        opts: &WriteOptions,
    ) -> Result<Value, ApiError> {
        let mut inner = self.lock();
        let info = inner.resolve(r)?;
        let old = inner.get(&info, ns, name)?;
        let out = inner.update(&info, ns, name, old, obj, opts, managed::UPDATE)?;
        Ok(with_version(out, &info))
    }

    /// PATCH in any of the four formats. Apply creates the object when it is missing; the boolean
    /// says whether it did (HTTP 201).
    pub fn patch(
        &self,
        r: &ResourceRef,
        ns: Option<&str>,
        name: &str,
        kind: PatchKind,
        body: &Value,
        opts: &WriteOptions,
    ) -> Result<(Value, bool), ApiError> {
        let mut inner = self.lock();
        let info = inner.resolve(r)?;
        inner.patch(&info, ns, name, kind, body, opts).map(|(o, c)| (with_version(o, &info), c))
    }

    /// Server-side apply of `config` as `manager` (the in-process form of `PATCH` with
    /// `application/apply-patch+yaml`).
    pub fn apply(
        &self,
        r: &ResourceRef,
        ns: Option<&str>,
        name: &str,
        config: &Value,
        manager: &str,
        force: bool,
    ) -> Result<Value, ApiError> {
        let opts = WriteOptions { field_manager: manager.into(), force, ..Default::default() };
        self.patch(r, ns, name, PatchKind::Apply, config, &opts).map(|(o, _)| o)
    }

    pub fn delete(
        &self,
        r: &ResourceRef,
        ns: Option<&str>,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<Deleted, ApiError> {
        let mut inner = self.lock();
        let info = inner.resolve(r)?;
        inner.delete(&info, ns, name, opts).map(|mut d| {
            d.object = with_version(d.object, &info);
            d
        })
    }

    /// Starts a watch: the events to replay (all current objects as `ADDED` when `since` is `None`, the
    /// history after `since` otherwise) and a receiver of later events of any resource. `410 Expired`
    /// when `since` is older than the history.
    pub fn watch(
        &self,
        r: &ResourceRef,
        since: Option<u64>,
    ) -> Result<(ResourceInfo, Vec<Event>, broadcast::Receiver<Event>), ApiError> {
        let inner = self.lock();
        let info = inner.resolve(r)?;
        let rx = inner.events.subscribe();
        let backlog = match since {
            None => inner
                .objects
                .get(&gr_key(&info))
                .into_iter()
                .flat_map(|m| m.values())
                .map(|o| Event {
                    kind: "ADDED",
                    rv: inner.rv,
                    group: info.group.clone(),
                    resource: info.resource.clone(),
                    namespace: meta(o)["namespace"].as_str().unwrap_or_default().to_string(),
                    object: o.clone(),
                })
                .collect(),
            Some(rv) => inner.events.since(rv, inner.rv).ok_or_else(|| {
                let mut e = ApiError::new(410, "Expired", format!("too old resource version: {rv} ({})", inner.rv));
                e.empty_details = false;
                e
            })?,
        };
        Ok((info, backlog, rx))
    }

    /// Sets (`Some`) or removes (`None`) labels on a Node, as `kubectl label node` would.
    pub fn set_node_labels(
        &self,
        node: &str,
        labels: &[(&str, Option<&str>)],
        manager: &str,
    ) -> Result<Value, ApiError> {
        let mut patch = Map::new();
        for (k, v) in labels {
            patch.insert((*k).to_string(), v.map_or(Value::Null, |v| json!(v)));
        }
        let body = json!({"metadata": {"labels": Value::Object(patch)}});
        self.patch(&ResourceRef::nodes(), None, node, PatchKind::Merge, &body, &WriteOptions::manager(manager))
            .map(|(o, _)| o)
    }
}

/// Objects are stored once; a read at another served version only changes `apiVersion`
/// (CRD conversion strategy `None`).
fn with_version(mut obj: Value, info: &ResourceInfo) -> Value {
    if let Some(m) = obj.as_object_mut() {
        m.insert("apiVersion".into(), json!(info.api_version()));
    }
    obj
}

impl Inner {
    fn resolve(&self, r: &ResourceRef) -> Result<ResourceInfo, ApiError> {
        self.builtins
            .iter()
            .chain(self.custom.iter())
            .find(|i| i.group == r.group && i.version == r.version && i.resource == r.resource)
            .cloned()
            .ok_or_else(ApiError::no_such_resource)
    }

    fn get(&self, info: &ResourceInfo, ns: Option<&str>, name: &str) -> Result<Value, ApiError> {
        self.objects
            .get(&gr_key(info))
            .and_then(|m| m.get(&obj_key(info, ns, name)))
            .cloned()
            .ok_or_else(|| ApiError::not_found(&info.group, &info.resource, name))
    }

    fn next_rv(&mut self) -> String {
        self.rv += 1;
        self.rv.to_string()
    }

    fn put(&mut self, info: &ResourceInfo, obj: Value) {
        let ns = meta(&obj)["namespace"].as_str().map(str::to_string);
        let name = meta(&obj)["name"].as_str().unwrap_or_default().to_string();
        let key = obj_key(info, ns.as_deref(), &name);
        let previous = self.objects.entry(gr_key(info)).or_default().insert(key, obj.clone());
        self.emit(info, if previous.is_some() { "MODIFIED" } else { "ADDED" }, obj);
    }

    fn emit(&mut self, info: &ResourceInfo, kind: &'static str, object: Value) {
        let namespace = meta(&object)["namespace"].as_str().unwrap_or_default().to_string();
        let e =
            Event { kind, rv: self.rv, group: info.group.clone(), resource: info.resource.clone(), namespace, object };
        self.events.emit(e);
    }

    fn check_namespace(&self, info: &ResourceInfo, ns: Option<&str>) -> Result<String, ApiError> {
        if !info.namespaced {
            return Ok(String::new());
        }
        let ns = ns.filter(|n| !n.is_empty()).unwrap_or("default");
        let nsobj = self
            .objects
            .get(&(String::new(), "namespaces".to_string()))
            .and_then(|m| m.get(&(String::new(), ns.to_string())));
        match nsobj {
            None => Err(ApiError::not_found("", "namespaces", ns)),
            Some(n) if !n["metadata"]["deletionTimestamp"].is_null() => Err(ApiError::new(
                403,
                "Forbidden",
                format!("unable to create new content in namespace {ns} because it is being terminated"),
            )),
            Some(_) => Ok(ns.to_string()),
        }
    }

    /// Type meta of a body must match the endpoint (the decoder's "kind mismatch" check).
    fn check_type_meta(info: &ResourceInfo, obj: &mut Value, require: bool) -> Result<(), ApiError> {
        let api_version = obj["apiVersion"].as_str().unwrap_or_default().to_string();
        let kind = obj["kind"].as_str().unwrap_or_default().to_string();
        if require && (api_version.is_empty() || kind.is_empty()) {
            let which = if kind.is_empty() { "Kind" } else { "Version" };
            return Err(ApiError::bad_request(format!("Object '{which}' is missing in '{}'", obj)));
        }
        if !kind.is_empty() && kind != info.kind {
            return Err(ApiError::bad_request(format!(
                "the kind of the object ({kind}) does not match the kind on the URL ({})",
                info.kind
            )));
        }
        if !api_version.is_empty() {
            let (g, _) = api_version.split_once('/').unwrap_or(("", &api_version));
            if g != info.group {
                return Err(ApiError::bad_request(format!(
                    "the API version in the data ({api_version}) does not match the expected API version ({})",
                    info.api_version()
                )));
            }
        }
        obj["apiVersion"] = json!(info.api_version());
        obj["kind"] = json!(info.kind);
        Ok(())
    }

    fn create(
        &mut self,
        info: &ResourceInfo,
        ns: Option<&str>,
        mut obj: Value,
        opts: &WriteOptions,
    ) -> Result<Value, ApiError> {
        validate::decode_check(info, &obj)?;
        Self::check_type_meta(info, &mut obj, false)?;
        let ns = self.check_namespace(info, ns)?;
        let body_ns = meta(&obj)["namespace"].as_str().unwrap_or_default().to_string();
        if info.namespaced && !body_ns.is_empty() && body_ns != ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        if !meta(&obj)["resourceVersion"].as_str().unwrap_or_default().is_empty() {
            return Err(ApiError::bad_request("resourceVersion should not be set on objects to be created"));
        }
        let mut name = meta(&obj)["name"].as_str().unwrap_or_default().to_string();
        if name.is_empty() {
            match meta(&obj)["generateName"].as_str() {
                Some(g) if !g.is_empty() => name = format!("{g}{}", random_suffix()),
                _ => {
                    return Err(ApiError::invalid(
                        &info.group,
                        &info.kind,
                        "",
                        vec![field_required("metadata.name", "name or generateName is required")],
                    ))
                }
            }
        }
        if self.get(info, Some(&ns), &name).is_ok() {
            return Err(ApiError::already_exists(&info.group, &info.resource, &name));
        }
        let now = now();
        {
            let m = meta_mut(&mut obj);
            m.insert("name".into(), json!(name));
            if info.namespaced {
                m.insert("namespace".into(), json!(ns));
            } else {
                m.remove("namespace");
            }
            m.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
            m.insert("creationTimestamp".into(), json!(now));
            m.remove("deletionTimestamp");
            m.remove("deletionGracePeriodSeconds");
            if info.has_generation {
                m.insert("generation".into(), json!(1));
            } else {
                m.remove("generation");
            }
        }
        // Status is written by controllers, not on create (nodes excepted: kubelets create them whole).
        if info.status_subresource && info.kind != "Node" {
            if let Some(m) = obj.as_object_mut() {
                m.remove("status");
            }
        }
        if info.is_builtin() {
            defaults::apply(&info.kind, &mut obj);
        }
        validate::validate(info, &obj, None)?;
        strict::check(info, &obj, &opts.field_validation)?;
        let client_managed = meta(&obj).get("managedFields").cloned();
        let mut entries = Vec::new();
        if client_managed.is_none() {
            let sv = schema_value(info);
            let s = Node(Some(&sv));
            let me = update_entry(info, opts, &now);
            let empty = json!({});
            managed::track_update(&mut entries, &empty, &managed::strip(&obj, info.status_subresource, ""), &s, me);
        } else {
            entries = managed::parse(&obj)?;
        }
        managed::store(&mut obj, entries);
        self.controllers_on_write(info, &mut obj);
        if opts.dry_run {
            return Ok(obj);
        }
        let rv = self.next_rv();
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv));
        self.put(info, obj.clone());
        self.after_write(info)?;
        Ok(obj)
    }

    /// The common path of PUT and non-apply PATCH; `candidate` is the full new object.
    #[allow(clippy::too_many_arguments)]
    fn update(
        &mut self,
        info: &ResourceInfo,
        _ns: Option<&str>,
        name: &str,
        old: Value,
        mut candidate: Value,
        opts: &WriteOptions,
        operation: &str,
    ) -> Result<Value, ApiError> {
        validate::decode_check(info, &candidate)?;
        Self::check_type_meta(info, &mut candidate, false)?;
        let body_name = meta(&candidate)["name"].as_str().unwrap_or_default();
        if !body_name.is_empty() && body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let body_ns = meta(&candidate)["namespace"].as_str().unwrap_or_default();
        let old_ns = meta(&old)["namespace"].as_str().unwrap_or_default().to_string();
        if info.namespaced && !body_ns.is_empty() && body_ns != old_ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        let old_rv = meta(&old)["resourceVersion"].as_str().unwrap_or_default().to_string();
        let new_rv = meta(&candidate)["resourceVersion"].as_str().unwrap_or_default().to_string();
        if !new_rv.is_empty() && new_rv != old_rv {
            return Err(ApiError::conflict_modified(&info.group, &info.resource, name));
        }
        {
            let m = meta_mut(&mut candidate);
            m.insert("name".into(), json!(name));
            for k in [
                "namespace",
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
            ] {
                match old["metadata"].get(k) {
                    Some(v) => {
                        m.insert(k.into(), v.clone());
                    }
                    None => {
                        m.remove(k);
                    }
                }
            }
            m.insert("resourceVersion".into(), json!(old_rv));
        }
        let sub = opts.subresource.as_deref().unwrap_or("");
        if info.status_subresource {
            if sub == "status" {
                // The status subresource changes only status.
                let status = candidate.get("status").cloned();
                let mut base = old.clone();
                match status {
                    Some(s) => base["status"] = s,
                    None => {
                        if let Some(m) = base.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
                candidate = base;
            } else {
                match old.get("status") {
                    Some(s) => candidate["status"] = s.clone(),
                    None => {
                        if let Some(m) = candidate.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
            }
        } else if sub == "status" {
            return Err(ApiError::no_such_resource());
        }
        if info.is_builtin() {
            defaults::apply(&info.kind, &mut candidate);
        }
        validate::validate(info, &candidate, Some(&old))?;
        strict::check(info, &candidate, &opts.field_validation)?;
        if info.has_generation && spec_changed(info, &old, &candidate) {
            let g = old["metadata"]["generation"].as_i64().unwrap_or(0) + 1;
            meta_mut(&mut candidate).insert("generation".into(), json!(g));
        }
        // managedFields: a client that changes them explicitly sets them; otherwise the writer is tracked.
        if candidate["metadata"].get("managedFields") != old["metadata"].get("managedFields")
            && candidate["metadata"].get("managedFields").is_some()
        {
            let entries = managed::parse(&candidate)?;
            managed::store(&mut candidate, entries);
        } else if operation == managed::UPDATE {
            let mut entries = managed::parse(&old)?;
            let sv = schema_value(info);
            let s = Node(Some(&sv));
            let now = now();
            managed::track_update(
                &mut entries,
                &managed::strip(&old, info.status_subresource, sub),
                &managed::strip(&candidate, info.status_subresource, sub),
                &s,
                update_entry(info, opts, &now),
            );
            managed::store(&mut candidate, entries);
        }
        self.controllers_on_write(info, &mut candidate);
        // Finalizers all gone from an object being deleted: the deletion completes now.
        let finalizers_gone = candidate["metadata"]["finalizers"].as_array().is_none_or(|f| f.is_empty());
        if !candidate["metadata"]["deletionTimestamp"].is_null() && finalizers_gone {
            if !opts.dry_run {
                self.next_rv();
                self.remove(info, &candidate);
                self.after_write(info)?;
            }
            return Ok(candidate);
        }
        if candidate == old {
            return Ok(old);
        }
        if opts.dry_run {
            return Ok(candidate);
        }
        let rv = self.next_rv();
        meta_mut(&mut candidate).insert("resourceVersion".into(), json!(rv));
        self.put(info, candidate.clone());
        self.after_write(info)?;
        Ok(candidate)
    }

    fn patch(
        &mut self,
        info: &ResourceInfo,
        ns: Option<&str>,
        name: &str,
        kind: PatchKind,
        body: &Value,
        opts: &WriteOptions,
    ) -> Result<(Value, bool), ApiError> {
        let existing = self.get(info, ns, name);
        if kind == PatchKind::Apply {
            return self.apply(info, ns, name, existing.ok(), body, opts);
        }
        let old = existing?;
        let candidate = match kind {
            PatchKind::Merge => merge::apply(&old, body),
            PatchKind::Json => json_patch::apply(&old, body).map_err(|e| match e {
                json_patch::PatchError::Malformed(m) => ApiError::bad_request(m),
                json_patch::PatchError::Failed(m) => ApiError::unprocessable(m),
            })?,
            PatchKind::Strategic => {
                if !info.is_builtin() {
                    return Err(strategic_unsupported());
                }
                let sv = schema_value(info);
                strategic::apply(&old, body, Node(Some(&sv))).map_err(ApiError::bad_request)?
            }
            PatchKind::Apply => unreachable!("handled above"),
        };
        self.update(info, ns, name, old, candidate, opts, managed::UPDATE).map(|o| (o, false))
    }

    fn apply(
        &mut self,
        info: &ResourceInfo,
        ns: Option<&str>,
        name: &str,
        live: Option<Value>,
        config: &Value,
        opts: &WriteOptions,
    ) -> Result<(Value, bool), ApiError> {
        let mut config = config.clone();
        if !config.is_object() {
            return Err(ApiError::bad_request("error decoding YAML: the applied configuration must be an object"));
        }
        validate::decode_check(info, &config)?;
        Self::check_type_meta(info, &mut config, true)?;
        let cfg_name = meta(&config)["name"].as_str().unwrap_or_default();
        if cfg_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({cfg_name}) does not match the name on the URL ({name})"
            )));
        }
        if meta(&config).get("managedFields").is_some_and(|m| !m.is_null()) {
            return Err(ApiError::bad_request("metadata.managedFields must be nil"));
        }
        // A resourceVersion in an applied configuration is a precondition, as on a real server:
        // the apply fails with 409 unless it names the live object's current version.
        let want_rv = meta(&config)["resourceVersion"].as_str().unwrap_or_default().to_string();
        if !want_rv.is_empty() {
            let live_rv = live.as_ref().map(|l| meta(l)["resourceVersion"].as_str().unwrap_or_default().to_string());
            if live_rv.as_deref() != Some(want_rv.as_str()) {
                return Err(ApiError::conflict_modified(&info.group, &info.resource, name));
            }
        }
        if opts.field_manager.is_empty() {
            return Err(ApiError::bad_request("PATCH, application/apply-patch+yaml requires fieldManager to be set"));
        }
        let sub = opts.subresource.as_deref().unwrap_or("");
        let sv = schema_value(info);
        let s = Node(Some(&sv));
        let now = now();
        let me = Entry {
            manager: opts.field_manager.clone(),
            operation: managed::APPLY.into(),
            api_version: info.api_version(),
            subresource: sub.to_string(),
            time: now.clone(),
            set: Default::default(),
        };
        let created = live.is_none();
        let base = live.clone().unwrap_or_else(
            || json!({"apiVersion": info.api_version(), "kind": info.kind, "metadata": {"name": name}}),
        );
        let mut entries = managed::parse(&base)?;
        if let Some(l) = &live {
            if entries.is_empty() {
                // An object nobody managed yet is owned by "before-first-apply" (fieldmanager behaviour).
                entries.push(Entry {
                    manager: "before-first-apply".into(),
                    operation: managed::UPDATE.into(),
                    api_version: info.api_version(),
                    subresource: String::new(),
                    time: now.clone(),
                    set: crate::kube::fieldpath::to_field_set(&managed::strip(l, info.status_subresource, sub), &s),
                });
            }
        }
        let live_stripped = managed::strip(&base, info.status_subresource, sub);
        let cfg_stripped = managed::strip(&config, info.status_subresource, sub);
        // Defaults are part of the merged object before comparing, as in the real request path.
        let mut merged = managed::apply(&mut entries, &live_stripped, &cfg_stripped, &s, me, opts.force)?;
        let mut candidate = if sub == "status" {
            let mut c = base.clone();
            match merged.get("status") {
                Some(st) => c["status"] = st.clone(),
                None => {
                    if let Some(m) = c.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
            c
        } else {
            let mut c = Map::new();
            c.insert("apiVersion".into(), base["apiVersion"].clone());
            c.insert("kind".into(), base["kind"].clone());
            let mut new_meta = merged.get("metadata").and_then(Value::as_object).cloned().unwrap_or_default();
            for (k, v) in base["metadata"].as_object().into_iter().flatten() {
                if SYSTEM_META.contains(&k.as_str()) {
                    new_meta.insert(k.clone(), v.clone());
                }
            }
            c.insert("metadata".into(), Value::Object(new_meta));
            if let Some(m) = merged.as_object_mut() {
                m.remove("metadata");
                for (k, v) in std::mem::take(m) {
                    c.insert(k, v);
                }
            }
            if info.status_subresource {
                if let Some(st) = base.get("status") {
                    c.insert("status".into(), st.clone());
                }
            }
            Value::Object(c)
        };
        if let Some(ns) = ns.filter(|_| info.namespaced) {
            meta_mut(&mut candidate).insert("namespace".into(), json!(ns));
        }
        managed::store(&mut candidate, entries);
        if created {
            // Creation through apply: the same checks as POST, with the apply entry as the only manager.
            let managed_fields = candidate["metadata"]["managedFields"].clone();
            meta_mut(&mut candidate).remove("managedFields");
            let mut tmp = candidate.clone();
            meta_mut(&mut tmp).insert("managedFields".into(), managed_fields);
            return self.create(info, ns, tmp, opts).map(|o| (o, true));
        }
        let old = live.expect("checked above");
        self.update(info, ns, name, old, candidate, opts, managed::APPLY).map(|o| (o, false))
    }

    fn remove(&mut self, info: &ResourceInfo, obj: &Value) {
        let ns = meta(obj)["namespace"].as_str().map(str::to_string);
        let name = meta(obj)["name"].as_str().unwrap_or_default().to_string();
        let removed = self.objects.get_mut(&gr_key(info)).and_then(|m| m.remove(&obj_key(info, ns.as_deref(), &name)));
        if removed.is_some() {
            let mut gone = obj.clone();
            meta_mut(&mut gone).insert("resourceVersion".into(), json!(self.rv.to_string()));
            self.emit(info, "DELETED", gone);
        }
    }

    fn delete(
        &mut self,
        info: &ResourceInfo,
        ns: Option<&str>,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<Deleted, ApiError> {
        let mut obj = self.get(info, ns, name)?;
        if let Some(uid) = &opts.uid {
            let actual = meta(&obj)["uid"].as_str().unwrap_or_default();
            if uid != actual {
                return Err(ApiError::conflict(
                    &info.group,
                    &info.resource,
                    name,
                    &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {actual}"),
                ));
            }
        }
        if let Some(rv) = &opts.resource_version {
            let actual = meta(&obj)["resourceVersion"].as_str().unwrap_or_default();
            if rv != actual {
                return Err(ApiError::conflict(
                    &info.group,
                    &info.resource,
                    name,
                    &format!("Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {actual}"),
                ));
            }
        }
        let has_finalizers = meta(&obj)["finalizers"].as_array().is_some_and(|f| !f.is_empty());
        if has_finalizers {
            if meta(&obj)["deletionTimestamp"].is_null() {
                let m = meta_mut(&mut obj);
                m.insert("deletionTimestamp".into(), json!(now()));
                m.insert("deletionGracePeriodSeconds".into(), json!(0));
                if !opts.dry_run {
                    let rv = self.next_rv();
                    meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv));
                    self.put(info, obj.clone());
                }
            }
            return Ok(Deleted { object: obj, finished: false });
        }
        let reports_object =
            matches!(info.kind.as_str(), "Namespace" | "CustomResourceDefinition") && info.is_builtin();
        if reports_object {
            meta_mut(&mut obj).insert("deletionTimestamp".into(), json!(now()));
            if info.kind == "Namespace" {
                obj["status"] = json!({"phase": "Terminating"});
            }
        }
        if opts.dry_run {
            return Ok(Deleted { object: obj, finished: !reports_object });
        }
        let rv = self.next_rv();
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv));
        self.remove(info, &obj);
        // The namespace controller and the CRD finalizer remove the contents right away here.
        if info.is_builtin() && info.kind == "Namespace" {
            let namespaced: Vec<ResourceInfo> =
                self.builtins.iter().chain(self.custom.iter()).filter(|r| r.namespaced).cloned().collect();
            for r in namespaced {
                let contents: Vec<Value> = self
                    .objects
                    .get(&gr_key(&r))
                    .into_iter()
                    .flat_map(|m| m.iter())
                    .filter(|((ons, _), _)| ons == name)
                    .map(|(_, o)| o.clone())
                    .collect();
                for o in contents {
                    self.remove(&r, &o);
                }
            }
        }
        if info.is_builtin() && info.kind == "CustomResourceDefinition" {
            let group = obj["spec"]["group"].as_str().unwrap_or_default().to_string();
            let plural = obj["spec"]["names"]["plural"].as_str().unwrap_or_default().to_string();
            let served: Vec<ResourceInfo> =
                self.custom.iter().filter(|r| r.group == group && r.resource == plural).cloned().collect();
            let objects: Vec<Value> = self
                .objects
                .get(&(group.clone(), plural.clone()))
                .into_iter()
                .flat_map(|m| m.values().cloned())
                .collect();
            if let Some(info) = served.first() {
                for o in objects {
                    self.remove(info, &o);
                }
            }
            self.objects.remove(&(group, plural));
        }
        self.after_write(info)?;
        Ok(Deleted { object: obj, finished: !reports_object })
    }

    /// Status a controller would write right away (the sandbox runs no pods, so every scheduled pod
    /// counts as ready).
    fn controllers_on_write(&self, info: &ResourceInfo, obj: &mut Value) {
        if !info.is_builtin() {
            return;
        }
        match info.kind.as_str() {
            "DaemonSet" => {
                let status = self.daemonset_status(obj);
                obj["status"] = status;
            }
            "Deployment" => {
                let replicas = obj["spec"]["replicas"].as_i64().unwrap_or(1);
                obj["status"] = json!({"observedGeneration": obj["metadata"]["generation"], "replicas": replicas,
                    "updatedReplicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
                    "conditions": [{"type":"Available","status":"True","reason":"MinimumReplicasAvailable",
                                    "message":"Deployment has minimum availability."}]});
                if replicas == 0 {
                    if let Some(m) = obj["status"].as_object_mut() {
                        m.remove("readyReplicas");
                        m.remove("availableReplicas");
                    }
                }
            }
            "CustomResourceDefinition" => {
                let names = obj["spec"]["names"].clone();
                let stored: Vec<Value> = obj["spec"]["versions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|v| v["storage"] == json!(true))
                    .map(|v| v["name"].clone())
                    .collect();
                obj["status"] = json!({"acceptedNames": names, "storedVersions": stored, "conditions": [
                    {"type":"NamesAccepted","status":"True","reason":"NoConflicts","message":"no conflicts found"},
                    {"type":"Established","status":"True","reason":"InitialNamesAccepted","message":"the initial names have been accepted"}]});
            }
            _ => {}
        }
    }

    fn daemonset_status(&self, ds: &Value) -> Value {
        let pod_spec = &ds["spec"]["template"]["spec"];
        let desired = self
            .objects
            .get(&(String::new(), "nodes".to_string()))
            .into_iter()
            .flat_map(|m| m.values())
            .filter(|n| node_matches_pod_spec(pod_spec, n["metadata"]["labels"].as_object()))
            .count();
        json!({"currentNumberScheduled": desired, "desiredNumberScheduled": desired, "numberAvailable": desired,
               "numberMisscheduled": 0, "numberReady": desired, "observedGeneration": ds["metadata"]["generation"],
               "updatedNumberScheduled": desired})
    }

    /// Effects of a write on other objects: CRDs change what is served; nodes change DaemonSet status.
    fn after_write(&mut self, info: &ResourceInfo) -> Result<(), ApiError> {
        let tigera = (info.group == "operator.tigera.io" && info.resource == "installations")
            || (info.is_builtin() && info.kind == "DaemonSet");
        if tigera {
            self.tigera_operator()?;
        }
        if !info.is_builtin() {
            return Ok(());
        }
        match info.kind.as_str() {
            "CustomResourceDefinition" => {
                self.custom = self
                    .objects
                    .get(&("apiextensions.k8s.io".to_string(), "customresourcedefinitions".to_string()))
                    .into_iter()
                    .flat_map(|m| m.values())
                    .flat_map(resources::from_crd)
                    .collect();
            }
            "Node" => {
                let key = ("apps".to_string(), "daemonsets".to_string());
                let all: Vec<Value> = self.objects.get(&key).into_iter().flat_map(|m| m.values().cloned()).collect();
                for mut ds in all {
                    let status = self.daemonset_status(&ds);
                    if ds["status"] != status {
                        ds["status"] = status;
                        let rv = self.next_rv();
                        meta_mut(&mut ds).insert("resourceVersion".into(), json!(rv));
                        let dsinfo = self.resolve(&ResourceRef::daemonsets())?;
                        self.put(&dsinfo, ds);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl Inner {
    /// The tigera operator's reconciliation of `calico-system/calico-node` node affinity: the DaemonSet's
    /// affinity always follows `Installation default`'s `calicoNodeDaemonSet.spec.template.spec.affinity`,
    /// so direct edits of the DaemonSet are reverted and edits of the Installation are rolled out.
    fn tigera_operator(&mut self) -> Result<(), ApiError> {
        let inst_key = ("operator.tigera.io".to_string(), "installations".to_string());
        let Some(inst) =
            self.objects.get(&inst_key).and_then(|m| m.get(&(String::new(), "default".to_string()))).cloned()
        else {
            return Ok(());
        };
        let ds_info = self.resolve(&ResourceRef::daemonsets())?;
        let Some(ds) = self
            .objects
            .get(&gr_key(&ds_info))
            .and_then(|m| m.get(&("calico-system".to_string(), "calico-node".to_string())))
            .cloned()
        else {
            return Ok(());
        };
        let desired = inst["spec"]["calicoNodeDaemonSet"]["spec"]["template"]["spec"]["affinity"].clone();
        let current = ds["spec"]["template"]["spec"].get("affinity").cloned().unwrap_or(Value::Null);
        if desired == current {
            return Ok(());
        }
        let mut reconciled = ds.clone();
        if let Some(spec) = reconciled["spec"]["template"]["spec"].as_object_mut() {
            if desired.is_null() {
                spec.remove("affinity");
            } else {
                spec.insert("affinity".into(), desired);
            }
        }
        let opts = WriteOptions::manager(TIGERA_OPERATOR);
        self.update(&ds_info, Some("calico-system"), "calico-node", ds, reconciled, &opts, managed::UPDATE).map(|_| ())
    }
}

/// Field manager of the simulated tigera operator.
pub const TIGERA_OPERATOR: &str = "operator";

fn update_entry(info: &ResourceInfo, opts: &WriteOptions, now: &str) -> Entry {
    Entry {
        manager: if opts.field_manager.is_empty() { "unknown".into() } else { opts.field_manager.clone() },
        operation: managed::UPDATE.into(),
        api_version: info.api_version(),
        subresource: opts.subresource.clone().unwrap_or_default(),
        time: now.to_string(),
        set: Default::default(),
    }
}

/// Custom resources have no Go types, so strategic merge patch is not available for them.
pub fn strategic_unsupported() -> ApiError {
    ApiError::unsupported_media_type(
        "application/strategic-merge-patch+json",
        &["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"],
    )
}

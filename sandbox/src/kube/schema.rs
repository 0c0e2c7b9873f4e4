//! Structural schemas of the built-in kinds the sandbox serves, written in the OpenAPI v3 form the API
//! server publishes (with the `x-kubernetes-*` extensions) so one walker serves built-ins and CRDs.
//!
//! Only the parts that change patch/apply behaviour are described: list types and keys
//! (`x-kubernetes-list-type`, `x-kubernetes-list-map-keys`), strategic-merge strategies
//! (`x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`, from the `patchStrategy` /
//! `patchMergeKey` struct tags of k8s.io/api) and atomic structs (`x-kubernetes-map-type: atomic`,
//! from `+structType=atomic`). Anything not described is an object merged field by field, and a list
//! that is replaced as a whole, which is what the server does for untagged fields.

use serde_json::{json, Map, Value};
use std::sync::OnceLock;

fn object(props: &[(&str, Value)]) -> Value {
    let mut p = Map::new();
    for (k, v) in props {
        p.insert((*k).to_string(), v.clone());
    }
    json!({"type": "object", "properties": Value::Object(p)})
}

fn string_map() -> Value {
    json!({"type": "object", "additionalProperties": {"type": "string"}})
}

fn atomic_object() -> Value {
    json!({"type": "object", "x-kubernetes-map-type": "atomic"})
}

fn atomic_list() -> Value {
    json!({"type": "array", "x-kubernetes-list-type": "atomic"})
}

/// A list of primitives merged as a set by both strategic merge and apply.
fn set_list() -> Value {
    json!({"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set",
           "x-kubernetes-patch-strategy": "merge"})
}

/// An associative list: `keys` identify items for apply; `merge_key` and `strategy` drive strategic merge.
fn map_list(keys: &[&str], merge_key: &str, strategy: &str, items: Value) -> Value {
    json!({"type": "array", "items": items, "x-kubernetes-list-type": "map",
           "x-kubernetes-list-map-keys": keys,
           "x-kubernetes-patch-merge-key": merge_key, "x-kubernetes-patch-strategy": strategy})
}

fn object_meta() -> Value {
    object(&[
        ("labels", string_map()),
        ("annotations", string_map()),
        ("finalizers", set_list()),
        ("ownerReferences", map_list(&["uid"], "uid", "merge", atomic_object_granular())),
        ("managedFields", atomic_list()),
    ])
}

fn atomic_object_granular() -> Value {
    json!({"type": "object"})
}

fn label_selector() -> Value {
    let mut s = atomic_object();
    s["properties"] = json!({"matchLabels": string_map(), "matchExpressions": atomic_list()});
    s
}

fn container() -> Value {
    object(&[
        ("command", atomic_list()),
        ("args", atomic_list()),
        ("env", map_list(&["name"], "name", "merge", json!({"type": "object"}))),
        ("envFrom", atomic_list()),
        ("ports", map_list(&["containerPort", "protocol"], "containerPort", "merge", json!({"type": "object"}))),
        ("volumeMounts", map_list(&["mountPath"], "mountPath", "merge", json!({"type": "object"}))),
        ("volumeDevices", map_list(&["devicePath"], "devicePath", "merge", json!({"type": "object"}))),
        ("resizePolicy", atomic_list()),
        ("resources", object(&[("claims", map_list(&["name"], "name", "", json!({"type": "object"})))])),
    ])
}

fn node_affinity() -> Value {
    // NodeSelector and NodeSelectorTerm are `+structType=atomic`; nodeSelectorTerms has no patch strategy,
    // so a strategic merge patch replaces the whole list.
    let mut required = atomic_object();
    required["properties"] = json!({"nodeSelectorTerms": {"type": "array", "x-kubernetes-list-type": "atomic",
        "items": {"type": "object", "x-kubernetes-map-type": "atomic",
                  "properties": {"matchExpressions": atomic_list(), "matchFields": atomic_list()}}}});
    object(&[
        ("requiredDuringSchedulingIgnoredDuringExecution", required),
        ("preferredDuringSchedulingIgnoredDuringExecution", atomic_list()),
    ])
}

fn pod_spec() -> Value {
    let named = || json!({"type": "object"});
    object(&[
        ("containers", map_list(&["name"], "name", "merge", container())),
        ("initContainers", map_list(&["name"], "name", "merge", container())),
        ("ephemeralContainers", map_list(&["name"], "name", "merge", container())),
        ("volumes", map_list(&["name"], "name", "merge,retainKeys", named())),
        ("imagePullSecrets", map_list(&["name"], "name", "merge", named())),
        ("hostAliases", map_list(&["ip"], "ip", "merge", named())),
        ("tolerations", atomic_list()),
        ("readinessGates", atomic_list()),
        ("schedulingGates", map_list(&["name"], "name", "merge", named())),
        ("resourceClaims", map_list(&["name"], "name", "merge,retainKeys", named())),
        ("topologySpreadConstraints", map_list(&["topologyKey", "whenUnsatisfiable"], "topologyKey", "merge", named())),
        ("nodeSelector", string_map()),
        (
            "affinity",
            object(&[
                ("nodeAffinity", node_affinity()),
                (
                    "podAffinity",
                    object(&[
                        ("requiredDuringSchedulingIgnoredDuringExecution", atomic_list()),
                        ("preferredDuringSchedulingIgnoredDuringExecution", atomic_list()),
                    ]),
                ),
                (
                    "podAntiAffinity",
                    object(&[
                        ("requiredDuringSchedulingIgnoredDuringExecution", atomic_list()),
                        ("preferredDuringSchedulingIgnoredDuringExecution", atomic_list()),
                    ]),
                ),
            ]),
        ),
    ])
}

fn pod_template() -> Value {
    object(&[("metadata", object_meta()), ("spec", pod_spec())])
}

fn conditions() -> Value {
    map_list(&["type"], "type", "merge", json!({"type": "object"}))
}

fn daemon_set() -> Value {
    object(&[
        ("metadata", object_meta()),
        ("spec", object(&[("selector", label_selector()), ("template", pod_template())])),
        ("status", object(&[("conditions", conditions())])),
    ])
}

fn deployment() -> Value {
    let mut strategy = json!({"type": "object"});
    strategy["x-kubernetes-patch-strategy"] = json!("retainKeys");
    object(&[
        ("metadata", object_meta()),
        ("spec", object(&[("selector", label_selector()), ("template", pod_template()), ("strategy", strategy)])),
        ("status", object(&[("conditions", conditions())])),
    ])
}

fn node() -> Value {
    object(&[
        ("metadata", object_meta()),
        ("spec", object(&[("taints", atomic_list()), ("podCIDRs", set_list())])),
        (
            "status",
            object(&[
                ("addresses", conditions()),
                ("conditions", conditions()),
                ("images", atomic_list()),
                ("volumesInUse", atomic_list()),
                ("volumesAttached", atomic_list()),
            ]),
        ),
    ])
}

fn namespace() -> Value {
    object(&[
        ("metadata", object_meta()),
        ("spec", object(&[("finalizers", atomic_list())])),
        ("status", object(&[("conditions", conditions())])),
    ])
}

fn config_map() -> Value {
    object(&[("metadata", object_meta()), ("data", string_map()), ("binaryData", string_map())])
}

fn secret() -> Value {
    object(&[("metadata", object_meta()), ("data", string_map()), ("stringData", string_map())])
}

fn crd() -> Value {
    object(&[
        ("metadata", object_meta()),
        (
            "spec",
            object(&[
                (
                    "versions",
                    json!({"type": "array", "x-kubernetes-list-type": "map",
                           "x-kubernetes-list-map-keys": ["name"], "items": {"type": "object",
                           "properties": {"schema": {"type": "object", "x-kubernetes-map-type": "atomic"},
                                          "additionalPrinterColumns": atomic_list()}}}),
                ),
                ("names", object(&[("shortNames", atomic_list()), ("categories", atomic_list())])),
            ]),
        ),
        ("status", object(&[("conditions", conditions())])),
    ])
}

/// A generic custom resource: only metadata is known; the rest comes from the CRD's own schema.
pub fn object_with_meta() -> &'static Value {
    static S: OnceLock<Value> = OnceLock::new();
    S.get_or_init(|| object(&[("metadata", object_meta())]))
}

/// The schema of a built-in kind, by Kind name.
pub fn builtin(kind: &str) -> Option<&'static Value> {
    static ALL: OnceLock<Vec<(&'static str, Value)>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        vec![
            ("DaemonSet", daemon_set()),
            ("Deployment", deployment()),
            ("Node", node()),
            ("Namespace", namespace()),
            ("ConfigMap", config_map()),
            ("Secret", secret()),
            ("CustomResourceDefinition", crd()),
        ]
    });
    all.iter().find(|(k, _)| *k == kind).map(|(_, v)| v)
}

/// A custom resource's schema: the CRD's `openAPIV3Schema` with standard metadata grafted in.
pub fn for_custom_resource(openapi_v3: Option<&Value>) -> Value {
    let mut s =
        openapi_v3.cloned().unwrap_or_else(|| json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
    if !s.is_object() {
        s = json!({"type": "object"});
    }
    if !s.get("properties").is_some_and(Value::is_object) {
        s["properties"] = json!({});
    }
    s["properties"]["metadata"] = object_meta();
    s
}

/// What a schema node says about a list.
#[derive(Debug, Clone, PartialEq)]
pub enum ListType {
    Atomic,
    Set,
    Map(Vec<String>),
}

/// Navigation helpers over a schema node; a missing node means "unknown": granular objects, atomic lists.
pub struct Node<'a>(pub Option<&'a Value>);

impl<'a> Node<'a> {
    pub fn field(&self, name: &str) -> Node<'a> {
        let Some(s) = self.0 else { return Node(None) };
        if let Some(p) = s.get("properties").and_then(|p| p.get(name)) {
            return Node(Some(p));
        }
        match s.get("additionalProperties") {
            Some(a) if a.is_object() => Node(Some(a)),
            _ => Node(None),
        }
    }

    pub fn items(&self) -> Node<'a> {
        Node(self.0.and_then(|s| s.get("items")))
    }

    fn ext(&self, key: &str) -> Option<&'a Value> {
        self.0.and_then(|s| s.get(key))
    }

    /// `x-kubernetes-map-type: atomic` (or `+structType=atomic`): owned and replaced as a whole.
    pub fn is_atomic_object(&self) -> bool {
        self.ext("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic")
    }

    pub fn list_type(&self) -> ListType {
        match self.ext("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("set") => ListType::Set,
            Some("map") => ListType::Map(
                self.ext("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(|k| k.as_str().map(str::to_string)).collect())
                    .unwrap_or_default(),
            ),
            _ => ListType::Atomic,
        }
    }

    /// `x-kubernetes-patch-strategy` split on commas (`merge`, `retainKeys`).
    pub fn patch_strategies(&self) -> Vec<&'a str> {
        self.ext("x-kubernetes-patch-strategy")
            .and_then(Value::as_str)
            .map(|s| s.split(',').filter(|p| !p.is_empty()).collect())
            .unwrap_or_default()
    }

    pub fn patch_merge_key(&self) -> Option<&'a str> {
        self.ext("x-kubernetes-patch-merge-key").and_then(Value::as_str).filter(|s| !s.is_empty())
    }
}

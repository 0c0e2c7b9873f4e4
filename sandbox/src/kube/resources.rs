//! The resource types the sandbox serves: built-ins and those defined by CustomResourceDefinitions.

use serde_json::Value;

/// The verbs advertised in discovery for every served resource.
pub const VERBS: &[&str] = &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/// A column of the server-side table (`additionalPrinterColumns` for CRDs).
#[derive(Debug, Clone, PartialEq)]
pub struct PrinterColumn {
    pub name: String,
    pub type_: String,
    pub format: String,
    pub description: String,
    pub priority: i64,
    pub json_path: String,
}

/// One served resource at one group/version.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceInfo {
    pub group: String,
    pub version: String,
    /// Plural lower-case name used in URLs (`daemonsets`).
    pub resource: String,
    pub singular: String,
    pub kind: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    /// Whether the `/status` subresource exists (and so the main resource ignores status changes).
    pub status_subresource: bool,
    /// Whether writes bump `metadata.generation` (spec-bearing workload types and custom resources).
    pub has_generation: bool,
    /// Set for custom resources: their CRD's served-version schema and printer columns.
    pub custom: Option<CustomInfo>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CustomInfo {
    pub schema: Value,
    pub printer_columns: Vec<PrinterColumn>,
    pub storage: bool,
}

impl ResourceInfo {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn group_version(&self) -> String {
        self.api_version()
    }

    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    pub fn is_builtin(&self) -> bool {
        self.custom.is_none()
    }
}

/// The resource a caller wants, as group + version + plural name (`ResourceRef::new("apps", "v1", "daemonsets")`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceRef {
    pub group: String,
    pub version: String,
    pub resource: String,
}

impl ResourceRef {
    pub fn new(group: &str, version: &str, resource: &str) -> Self {
        ResourceRef { group: group.to_string(), version: version.to_string(), resource: resource.to_string() }
    }

    /// From an apiVersion (`apps/v1`, `v1`) and a plural resource name.
    pub fn from_api_version(api_version: &str, resource: &str) -> Self {
        match api_version.split_once('/') {
            Some((g, v)) => Self::new(g, v, resource),
            None => Self::new("", api_version, resource),
        }
    }

    pub fn namespaces() -> Self {
        Self::new("", "v1", "namespaces")
    }
    pub fn nodes() -> Self {
        Self::new("", "v1", "nodes")
    }
    pub fn configmaps() -> Self {
        Self::new("", "v1", "configmaps")
    }
    pub fn secrets() -> Self {
        Self::new("", "v1", "secrets")
    }
    pub fn daemonsets() -> Self {
        Self::new("apps", "v1", "daemonsets")
    }
    pub fn deployments() -> Self {
        Self::new("apps", "v1", "deployments")
    }
    pub fn crds() -> Self {
        Self::new("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    }
}

/// The static description of a built-in resource.
struct Builtin {
    group: &'static str,
    resource: &'static str,
    kind: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
    status_subresource: bool,
    has_generation: bool,
}

const BUILTINS: &[Builtin] = &[
    Builtin {
        group: "",
        resource: "configmaps",
        kind: "ConfigMap",
        namespaced: true,
        short: &["cm"],
        status_subresource: false,
        has_generation: false,
    },
    Builtin {
        group: "",
        resource: "namespaces",
        kind: "Namespace",
        namespaced: false,
        short: &["ns"],
        status_subresource: true,
        has_generation: false,
    },
    Builtin {
        group: "",
        resource: "nodes",
        kind: "Node",
        namespaced: false,
        short: &["no"],
        status_subresource: true,
        has_generation: false,
    },
    Builtin {
        group: "",
        resource: "secrets",
        kind: "Secret",
        namespaced: true,
        short: &[],
        status_subresource: false,
        has_generation: false,
    },
    Builtin {
        group: "apps",
        resource: "daemonsets",
        kind: "DaemonSet",
        namespaced: true,
        short: &["ds"],
        status_subresource: true,
        has_generation: true,
    },
    Builtin {
        group: "apps",
        resource: "deployments",
        kind: "Deployment",
        namespaced: true,
        short: &["deploy"],
        status_subresource: true,
        has_generation: true,
    },
    Builtin {
        group: "apiextensions.k8s.io",
        resource: "customresourcedefinitions",
        kind: "CustomResourceDefinition",
        namespaced: false,
        short: &["crd", "crds"],
        status_subresource: true,
        has_generation: true,
    },
];

/// The built-in resources, in discovery order (all at version v1).
pub fn builtins() -> Vec<ResourceInfo> {
    BUILTINS
        .iter()
        .map(|b| ResourceInfo {
            group: b.group.into(),
            version: "v1".into(),
            resource: b.resource.into(),
            singular: b.kind.to_lowercase(),
            kind: b.kind.into(),
            namespaced: b.namespaced,
            short_names: b.short.iter().map(|s| s.to_string()).collect(),
            categories: if matches!(b.kind, "DaemonSet" | "Deployment") { vec!["all".into()] } else { Vec::new() },
            status_subresource: b.status_subresource,
            has_generation: b.has_generation,
            custom: None,
        })
        .collect()
}

fn str_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The resources a CRD object serves (one per served version).
pub fn from_crd(crd: &Value) -> Vec<ResourceInfo> {
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or_default();
    let names = &spec["names"];
    let plural = names["plural"].as_str().unwrap_or_default();
    let kind = names["kind"].as_str().unwrap_or_default();
    if group.is_empty() || plural.is_empty() || kind.is_empty() {
        return Vec::new();
    }
    let singular = names["singular"].as_str().map(str::to_string).unwrap_or_else(|| kind.to_lowercase());
    let namespaced = spec["scope"].as_str() != Some("Cluster");
    let mut out = Vec::new();
    for v in spec["versions"].as_array().into_iter().flatten() {
        if v["served"].as_bool() != Some(true) {
            continue;
        }
        let Some(name) = v["name"].as_str() else {
            continue;
        };
        let printer_columns = v["additionalPrinterColumns"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| PrinterColumn {
                name: c["name"].as_str().unwrap_or_default().to_string(),
                type_: c["type"].as_str().unwrap_or("string").to_string(),
                format: c["format"].as_str().unwrap_or_default().to_string(),
                description: c["description"].as_str().unwrap_or_default().to_string(),
                priority: c["priority"].as_i64().unwrap_or(0),
                json_path: c["jsonPath"].as_str().unwrap_or_default().to_string(),
            })
            .collect();
        out.push(ResourceInfo {
            group: group.to_string(),
            version: name.to_string(),
            resource: plural.to_string(),
            singular: singular.clone(),
            kind: kind.to_string(),
            namespaced,
            short_names: str_list(names.get("shortNames")),
            categories: str_list(names.get("categories")),
            status_subresource: v["subresources"].get("status").is_some(),
            has_generation: true,
            custom: Some(CustomInfo {
                schema: crate::kube::schema::for_custom_resource(v["schema"].get("openAPIV3Schema")),
                printer_columns,
                storage: v["storage"].as_bool() == Some(true),
            }),
        });
    }
    out
}

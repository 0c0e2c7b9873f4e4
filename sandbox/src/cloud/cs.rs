//! CS (ACK) 2015-12-15 for one registered (`ExternalKubernetes`) cluster: addons installed,
//! upgraded and uninstalled through tasks that finish after a delay, node pools whose labels can
//! be synced onto their Nodes, and the cluster's Nodes read from the Kubernetes side.
//!
//! Error codes: `ErrorClusterNotFound` (404) and `InvalidParameter` (400) are CS's documented ones;
//! the codes for a missing addon, node pool or task and for an addon already installed or busy are
//! this sandbox's choices (no public list of them was found) and are named in the README.

use super::errors::{CloudError, CloudResult};
use super::ids;
use super::kube_hooks::{KubeHooks, NodeInfo};
use super::params::Params;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub const NODEPOOL_LABEL: &str = "alibabacloud.com/nodepool-id";
pub const EXTERNAL_LABEL: &str = "alibabacloud.com/external";
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";
pub const KUBERNETES_VERSION: &str = "1.33.1";

/// An addon the sandbox can install, versions newest first.
pub struct AddonSpec {
    pub name: &'static str,
    pub category: &'static str,
    pub versions: &'static [&'static str],
}

pub const CATALOG: [AddonSpec; 2] = [
    AddonSpec {
        name: "terway-eniip",
        category: "network",
        versions: &["v1.17.5", "v1.17.2", "v1.16.6", "v1.15.3", "v1.14.5", "v1.13.4"],
    },
    AddonSpec { name: "logtail-ds", category: "logging", versions: &["v1.7.1", "v1.6.0"] },
];

pub fn addon_spec(name: &str) -> Option<&'static AddonSpec> {
    CATALOG.iter().find(|a| a.name == name)
}

fn version_key(v: &str) -> Vec<u64> {
    v.trim_start_matches('v').split(['.', '-']).map(|p| p.parse().unwrap_or(0)).collect()
}

#[derive(Debug, Clone)]
pub struct AddonInstance {
    pub name: String,
    pub version: String,
    pub config: String,
    /// `installing`, `active`, `upgrading`, `uninstalling`.
    pub state: &'static str,
    pub pending_task: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NodePool {
    pub id: String,
    pub name: String,
    pub zone: String,
    pub vswitch_ids: Vec<String>,
    pub security_group_id: String,
    pub labels: Vec<(String, String)>,
    pub taints: Vec<Value>,
    /// Label keys this pool last wrote onto its Nodes, so keys dropped from the pool are removed.
    pub synced_keys: Vec<String>,
    pub state: &'static str,
    pub created: String,
    pub updated: String,
}

#[derive(Debug, Clone)]
pub struct Cluster {
    pub id: String,
    pub name: String,
    pub region: String,
    pub vpc_id: String,
    pub security_group_id: String,
    pub created: String,
    pub addons: BTreeMap<String, AddonInstance>,
    /// The last task per addon, for the upgrade-status query.
    pub addon_tasks: BTreeMap<String, String>,
    pub nodepools: Vec<NodePool>,
}

#[derive(Debug, Clone)]
pub struct AddonChange {
    pub name: String,
    pub version: String,
    pub config: Option<String>,
    pub previous_version: Option<String>,
}

#[derive(Debug, Clone)]
pub enum TaskKind {
    Install(Vec<AddonChange>),
    Upgrade(Vec<AddonChange>),
    Uninstall(Vec<String>),
    NodePoolUpdate { nodepool_id: String, update_nodes: bool },
}

impl TaskKind {
    fn type_name(&self) -> &'static str {
        match self {
            TaskKind::Install(_) => "cluster_addon_install",
            TaskKind::Upgrade(_) => "cluster_addon_upgrade",
            TaskKind::Uninstall(_) => "cluster_addon_uninstall",
            TaskKind::NodePoolUpdate { .. } => "nodepool_update",
        }
    }

    fn addon_names(&self) -> Vec<String> {
        match self {
            TaskKind::Install(c) | TaskKind::Upgrade(c) => c.iter().map(|a| a.name.clone()).collect(),
            TaskKind::Uninstall(n) => n.clone(),
            TaskKind::NodePoolUpdate { .. } => Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Task {
    pub id: String,
    pub cluster_id: String,
    pub kind: TaskKind,
    /// `running`, `success` or `failed`.
    pub state: &'static str,
    pub error: Option<(String, String)>,
    pub created: String,
    pub updated: String,
    pub due: Instant,
    pub will_fail: bool,
}

/// What a call needs besides the request: the task delay and whether the next task fails.
pub struct CallContext<'a> {
    pub task_delay: Duration,
    pub fail_task: &'a mut dyn FnMut() -> bool,
    pub hooks: &'a dyn KubeHooks,
}

#[derive(Debug, Default)]
pub struct CsState {
    pub clusters: BTreeMap<String, Cluster>,
    pub tasks: BTreeMap<String, Task>,
}

fn cluster_not_found(id: &str) -> CloudError {
    CloudError::not_found("ErrorClusterNotFound", format!("cluster {id} not found"))
}

fn addon_not_installed(name: &str) -> CloudError {
    CloudError::not_found("ErrorAddonNotFound", format!("addon {name} is not installed in the cluster"))
}

fn busy(name: &str, task: &str) -> CloudError {
    CloudError::invalid("ErrorClusterState", format!("addon {name} has a running task {task}; wait for it to finish"))
}

fn invalid(message: impl Into<String>) -> CloudError {
    CloudError::invalid("InvalidParameter", message)
}

/// An addon config is empty or a JSON object serialized as a string.
fn check_config(config: &str) -> CloudResult<()> {
    if config.is_empty() || serde_json::from_str::<Value>(config).is_ok_and(|v| v.is_object()) {
        Ok(())
    } else {
        Err(invalid(format!("addon config must be a JSON object string, got {config:?}")))
    }
}

fn check_version(spec: &AddonSpec, version: &str) -> CloudResult<String> {
    if version.is_empty() {
        return Ok(spec.versions[0].to_string());
    }
    if spec.versions.contains(&version) {
        Ok(version.to_string())
    } else {
        Err(invalid(format!(
            "version {version} of addon {} is not available; available versions: {}",
            spec.name,
            spec.versions.join(", ")
        )))
    }
}

fn spec_for(name: &str) -> CloudResult<&'static AddonSpec> {
    addon_spec(name)
        .ok_or_else(|| invalid(format!("addon {name} is not supported for cluster type ExternalKubernetes")))
}

fn body_list(body: &Value, field: &str) -> CloudResult<Vec<Value>> {
    // The SDK sends a bare JSON array; a wrapping object `{field: [...]}` is accepted as well.
    let list = match body {
        Value::Array(a) => a.clone(),
        Value::Object(o) => o.get(field).and_then(Value::as_array).cloned().unwrap_or_default(),
        _ => Vec::new(),
    };
    if list.is_empty() {
        return Err(invalid("the request body must list at least one addon"));
    }
    Ok(list)
}

fn str_field<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get(field).and_then(Value::as_str).unwrap_or("")
}

/// The action a CS method and path serve, and the path's parameters.
pub fn route(method: &str, path: &str) -> Option<(&'static str, Vec<String>)> {
    let segs: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| super::signature::percent_decode(s, false))
        .collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let (action, params): (&'static str, Vec<&str>) = match (method, s.as_slice()) {
        ("GET", ["clusters", c]) => ("DescribeClusterDetail", vec![c]),
        ("POST", ["clusters", c, "components", "install"]) => ("InstallClusterAddons", vec![c]),
        ("POST", ["clusters", c, "components", "uninstall"]) => ("UnInstallClusterAddons", vec![c]),
        ("POST", ["clusters", c, "components", "upgrade"]) => ("UpgradeClusterAddons", vec![c]),
        ("POST", ["clusters", c, "components", a, "config"]) => ("ModifyClusterAddon", vec![c, a]),
        ("GET", ["clusters", c, "components", "version"]) => ("DescribeClusterAddonsVersion", vec![c]),
        ("GET", ["clusters", c, "components", "upgradestatus"]) => ("DescribeClusterAddonsUpgradeStatus", vec![c]),
        ("GET", ["clusters", c, "components", a, "instance"]) => ("DescribeClusterAddonInstance", vec![c, a]),
        ("GET", ["clusters", c, "addon_instances"]) => ("ListClusterAddonInstances", vec![c]),
        ("GET", ["clusters", c, "addon_instances", a]) => ("GetClusterAddonInstance", vec![c, a]),
        ("GET", ["addons"]) => ("ListAddons", vec![]),
        ("GET", ["addons", a]) => ("DescribeAddon", vec![a]),
        ("GET", ["tasks", t]) => ("DescribeTaskInfo", vec![t]),
        ("GET", ["clusters", c, "nodepools"]) => ("DescribeClusterNodePools", vec![c]),
        ("GET", ["clusters", c, "nodepools", n]) => ("DescribeClusterNodePoolDetail", vec![c, n]),
        ("PUT", ["clusters", c, "nodepools", n]) => ("ModifyClusterNodePool", vec![c, n]),
        ("GET", ["clusters", c, "nodes"]) => ("DescribeClusterNodes", vec![c]),
        _ => return None,
    };
    Some((action, params.into_iter().map(str::to_string).collect()))
}

fn pool_nodes<'a>(nodes: &'a [NodeInfo], pool: &NodePool) -> Vec<&'a NodeInfo> {
    nodes.iter().filter(|n| n.label(NODEPOOL_LABEL) == Some(pool.id.as_str())).collect()
}

fn labels_json(labels: &[(String, String)]) -> Value {
    json!(labels.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>())
}

/// A Kubernetes label key: optional DNS prefix `/` name of at most 63 `[A-Za-z0-9._-]`.
fn valid_label_key(k: &str) -> bool {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
    });
    name_ok && prefix_ok
}

fn valid_label_value(v: &str) -> bool {
    v.is_empty()
        || (v.len() <= 63
            && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && v.starts_with(|c: char| c.is_ascii_alphanumeric())
            && v.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

impl Cluster {
    fn addon(&self, name: &str) -> CloudResult<&AddonInstance> {
        self.addons.get(name).ok_or_else(|| addon_not_installed(name))
    }

    fn pool(&self, id: &str) -> CloudResult<&NodePool> {
        self.nodepools
            .iter()
            .find(|p| p.id == id)
            .ok_or_else(|| CloudError::not_found("ErrorNodePoolNotFound", format!("node pool {id} not found")))
    }

    fn busy(&self) -> bool {
        self.addons.values().any(|a| a.pending_task.is_some())
    }
}

impl CsState {
    pub fn cluster(&self, id: &str) -> CloudResult<&Cluster> {
        self.clusters.get(id).ok_or_else(|| cluster_not_found(id))
    }

    fn cluster_mut(&mut self, id: &str) -> CloudResult<&mut Cluster> {
        self.clusters.get_mut(id).ok_or_else(|| cluster_not_found(id))
    }

    pub fn call(
        &mut self,
        action: &str,
        path_params: &[String],
        query: &Params,
        body: &Value,
        ctx: &mut CallContext<'_>,
    ) -> CloudResult<Value> {
        let p0 = path_params.first().map(String::as_str).unwrap_or("");
        let p1 = path_params.get(1).map(String::as_str).unwrap_or("");
        match action {
            "DescribeClusterDetail" => self.describe_cluster(p0, ctx.hooks),
            "InstallClusterAddons" => self.install(p0, body, ctx),
            "UnInstallClusterAddons" => self.uninstall(p0, body, ctx),
            "UpgradeClusterAddons" => self.upgrade(p0, body, ctx),
            "ModifyClusterAddon" => self.modify_addon(p0, p1, body),
            "DescribeClusterAddonInstance" => {
                let a = self.cluster(p0)?.addon(p1)?;
                Ok(json!({"name": a.name, "version": a.version, "state": a.state, "config": a.config}))
            }
            "GetClusterAddonInstance" => {
                let a = self.cluster(p0)?.addon(p1)?;
                Ok(json!({"name": a.name, "version": a.version, "state": a.state, "config": a.config,
                          "logging": {"capable": false, "enabled": false, "log_project": "", "logstore": ""}}))
            }
            "ListClusterAddonInstances" => {
                let c = self.cluster(p0)?;
                let list: Vec<Value> = c
                    .addons
                    .values()
                    .map(|a| json!({"name": a.name, "version": a.version, "state": a.state}))
                    .collect();
                Ok(json!({"addons": list}))
            }
            "DescribeClusterAddonsVersion" => self.addons_version(p0),
            "DescribeClusterAddonsUpgradeStatus" => self.upgrade_status(p0, query),
            "ListAddons" => self.list_addons(query),
            "DescribeAddon" => self.describe_addon(p0, query),
            "DescribeTaskInfo" => self.describe_task(p0),
            "DescribeClusterNodePools" => {
                let c = self.cluster(p0)?;
                let nodes = ctx.hooks.nodes();
                let name = query.get("NodepoolName").filter(|n| !n.is_empty());
                let list: Vec<Value> = c
                    .nodepools
                    .iter()
                    .filter(|p| name.is_none_or(|n| n == p.name))
                    .map(|p| self.pool_json(c, p, &nodes, false))
                    .collect();
                Ok(json!({"nodepools": list}))
            }
            "DescribeClusterNodePoolDetail" => {
                let c = self.cluster(p0)?;
                let pool = c.pool(p1)?;
                Ok(self.pool_json(c, pool, &ctx.hooks.nodes(), true))
            }
            "ModifyClusterNodePool" => self.modify_pool(p0, p1, body, ctx),
            "DescribeClusterNodes" => self.describe_nodes(p0, query, ctx.hooks),
            _ => Err(CloudError::api_not_found()),
        }
    }

    fn describe_cluster(&self, id: &str, hooks: &dyn KubeHooks) -> CloudResult<Value> {
        let c = self.cluster(id)?;
        let state = if c.busy() { "updating" } else { "running" };
        Ok(json!({
            "cluster_id": c.id, "name": c.name, "cluster_type": "ExternalKubernetes", "cluster_spec": "",
            "profile": "Default", "region_id": c.region, "zone_id": "", "vpc_id": c.vpc_id, "vswitch_id": "",
            "vswitch_ids": [], "security_group_id": c.security_group_id, "state": state,
            "size": hooks.nodes().len(), "created": c.created, "updated": c.created,
            "current_version": KUBERNETES_VERSION, "init_version": KUBERNETES_VERSION, "next_version": "",
            "network_mode": "", "container_cidr": "", "service_cidr": "", "proxy_mode": "",
            "deletion_protection": false, "resource_group_id": "rg-acfmsandbox00000", "tags": [],
            "meta_data": json!({"Capabilities": {"ExternalKubernetes": true}}).to_string(),
            "parameters": {}, "maintenance_window": {"enable": false}, "cluster_domain": "cluster.local",
            "docker_version": "", "external_loadbalancer_id": "", "master_url": "", "private_zone": false,
            "ip_stack": "ipv4", "timezone": "", "worker_ram_role_name": "",
        }))
    }

    fn new_task(&mut self, cluster_id: &str, kind: TaskKind, ctx: &mut CallContext<'_>) -> String {
        let id = ids::task_id();
        let now = ids::now_iso();
        let will_fail = !matches!(kind, TaskKind::NodePoolUpdate { .. }) && (ctx.fail_task)();
        self.tasks.insert(
            id.clone(),
            Task {
                id: id.clone(),
                cluster_id: cluster_id.to_string(),
                kind,
                state: "running",
                error: None,
                created: now.clone(),
                updated: now,
                due: Instant::now() + ctx.task_delay,
                will_fail,
            },
        );
        id
    }

    fn install(&mut self, cid: &str, body: &Value, ctx: &mut CallContext<'_>) -> CloudResult<Value> {
        let c = self.cluster(cid)?;
        let mut changes = Vec::new();
        for item in body_list(body, "addons")? {
            let name = str_field(&item, "name");
            let spec = spec_for(name)?;
            let version = check_version(spec, str_field(&item, "version"))?;
            let config = str_field(&item, "config").to_string();
            check_config(&config)?;
            if let Some(a) = c.addons.get(name) {
                return Err(match &a.pending_task {
                    Some(t) => busy(name, t),
                    None => {
                        CloudError::invalid("ErrorAddonAlreadyInstalled", format!("addon {name} is already installed"))
                    }
                });
            }
            if changes.iter().any(|x: &AddonChange| x.name == name) {
                return Err(invalid(format!("addon {name} is listed twice")));
            }
            changes.push(AddonChange { name: name.to_string(), version, config: Some(config), previous_version: None });
        }
        let task = self.new_task(cid, TaskKind::Install(changes.clone()), ctx);
        let c = self.cluster_mut(cid)?;
        for ch in changes {
            c.addon_tasks.insert(ch.name.clone(), task.clone());
            c.addons.insert(
                ch.name.clone(),
                AddonInstance {
                    name: ch.name,
                    version: ch.version,
                    config: ch.config.unwrap_or_default(),
                    state: "installing",
                    pending_task: Some(task.clone()),
                },
            );
        }
        Ok(json!({"cluster_id": cid, "task_id": task}))
    }

    fn uninstall(&mut self, cid: &str, body: &Value, ctx: &mut CallContext<'_>) -> CloudResult<Value> {
        let c = self.cluster(cid)?;
        let mut names = Vec::new();
        for item in body_list(body, "addons")? {
            let name = str_field(&item, "name").to_string();
            let a = c.addon(&name)?;
            if let Some(t) = &a.pending_task {
                return Err(busy(&name, t));
            }
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let task = self.new_task(cid, TaskKind::Uninstall(names.clone()), ctx);
        let c = self.cluster_mut(cid)?;
        for n in names {
            c.addon_tasks.insert(n.clone(), task.clone());
            if let Some(a) = c.addons.get_mut(&n) {
                a.state = "uninstalling";
                a.pending_task = Some(task.clone());
            }
        }
        Ok(json!({"cluster_id": cid, "task_id": task}))
    }

    fn upgrade(&mut self, cid: &str, body: &Value, ctx: &mut CallContext<'_>) -> CloudResult<Value> {
        let c = self.cluster(cid)?;
        let mut changes = Vec::new();
        for item in body_list(body, "addons")? {
            let name = str_field(&item, "component_name");
            let a = c.addon(name)?;
            if let Some(t) = &a.pending_task {
                return Err(busy(name, t));
            }
            let spec = spec_for(name)?;
            let next = str_field(&item, "next_version");
            if next.is_empty() {
                return Err(invalid("next_version is required"));
            }
            let next = check_version(spec, next)?;
            if version_key(&next) < version_key(&a.version) {
                return Err(invalid(format!("addon {name} cannot be downgraded from {} to {next}", a.version)));
            }
            let config = item.get("config").and_then(Value::as_str).map(str::to_string);
            if let Some(cfg) = &config {
                check_config(cfg)?;
            }
            changes.push(AddonChange {
                name: name.to_string(),
                version: next,
                config,
                previous_version: Some(a.version.clone()),
            });
        }
        let task = self.new_task(cid, TaskKind::Upgrade(changes.clone()), ctx);
        let c = self.cluster_mut(cid)?;
        for ch in changes {
            c.addon_tasks.insert(ch.name.clone(), task.clone());
            if let Some(a) = c.addons.get_mut(&ch.name) {
                a.state = "upgrading";
                a.pending_task = Some(task.clone());
            }
        }
        Ok(json!({"cluster_id": cid, "task_id": task}))
    }

    fn modify_addon(&mut self, cid: &str, name: &str, body: &Value) -> CloudResult<Value> {
        let config = body.get("config").and_then(Value::as_str).ok_or_else(|| invalid("config is required"))?;
        check_config(config)?;
        let c = self.cluster_mut(cid)?;
        let a = c.addons.get_mut(name).ok_or_else(|| addon_not_installed(name))?;
        if let Some(t) = &a.pending_task {
            return Err(busy(name, t));
        }
        a.config = config.to_string();
        Ok(json!({}))
    }

    fn addons_version(&self, cid: &str) -> CloudResult<Value> {
        let c = self.cluster(cid)?;
        let mut out = serde_json::Map::new();
        for spec in &CATALOG {
            let installed = c.addons.get(spec.name);
            let version = installed.map(|a| a.version.clone()).unwrap_or_default();
            let latest = spec.versions[0];
            let can_upgrade = installed.is_some() && version_key(latest) > version_key(&version);
            out.insert(
                spec.name.to_string(),
                json!({
                    "component_name": spec.name, "version": version,
                    "next_version": if can_upgrade { latest } else { "" }, "can_upgrade": can_upgrade,
                    "changed": "", "exist": installed.is_some(), "force": false, "message": "", "policy": "",
                    "required": false, "template": "", "value": "", "description": "", "category": spec.category,
                    "ready_to_upgrade": "",
                }),
            );
        }
        Ok(Value::Object(out))
    }

    fn upgrade_status(&self, cid: &str, query: &Params) -> CloudResult<Value> {
        let c = self.cluster(cid)?;
        let names = query
            .json_strings("componentIds", "InvalidParameter")?
            .unwrap_or_else(|| c.addons.keys().cloned().collect());
        let mut out = serde_json::Map::new();
        for name in names {
            let Some(spec) = addon_spec(&name) else { continue };
            let a = c.addons.get(&name);
            let task = c.addon_tasks.get(&name).and_then(|t| self.tasks.get(t));
            let (state, message, created, finished) = match task {
                Some(t) => (
                    t.state,
                    t.error.as_ref().map(|e| e.1.clone()).unwrap_or_default(),
                    t.created.clone(),
                    if t.state == "running" { String::new() } else { t.updated.clone() },
                ),
                None => ("", String::new(), String::new(), String::new()),
            };
            let version = a.map(|a| a.version.clone()).unwrap_or_default();
            out.insert(
                name.clone(),
                json!({
                    "addon_info": {"component_name": name, "version": version, "category": spec.category, "yaml": ""},
                    "tasks": {"state": state, "message": message, "created_at": created, "finished_at": finished},
                    "can_upgrade": a.is_some() && version_key(spec.versions[0]) > version_key(&version),
                    "template": "",
                }),
            );
        }
        Ok(Value::Object(out))
    }

    fn addon_json(spec: &AddonSpec, version: &str) -> Value {
        json!({
            "name": spec.name, "version": version, "category": spec.category, "architecture": ["amd64", "arm64"],
            "config_schema": "{\"type\":\"object\"}", "install_by_default": false, "managed": false,
            "supported_actions": ["Install", "Upgrade", "Modify", "Uninstall"],
        })
    }

    fn list_addons(&self, query: &Params) -> CloudResult<Value> {
        if let Some(cid) = query.get("cluster_id").filter(|c| !c.is_empty()) {
            self.cluster(cid)?;
        }
        let list: Vec<Value> = CATALOG.iter().map(|s| Self::addon_json(s, s.versions[0])).collect();
        Ok(json!({"addons": list}))
    }

    fn describe_addon(&self, name: &str, query: &Params) -> CloudResult<Value> {
        let spec = addon_spec(name)
            .ok_or_else(|| CloudError::not_found("ErrorAddonNotFound", format!("addon {name} not found")))?;
        let version = check_version(spec, query.get("version").unwrap_or(""))?;
        let base = match query.get("cluster_id").filter(|c| !c.is_empty()) {
            Some(cid) => {
                self.cluster(cid)?.addons.get(name).map(|a| a.version.clone()).unwrap_or_else(|| version.clone())
            }
            None => version.clone(),
        };
        let newer: Vec<Value> = spec
            .versions
            .iter()
            .filter(|v| version_key(v) > version_key(&base))
            .map(|v| json!({"version": v, "upgradable": true, "minimum_cluster_version": "1.20.0"}))
            .collect();
        let mut v = Self::addon_json(spec, &version);
        v["newer_versions"] = json!(newer);
        Ok(v)
    }

    fn describe_task(&self, id: &str) -> CloudResult<Value> {
        let t = self
            .tasks
            .get(id)
            .ok_or_else(|| CloudError::not_found("ErrorTaskNotFound", format!("task {id} not found")))?;
        let result_status = match t.state {
            "running" => "running",
            "success" => "success",
            _ => "failed",
        };
        let (params, results): (Value, Vec<Value>) = match &t.kind {
            TaskKind::Install(c) | TaskKind::Upgrade(c) => (
                json!({"addons": c.iter().map(|a| json!({"name": a.name, "version": a.version})).collect::<Vec<_>>()}),
                c.iter().map(|a| json!({"data": a.name, "status": result_status})).collect(),
            ),
            TaskKind::Uninstall(n) => (
                json!({"addons": n.iter().map(|a| json!({"name": a})).collect::<Vec<_>>()}),
                n.iter().map(|a| json!({"data": a, "status": result_status})).collect(),
            ),
            TaskKind::NodePoolUpdate { nodepool_id, update_nodes } => (
                json!({"nodepool_id": nodepool_id, "update_nodes": update_nodes}),
                vec![json!({"data": nodepool_id, "status": result_status})],
            ),
        };
        let mut v = json!({
            "task_id": t.id, "cluster_id": t.cluster_id, "task_type": t.kind.type_name(), "state": t.state,
            "created": t.created, "updated": t.updated, "current_stage": "",
            "target": {"id": t.cluster_id, "type": "cluster"}, "parameters": params, "task_result": results,
            "stages": [{"state": t.state, "message": "", "start_time": t.created,
                        "end_time": if t.state == "running" { "" } else { t.updated.as_str() }, "outputs": {}}],
            "events": [], "outputs": {},
        });
        if let Some((code, message)) = &t.error {
            v["error"] = json!({"code": code, "message": message});
        }
        Ok(v)
    }

    fn pool_json(&self, c: &Cluster, p: &NodePool, nodes: &[NodeInfo], detail: bool) -> Value {
        let members = pool_nodes(nodes, p);
        let healthy = members.iter().filter(|n| n.ready).count();
        let mut v = json!({
            "nodepool_info": {"nodepool_id": p.id, "name": p.name, "type": "ess", "is_default": false,
                              "region_id": c.region, "resource_group_id": "rg-acfmsandbox00000",
                              "created": p.created, "updated": p.updated},
            "status": {"state": p.state, "total_nodes": members.len(), "healthy_nodes": healthy,
                       "serving_nodes": healthy, "failed_nodes": 0, "initial_nodes": 0, "offline_nodes": 0,
                       "removing_nodes": 0},
            "kubernetes_config": {"labels": labels_json(&p.labels), "taints": p.taints, "runtime": "containerd",
                                  "runtime_version": "1.6.36", "cms_enabled": false, "cpu_policy": "none",
                                  "unschedulable": false, "node_name_mode": "", "user_data": "", "pre_user_data": ""},
            "scaling_group": {"vswitch_ids": p.vswitch_ids, "security_group_id": p.security_group_id,
                              "security_group_ids": [p.security_group_id], "instance_types": ["ecs.g7.xlarge"],
                              "desired_size": members.len(), "system_disk_category": "cloud_essd",
                              "system_disk_size": 120, "image_type": "AliyunLinux3", "instance_charge_type": "PostPaid",
                              "multi_az_policy": "BALANCE", "tags": []},
            "auto_scaling": {"enable": false, "max_instances": 0, "min_instances": 0, "type": "cpu"},
            "management": {"enable": false, "auto_repair": false, "auto_upgrade": false},
            "tee_config": {"tee_enable": false},
            "max_nodes": 0,
        });
        if detail {
            v["status"]["conditions"] = json!([]);
        }
        v
    }

    fn modify_pool(&mut self, cid: &str, np: &str, body: &Value, ctx: &mut CallContext<'_>) -> CloudResult<Value> {
        let c = self.cluster(cid)?;
        c.pool(np)?;
        if !body.is_object() {
            return Err(invalid("the request body must be a JSON object"));
        }
        let kc = &body["kubernetes_config"];
        let labels = match kc.get("labels") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => {
                let mut out: Vec<(String, String)> = Vec::new();
                for item in items {
                    let key = str_field(item, "key").to_string();
                    let value = str_field(item, "value").to_string();
                    if !valid_label_key(&key) || !valid_label_value(&value) {
                        return Err(invalid(format!("invalid node pool label {key:?}={value:?}")));
                    }
                    out.retain(|(k, _)| *k != key);
                    out.push((key, value));
                }
                Some(out)
            }
            Some(_) => return Err(invalid("kubernetes_config.labels must be a list of {key, value}")),
        };
        let taints = match kc.get("taints") {
            None | Some(Value::Null) => None,
            Some(Value::Array(t)) => Some(t.clone()),
            Some(_) => return Err(invalid("kubernetes_config.taints must be a list")),
        };
        let name = body["nodepool_info"].get("name").and_then(Value::as_str).map(str::to_string);
        if name.as_deref() == Some("") {
            return Err(invalid("nodepool_info.name must not be empty"));
        }
        let update_nodes = body.get("update_nodes").and_then(Value::as_bool).unwrap_or(false);
        let task = self.new_task(cid, TaskKind::NodePoolUpdate { nodepool_id: np.to_string(), update_nodes }, ctx);
        let c = self.cluster_mut(cid)?;
        let pool = c.nodepools.iter_mut().find(|p| p.id == np).ok_or_else(CloudError::internal)?;
        if let Some(l) = labels {
            pool.labels = l;
        }
        if let Some(t) = taints {
            pool.taints = t;
        }
        if let Some(n) = name {
            pool.name = n;
        }
        pool.state = "updating";
        pool.updated = ids::now_iso();
        Ok(json!({"nodepool_id": np, "task_id": task}))
    }

    fn describe_nodes(&self, cid: &str, query: &Params, hooks: &dyn KubeHooks) -> CloudResult<Value> {
        self.cluster(cid)?;
        let size = query.int("pageSize", 10, 1, 100)?;
        let page = query.int("pageNumber", 1, 1, u32::MAX as u64)?;
        let pool = query.get("nodepool_id").filter(|p| !p.is_empty());
        let state = query.get("state").filter(|s| !s.is_empty() && *s != "all");
        let nodes: Vec<NodeInfo> = hooks
            .nodes()
            .into_iter()
            .filter(|n| pool.is_none_or(|p| n.label(NODEPOOL_LABEL) == Some(p)))
            .filter(|_| state.is_none_or(|s| s == "running"))
            .collect();
        let total = nodes.len();
        let start = ((page - 1) * size).min(total as u64) as usize;
        let end = (start + size as usize).min(total);
        let list: Vec<Value> = nodes[start..end]
            .iter()
            .map(|n| {
                let aliyun = n.label(EXTERNAL_LABEL) == Some("true");
                let instance_type = n.label("node.kubernetes.io/instance-type").unwrap_or("").to_string();
                json!({
                    "instance_id": n.instance_id().unwrap_or(&n.name), "instance_name": n.name, "node_name": n.name,
                    "host_name": n.name, "ip_address": [n.internal_ip], "nodepool_id": n.label(NODEPOOL_LABEL).unwrap_or(""),
                    "state": "running", "node_status": if n.ready { "Ready" } else { "NotReady" },
                    "instance_type": instance_type,
                    "instance_type_family": instance_type.rsplit_once('.').map(|(f, _)| f).unwrap_or(""),
                    "instance_role": "Worker", "source": if aliyun { "ess_attach" } else { "manual" },
                    "is_aliyun_node": aliyun, "creation_time": n.created,
                    "instance_status": "Running", "instance_charge_type": if aliyun { "PostPaid" } else { "" },
                    "image_id": if aliyun { "aliyun_3_x64_20G_alibase_20240819.vhd" } else { "" },
                    "expired_time": "", "error_message": "", "spot_strategy": if aliyun { "NoSpot" } else { "" },
                })
            })
            .collect();
        Ok(json!({"nodes": list, "page": {"page_number": page, "page_size": size, "total_count": total}}))
    }

    /// Finishes every running task whose time has come, in creation order.
    pub fn advance(&mut self, now: Instant, hooks: &dyn KubeHooks) {
        let mut due: Vec<(Instant, String)> = self
            .tasks
            .values()
            .filter(|t| t.state == "running" && t.due <= now)
            .map(|t| (t.due, t.id.clone()))
            .collect();
        due.sort();
        for (_, id) in due {
            self.finish(&id, hooks);
        }
    }

    /// The earliest deadline of a running task.
    pub fn next_due(&self) -> Option<Instant> {
        self.tasks.values().filter(|t| t.state == "running").map(|t| t.due).min()
    }

    fn finish(&mut self, id: &str, hooks: &dyn KubeHooks) {
        let Some(task) = self.tasks.get(id).cloned() else { return };
        let Some(c) = self.clusters.get_mut(&task.cluster_id) else { return };
        let mut error: Option<(String, String)> =
            task.will_fail.then(|| ("AddonTaskFailed".to_string(), "the task failed (injected fault)".to_string()));
        match &task.kind {
            TaskKind::Install(changes) => {
                for ch in changes {
                    let r = if error.is_some() {
                        Err(String::new())
                    } else {
                        hooks.install_addon(&ch.name, &ch.version, &c.region)
                    };
                    match r {
                        Ok(()) => {
                            if let Some(a) = c.addons.get_mut(&ch.name) {
                                a.state = "active";
                                a.pending_task = None;
                            }
                        }
                        Err(e) => {
                            if error.is_none() {
                                error =
                                    Some(("InstallAddonFailed".into(), format!("installing {} failed: {e}", ch.name)));
                            }
                            // A failed install leaves nothing installed.
                            let _ = hooks.uninstall_addon(&ch.name);
                            c.addons.remove(&ch.name);
                        }
                    }
                }
            }
            TaskKind::Upgrade(changes) => {
                for ch in changes {
                    let r = if error.is_some() {
                        Err(String::new())
                    } else {
                        hooks.install_addon(&ch.name, &ch.version, &c.region)
                    };
                    if let Some(a) = c.addons.get_mut(&ch.name) {
                        a.state = "active";
                        a.pending_task = None;
                        match r {
                            Ok(()) => {
                                a.version = ch.version.clone();
                                if let Some(cfg) = &ch.config {
                                    a.config = cfg.clone();
                                }
                            }
                            Err(e) if error.is_none() => {
                                error =
                                    Some(("UpgradeAddonFailed".into(), format!("upgrading {} failed: {e}", ch.name)));
                            }
                            Err(_) => {}
                        }
                    }
                }
            }
            TaskKind::Uninstall(names) => {
                for n in names {
                    let r = if error.is_some() { Err(String::new()) } else { hooks.uninstall_addon(n) };
                    match r {
                        Ok(()) => {
                            c.addons.remove(n);
                        }
                        Err(e) => {
                            if error.is_none() {
                                error = Some(("UninstallAddonFailed".into(), format!("uninstalling {n} failed: {e}")));
                            }
                            if let Some(a) = c.addons.get_mut(n) {
                                a.state = "active";
                                a.pending_task = None;
                            }
                        }
                    }
                }
            }
            TaskKind::NodePoolUpdate { nodepool_id, update_nodes } => {
                if let Some(pool) = c.nodepools.iter_mut().find(|p| p.id == *nodepool_id) {
                    pool.state = "active";
                    if *update_nodes {
                        if let Err(e) = sync_pool_labels(pool, hooks) {
                            error = Some(("UpdateNodePoolFailed".into(), e));
                        }
                    }
                }
            }
        }
        if let Some(t) = self.tasks.get_mut(id) {
            t.state = if error.is_some() { "failed" } else { "success" };
            t.error = error;
            t.updated = ids::now_iso();
        }
    }

    pub fn dump(&self) -> Value {
        let clusters: Vec<Value> = self
            .clusters
            .values()
            .map(|c| {
                json!({
                    "cluster_id": c.id, "name": c.name, "vpc_id": c.vpc_id,
                    "addons": c.addons.values().map(|a| json!({"name": a.name, "version": a.version, "state": a.state,
                        "config": a.config, "pending_task": a.pending_task})).collect::<Vec<_>>(),
                    "nodepools": c.nodepools.iter().map(|p| json!({"nodepool_id": p.id, "name": p.name, "zone": p.zone,
                        "state": p.state, "labels": labels_json(&p.labels)})).collect::<Vec<_>>(),
                })
            })
            .collect();
        let tasks: Vec<Value> = self
            .tasks
            .values()
            .map(|t| {
                json!({"task_id": t.id, "task_type": t.kind.type_name(), "state": t.state,
                            "addons": t.kind.addon_names()})
            })
            .collect();
        json!({"clusters": clusters, "tasks": tasks})
    }
}

/// Writes the pool's labels onto its Nodes and removes keys the pool wrote before but no longer has.
fn sync_pool_labels(pool: &mut NodePool, hooks: &dyn KubeHooks) -> Result<(), String> {
    let mut changes: Vec<(String, Option<String>)> =
        pool.labels.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect();
    for k in &pool.synced_keys {
        if !pool.labels.iter().any(|(lk, _)| lk == k) && k != NODEPOOL_LABEL {
            changes.push((k.clone(), None));
        }
    }
    let nodes = hooks.nodes();
    for n in pool_nodes(&nodes, pool) {
        hooks.set_node_labels(&n.name, &changes)?;
    }
    pool.synced_keys = pool.labels.iter().map(|(k, _)| k.clone()).collect();
    Ok(())
}

/// Whether a CS call changes state (for ambiguous-failure faults).
pub fn is_mutating(method: &str) -> bool {
    method != "GET"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("GET", "/clusters/c1"), Some(("DescribeClusterDetail", vec!["c1".to_string()])));
        assert_eq!(route("POST", "/clusters/c1/components/terway-eniip/config").unwrap().0, "ModifyClusterAddon");
        assert_eq!(route("GET", "/clusters/c1/components/version").unwrap().0, "DescribeClusterAddonsVersion");
        assert_eq!(route("GET", "/clusters/c1/components/terway-eniip/instance").unwrap().1, ["c1", "terway-eniip"]);
        assert_eq!(route("PUT", "/clusters/c1/nodepools/np1").unwrap().0, "ModifyClusterNodePool");
        assert_eq!(route("DELETE", "/clusters/c1"), None);
        assert_eq!(route("GET", "/clusters/c1/unknown"), None);
    }

    #[test]
    fn versions_and_labels() {
        assert!(version_key("v1.17.5") > version_key("v1.17.2"));
        assert!(version_key("v1.13.4") < version_key("v1.14.5"));
        assert!(valid_label_key("alibabacloud.com/external"));
        assert!(valid_label_key("team"));
        assert!(!valid_label_key("Bad Key"));
        assert!(!valid_label_key("UPPER.com/x"));
        assert!(valid_label_value("true") && valid_label_value(""));
        assert!(!valid_label_value("-x"));
    }
}

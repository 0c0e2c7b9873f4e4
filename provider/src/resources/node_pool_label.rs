//! `hybrid_node_pool_label`: labels on an existing node pool of a registered cluster (by default
//! `alibabacloud.com/external=true`, which Terway's DaemonSet selects), owning only its keys.
//!
//! ModifyClusterNodePool replaces the pool's whole label list, so every write reads the pool first
//! and changes only this resource's keys. Reads share one DescribeClusterNodePools per cluster per
//! provider run, so N label resources on a cluster cost one list call.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use crate::clients::alibaba::{self, Alibaba, CloudError, Retry};
use crate::clients::kubernetes::{self, ResourceType};
use crate::cty::{Type, Value};
use crate::framework::schema::timeouts_block;
use crate::framework::validators::Check;
use crate::framework::{model, Attribute, Block, Ctx, Diagnostics, Private, Resource, Schema};

pub struct NodePoolLabel;

const EXTERNAL_KEY: &str = "alibabacloud.com/external";
/// The label ACK puts on every Node of a node pool.
const NODEPOOL_ID_LABEL: &str = "alibabacloud.com/nodepool-id";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10 * 60);

#[derive(Serialize, Deserialize, Default, Debug, Clone)]
struct Model {
    id: Option<String>,
    cluster_id: Option<String>,
    nodepool_id: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    apply_to_nodes: Option<bool>,
    timeouts: Option<Json>,
}

impl Model {
    fn cluster(&self) -> &str {
        self.cluster_id.as_deref().unwrap_or_default()
    }
    fn pool(&self) -> &str {
        self.nodepool_id.as_deref().unwrap_or_default()
    }
    fn labels(&self) -> BTreeMap<String, String> {
        self.labels.clone().unwrap_or_default()
    }
}

/// Kubernetes label key rules: optional DNS-subdomain prefix and `/`, then a name of at most 63
/// characters of alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric.
fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn check_labels(v: &Value) -> Result<(), String> {
    let Some(map) = v.as_map() else { return Ok(()) };
    if map.is_empty() {
        return Err("give at least one label".into());
    }
    for (k, val) in map {
        let (prefix, name) = match k.rsplit_once('/') {
            Some((p, n)) => (Some(p), n),
            None => (None, k.as_str()),
        };
        let prefix_ok = prefix.is_none_or(|p| {
            !p.is_empty() && p.len() <= 253 && p.split('.').all(|part| valid_name(part) && !part.contains('_'))
        });
        if !prefix_ok || !valid_name(name) {
            return Err(format!("{k:?} is not a valid label key"));
        }
        if let Some(s) = val.as_str() {
            if !s.is_empty() && !valid_name(s) {
                return Err(format!("{s:?} (label {k}) is not a valid label value"));
            }
        }
    }
    Ok(())
}

/// The pool's labels as a map.
fn pool_labels(pool: &Json) -> BTreeMap<String, String> {
    pool["kubernetes_config"]["labels"]
        .as_array()
        .map(|ls| {
            ls.iter()
                .filter_map(|l| {
                    Some((l["key"].as_str()?.to_string(), l["value"].as_str().unwrap_or_default().to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn labels_json(labels: &BTreeMap<String, String>) -> Json {
    Json::Array(labels.iter().map(|(k, v)| json!({ "key": k, "value": v })).collect())
}

async fn cloud(ctx: &Ctx, diags: &mut Diagnostics) -> Option<Alibaba> {
    diags.capture(alibaba::from_ctx(ctx).await)
}

impl NodePoolLabel {
    /// Every pool of the cluster, listed once per provider run and shared by all label resources.
    async fn pools(a: &Alibaba, cluster: &str) -> Result<Vec<Json>, CloudError> {
        let list = a
            .memo(&format!("nodepools:{cluster}"), || async {
                a.cs(
                    "DescribeClusterNodePools",
                    Method::GET,
                    &format!("/clusters/{cluster}/nodepools"),
                    &[],
                    None,
                    Retry::Idempotent,
                )
                .await
            })
            .await?;
        Ok(list["nodepools"].as_array().cloned().unwrap_or_default())
    }

    async fn pool_detail(a: &Alibaba, cluster: &str, pool: &str) -> Result<Option<Json>, CloudError> {
        let path = format!("/clusters/{cluster}/nodepools/{pool}");
        match a.cs("DescribeClusterNodePoolDetail", Method::GET, &path, &[], None, Retry::Idempotent).await {
            Ok(p) => Ok(Some(p)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sets `set` and removes `unset` keys on the pool, leaving other labels as they are, and waits
    /// for the update. Writing the same list again has the same effect, so it is idempotent.
    async fn write(
        a: &Alibaba,
        m: &Model,
        set: &BTreeMap<String, String>,
        unset: &[String],
        timeout: Duration,
    ) -> Result<bool, CloudError> {
        let (cluster, pool) = (m.cluster(), m.pool());
        let Some(detail) = Self::pool_detail(a, cluster, pool).await? else { return Ok(false) };
        let mut labels = pool_labels(&detail);
        let before = labels.clone();
        for k in unset {
            labels.remove(k);
        }
        labels.extend(set.clone());
        let update_nodes = m.apply_to_nodes == Some(true);
        if labels != before {
            let body = json!({ "kubernetes_config": { "labels": labels_json(&labels) }, "update_nodes": update_nodes });
            let path = format!("/clusters/{cluster}/nodepools/{pool}");
            let r = a.cs("ModifyClusterNodePool", Method::PUT, &path, &[], Some(&body), Retry::Idempotent).await?;
            a.forget(&format!("nodepools:{cluster}")).await;
            if let Some(task) = r["task_id"].as_str() {
                a.wait_task(task, timeout).await?;
            }
        }
        Ok(true)
    }

    /// Puts `set` and removes `unset` on the pool's current Nodes through the Kubernetes API (the
    /// pool update only reaches Nodes created later on some clusters).
    async fn label_nodes(
        ctx: &Ctx,
        m: &Model,
        set: &BTreeMap<String, String>,
        unset: &[String],
        diags: &mut Diagnostics,
    ) {
        let Ok(kube) = kubernetes::from_ctx(ctx).await.map_err(|d| diags.extend(d)) else { return };
        let selector = format!("{NODEPOOL_ID_LABEL}={}", m.pool());
        let nodes: Vec<Json> = match kube.list(&ResourceType::NODES.collection(None), Some(&selector)).await {
            Ok(n) => n.unwrap_or_default(),
            Err(e) => return diags.extend(e.to_diagnostics("Could not list the node pool's Nodes")),
        };
        let mut patch = serde_json::Map::new();
        for k in unset {
            patch.insert(k.clone(), Json::Null);
        }
        for (k, v) in set {
            patch.insert(k.clone(), Json::String(v.clone()));
        }
        let body = json!({ "metadata": { "labels": patch } });
        for node in nodes {
            let Some(name) = node["metadata"]["name"].as_str() else { continue };
            if let Err(e) = kube.merge_patch::<Json>(&ResourceType::NODES.object(None, name), &body).await {
                diags.extend(e.to_diagnostics(&format!("Could not label Node {name}")));
            }
        }
    }
}

#[async_trait]
impl Resource for NodePoolLabel {
    fn type_name(&self) -> &'static str {
        "hybrid_node_pool_label"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new(
                "Labels on an existing node pool of a registered cluster, by default `alibabacloud.com/external = \
                 \"true\"`, the label that puts Terway on the pool's nodes and keeps the on-premises CNI off them. \
                 Owns only its label keys: other labels of the pool are left alone, and destroy removes only these.",
            )
            .attr(Attribute::string("id").computed().use_state_for_unknown().description("`cluster_id:nodepool_id`."))
            .attr(Attribute::string("cluster_id").required().requires_replace().description("ID of the registered cluster."))
            .attr(Attribute::string("nodepool_id").required().requires_replace().description("ID of the node pool (`np...`)."))
            .attr(
                Attribute::new("labels", Type::map(Type::String))
                    .optional()
                    .computed()
                    .default(Value::Map([(EXTERNAL_KEY.to_string(), Value::string("true"))].into()))
                    .description("Labels to keep on the pool. Reads report the pool's values of these keys, so a removed or changed label is drift.")
                    .validate(Check { description: "Valid Kubernetes label keys and values.", check: check_labels }),
            )
            .attr(
                Attribute::bool("apply_to_nodes")
                    .optional()
                    .computed()
                    .default(false)
                    .description(
                        "Also label the pool's current Nodes (the pool update with `update_nodes`, and the Kubernetes API \
                         for Nodes carrying `alibabacloud.com/nodepool-id`). Otherwise only nodes added later get them.",
                    ),
            )
            .block(timeouts_block(&["create", "update", "delete"])),
        )
    }

    async fn modify_plan(&self, _ctx: &Ctx, plan: &mut crate::framework::PlanRequest<'_>, _diags: &mut Diagnostics) {
        let c = plan.planned.get("cluster_id").and_then(Value::as_str).map(str::to_string);
        let p = plan.planned.get("nodepool_id").and_then(Value::as_str).map(str::to_string);
        if let (Some(c), Some(p), Value::Object(attrs)) = (c, p, &mut plan.planned) {
            attrs.insert("id".into(), Value::string(format!("{c}:{p}")));
        }
    }

    async fn create(
        &self,
        ctx: &Ctx,
        planned: &Value,
        _config: &Value,
        _private: &mut Private,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let mut m = diags.capture(model::decode::<Model>(planned))?;
        let a = cloud(ctx, diags).await?;
        let timeout = ctx.timeout(planned, "create", DEFAULT_TIMEOUT);
        match Self::write(&a, &m, &m.labels(), &[], timeout).await {
            Ok(true) => {}
            Ok(false) => {
                diags.error(
                    "Node pool not found",
                    format!("Node pool {} does not exist in cluster {}.", m.pool(), m.cluster()),
                );
                return None;
            }
            Err(e) => {
                diags.extend(e.to_diagnostics("Could not label the node pool"));
                return None;
            }
        }
        if m.apply_to_nodes == Some(true) {
            Self::label_nodes(ctx, &m, &m.labels(), &[], diags).await;
        }
        m.id = Some(format!("{}:{}", m.cluster(), m.pool()));
        self.encode_state(&m, diags)
    }

    async fn read(&self, ctx: &Ctx, state: &Value, _private: &mut Private, diags: &mut Diagnostics) -> Option<Value> {
        let mut m = diags.capture(model::decode::<Model>(state))?;
        let a = cloud(ctx, diags).await?;
        let pools = match Self::pools(&a, m.cluster()).await {
            Ok(p) => p,
            Err(e) if e.is_not_found() => return None,
            Err(e) => {
                diags.extend(e.to_diagnostics("Could not list the node pools"));
                return Some(state.clone());
            }
        };
        // The pool is gone: so is the resource.
        let pool = pools.iter().find(|p| p["nodepool_info"]["nodepool_id"].as_str() == Some(m.pool()))?;
        let actual = pool_labels(pool);
        // Only our keys: a missing one is absent from the map, so the plan shows it coming back.
        let ours: BTreeMap<String, String> =
            m.labels().keys().filter_map(|k| actual.get(k).map(|v| (k.clone(), v.clone()))).collect();
        m.labels = Some(ours);
        self.encode_state(&m, diags)
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &Value,
        _config: &Value,
        _private: &mut Private,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let old = diags.capture(model::decode::<Model>(prior))?;
        let m = diags.capture(model::decode::<Model>(planned))?;
        let a = cloud(ctx, diags).await?;
        let timeout = ctx.timeout(planned, "update", DEFAULT_TIMEOUT);
        let dropped: Vec<String> = old.labels().keys().filter(|k| !m.labels().contains_key(*k)).cloned().collect();
        if let Err(e) = Self::write(&a, &m, &m.labels(), &dropped, timeout).await {
            diags.extend(e.to_diagnostics("Could not update the node pool labels"));
            return Some(prior.clone());
        }
        if m.apply_to_nodes == Some(true) {
            Self::label_nodes(ctx, &m, &m.labels(), &dropped, diags).await;
        }
        self.encode_state(&m, diags)
    }

    async fn delete(&self, ctx: &Ctx, prior: &Value, _private: &Private, diags: &mut Diagnostics) {
        let Some(m) = diags.capture(model::decode::<Model>(prior)) else { return };
        let Some(a) = cloud(ctx, diags).await else { return };
        let timeout = ctx.timeout(prior, "delete", DEFAULT_TIMEOUT);
        let keys: Vec<String> = m.labels().keys().cloned().collect();
        match Self::write(&a, &m, &BTreeMap::new(), &keys, timeout).await {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return diags.extend(e.to_diagnostics("Could not remove the node pool labels")),
        }
        if m.apply_to_nodes == Some(true) {
            Self::label_nodes(ctx, &m, &BTreeMap::new(), &keys, diags).await;
        }
    }

    async fn import(&self, _ctx: &Ctx, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        let Some((c, p)) = id.split_once(':').filter(|(c, p)| !c.is_empty() && !p.is_empty()) else {
            diags.error("Invalid import ID", format!("{id:?} is not `cluster_id:nodepool_id`."));
            return None;
        };
        let m = Model {
            id: Some(id.into()),
            cluster_id: Some(c.into()),
            nodepool_id: Some(p.into()),
            labels: Some([(EXTERNAL_KEY.to_string(), "true".to_string())].into()),
            apply_to_nodes: Some(false),
            timeouts: None,
        };
        self.encode_state(&m, diags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_rules() {
        let map = |k: &str, v: &str| Value::Map([(k.to_string(), Value::string(v))].into());
        assert!(check_labels(&map("alibabacloud.com/external", "true")).is_ok());
        assert!(check_labels(&map("team", "")).is_ok());
        assert!(check_labels(&map("bad key", "x")).unwrap_err().contains("label key"));
        assert!(check_labels(&map("a/b/c", "x")).is_err());
        assert!(check_labels(&map("k", "-x")).unwrap_err().contains("label value"));
        assert!(check_labels(&Value::Map(Default::default())).is_err());
    }

    #[test]
    fn pool_labels_read_as_a_map() {
        let pool = json!({"kubernetes_config": {"labels": [{"key": "a", "value": "1"}, {"key": "b", "value": ""}]}});
        let l = pool_labels(&pool);
        assert_eq!(l.get("a").map(String::as_str), Some("1"));
        assert_eq!(labels_json(&l), pool["kubernetes_config"]["labels"]);
    }
}

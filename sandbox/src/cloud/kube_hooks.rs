//! What the cloud side changes in the cluster, behind a small trait so the cloud APIs can be
//! tested without the Kubernetes store (and the store without the cloud).

use crate::kube::addons;
use crate::kube::resources::ResourceRef;
use crate::kube::store::Store;
use serde_json::Value;
use std::sync::Arc;

/// A Node as the cloud side sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub internal_ip: String,
    /// `<region>.<instance-id>` for ECS nodes.
    pub provider_id: Option<String>,
    pub created: String,
    pub ready: bool,
}

impl NodeInfo {
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The ECS instance ID, from the provider ID.
    pub fn instance_id(&self) -> Option<&str> {
        self.provider_id.as_deref().and_then(|p| p.rsplit('.').next())
    }
}

pub trait KubeHooks: Send + Sync {
    /// Creates or replaces the objects of an installed addon (only `terway-eniip` has any).
    fn install_addon(&self, name: &str, version: &str, region: &str) -> Result<(), String>;
    /// Removes the objects of an addon; absent objects are fine.
    fn uninstall_addon(&self, name: &str) -> Result<(), String>;
    fn nodes(&self) -> Vec<NodeInfo>;
    /// Sets (`Some`) or removes (`None`) labels on one Node.
    fn set_node_labels(&self, node: &str, labels: &[(String, Option<String>)]) -> Result<(), String>;
}

/// The hooks backed by the sandbox's Kubernetes store.
pub struct StoreHooks(pub Arc<Store>);

const MANAGER: &str = "ack-cloud-controller";

impl KubeHooks for StoreHooks {
    fn install_addon(&self, name: &str, version: &str, region: &str) -> Result<(), String> {
        if name == addons::TERWAY_DAEMONSET {
            addons::install_terway_eniip(&self.0, version, region).map_err(|e| e.message.clone())?;
        }
        Ok(())
    }

    fn uninstall_addon(&self, name: &str) -> Result<(), String> {
        if name == addons::TERWAY_DAEMONSET {
            addons::uninstall_terway_eniip(&self.0).map_err(|e| e.message.clone())?;
        }
        Ok(())
    }

    fn nodes(&self) -> Vec<NodeInfo> {
        let Ok(list) = self.0.list(&ResourceRef::nodes(), None, None, None) else {
            return Vec::new();
        };
        list.items.iter().map(node_info).collect()
    }

    fn set_node_labels(&self, node: &str, labels: &[(String, Option<String>)]) -> Result<(), String> {
        let pairs: Vec<(&str, Option<&str>)> = labels.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
        self.0.set_node_labels(node, &pairs, MANAGER).map(|_| ()).map_err(|e| e.message.clone())
    }
}

fn node_info(n: &Value) -> NodeInfo {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let labels = n["metadata"]["labels"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), s(v))).collect())
        .unwrap_or_default();
    let internal_ip = n["status"]["addresses"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["type"] == "InternalIP"))
        .map(|x| s(&x["address"]))
        .unwrap_or_default();
    let ready = n["status"]["conditions"]
        .as_array()
        .map(|c| c.iter().any(|x| x["type"] == "Ready" && x["status"] == "True"))
        .unwrap_or(false);
    NodeInfo {
        name: s(&n["metadata"]["name"]),
        labels,
        internal_ip,
        provider_id: n["spec"]["providerID"].as_str().map(str::to_string),
        created: s(&n["metadata"]["creationTimestamp"]),
        ready,
    }
}

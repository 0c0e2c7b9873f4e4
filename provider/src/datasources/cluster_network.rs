//! `hybrid_cluster_network`: what the registered cluster's on-premises network is, read from the
//! cluster itself (CNI DaemonSets, Calico IPPools or the tigera Installation, the flannel and Cilium
//! ConfigMaps, and the Nodes), so a configuration can pick the matching setup.

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value as Json;

use crate::clients::kubernetes::{self, Kube, KubeError, ResourceType};
use crate::cty::{Type, Value};
use crate::framework::validators::Check;
use crate::framework::{model, AttrPath, Attribute, Block, Ctx, DataSource, Diagnostics, Schema};

pub struct ClusterNetwork;

const DEFAULT_CLOUD_LABEL: &str = "alibabacloud.com/external=true";

#[derive(Serialize, Default, Debug, PartialEq)]
struct State {
    cloud_node_label: String,
    cni: String,
    mode: String,
    scenario: String,
    cni_namespace: Option<String>,
    cni_daemonset: Option<String>,
    operator_managed: bool,
    pod_cidrs: Vec<String>,
    cloud_nodes: Vec<String>,
    onprem_nodes: Vec<String>,
}

/// The CNI a DaemonSet belongs to, by its well-known name.
fn cni_of(name: &str) -> Option<&'static str> {
    match name {
        "calico-node" => Some("calico"),
        "cilium" => Some("cilium"),
        n if n.starts_with("kube-flannel") || n == "flannel" => Some("flannel"),
        _ => None,
    }
}

/// Calico's mode from IPPools (`ipipMode`/`vxlanMode`: `Always` or `CrossSubnet` encapsulate).
fn calico_mode_from_ippools(pools: &[Json]) -> (String, Vec<String>) {
    let on = |p: &Json, k: &str| p["spec"][k].as_str().is_some_and(|m| m == "Always" || m == "CrossSubnet");
    let enabled: Vec<&Json> = pools.iter().filter(|p| p["spec"]["disabled"].as_bool() != Some(true)).collect();
    let mode = if enabled.iter().any(|p| on(p, "vxlanMode")) {
        "vxlan"
    } else if enabled.iter().any(|p| on(p, "ipipMode")) {
        "ipip"
    } else {
        "bgp"
    };
    (mode.into(), enabled.iter().filter_map(|p| p["spec"]["cidr"].as_str().map(str::to_string)).collect())
}

/// Calico's mode from the tigera Installation (`calicoNetwork.ipPools[].encapsulation`).
fn calico_mode_from_installation(inst: &Json) -> (String, Vec<String>) {
    let pools = inst["spec"]["calicoNetwork"]["ipPools"].as_array().cloned().unwrap_or_default();
    let enc: Vec<&str> = pools.iter().filter_map(|p| p["encapsulation"].as_str()).collect();
    let mode = if enc.iter().any(|e| e.starts_with("VXLAN")) {
        "vxlan"
    } else if enc.iter().any(|e| e.starts_with("IPIP")) {
        "ipip"
    } else {
        "bgp"
    };
    (mode.into(), pools.iter().filter_map(|p| p["cidr"].as_str().map(str::to_string)).collect())
}

/// Flannel's backend (`vxlan`, `host-gw`, ...) and network from `net-conf.json`.
fn flannel_mode(net_conf: &str) -> (String, Vec<String>) {
    let j: Json = serde_json::from_str(net_conf).unwrap_or(Json::Null);
    let backend = j["Backend"]["Type"].as_str().unwrap_or("udp").to_ascii_lowercase();
    let cidrs = ["Network", "IPv6Network"].iter().filter_map(|k| j[*k].as_str().map(str::to_string)).collect();
    (backend, cidrs)
}

/// Cilium's datapath from `cilium-config`: `routing-mode` (newer) or `tunnel` (older).
fn cilium_mode(data: &Json) -> (String, Vec<String>) {
    let routing = data["routing-mode"].as_str();
    let tunnel = data["tunnel-protocol"].as_str().or(data["tunnel"].as_str());
    let mode = match (routing, tunnel) {
        (Some("native"), _) | (None, Some("disabled")) => "native",
        (_, Some(t)) if t != "disabled" => t,
        _ => "vxlan", // Cilium's default datapath is a VXLAN tunnel
    };
    let cidrs = ["cluster-pool-ipv4-cidr", "cluster-pool-ipv6-cidr"]
        .iter()
        .filter_map(|k| data[*k].as_str())
        .flat_map(|s| s.split([' ', ',']).filter(|c| !c.is_empty()).map(str::to_string))
        .collect();
    (mode.to_string(), cidrs)
}

/// The runbook's scenario: encapsulating overlays are `overlay`; routed pod networks (Calico BGP,
/// flannel host-gw, Cilium native routing) are `bgp`, whose pod CIDRs must be routed between the IDC
/// and the VPC; no CNI DaemonSet is `host-network`.
fn scenario(cni: &str, mode: &str) -> &'static str {
    match (cni, mode) {
        ("none", _) => "host-network",
        (_, "bgp" | "host-gw" | "native") => "bgp",
        _ => "overlay",
    }
}

fn parse_label(s: &str) -> Option<(&str, &str)> {
    let (k, v) = s.split_once('=')?;
    (!k.is_empty()).then_some((k, v))
}

async fn inspect(kube: &Kube, label: &str) -> Result<State, KubeError> {
    let (key, value) = parse_label(label).unwrap_or(("alibabacloud.com/external", "true"));
    let mut st =
        State { cloud_node_label: label.to_string(), cni: "none".into(), mode: "none".into(), ..Default::default() };

    let daemonsets: Vec<Json> = kube.list(&ResourceType::DAEMONSETS.collection(None), None).await?.unwrap_or_default();
    let found = daemonsets.iter().find_map(|ds| {
        let name = ds["metadata"]["name"].as_str()?;
        Some((cni_of(name)?, ds))
    });
    if let Some((cni, ds)) = found {
        let ns = ds["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
        st.cni = cni.into();
        st.cni_daemonset = ds["metadata"]["name"].as_str().map(str::to_string);
        st.operator_managed = ds["metadata"]["ownerReferences"].as_array().is_some_and(|rs| {
            rs.iter().any(|r| r["apiVersion"].as_str().is_some_and(|a| a.starts_with("operator.tigera.io")))
        });
        let (mode, cidrs) = match cni {
            "calico" => {
                let pools: Option<Vec<Json>> = kube.list(&ResourceType::CALICO_IPPOOLS.collection(None), None).await?;
                match pools.filter(|p| !p.is_empty()) {
                    Some(pools) => calico_mode_from_ippools(&pools),
                    None => {
                        match kube.get::<Json>(&ResourceType::TIGERA_INSTALLATIONS.object(None, "default")).await? {
                            Some(inst) => calico_mode_from_installation(&inst),
                            None => ("bgp".into(), Vec::new()),
                        }
                    }
                }
            }
            "flannel" => {
                let cm: Option<Json> =
                    kube.get(&ResourceType::CONFIGMAPS.object(Some(&ns), "kube-flannel-cfg")).await?;
                flannel_mode(cm.as_ref().and_then(|c| c["data"]["net-conf.json"].as_str()).unwrap_or("{}"))
            }
            _ => {
                let cm: Option<Json> = kube.get(&ResourceType::CONFIGMAPS.object(Some(&ns), "cilium-config")).await?;
                cilium_mode(cm.as_ref().map(|c| &c["data"]).unwrap_or(&Json::Null))
            }
        };
        st.cni_namespace = Some(ns);
        st.mode = mode;
        st.pod_cidrs = cidrs;
    }
    st.scenario = scenario(&st.cni, &st.mode).into();

    let nodes: Vec<Json> = kube.list(&ResourceType::NODES.collection(None), None).await?.unwrap_or_default();
    for n in &nodes {
        let Some(name) = n["metadata"]["name"].as_str() else { continue };
        if n["metadata"]["labels"][key].as_str() == Some(value) {
            st.cloud_nodes.push(name.to_string());
        } else {
            st.onprem_nodes.push(name.to_string());
        }
    }
    st.cloud_nodes.sort();
    st.onprem_nodes.sort();
    Ok(st)
}

#[async_trait]
impl DataSource for ClusterNetwork {
    fn type_name(&self) -> &'static str {
        "hybrid_cluster_network"
    }

    fn schema(&self) -> Schema {
        let computed = |name: &str, d: &str| Attribute::string(name).computed().description(d);
        let names = |name: &str, d: &str| Attribute::new(name, Type::list(Type::String)).computed().description(d);
        Schema::new(
            0,
            Block::new(
                "Inspects the registered cluster's on-premises network: which CNI runs (from its DaemonSet), in which \
                 mode (Calico IPPools or tigera Installation, flannel `net-conf.json`, `cilium-config`), which \
                 hybrid-network scenario that is, and which nodes are cloud nodes.",
            )
            .attr(
                Attribute::string("cloud_node_label")
                    .optional()
                    .computed()
                    .default(DEFAULT_CLOUD_LABEL)
                    .description("`key=value` label of cloud nodes.")
                    .validate(Check {
                        description: "A `key=value` label.",
                        check: |v: &Value| {
                            parse_label(v.as_str().unwrap_or_default())
                                .map(|_| ())
                                .ok_or_else(|| "expected key=value, e.g. alibabacloud.com/external=true".to_string())
                        },
                    }),
            )
            .attr(computed("cni", "On-premises CNI: `calico`, `flannel`, `cilium` or `none`."))
            .attr(computed(
                "mode",
                "The CNI's datapath: Calico `bgp`, `ipip`, `vxlan`; flannel's backend (`vxlan`, `host-gw`, ...); Cilium \
                 `native` or its tunnel protocol (`vxlan`, `geneve`); `none` without a CNI.",
            ))
            .attr(computed(
                "scenario",
                "`overlay` (encapsulating: Calico IPIP/VXLAN, flannel VXLAN, Cilium tunnel), `bgp` (routed pod \
                 network: Calico BGP, flannel host-gw, Cilium native routing) or `host-network` (no CNI DaemonSet).",
            ))
            .attr(computed("cni_namespace", "Namespace of the CNI DaemonSet (null without one)."))
            .attr(computed(
                "cni_daemonset",
                "Name of the CNI DaemonSet (null without one); feeds `hybrid_cni_affinity_patch`.",
            ))
            .attr(
                Attribute::bool("operator_managed")
                    .computed()
                    .description("Whether the tigera operator owns the CNI DaemonSet."),
            )
            .attr(names("pod_cidrs", "Pod CIDRs of the on-premises CNI."))
            .attr(names("cloud_nodes", "Names of the nodes carrying `cloud_node_label`, sorted."))
            .attr(names("onprem_nodes", "Names of the other nodes, sorted.")),
        )
    }

    async fn read(&self, ctx: &Ctx, config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let label = config.get("cloud_node_label").and_then(Value::as_str).unwrap_or(DEFAULT_CLOUD_LABEL).to_string();
        let kube = kubernetes::from_ctx(ctx).await.map_err(|d| diags.extend(d)).ok()?;
        match inspect(&kube, &label).await {
            Ok(st) => model::encode(&st, &self.schema().value_type()).map_err(|d| diags.extend(d)).ok(),
            Err(e) => {
                let mut d = e.to_diagnostics("Could not inspect the cluster network");
                if d.is_empty() {
                    d.error_at(AttrPath::root(), "Could not inspect the cluster network", e.to_string());
                }
                diags.extend(d);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn calico_modes_from_ippools() {
        let pool =
            |ipip: &str, vxlan: &str| json!({"spec": {"cidr": "10.244.0.0/16", "ipipMode": ipip, "vxlanMode": vxlan}});
        assert_eq!(calico_mode_from_ippools(&[pool("Never", "Never")]).0, "bgp");
        assert_eq!(calico_mode_from_ippools(&[pool("CrossSubnet", "Never")]).0, "ipip");
        assert_eq!(calico_mode_from_ippools(&[pool("Never", "Always")]).0, "vxlan");
        assert_eq!(calico_mode_from_ippools(&[pool("Never", "Never")]).1, vec!["10.244.0.0/16"]);
    }

    #[test]
    fn calico_modes_from_the_installation() {
        let inst = |enc: &str| json!({"spec": {"calicoNetwork": {"ipPools": [{"cidr": "10.0.0.0/16", "encapsulation": enc}]}}});
        assert_eq!(calico_mode_from_installation(&inst("None")).0, "bgp");
        assert_eq!(calico_mode_from_installation(&inst("IPIPCrossSubnet")).0, "ipip");
        assert_eq!(calico_mode_from_installation(&inst("VXLAN")).0, "vxlan");
    }

    #[test]
    fn flannel_and_cilium_modes() {
        assert_eq!(
            flannel_mode(r#"{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}"#),
            ("vxlan".into(), vec!["10.244.0.0/16".into()])
        );
        assert_eq!(flannel_mode(r#"{"Backend":{"Type":"host-gw"}}"#).0, "host-gw");
        assert_eq!(cilium_mode(&json!({"routing-mode": "native"})).0, "native");
        assert_eq!(cilium_mode(&json!({"tunnel": "geneve"})).0, "geneve");
        assert_eq!(cilium_mode(&json!({})).0, "vxlan");
    }

    #[test]
    fn scenarios() {
        assert_eq!(scenario("none", "none"), "host-network");
        assert_eq!(scenario("calico", "bgp"), "bgp");
        assert_eq!(scenario("calico", "ipip"), "overlay");
        assert_eq!(scenario("flannel", "vxlan"), "overlay");
        assert_eq!(scenario("flannel", "host-gw"), "bgp");
        assert_eq!(scenario("cilium", "native"), "bgp");
    }
}

//! `hybrid_cluster_network`: what the registered cluster's on-premises network is, read from the
//! cluster itself so a configuration can pick the runbook's matching setup.
//!
//! - The CNI comes from its DaemonSet (well-known name or `k8s-app`/`app` label).
//! - Its datapath mode: Calico from the `crd.projectcalico.org` IPPools, else the tigera operator's
//!   `Installation`, else calico-node's startup settings (which create the first pool); flannel from
//!   `net-conf.json` in the ConfigMap its DaemonSet mounts; Cilium from `cilium-config`.
//! - The scenario that mode implies, and which nodes are cloud nodes.
//!
//! A CRD or object that does not exist (404) is an answer ("not installed"), never an error; an
//! unreachable or refusing API server is.

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value as Json;

use crate::clients::kubernetes::{self, Kube, KubeError, ResourceType};
use crate::cty::{Type, Value};
use crate::framework::validators::Check;
use crate::framework::{model, Attribute, Block, Ctx, DataSource, Diagnostics, Schema};

pub struct ClusterNetwork;

const DEFAULT_CLOUD_LABEL: &str = "alibabacloud.com/external=true";

/// The tigera operator's Installation is a singleton named `default`.
const TIGERA_INSTALLATION: &str = "default";
/// Where the tigera operator puts calico-node.
const TIGERA_NAMESPACE: &str = "calico-system";

/// Modes whose pod traffic crosses nodes encapsulated: cloud nodes can join the on-prem overlay.
const ENCAPSULATING: &[&str] = &["ipip", "vxlan", "geneve", "udp", "wireguard", "ipsec"];
/// Modes whose pod traffic is routed unencapsulated (BGP, or direct routes between nodes).
const ROUTED: &[&str] = &["bgp", "host-gw", "native"];

/// What the data source reports (the schema's attributes).
#[derive(Serialize, Debug, PartialEq)]
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

/// The on-prem CNIs recognised; their names are also `hybrid_cni_affinity_patch` presets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cni {
    Calico,
    Flannel,
    Cilium,
}

impl Cni {
    fn as_str(self) -> &'static str {
        match self {
            Cni::Calico => "calico",
            Cni::Flannel => "flannel",
            Cni::Cilium => "cilium",
        }
    }
}

/// Which CNI a DaemonSet runs, by its well-known name or label. Companions such as
/// `calico-node-windows` or `cilium-envoy` carry other names and labels, so they are not matched.
fn cni_of_daemonset(ds: &Json) -> Option<Cni> {
    let name = ds["metadata"]["name"].as_str().unwrap_or_default();
    let labels = &ds["metadata"]["labels"];
    let k8s_app = labels["k8s-app"].as_str().unwrap_or_default();
    let app = labels["app"].as_str().unwrap_or_default();
    if name == "calico-node" || k8s_app == "calico-node" {
        Some(Cni::Calico)
    } else if name == "cilium" || k8s_app == "cilium" {
        Some(Cni::Cilium)
    } else if name.starts_with("kube-flannel-ds") || name == "canal" || app == "flannel" || k8s_app == "canal" {
        // Canal is Calico policy on flannel networking: its datapath is flannel's.
        Some(Cni::Flannel)
    } else {
        None
    }
}

/// Whether the tigera operator owns a DaemonSet (it sets itself as controlling owner).
fn owned_by_tigera_operator(ds: &Json) -> bool {
    ds["metadata"]["ownerReferences"].as_array().is_some_and(|refs| {
        refs.iter().any(|r| {
            r["kind"] == "Installation"
                && r["apiVersion"].as_str().is_some_and(|a| a.starts_with("operator.tigera.io/"))
        })
    })
}

/// A CNI's datapath as read from its objects. `note` says why `mode` is `unknown`.
#[derive(Debug, PartialEq)]
struct Datapath {
    mode: String,
    pod_cidrs: Vec<String>,
    note: Option<String>,
}

impl Datapath {
    fn new(mode: &str, pod_cidrs: Vec<String>) -> Self {
        Datapath { mode: mode.to_string(), pod_cidrs: dedup(pod_cidrs), note: None }
    }
    fn unknown(note: String) -> Self {
        Datapath { mode: "unknown".into(), pod_cidrs: Vec::new(), note: Some(note) }
    }
}

fn dedup(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// The most encapsulating of several pools' modes: if any pool encapsulates, cross-node pod
/// traffic from it does, so the cluster needs the overlay.
fn strongest(modes: &[&str]) -> &'static str {
    ["vxlan", "ipip", "bgp"].into_iter().find(|m| modes.contains(m)).unwrap_or("unknown")
}

/// Whether an IPPool `ipipMode`/`vxlanMode` encapsulates: `Always` and `CrossSubnet` do (an IDC
/// and a VPC are different subnets); `Never` (legacy `Off`) or no value does not.
fn pool_encapsulates(mode: Option<&str>) -> bool {
    mode.is_some_and(|m| !matches!(m.to_ascii_lowercase().as_str(), "" | "never" | "off"))
}

/// Calico's datapath from `crd.projectcalico.org/v1` IPPools (disabled pools ignored); `None`
/// when there is no enabled pool to read.
fn calico_from_ippools(pools: &[Json]) -> Option<Datapath> {
    let enabled: Vec<&Json> = pools.iter().filter(|p| p["spec"]["disabled"].as_bool() != Some(true)).collect();
    if enabled.is_empty() {
        return None;
    }
    let modes: Vec<&str> = enabled
        .iter()
        .map(|p| {
            if pool_encapsulates(p["spec"]["vxlanMode"].as_str()) {
                "vxlan"
            } else if pool_encapsulates(p["spec"]["ipipMode"].as_str()) {
                "ipip"
            } else {
                "bgp"
            }
        })
        .collect();
    let cidrs = enabled.iter().filter_map(|p| p["spec"]["cidr"].as_str().map(str::to_string)).collect();
    Some(Datapath::new(strongest(&modes), cidrs))
}

/// Calico's datapath from the tigera `Installation` (`spec.calicoNetwork.ipPools[].encapsulation`:
/// `IPIP`, `IPIPCrossSubnet`, `VXLAN`, `VXLANCrossSubnet` or `None`; the operator defaults to
/// `IPIP`). `None` when it lists no pools.
fn calico_from_installation(inst: &Json) -> Option<Datapath> {
    let pools = inst["spec"]["calicoNetwork"]["ipPools"].as_array().filter(|p| !p.is_empty())?;
    let mut modes = Vec::new();
    for p in pools {
        let enc = p["encapsulation"].as_str().unwrap_or("IPIP");
        modes.push(match enc {
            "None" => "bgp",
            e if e.starts_with("VXLAN") => "vxlan",
            e if e.starts_with("IPIP") => "ipip",
            other => {
                return Some(Datapath::unknown(format!(
                    "The tigera Installation names an unknown IP pool encapsulation {other:?}."
                )))
            }
        });
    }
    let cidrs = pools.iter().filter_map(|p| p["cidr"].as_str().map(str::to_string)).collect();
    Some(Datapath::new(strongest(&modes), cidrs))
}

/// A literal environment variable of the DaemonSet's container `container`.
fn container_env<'a>(ds: &'a Json, container: &str, name: &str) -> Option<&'a str> {
    let containers = ds["spec"]["template"]["spec"]["containers"].as_array()?;
    let c = containers.iter().find(|c| c["name"] == container)?;
    let env = c["env"].as_array()?;
    env.iter().find(|e| e["name"] == name)?["value"].as_str()
}

/// Calico's datapath from calico-node's startup settings, which create the default IPPool when
/// none exists: `CALICO_IPV4POOL_VXLAN` (default `Never`), `CALICO_IPV4POOL_IPIP` (default
/// `Always`), `CALICO_IPV4POOL_CIDR` / `CALICO_IPV6POOL_CIDR`.
fn calico_from_env(ds: &Json) -> Datapath {
    let env = |n: &str| container_env(ds, "calico-node", n);
    let mode = if pool_encapsulates(env("CALICO_IPV4POOL_VXLAN")) {
        "vxlan"
    } else if pool_encapsulates(Some(env("CALICO_IPV4POOL_IPIP").unwrap_or("Always"))) {
        "ipip"
    } else {
        "bgp"
    };
    let cidrs = ["CALICO_IPV4POOL_CIDR", "CALICO_IPV6POOL_CIDR"].iter().filter_map(|n| env(n)).map(str::to_string);
    Datapath::new(mode, cidrs.collect())
}

/// Flannel's datapath from `net-conf.json`: `Backend.Type` (flannel defaults to `udp`) and the
/// `Network` / `IPv6Network` CIDRs.
fn flannel_from_net_conf(text: &str) -> Datapath {
    match serde_json::from_str::<Json>(text) {
        Ok(conf) if conf.is_object() => {
            let backend = conf["Backend"]["Type"].as_str().unwrap_or("udp").to_ascii_lowercase();
            let cidrs = ["Network", "IPv6Network"].iter().filter_map(|k| conf[*k].as_str()).map(str::to_string);
            Datapath::new(&backend, cidrs.collect())
        }
        Ok(_) => Datapath::unknown("flannel's net-conf.json is not a JSON object.".into()),
        Err(e) => Datapath::unknown(format!("flannel's net-conf.json is not valid JSON: {e}.")),
    }
}

/// Cilium's datapath from `cilium-config` data: `routing-mode` (`native`, or `tunnel` with
/// `tunnel-protocol`) since 1.14, `tunnel` (`vxlan`, `geneve`, `disabled`) before; a VXLAN tunnel
/// when neither is set. Pod CIDRs of the cluster-pool IPAM.
fn cilium_from_config(data: &Json) -> Datapath {
    let routing = data["routing-mode"].as_str();
    let protocol = data["tunnel-protocol"].as_str();
    let legacy = data["tunnel"].as_str();
    let mode = match (routing, legacy) {
        (Some("native"), _) | (None, Some("disabled")) => "native",
        (Some("tunnel") | None, _) => protocol.or(legacy.filter(|t| *t != "disabled")).unwrap_or("vxlan"),
        (Some(other), _) => return Datapath::unknown(format!("cilium-config has an unknown routing-mode {other:?}.")),
    };
    let cidrs = ["cluster-pool-ipv4-cidr", "cluster-pool-ipv6-cidr"]
        .iter()
        .filter_map(|k| data[*k].as_str())
        .flat_map(|s| s.split([' ', ',']).filter(|c| !c.is_empty()).map(str::to_string))
        .collect();
    Datapath::new(&mode.to_ascii_lowercase(), cidrs)
}

/// The runbook's scenario for a CNI and mode (see the `scenario` attribute's description).
fn scenario(cni: Option<Cni>, mode: &str) -> &'static str {
    match cni {
        None => "host-network",
        Some(_) if ROUTED.contains(&mode) => "bgp",
        Some(_) if ENCAPSULATING.contains(&mode) => "overlay",
        Some(_) => "unknown",
    }
}

/// `key=value` of `cloud_node_label` (the value may be empty).
fn parse_label(s: &str) -> Option<(&str, &str)> {
    let (k, v) = s.split_once('=')?;
    (!k.is_empty() && !v.contains('=')).then_some((k, v))
}

/// The ConfigMaps a DaemonSet mounts as volumes, in order.
fn mounted_configmaps(ds: &Json) -> Vec<String> {
    let volumes = ds["spec"]["template"]["spec"]["volumes"].as_array().cloned().unwrap_or_default();
    volumes.iter().filter_map(|v| v["configMap"]["name"].as_str().map(str::to_string)).collect()
}

/// Reads the cluster. Anomalies that are not errors (an undeterminable mode, several CNIs) come
/// back as warning texts.
async fn inspect(kube: &Kube, cloud_label: (&str, &str)) -> Result<(State, Vec<String>), KubeError> {
    let mut warnings = Vec::new();
    let daemonsets: Vec<Json> = kube.list(&ResourceType::DAEMONSETS.collection(None), None).await?.unwrap_or_default();
    let cnis: Vec<(Cni, &Json)> = daemonsets.iter().filter_map(|ds| Some((cni_of_daemonset(ds)?, ds))).collect();
    if cnis.len() > 1 {
        let names: Vec<String> = cnis.iter().map(|(_, ds)| object_name(ds)).collect();
        warnings.push(format!(
            "Several CNI DaemonSets exist ({}); reporting the first. Check which one networks the on-premises nodes.",
            names.join(", ")
        ));
    }

    let mut st = State {
        cloud_node_label: format!("{}={}", cloud_label.0, cloud_label.1),
        cni: "none".into(),
        mode: "none".into(),
        scenario: String::new(),
        cni_namespace: None,
        cni_daemonset: None,
        operator_managed: false,
        pod_cidrs: Vec::new(),
        cloud_nodes: Vec::new(),
        onprem_nodes: Vec::new(),
    };
    let first = cnis.first().copied();
    if let Some((cni, ds)) = first {
        let ns = ds["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
        let (datapath, operator) = match cni {
            Cni::Calico => calico(kube, ds, &ns).await?,
            Cni::Flannel => (flannel(kube, ds, &ns).await?, false),
            Cni::Cilium => (cilium(kube, &ns).await?, false),
        };
        warnings.extend(datapath.note);
        st.cni = cni.as_str().into();
        st.cni_daemonset = ds["metadata"]["name"].as_str().map(str::to_string);
        st.cni_namespace = Some(ns);
        st.operator_managed = operator;
        st.mode = datapath.mode;
        st.pod_cidrs = datapath.pod_cidrs;
    }
    st.scenario = scenario(first.map(|(c, _)| c), &st.mode).into();
    // An unknown mode already came with its reason; a known mode outside the mapping did not.
    if st.scenario == "unknown" && st.mode != "unknown" {
        warnings
            .push(format!("The {} mode {:?} maps to no known scenario; `scenario` is \"unknown\".", st.cni, st.mode));
    }

    let nodes: Vec<Json> = kube.list(&ResourceType::NODES.collection(None), None).await?.unwrap_or_default();
    for n in &nodes {
        let Some(name) = n["metadata"]["name"].as_str() else { continue };
        if n["metadata"]["labels"][cloud_label.0].as_str() == Some(cloud_label.1) {
            st.cloud_nodes.push(name.to_string());
        } else {
            st.onprem_nodes.push(name.to_string());
        }
    }
    st.cloud_nodes.sort();
    st.onprem_nodes.sort();
    Ok((st, warnings))
}

fn object_name(o: &Json) -> String {
    format!(
        "{}/{}",
        o["metadata"]["namespace"].as_str().unwrap_or_default(),
        o["metadata"]["name"].as_str().unwrap_or_default()
    )
}

/// Calico's datapath and whether the tigera operator manages it.
async fn calico(kube: &Kube, ds: &Json, ns: &str) -> Result<(Datapath, bool), KubeError> {
    let installation: Option<Json> =
        kube.get(&ResourceType::TIGERA_INSTALLATIONS.object(None, TIGERA_INSTALLATION)).await?;
    // Owner references are the operator's mark; an Installation with calico-node in the
    // operator's namespace is the same install before the references are read back.
    let operator = owned_by_tigera_operator(ds) || (installation.is_some() && ns == TIGERA_NAMESPACE);
    let pools: Vec<Json> = kube.list(&ResourceType::CALICO_IPPOOLS.collection(None), None).await?.unwrap_or_default();
    let datapath = calico_from_ippools(&pools)
        .or_else(|| installation.as_ref().filter(|_| operator).and_then(calico_from_installation))
        .unwrap_or_else(|| calico_from_env(ds));
    Ok((datapath, operator))
}

/// Flannel's datapath from the first mounted ConfigMap with `net-conf.json` (`kube-flannel-cfg`,
/// or `canal-config` for Canal).
async fn flannel(kube: &Kube, ds: &Json, ns: &str) -> Result<Datapath, KubeError> {
    let mut candidates = mounted_configmaps(ds);
    candidates.push("kube-flannel-cfg".into());
    for name in dedup(candidates) {
        let cm: Option<Json> = kube.get(&ResourceType::CONFIGMAPS.object(Some(ns), &name)).await?;
        if let Some(text) = cm.as_ref().and_then(|c| c["data"]["net-conf.json"].as_str()) {
            return Ok(flannel_from_net_conf(text));
        }
    }
    Ok(Datapath::unknown(format!(
        "No ConfigMap in namespace {ns} that the flannel DaemonSet mounts has a net-conf.json key."
    )))
}

/// Cilium's datapath from `cilium-config` in the DaemonSet's namespace.
async fn cilium(kube: &Kube, ns: &str) -> Result<Datapath, KubeError> {
    let cm: Option<Json> = kube.get(&ResourceType::CONFIGMAPS.object(Some(ns), "cilium-config")).await?;
    Ok(match cm {
        Some(cm) => cilium_from_config(&cm["data"]),
        None => Datapath::unknown(format!("ConfigMap {ns}/cilium-config does not exist.")),
    })
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
                "Inspects the registered cluster's on-premises network through the Kubernetes API: which CNI runs \
                 (from its DaemonSet), in which mode (Calico IPPools or the tigera Installation, flannel \
                 `net-conf.json`, `cilium-config`), which hybrid-network scenario of the runbook that is, and which \
                 nodes are cloud nodes. Objects that do not exist (a CRD not installed, a ConfigMap missing) are \
                 answers, not errors; a cluster that cannot be reached is an error.",
            )
            .attr(
                Attribute::string("cloud_node_label")
                    .optional()
                    .computed()
                    .default(DEFAULT_CLOUD_LABEL)
                    .description("Label of cloud nodes as `key=value`; nodes from the registered cluster's node pools carry `alibabacloud.com/external=true`.")
                    .validate(Check {
                        description: "Must be `key=value` (the value may be empty).",
                        check: |v: &Value| {
                            parse_label(v.as_str().unwrap_or_default())
                                .map(|_| ())
                                .ok_or_else(|| "expected key=value, e.g. alibabacloud.com/external=true".to_string())
                        },
                    }),
            )
            .attr(computed(
                "cni",
                "On-premises CNI: `calico` (DaemonSet `calico-node`), `flannel` (`kube-flannel-ds`, or Canal), \
                 `cilium` (`cilium`) or `none`. The names are `hybrid_cni_affinity_patch` presets.",
            ))
            .attr(computed(
                "mode",
                "The CNI's datapath. Calico: `vxlan` or `ipip` when an enabled IPPool has `vxlanMode` / `ipipMode` \
                 `Always` or `CrossSubnet`, else `bgp`. Flannel: its backend (`vxlan`, `host-gw`, `udp`, ...). \
                 Cilium: `native` routing or its tunnel protocol (`vxlan`, `geneve`). `none` without a CNI; \
                 `unknown` when the CNI's configuration is missing or unreadable (a warning says why).",
            ))
            .attr(computed(
                "scenario",
                "The runbook's scenario, from `cni` and `mode`: `overlay` when pod traffic is encapsulated (Calico \
                 IPIP/VXLAN, flannel vxlan/udp/ipip/wireguard/ipsec, Cilium vxlan/geneve tunnel) so cloud nodes join \
                 the overlay; `bgp` when it is routed unencapsulated (Calico BGP, flannel host-gw, Cilium native \
                 routing) so Terway runs on cloud nodes and the CNI is kept off them; `host-network` when no CNI \
                 DaemonSet exists; `unknown` when `mode` is.",
            ))
            .attr(computed("cni_namespace", "Namespace of the CNI DaemonSet; null without one."))
            .attr(computed(
                "cni_daemonset",
                "Name of the CNI DaemonSet; null without one. With `cni_namespace` it feeds \
                 `hybrid_cni_affinity_patch`.",
            ))
            .attr(Attribute::bool("operator_managed").computed().description(
                "Whether the tigera operator manages the CNI (calico-node owned by the `Installation`); the affinity \
                 then belongs in the Installation, which `hybrid_cni_affinity_patch` handles.",
            ))
            .attr(names(
                "pod_cidrs",
                "Pod CIDRs of the on-premises CNI: enabled Calico IPPools (or the Installation's pools, or \
                 `CALICO_IPV4POOL_CIDR`), flannel `Network` / `IPv6Network`, Cilium cluster-pool CIDRs. Empty when \
                 none is configured there.",
            ))
            .attr(names("cloud_nodes", "Names of the nodes carrying `cloud_node_label`, sorted."))
            .attr(names("onprem_nodes", "Names of the other nodes, sorted.")),
        )
    }

    async fn read(&self, ctx: &Ctx, config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let label = config.get("cloud_node_label").and_then(Value::as_str).unwrap_or(DEFAULT_CLOUD_LABEL);
        let Some(cloud_label) = parse_label(label) else {
            diags.error("Invalid cloud_node_label", format!("{label:?} is not key=value."));
            return None;
        };
        let kube = diags.capture(kubernetes::from_ctx(ctx).await)?;
        match inspect(&kube, cloud_label).await {
            Ok((st, warnings)) => {
                for w in warnings {
                    diags.warning("hybrid_cluster_network: incomplete answer", w);
                }
                diags.capture(model::encode(&st, &self.schema().value_type()))
            }
            Err(e) => {
                diags.extend(e.to_diagnostics("Could not inspect the cluster network"));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `kubectl get ippools.crd.projectcalico.org -o json` of a cluster with an IPv4 pool in
    /// CrossSubnet IPIP, a disabled VXLAN pool and an IPv6 pool without encapsulation.
    const IPPOOLS: &str = r#"{"apiVersion":"v1","kind":"List","items":[
      {"apiVersion":"crd.projectcalico.org/v1","kind":"IPPool","metadata":{"name":"default-ipv4-ippool"},
       "spec":{"allowedUses":["Workload","Tunnel"],"blockSize":26,"cidr":"10.244.0.0/16","ipipMode":"CrossSubnet",
               "natOutgoing":true,"nodeSelector":"all()","vxlanMode":"Never"}},
      {"apiVersion":"crd.projectcalico.org/v1","kind":"IPPool","metadata":{"name":"old-vxlan"},
       "spec":{"cidr":"10.96.128.0/20","vxlanMode":"Always","ipipMode":"Never","disabled":true}},
      {"apiVersion":"crd.projectcalico.org/v1","kind":"IPPool","metadata":{"name":"default-ipv6-ippool"},
       "spec":{"blockSize":122,"cidr":"fd00:10:244::/64","ipipMode":"Never","vxlanMode":"Never","nodeSelector":"all()"}}]}"#;

    /// The tigera operator's Installation as `kubectl get installation default -o json` shows it.
    const INSTALLATION: &str = r#"{"apiVersion":"operator.tigera.io/v1","kind":"Installation",
      "metadata":{"name":"default"},
      "spec":{"variant":"Calico","calicoNetwork":{"bgp":"Enabled","ipPools":[
        {"blockSize":26,"cidr":"192.168.0.0/16","encapsulation":"VXLANCrossSubnet","natOutgoing":"Enabled","nodeSelector":"all()"}]}}}"#;

    /// kube-flannel.yml's ConfigMap and (abridged) DaemonSet.
    const FLANNEL_CM: &str = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kube-flannel-cfg","namespace":"kube-flannel"},
      "data":{"cni-conf.json":"{\"name\":\"cbr0\",\"cniVersion\":\"0.3.1\"}",
              "net-conf.json":"{\n  \"Network\": \"10.244.0.0/16\",\n  \"EnableNFTables\": false,\n  \"Backend\": {\n    \"Type\": \"vxlan\"\n  }\n}\n"}}"#;
    const FLANNEL_DS: &str = r#"{"apiVersion":"apps/v1","kind":"DaemonSet",
      "metadata":{"name":"kube-flannel-ds","namespace":"kube-flannel","labels":{"app":"flannel","k8s-app":"flannel","tier":"node"}},
      "spec":{"template":{"spec":{"volumes":[{"name":"run","hostPath":{"path":"/run/flannel"}},
        {"name":"cni-plugin","hostPath":{"path":"/opt/cni/bin"}},{"name":"flannel-cfg","configMap":{"name":"kube-flannel-cfg"}}]}}}}"#;

    /// cilium-config of a Helm install (1.15, native routing) and of an old one (1.12, tunnel key).
    const CILIUM_NATIVE: &str = r#"{"data":{"routing-mode":"native","tunnel-protocol":"vxlan","ipam":"cluster-pool",
      "cluster-pool-ipv4-cidr":"10.0.0.0/8","cluster-pool-ipv4-mask-size":"24","ipv4-native-routing-cidr":"10.0.0.0/8"}}"#;
    const CILIUM_OLD: &str =
        r#"{"data":{"tunnel":"geneve","ipam":"cluster-pool","cluster-pool-ipv4-cidr":"10.0.0.0/16 10.1.0.0/16"}}"#;

    fn parse(s: &str) -> Json {
        serde_json::from_str(s).expect("fixture is JSON")
    }

    #[test]
    fn calico_ippools_fixture() {
        let list = parse(IPPOOLS);
        let d = calico_from_ippools(list["items"].as_array().unwrap()).unwrap();
        // CrossSubnet encapsulates between the IDC and the VPC; the disabled VXLAN pool is ignored.
        assert_eq!(d.mode, "ipip");
        assert_eq!(d.pod_cidrs, vec!["10.244.0.0/16", "fd00:10:244::/64"]);
        assert_eq!(d.note, None);
    }

    #[test]
    fn calico_ippool_modes() {
        let pool =
            |ipip: &str, vxlan: &str| json!({"spec": {"cidr": "10.4.0.0/16", "ipipMode": ipip, "vxlanMode": vxlan}});
        assert_eq!(calico_from_ippools(&[pool("Never", "Never")]).unwrap().mode, "bgp");
        assert_eq!(calico_from_ippools(&[pool("Always", "Never")]).unwrap().mode, "ipip");
        assert_eq!(calico_from_ippools(&[pool("Never", "CrossSubnet")]).unwrap().mode, "vxlan");
        assert_eq!(calico_from_ippools(&[pool("off", "")]).unwrap().mode, "bgp", "legacy Off and empty are Never");
        assert_eq!(calico_from_ippools(&[json!({"spec": {"cidr": "10.4.0.0/16"}})]).unwrap().mode, "bgp");
        assert_eq!(calico_from_ippools(&[pool("Never", "Never"), pool("Always", "Never")]).unwrap().mode, "ipip");
        assert!(calico_from_ippools(&[]).is_none());
        assert!(calico_from_ippools(&[json!({"spec": {"disabled": true, "ipipMode": "Always"}})]).is_none());
    }

    #[test]
    fn calico_installation_fixture_and_defaults() {
        let d = calico_from_installation(&parse(INSTALLATION)).unwrap();
        assert_eq!((d.mode.as_str(), d.pod_cidrs), ("vxlan", vec!["192.168.0.0/16".to_string()]));
        let inst = |pool: Json| json!({"spec": {"calicoNetwork": {"ipPools": [pool]}}});
        assert_eq!(
            calico_from_installation(&inst(json!({"cidr": "10.0.0.0/16", "encapsulation": "None"}))).unwrap().mode,
            "bgp"
        );
        assert_eq!(
            calico_from_installation(&inst(json!({"cidr": "10.0.0.0/16"}))).unwrap().mode,
            "ipip",
            "operator default"
        );
        let odd = calico_from_installation(&inst(json!({"encapsulation": "GRE"}))).unwrap();
        assert_eq!(odd.mode, "unknown");
        assert!(odd.note.unwrap().contains("GRE"));
        assert!(calico_from_installation(&json!({"spec": {"variant": "Calico"}})).is_none());
    }

    #[test]
    fn calico_startup_settings() {
        let ds = |env: Json| {
            json!({"spec": {"template": {"spec": {"containers": [
            {"name": "install-cni", "env": [{"name": "CALICO_IPV4POOL_IPIP", "value": "Never"}]},
            {"name": "calico-node", "env": env}]}}}})
        };
        let d = calico_from_env(&ds(json!([])));
        assert_eq!((d.mode.as_str(), d.pod_cidrs.len()), ("ipip", 0), "calico-node defaults to IPIP Always");
        let d = calico_from_env(&ds(json!([{"name": "CALICO_IPV4POOL_IPIP", "value": "Never"},
                                           {"name": "CALICO_IPV4POOL_CIDR", "value": "10.8.0.0/16"}])));
        assert_eq!((d.mode.as_str(), d.pod_cidrs), ("bgp", vec!["10.8.0.0/16".to_string()]));
        let d = calico_from_env(&ds(json!([{"name": "CALICO_IPV4POOL_IPIP", "value": "Never"},
                                           {"name": "CALICO_IPV4POOL_VXLAN", "value": "Always"}])));
        assert_eq!(d.mode, "vxlan");
    }

    #[test]
    fn flannel_fixture_and_backends() {
        let cm = parse(FLANNEL_CM);
        let d = flannel_from_net_conf(cm["data"]["net-conf.json"].as_str().unwrap());
        assert_eq!(d, Datapath::new("vxlan", vec!["10.244.0.0/16".into()]));
        assert_eq!(mounted_configmaps(&parse(FLANNEL_DS)), vec!["kube-flannel-cfg"]);
        assert_eq!(flannel_from_net_conf(r#"{"Network":"10.1.0.0/16","Backend":{"Type":"host-gw"}}"#).mode, "host-gw");
        assert_eq!(flannel_from_net_conf(r#"{"Network":"10.1.0.0/16"}"#).mode, "udp", "flannel's default backend");
        let dual = flannel_from_net_conf(r#"{"EnableIPv6":true,"Network":"10.1.0.0/16","IPv6Network":"fd00::/56"}"#);
        assert_eq!(dual.pod_cidrs, vec!["10.1.0.0/16", "fd00::/56"]);
        let broken = flannel_from_net_conf("{ Network: 10.1.0.0/16");
        assert_eq!(broken.mode, "unknown");
        assert!(broken.note.unwrap().contains("not valid JSON"));
    }

    #[test]
    fn cilium_fixtures_and_modes() {
        let native = cilium_from_config(&parse(CILIUM_NATIVE)["data"]);
        assert_eq!(native, Datapath::new("native", vec!["10.0.0.0/8".into()]));
        let old = cilium_from_config(&parse(CILIUM_OLD)["data"]);
        assert_eq!(old, Datapath::new("geneve", vec!["10.0.0.0/16".into(), "10.1.0.0/16".into()]));
        assert_eq!(cilium_from_config(&json!({"routing-mode": "tunnel", "tunnel-protocol": "geneve"})).mode, "geneve");
        assert_eq!(cilium_from_config(&json!({"routing-mode": "tunnel"})).mode, "vxlan");
        assert_eq!(cilium_from_config(&json!({"tunnel": "disabled"})).mode, "native");
        assert_eq!(cilium_from_config(&json!({})).mode, "vxlan", "Cilium's default datapath");
        assert_eq!(cilium_from_config(&json!({"routing-mode": "magic"})).mode, "unknown");
    }

    #[test]
    fn daemonsets_identify_the_cni() {
        let ds = |name: &str, labels: Json| json!({"metadata": {"name": name, "namespace": "x", "labels": labels}});
        assert_eq!(cni_of_daemonset(&parse(FLANNEL_DS)), Some(Cni::Flannel));
        assert_eq!(cni_of_daemonset(&ds("calico-node", json!({}))), Some(Cni::Calico));
        assert_eq!(cni_of_daemonset(&ds("kube-flannel-ds-amd64", json!({}))), Some(Cni::Flannel));
        assert_eq!(cni_of_daemonset(&ds("rke2-canal", json!({"k8s-app": "canal"}))), Some(Cni::Flannel));
        assert_eq!(cni_of_daemonset(&ds("cilium", json!({"k8s-app": "cilium"}))), Some(Cni::Cilium));
        assert_eq!(cni_of_daemonset(&ds("cilium-envoy", json!({"k8s-app": "cilium-envoy"}))), None);
        assert_eq!(cni_of_daemonset(&ds("calico-node-windows", json!({"k8s-app": "calico-node-windows"}))), None);
        assert_eq!(cni_of_daemonset(&ds("terway-eniip", json!({"app": "terway-eniip"}))), None);
        let owned = json!({"metadata": {"ownerReferences": [
            {"apiVersion": "operator.tigera.io/v1", "kind": "Installation", "name": "default", "controller": true}]}});
        assert!(owned_by_tigera_operator(&owned));
        assert!(!owned_by_tigera_operator(&ds("calico-node", json!({}))));
    }

    #[test]
    fn scenarios() {
        assert_eq!(scenario(None, "none"), "host-network");
        assert_eq!(scenario(Some(Cni::Calico), "bgp"), "bgp");
        assert_eq!(scenario(Some(Cni::Calico), "ipip"), "overlay");
        assert_eq!(scenario(Some(Cni::Calico), "vxlan"), "overlay");
        assert_eq!(scenario(Some(Cni::Flannel), "vxlan"), "overlay");
        assert_eq!(scenario(Some(Cni::Flannel), "udp"), "overlay");
        assert_eq!(scenario(Some(Cni::Flannel), "host-gw"), "bgp");
        assert_eq!(scenario(Some(Cni::Cilium), "native"), "bgp");
        assert_eq!(scenario(Some(Cni::Cilium), "geneve"), "overlay");
        assert_eq!(scenario(Some(Cni::Flannel), "unknown"), "unknown");
        assert_eq!(scenario(Some(Cni::Flannel), "alivpc"), "unknown", "cloud-route backends are not mapped");
    }

    #[test]
    fn labels() {
        assert_eq!(parse_label("alibabacloud.com/external=true"), Some(("alibabacloud.com/external", "true")));
        assert_eq!(
            parse_label("node-role.kubernetes.io/control-plane="),
            Some(("node-role.kubernetes.io/control-plane", ""))
        );
        assert_eq!(parse_label("nolabel"), None);
        assert_eq!(parse_label("=true"), None);
        assert_eq!(parse_label("a=b=c"), None);
    }

    /// `inspect` against the in-process sandbox API server, for shapes the sandbox scenarios do
    /// not seed (Cilium, Canal, several CNIs, an operator Installation without IPPools).
    mod live {
        use super::super::*;
        use crate::provider::KubernetesSettings;
        use hybrid_sandbox::kube::{DeleteOptions, PatchKind, ResourceRef, WriteOptions};
        use hybrid_sandbox::{SandboxOptions, Scenario};
        use serde_json::json;

        const CLOUD: (&str, &str) = ("alibabacloud.com/external", "true");

        struct Env {
            sb: hybrid_sandbox::Running,
            kube: Kube,
            _dir: tempfile::TempDir,
        }

        async fn start(scenario: Scenario) -> Env {
            let dir = tempfile::tempdir().unwrap();
            let sb = hybrid_sandbox::start(SandboxOptions::for_test(dir.path(), scenario)).unwrap();
            let settings = KubernetesSettings {
                host: Some(sb.base_url.clone()),
                token: Some(sb.token.clone()),
                cluster_ca_certificate: Some(sb.ca_pem.clone()),
                ..Default::default()
            };
            let kube = Kube::connect(&settings).await.unwrap();
            Env { sb, kube, _dir: dir }
        }

        fn create(env: &Env, r: ResourceRef, ns: Option<&str>, obj: Json) {
            env.sb.store.create(&r, ns, obj, &WriteOptions::manager("kubectl-client-side-apply")).unwrap();
        }

        /// A DaemonSet as the CNI's manifests or chart create it (abridged to what matters here).
        fn daemonset(ns: &str, name: &str, k8s_app: &str, configmap: &str) -> Json {
            json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
                "metadata": {"name": name, "namespace": ns, "labels": {"k8s-app": k8s_app}},
                "spec": {"selector": {"matchLabels": {"k8s-app": k8s_app}},
                  "template": {"metadata": {"labels": {"k8s-app": k8s_app}},
                    "spec": {"hostNetwork": true,
                      "containers": [{"name": k8s_app, "image": format!("example.com/{k8s_app}:v1")}],
                      "volumes": [{"name": "config", "configMap": {"name": configmap}}]}}}})
        }

        fn configmap(ns: &str, name: &str, data: Json) -> Json {
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": data})
        }

        #[tokio::test(flavor = "multi_thread")]
        async fn cluster_network_cilium_native_routing() {
            let env = start(Scenario::Host).await;
            create(
                &env,
                ResourceRef::daemonsets(),
                Some("kube-system"),
                daemonset("kube-system", "cilium", "cilium", "cilium-config"),
            );
            create(
                &env,
                ResourceRef::daemonsets(),
                Some("kube-system"),
                daemonset("kube-system", "cilium-envoy", "cilium-envoy", "cilium-envoy-config"),
            );
            let data =
                json!({"routing-mode": "native", "ipam": "cluster-pool", "cluster-pool-ipv4-cidr": "10.0.0.0/8"});
            create(
                &env,
                ResourceRef::configmaps(),
                Some("kube-system"),
                configmap("kube-system", "cilium-config", data),
            );
            let (st, warnings) = inspect(&env.kube, CLOUD).await.unwrap();
            assert_eq!((st.cni.as_str(), st.mode.as_str(), st.scenario.as_str()), ("cilium", "native", "bgp"));
            assert_eq!(
                (st.cni_namespace.as_deref(), st.cni_daemonset.as_deref()),
                (Some("kube-system"), Some("cilium"))
            );
            assert_eq!(st.pod_cidrs, vec!["10.0.0.0/8"]);
            assert!(warnings.is_empty(), "cilium-envoy is no second CNI: {warnings:?}");
            assert_eq!(st.cloud_nodes.len(), 2);
            assert_eq!(st.onprem_nodes.len(), 3);
        }

        #[tokio::test(flavor = "multi_thread")]
        async fn cluster_network_cilium_without_its_configmap_is_unknown() {
            let env = start(Scenario::Host).await;
            create(
                &env,
                ResourceRef::daemonsets(),
                Some("kube-system"),
                daemonset("kube-system", "cilium", "cilium", "cilium-config"),
            );
            let (st, warnings) = inspect(&env.kube, CLOUD).await.unwrap();
            assert_eq!((st.cni.as_str(), st.mode.as_str(), st.scenario.as_str()), ("cilium", "unknown", "unknown"));
            assert!(warnings.iter().any(|w| w.contains("kube-system/cilium-config")), "{warnings:?}");
        }

        #[tokio::test(flavor = "multi_thread")]
        async fn cluster_network_canal_reads_its_mounted_configmap() {
            let env = start(Scenario::Host).await;
            create(
                &env,
                ResourceRef::daemonsets(),
                Some("kube-system"),
                daemonset("kube-system", "canal", "canal", "canal-config"),
            );
            let data = json!({"calico_backend": "none",
                              "net-conf.json": "{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\"}}"});
            create(
                &env,
                ResourceRef::configmaps(),
                Some("kube-system"),
                configmap("kube-system", "canal-config", data),
            );
            let (st, _) = inspect(&env.kube, CLOUD).await.unwrap();
            assert_eq!((st.cni.as_str(), st.mode.as_str(), st.scenario.as_str()), ("flannel", "vxlan", "overlay"));
            assert_eq!(st.cni_daemonset.as_deref(), Some("canal"));
            assert_eq!(st.pod_cidrs, vec!["10.244.0.0/16"]);
        }

        #[tokio::test(flavor = "multi_thread")]
        async fn cluster_network_unmapped_backend_is_an_unknown_scenario_with_one_warning() {
            let env = start(Scenario::Overlay).await;
            let patch = json!({"data": {"net-conf.json": "{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"alivpc\"}}"}});
            let cm = ResourceRef::configmaps();
            let opts = WriteOptions::manager("kubectl-patch");
            env.sb.store.patch(&cm, Some("kube-flannel"), "kube-flannel-cfg", PatchKind::Merge, &patch, &opts).unwrap();
            let (st, warnings) = inspect(&env.kube, CLOUD).await.unwrap();
            assert_eq!((st.mode.as_str(), st.scenario.as_str()), ("alivpc", "unknown"));
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            assert!(warnings[0].contains("alivpc"), "{warnings:?}");
        }

        #[tokio::test(flavor = "multi_thread")]
        async fn cluster_network_several_cnis_warn() {
            let env = start(Scenario::Bgp).await;
            create(
                &env,
                ResourceRef::daemonsets(),
                Some("kube-system"),
                daemonset("kube-system", "cilium", "cilium", "cilium-config"),
            );
            let (st, warnings) = inspect(&env.kube, CLOUD).await.unwrap();
            assert_eq!(st.cni, "calico", "the first in API order (kube-system/calico-node)");
            assert!(
                warnings.iter().any(|w| w.contains("kube-system/calico-node") && w.contains("kube-system/cilium")),
                "{warnings:?}"
            );
        }

        /// Before the operator has written IPPools (or with the CRD gone), its Installation says.
        #[tokio::test(flavor = "multi_thread")]
        async fn cluster_network_operator_installation_without_ippools() {
            let env = start(Scenario::BgpOperator).await;
            let crd = ResourceRef::crds();
            env.sb.store.delete(&crd, None, "ippools.crd.projectcalico.org", &DeleteOptions::default()).unwrap();
            let patch = json!({"spec": {"calicoNetwork": {"ipPools": [
                {"cidr": "10.48.0.0/16", "encapsulation": "VXLANCrossSubnet", "natOutgoing": "Enabled"}]}}});
            let inst = ResourceRef::new("operator.tigera.io", "v1", "installations");
            env.sb
                .store
                .patch(&inst, None, "default", PatchKind::Merge, &patch, &WriteOptions::manager("kubectl-patch"))
                .unwrap();
            let (st, warnings) = inspect(&env.kube, CLOUD).await.unwrap();
            assert!(st.operator_managed);
            assert_eq!((st.cni.as_str(), st.mode.as_str(), st.scenario.as_str()), ("calico", "vxlan", "overlay"));
            assert_eq!(st.cni_namespace.as_deref(), Some("calico-system"));
            assert_eq!(st.pod_cidrs, vec!["10.48.0.0/16"]);
            assert!(warnings.is_empty(), "{warnings:?}");
        }
    }
}

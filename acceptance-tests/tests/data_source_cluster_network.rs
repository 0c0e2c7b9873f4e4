//! `data.hybrid_cluster_network` through real Terraform against each hybrid-sandbox scenario, and
//! against clusters changed with kubectl so the answers are shown to come from the objects.

use acceptance_tests::{check, Cmd, Sandbox, Step, TestCase};
use anyhow::{ensure, Result};
use serde_json::{json, Value};

const ADDR: &str = "data.hybrid_cluster_network.this";
const CONFIG: &str = r#"data "hybrid_cluster_network" "this" {}"#;

/// What a scenario's seed should read as.
struct Expect {
    cni: &'static str,
    mode: &'static str,
    scenario: &'static str,
    daemonset: Option<(&'static str, &'static str)>,
    operator: bool,
    pod_cidrs: Value,
}

fn case(name: &str, sb: &Sandbox) -> Result<TestCase> {
    let mut t = TestCase::new(name)?;
    t.env_file(&sb.env_file())?;
    Ok(t)
}

/// The checks of everything the data source reports about the CNI.
fn network_checks(step: Step, e: &Expect) -> Step {
    let step = step
        .check(check::attr_eq(ADDR, "cni", e.cni))
        .check(check::attr_eq(ADDR, "mode", e.mode))
        .check(check::attr_eq(ADDR, "scenario", e.scenario))
        .check(check::attr_eq(ADDR, "operator_managed", e.operator))
        .check(check::attr_eq(ADDR, "pod_cidrs", e.pod_cidrs.clone()));
    match e.daemonset {
        Some((ns, name)) => {
            step.check(check::attr_eq(ADDR, "cni_namespace", ns)).check(check::attr_eq(ADDR, "cni_daemonset", name))
        }
        None => step.check(check::attr_null(ADDR, "cni_namespace")).check(check::attr_null(ADDR, "cni_daemonset")),
    }
}

fn run(scenario: &str, e: Expect) -> Result<()> {
    let sb = Sandbox::start(scenario, &[])?;
    let mut t = case(&format!("cluster_network_{}", scenario.replace('-', "_")), &sb)?;
    // Every seed has the same nodes: two cloud nodes from a node pool, three in the IDC.
    let step = Step::apply(CONFIG)
        .check(check::attr_eq(ADDR, "cloud_node_label", "alibabacloud.com/external=true"))
        .check(check::attr_eq(ADDR, "cloud_nodes", json!(["cn-hangzhou.172.16.1.10", "cn-hangzhou.172.16.2.10"])))
        .check(check::attr_eq(ADDR, "onprem_nodes", json!(["idc-master-1", "idc-worker-1", "idc-worker-2"])));
    t.run_steps(vec![network_checks(step, &e), Step::plan_empty()])
}

#[test]
fn bgp() -> Result<()> {
    run(
        "bgp",
        Expect {
            cni: "calico",
            mode: "bgp",
            scenario: "bgp",
            daemonset: Some(("kube-system", "calico-node")),
            operator: false,
            pod_cidrs: json!(["10.244.0.0/16"]),
        },
    )
}

#[test]
fn bgp_operator() -> Result<()> {
    run(
        "bgp-operator",
        Expect {
            cni: "calico",
            mode: "bgp",
            scenario: "bgp",
            daemonset: Some(("calico-system", "calico-node")),
            operator: true,
            pod_cidrs: json!(["10.244.0.0/16"]),
        },
    )
}

#[test]
fn overlay() -> Result<()> {
    run(
        "overlay",
        Expect {
            cni: "flannel",
            mode: "vxlan",
            scenario: "overlay",
            daemonset: Some(("kube-flannel", "kube-flannel-ds")),
            operator: false,
            pod_cidrs: json!(["10.244.0.0/16"]),
        },
    )
}

#[test]
fn host() -> Result<()> {
    run(
        "host",
        Expect {
            cni: "none",
            mode: "none",
            scenario: "host-network",
            daemonset: None,
            operator: false,
            pod_cidrs: json!([]),
        },
    )
}

/// Calico's mode follows the IPPools; without the IPPool CRD (404) it comes from calico-node's
/// startup settings instead of failing.
#[test]
fn calico_mode_follows_the_ippools() -> Result<()> {
    let sb = Sandbox::start("bgp", &[])?;
    let mut t = case("cluster_network_calico_modes", &sb)?;
    t.run_steps_keep(vec![Step::apply(CONFIG).check(check::attr_eq(ADDR, "mode", "bgp"))])?;

    sb.kubectl(&[
        "patch",
        "ippools.crd.projectcalico.org",
        "default-ipv4-ippool",
        "--type=merge",
        "-p",
        r#"{"spec":{"ipipMode":"CrossSubnet"}}"#,
    ])?;
    t.run_steps_keep(vec![Step::apply(CONFIG)
        .check(check::attr_eq(ADDR, "mode", "ipip"))
        .check(check::attr_eq(ADDR, "scenario", "overlay"))])?;

    sb.kubectl(&[
        "patch",
        "ippools.crd.projectcalico.org",
        "default-ipv4-ippool",
        "--type=merge",
        "-p",
        r#"{"spec":{"ipipMode":"Never","vxlanMode":"Always"}}"#,
    ])?;
    t.run_steps_keep(vec![Step::apply(CONFIG).check(check::attr_eq(ADDR, "mode", "vxlan"))])?;

    // The seed's calico-node says CALICO_IPV4POOL_IPIP=Never and VXLAN=Never, and names no CIDR.
    sb.kubectl(&["delete", "crd", "ippools.crd.projectcalico.org"])?;
    t.run_steps(vec![
        Step::apply(CONFIG)
            .check(check::attr_eq(ADDR, "cni", "calico"))
            .check(check::attr_eq(ADDR, "mode", "bgp"))
            .check(check::attr_eq(ADDR, "scenario", "bgp"))
            .check(check::attr_eq(ADDR, "pod_cidrs", json!([]))),
        Step::plan_empty(),
    ])
}

/// Flannel's backend follows `net-conf.json`; without the ConfigMap the mode is `unknown` with a
/// warning, not a guess and not an error.
#[test]
fn flannel_mode_follows_net_conf() -> Result<()> {
    let sb = Sandbox::start("overlay", &[])?;
    let mut t = case("cluster_network_flannel_modes", &sb)?;
    let net_conf = r#"{"Network":"10.32.0.0/12","Backend":{"Type":"host-gw"}}"#;
    let patch = json!({"data": {"net-conf.json": net_conf}}).to_string();
    sb.kubectl(&["patch", "configmap", "-n", "kube-flannel", "kube-flannel-cfg", "--type=merge", "-p", &patch])?;
    t.run_steps_keep(vec![Step::apply(CONFIG)
        .check(check::attr_eq(ADDR, "mode", "host-gw"))
        .check(check::attr_eq(ADDR, "scenario", "bgp"))
        .check(check::attr_eq(ADDR, "pod_cidrs", json!(["10.32.0.0/12"])))])?;

    sb.kubectl(&["delete", "configmap", "-n", "kube-flannel", "kube-flannel-cfg"])?;
    let out = t.apply()?;
    let text = out.combined();
    ensure!(text.contains("incomplete answer"), "expected a warning, got:\n{text}");
    ensure!(text.contains("net-conf.json"), "the warning says what is missing:\n{text}");
    ensure!(t.attr(ADDR, "cni")? == "flannel", "cni stays flannel");
    ensure!(t.attr(ADDR, "mode")? == "unknown", "mode: {}", t.attr(ADDR, "mode")?);
    ensure!(t.attr(ADDR, "scenario")? == "unknown", "scenario: {}", t.attr(ADDR, "scenario")?);
    t.destroy()?;
    Ok(())
}

/// A node labelled with kubectl becomes a cloud node at the next read; another label and a
/// malformed one.
#[test]
fn cloud_nodes_follow_the_label() -> Result<()> {
    let sb = Sandbox::start("host", &[])?;
    let mut t = case("cluster_network_label", &sb)?;
    t.run_steps_keep(vec![Step::apply(CONFIG).check(check::attr_eq(
        ADDR,
        "cloud_nodes",
        json!(["cn-hangzhou.172.16.1.10", "cn-hangzhou.172.16.2.10"]),
    ))])?;
    sb.kubectl(&["label", "node", "idc-worker-2", "alibabacloud.com/external=true"])?;
    t.run_steps(vec![
        Step::apply(CONFIG)
            .check(check::attr_eq(
                ADDR,
                "cloud_nodes",
                json!(["cn-hangzhou.172.16.1.10", "cn-hangzhou.172.16.2.10", "idc-worker-2"]),
            ))
            .check(check::attr_eq(ADDR, "onprem_nodes", json!(["idc-master-1", "idc-worker-1"]))),
        Step::apply(
            r#"data "hybrid_cluster_network" "this" { cloud_node_label = "node-role.kubernetes.io/control-plane=" }"#,
        )
        .check(check::attr_eq(ADDR, "cloud_nodes", json!(["idc-master-1"]))),
        Step::expect_error(Cmd::Plan, "expected key=value")
            .with_config(r#"data "hybrid_cluster_network" "this" { cloud_node_label = "nolabel" }"#),
    ])
}

/// `cni_namespace`/`cni_daemonset` feed `hybrid_cni_affinity_patch`, which then takes the
/// operator's Installation path for operator-managed Calico.
fn feeds_the_affinity_patch(scenario: &str, target: &str) -> Result<()> {
    let sb = Sandbox::start(scenario, &[])?;
    let mut t = case(&format!("cluster_network_feeds_{}", scenario.replace('-', "_")), &sb)?;
    let config = r#"
data "hybrid_cluster_network" "this" {}

resource "hybrid_cni_affinity_patch" "cni" {
  namespace = data.hybrid_cluster_network.this.cni_namespace
  name      = data.hybrid_cluster_network.this.cni_daemonset
}
"#;
    let patch = "hybrid_cni_affinity_patch.cni";
    t.run_steps(vec![
        Step::apply(config)
            .check(check::attr_pair(ADDR, "cni_namespace", patch, "namespace"))
            .check(check::attr_pair(ADDR, "cni_daemonset", patch, "name"))
            .check(check::attr_eq(patch, "target", target))
            .check(check::attr_eq(patch, "in_effect", true)),
        Step::plan_empty(),
        Step::destroy(),
    ])
}

#[test]
fn feeds_the_affinity_patch_calico_operator() -> Result<()> {
    feeds_the_affinity_patch("bgp-operator", "installation:default")
}

#[test]
fn feeds_the_affinity_patch_flannel() -> Result<()> {
    feeds_the_affinity_patch("overlay", "daemonset")
}

/// The documentation snippet patches the CNI only in the BGP scenario: in the overlay scenario
/// the CNI must keep running on cloud nodes.
fn documentation_snippet(scenario: &str, patches: usize) -> Result<()> {
    let path = acceptance_tests::repo_root().join("examples/data-sources/hybrid_cluster_network/data-source.tf");
    let snippet = std::fs::read_to_string(&path)?;
    let sb = Sandbox::start(scenario, &[])?;
    let mut t = case(&format!("cluster_network_snippet_{scenario}"), &sb)?;
    t.run_steps_keep(vec![Step::apply(&snippet)])?;
    let out = t.outputs()?;
    ensure!(out["network"]["value"]["scenario"] == scenario, "outputs: {out}");
    let state = t.state_json()?;
    let count = state["values"]["root_module"]["resources"]
        .as_array()
        .map_or(0, |rs| rs.iter().filter(|r| r["type"] == "hybrid_cni_affinity_patch").count());
    ensure!(count == patches, "expected {patches} affinity patch(es), state has {count}");
    t.run_steps(vec![Step::plan_empty(), Step::destroy()])
}

#[test]
fn documentation_snippet_bgp() -> Result<()> {
    documentation_snippet("bgp", 1)
}

#[test]
fn documentation_snippet_overlay() -> Result<()> {
    documentation_snippet("overlay", 0)
}

/// An API server that cannot be reached is an error naming what failed, without the token.
#[test]
fn unreachable_cluster_is_an_error() -> Result<()> {
    // A port that was just free: nothing listens there any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let token = "unreachable-test-token-5f2c";
    let mut t = TestCase::new("cluster_network_unreachable")?;
    t.write_config(&format!(
        r#"
provider "hybrid" {{
  kubernetes {{
    host     = "https://127.0.0.1:{port}"
    token    = "{token}"
    insecure = true
  }}
}}
{CONFIG}
"#
    ))?;
    let out = t.expect_error(Cmd::Plan, "Could not inspect the cluster network")?;
    let text = out.combined();
    ensure!(text.contains(&format!("127.0.0.1:{port}")) || text.contains("/apis/apps/v1/daemonsets"), "{text}");
    ensure!(text.contains("reachable"), "the error says what to check:\n{text}");
    ensure!(!text.contains(token), "the token leaked:\n{text}");
    Ok(())
}

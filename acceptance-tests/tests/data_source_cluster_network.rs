//! `data.hybrid_cluster_network` through real Terraform against each hybrid-sandbox scenario.

use acceptance_tests::{check, Sandbox, Step, TestCase};
use anyhow::Result;
use serde_json::json;

const ADDR: &str = "data.hybrid_cluster_network.this";

fn run(scenario: &str, cni: &str, mode: &str, expected_scenario: &str, operator: bool) -> Result<()> {
    let sb = Sandbox::start(scenario, &[])?;
    let mut t = TestCase::new(&format!("cluster_network_{scenario}"))?;
    t.env_file(&sb.env_file())?;
    // The seeds' cloud nodes, in two zones; everything else is on-prem.
    let cloud = json!(["cn-hangzhou.172.16.1.10", "cn-hangzhou.172.16.2.10"]);
    let onprem = json!(["idc-master-1", "idc-worker-1", "idc-worker-2"]);
    t.run_steps(vec![
        Step::apply(r#"data "hybrid_cluster_network" "this" {}"#)
            .check(check::attr_eq(ADDR, "cni", cni))
            .check(check::attr_eq(ADDR, "mode", mode))
            .check(check::attr_eq(ADDR, "scenario", expected_scenario))
            .check(check::attr_eq(ADDR, "operator_managed", operator))
            .check(check::attr_eq(ADDR, "cloud_nodes", cloud))
            .check(check::attr_eq(ADDR, "onprem_nodes", onprem)),
        Step::plan_empty(),
    ])
}

#[test]
fn bgp() -> Result<()> {
    run("bgp", "calico", "bgp", "bgp", false)
}

#[test]
fn bgp_operator() -> Result<()> {
    run("bgp-operator", "calico", "bgp", "bgp", true)
}

#[test]
fn overlay() -> Result<()> {
    run("overlay", "flannel", "vxlan", "overlay", false)
}

#[test]
fn host() -> Result<()> {
    run("host", "none", "none", "host-network", false)
}

#[test]
fn another_cloud_label_and_a_bad_one() -> Result<()> {
    let sb = Sandbox::start("bgp", &[])?;
    let mut t = TestCase::new("cluster_network_label")?;
    t.env_file(&sb.env_file())?;
    t.run_steps(vec![
        Step::apply(
            r#"data "hybrid_cluster_network" "this" { cloud_node_label = "node-role.kubernetes.io/control-plane=" }"#,
        )
        .check(check::attr_eq(ADDR, "cloud_nodes", json!(["idc-master-1"]))),
        Step::expect_error(acceptance_tests::Cmd::Plan, "expected key=value")
            .with_config(r#"data "hybrid_cluster_network" "this" { cloud_node_label = "nolabel" }"#),
    ])
}

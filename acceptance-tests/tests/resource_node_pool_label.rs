//! `hybrid_node_pool_label` through real Terraform against hybrid-sandbox: labels on pools and
//! their Nodes, other labels untouched, drift from an out-of-band relabel, import, destroy removing
//! only its keys, and one node-pool list per cluster per run however many label resources read.

use acceptance_tests::{check, Console, Sandbox, Step, TestCase};
use anyhow::{ensure, Result};
use serde_json::{json, Value};

const CONFIG: &str = r#"
variable "cluster_id" { type = string }
variable "node_pool_ids" { type = list(string) }
resource "hybrid_node_pool_label" "cloud" {
  for_each       = toset(var.node_pool_ids)
  cluster_id     = var.cluster_id
  nodepool_id    = each.value
  apply_to_nodes = true
}
"#;

fn pool_labels(console: &Console, cluster: &str, pool: &str) -> Result<Value> {
    let p =
        console.cs("DescribeClusterNodePoolDetail", "GET", &format!("/clusters/{cluster}/nodepools/{pool}"), None)?;
    Ok(p["kubernetes_config"]["labels"].clone())
}

fn set_pool_labels(console: &Console, cluster: &str, pool: &str, labels: Value) -> Result<()> {
    let body = json!({"kubernetes_config": {"labels": labels}});
    let r = console.cs("ModifyClusterNodePool", "PUT", &format!("/clusters/{cluster}/nodepools/{pool}"), Some(body))?;
    console.wait_task(r["task_id"].as_str().unwrap_or_default())
}

#[test]
fn labels_pools_and_nodes_detects_drift_and_removes_only_its_keys() -> Result<()> {
    let sb = Sandbox::start("bgp", &[])?;
    let console = Console::for_sandbox(&sb)?;
    let cluster = sb.var("TF_VAR_cluster_id").unwrap_or_default().to_string();
    let pools: Vec<String> = serde_json::from_str(sb.var("TF_VAR_node_pool_ids").unwrap_or("[]"))?;
    ensure!(pools.len() == 2, "the seed has two cloud pools");
    // Someone else's label on the first pool, which must survive everything below.
    set_pool_labels(&console, &cluster, &pools[0], json!([{"key": "team", "value": "net"}]))?;

    let mut t = TestCase::new("node_pool_label_lifecycle")?;
    t.env_file(&sb.env_file())?;
    let addr0 = format!("hybrid_node_pool_label.cloud[\"{}\"]", pools[0]);
    t.run_steps_keep(vec![
        Step::apply(CONFIG).check(check::attr_eq(&addr0, "labels", json!({"alibabacloud.com/external": "true"}))),
        Step::plan_empty(),
    ])?;
    let labels = pool_labels(&console, &cluster, &pools[0])?;
    ensure!(labels.as_array().is_some_and(|l| l.len() == 2), "{labels}");
    // The pool's Nodes carry the label too.
    let nodes = sb.get_json(&["nodes", "-l", &format!("alibabacloud.com/nodepool-id={}", pools[0])])?;
    ensure!(
        nodes["items"].as_array().is_some_and(
            |n| !n.is_empty() && n.iter().all(|n| n["metadata"]["labels"]["alibabacloud.com/external"] == "true")
        ),
        "{nodes}"
    );

    // One list call per cluster per run, for both resources (reads are coalesced).
    t.env("TF_LOG_PROVIDER", "DEBUG");
    let plan = t.plan()?;
    let calls =
        plan.stderr.lines().filter(|l| l.contains("calling") && l.contains("cs DescribeClusterNodePools")).count();
    ensure!(calls == 1, "expected one DescribeClusterNodePools call for two resources, saw {calls}");
    t.env_remove("TF_LOG_PROVIDER");

    // Drift: the label removed in the console shows in the plan; apply puts it back.
    set_pool_labels(&console, &cluster, &pools[0], json!([{"key": "team", "value": "net"}]))?;
    let plan = t.plan()?;
    ensure!(plan.changed_addresses() == vec![addr0.clone()], "{:?}", plan.changed_addresses());
    t.run_steps_keep(vec![
        Step::apply(CONFIG),
        Step::import(&addr0, &format!("{cluster}:{}", pools[0])).ignore(&["apply_to_nodes", "timeouts"]),
    ])?;

    t.run_steps(vec![Step::destroy()])?;
    let labels = pool_labels(&console, &cluster, &pools[0])?;
    ensure!(labels == json!([{"key": "team", "value": "net"}]), "destroy touched other labels: {labels}");
    Ok(())
}

#[test]
fn unknown_pool_and_bad_labels_fail_clearly() -> Result<()> {
    let sb = Sandbox::start("bgp", &[])?;
    let mut t = TestCase::new("node_pool_label_errors")?;
    t.env_file(&sb.env_file())?;
    t.run_steps(vec![
        Step::expect_error(acceptance_tests::Cmd::Plan, "not a valid label key").with_config(
            r#"resource "hybrid_node_pool_label" "x" {
  cluster_id  = "c1"
  nodepool_id = "np1"
  labels      = { "bad key" = "x" }
}"#,
        ),
        Step::expect_error(acceptance_tests::Cmd::Apply, "does not exist").with_config(
            r#"variable "cluster_id" { type = string }
resource "hybrid_node_pool_label" "x" {
  cluster_id  = var.cluster_id
  nodepool_id = "np-nonexistent"
}"#,
        ),
    ])
}

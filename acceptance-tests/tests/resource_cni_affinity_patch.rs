//! `hybrid_cni_affinity_patch` through real Terraform against hybrid-sandbox: the expression ANDed
//! into every term, drift when removed with kubectl, repair, update, import, exact undo on destroy,
//! DaemonSets without affinity, the tigera operator path, and conflicts from concurrent writers.

use acceptance_tests::{check, Cmd, Sandbox, Step, TestCase};
use anyhow::{ensure, Result};
use serde_json::{json, Value};

const ADDR: &str = "hybrid_cni_affinity_patch.this";
const TERMS: &str =
    "/spec/template/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms";

fn setup(name: &str, scenario: &str, flags: &[&str]) -> Result<(Sandbox, TestCase)> {
    let sb = Sandbox::start(scenario, flags)?;
    let mut t = TestCase::new(name)?;
    t.env_file(&sb.env_file())?;
    Ok((sb, t))
}

fn ds(sb: &Sandbox, ns: &str, name: &str) -> Result<Value> {
    sb.get_json(&["daemonset", "-n", ns, name])
}

fn ours(values: &[&str]) -> Value {
    json!({"key": "alibabacloud.com/external", "operator": "NotIn", "values": values})
}

fn every_term_has(obj: &Value, pointer: &str, expr: &Value) -> bool {
    obj.pointer(pointer).and_then(Value::as_array).is_some_and(|ts| {
        !ts.is_empty() && ts.iter().all(|t| t["matchExpressions"].as_array().is_some_and(|es| es.contains(expr)))
    })
}

#[test]
fn calico_lifecycle_drift_update_import_and_exact_undo() -> Result<()> {
    let (sb, mut t) = setup("affinity_calico", "bgp", &[])?;
    let before = ds(&sb, "kube-system", "calico-node")?;
    let before_affinity = before.pointer("/spec/template/spec/affinity").cloned();
    ensure!(before_affinity.is_some(), "the seed's calico-node has an affinity term");

    t.run_steps_keep(vec![
        Step::apply(r#"resource "hybrid_cni_affinity_patch" "this" { preset = "calico" }"#)
            .check(check::attr_eq(ADDR, "id", "kube-system/calico-node"))
            .check(check::attr_eq(ADDR, "target", "daemonset"))
            .check(check::attr_eq(ADDR, "in_effect", true)),
        Step::plan_empty(),
    ])?;
    let after = ds(&sb, "kube-system", "calico-node")?;
    ensure!(every_term_has(&after, TERMS, &ours(&["true"])), "not in every term: {}", after.pointer(TERMS).unwrap());
    // The unrelated expression is still there, in the same term.
    let first = &after.pointer(TERMS).unwrap()[0]["matchExpressions"];
    ensure!(first.as_array().is_some_and(|es| es.iter().any(|e| e["key"] == "kubernetes.io/os")), "{first}");

    // Drift: remove our expression with a JSON patch.
    let idx = first.as_array().unwrap().iter().position(|e| e["key"] == "alibabacloud.com/external").unwrap();
    let path = format!("{TERMS}/0/matchExpressions/{idx}");
    let patch = json!([{"op": "remove", "path": path}]).to_string();
    sb.kubectl(&["patch", "daemonset", "-n", "kube-system", "calico-node", "--type=json", "-p", &patch])?;
    let plan = t.plan()?;
    ensure!(plan.has_changes(), "removal not detected");
    ensure!(plan.stdout.contains("in_effect") && plan.stdout.contains("false -> true"), "{}", plan.stdout);

    t.run_steps_keep(vec![
        // Apply repairs; then an update of the values.
        Step::apply(r#"resource "hybrid_cni_affinity_patch" "this" { preset = "calico" }"#).check(check::attr_eq(
            ADDR,
            "in_effect",
            true,
        )),
        Step::import(ADDR, "kube-system/calico-node").ignore(&["preset"]),
        Step::apply(
            r#"resource "hybrid_cni_affinity_patch" "this" {
  preset = "calico"
  values = ["true", "yes"]
}"#,
        ),
    ])?;
    let updated = ds(&sb, "kube-system", "calico-node")?;
    ensure!(every_term_has(&updated, TERMS, &ours(&["true", "yes"])), "{}", updated.pointer(TERMS).unwrap());
    ensure!(!updated.pointer(TERMS).unwrap().to_string().contains(r#"["true"]}"#), "old expression left behind");

    t.run_steps(vec![Step::destroy()])?;
    let restored = ds(&sb, "kube-system", "calico-node")?;
    ensure!(
        restored.pointer("/spec/template/spec/affinity").cloned() == before_affinity,
        "destroy did not restore the original affinity:\n{}\nvs\n{}",
        restored.pointer("/spec/template/spec/affinity").unwrap(),
        before_affinity.unwrap()
    );
    Ok(())
}

#[test]
fn flannel_without_affinity_gets_one_and_loses_it_again() -> Result<()> {
    let (sb, mut t) = setup("affinity_flannel", "overlay", &[])?;
    let before = ds(&sb, "kube-flannel", "kube-flannel-ds")?;
    t.run_steps_keep(vec![Step::apply(r#"resource "hybrid_cni_affinity_patch" "this" { preset = "flannel" }"#)
        .check(check::attr_eq(ADDR, "namespace", "kube-flannel"))])?;
    ensure!(every_term_has(&ds(&sb, "kube-flannel", "kube-flannel-ds")?, TERMS, &ours(&["true"])));
    t.run_steps(vec![Step::destroy()])?;
    let after = ds(&sb, "kube-flannel", "kube-flannel-ds")?;
    ensure!(
        after.pointer("/spec/template/spec/affinity") == before.pointer("/spec/template/spec/affinity"),
        "{:?}",
        after.pointer("/spec/template/spec/affinity")
    );
    Ok(())
}

#[test]
fn operator_managed_calico_is_patched_through_the_installation() -> Result<()> {
    let (sb, mut t) = setup("affinity_operator", "bgp-operator", &[])?;
    let inst_before = sb.get_json(&["installations.operator.tigera.io", "default"])?;
    t.run_steps_keep(vec![
        Step::apply(r#"resource "hybrid_cni_affinity_patch" "this" { preset = "calico" }"#)
            .check(check::attr_eq(ADDR, "id", "calico-system/calico-node"))
            .check(check::attr_eq(ADDR, "target", "installation:default")),
        Step::plan_empty(),
    ])?;
    let inst = sb.get_json(&["installations.operator.tigera.io", "default"])?;
    let inst_terms = "/spec/calicoNodeDaemonSet/spec/template/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms";
    ensure!(every_term_has(&inst, inst_terms, &ours(&["true"])), "{inst}");
    // The operator rolled it out to the DaemonSet.
    ensure!(every_term_has(&ds(&sb, "calico-system", "calico-node")?, TERMS, &ours(&["true"])));
    t.run_steps(vec![Step::destroy()])?;
    let inst_after = sb.get_json(&["installations.operator.tigera.io", "default"])?;
    ensure!(inst_after["spec"] == inst_before["spec"], "{}\nvs\n{}", inst_after["spec"], inst_before["spec"]);
    Ok(())
}

#[test]
fn conflicts_from_concurrent_writers_are_retried() -> Result<()> {
    let (sb, mut t) = setup("affinity_conflicts", "bgp", &["--fault-conflict-rate", "0.5"])?;
    t.run_steps_keep(vec![Step::apply(r#"resource "hybrid_cni_affinity_patch" "this" { preset = "calico" }"#)])?;
    ensure!(every_term_has(&ds(&sb, "kube-system", "calico-node")?, TERMS, &ours(&["true"])));
    t.run_steps(vec![Step::destroy()])
}

#[test]
fn bad_input_fails_at_plan() -> Result<()> {
    let (_sb, mut t) = setup("affinity_validation", "host", &[])?;
    t.run_steps(vec![
        Step::expect_error(Cmd::Plan, "Set `preset`").with_config(r#"resource "hybrid_cni_affinity_patch" "this" {}"#),
        Step::expect_error(Cmd::Plan, "calico")
            .with_config(r#"resource "hybrid_cni_affinity_patch" "this" { preset = "weave" }"#),
        // Host networking: there is no CNI DaemonSet to patch.
        Step::expect_error(Cmd::Plan, "DaemonSet not found")
            .with_config(r#"resource "hybrid_cni_affinity_patch" "this" { preset = "calico" }"#),
    ])
}

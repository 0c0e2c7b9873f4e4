//! `hybrid_cni_affinity_patch` through real Terraform against hybrid-sandbox: the expression ANDed
//! into every term (pre-existing terms and expressions intact), no-op re-plan, drift made with
//! kubectl (expression removed, changed, DaemonSet recreated) shown by `plan -detailed-exitcode`
//! and repaired, values update, import, exact undo on destroy, DaemonSets without affinity, the
//! tigera operator path, conflicts from concurrent writers, and plan-time errors.

use acceptance_tests::{check, Cmd, Sandbox, Step, TestCase};
use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};

const ADDR: &str = "hybrid_cni_affinity_patch.this";
const AFFINITY: &str = "/spec/template/spec/affinity";
const TERMS: &str =
    "/spec/template/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms";
const INSTALLATION_TERMS: &str = "/spec/calicoNodeDaemonSet/spec/template/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms";
const CALICO: &str = r#"resource "hybrid_cni_affinity_patch" "this" { preset = "calico" }"#;

fn setup(name: &str, scenario: &str, flags: &[&str]) -> Result<(Sandbox, TestCase)> {
    let sb = Sandbox::start(scenario, flags)?;
    let mut t = TestCase::new(name)?;
    t.env_file(&sb.env_file())?;
    Ok((sb, t))
}

fn ds(sb: &Sandbox, ns: &str, name: &str) -> Result<Value> {
    sb.get_json(&["daemonset", "-n", ns, name])
}

fn calico(sb: &Sandbox) -> Result<Value> {
    ds(sb, "kube-system", "calico-node")
}

fn ours(values: &[&str]) -> Value {
    json!({"key": "alibabacloud.com/external", "operator": "NotIn", "values": values})
}

fn os_linux() -> Value {
    json!({"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]})
}

fn terms(obj: &Value, pointer: &str) -> Vec<Value> {
    obj.pointer(pointer).and_then(Value::as_array).cloned().unwrap_or_default()
}

fn every_term_has(obj: &Value, pointer: &str, expr: &Value) -> bool {
    let ts = terms(obj, pointer);
    !ts.is_empty() && ts.iter().all(|t| t["matchExpressions"].as_array().is_some_and(|es| es.contains(expr)))
}

fn json_patch(sb: &Sandbox, what: &[&str], patch: Value) -> Result<()> {
    let mut args = vec!["patch"];
    args.extend_from_slice(what);
    let patch = patch.to_string();
    args.extend_from_slice(&["--type=json", "-p", &patch]);
    sb.kubectl(&args).map(|_| ())
}

/// Index of `expr` in term `term`'s matchExpressions.
fn position(obj: &Value, pointer: &str, term: usize, expr: &Value) -> Result<usize> {
    terms(obj, pointer)
        .get(term)
        .and_then(|t| t["matchExpressions"].as_array()?.iter().position(|e| e == expr))
        .with_context(|| format!("term {term} does not hold {expr}: {}", obj.pointer(pointer).unwrap_or(&Value::Null)))
}

/// A plan that proposes to set `in_effect` back to true: the drift shows.
fn expect_drift(t: &mut TestCase) -> Result<()> {
    let plan = t.plan()?;
    ensure!(plan.exit_code == 2, "plan -detailed-exitcode did not exit 2:\n{}", plan.stdout);
    ensure!(plan.changed_addresses() == vec![ADDR.to_string()], "{:?}", plan.changed_addresses());
    ensure!(plan.actions(ADDR)? == vec!["update"], "expected an in-place repair, got {:?}", plan.actions(ADDR)?);
    ensure!(plan.stdout.contains("in_effect") && plan.stdout.contains("false -> true"), "{}", plan.stdout);
    Ok(())
}

#[test]
fn calico_every_term_drift_update_import_and_exact_undo() -> Result<()> {
    let (sb, mut t) = setup("affinity_calico", "bgp", &[])?;
    // A second, unrelated term next to the seed's, so "every term" means something.
    let gpu = json!({"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["gpu-1"]}]});
    json_patch(
        &sb,
        &["ds", "-n", "kube-system", "calico-node"],
        json!([{"op": "add", "path": format!("{TERMS}/-"), "value": gpu}]),
    )?;
    let before = calico(&sb)?;
    ensure!(terms(&before, TERMS).len() == 2, "{}", before.pointer(AFFINITY).unwrap_or(&Value::Null));

    t.run_steps_keep(vec![Step::apply(CALICO)
        .check(check::attr_eq(ADDR, "id", "kube-system/calico-node"))
        .check(check::attr_eq(ADDR, "namespace", "kube-system"))
        .check(check::attr_eq(ADDR, "name", "calico-node"))
        .check(check::attr_eq(ADDR, "target", "daemonset"))
        .check(check::attr_eq(ADDR, "in_effect", true))])?;
    let after = calico(&sb)?;
    ensure!(every_term_has(&after, TERMS, &ours(&["true"])), "not in every term: {}", after.pointer(TERMS).unwrap());
    let ts = terms(&after, TERMS);
    ensure!(ts[0]["matchExpressions"] == json!([os_linux(), ours(&["true"])]), "term 0: {}", ts[0]);
    ensure!(ts[1]["matchFields"] == gpu["matchFields"], "term 1's matchFields changed: {}", ts[1]);
    ensure!(ts[1]["matchExpressions"] == json!([ours(&["true"])]), "term 1: {}", ts[1]);

    // Drift: the expression removed from the second term with a JSON patch.
    let idx = position(&after, TERMS, 1, &ours(&["true"]))?;
    json_patch(
        &sb,
        &["ds", "-n", "kube-system", "calico-node"],
        json!([{"op": "remove", "path": format!("{TERMS}/1/matchExpressions/{idx}")}]),
    )?;
    ensure!(!every_term_has(&calico(&sb)?, TERMS, &ours(&["true"])), "kubectl did not remove it");
    expect_drift(&mut t)?;

    t.run_steps_keep(vec![
        // Apply repairs (and re-plans empty).
        Step::apply(CALICO).check(check::attr_eq(ADDR, "in_effect", true)),
        Step::import(ADDR, "kube-system/calico-node").ignore(&["preset"]),
    ])?;
    ensure!(every_term_has(&calico(&sb)?, TERMS, &ours(&["true"])), "not repaired");

    // Update: other values replace ours in place; no copy of the old expression stays.
    t.run_steps_keep(vec![Step::apply(
        r#"resource "hybrid_cni_affinity_patch" "this" {
  preset = "calico"
  values = ["true", "yes"]
}"#,
    )
    .check(check::attr_eq(ADDR, "in_effect", true))])?;
    let updated = calico(&sb)?;
    ensure!(every_term_has(&updated, TERMS, &ours(&["true", "yes"])), "{}", updated.pointer(TERMS).unwrap());
    ensure!(!updated.pointer(TERMS).unwrap().to_string().contains(r#"["true"]"#), "old expression left behind");
    ensure!(terms(&updated, TERMS)[0]["matchExpressions"][0] == os_linux(), "unrelated expression moved");

    t.run_steps(vec![Step::destroy()])?;
    let restored = calico(&sb)?;
    ensure!(
        restored.pointer(AFFINITY) == before.pointer(AFFINITY),
        "destroy did not restore the original affinity:\n{}\nvs\n{}",
        restored.pointer(AFFINITY).unwrap_or(&Value::Null),
        before.pointer(AFFINITY).unwrap_or(&Value::Null)
    );
    ensure!(restored["spec"] == before["spec"], "destroy changed other parts of the spec");
    Ok(())
}

#[test]
fn changed_expression_and_recreated_daemonset_are_drift() -> Result<()> {
    let (sb, mut t) = setup("affinity_recreate", "bgp", &[])?;
    let original = calico(&sb)?;
    t.run_steps_keep(vec![Step::apply(CALICO)])?;

    // Changed: someone edits our expression's values in place.
    let idx = position(&calico(&sb)?, TERMS, 0, &ours(&["true"]))?;
    json_patch(
        &sb,
        &["ds", "-n", "kube-system", "calico-node"],
        json!([{"op": "replace", "path": format!("{TERMS}/0/matchExpressions/{idx}/values"), "value": ["false"]}]),
    )?;
    expect_drift(&mut t)?;
    t.run_steps_keep(vec![Step::apply(CALICO).check(check::attr_eq(ADDR, "in_effect", true))])?;
    let repaired = calico(&sb)?;
    ensure!(every_term_has(&repaired, TERMS, &ours(&["true"])), "{}", repaired.pointer(TERMS).unwrap());

    // Recreated: deleted and created again from the original manifest (new uid, no expression).
    let mut manifest = original.clone();
    let meta = manifest["metadata"].as_object_mut().context("metadata")?;
    for k in ["uid", "resourceVersion", "creationTimestamp", "generation", "managedFields"] {
        meta.remove(k);
    }
    manifest.as_object_mut().context("object")?.remove("status");
    sb.kubectl(&["delete", "ds", "-n", "kube-system", "calico-node"])?;
    sb.kubectl_with_stdin(&["create", "-f", "-"], Some(&manifest.to_string()))?;
    let recreated = calico(&sb)?;
    ensure!(recreated["metadata"]["uid"] != original["metadata"]["uid"], "same uid after recreate");
    expect_drift(&mut t)?;
    t.run_steps_keep(vec![Step::apply(CALICO).check(check::attr_eq(ADDR, "in_effect", true))])?;
    ensure!(every_term_has(&calico(&sb)?, TERMS, &ours(&["true"])), "not repaired on the new DaemonSet");

    t.run_steps(vec![Step::destroy()])?;
    let after = calico(&sb)?;
    ensure!(
        after.pointer(AFFINITY) == original.pointer(AFFINITY),
        "{}",
        after.pointer(AFFINITY).unwrap_or(&Value::Null)
    );
    Ok(())
}

#[test]
fn daemonset_without_affinity_gets_one_and_loses_it_again() -> Result<()> {
    // Overlay: flannel, with its affinity taken away first.
    let (sb, mut t) = setup("affinity_flannel", "overlay", &[])?;
    json_patch(&sb, &["ds", "-n", "kube-flannel", "kube-flannel-ds"], json!([{"op": "remove", "path": AFFINITY}]))?;
    let before = ds(&sb, "kube-flannel", "kube-flannel-ds")?;
    ensure!(before.pointer(AFFINITY).is_none(), "affinity still there");
    t.run_steps_keep(vec![Step::apply(r#"resource "hybrid_cni_affinity_patch" "this" { preset = "flannel" }"#)
        .check(check::attr_eq(ADDR, "id", "kube-flannel/kube-flannel-ds"))
        .check(check::attr_eq(ADDR, "in_effect", true))])?;
    let patched = ds(&sb, "kube-flannel", "kube-flannel-ds")?;
    ensure!(
        terms(&patched, TERMS) == vec![json!({"matchExpressions": [ours(&["true"])]})],
        "expected one term holding only ours: {}",
        patched.pointer(AFFINITY).unwrap_or(&Value::Null)
    );
    t.run_steps(vec![Step::destroy()])?;
    let after = ds(&sb, "kube-flannel", "kube-flannel-ds")?;
    ensure!(after["spec"] == before["spec"], "{}", after.pointer(AFFINITY).unwrap_or(&Value::Null));

    // Host scenario: a Cilium DaemonSet (created with kubectl) by name, without a preset.
    let (sb, mut t) = setup("affinity_cilium", "host", &[])?;
    let cilium = json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "cilium", "namespace": "kube-system"},
        "spec": {"selector": {"matchLabels": {"k8s-app": "cilium"}},
          "template": {"metadata": {"labels": {"k8s-app": "cilium"}},
            "spec": {"hostNetwork": true, "containers": [{"name": "cilium-agent", "image": "quay.io/cilium/cilium:v1.15.6"}]}}}});
    sb.kubectl_with_stdin(&["create", "-f", "-"], Some(&cilium.to_string()))?;
    let before = ds(&sb, "kube-system", "cilium")?;
    t.run_steps_keep(vec![Step::apply(r#"resource "hybrid_cni_affinity_patch" "this" { name = "cilium" }"#)
        .check(check::attr_eq(ADDR, "namespace", "kube-system"))
        .check(check::attr_eq(ADDR, "in_effect", true))])?;
    ensure!(every_term_has(&ds(&sb, "kube-system", "cilium")?, TERMS, &ours(&["true"])));
    // Setting the preset that names this DaemonSet later is an in-place update, not a replacement.
    let with_preset = r#"resource "hybrid_cni_affinity_patch" "this" {
  preset = "cilium"
  name   = "cilium"
}"#;
    t.write_config(with_preset)?;
    let plan = t.plan()?;
    ensure!(plan.actions(ADDR)? == vec!["update"], "{:?}\n{}", plan.actions(ADDR)?, plan.stdout);
    t.run_steps_keep(vec![Step::apply(with_preset)])?;
    t.run_steps(vec![Step::destroy()])?;
    let after = ds(&sb, "kube-system", "cilium")?;
    ensure!(after["spec"] == before["spec"], "{}", after.pointer(AFFINITY).unwrap_or(&Value::Null));
    Ok(())
}

#[test]
fn operator_managed_calico_is_patched_through_the_installation() -> Result<()> {
    let (sb, mut t) = setup("affinity_operator", "bgp-operator", &[])?;
    let installation = || sb.get_json(&["installations.operator.tigera.io", "default"]);
    let inst_before = installation()?;
    // Why: the operator reverts a direct edit of its DaemonSet.
    json_patch(&sb, &["ds", "-n", "calico-system", "calico-node"], json!([{"op": "remove", "path": AFFINITY}]))?;
    ensure!(ds(&sb, "calico-system", "calico-node")?.pointer(AFFINITY).is_some(), "the operator did not revert");

    t.run_steps_keep(vec![
        // Detected at plan time: the plan already names the Installation.
        Step::plan_changes(CALICO).check(check::attr_eq(ADDR, "target", "installation:default")).check(check::attr_eq(
            ADDR,
            "id",
            "calico-system/calico-node",
        )),
    ])?;
    t.run_steps_keep(vec![Step::apply(CALICO)
        .check(check::attr_eq(ADDR, "id", "calico-system/calico-node"))
        .check(check::attr_eq(ADDR, "target", "installation:default"))
        .check(check::attr_eq(ADDR, "in_effect", true))])?;
    let inst = installation()?;
    ensure!(every_term_has(&inst, INSTALLATION_TERMS, &ours(&["true"])), "{}", inst["spec"]);
    ensure!(terms(&inst, INSTALLATION_TERMS)[0]["matchExpressions"][0] == os_linux(), "{}", inst["spec"]);
    // The operator rolled it out to its DaemonSet.
    ensure!(every_term_has(&ds(&sb, "calico-system", "calico-node")?, TERMS, &ours(&["true"])));

    // Drift in the Installation shows and is repaired.
    let idx = position(&inst, INSTALLATION_TERMS, 0, &ours(&["true"]))?;
    json_patch(
        &sb,
        &["installations.operator.tigera.io", "default"],
        json!([{"op": "remove", "path": format!("{INSTALLATION_TERMS}/0/matchExpressions/{idx}")}]),
    )?;
    expect_drift(&mut t)?;
    t.run_steps_keep(vec![
        Step::apply(CALICO).check(check::attr_eq(ADDR, "in_effect", true)),
        Step::import(ADDR, "calico-system/calico-node").ignore(&["preset"]),
    ])?;
    ensure!(every_term_has(&installation()?, INSTALLATION_TERMS, &ours(&["true"])), "not repaired");

    t.run_steps(vec![Step::destroy()])?;
    let inst_after = installation()?;
    ensure!(inst_after["spec"] == inst_before["spec"], "{}\nvs\n{}", inst_after["spec"], inst_before["spec"]);
    let ds_after = ds(&sb, "calico-system", "calico-node")?;
    ensure!(!ds_after.pointer(TERMS).unwrap_or(&Value::Null).to_string().contains("alibabacloud.com/external"));
    Ok(())
}

#[test]
fn conflicts_from_concurrent_writers_are_retried() -> Result<()> {
    let (sb, mut t) = setup("affinity_conflicts", "bgp", &["--fault-conflict-rate", "0.3"])?;
    t.env("TF_LOG_PROVIDER", "DEBUG");
    t.write_config(CALICO)?;
    t.apply()?;
    ensure!(every_term_has(&calico(&sb)?, TERMS, &ours(&["true"])));
    // Deterministically: the next two PUTs answer 409, as when another writer got in between.
    let faults = t.write_file("faults.json", r#"{"fail_next": [409, 409], "methods": ["PUT"]}"#)?;
    sb.kubectl(&["create", "--raw", "/__sandbox/faults", "-f", &faults.to_string_lossy()])?;
    t.write_config(
        r#"resource "hybrid_cni_affinity_patch" "this" {
  preset = "calico"
  values = ["true", "yes"]
}"#,
    )?;
    let out = t.apply()?;
    ensure!(out.combined().contains("conflict on update; re-reading"), "no conflict retry in the provider log");
    let left: Value = serde_json::from_str(&sb.kubectl(&["get", "--raw", "/__sandbox/faults"])?)?;
    ensure!(left["fail_next"] == json!([]), "the forced conflicts were not all answered: {left}");
    ensure!(every_term_has(&calico(&sb)?, TERMS, &ours(&["true", "yes"])), "update lost");
    t.assert_no_changes()?;
    t.destroy()?;
    let after = calico(&sb)?;
    ensure!(
        !after.pointer(TERMS).unwrap_or(&Value::Null).to_string().contains("alibabacloud.com/external"),
        "left behind"
    );
    Ok(())
}

#[test]
fn bad_input_fails_at_plan_on_the_attribute() -> Result<()> {
    let (_sb, mut t) = setup("affinity_validation", "host", &[])?;
    t.run_steps(vec![
        Step::expect_error(Cmd::Plan, "Set `preset`").with_config(r#"resource "hybrid_cni_affinity_patch" "this" {}"#),
        Step::expect_error(Cmd::Plan, "calico")
            .with_config(r#"resource "hybrid_cni_affinity_patch" "this" { preset = "weave" }"#),
        Step::expect_error(Cmd::Plan, "Conflicts with the preset").with_config(
            r#"resource "hybrid_cni_affinity_patch" "this" {
  preset = "calico"
  name   = "kube-flannel-ds"
}"#,
        ),
        Step::expect_error(Cmd::Plan, r#"name   = "kube-flannel-ds""#).with_config(
            r#"resource "hybrid_cni_affinity_patch" "this" {
  preset = "calico"
  name   = "kube-flannel-ds"
}"#,
        ),
        Step::expect_error(Cmd::Plan, "NotIn needs at least one value").with_config(
            r#"resource "hybrid_cni_affinity_patch" "this" {
  preset = "calico"
  values = []
}"#,
        ),
        Step::expect_error(Cmd::Plan, "is not a Kubernetes label key").with_config(
            r#"resource "hybrid_cni_affinity_patch" "this" {
  preset = "calico"
  key    = "Not A Key"
}"#,
        ),
        // Host networking: there is no CNI DaemonSet to patch.
        Step::expect_error(Cmd::Plan, "DaemonSet not found")
            .with_config(r#"resource "hybrid_cni_affinity_patch" "this" { preset = "calico" }"#),
    ])
}

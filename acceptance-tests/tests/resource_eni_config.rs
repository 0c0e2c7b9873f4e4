//! `hybrid_eni_config` through real Terraform against hybrid-sandbox: create, no-op re-plan, update,
//! import, drift made with kubectl, formatting-only edits, foreign keys, validation, faults, destroy.

use acceptance_tests::{check, Cmd, Sandbox, Step, TestCase};
use anyhow::{ensure, Result};
use serde_json::Value;

fn config(max_pool: i64) -> String {
    format!(
        r#"
variable "vswitch_ids" {{ type = map(list(string)) }}
variable "security_group_id" {{ type = string }}
resource "hybrid_eni_config" "this" {{
  vswitches                = var.vswitch_ids
  security_group           = var.security_group_id
  service_cidr             = "172.21.0.0/20"
  vswitch_selection_policy = "ordered"
  max_pool_size            = {max_pool}
  min_pool_size            = 0
  eni_tags                 = {{ "managed-by" = "terraform" }}
  access_key               = "LTAIexamplekey"
  access_secret            = "very-secret-value"
}}
"#
    )
}

fn eni_conf(sb: &Sandbox) -> Result<Value> {
    let cm = sb.get_json(&["configmap", "-n", "kube-system", "eni-config"])?;
    Ok(serde_json::from_str(cm["data"]["eni_conf"].as_str().unwrap_or("null"))?)
}

fn setup(name: &str, faults: &[&str]) -> Result<(Sandbox, TestCase)> {
    let sb = Sandbox::start("bgp", faults)?;
    let mut t = TestCase::new(name)?;
    t.env_file(&sb.env_file())?;
    Ok((sb, t))
}

const ADDR: &str = "hybrid_eni_config.this";

#[test]
fn lifecycle_with_drift_import_and_foreign_keys() -> Result<()> {
    let (sb, mut t) = setup("eni_config_lifecycle", &[])?;
    t.run_steps_keep(vec![
        Step::apply(&config(5))
            .check(check::attr_eq(ADDR, "id", "kube-system/eni-config"))
            .check(check::attr_eq(ADDR, "max_pool_size", 5))
            .check(check::attr_eq(ADDR, "cni_type", "terway")),
        Step::plan_empty(),
    ])?;
    let conf = eni_conf(&sb)?;
    ensure!(conf["max_pool_size"] == 5 && conf["vswitch_selection_policy"] == "ordered", "{conf}");
    ensure!(conf["vswitches"].as_object().is_some_and(|z| z.len() == 2), "{conf}");
    ensure!(conf["access_secret"] == "very-secret-value", "Terway needs the secret in the ConfigMap");

    // A key added by someone else survives our updates and our destroy.
    sb.kubectl(&[
        "patch",
        "configmap",
        "-n",
        "kube-system",
        "eni-config",
        "--type=merge",
        "-p",
        r#"{"data":{"note":"kept"}}"#,
    ])?;

    // Reformatting only (compact JSON, other key order): no diff.
    let compact = serde_json::to_string(&conf)?;
    let patch = serde_json::json!({"data": {"eni_conf": compact}}).to_string();
    sb.kubectl(&["patch", "configmap", "-n", "kube-system", "eni-config", "--type=merge", "-p", &patch])?;
    t.assert_no_changes()?;

    // Drift: a pool size edited out of band shows in the plan, on that attribute.
    let mut drifted = conf.clone();
    drifted["max_pool_size"] = 9.into();
    let patch = serde_json::json!({"data": {"eni_conf": drifted.to_string()}}).to_string();
    sb.kubectl(&["patch", "configmap", "-n", "kube-system", "eni-config", "--type=merge", "-p", &patch])?;
    let plan = t.plan()?;
    ensure!(plan.has_changes(), "drift not detected");
    let out = &plan.stdout;
    ensure!(out.contains("max_pool_size") && out.contains("9 -> 5"), "plan does not name the drift:\n{out}");
    ensure!(!out.contains("very-secret-value"), "secret in plan output");

    t.run_steps_keep(vec![
        // Apply repairs; update to a new size.
        Step::apply(&config(7)).check(check::attr_eq(ADDR, "max_pool_size", 7)),
        Step::plan_empty(),
        Step::import(ADDR, "kube-system/eni-config"),
    ])?;
    ensure!(eni_conf(&sb)?["max_pool_size"] == 7);
    let cm = sb.get_json(&["configmap", "-n", "kube-system", "eni-config", "--show-managed-fields"])?;
    ensure!(cm["data"]["note"] == "kept", "foreign key lost: {cm}");
    let managers = cm["metadata"]["managedFields"].to_string();
    ensure!(managers.contains("terraform-provider-hybrid"), "field manager missing: {managers}");

    t.run_steps(vec![Step::destroy()])?;
    // The ConfigMap holds someone else's key, so it stays, without ours.
    let cm = sb.get_json(&["configmap", "-n", "kube-system", "eni-config"])?;
    ensure!(cm["data"].get("eni_conf").is_none() && cm["data"]["note"] == "kept", "{cm}");
    Ok(())
}

#[test]
fn deleted_configmap_is_recreated_and_destroy_removes_what_it_created() -> Result<()> {
    let (sb, mut t) = setup("eni_config_recreate", &[])?;
    t.run_steps_keep(vec![Step::apply(&config(5))])?;
    sb.kubectl(&["delete", "configmap", "-n", "kube-system", "eni-config"])?;
    let plan = t.plan()?;
    ensure!(plan.has_changes() && plan.stdout.contains("will be created"), "{}", plan.stdout);
    t.run_steps(vec![Step::apply(&config(5)), Step::plan_empty(), Step::destroy()])?;
    ensure!(sb.kubectl(&["get", "configmap", "-n", "kube-system", "eni-config"]).is_err(), "ConfigMap left behind");
    Ok(())
}

#[test]
fn invalid_input_fails_at_plan_on_the_attribute() -> Result<()> {
    let (_sb, mut t) = setup("eni_config_validation", &[])?;
    let bad = |body: &str| {
        format!(
            r#"resource "hybrid_eni_config" "this" {{
  vswitches      = {{ "cn-hangzhou-h" = ["vsw-abc123"] }}
  security_group = "sg-abc123"
  service_cidr   = "172.21.0.0/20"
  {body}
}}"#
        )
    };
    t.run_steps(vec![
        Step::expect_error(Cmd::Plan, "min_pool_size").with_config(&bad("min_pool_size = 9\nmax_pool_size = 5")),
        Step::expect_error(Cmd::Plan, "is not a vSwitch ID").with_config(&bad("").replace("vsw-abc123", "vpc-abc123")),
        Step::expect_error(Cmd::Plan, "not a CIDR").with_config(&bad("").replace("172.21.0.0/20", "172.21.0.0/40")),
        Step::expect_error(Cmd::Plan, "needs one IPv4 and one IPv6").with_config(&bad("ip_stack = \"dual\"")),
        Step::expect_error(Cmd::Plan, "ordered").with_config(&bad("vswitch_selection_policy = \"first\"")),
        Step::expect_error(Cmd::Plan, "access_secret").with_config(&bad("access_key = \"LTAIx\"")),
    ])
}

#[test]
fn throttling_and_server_errors_are_retried() -> Result<()> {
    let (_sb, mut t) = setup(
        "eni_config_faults",
        &["--fault-429-rate", "0.3", "--fault-5xx-rate", "0.2", "--fault-5xx-code", "503", "--fault-retry-after", "1"],
    )?;
    t.run_steps(vec![Step::apply(&config(5)), Step::plan_empty(), Step::destroy()])
}

#[test]
fn cloud_checks_catch_wrong_vswitches_groups_and_overlaps_at_plan() -> Result<()> {
    let (sb, mut t) = setup("eni_config_cloud_checks", &[])?;
    let zones: serde_json::Map<String, Value> = serde_json::from_str(sb.var("TF_VAR_vswitch_ids").unwrap_or("{}"))?;
    let vsw_h = zones["cn-hangzhou-h"][0].as_str().unwrap_or_default().to_string();
    let vsw_i = zones["cn-hangzhou-i"][0].as_str().unwrap_or_default().to_string();
    let sg = sb.var("TF_VAR_security_group_id").unwrap_or_default().to_string();
    let foreign_vsw = sb.var("HYBRID_SANDBOX_FOREIGN_VSWITCH_ID").unwrap_or_default().to_string();
    let foreign_sg = sb.var("HYBRID_SANDBOX_FOREIGN_SECURITY_GROUP_ID").unwrap_or_default().to_string();
    let cfg = |h: &str, i: &str, sg: &str, cidr: &str| {
        format!(
            r#"variable "cluster_id" {{ type = string }}
resource "hybrid_eni_config" "this" {{
  cluster_id     = var.cluster_id
  vswitches      = {{ "cn-hangzhou-h" = ["{h}"], "cn-hangzhou-i" = ["{i}"] }}
  security_group = "{sg}"
  service_cidr   = "{cidr}"
}}"#
        )
    };
    t.run_steps(vec![
        Step::expect_error(Cmd::Plan, "not in the cluster's VPC").with_config(&cfg(
            &foreign_vsw,
            &vsw_i,
            &sg,
            "172.21.0.0/20",
        )),
        Step::expect_error(Cmd::Plan, "is in zone cn-hangzhou-i").with_config(&cfg(
            &vsw_i,
            &vsw_h,
            &sg,
            "172.21.0.0/20",
        )),
        Step::expect_error(Cmd::Plan, "does not exist").with_config(&cfg(
            "vsw-doesnotexist0",
            &vsw_i,
            &sg,
            "172.21.0.0/20",
        )),
        Step::expect_error(Cmd::Plan, "Security group in another VPC").with_config(&cfg(
            &vsw_h,
            &vsw_i,
            &foreign_sg,
            "172.21.0.0/20",
        )),
        Step::expect_error(Cmd::Plan, "overlaps").with_config(&cfg(&vsw_h, &vsw_i, &sg, "192.168.0.0/16")),
        Step::apply(&cfg(&vsw_h, &vsw_i, &sg, "172.21.0.0/20")).check(check::attr_set(ADDR, "cluster_id")),
        Step::plan_empty(),
    ])
}

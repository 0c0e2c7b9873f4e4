//! `hybrid_eni_config` through real Terraform against hybrid-sandbox (scenario bgp): create,
//! no-op re-plan, update, import, drift made with kubectl (a pool size, the secret),
//! formatting-only edits, foreign and unmodelled keys, adoption of an existing ConfigMap,
//! validation, faults (429/503/409) with the secret kept out of trace logs, destroy.

use acceptance_tests::{check, Cmd, PlanResult, Sandbox, Step, TestCase};
use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};

const ADDR: &str = "hybrid_eni_config.this";
const SECRET: &str = "very-secret-value";

fn config(max_pool: i64, min_pool: i64) -> String {
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
  min_pool_size            = {min_pool}
  eni_tags                 = {{ "managed-by" = "terraform" }}
  access_key               = "LTAIexamplekey"
  access_secret            = "{SECRET}"
}}
"#
    )
}

fn configmap(sb: &Sandbox) -> Result<Value> {
    sb.get_json(&["configmap", "-n", "kube-system", "eni-config", "--show-managed-fields"])
}

/// One JSON document of the ConfigMap, parsed.
fn document(cm: &Value, key: &str) -> Result<Value> {
    let text = cm["data"][key].as_str().with_context(|| format!("no {key} in {cm}"))?;
    Ok(serde_json::from_str(text)?)
}

/// `kubectl patch --type=merge` of the ConfigMap's data.
fn patch_data(sb: &Sandbox, data: Value) -> Result<()> {
    let patch = json!({ "data": data }).to_string();
    sb.kubectl(&["patch", "configmap", "-n", "kube-system", "eni-config", "--type=merge", "-p", &patch])?;
    Ok(())
}

/// The document as compact JSON with its keys in reverse order: the same value, other text.
fn reformatted(doc: &Value) -> String {
    let entries: Vec<String> = doc
        .as_object()
        .map(|o| o.iter().rev().map(|(k, v)| format!("{}:{}", json!(k), v)).collect())
        .unwrap_or_default();
    format!("{{{}}}", entries.join(","))
}

/// The attributes whose planned value differs from the refreshed prior state.
fn changed_attributes(plan: &PlanResult) -> Result<Vec<String>> {
    let change = plan.change(ADDR)?;
    let (before, after) = (&change["before"], &change["after"]);
    let keys = before.as_object().context("no prior state in the plan")?.keys();
    Ok(keys.filter(|k| before[k.as_str()] != after[k.as_str()]).cloned().collect())
}

fn setup(name: &str, faults: &[&str]) -> Result<(Sandbox, TestCase)> {
    let sb = Sandbox::start("bgp", faults)?;
    let mut t = TestCase::new(name)?;
    t.env_file(&sb.env_file())?;
    Ok((sb, t))
}

#[test]
fn lifecycle_with_drift_import_and_foreign_keys() -> Result<()> {
    let (sb, mut t) = setup("eni_config_lifecycle", &[])?;
    t.run_steps_keep(vec![
        Step::apply(&config(5, 0))
            .check(check::attr_eq(ADDR, "id", "kube-system/eni-config"))
            .check(check::attr_eq(ADDR, "max_pool_size", 5))
            .check(check::attr_eq(ADDR, "version", "1"))
            .check(check::attr_eq(ADDR, "cni_type", "terway"))
            .check(check::attr_eq(ADDR, "ipvlan", false)),
        Step::plan_empty(),
    ])?;

    // The ConfigMap holds what Terway reads.
    let cm = configmap(&sb)?;
    let eni = document(&cm, "eni_conf")?;
    let zones: Value = serde_json::from_str(sb.var("TF_VAR_vswitch_ids").context("vswitch_ids")?)?;
    let expected = json!({
        "version": "1",
        "max_pool_size": 5,
        "min_pool_size": 0,
        "vswitches": zones,
        "eni_tags": {"managed-by": "terraform"},
        "service_cidr": "172.21.0.0/20",
        "security_group": sb.var("TF_VAR_security_group_id").context("security_group_id")?,
        "vswitch_selection_policy": "ordered",
        "eni_selection_policy": "most_ips",
        "ip_stack": "ipv4",
        "eni_cap_ratio": 1.0,
        "access_key": "LTAIexamplekey",
        "access_secret": SECRET,
    });
    ensure!(eni == expected, "eni_conf:\n{eni:#}\nexpected:\n{expected:#}");
    let cni = document(&cm, "10-terway.conf")?;
    ensure!(cni == json!({"cniVersion": "0.3.0", "name": "terway", "type": "terway"}), "10-terway.conf: {cni}");
    // Server-side apply as terraform-provider-hybrid, owning exactly our two keys.
    let ours: Vec<&Value> = cm["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["manager"] == "terraform-provider-hybrid" && e["operation"] == "Apply")
        .collect();
    ensure!(ours.len() == 1, "no Apply entry of terraform-provider-hybrid: {}", cm["metadata"]["managedFields"]);
    let mut owned: Vec<&String> = ours[0]["fieldsV1"]["f:data"].as_object().context("f:data")?.keys().collect();
    owned.sort();
    ensure!(owned == ["f:10-terway.conf", "f:eni_conf"], "owned fields: {owned:?}");

    // A key of someone else's, and an eni_conf key Terway reads that we do not model: no diff.
    let mut with_unmodelled = eni.clone();
    with_unmodelled["ip_pool_sync_period"] = json!("120s");
    patch_data(&sb, json!({"note": "kept", "eni_conf": with_unmodelled.to_string()}))?;
    t.assert_no_changes()?;

    // Reformatting only (compact JSON, keys in another order): no diff.
    let compact = reformatted(&with_unmodelled);
    ensure!(compact != cm["data"]["eni_conf"].as_str().unwrap_or_default(), "the text did not change");
    patch_data(&sb, json!({"eni_conf": compact}))?;
    t.assert_no_changes()?;

    // Drift: a pool size edited with kubectl shows in the plan, on that attribute only.
    let mut drifted = with_unmodelled.clone();
    drifted["max_pool_size"] = 9.into();
    patch_data(&sb, json!({"eni_conf": drifted.to_string()}))?;
    let plan = t.plan()?;
    ensure!(plan.exit_code == 2, "drift not detected (plan exit {})", plan.exit_code);
    let out = &plan.stdout;
    ensure!(out.contains("max_pool_size") && out.contains("9 -> 5"), "plan does not name the drift:\n{out}");
    ensure!(changed_attributes(&plan)? == ["max_pool_size"], "changed: {:?}", changed_attributes(&plan)?);

    // Drift of the secret is detected too, without showing either value.
    drifted["access_secret"] = json!("rotated-by-hand");
    patch_data(&sb, json!({"eni_conf": drifted.to_string()}))?;
    let plan = t.plan()?;
    let mut changed = changed_attributes(&plan)?;
    changed.sort();
    ensure!(changed == ["access_secret", "max_pool_size"], "changed: {changed:?}");
    let out = format!("{}{}", plan.stdout, plan.stderr);
    ensure!(out.contains("access_secret") && out.contains("(sensitive value)"), "secret drift not shown:\n{out}");
    ensure!(!out.contains(SECRET) && !out.contains("rotated-by-hand"), "a secret in the plan output:\n{out}");

    // Apply repairs the drift and updates the pool sizes; the other keys stay.
    t.run_steps_keep(vec![
        Step::apply(&config(7, 2)).check(check::attr_eq(ADDR, "max_pool_size", 7)).check(check::attr_eq(
            ADDR,
            "min_pool_size",
            2,
        )),
        Step::plan_empty(),
        Step::import(ADDR, "kube-system/eni-config"),
    ])?;
    let cm = configmap(&sb)?;
    let eni = document(&cm, "eni_conf")?;
    ensure!(eni["max_pool_size"] == 7 && eni["min_pool_size"] == 2, "{eni}");
    ensure!(eni["access_secret"] == SECRET, "secret not repaired");
    ensure!(eni["ip_pool_sync_period"] == "120s", "unmodelled key lost: {eni}");
    ensure!(cm["data"]["note"] == "kept", "foreign key lost: {cm}");

    t.run_steps(vec![Step::destroy()])?;
    // The ConfigMap holds someone else's key, so it stays, without ours.
    let cm = configmap(&sb)?;
    let keys: Vec<&String> = cm["data"].as_object().context("data")?.keys().collect();
    ensure!(keys == ["note"], "after destroy: {keys:?}");
    Ok(())
}

#[test]
fn an_existing_configmap_is_adopted_and_kept_on_destroy() -> Result<()> {
    let (sb, mut t) = setup("eni_config_adopt", &[])?;
    sb.kubectl(&[
        "create",
        "configmap",
        "eni-config",
        "-n",
        "kube-system",
        r#"--from-literal=eni_conf={"max_pool_size": 3, "ip_pool_sync_period": "60s"}"#,
        "--from-literal=other=keep",
    ])?;
    t.run_steps_keep(vec![Step::apply(&config(5, 0)), Step::plan_empty()])?;
    let cm = configmap(&sb)?;
    let eni = document(&cm, "eni_conf")?;
    ensure!(eni["max_pool_size"] == 5 && eni["ip_pool_sync_period"] == "60s", "{eni}");
    ensure!(cm["data"]["other"] == "keep", "{cm}");
    t.run_steps(vec![Step::destroy()])?;
    // Not created by Terraform: our keys go, the ConfigMap and its other key stay.
    let cm = configmap(&sb)?;
    let keys: Vec<&String> = cm["data"].as_object().context("data")?.keys().collect();
    ensure!(keys == ["other"], "after destroy: {keys:?}");
    Ok(())
}

#[test]
fn deleted_configmap_is_recreated_and_destroy_removes_what_it_created() -> Result<()> {
    let (sb, mut t) = setup("eni_config_recreate", &[])?;
    t.run_steps_keep(vec![Step::apply(&config(5, 0))])?;
    sb.kubectl(&["delete", "configmap", "-n", "kube-system", "eni-config"])?;
    let plan = t.plan()?;
    ensure!(plan.has_changes() && plan.stdout.contains("will be created"), "{}", plan.stdout);
    t.run_steps(vec![Step::apply(&config(5, 0)), Step::plan_empty(), Step::destroy()])?;
    ensure!(sb.kubectl(&["get", "configmap", "-n", "kube-system", "eni-config"]).is_err(), "ConfigMap left behind");
    Ok(())
}

#[test]
fn invalid_input_fails_at_plan_on_the_attribute() -> Result<()> {
    let (_sb, mut t) = setup("eni_config_validation", &[])?;
    let cfg = |body: &str| {
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
        // Each error names its attribute path (Terraform prints it as `with ..., on main.tf line N,
        // in resource ...: N: <attribute> = ...`) and says what is wrong.
        Step::expect_error(Cmd::Plan, "min_pool_size (9) must not be greater than max_pool_size (5)")
            .with_config(&cfg("min_pool_size = 9\nmax_pool_size = 5")),
        Step::expect_error(Cmd::Plan, "\"vpc-abc123\" is not a vSwitch ID")
            .with_config(&cfg("").replace("vsw-abc123", "vpc-abc123")),
        Step::expect_error(Cmd::Plan, "\"cn_hangzhou\" is not a zone ID")
            .with_config(&cfg("").replace("cn-hangzhou-h", "cn_hangzhou")),
        Step::expect_error(Cmd::Plan, "\"172.21.0.0/40\" is not a CIDR block")
            .with_config(&cfg("").replace("172.21.0.0/20", "172.21.0.0/40")),
        Step::expect_error(Cmd::Plan, "ip_stack \"dual\" needs one IPv4 and one IPv6")
            .with_config(&cfg("ip_stack = \"dual\"")),
        Step::expect_error(Cmd::Plan, "ip_stack \"ipv6\" needs exactly one IPv6 CIDR")
            .with_config(&cfg("ip_stack = \"ipv6\"")),
        Step::expect_error(Cmd::Plan, "\"sg_1\" is not a valid ID").with_config(&cfg("").replace("sg-abc123", "sg_1")),
        Step::expect_error(Cmd::Plan, "Expected one of: ordered, random, most")
            .with_config(&cfg("vswitch_selection_policy = \"first\"")),
        Step::expect_error(Cmd::Plan, "access_secret").with_config(&cfg("access_key = \"LTAIx\"")),
        // A bad import ID is a clear diagnostic.
        Step::expect_error(Cmd::import(ADDR, "eni-config"), "is not `namespace/name` of a ConfigMap")
            .with_config(&cfg("")),
    ])
}

#[test]
fn validation_errors_carry_the_attribute_path() -> Result<()> {
    let (_sb, mut t) = setup("eni_config_paths", &[])?;
    t.write_config(
        r#"resource "hybrid_eni_config" "this" {
  vswitches      = { "cn-hangzhou-h" = ["vsw-abc123"] }
  security_group = "sg-abc123"
  service_cidr   = "172.21.0.0/20"
  min_pool_size  = 9
  max_pool_size  = 5
}"#,
    )?;
    let out = t.expect_error(Cmd::Plan, "min_pool_size exceeds max_pool_size")?;
    // Terraform quotes the configuration line of the attribute the diagnostic points at.
    let text = out.combined();
    ensure!(text.contains("min_pool_size  = 9"), "diagnostic not attached to min_pool_size:\n{text}");
    Ok(())
}

#[test]
fn throttling_server_errors_and_conflicts_are_retried_and_the_secret_stays_out_of_logs() -> Result<()> {
    let (sb, mut t) = setup(
        "eni_config_faults",
        &[
            "--fault-429-rate",
            "0.3",
            "--fault-5xx-rate",
            "0.2",
            "--fault-5xx-code",
            "503",
            "--fault-conflict-rate",
            "0.2",
            "--fault-retry-after",
            "1",
        ],
    )?;
    t.env("TF_LOG", "trace");
    t.write_config(&config(5, 0))?;
    let applied = t.apply()?;
    let logs = applied.combined();
    ensure!(logs.contains("hybrid_eni_config"), "no trace output captured");
    ensure!(!logs.contains(SECRET), "the secret appears in TF_LOG=trace output");
    ensure!(document(&configmap(&sb)?, "eni_conf")?["max_pool_size"] == 5, "not applied");
    t.assert_no_changes()?;
    t.write_config(&config(6, 1))?;
    let updated = t.apply()?;
    ensure!(!updated.combined().contains(SECRET), "the secret appears in TF_LOG=trace output");
    let destroyed = t.destroy()?;
    ensure!(!destroyed.combined().contains(SECRET), "the secret appears in TF_LOG=trace output");
    ensure!(sb.kubectl(&["get", "configmap", "-n", "kube-system", "eni-config"]).is_err(), "ConfigMap left behind");
    Ok(())
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

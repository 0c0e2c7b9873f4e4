//! `hybrid_terway_addon` through real Terraform against hybrid-sandbox's Container Service API:
//! install (the terway-eniip DaemonSet appears), no-op re-plan, config compared as JSON, upgrade,
//! modify, drift, import, uninstall, plan-time checks, and ambiguous failures.

use acceptance_tests::{check, Cmd, Sandbox, Step, TestCase};
use anyhow::{ensure, Result};

const ADDR: &str = "hybrid_terway_addon.this";

fn setup(name: &str, flags: &[&str]) -> Result<(Sandbox, TestCase)> {
    let sb = Sandbox::start("bgp", flags)?;
    let mut t = TestCase::new(name)?;
    t.env_file(&sb.env_file())?;
    Ok((sb, t))
}

fn config(body: &str) -> String {
    format!("variable \"cluster_id\" {{ type = string }}\nresource \"hybrid_terway_addon\" \"this\" {{\n  cluster_id = var.cluster_id\n{body}\n}}\n")
}

#[test]
fn install_upgrade_modify_drift_import_uninstall() -> Result<()> {
    let (sb, mut t) = setup("terway_addon_lifecycle", &[])?;
    let cluster = sb.var("TF_VAR_cluster_id").unwrap_or_default().to_string();
    t.run_steps_keep(vec![
        Step::apply(&config("  version = \"v1.16.6\"\n  config = jsonencode({ IPVlan = \"false\" })"))
            .check(check::attr_eq(ADDR, "id", format!("{cluster}:terway-eniip")))
            .check(check::attr_eq(ADDR, "state", "active"))
            .check(check::attr_eq(ADDR, "network_policy", false)),
        Step::plan_empty(),
    ])?;
    let ds = sb.get_json(&["daemonset", "-n", "kube-system", "terway-eniip"])?;
    ensure!(ds["spec"]["template"]["spec"]["nodeSelector"]["alibabacloud.com/external"] == "true", "{ds}");

    // The service stores the config as its own JSON text (with NetworkPolicy merged in); the
    // re-plan above was empty, so that is no perpetual diff. The same JSON written differently in
    // the configuration is applied once (an in-place no-op) and then stays quiet.
    t.run_steps_keep(vec![Step::apply(&config(
        "  version = \"v1.16.6\"\n  config = \"{ \\\"IPVlan\\\" : \\\"false\\\" }\"",
    ))])?;

    t.run_steps_keep(vec![
        // Upgrade, then turn NetworkPolicy on (a config modification).
        Step::apply(&config("  version = \"v1.17.5\"\n  config = jsonencode({ IPVlan = \"false\" })"))
            .check(check::attr_eq(ADDR, "version", "v1.17.5")),
        // A config change is a modification in place.
        Step::apply(&config("  config = jsonencode({ IPVlan = \"true\" })")).check(check::attr_eq(
            ADDR,
            "config",
            r#"{"IPVlan":"true"}"#,
        )),
        Step::import(ADDR, &format!("{cluster}:terway-eniip")).ignore(&["config", "timeouts"]),
    ])?;
    let ds = sb.get_json(&["daemonset", "-n", "kube-system", "terway-eniip"])?;
    ensure!(ds.to_string().contains("v1.17.5"), "the DaemonSet runs the upgraded image: {ds}");

    t.run_steps(vec![Step::destroy()])?;
    ensure!(
        sb.kubectl(&["get", "daemonset", "-n", "kube-system", "terway-eniip"]).is_err(),
        "uninstall left the DaemonSet"
    );
    Ok(())
}

#[test]
fn network_policy_is_a_modification_where_no_calico_runs() -> Result<()> {
    let sb = Sandbox::start("host", &[])?;
    let mut t = TestCase::new("terway_addon_network_policy")?;
    t.env_file(&sb.env_file())?;
    t.run_steps(vec![
        Step::apply(&config("")).check(check::attr_eq(ADDR, "network_policy", false)),
        Step::apply(&config("  network_policy = true")).check(check::attr_eq(ADDR, "network_policy", true)),
        Step::plan_empty(),
        Step::destroy(),
    ])
}

#[test]
fn plan_time_checks() -> Result<()> {
    let (_sb, mut t) = setup("terway_addon_plan_checks", &[])?;
    t.run_steps(vec![
        Step::expect_error(Cmd::Plan, "Not a registered cluster").with_config(
            r#"resource "hybrid_terway_addon" "this" { cluster_id = "c00000000000000000000000000000000" }"#,
        ),
        Step::expect_error(Cmd::Plan, "v1.17.5").with_config(&config("  version = \"v9.9.9\"")),
        Step::expect_error(Cmd::Plan, "network_policy")
            .with_config(&config("  config = jsonencode({ NetworkPolicy = \"true\" })")),
    ])
}

#[test]
fn ambiguous_failures_and_throttling_converge() -> Result<()> {
    // Every changing call has its answer lost half the time (the change is made); throttling too.
    let (_sb, mut t) = setup(
        "terway_addon_faults",
        &["--cloud-fault-ambiguous-rate", "0.5", "--cloud-fault-throttle-rate", "0.2", "--cloud-fault-seed", "7"],
    )?;
    t.run_steps(vec![Step::apply(&config("")), Step::plan_empty(), Step::destroy()])
}

//! `hybrid_ram_grant` through real Terraform against hybrid-sandbox (RAM + Kubernetes): the user,
//! policy, attachment and key; the secret only in the Kubernetes Secret (never in state, plan or
//! logs); drift (policy detached, key deleted, Secret edited) planned and repaired; rotation without
//! an invalid key; import; destroy; lost answers.

use acceptance_tests::{check, Console, Sandbox, Step, TestCase};
use anyhow::{ensure, Context, Result};
use base64::Engine;

const ADDR: &str = "hybrid_ram_grant.this";

fn config(rotation: &str) -> String {
    format!("resource \"hybrid_ram_grant\" \"this\" {{\n  rotation = \"{rotation}\"\n}}\n")
}

fn secret_pair(sb: &Sandbox) -> Result<(String, String)> {
    let s = sb.get_json(&["secret", "-n", "kube-system", "alibaba-addon-secret"])?;
    let field = |k: &str| -> Result<String> {
        let b = base64::engine::general_purpose::STANDARD.decode(s["data"][k].as_str().context("missing key")?)?;
        Ok(String::from_utf8(b)?)
    };
    Ok((field("access-key-id")?, field("access-key-secret")?))
}

fn keys(console: &Console, user: &str) -> Result<Vec<(String, String)>> {
    let r = console.rpc("ram", "ListAccessKeys", &[("UserName", user)])?;
    Ok(r["AccessKeys"]["AccessKey"]
        .as_array()
        .map(|ks| {
            ks.iter()
                .map(|k| (k["AccessKeyId"].as_str().unwrap_or("").into(), k["Status"].as_str().unwrap_or("").into()))
                .collect()
        })
        .unwrap_or_default())
}

#[test]
fn grant_lifecycle_with_drift_rotation_import_and_secrecy() -> Result<()> {
    let sb = Sandbox::start("bgp", &[])?;
    let console = Console::for_sandbox(&sb)?;
    let mut t = TestCase::new("ram_grant_lifecycle")?;
    t.env_file(&sb.env_file())?;
    t.env("TF_LOG_PROVIDER", "DEBUG");
    t.run_steps_keep(vec![
        Step::apply(&config("1"))
            .check(check::attr_matches(ADDR, "user_name", "^ack-one-user-[0-9a-f]{10}$"))
            .check(check::attr_eq(ADDR, "policy_attached", true))
            .check(check::attr_eq(ADDR, "access_key_status", "Active"))
            .check(check::attr_eq(ADDR, "secret_in_sync", true)),
        Step::plan_empty(),
    ])?;
    let user = t.attr(ADDR, "user_name")?.as_str().unwrap_or_default().to_string();
    let (id, secret) = secret_pair(&sb)?;
    ensure!(t.attr(ADDR, "access_key_id")? == id.as_str(), "state and Secret disagree on the key");
    // The secret is nowhere Terraform keeps or shows things.
    let state_text = std::fs::read_to_string(t.work_dir().join("terraform.tfstate"))?;
    ensure!(!state_text.contains(&secret), "AccessKey secret in terraform.tfstate");
    let plan = t.plan()?;
    ensure!(
        !plan.stdout.contains(&secret) && !plan.stderr.contains(&secret),
        "AccessKey secret in plan output or logs"
    );
    ensure!(plan.stderr.contains("calling"), "debug logs were not captured, so the check above proves nothing");
    t.env_remove("TF_LOG_PROVIDER");

    // Drift 1: the policy detached in the console.
    console.rpc(
        "ram",
        "DetachPolicyFromUser",
        &[
            ("PolicyType", "Custom"),
            ("PolicyName", "ack-one-registered-cluster-policy-terway-eniip"),
            ("UserName", &user),
        ],
    )?;
    let plan = t.plan()?;
    ensure!(plan.stdout.contains("policy_attached") && plan.stdout.contains("false -> true"), "{}", plan.stdout);
    t.run_steps_keep(vec![Step::apply(&config("1")).check(check::attr_eq(ADDR, "policy_attached", true))])?;

    // Drift 2: the Secret edited by hand: a new key is put in.
    let bogus = base64::engine::general_purpose::STANDARD.encode("not-the-secret");
    sb.kubectl(&[
        "patch",
        "secret",
        "-n",
        "kube-system",
        "alibaba-addon-secret",
        "--type=merge",
        "-p",
        &format!(r#"{{"data":{{"access-key-secret":"{bogus}"}}}}"#),
    ])?;
    let plan = t.plan()?;
    ensure!(plan.stdout.contains("secret_in_sync") && plan.stdout.contains("false -> true"), "{}", plan.stdout);
    t.run_steps_keep(vec![Step::apply(&config("1"))])?;
    let (id2, _) = secret_pair(&sb)?;
    ensure!(id2 != id, "the repair put a new key in");
    ensure!(
        keys(&console, &user)? == vec![(id2.clone(), "Active".to_string())],
        "old key not deleted: {:?}",
        keys(&console, &user)?
    );

    // Drift 3: the key deleted in the console.
    console.rpc("ram", "DeleteAccessKey", &[("UserName", &user), ("UserAccessKeyId", &id2)])?;
    let plan = t.plan()?;
    ensure!(
        plan.stdout.contains("access_key_status") && plan.stdout.contains("\"Deleted\" -> \"Active\""),
        "{}",
        plan.stdout
    );
    t.run_steps_keep(vec![Step::apply(&config("1")).check(check::attr_eq(ADDR, "secret_in_sync", true))])?;
    let (id3, _) = secret_pair(&sb)?;

    // Rotation: a new key in the Secret, the old one gone.
    t.run_steps_keep(vec![Step::apply(&config("2")), Step::import(ADDR, &user).ignore(&["rotation"])])?;
    let (id4, _) = secret_pair(&sb)?;
    ensure!(id4 != id3 && keys(&console, &user)?.len() == 1, "rotation left {:?}", keys(&console, &user)?);

    t.run_steps(vec![Step::destroy()])?;
    ensure!(console.rpc("ram", "GetUser", &[("UserName", &user)]).is_err(), "user left behind");
    ensure!(sb.kubectl(&["get", "secret", "-n", "kube-system", "alibaba-addon-secret"]).is_err(), "Secret left behind");
    Ok(())
}

#[test]
fn lost_answers_and_throttling_leave_nothing_behind() -> Result<()> {
    let sb = Sandbox::start(
        "bgp",
        &["--cloud-fault-ambiguous-rate", "0.4", "--cloud-fault-throttle-rate", "0.2", "--cloud-fault-seed", "3"],
    )?;
    let console = Console::for_sandbox(&sb)?;
    let mut t = TestCase::new("ram_grant_faults")?;
    t.env_file(&sb.env_file())?;
    let cfg = "resource \"hybrid_ram_grant\" \"this\" {\n  user_name = \"ack-one-user-faults\"\n}\n";
    t.run_steps_keep(vec![Step::apply(cfg), Step::plan_empty()])?;
    ensure!(keys(&console, "ack-one-user-faults")?.len() == 1, "one key, not an orphan more");
    t.run_steps(vec![Step::destroy()])?;
    ensure!(console.rpc("ram", "GetUser", &[("UserName", "ack-one-user-faults")]).is_err());
    Ok(())
}

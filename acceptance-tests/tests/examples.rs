//! Every example applies unmodified against hybrid-sandbox (after its sandbox.env), re-plans empty
//! and destroys; the drift script reports a kubectl-made change by resource and attribute; every
//! documentation snippet passes `terraform validate`.

use std::path::PathBuf;

use acceptance_tests::{check, repo_root, Console, Sandbox, Step, TestCase};
use anyhow::{ensure, Context, Result};
use base64::Engine;
use serde_json::{json, Value};

fn example(dir: &str) -> Result<String> {
    let path = repo_root().join("examples").join(dir).join("main.tf");
    std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
}

fn case(name: &str, scenario: &str, flags: &[&str]) -> Result<(Sandbox, TestCase)> {
    let sb = Sandbox::start(scenario, flags)?;
    let mut t = TestCase::new(name)?;
    t.env_file(&sb.env_file())?;
    Ok((sb, t))
}

/// The cloud's state dump (users, policies, addons) from the sandbox admin endpoint.
fn cloud_state(sb: &Sandbox) -> Result<Value> {
    let url = sb.var("HYBRID_SANDBOX_CLOUD_STATE_URL").context("no state URL")?;
    let token = sb.var("HYBRID_SANDBOX_KUBE_TOKEN").context("no token")?;
    let out = std::process::Command::new("curl")
        .args(["-sf", "-H", &format!("Authorization: Bearer {token}"), url])
        .output()
        .context("running curl")?;
    ensure!(out.status.success(), "curl {url} failed");
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// Nothing the example created is left in the cloud.
fn assert_nothing_left(sb: &Sandbox) -> Result<()> {
    let state = cloud_state(sb)?;
    let users = &state["ram"]["users"];
    ensure!(users.as_array().is_none_or(|u| u.is_empty()), "RAM users left: {users}");
    let policies = &state["ram"]["custom_policies"];
    ensure!(policies.as_array().is_none_or(|p| p.is_empty()), "custom policies left: {policies}");
    let addons = state["cs"]["clusters"][0]["addons"].clone();
    ensure!(addons.as_array().is_none_or(|a| a.is_empty()), "addons left: {addons}");
    Ok(())
}

fn seed_checks(sb: &Sandbox) -> Result<()> {
    // The seed's own checks: terway-eniip selects cloud nodes only, calico-node excludes them.
    let ds = sb.get_json(&["daemonset", "-n", "kube-system", "terway-eniip"])?;
    ensure!(ds["spec"]["template"]["spec"]["nodeSelector"]["alibabacloud.com/external"] == "true", "{ds}");
    let calico = sb.get_json(&["daemonset", "-n", "kube-system", "calico-node"])?;
    let terms = &calico["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]
        ["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"];
    let ours = json!({"key": "alibabacloud.com/external", "operator": "NotIn", "values": ["true"]});
    ensure!(
        terms
            .as_array()
            .is_some_and(|ts| ts.iter().all(|t| t["matchExpressions"].as_array().is_some_and(|e| e.contains(&ours)))),
        "{terms}"
    );
    let cm = sb.get_json(&["configmap", "-n", "kube-system", "eni-config"])?;
    ensure!(cm["data"]["eni_conf"].as_str().is_some_and(|c| c.contains("vswitches")), "{cm}");
    Ok(())
}

#[test]
fn hybrid_cluster_applies_replans_empty_and_destroys() -> Result<()> {
    let (sb, mut t) = case("example_hybrid_cluster", "bgp", &[])?;
    t.run_steps_keep(vec![Step::apply(&example("hybrid-cluster")?)
        .check(check::output_eq("scenario", "bgp (calico bgp)"))
        .check(check::output_eq("cni_kept_off_cloud_nodes", true))])?;
    seed_checks(&sb)?;
    t.run_steps(vec![Step::destroy()])?;
    assert_nothing_left(&sb)
}

#[test]
fn hybrid_cluster_converges_under_faults_and_keeps_the_secret_out_of_everything() -> Result<()> {
    // 30% throttling and 5% server errors on the cloud APIs, 20% 429s on the Kubernetes API.
    let (sb, mut t) = case(
        "example_hybrid_cluster_faults",
        "bgp",
        &[
            "--cloud-fault-throttle-rate",
            "0.3",
            "--cloud-fault-5xx-rate",
            "0.05",
            "--cloud-fault-seed",
            "11",
            "--fault-429-rate",
            "0.2",
            "--fault-retry-after",
            "1",
        ],
    )?;
    t.env("TF_LOG", "trace");
    let apply = {
        t.write_config(&example("hybrid-cluster")?)?;
        t.apply()?
    };
    let s = sb.get_json(&["secret", "-n", "kube-system", "alibaba-addon-secret"])?;
    let secret = String::from_utf8(
        base64::engine::general_purpose::STANDARD.decode(s["data"]["access-key-secret"].as_str().unwrap_or(""))?,
    )?;
    ensure!(secret.len() >= 20, "no secret in the Secret");
    ensure!(apply.stderr.len() > 10_000, "TF_LOG=trace produced no log, so the check below proves nothing");
    ensure!(
        !apply.stdout.contains(&secret) && !apply.stderr.contains(&secret),
        "the secret is in the apply output or trace log"
    );
    let state = t.state_json()?.to_string();
    ensure!(!state.contains(&secret), "the secret is in `terraform show -json`");
    let plan = t.plan()?;
    ensure!(!plan.has_changes(), "not converged: {:?}", plan.changed_addresses());
    ensure!(!plan.json.to_string().contains(&secret) && !plan.stderr.contains(&secret), "the secret is in the plan");
    t.env_remove("TF_LOG");
    t.run_steps(vec![Step::destroy()])?;
    assert_nothing_left(&sb)
}

#[test]
fn host_network_example() -> Result<()> {
    let (sb, mut t) = case("example_host_network", "host", &[])?;
    t.run_steps(vec![
        Step::apply(&example("host-network")?).check(check::output_eq("scenario", "host-network")),
        Step::plan_empty(),
        Step::destroy(),
    ])?;
    assert_nothing_left(&sb)
}

#[test]
fn overlay_example() -> Result<()> {
    let (_sb, mut t) = case("example_overlay", "overlay", &[])?;
    t.run_steps(vec![
        Step::apply(&example("overlay")?).check(check::custom(|s| {
            let out = s.output("network")?;
            ensure!(out["scenario"] == "overlay" && out["cni"] == "flannel" && out["mode"] == "vxlan", "{out}");
            Ok(())
        })),
        Step::plan_empty(),
    ])
}

#[test]
fn drift_script_reports_kubectl_changes_by_resource_and_attribute() -> Result<()> {
    let (sb, mut t) = case("example_drift_detection", "bgp", &[])?;
    t.run_steps_keep(vec![Step::apply(&example("drift-detection")?)])?;
    let script = repo_root().join("examples/drift-detection/drift-check.sh");
    let run = |t: &TestCase| -> Result<(i32, String)> {
        let out = t.command("bash").arg(&script).arg(".").output()?;
        Ok((
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        ))
    };
    let (code, out) = run(&t)?;
    ensure!(code == 0 && out.contains("No drift"), "exit {code}: {out}");

    // Out of band: a pool size edited and the calico-node expression removed.
    let cm = sb.get_json(&["configmap", "-n", "kube-system", "eni-config"])?;
    let mut conf: Value = serde_json::from_str(cm["data"]["eni_conf"].as_str().unwrap_or("{}"))?;
    conf["max_pool_size"] = 9.into();
    let patch = json!({"data": {"eni_conf": conf.to_string()}}).to_string();
    sb.kubectl(&["patch", "configmap", "-n", "kube-system", "eni-config", "--type=merge", "-p", &patch])?;
    let ds = sb.get_json(&["daemonset", "-n", "kube-system", "calico-node"])?;
    let exprs = &ds["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]
        ["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]["matchExpressions"];
    let idx = exprs
        .as_array()
        .and_then(|e| e.iter().position(|x| x["key"] == "alibabacloud.com/external"))
        .context("no expression")?;
    let path = format!("/spec/template/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/matchExpressions/{idx}");
    sb.kubectl(&[
        "patch",
        "daemonset",
        "-n",
        "kube-system",
        "calico-node",
        "--type=json",
        "-p",
        &json!([{"op": "remove", "path": path}]).to_string(),
    ])?;

    let (code, out) = run(&t)?;
    ensure!(code == 2, "exit {code}: {out}");
    ensure!(out.contains("hybrid_eni_config.this has drifted") && out.contains("max_pool_size: 9 -> 5"), "{out}");
    ensure!(
        out.contains("hybrid_cni_affinity_patch.calico has drifted") && out.contains("in_effect: false -> true"),
        "{out}"
    );
    t.run_steps(vec![Step::destroy()])
}

fn snippets() -> Result<Vec<PathBuf>> {
    let mut out = vec![repo_root().join("examples/provider/provider.tf")];
    for kind in ["resources", "data-sources"] {
        for entry in std::fs::read_dir(repo_root().join("examples").join(kind))? {
            let dir = entry?.path();
            for file in ["resource.tf", "data-source.tf"] {
                if dir.join(file).exists() {
                    out.push(dir.join(file));
                }
            }
        }
    }
    Ok(out)
}

#[test]
fn every_documentation_snippet_validates() -> Result<()> {
    let files = snippets()?;
    ensure!(files.len() >= 7, "expected a snippet per type and the provider, found {}", files.len());
    for file in files {
        let name =
            file.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let mut t = TestCase::new(&format!("snippet_{name}"))?;
        t.write_config(&std::fs::read_to_string(&file)?)?;
        t.init()?;
        let out = t.run(&["validate", "-no-color"])?;
        ensure!(out.exit_code == 0, "{} does not validate:\n{}", file.display(), out.combined());
    }
    Ok(())
}

#[test]
fn console_sees_what_the_examples_use() -> Result<()> {
    // The out-of-band tool the tests above rely on reads the seeded cluster.
    let sb = Sandbox::start("bgp", &[])?;
    let c = Console::for_sandbox(&sb)?;
    let id = sb.var("TF_VAR_cluster_id").context("no cluster id")?;
    let detail = c.cs("DescribeClusterDetail", "GET", &format!("/clusters/{id}"), None)?;
    ensure!(detail["cluster_type"] == "ExternalKubernetes");
    Ok(())
}

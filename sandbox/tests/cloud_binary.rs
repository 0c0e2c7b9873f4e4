//! The `hybrid-sandbox` binary with the cloud flags: fixed credentials, task delay and faults from
//! the command line, the cloud lines in `sandbox.env`, and a fault visible on the first call.

mod cloud_support;

use cloud_support::{Client, Credentials, RAM};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn binary_takes_cloud_flags_and_writes_cloud_env() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hybrid-sandbox"))
        .args(["--dir", &dir.path().display().to_string()])
        .args(["--cloud-access-key-id", "LTAI5tFixedForTests000000", "--cloud-access-key-secret", "fixed-secret"])
        .args(["--task-delay-ms", "10", "--cloud-fault-throttle-rate=1", "--cloud-fault-seed", "3"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut cloud_url = None;
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("listener cloud: ") {
            cloud_url = Some(url.to_string());
        }
        if line.starts_with("ready: ") {
            break;
        }
    }
    let url = cloud_url.expect("a cloud listener line before ready");
    assert!(url.starts_with("http://127.0.0.1:"));
    let env = std::fs::read_to_string(dir.path().join("sandbox.env")).unwrap();
    for line in [
        "export ALIBABA_CLOUD_ACCESS_KEY_ID='LTAI5tFixedForTests000000'".to_string(),
        "export ALIBABA_CLOUD_ACCESS_KEY_SECRET='fixed-secret'".to_string(),
        format!("export HYBRID_ENDPOINT_CS='{url}'"),
    ] {
        assert!(env.contains(&line), "{line} in\n{env}");
    }
    let client = Client::new(&url, Credentials::new("LTAI5tFixedForTests000000", "fixed-secret"));
    let r = client.rpc(RAM, "GetUser", &[("UserName", "x")]);
    assert_eq!((r.status, r.body["Code"].as_str()), (400, Some("Throttling.User")));
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert_eq!(rest, ["stopped"]);
    assert!(child.wait().unwrap().success());
}

#[test]
fn bad_cloud_flags_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_hybrid-sandbox"))
        .args(["--dir", &d, "--cloud-fault-throttle-rate", "1.5"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("throttle_rate must be between 0 and 1"));
    let out = Command::new(env!("CARGO_BIN_EXE_hybrid-sandbox")).args(["--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("--task-delay-ms"));
}

//! The `hybrid-sandbox` binary as scripts use it: wait for `ready:`, use the files, stop with SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn binary_serves_until_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hybrid-sandbox"))
        .args(["--dir", &dir.path().display().to_string(), "--scenario", "overlay", "--fault-latency-ms", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut ready = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("ready: ") {
            ready = Some(url.to_string());
            break;
        }
    }
    let url = ready.expect("a ready line");
    assert!(url.starts_with("https://127.0.0.1:"));
    let pid = std::fs::read_to_string(dir.path().join("sandbox.pid")).unwrap();
    assert_eq!(pid.trim(), child.id().to_string());
    let env = std::fs::read_to_string(dir.path().join("sandbox.env")).unwrap();
    assert!(env.contains(&format!("export HYBRID_SANDBOX_KUBE_HOST='{url}'")));
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert_eq!(rest, vec!["stopped".to_string()]);
    assert!(child.wait().unwrap().success());
    assert!(!dir.path().join("sandbox.pid").exists());
    assert!(dir.path().join("kubeconfig").exists(), "nothing else is removed");
}

#[test]
fn bad_arguments_fail_clearly() {
    let out = Command::new(env!("CARGO_BIN_EXE_hybrid-sandbox")).args(["--scenario", "mesh"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown scenario \"mesh\""));
    let out = Command::new(env!("CARGO_BIN_EXE_hybrid-sandbox")).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--dir is required"));
}

//! Helpers shared by the integration tests: an in-process sandbox per test and a kubectl runner.
#![allow(dead_code)]

use hybrid_sandbox::{Running, SandboxOptions, Scenario};
use std::path::Path;
use std::process::{Command, Output};

pub const KUBECTL: &str = "/usr/bin/kubectl";

pub struct Sandbox {
    pub running: Running,
    pub dir: tempfile::TempDir,
}

pub fn start(scenario: Scenario) -> Sandbox {
    let dir = tempfile::tempdir().expect("temp dir");
    let running = hybrid_sandbox::start(SandboxOptions::for_test(dir.path(), scenario)).expect("sandbox starts");
    Sandbox { running, dir }
}

/// Whether real kubectl is installed; tests that need it print why they skip.
pub fn kubectl_available() -> bool {
    if Path::new(KUBECTL).exists() {
        true
    } else {
        eprintln!("SKIPPED: {KUBECTL} is not installed; the kubectl compatibility tests need it");
        false
    }
}

pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Sandbox {
    pub fn kubectl(&self, args: &[&str]) -> Run {
        self.kubectl_env(args, &[])
    }

    pub fn kubectl_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let kc = self.running.kubeconfig_path.as_ref().expect("kubeconfig written");
        let mut cmd = Command::new(KUBECTL);
        cmd.env("KUBECONFIG", kc)
            .env("HOME", self.dir.path())
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out: Output = cmd.output().expect("kubectl runs");
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `kubectl ... -o json`, parsed.
    pub fn kubectl_json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.extend(["-o", "json"]);
        let r = self.kubectl(&a);
        assert!(r.ok, "kubectl {args:?} failed: {}", r.stderr);
        serde_json::from_str(&r.stdout).expect("kubectl printed JSON")
    }

    pub fn http(&self) -> reqwest::blocking::Client {
        let ca = reqwest::Certificate::from_pem(self.running.ca_pem.as_bytes()).expect("CA parses");
        reqwest::blocking::Client::builder()
            .add_root_certificate(ca)
            .tls_built_in_root_certs(false)
            .build()
            .expect("client builds")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url)
    }

    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.running.token)
    }
}

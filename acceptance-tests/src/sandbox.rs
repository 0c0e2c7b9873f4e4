//! A `hybrid-sandbox` process for one test: the stand-in registered cluster (Kubernetes API and
//! Alibaba Cloud APIs) that acceptance tests point the provider at through its `sandbox.env`.
//!
//! The binary is the one `scripts/test.sh` builds next to the provider (`HYBRID_SANDBOX_PATH`
//! overrides). It runs as a separate process, exactly as users run it for the demo, and is stopped
//! with SIGTERM when the [`Sandbox`] is dropped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::discover::provider_path;
use crate::env_file::parse_env_file;

/// Environment variable naming the sandbox binary to use instead of the one beside the provider.
pub const SANDBOX_PATH_ENV: &str = "HYBRID_SANDBOX_PATH";
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A running sandbox with its own directory (kubeconfig, ca.crt, sandbox.env).
pub struct Sandbox {
    child: Child,
    dir: tempfile::TempDir,
    /// `https://127.0.0.1:PORT` of the Kubernetes API.
    pub url: String,
    vars: Vec<(String, String)>,
}

/// The sandbox binary: `HYBRID_SANDBOX_PATH`, else `hybrid-sandbox` beside the provider binary.
pub fn sandbox_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(SANDBOX_PATH_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let provider = provider_path()?;
    let path = provider.with_file_name("hybrid-sandbox");
    if !path.is_file() {
        bail!("{} not found: run `cargo build -p hybrid-sandbox` first (or set {SANDBOX_PATH_ENV})", path.display());
    }
    Ok(path)
}

impl Sandbox {
    /// Starts `hybrid-sandbox --dir <tmp> --scenario <scenario> <extra...>` and waits for `ready:`.
    /// Extra arguments are the binary's flags, e.g. `["--task-delay-ms", "200"]` or fault flags.
    pub fn start(scenario: &str, extra: &[&str]) -> Result<Sandbox> {
        let dir = tempfile::Builder::new().prefix("hybrid-sandbox-").tempdir()?;
        let mut child = Command::new(sandbox_path()?)
            .arg("--dir")
            .arg(dir.path())
            .args(["--scenario", scenario])
            .args(extra)
            // Task delays short by default so tests stay fast; a flag in `extra` wins.
            .env("HYBRID_SANDBOX_TASK_DELAY_MS", "200")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting hybrid-sandbox")?;
        let stdout = child.stdout.take().context("sandbox stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Keep draining stdout so the sandbox never blocks on a full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("ready: ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let url = match rx.recv_timeout(READY_TIMEOUT) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().ok();
                bail!("hybrid-sandbox did not become ready within {READY_TIMEOUT:?} (exit: {status:?})");
            }
        };
        let text = std::fs::read_to_string(dir.path().join("sandbox.env")).context("reading sandbox.env")?;
        let vars = parse_env_file(&text);
        Ok(Sandbox { child, dir, url, vars })
    }

    /// The sandbox's directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `DIR/sandbox.env`, for [`crate::TestCase::env_file`].
    pub fn env_file(&self) -> PathBuf {
        self.dir.path().join("sandbox.env")
    }

    /// `DIR/kubeconfig`.
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// A variable of `sandbox.env` (e.g. `TF_VAR_cluster_id`).
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Runs the real `kubectl` against the sandbox (`KUBECTL` overrides the binary) and returns
    /// its stdout; a non-zero exit is an error carrying stderr.
    pub fn kubectl(&self, args: &[&str]) -> Result<String> {
        self.kubectl_with_stdin(args, None)
    }

    /// [`Sandbox::kubectl`] with `input` on stdin (for `apply -f -`).
    pub fn kubectl_with_stdin(&self, args: &[&str], input: Option<&str>) -> Result<String> {
        use std::io::Write;
        let bin = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".to_string());
        let mut child = Command::new(&bin)
            .args(args)
            .env("KUBECONFIG", self.kubeconfig())
            .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("running {bin} (set KUBECTL to its path)"))?;
        if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin.write_all(text.as_bytes())?;
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!("kubectl {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `kubectl get <what> -o json`, parsed.
    pub fn get_json(&self, args: &[&str]) -> Result<serde_json::Value> {
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", "json"]);
        Ok(serde_json::from_str(&self.kubectl(&all)?)?)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // SIGTERM lets the sandbox stop its listeners cleanly; kill if it ignores it.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! Acceptance-test harness: runs the real Terraform CLI against the freshly built provider,
//! installed from a per-test filesystem mirror, fully offline. Modelled on HashiCorp's
//! terraform-plugin-testing: apply a config, check state, re-plan expecting no changes,
//! import, destroy.
//!
//! Binaries: `TF_ACC_TERRAFORM_PATH` (default `<repo>/.tools/bin/terraform`, installed by
//! `scripts/install-terraform.sh`) and `TF_ACC_PROVIDER_PATH` (default the workspace's
//! `target/debug/terraform-provider-hybrid`; the test command builds it first).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use serde_json::Value as Json;

pub const PROVIDER_SOURCE: &str = "registry.terraform.io/hybridops/hybrid";
pub const PROVIDER_VERSION: &str = env!("CARGO_PKG_VERSION");

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

pub fn terraform_path() -> Result<PathBuf> {
    let p = std::env::var_os("TF_ACC_TERRAFORM_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".tools/bin/terraform"));
    if !p.exists() {
        bail!("no terraform at {}: run scripts/install-terraform.sh or set TF_ACC_TERRAFORM_PATH", p.display());
    }
    Ok(p)
}

pub fn provider_path() -> Result<PathBuf> {
    let p = match std::env::var_os("TF_ACC_PROVIDER_PATH") {
        Some(p) => PathBuf::from(p),
        None => {
            let target =
                std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target"));
            target.join("debug/terraform-provider-hybrid")
        }
    };
    if !p.exists() {
        bail!("no provider binary at {}: run `cargo build -p terraform-provider-hybrid` first", p.display());
    }
    Ok(p)
}

/// The result of one Terraform command.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn tail(s: &str) -> String {
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
    /// Fails unless the exit code is one of `ok`.
    pub fn expect(self, ok: &[i32]) -> Result<Run> {
        if ok.contains(&self.code) {
            Ok(self)
        } else {
            bail!(
                "terraform {} exited {} (expected {:?})\n--- stdout (tail) ---\n{}\n--- stderr (tail) ---\n{}",
                self.args.join(" "),
                self.code,
                ok,
                Self::tail(&self.stdout),
                Self::tail(&self.stderr)
            )
        }
    }
    pub fn combined(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// One Terraform working directory with the provider installed from a private mirror.
pub struct Workspace {
    dir: tempfile::TempDir,
    terraform: PathBuf,
    env: Vec<(String, String)>,
    initialized: bool,
}

impl Workspace {
    pub fn new() -> Result<Self> {
        let terraform = terraform_path()?;
        let provider = provider_path()?;
        let dir = tempfile::Builder::new().prefix("tfacc-").tempdir()?;
        let mirror = dir.path().join("mirror");
        let plugin_dir = mirror.join(format!("{PROVIDER_SOURCE}/{PROVIDER_VERSION}/linux_amd64"));
        std::fs::create_dir_all(&plugin_dir)?;
        let installed = plugin_dir.join(format!("terraform-provider-hybrid_v{PROVIDER_VERSION}"));
        // A hard link is instant; copy when the temp dir is on another filesystem.
        if std::fs::hard_link(&provider, &installed).is_err() {
            std::fs::copy(&provider, &installed).context("copying the provider into the mirror")?;
        }
        std::fs::write(dir.path().join("cli.tfrc"), cli_config(&mirror))?;
        std::fs::create_dir_all(dir.path().join("home"))?;
        std::fs::create_dir_all(dir.path().join("work"))?;
        Ok(Workspace { dir, terraform, env: Vec::new(), initialized: false })
    }

    /// The directory Terraform runs in.
    pub fn work_dir(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    pub fn env(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.into()));
        self
    }

    /// Adds every `export NAME='value'` line of a sandbox.env file to the environment.
    pub fn env_file(&mut self, path: &Path) -> Result<&mut Self> {
        for (k, v) in parse_env_file(&std::fs::read_to_string(path)?) {
            self.env(&k, v);
        }
        Ok(self)
    }

    /// Writes `main.tf` (replacing it). The `terraform` block requiring the provider is added.
    pub fn config(&mut self, hcl: &str) -> Result<&mut Self> {
        let required =
            "terraform {\n  required_providers {\n    hybrid = { source = \"hybridops/hybrid\" }\n  }\n}\n\n";
        std::fs::write(self.work_dir().join("main.tf"), format!("{required}{hcl}"))?;
        Ok(self)
    }

    pub fn write_file(&self, name: &str, content: &str) -> Result<()> {
        std::fs::write(self.work_dir().join(name), content)?;
        Ok(())
    }

    /// Runs terraform with `args`, returning whatever happened.
    pub fn run(&mut self, args: &[&str]) -> Result<Run> {
        if !self.initialized && args.first() != Some(&"init") && args.first() != Some(&"version") {
            self.init()?;
        }
        let mut cmd = Command::new(&self.terraform);
        cmd.args(args).current_dir(self.work_dir()).stdin(Stdio::null());
        cmd.env_clear();
        for key in ["PATH", "TMPDIR", "LANG"] {
            if let Some(v) = std::env::var_os(key) {
                cmd.env(key, v);
            }
        }
        cmd.env("HOME", self.dir.path().join("home"))
            .env("TF_CLI_CONFIG_FILE", self.dir.path().join("cli.tfrc"))
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_INPUT", "0")
            .env("NO_COLOR", "1");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let out = cmd.output().with_context(|| format!("running {}", self.terraform.display()))?;
        Ok(Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    pub fn init(&mut self) -> Result<Run> {
        self.initialized = true;
        self.run(&["init", "-input=false", "-no-color"])?.expect(&[0])
    }

    pub fn apply(&mut self) -> Result<Run> {
        self.run(&["apply", "-auto-approve", "-input=false", "-no-color"])?.expect(&[0])
    }

    /// `plan -detailed-exitcode`: 0 no changes, 2 changes; anything else is an error.
    pub fn plan(&mut self) -> Result<Run> {
        self.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"])?.expect(&[0, 2])
    }

    /// Fails unless a fresh plan (with refresh) proposes nothing.
    pub fn assert_no_changes(&mut self) -> Result<()> {
        let run = self.plan()?;
        if run.code != 0 {
            bail!("expected an empty plan, got changes:\n{}", run.stdout);
        }
        Ok(())
    }

    /// The structured plan (`plan -out` + `show -json`).
    pub fn plan_json(&mut self) -> Result<(i32, Json)> {
        let run =
            self.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color", "-out=tfplan"])?.expect(&[0, 2])?;
        let show = self.run(&["show", "-json", "tfplan"])?.expect(&[0])?;
        Ok((run.code, serde_json::from_str(&show.stdout)?))
    }

    /// `terraform show -json` of the state.
    pub fn state(&mut self) -> Result<Json> {
        let run = self.run(&["show", "-json"])?.expect(&[0])?;
        Ok(serde_json::from_str(&run.stdout)?)
    }

    /// The attribute values of one resource instance in state, e.g. `hybrid_eni_config.this`.
    pub fn resource(&mut self, address: &str) -> Result<Json> {
        let state = self.state()?;
        find_resource(&state["values"]["root_module"], address).with_context(|| format!("{address} is not in state"))
    }

    pub fn outputs(&mut self) -> Result<Json> {
        let run = self.run(&["output", "-json"])?.expect(&[0])?;
        let all: Json = serde_json::from_str(&run.stdout)?;
        Ok(Json::Object(all.as_object().into_iter().flatten().map(|(k, v)| (k.clone(), v["value"].clone())).collect()))
    }

    pub fn import(&mut self, address: &str, id: &str) -> Result<Run> {
        self.run(&["import", "-input=false", "-no-color", address, id])?.expect(&[0])
    }

    pub fn state_rm(&mut self, address: &str) -> Result<Run> {
        self.run(&["state", "rm", address])?.expect(&[0])
    }

    pub fn destroy(&mut self) -> Result<Run> {
        self.run(&["destroy", "-auto-approve", "-input=false", "-no-color"])?.expect(&[0])
    }

    /// Runs a command that must fail, returning its output for assertions.
    pub fn expect_failure(&mut self, args: &[&str]) -> Result<Run> {
        let run = self.run(args)?;
        if run.code == 0 {
            bail!("terraform {} succeeded but was expected to fail:\n{}", args.join(" "), run.stdout);
        }
        Ok(run)
    }

    /// The workspace's root (mirror, CLI config, home, work dir).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        // TF_ACC_KEEP=1 keeps every test's directory for inspection.
        if std::env::var_os("TF_ACC_KEEP").is_some() {
            eprintln!("TF_ACC_KEEP: kept {}", self.dir.path().display());
            self.dir.disable_cleanup(true);
        }
    }
}

/// CLI configuration: our provider only from the mirror, nothing from any registry.
pub fn cli_config(mirror: &Path) -> String {
    format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"{}\"]\n  }}\n}}\n",
        mirror.display(),
        PROVIDER_SOURCE
    )
}

fn find_resource(module: &Json, address: &str) -> Option<Json> {
    for r in module["resources"].as_array().into_iter().flatten() {
        if r["address"] == address {
            return Some(r["values"].clone());
        }
    }
    for child in module["child_modules"].as_array().into_iter().flatten() {
        if let Some(v) = find_resource(child, address) {
            return Some(v);
        }
    }
    None
}

/// Parses `export NAME='value'` / `NAME=value` lines (single quotes with `'\''` escapes).
pub fn parse_env_file(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else { continue };
        let v = if let Some(inner) = v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            inner.replace("'\\''", "'")
        } else if let Some(inner) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            inner.to_string()
        } else {
            v.to_string()
        };
        out.push((k.to_string(), v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_parse_shell_quoting() {
        let parsed = parse_env_file("# c\nexport A='x y'\nexport B='it'\\''s'\nC=plain\nexport J='{\"a\":[\"b\"]}'\n");
        assert_eq!(
            parsed,
            vec![
                ("A".into(), "x y".into()),
                ("B".into(), "it's".into()),
                ("C".into(), "plain".into()),
                ("J".into(), "{\"a\":[\"b\"]}".into())
            ]
        );
    }

    #[test]
    fn cli_config_mirrors_only_our_provider() {
        let c = cli_config(Path::new("/m"));
        assert!(c.contains("filesystem_mirror") && c.contains("/m") && c.contains(PROVIDER_SOURCE));
        assert!(!c.contains("direct"), "nothing may be fetched from a registry");
    }
}

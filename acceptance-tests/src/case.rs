//! `TestCase`: one isolated Terraform working directory with the provider under test installed.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use tempfile::TempDir;

use crate::cli_config::cli_config;
use crate::command::{base_env, normalize_output, CmdOutput, CommandError, Runner};
use crate::discover::{provider_path, terraform_path};
use crate::mirror::{install_provider, PROVIDER_VERSION};
use crate::plan::PlanResult;
use crate::state::{flatten, State};

/// Set to `1` to keep each test's directory (its path is printed) instead of deleting it.
pub const KEEP_ENV: &str = "TF_ACC_KEEP";
/// Per-command timeout in seconds (default 300).
pub const TIMEOUT_ENV: &str = "TF_ACC_COMMAND_TIMEOUT";
/// The file [`TestCase::write_config`] writes.
pub const CONFIG_FILE: &str = "main.tf";
/// Written beside the test's configuration when that declares no `required_providers`: without
/// it Terraform would look for `hashicorp/hybrid` for the `hybrid_` resource types.
pub const REQUIRED_PROVIDERS_FILE: &str = "zz_harness_required_providers.tf";
const REQUIRED_PROVIDERS: &str =
    "# Written by the acceptance-test harness.\nterraform {\n  required_providers {\n    hybrid = { source = \"hybridops/hybrid\" }\n  }\n}\n";
const PLAN_FILE: &str = "tfplan";

/// A Terraform command a test expects to fail (see [`TestCase::expect_error`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    Init,
    Validate,
    Plan,
    Apply,
    Destroy,
    /// `terraform apply -refresh-only`.
    Refresh,
    Import {
        address: String,
        id: String,
    },
    /// Any other arguments after `terraform`.
    Args(Vec<String>),
}

impl Cmd {
    /// `Cmd::Import` from borrowed strings.
    pub fn import(address: &str, id: &str) -> Cmd {
        Cmd::Import { address: address.into(), id: id.into() }
    }

    fn args(&self) -> Vec<String> {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        match self {
            Cmd::Init => v(&["init", "-input=false", "-no-color"]),
            Cmd::Validate => v(&["validate", "-no-color"]),
            Cmd::Plan => v(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]),
            Cmd::Apply => v(&["apply", "-input=false", "-no-color", "-auto-approve"]),
            Cmd::Destroy => v(&["destroy", "-input=false", "-no-color", "-auto-approve"]),
            Cmd::Refresh => v(&["apply", "-refresh-only", "-input=false", "-no-color", "-auto-approve"]),
            Cmd::Import { address, id } => {
                let mut a = v(&["import", "-input=false", "-no-color"]);
                a.push(address.clone());
                a.push(id.clone());
                a
            }
            Cmd::Args(args) => args.clone(),
        }
    }
}

/// One acceptance test's private Terraform world: a temporary directory holding a filesystem
/// mirror with the provider, a CLI config, a private `HOME`, and the working directory. Commands
/// run with a cleared environment plus what the test adds with [`TestCase::env`]. Dropping it
/// deletes the directory (unless `TF_ACC_KEEP=1`); destroying what was applied is the test's job
/// (or [`TestCase::run_steps`]').
pub struct TestCase {
    name: String,
    root: Option<TempDir>,
    root_path: PathBuf,
    runner: Runner,
    /// Hash of the configuration files the last `terraform init` saw.
    initialized_for: Option<u64>,
    extra_workspaces: usize,
    with_provider: bool,
}

impl TestCase {
    /// A test case with the provider under test installed (see [`crate::discover::provider_path`]).
    pub fn new(name: &str) -> Result<Self> {
        let provider = provider_path()?;
        Self::create(name, Some(&provider))
    }

    /// A test case with no provider installed: only Terraform's builtin provider is available.
    pub fn builtin_only(name: &str) -> Result<Self> {
        Self::create(name, None)
    }

    fn create(name: &str, provider: Option<&Path>) -> Result<Self> {
        let terraform = terraform_path()?;
        let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        let root =
            tempfile::Builder::new().prefix(&format!("tf-acc-{safe}-")).tempdir().context("creating test dir")?;
        let root_path = root.path().to_path_buf();
        let mirror = root_path.join("mirror");
        let home = root_path.join("home");
        let work = root_path.join("work");
        for dir in [&mirror, &home, &work] {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        if let Some(provider) = provider {
            install_provider(&mirror, provider, PROVIDER_VERSION)?;
        }
        let config_file = root_path.join("cli.tfrc");
        std::fs::write(&config_file, cli_config(&mirror)).context("writing the CLI config")?;
        let timeout = std::env::var(TIMEOUT_ENV).ok().and_then(|s| s.parse().ok()).unwrap_or(300);
        let runner = Runner {
            terraform,
            dir: work,
            env: base_env(&home, &config_file),
            timeout: Duration::from_secs(timeout),
            label: name.to_string(),
        };
        Ok(TestCase {
            name: name.into(),
            root: Some(root),
            root_path,
            runner,
            initialized_for: None,
            extra_workspaces: 0,
            with_provider: provider.is_some(),
        })
    }

    /// The test's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Terraform working directory (where `main.tf` and the state live).
    pub fn work_dir(&self) -> &Path {
        &self.runner.dir
    }

    /// The test's temporary directory (mirror, home, CLI config, working directory).
    pub fn root_dir(&self) -> &Path {
        &self.root_path
    }

    /// The private `HOME` the commands see (put `.kube/config` or `.aliyun/config.json` here).
    pub fn home_dir(&self) -> PathBuf {
        self.root_path.join("home")
    }

    /// Another program (e.g. a script around Terraform) in the working directory, with the same
    /// environment Terraform gets and `TERRAFORM` naming the Terraform under test.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        cmd.current_dir(&self.runner.dir)
            .env_clear()
            .envs(&self.runner.env)
            .env("TERRAFORM", &self.runner.terraform)
            .stdin(std::process::Stdio::null());
        cmd
    }

    /// Sets an environment variable for every later command (and the provider it starts).
    pub fn env(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.runner.env.insert(key.into(), value.into());
        self
    }

    /// Removes an environment variable from later commands.
    pub fn env_remove(&mut self, key: &str) -> &mut Self {
        self.runner.env.remove(key);
        self
    }

    /// Adds every `export NAME='value'` line of an env file (e.g. hybrid-sandbox's `sandbox.env`).
    pub fn env_file(&mut self, path: &Path) -> Result<&mut Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        for (name, value) in crate::env_file::parse_env_file(&text) {
            self.env(&name, value);
        }
        Ok(self)
    }

    /// Per-command timeout for later commands.
    pub fn timeout(&mut self, timeout: Duration) -> &mut Self {
        self.runner.timeout = timeout;
        self
    }

    /// Replaces the configuration (`main.tf`).
    pub fn write_config(&mut self, hcl: &str) -> Result<()> {
        self.write_file(CONFIG_FILE, hcl)?;
        Ok(())
    }

    /// Writes a file into the working directory (more `.tf` files, a kubeconfig, ...).
    pub fn write_file(&mut self, relative: &str, contents: &str) -> Result<PathBuf> {
        let path = self.runner.dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    /// Runs `terraform <args>` in the working directory; any exit code is returned, not an error.
    pub fn run(&mut self, args: &[&str]) -> Result<CmdOutput> {
        self.sync_required_providers()?;
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        self.runner.run(&args)
    }

    /// `terraform init`. Runs by itself before other commands whenever the configuration changed
    /// since the last init (a new provider or module then needs installing).
    pub fn init(&mut self) -> Result<CmdOutput> {
        self.sync_required_providers()?;
        let fingerprint = config_fingerprint(&self.runner.dir)?;
        let out = self.runner.run_expecting(&Cmd::Init.args(), &[0])?;
        self.initialized_for = Some(fingerprint);
        Ok(out)
    }

    pub(crate) fn ensure_init(&mut self) -> Result<()> {
        self.sync_required_providers()?;
        if self.initialized_for != Some(config_fingerprint(&self.runner.dir)?) {
            self.init()?;
        }
        Ok(())
    }

    /// Writes or removes [`REQUIRED_PROVIDERS_FILE`] depending on whether the test's own files
    /// declare `required_providers`.
    fn sync_required_providers(&mut self) -> Result<()> {
        if !self.with_provider {
            return Ok(());
        }
        let path = self.runner.dir.join(REQUIRED_PROVIDERS_FILE);
        let mut declared = false;
        for file in config_files(&self.runner.dir)? {
            if file != path && std::fs::read_to_string(&file)?.contains("required_providers") {
                declared = true;
            }
        }
        if declared {
            if path.exists() {
                std::fs::remove_file(&path)?;
            }
        } else if !path.exists() {
            std::fs::write(&path, REQUIRED_PROVIDERS)?;
        }
        Ok(())
    }

    /// `terraform apply -auto-approve`; fails unless it exits 0.
    pub fn apply(&mut self) -> Result<CmdOutput> {
        self.ensure_init()?;
        self.runner.run_expecting(&Cmd::Apply.args(), &[0])
    }

    /// `terraform plan -detailed-exitcode -out`, then `terraform show -json` of that plan.
    pub fn plan(&mut self) -> Result<PlanResult> {
        self.ensure_init()?;
        let mut args = Cmd::Plan.args();
        args.push(format!("-out={PLAN_FILE}"));
        let out = self.runner.run_expecting(&args, &[0, 2])?;
        let shown = self.runner.run_expecting(&["show".into(), "-json".into(), PLAN_FILE.into()], &[0])?;
        let json = parse_json(&shown)?;
        let _ = std::fs::remove_file(self.runner.dir.join(PLAN_FILE));
        Ok(PlanResult { exit_code: out.exit_code, stdout: out.stdout, stderr: out.stderr, json })
    }

    /// Plans and fails if Terraform proposes any change, showing the plan.
    pub fn assert_no_changes(&mut self) -> Result<PlanResult> {
        let plan = self.plan()?;
        if plan.has_changes() {
            bail!(
                "[{}] expected an empty plan, but Terraform plans changes to [{}]:\n{}",
                self.name,
                plan.changed_addresses().join(", "),
                crate::command::tail(&plan.stdout, 80)
            );
        }
        Ok(plan)
    }

    /// `terraform apply -refresh-only -auto-approve`.
    pub fn refresh(&mut self) -> Result<CmdOutput> {
        self.ensure_init()?;
        self.runner.run_expecting(&Cmd::Refresh.args(), &[0])
    }

    /// `terraform destroy -auto-approve`.
    pub fn destroy(&mut self) -> Result<CmdOutput> {
        self.ensure_init()?;
        self.runner.run_expecting(&Cmd::Destroy.args(), &[0])
    }

    /// `terraform import <address> <id>` into this working directory's state.
    pub fn import(&mut self, address: &str, id: &str) -> Result<CmdOutput> {
        self.ensure_init()?;
        self.runner.run_expecting(&Cmd::import(address, id).args(), &[0])
    }

    /// `terraform state rm <address>`.
    pub fn state_rm(&mut self, address: &str) -> Result<CmdOutput> {
        self.ensure_init()?;
        self.runner.run_expecting(&["state".into(), "rm".into(), address.into()], &[0])
    }

    /// `terraform show -json` of the current state.
    pub fn state_json(&mut self) -> Result<Value> {
        self.ensure_init()?;
        let out = self.runner.run_expecting(&["show".into(), "-json".into()], &[0])?;
        parse_json(&out)
    }

    /// The current state with lookups by address.
    pub fn state(&mut self) -> Result<State> {
        Ok(State::new(self.state_json()?))
    }

    /// One attribute of a resource or data source in the current state (`a.b.0.c`, `list.#`).
    pub fn attr(&mut self, address: &str, path: &str) -> Result<Value> {
        self.state()?.attr(address, path)
    }

    /// `terraform output -json` (all root outputs as `{name: {value, type, sensitive}}`).
    pub fn outputs(&mut self) -> Result<Value> {
        self.ensure_init()?;
        let out = self.runner.run_expecting(&["output".into(), "-json".into()], &[0])?;
        parse_json(&out)
    }

    /// `terraform providers schema -json`.
    pub fn providers_schema(&mut self) -> Result<Value> {
        self.ensure_init()?;
        let out = self.runner.run_expecting(&["providers".into(), "schema".into(), "-json".into()], &[0])?;
        parse_json(&out)
    }

    /// Runs `cmd` expecting it to FAIL with output containing `needle`. Matching ignores
    /// Terraform's line wrapping and diagnostic box drawing. Returns the failed command's output.
    pub fn expect_error(&mut self, cmd: Cmd, needle: &str) -> Result<CmdOutput> {
        let wanted = normalize_output(needle);
        self.expect_error_where(cmd, &format!("output containing {needle:?}"), |text| text.contains(&wanted))
    }

    /// Like [`TestCase::expect_error`] with a regular expression matched against the normalised output.
    pub fn expect_error_matching(&mut self, cmd: Cmd, pattern: &str) -> Result<CmdOutput> {
        let re = regex::Regex::new(pattern).with_context(|| format!("bad pattern {pattern:?}"))?;
        self.expect_error_where(cmd, &format!("output matching /{pattern}/"), |text| re.is_match(text))
    }

    fn expect_error_where(&mut self, cmd: Cmd, wanted: &str, matches: impl Fn(&str) -> bool) -> Result<CmdOutput> {
        if cmd != Cmd::Init {
            self.ensure_init()?;
        }
        let out = self.runner.run(&cmd.args())?;
        // A plan with -detailed-exitcode exits 2 for "changes": that is success, not an error.
        let failed = out.exit_code != 0 && !(cmd == Cmd::Plan && out.exit_code == 2);
        if !failed {
            let problem = format!("succeeded (exit {}) but was expected to fail with {wanted}", out.exit_code);
            return Err(CommandError::new(&out, problem).into());
        }
        if !matches(&normalize_output(&out.combined())) {
            let problem = format!("failed as expected (exit {}) but without {wanted}", out.exit_code);
            return Err(CommandError::new(&out, problem).into());
        }
        Ok(out)
    }

    /// Imports `address` with `id` into a fresh working directory holding the same configuration
    /// (this state is untouched) and compares the imported attributes with this state's, like
    /// terraform-plugin-testing's `ImportStateVerify`. Paths in `ignore` (and everything below
    /// them) are not compared.
    pub fn import_verify(&mut self, address: &str, id: &str, ignore: &[&str]) -> Result<()> {
        let current = self.state()?;
        let expected = current.values(address)?.clone();
        self.extra_workspaces += 1;
        let dir = self.root_path.join(format!("import-{}", self.extra_workspaces));
        copy_config(&self.runner.dir, &dir)?;
        let runner = Runner { dir, label: format!("{}/import", self.name), ..self.runner.clone() };
        runner.run_expecting(&Cmd::Init.args(), &[0])?;
        runner.run_expecting(&Cmd::import(address, id).args(), &[0])?;
        let shown = runner.run_expecting(&["show".into(), "-json".into()], &[0])?;
        let imported_state = State::new(parse_json(&shown)?);
        let imported = imported_state.values(address)?;

        let skip = |key: &str| ignore.iter().any(|ig| key == *ig || key.starts_with(&format!("{ig}.")));
        let want: Vec<(String, Value)> = flatten(&expected).into_iter().filter(|(k, _)| !skip(k)).collect();
        let got = flatten(imported);
        let mut diffs = Vec::new();
        for (key, value) in &want {
            let other = got.get(key).cloned().unwrap_or(Value::Null);
            if &other != value {
                let sensitive = current.is_sensitive(address, key) || imported_state.is_sensitive(address, key);
                diffs.push(format!(
                    "  {key}: state {} vs imported {}",
                    crate::state::describe(value, sensitive),
                    crate::state::describe(&other, sensitive)
                ));
            }
        }
        for (key, value) in &got {
            if !skip(key) && !want.iter().any(|(k, _)| k == key) && !value.is_null() {
                let sensitive = imported_state.is_sensitive(address, key);
                diffs
                    .push(format!("  {key}: absent in state vs imported {}", crate::state::describe(value, sensitive)));
            }
        }
        if !diffs.is_empty() {
            bail!(
                "[{}] import of {address} (id {id:?}) differs from the applied state:\n{}",
                self.name,
                diffs.join("\n")
            );
        }
        Ok(())
    }
}

impl Drop for TestCase {
    fn drop(&mut self) {
        if std::env::var(KEEP_ENV).is_ok_and(|v| v == "1") {
            if let Some(root) = self.root.take() {
                let path = root.keep();
                eprintln!("[{}] {KEEP_ENV}=1: kept {}", self.name, path.display());
            }
        }
        // Otherwise TempDir's own drop removes the directory.
    }
}

fn parse_json(out: &CmdOutput) -> Result<Value> {
    serde_json::from_str(&out.stdout).map_err(|e| anyhow!("`{}` printed invalid JSON: {e}", out.command_line()))
}

/// Hash of the names and contents of the configuration files (`*.tf`, `*.tf.json`) in `dir`.
fn config_fingerprint(dir: &Path) -> Result<u64> {
    let mut hasher = DefaultHasher::new();
    for file in config_files(dir)? {
        file.hash(&mut hasher);
        std::fs::read(&file)?.hash(&mut hasher);
    }
    Ok(hasher.finish())
}

/// The configuration files (`*.tf`, `*.tf.json`) directly in `dir`, sorted.
fn config_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.file_name().and_then(|n| n.to_str()).is_some_and(is_config_file))
        .collect();
    files.sort();
    Ok(files)
}

fn is_config_file(name: &str) -> bool {
    name.ends_with(".tf") || name.ends_with(".tf.json")
}

/// Copies the working directory's files, minus state, plans and `.terraform`, into `to`.
fn copy_config(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let skip = name.starts_with("terraform.tfstate") || name == PLAN_FILE || name == ".terraform";
        if !skip && entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), to.join(&*name))
                .with_context(|| format!("copying {} to {}", entry.path().display(), to.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_arguments() {
        assert_eq!(Cmd::import("a.b", "x y").args(), vec!["import", "-input=false", "-no-color", "a.b", "x y"]);
        assert!(Cmd::Plan.args().contains(&"-detailed-exitcode".to_string()));
        assert_eq!(Cmd::Refresh.args()[..2], ["apply".to_string(), "-refresh-only".to_string()]);
    }

    #[test]
    fn fingerprint_changes_with_config_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.tf"), "a").unwrap();
        let first = config_fingerprint(dir.path()).unwrap();
        std::fs::write(dir.path().join("terraform.tfstate"), "{}").unwrap();
        std::fs::write(dir.path().join("kubeconfig"), "x").unwrap();
        assert_eq!(config_fingerprint(dir.path()).unwrap(), first);
        std::fs::write(dir.path().join("extra.tf.json"), "{}").unwrap();
        assert_ne!(config_fingerprint(dir.path()).unwrap(), first);
    }

    #[test]
    fn copy_config_leaves_state_behind() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("from");
        std::fs::create_dir_all(from.join(".terraform")).unwrap();
        for f in ["main.tf", "kubeconfig", "terraform.tfstate", "terraform.tfstate.backup", "tfplan"] {
            std::fs::write(from.join(f), f).unwrap();
        }
        let to = dir.path().join("to");
        copy_config(&from, &to).unwrap();
        let mut names: Vec<String> =
            std::fs::read_dir(&to).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, vec!["kubeconfig", "main.tf"]);
    }
}

//! `Workspace`: the plain imperative API the first acceptance tests were written against, as a
//! thin layer over [`TestCase`] (same isolation, timeouts and error messages).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::case::{TestCase, CONFIG_FILE};
use crate::command::CmdOutput;

/// One command's result (alias kept for the `Workspace` API).
pub type Run = CmdOutput;

/// A [`TestCase`] named after the running test, with the provider installed.
pub struct Workspace {
    case: TestCase,
}

impl Workspace {
    /// A fresh isolated working directory with the provider under test installed.
    pub fn new() -> Result<Self> {
        let name = std::thread::current().name().filter(|n| *n != "main").unwrap_or("workspace").to_string();
        let name = name.rsplit("::").next().unwrap_or("workspace").to_string();
        Ok(Workspace { case: TestCase::new(&name)? })
    }

    /// The underlying test case (steps, checks, import verification).
    pub fn case(&mut self) -> &mut TestCase {
        &mut self.case
    }

    /// The directory Terraform runs in.
    pub fn work_dir(&self) -> PathBuf {
        self.case.work_dir().to_path_buf()
    }

    /// The workspace's root (mirror, CLI config, home, work dir).
    pub fn root(&self) -> &Path {
        self.case.root_dir()
    }

    pub fn env(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.case.env(key, value);
        self
    }

    /// Adds every `export NAME='value'` line of a sandbox.env file to the environment.
    pub fn env_file(&mut self, path: &Path) -> Result<&mut Self> {
        self.case.env_file(path)?;
        Ok(self)
    }

    /// Writes `main.tf` (replacing it); the provider's `required_providers` entry is supplied by
    /// the harness unless the configuration declares its own.
    pub fn config(&mut self, hcl: &str) -> Result<&mut Self> {
        self.case.write_config(hcl)?;
        Ok(self)
    }

    pub fn write_file(&mut self, name: &str, content: &str) -> Result<()> {
        if name == CONFIG_FILE {
            return self.case.write_config(content);
        }
        self.case.write_file(name, content).map(|_| ())
    }

    /// Runs terraform with `args` (after `init` when needed), returning whatever happened.
    pub fn run(&mut self, args: &[&str]) -> Result<Run> {
        if !matches!(args.first(), Some(&"init") | Some(&"version")) {
            self.case.ensure_init()?;
        }
        self.case.run(args)
    }

    pub fn init(&mut self) -> Result<Run> {
        self.case.init()
    }

    pub fn apply(&mut self) -> Result<Run> {
        self.case.apply()
    }

    /// `plan -detailed-exitcode`: 0 no changes, 2 changes; anything else is an error.
    pub fn plan(&mut self) -> Result<Run> {
        self.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"])?.expect(&[0, 2])
    }

    /// Fails unless a fresh plan proposes nothing.
    pub fn assert_no_changes(&mut self) -> Result<()> {
        self.case.assert_no_changes().map(|_| ())
    }

    /// The structured plan (`plan -out` + `show -json`) and the plan's exit code.
    pub fn plan_json(&mut self) -> Result<(i32, Value)> {
        let plan = self.case.plan()?;
        Ok((plan.exit_code, plan.json))
    }

    /// `terraform show -json` of the state.
    pub fn state(&mut self) -> Result<Value> {
        self.case.state_json()
    }

    /// The attribute values of one resource instance in state, e.g. `hybrid_eni_config.this`.
    pub fn resource(&mut self, address: &str) -> Result<Value> {
        Ok(self.case.state()?.values(address)?.clone())
    }

    /// Root outputs as `{name: value}`.
    pub fn outputs(&mut self) -> Result<Value> {
        let all = self.case.outputs()?;
        let map = all.as_object().context("terraform output -json did not print an object")?;
        Ok(Value::Object(map.iter().map(|(k, v)| (k.clone(), v["value"].clone())).collect()))
    }

    pub fn import(&mut self, address: &str, id: &str) -> Result<Run> {
        self.case.import(address, id)
    }

    pub fn state_rm(&mut self, address: &str) -> Result<Run> {
        self.case.state_rm(address)
    }

    pub fn destroy(&mut self) -> Result<Run> {
        self.case.destroy()
    }

    /// Runs a command that must fail, returning its output for assertions.
    pub fn expect_failure(&mut self, args: &[&str]) -> Result<Run> {
        let run = self.run(args)?;
        if run.exit_code == 0 {
            bail!("`{}` succeeded but was expected to fail:\n{}", run.command_line(), run.stdout);
        }
        Ok(run)
    }
}

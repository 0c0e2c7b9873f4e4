//! Step-driven tests, modelled on terraform-plugin-testing's `TestCase.Steps`: each step applies a
//! configuration and checks the state, re-plans expecting no changes, expects an error, imports
//! and compares, or destroys.

use anyhow::{bail, Context, Result};

use crate::case::{Cmd, TestCase};
use crate::check::Check;

enum Action {
    Apply { config: String },
    Plan { config: Option<String>, expect_changes: bool },
    ExpectError { config: Option<String>, cmd: Cmd, needle: String },
    Import { address: String, id: ImportId, ignore: Vec<String> },
    Refresh,
    Destroy,
}

enum ImportId {
    Given(String),
    /// Read from an attribute of the resource in the current state.
    FromState(String),
}

/// One step of [`TestCase::run_steps`].
pub struct Step {
    action: Action,
    checks: Vec<Check>,
    expect_non_empty_plan: bool,
}

impl Step {
    fn of(action: Action) -> Step {
        Step { action, checks: Vec::new(), expect_non_empty_plan: false }
    }

    /// Writes `config`, applies it, runs the checks, then plans again and requires no changes
    /// (unless [`Step::expect_non_empty_plan`]).
    pub fn apply(config: &str) -> Step {
        Step::of(Action::Apply { config: config.into() })
    }

    /// Plans the current configuration and requires no changes.
    pub fn plan_empty() -> Step {
        Step::of(Action::Plan { config: None, expect_changes: false })
    }

    /// Writes `config` and plans it, requiring changes; checks see the planned values.
    pub fn plan_changes(config: &str) -> Step {
        Step::of(Action::Plan { config: Some(config.into()), expect_changes: true })
    }

    /// Runs `cmd` (after writing `config`, when given with [`Step::with_config`]) and requires it
    /// to fail with output containing `needle` (wrapping-insensitive).
    pub fn expect_error(cmd: Cmd, needle: &str) -> Step {
        Step::of(Action::ExpectError { config: None, cmd, needle: needle.into() })
    }

    /// Imports `address` by `id` into a separate working directory and compares it with the state
    /// (terraform-plugin-testing's `ImportStateVerify`).
    pub fn import(address: &str, id: &str) -> Step {
        Step::of(Action::Import { address: address.into(), id: ImportId::Given(id.into()), ignore: Vec::new() })
    }

    /// Like [`Step::import`] with the import ID taken from attribute `id_attr` of the resource.
    pub fn import_by_attr(address: &str, id_attr: &str) -> Step {
        Step::of(Action::Import {
            address: address.into(),
            id: ImportId::FromState(id_attr.into()),
            ignore: Vec::new(),
        })
    }

    /// `terraform apply -refresh-only`, then the checks.
    pub fn refresh() -> Step {
        Step::of(Action::Refresh)
    }

    /// `terraform destroy`, then the checks (e.g. [`crate::check::absent`]).
    pub fn destroy() -> Step {
        Step::of(Action::Destroy)
    }

    /// Adds a check run against the state after the step.
    pub fn check(mut self, check: Check) -> Step {
        self.checks.push(check);
        self
    }

    /// After an apply step, a non-empty follow-up plan is expected rather than an error.
    pub fn expect_non_empty_plan(mut self) -> Step {
        self.expect_non_empty_plan = true;
        self
    }

    /// For [`Step::expect_error`] and plan steps: the configuration to write first.
    pub fn with_config(mut self, hcl: &str) -> Step {
        match &mut self.action {
            Action::ExpectError { config, .. } | Action::Plan { config, .. } => *config = Some(hcl.into()),
            Action::Apply { config } => *config = hcl.into(),
            _ => {}
        }
        self
    }

    /// For import steps: attribute paths not compared (e.g. write-only or secret inputs).
    pub fn ignore(mut self, paths: &[&str]) -> Step {
        if let Action::Import { ignore, .. } = &mut self.action {
            ignore.extend(paths.iter().map(|p| p.to_string()));
        }
        self
    }

    fn describe(&self) -> String {
        match &self.action {
            Action::Apply { .. } => "apply".into(),
            Action::Plan { expect_changes: false, .. } => "plan (expect no changes)".into(),
            Action::Plan { expect_changes: true, .. } => "plan (expect changes)".into(),
            Action::ExpectError { cmd, needle, .. } => format!("expect {cmd:?} to fail with {needle:?}"),
            Action::Import { address, .. } => format!("import {address}"),
            Action::Refresh => "refresh".into(),
            Action::Destroy => "destroy".into(),
        }
    }
}

impl TestCase {
    /// Runs the steps in order. If the last step is not a destroy, the case ends with
    /// `terraform destroy` (even after a failed step) so nothing outlives the test, as
    /// terraform-plugin-testing does. Destroys use the last configuration that applied, so a
    /// deliberately broken configuration of an error step does not block them.
    pub fn run_steps(&mut self, steps: Vec<Step>) -> Result<()> {
        let ends_with_destroy = matches!(steps.last().map(|s| &s.action), Some(Action::Destroy));
        self.run_steps_inner(steps, !ends_with_destroy)
    }

    /// Runs the steps in order and leaves what they applied in place (no final destroy), for tests
    /// that go on with out-of-band changes; they must end with a destroy step themselves.
    pub fn run_steps_keep(&mut self, steps: Vec<Step>) -> Result<()> {
        self.run_steps_inner(steps, false)
    }

    fn run_steps_inner(&mut self, steps: Vec<Step>, destroy_after: bool) -> Result<()> {
        let mut applied: Option<String> = None;
        let mut result = Ok(());
        for (i, step) in steps.iter().enumerate() {
            let what = step.describe();
            if let Err(e) = self.run_step(step, &mut applied) {
                result = Err(e.context(format!("[{}] step {} ({what}) failed", self.name(), i + 1)));
                break;
            }
        }
        if destroy_after {
            // Nothing applied: an empty configuration destroys whatever state holds.
            let cleanup = self
                .destroy_with(Some(applied.as_deref().unwrap_or("")))
                .map(|_| ())
                .context("destroy after the steps");
            if result.is_ok() {
                result = cleanup;
            } else if let Err(e) = cleanup {
                eprintln!("[{}] cleanup destroy also failed: {e:#}", self.name());
            }
        }
        result
    }

    /// `terraform destroy`, first restoring `config` (the last applied configuration) if given.
    fn destroy_with(&mut self, config: Option<&str>) -> Result<crate::command::CmdOutput> {
        if let Some(config) = config {
            self.write_config(config)?;
        }
        self.destroy()
    }

    fn run_step(&mut self, step: &Step, applied: &mut Option<String>) -> Result<()> {
        match &step.action {
            Action::Apply { config } => {
                self.write_config(config)?;
                self.apply()?;
                *applied = Some(config.clone());
                let state = self.state()?;
                run_checks(&step.checks, &state)?;
                let plan = self.plan()?;
                if plan.has_changes() && !step.expect_non_empty_plan {
                    bail!(
                        "after apply, the plan is not empty: changes to [{}]\n{}",
                        plan.changed_addresses().join(", "),
                        crate::command::tail(&plan.stdout, 80)
                    );
                }
                if !plan.has_changes() && step.expect_non_empty_plan {
                    bail!("expected a non-empty plan after apply, got none");
                }
            }
            Action::Plan { config, expect_changes } => {
                if let Some(config) = config {
                    self.write_config(config)?;
                }
                let plan = self.plan()?;
                if plan.has_changes() != *expect_changes {
                    bail!(
                        "expected {} plan; Terraform planned changes to [{}]\n{}",
                        if *expect_changes { "a non-empty" } else { "an empty" },
                        plan.changed_addresses().join(", "),
                        crate::command::tail(&plan.stdout, 80)
                    );
                }
                run_checks(&step.checks, &plan.planned_values())?;
            }
            Action::ExpectError { config, cmd, needle } => {
                if let Some(config) = config {
                    self.write_config(config)?;
                }
                self.expect_error(cmd.clone(), needle)?;
                if !step.checks.is_empty() {
                    let state = self.state()?;
                    run_checks(&step.checks, &state)?;
                }
            }
            Action::Import { address, id, ignore } => {
                let id = match id {
                    ImportId::Given(id) => id.clone(),
                    ImportId::FromState(attr) => self.state()?.attr_str(address, attr)?,
                };
                let ignore: Vec<&str> = ignore.iter().map(String::as_str).collect();
                self.import_verify(address, &id, &ignore)?;
                if !step.checks.is_empty() {
                    let state = self.state()?;
                    run_checks(&step.checks, &state)?;
                }
            }
            Action::Refresh | Action::Destroy => {
                if matches!(step.action, Action::Refresh) {
                    self.refresh()?;
                } else {
                    self.destroy_with(applied.as_deref())?;
                }
                let state = self.state()?;
                run_checks(&step.checks, &state)?;
            }
        }
        Ok(())
    }
}

fn run_checks(checks: &[Check], state: &crate::state::State) -> Result<()> {
    let failures: Vec<String> = checks.iter().filter_map(|c| c(state).err()).map(|e| format!("  {e:#}")).collect();
    if !failures.is_empty() {
        bail!("{} check(s) failed:\n{}", failures.len(), failures.join("\n"));
    }
    Ok(())
}

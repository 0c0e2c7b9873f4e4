//! End-to-end checks of the harness itself with Terraform's builtin `terraform_data` only (no
//! provider binary needed): the terraform command, offline init, steps, checks, import, errors.

use acceptance_tests::{check, Cmd, Step, TestCase};
use anyhow::Result;

const DATA: &str = "terraform_data.example";

#[test]
fn terraform_data_applies_replans_empty_imports_and_destroys() -> Result<()> {
    let mut t = TestCase::builtin_only("terraform_data_lifecycle")?;
    t.run_steps(vec![
        Step::apply(
            r#"
resource "terraform_data" "example" {
  input = { region = "cn-hangzhou", zones = ["a", "b"] }
}
output "region" { value = try(terraform_data.example.output.region, null) }
"#,
        )
        .check(check::attr_set(DATA, "id"))
        .check(check::attr_eq(DATA, "output.region", "cn-hangzhou"))
        .check(check::attr_eq(DATA, "input.zones.#", 2))
        .check(check::attr_pair(DATA, "input", DATA, "output"))
        .check(check::output_eq("region", "cn-hangzhou")),
        Step::plan_empty(),
        // Imported terraform_data knows only its id; its input/output live in configuration.
        Step::import_by_attr(DATA, "id").ignore(&["input", "output"]),
        Step::refresh().check(check::attr_eq(DATA, "output.region", "cn-hangzhou")),
        Step::plan_changes(r#"resource "terraform_data" "example" { input = "changed" }"#)
            .check(check::attr_eq(DATA, "input", "changed")),
        // A broken configuration: the step passes because plan fails as expected, and the
        // destroy below still works (it restores the last applied configuration).
        Step::expect_error(Cmd::Plan, "Unsupported argument")
            .with_config(r#"resource "terraform_data" "example" { nonsense = 1 }"#),
        Step::destroy().check(check::absent(DATA)),
    ])
}

#[test]
fn imperative_api_plan_state_and_errors() -> Result<()> {
    let mut t = TestCase::builtin_only("terraform_data_imperative")?;
    t.write_config(r#"resource "terraform_data" "example" { input = "one" }"#)?;

    let plan = t.plan()?;
    assert_eq!(plan.exit_code, 2);
    assert_eq!(plan.actions(DATA)?, vec!["create"]);
    assert!(plan.is_unknown(DATA, "id")?);
    assert_eq!(plan.planned_attr(DATA, "input")?, "one");

    t.apply()?;
    let id = t.state()?.attr_str(DATA, "id")?;
    assert!(!id.is_empty());
    t.assert_no_changes()?;

    // The failure message is matched regardless of Terraform's line wrapping.
    t.write_config(r#"resource "terraform_data" "example" { input = terraform_data.missing.output }"#)?;
    t.expect_error(
        Cmd::Plan,
        "A managed resource \"terraform_data\" \"missing\" has not been declared in the root module.",
    )?;
    t.expect_error_matching(Cmd::Validate, r"Reference to undeclared resource")?;

    // A plan that succeeds is not an error.
    t.write_config(r#"resource "terraform_data" "example" { input = "two" }"#)?;
    let err = t.expect_error(Cmd::Plan, "anything").unwrap_err().to_string();
    assert!(err.contains("expected to fail"), "{err}");

    t.destroy()?;
    assert!(t.state()?.resources().is_empty());
    Ok(())
}

#[test]
fn registry_providers_are_unreachable_by_design() -> Result<()> {
    let mut t = TestCase::builtin_only("no_registry")?;
    t.write_config(
        r#"
terraform {
  required_providers {
    null = { source = "hashicorp/null" }
  }
}
"#,
    )?;
    let out = t.expect_error(
        Cmd::Init,
        "provider registry.terraform.io/hashicorp/null was not found in any of the search locations",
    )?;
    assert!(out.duration.as_secs() < 30, "init must fail fast, without the network: {:?}", out.duration);
    Ok(())
}

#[test]
fn env_injection_reaches_terraform_and_home_is_private() -> Result<()> {
    let mut t = TestCase::builtin_only("env_injection")?;
    t.env("TF_VAR_greeting", "hello from the test");
    t.write_config(
        r#"
variable "greeting" { type = string }
output "greeting" { value = var.greeting }
"#,
    )?;
    t.apply()?;
    assert_eq!(t.outputs()?["greeting"]["value"], "hello from the test");
    assert!(t.home_dir().starts_with(t.root_dir()));
    Ok(())
}

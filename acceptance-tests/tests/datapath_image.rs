//! `hybrid_datapath_image` through the real Terraform CLI.

use acceptance_tests::Workspace;
use anyhow::Result;

#[test]
fn reads_the_bundled_image_and_replans_empty() -> Result<()> {
    let mut ws = Workspace::new()?;
    ws.config(
        r#"
data "hybrid_datapath_image" "hz" { region = "cn-hangzhou" }
data "hybrid_datapath_image" "old" {
  region  = "ap-southeast-1"
  version = "v1.16.6"
}
output "hz" { value = data.hybrid_datapath_image.hz }
output "old_vpc" { value = data.hybrid_datapath_image.old.vpc_image }
"#,
    )?;
    ws.apply()?;
    let out = ws.outputs()?;
    let hz = &out["hz"];
    assert_eq!(hz["version"], "v1.17.5", "defaults to the pinned version");
    assert_eq!(hz["image"], "registry-cn-hangzhou.ack.aliyuncs.com/acs/terway:v1.17.5");
    assert_eq!(hz["vpc_image"], "registry-cn-hangzhou-vpc.ack.aliyuncs.com/acs/terway:v1.17.5");
    assert_eq!(hz["repository"], "acs/terway");
    assert_eq!(
        hz["images"]["terway-controlplane"],
        "registry-cn-hangzhou.ack.aliyuncs.com/acs/terway-controlplane:v1.17.5"
    );
    assert_eq!(out["old_vpc"], "registry-ap-southeast-1-vpc.ack.aliyuncs.com/acs/terway:v1.16.6");
    ws.assert_no_changes()?;
    ws.destroy()?;
    Ok(())
}

#[test]
fn input_unknown_until_apply_is_read_during_apply() -> Result<()> {
    let mut ws = Workspace::new()?;
    ws.config(
        r#"
resource "terraform_data" "region" { input = "cn-shanghai" }
data "hybrid_datapath_image" "x" { region = terraform_data.region.output }
output "image" { value = data.hybrid_datapath_image.x.image }
"#,
    )?;
    let (code, plan) = ws.plan_json()?;
    assert_eq!(code, 2);
    let planned_read = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "data.hybrid_datapath_image.x")
        .expect("the read is deferred to apply");
    assert_eq!(planned_read["change"]["actions"], serde_json::json!(["read"]));
    assert_eq!(planned_read["change"]["after_unknown"]["image"], true);
    ws.apply()?;
    assert_eq!(ws.outputs()?["image"], "registry-cn-shanghai.ack.aliyuncs.com/acs/terway:v1.17.5");
    ws.assert_no_changes()?;
    ws.destroy()?;
    Ok(())
}

#[test]
fn invalid_region_and_version_fail_at_plan_on_the_attribute() -> Result<()> {
    let mut ws = Workspace::new()?;
    ws.config(
        r#"
data "hybrid_datapath_image" "x" {
  region  = "mars-north-1"
  version = "v0.0.1"
}
"#,
    )?;
    let run = ws.expect_failure(&["plan", "-no-color"])?;
    let err = run.stderr;
    assert!(err.contains("unknown region \"mars-north-1\""), "{err}");
    assert!(err.contains("cn-hangzhou"), "lists the known regions: {err}");
    assert!(err.contains("region  = \"mars-north-1\""), "points at the attribute's line: {err}");
    assert!(err.contains("unknown Terway version \"v0.0.1\""), "{err}");
    assert!(err.contains("version = \"v0.0.1\""), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    Ok(())
}

#[test]
fn provider_debug_logs_reach_terraform() -> Result<()> {
    let mut ws = Workspace::new()?;
    ws.config("data \"hybrid_datapath_image\" \"x\" { region = \"cn-beijing\" }\n")?;
    ws.env("TF_LOG_PROVIDER", "DEBUG");
    let run = ws.plan()?;
    // Terraform prefixes plugin lines with the installed binary's name.
    assert!(
        run.stderr
            .lines()
            .any(|l| l.contains("[DEBUG] provider.terraform-provider-hybrid_v") && l.contains(": reading data source")),
        "our DEBUG line, re-levelled by Terraform: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"));
    ws.env("TF_LOG_PROVIDER", "INFO");
    let quiet = ws.plan()?;
    assert!(!quiet.stderr.contains("reading data source"), "DEBUG lines are filtered at INFO");
    Ok(())
}

#[test]
fn schema_json_shows_the_provider_with_descriptions() -> Result<()> {
    let mut ws = Workspace::new()?;
    ws.config("provider \"hybrid\" {}\n")?;
    let run = ws.run(&["providers", "schema", "-json"])?.expect(&[0])?;
    let schema: serde_json::Value = serde_json::from_str(&run.stdout)?;
    let p = &schema["provider_schemas"]["registry.terraform.io/hybridops/hybrid"];
    let region = &p["data_source_schemas"]["hybrid_datapath_image"]["block"]["attributes"]["region"];
    assert_eq!(region["required"], true);
    assert_eq!(region["description_kind"], "markdown");
    assert!(region["description"].as_str().unwrap().contains("cn-hangzhou"));
    assert_eq!(p["provider"]["block"]["attributes"]["secret_key"]["sensitive"], true);
    assert!(p["provider"]["block"]["block_types"]["kubernetes"].is_object());
    Ok(())
}

#[test]
fn bad_provider_configuration_is_reported_on_the_attribute() -> Result<()> {
    let mut ws = Workspace::new()?;
    ws.config(
        r#"
provider "hybrid" {
  access_key = "LTAIexample"
  endpoints {
    cs = "ftp://nope"
  }
}
data "hybrid_datapath_image" "x" { region = "cn-hangzhou" }
"#,
    )?;
    let err = ws.expect_failure(&["plan", "-no-color"])?.stderr;
    assert!(err.contains("`access_key` is set, so `secret_key` must be set too"), "{err}");
    assert!(err.contains("cs = \"ftp://nope\""), "points at the endpoint: {err}");
    Ok(())
}

//! The release packaging: `scripts/release.sh` builds the zip, SHA256SUMS and a packed filesystem
//! mirror; `terraform init` installs from that mirror offline, and the lock file records the hash
//! of exactly the binary we shipped.

use std::path::Path;
use std::process::Command;

use acceptance_tests::command::base_env;
use acceptance_tests::{repo_root, terraform_path, PROVIDER_VERSION};
use anyhow::{ensure, Context, Result};
use base64::Engine as _;
use sha2::{Digest, Sha256};

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Terraform's `h1:` hash (Go's dirhash "Hash1") of the files inside a provider package.
fn h1_of_zip(zip: &Path) -> Result<String> {
    // The zip holds one file: the binary. Read it back with python's zipfile (always present).
    let out = Command::new("python3")
        .args(["-c", "import sys,zipfile,hashlib\nz=zipfile.ZipFile(sys.argv[1])\nfor n in sorted(z.namelist()): print(hashlib.sha256(z.read(n)).hexdigest()+'  '+n)"])
        .arg(zip)
        .output()?;
    ensure!(out.status.success(), "reading {}", zip.display());
    let summary = String::from_utf8(out.stdout)?;
    Ok(format!("h1:{}", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(summary.as_bytes()))))
}

#[test]
fn terraform_installs_the_packaged_provider_offline_with_matching_hashes() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let out = tmp.path().join("dist");
    // The debug profile keeps this fast; the release command uses the release profile.
    let status = Command::new("bash")
        .arg(repo_root().join("scripts/release.sh"))
        .args(["--profile", "debug", "--out"])
        .arg(&out)
        .status()?;
    ensure!(status.success(), "release.sh failed");

    let dist = out.join(PROVIDER_VERSION);
    let zip_name = format!("terraform-provider-hybrid_{PROVIDER_VERSION}_linux_amd64.zip");
    let zip = dist.join(&zip_name);
    let sums = std::fs::read_to_string(dist.join(format!("terraform-provider-hybrid_{PROVIDER_VERSION}_SHA256SUMS")))?;
    let zip_sha = sha256_hex(&std::fs::read(&zip)?);
    ensure!(sums.contains(&format!("{zip_sha}  {zip_name}")), "SHA256SUMS lists the zip's hash:\n{sums}");
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(
        dist.join(format!("terraform-provider-hybrid_{PROVIDER_VERSION}_manifest.json")),
    )?)?;
    ensure!(manifest["metadata"]["protocol_versions"] == serde_json::json!(["6.0"]));
    ensure!(out.join("mirror/registry.terraform.io/hybridops/hybrid").join(&zip_name).exists(), "packed mirror layout");

    // Only the mirror: no registry, no network.
    let home = tmp.path().join("home");
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&home)?;
    std::fs::create_dir_all(&work)?;
    let cli = tmp.path().join("cli.tfrc");
    std::fs::write(
        &cli,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n  }}\n}}\n",
            out.join("mirror").display()
        ),
    )?;
    std::fs::write(
        work.join("main.tf"),
        "terraform {\n  required_providers {\n    hybrid = { source = \"hybridops/hybrid\", version = \"~> 0.1\" }\n  }\n}\n\
         data \"hybrid_datapath_image\" \"x\" { region = \"cn-hangzhou\" }\n",
    )?;
    let terraform = terraform_path()?;
    let run = |args: &[&str]| -> Result<std::process::Output> {
        let o =
            Command::new(&terraform).args(args).current_dir(&work).env_clear().envs(base_env(&home, &cli)).output()?;
        ensure!(o.status.success(), "terraform {args:?}: {}", String::from_utf8_lossy(&o.stderr));
        Ok(o)
    };
    run(&["init", "-input=false", "-no-color"])?;
    let lock = std::fs::read_to_string(work.join(".terraform.lock.hcl")).context("lock file")?;
    ensure!(lock.contains(&format!("version     = \"{PROVIDER_VERSION}\"")), "{lock}");
    // A packed filesystem mirror gives Terraform the package contents, so it records their h1: hash.
    let h1 = h1_of_zip(&zip)?;
    ensure!(lock.contains(&h1), "lock records {h1} for the shipped binary:\n{lock}");
    let providers = String::from_utf8(run(&["providers", "-no-color"])?.stdout)?;
    ensure!(providers.contains("provider[registry.terraform.io/hybridops/hybrid] ~> 0.1"), "{providers}");
    let plan = String::from_utf8(run(&["plan", "-no-color"])?.stdout)?;
    ensure!(plan.contains("No changes") || plan.contains("read"), "{plan}");
    Ok(())
}

//! Finding the Terraform command and the provider binary the tests run.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

/// Environment variable naming the Terraform executable to use instead of the project's own.
pub const TERRAFORM_PATH_ENV: &str = "TF_ACC_TERRAFORM_PATH";
/// Environment variable naming the provider binary to test instead of the freshly built one.
pub const PROVIDER_PATH_ENV: &str = "TF_ACC_PROVIDER_PATH";
/// File name of the provider binary cargo builds.
pub const PROVIDER_BINARY: &str = "terraform-provider-hybrid";

/// The workspace root (the directory holding `scripts/` and `.tools/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

/// The Terraform command: `TF_ACC_TERRAFORM_PATH`, else `<repo>/.tools/bin/terraform`.
pub fn terraform_path() -> Result<PathBuf> {
    terraform_path_with(&|name| std::env::var_os(name), &repo_root())
}

/// [`terraform_path`] with the environment and repository root passed in (for tests).
pub fn terraform_path_with(env: &dyn Fn(&str) -> Option<OsString>, repo: &Path) -> Result<PathBuf> {
    if let Some(path) = env(TERRAFORM_PATH_ENV).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!("{TERRAFORM_PATH_ENV}={} is not a file", path.display());
        }
        return Ok(path);
    }
    let path = repo.join(".tools/bin/terraform");
    if !path.is_file() {
        bail!(
            "Terraform not found at {}: run `bash scripts/install-terraform.sh` in {} (or set {TERRAFORM_PATH_ENV} to a terraform binary)",
            path.display(),
            repo.display()
        );
    }
    Ok(path)
}

/// The provider binary under test. Candidates, first existing wins: `TF_ACC_PROVIDER_PATH`; the
/// profile directory of the running test executable (`<target>/<profile>/deps/..`);
/// `$CARGO_TARGET_DIR/debug`; `<repo>/target/debug`. The harness never builds it: the test command
/// runs `cargo build -p terraform-provider-hybrid` first.
pub fn provider_path() -> Result<PathBuf> {
    provider_path_with(&|name| std::env::var_os(name), &repo_root(), std::env::current_exe().ok().as_deref())
}

/// [`provider_path`] with the environment, repository root and test executable passed in.
pub fn provider_path_with(
    env: &dyn Fn(&str) -> Option<OsString>,
    repo: &Path,
    current_exe: Option<&Path>,
) -> Result<PathBuf> {
    if let Some(path) = env(PROVIDER_PATH_ENV).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!("{PROVIDER_PATH_ENV}={} is not a file", path.display());
        }
        return Ok(path);
    }
    let candidates = provider_candidates(env, repo, current_exe);
    if let Some(found) = candidates.iter().find(|p| p.is_file()) {
        return Ok(found.clone());
    }
    let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
    bail!(
        "provider binary not found (looked at: {}): run `cargo build -p terraform-provider-hybrid` first (or set {PROVIDER_PATH_ENV})",
        looked.join(", ")
    )
}

fn provider_candidates(
    env: &dyn Fn(&str) -> Option<OsString>,
    repo: &Path,
    current_exe: Option<&Path>,
) -> Vec<PathBuf> {
    let mut out = Vec::new();
    // Test executables live in <target>/<profile>/deps; the provider binary sits in <target>/<profile>.
    if let Some(deps) = current_exe.and_then(Path::parent) {
        if deps.file_name().is_some_and(|n| n == "deps") {
            if let Some(profile_dir) = deps.parent() {
                out.push(profile_dir.join(PROVIDER_BINARY));
            }
        } else {
            // A binary target (the bench) sits directly in <target>/<profile>.
            out.push(deps.join(PROVIDER_BINARY));
        }
    }
    if let Some(target) = env("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        let target = PathBuf::from(target);
        let target = if target.is_relative() { repo.join(target) } else { target };
        out.push(target.join("debug").join(PROVIDER_BINARY));
    }
    out.push(repo.join("target/debug").join(PROVIDER_BINARY));
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &Path)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.as_os_str().to_os_string())).collect();
        move |name| map.get(name).cloned()
    }

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"#!/bin/sh\n").unwrap();
    }

    #[test]
    fn terraform_env_var_wins_and_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let tf = dir.path().join("tf");
        touch(&tf);
        touch(&dir.path().join(".tools/bin/terraform"));
        let found = terraform_path_with(&env_of(&[(TERRAFORM_PATH_ENV, &tf)]), dir.path()).unwrap();
        assert_eq!(found, tf);

        let missing = dir.path().join("nope");
        let err = terraform_path_with(&env_of(&[(TERRAFORM_PATH_ENV, &missing)]), dir.path()).unwrap_err();
        assert!(err.to_string().contains("is not a file"), "{err}");
    }

    #[test]
    fn terraform_defaults_to_project_tools_and_explains_how_to_install() {
        let dir = tempfile::tempdir().unwrap();
        let err = terraform_path_with(&env_of(&[]), dir.path()).unwrap_err();
        assert!(err.to_string().contains("scripts/install-terraform.sh"), "{err}");

        let tf = dir.path().join(".tools/bin/terraform");
        touch(&tf);
        assert_eq!(terraform_path_with(&env_of(&[]), dir.path()).unwrap(), tf);
    }

    #[test]
    fn provider_env_var_wins() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("custom-provider");
        touch(&p);
        touch(&dir.path().join("target/debug").join(PROVIDER_BINARY));
        assert_eq!(provider_path_with(&env_of(&[(PROVIDER_PATH_ENV, &p)]), dir.path(), None).unwrap(), p);
    }

    #[test]
    fn provider_found_next_to_test_executable_then_target_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("custom-target/release/deps/acceptance-1234");
        let beside = dir.path().join("custom-target/release").join(PROVIDER_BINARY);
        let in_cargo_target = dir.path().join("ct/debug").join(PROVIDER_BINARY);
        let in_repo_target = dir.path().join("target/debug").join(PROVIDER_BINARY);
        let env = env_of(&[("CARGO_TARGET_DIR", Path::new("ct"))]);

        let err = provider_path_with(&env, dir.path(), Some(&exe)).unwrap_err().to_string();
        assert!(err.contains("cargo build -p terraform-provider-hybrid"), "{err}");
        assert!(err.contains(&beside.display().to_string()), "{err}");
        assert!(err.contains(&in_cargo_target.display().to_string()), "relative CARGO_TARGET_DIR: {err}");

        touch(&in_repo_target);
        assert_eq!(provider_path_with(&env, dir.path(), Some(&exe)).unwrap(), in_repo_target);
        touch(&in_cargo_target);
        assert_eq!(provider_path_with(&env, dir.path(), Some(&exe)).unwrap(), in_cargo_target);
        touch(&beside);
        assert_eq!(provider_path_with(&env, dir.path(), Some(&exe)).unwrap(), beside);
    }

    #[test]
    fn repo_root_holds_the_workspace_manifest() {
        assert!(repo_root().join("Cargo.toml").is_file());
        assert!(repo_root().join("acceptance-tests").is_dir());
    }
}

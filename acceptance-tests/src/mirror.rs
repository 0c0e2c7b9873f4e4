//! A per-test filesystem mirror (Terraform's "unpacked" layout) holding the provider under test.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Registry host of the provider's source address.
pub const PROVIDER_HOST: &str = "registry.terraform.io";
/// Namespace of the provider's source address.
pub const PROVIDER_NAMESPACE: &str = "hybridops";
/// Type of the provider's source address.
pub const PROVIDER_TYPE: &str = "hybrid";
/// Version the provider is published under in the mirror: the workspace version.
pub const PROVIDER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// `registry.terraform.io/hybridops/hybrid`.
pub fn provider_source() -> String {
    format!("{PROVIDER_HOST}/{PROVIDER_NAMESPACE}/{PROVIDER_TYPE}")
}

/// Terraform's platform name for the machine the tests run on (`linux_amd64`, ...).
pub fn platform() -> String {
    let os = std::env::consts::OS;
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        other => other,
    };
    format!("{os}_{arch}")
}

/// Where Terraform looks for the executable in an unpacked mirror:
/// `<mirror>/registry.terraform.io/hybridops/hybrid/<version>/<os_arch>/terraform-provider-hybrid_v<version>`.
pub fn mirror_binary_path(mirror: &Path, version: &str, platform: &str) -> PathBuf {
    mirror
        .join(PROVIDER_HOST)
        .join(PROVIDER_NAMESPACE)
        .join(PROVIDER_TYPE)
        .join(version)
        .join(platform)
        .join(format!("terraform-provider-{PROVIDER_TYPE}_v{version}"))
}

/// Puts `binary` into the mirror at [`mirror_binary_path`]. A hard link keeps the test on the exact
/// file it started with even if cargo rebuilds meanwhile; across filesystems a symlink is used.
pub fn install_provider(mirror: &Path, binary: &Path, version: &str) -> Result<PathBuf> {
    let dest = mirror_binary_path(mirror, version, &platform());
    let parent = dest.parent().context("mirror path has no parent")?;
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let source = binary.canonicalize().with_context(|| format!("provider binary {}", binary.display()))?;
    if std::fs::hard_link(&source, &dest).is_err() {
        std::os::unix::fs::symlink(&source, &dest)
            .with_context(|| format!("linking {} to {}", dest.display(), source.display()))?;
    }
    Ok(dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_terraforms_unpacked_mirror_layout() {
        let p = mirror_binary_path(Path::new("/m"), "0.1.0", "linux_amd64");
        assert_eq!(
            p,
            Path::new("/m/registry.terraform.io/hybridops/hybrid/0.1.0/linux_amd64/terraform-provider-hybrid_v0.1.0")
        );
        assert_eq!(provider_source(), "registry.terraform.io/hybridops/hybrid");
    }

    #[test]
    fn platform_uses_terraform_arch_names() {
        let p = platform();
        assert!(p.starts_with(std::env::consts::OS), "{p}");
        assert!(!p.contains("x86_64") && !p.contains("aarch64"), "{p}");
    }

    #[test]
    fn install_links_the_binary_and_keeps_it_executable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("provider");
        std::fs::write(&bin, b"#!/bin/sh\necho hi\n").unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();

        let mirror = dir.path().join("mirror");
        let dest = install_provider(&mirror, &bin, "1.2.3").unwrap();
        assert_eq!(dest, mirror_binary_path(&mirror, "1.2.3", &platform()));
        assert_eq!(std::fs::read(&dest).unwrap(), b"#!/bin/sh\necho hi\n");
        let mode = std::fs::metadata(&dest).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "mode {mode:o}");
    }

    #[test]
    fn install_reports_a_missing_binary() {
        let dir = tempfile::tempdir().unwrap();
        let err = install_provider(&dir.path().join("m"), &dir.path().join("absent"), "0.1.0").unwrap_err();
        assert!(format!("{err:#}").contains("absent"), "{err:#}");
    }
}

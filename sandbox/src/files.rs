//! Files the sandbox writes into its `--dir`: `kubeconfig`, `ca.crt`, `sandbox.env`, `sandbox.pid`.

use anyhow::{Context, Result};
use base64::Engine;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const CONTEXT: &str = "hybrid-sandbox";

/// A kubeconfig with one cluster (the sandbox's CA), one token user and one context.
pub fn kubeconfig_yaml(server: &str, ca_pem: &str, token: &str) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {CONTEXT}\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\nusers:\n- name: {CONTEXT}-admin\n  user:\n    token: {token}\ncontexts:\n- name: {CONTEXT}\n  context:\n    cluster: {CONTEXT}\n    user: {CONTEXT}-admin\n    namespace: default\ncurrent-context: {CONTEXT}\npreferences: {{}}\n"
    )
}

/// Single-quotes a value for POSIX shells.
pub fn shell_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

fn write_private(path: &Path, content: &str) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).with_context(|| format!("writing {}", path.display()))?;
    f.write_all(content.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

/// Writes `kubeconfig` and `ca.crt`; returns the kubeconfig path.
pub fn write_kube_files(dir: &Path, server: &str, ca_pem: &str, token: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let kc = dir.join("kubeconfig");
    write_private(&kc, &kubeconfig_yaml(server, ca_pem, token))?;
    write_private(&dir.join("ca.crt"), ca_pem)?;
    Ok(kc)
}

pub fn env_path(dir: &Path) -> PathBuf {
    dir.join("sandbox.env")
}

/// Starts `sandbox.env` afresh with the given `export` lines.
pub fn write_env(dir: &Path, vars: &[(&str, String)]) -> Result<()> {
    write_private(&env_path(dir), "# Written by hybrid-sandbox; source it: . ./sandbox.env\n")?;
    append_env(dir, vars)
}

/// Appends `export NAME='value'` lines to `sandbox.env` (the cloud side adds its endpoints this way).
pub fn append_env(dir: &Path, vars: &[(&str, String)]) -> Result<()> {
    let path = env_path(dir);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .with_context(|| format!("appending to {}", path.display()))?;
    for (k, v) in vars {
        anyhow::ensure!(
            !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "invalid environment variable name {k:?}"
        );
        writeln!(f, "export {k}={}", shell_quote(v)).with_context(|| format!("appending to {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lines_are_quoted() {
        let d = tempfile::tempdir().unwrap();
        write_env(d.path(), &[("A", "x y".into())]).unwrap();
        append_env(d.path(), &[("B", "it's".into())]).unwrap();
        let s = std::fs::read_to_string(env_path(d.path())).unwrap();
        assert!(s.contains("export A='x y'\n"));
        assert!(s.contains("export B='it'\\''s'\n"));
        assert!(append_env(d.path(), &[("BAD NAME", "x".into())]).is_err());
    }
}

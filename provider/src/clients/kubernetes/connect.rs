//! Builds a `kube::Client` from the provider's `kubernetes` block.
//!
//! Precedence: an explicit `host` (with `token` and `cluster_ca_certificate`), else the kubeconfig at
//! `config_path`, else the files named by `KUBECONFIG` (merged, as kubectl does), else
//! `~/.kube/config`; `config_context` picks the context, otherwise the file's current one.
//! `insecure` turns off certificate verification in every case.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use kube::config::{KubeConfigOptions, Kubeconfig};

use super::error::KubeError;
use crate::provider::KubernetesSettings;

/// Where the configuration came from, for error messages.
fn describe(source: &Source) -> String {
    match source {
        Source::Explicit => "the provider's kubernetes block".to_string(),
        Source::File(p) => format!("kubeconfig {}", p.display()),
        Source::Env => "the kubeconfig files named by KUBECONFIG".to_string(),
    }
}

enum Source {
    Explicit,
    File(PathBuf),
    Env,
}

fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(p),
    }
}

/// An in-memory kubeconfig for `host`/`token`/`cluster_ca_certificate`, so explicit settings go
/// through the same loader (and CA handling) as files do.
fn explicit_kubeconfig(s: &KubernetesSettings, host: &str) -> Result<Kubeconfig, KubeError> {
    let mut cluster = serde_json::json!({ "server": host });
    if let Some(ca) = s.cluster_ca_certificate.as_deref().filter(|c| !c.trim().is_empty()) {
        cluster["certificate-authority-data"] = base64::engine::general_purpose::STANDARD.encode(ca.trim()).into();
    }
    let mut user = serde_json::json!({});
    if let Some(token) = s.token.as_deref().filter(|t| !t.is_empty()) {
        user["token"] = token.into();
    }
    let kc = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{ "name": "provider", "cluster": cluster }],
        "users": [{ "name": "provider", "user": user }],
        "contexts": [{ "name": "provider", "context": { "cluster": "provider", "user": "provider" } }],
        "current-context": "provider",
    });
    serde_json::from_value(kc).map_err(|e| KubeError::Config(format!("invalid Kubernetes settings: {e}")))
}

fn load(s: &KubernetesSettings) -> Result<(Kubeconfig, Source), KubeError> {
    if let Some(host) = s.host.as_deref().filter(|h| !h.is_empty()) {
        return Ok((explicit_kubeconfig(s, host)?, Source::Explicit));
    }
    let read = |p: PathBuf| {
        Kubeconfig::read_from(&p)
            .map(|kc| (kc, Source::File(p.clone())))
            .map_err(|e| KubeError::Config(format!("could not read kubeconfig {}: {e}", p.display())))
    };
    if let Some(path) = s.config_path.as_deref().filter(|p| !p.is_empty()) {
        return read(expand_home(path));
    }
    match Kubeconfig::from_env() {
        Ok(Some(kc)) => return Ok((kc, Source::Env)),
        Ok(None) => {}
        Err(e) => {
            return Err(KubeError::Config(format!("could not read the kubeconfig files named by KUBECONFIG: {e}")))
        }
    }
    let default = std::env::var_os("HOME").map(|h| Path::new(&h).join(".kube").join("config"));
    match default {
        Some(p) if p.exists() => read(p),
        _ => Err(KubeError::Config(
            "no Kubernetes configuration: the provider's kubernetes block is empty, KUBECONFIG is not set and \
             ~/.kube/config does not exist"
                .into(),
        )),
    }
}

/// Builds the client configuration (no network access).
pub async fn client_config(s: &KubernetesSettings) -> Result<kube::Config, KubeError> {
    let (kc, source) = load(s)?;
    let options = KubeConfigOptions { context: s.config_context.clone(), ..Default::default() };
    let mut config = kube::Config::from_custom_kubeconfig(kc, &options)
        .await
        .map_err(|e| KubeError::Config(format!("{}: {e}", describe(&source))))?;
    if s.insecure {
        config.accept_invalid_certs = true;
        config.root_cert = None;
    }
    // Retries are ours (see `retry`): they cover 5xx and connection errors of idempotent calls,
    // which kube's default layer does not.
    config.default_retry = false;
    config.connect_timeout = Some(Duration::from_secs(10));
    config.read_timeout = Some(Duration::from_secs(60));
    Ok(config)
}

/// Builds the client.
pub async fn connect(s: &KubernetesSettings) -> Result<kube::Client, KubeError> {
    let config = client_config(s).await?;
    let url = config.cluster_url.to_string();
    kube::Client::try_from(config).map_err(|e| KubeError::Config(format!("could not set up a client for {url}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBECONFIG: &str = r#"
apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: { server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true }
- name: b
  cluster: { server: "https://127.0.0.2:7443", insecure-skip-tls-verify: true }
users:
- name: u
  user: { token: "tok-file" }
contexts:
- name: ctx-a
  context: { cluster: a, user: u, namespace: ns-a }
- name: ctx-b
  context: { cluster: b, user: u }
current-context: ctx-a
"#;

    #[tokio::test]
    async fn explicit_host_wins_and_carries_the_ca() {
        let s = KubernetesSettings {
            host: Some("https://10.0.0.1:6443".into()),
            token: Some("t0ken-value".into()),
            insecure: true,
            ..Default::default()
        };
        let c = client_config(&s).await.unwrap();
        assert_eq!(c.cluster_url.to_string(), "https://10.0.0.1:6443/");
        assert!(c.accept_invalid_certs);
        assert!(!c.default_retry);
    }

    #[tokio::test]
    async fn config_path_and_context_select_the_cluster() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("kc");
        std::fs::write(&p, KUBECONFIG).unwrap();
        let path = Some(p.display().to_string());
        let current =
            client_config(&KubernetesSettings { config_path: path.clone(), ..Default::default() }).await.unwrap();
        assert_eq!(current.cluster_url.to_string(), "https://127.0.0.1:6443/");
        assert_eq!(current.default_namespace, "ns-a");
        let b = client_config(&KubernetesSettings {
            config_path: path.clone(),
            config_context: Some("ctx-b".into()),
            ..Default::default()
        })
        .await
        .unwrap();
        assert_eq!(b.cluster_url.to_string(), "https://127.0.0.2:7443/");
        let missing = client_config(&KubernetesSettings {
            config_path: path,
            config_context: Some("nope".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
        assert!(matches!(missing, KubeError::Config(_)), "{missing:?}");
    }

    #[tokio::test]
    async fn unreadable_file_names_the_path() {
        let s = KubernetesSettings { config_path: Some("/nonexistent/kc".into()), ..Default::default() };
        let e = client_config(&s).await.unwrap_err().to_string();
        assert!(e.contains("/nonexistent/kc"), "{e}");
    }

    #[tokio::test]
    async fn a_bad_ca_is_a_config_error_without_the_token() {
        let s = KubernetesSettings {
            host: Some("https://10.0.0.1:6443".into()),
            token: Some("s3cret-token".into()),
            cluster_ca_certificate: Some("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----".into()),
            ..Default::default()
        };
        match client_config(&s).await {
            Err(e) => assert!(!e.to_string().contains("s3cret-token"), "{e}"),
            Ok(c) => {
                // kube may defer certificate parsing to the TLS setup.
                let e = kube::Client::try_from(c).err().map(|e| e.to_string()).unwrap_or_default();
                assert!(!e.contains("s3cret-token"), "{e}");
            }
        }
    }
}

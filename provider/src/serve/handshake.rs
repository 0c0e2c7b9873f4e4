//! The launch contract between Terraform and a plugin: environment in, one line out.

use std::path::PathBuf;

pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// What Terraform told us through the environment.
#[derive(Debug, Clone, Default)]
pub struct HandshakeConfig {
    /// Terraform's client certificate (PEM) for AutoMTLS; `None` serves plaintext.
    pub client_cert_pem: Option<String>,
    /// `PLUGIN_UNIX_SOCKET_DIR`, where the socket goes (default: the temp dir).
    pub socket_dir: Option<PathBuf>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    #[error(
        "This binary is a plugin for Terraform and is not meant to be run directly.\n\
         Use it from a Terraform configuration (source \"hybridops/hybrid\"), or run it with --debug \
         to attach Terraform for debugging."
    )]
    NotLaunchedByTerraform,
    #[error("Terraform asked for plugin protocol versions {0:?}, but this provider speaks only version 6 (Terraform 1.0 or later)")]
    UnsupportedProtocol(String),
}

/// Reads the handshake environment through `env` (injected so tests need no real environment).
pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<HandshakeConfig, HandshakeError> {
    if env(MAGIC_COOKIE_KEY).as_deref() != Some(MAGIC_COOKIE_VALUE) {
        return Err(HandshakeError::NotLaunchedByTerraform);
    }
    if let Some(versions) = env("PLUGIN_PROTOCOL_VERSIONS") {
        if !versions.split(',').any(|v| v.trim() == "6") {
            return Err(HandshakeError::UnsupportedProtocol(versions));
        }
    }
    Ok(HandshakeConfig {
        client_cert_pem: env("PLUGIN_CLIENT_CERT").filter(|s| !s.trim().is_empty()),
        socket_dir: env("PLUGIN_UNIX_SOCKET_DIR").filter(|s| !s.is_empty()).map(PathBuf::from),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn requires_the_cookie() {
        assert_eq!(from_env(env(&[])).unwrap_err(), HandshakeError::NotLaunchedByTerraform);
        assert_eq!(from_env(env(&[(MAGIC_COOKIE_KEY, "wrong")])).unwrap_err(), HandshakeError::NotLaunchedByTerraform);
    }

    #[test]
    fn negotiates_protocol_6_only() {
        let ok = from_env(env(&[(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE), ("PLUGIN_PROTOCOL_VERSIONS", "5,6")]));
        assert!(ok.is_ok());
        let bad = from_env(env(&[(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE), ("PLUGIN_PROTOCOL_VERSIONS", "5")]));
        assert!(matches!(bad, Err(HandshakeError::UnsupportedProtocol(_))));
    }

    #[test]
    fn reads_client_cert_and_socket_dir() {
        let c = from_env(env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_CLIENT_CERT", "-----BEGIN CERTIFICATE-----"),
            ("PLUGIN_UNIX_SOCKET_DIR", "/run/x"),
        ]))
        .unwrap();
        assert!(c.client_cert_pem.is_some());
        assert_eq!(c.socket_dir, Some(PathBuf::from("/run/x")));
    }
}

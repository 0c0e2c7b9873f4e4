//! Errors of Kubernetes API calls and how they read as Terraform diagnostics.

use crate::framework::{diag, Diagnostics};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KubeError {
    /// No usable client configuration (kubeconfig missing or invalid, bad CA, ...).
    #[error("{0}")]
    Config(String),
    /// The API server answered with an error status.
    #[error("{verb} {path}: {code} {reason}: {message}")]
    Api { verb: String, path: String, code: u16, reason: String, message: String, attempts: u32 },
    /// No answer from the API server.
    #[error("{verb} {path}: {detail}")]
    Transport { verb: String, path: String, detail: String, attempts: u32 },
    /// An answer that is not what the API promises.
    #[error("{verb} {path}: unexpected response: {detail}")]
    Decode { verb: String, path: String, detail: String },
    /// Terraform asked the provider to stop.
    #[error("cancelled")]
    Cancelled,
}

impl KubeError {
    /// The HTTP status of an API error.
    pub fn code(&self) -> Option<u16> {
        match self {
            KubeError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }
    pub fn is_not_found(&self) -> bool {
        self.code() == Some(404)
    }
    pub fn is_conflict(&self) -> bool {
        self.code() == Some(409)
    }

    /// A sentence on what to do about the error.
    fn hint(&self) -> &'static str {
        match self {
            KubeError::Config(_) => {
                "Set the provider's `kubernetes` block (`config_path` and `config_context`, or `host`, `token` and \
                 `cluster_ca_certificate`), or point `KUBECONFIG` at the registered cluster's kubeconfig."
            }
            KubeError::Api { code: 401, .. } => {
                "The API server did not accept the credentials: check the token or the kubeconfig user."
            }
            KubeError::Api { code: 403, .. } => {
                "The identity lacks RBAC permission for this request; grant it or use a more privileged kubeconfig."
            }
            KubeError::Api { code: 409, .. } => {
                "Another client changed the object at the same time and retries did not settle; run apply again."
            }
            KubeError::Api { code: 422, .. } => "The API server rejected the object as invalid.",
            KubeError::Api { code: 429 | 500..=599, .. } | KubeError::Transport { .. } => {
                "The API server stayed unavailable through every retry; check that it is reachable and healthy, \
                 then run again."
            }
            KubeError::Cancelled => "Terraform asked the provider to stop.",
            _ => "",
        }
    }

    /// The error as one Terraform diagnostic; `summary` says what was being done
    /// (e.g. "Could not read ConfigMap kube-system/eni-config").
    pub fn to_diagnostics(&self, summary: &str) -> Diagnostics {
        let attempts = match self {
            KubeError::Api { attempts, .. } | KubeError::Transport { attempts, .. } if *attempts > 1 => {
                format!(" (after {attempts} attempts)")
            }
            _ => String::new(),
        };
        let hint = self.hint();
        let detail = if hint.is_empty() { format!("{self}{attempts}.") } else { format!("{self}{attempts}. {hint}") };
        diag::error(summary, detail)
    }
}

/// Replaces every occurrence of a secret with `<redacted>`: error text may quote configuration.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(s.as_str(), "<redacted>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16) -> KubeError {
        KubeError::Api {
            verb: "GET".into(),
            path: "/api/v1/namespaces/kube-system/configmaps/eni-config".into(),
            code,
            reason: "Forbidden".into(),
            message: "configmaps \"eni-config\" is forbidden".into(),
            attempts: 1,
        }
    }

    #[test]
    fn diagnostics_name_the_call_and_say_what_to_do() {
        let d = api(403).to_diagnostics("Could not read ConfigMap kube-system/eni-config");
        let d = &d.0[0];
        assert_eq!(d.summary, "Could not read ConfigMap kube-system/eni-config");
        assert!(d.detail.contains("403 Forbidden"), "{}", d.detail);
        assert!(d.detail.contains("RBAC"), "{}", d.detail);
        let t = KubeError::Transport { verb: "GET".into(), path: "/x".into(), detail: "refused".into(), attempts: 6 };
        assert!(t.to_diagnostics("s").0[0].detail.contains("after 6 attempts"));
    }

    #[test]
    fn secrets_are_redacted() {
        assert_eq!(redact("token abcd1234 rejected", &["abcd1234".into()]), "token <redacted> rejected");
        assert_eq!(redact("a", &["".into()]), "a");
    }

    #[test]
    fn classification() {
        assert!(api(404).is_not_found());
        assert!(api(409).is_conflict());
        assert_eq!(KubeError::Cancelled.code(), None);
    }
}

//! A failed Alibaba Cloud call: the service's error code, message and request ID, or a transport
//! failure. Messages never carry credentials.

use crate::framework::{AttrPath, Diagnostics};

#[derive(Debug, Clone, PartialEq)]
pub struct CloudError {
    /// The service's code (`EntityNotExist.User`, `Throttling.User`, ...), or `Transport`/`Decode`/
    /// `Cancelled`/`Credentials` for failures without an answer.
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    /// HTTP status; 0 without an answer.
    pub status: u16,
    /// `service Action`, e.g. `ram CreateUser`.
    pub call: String,
}

impl std::fmt::Display for CloudError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.call, self.code, self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request ID {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for CloudError {}

/// Replaces every occurrence of the given secrets in `text` (a service may echo parts of a
/// request in its message).
pub(crate) fn scrub(text: &str, secrets: &[&str]) -> String {
    secrets.iter().filter(|s| s.len() >= 4).fold(text.to_string(), |t, s| t.replace(s, "<redacted>"))
}

impl CloudError {
    pub fn local(call: &str, code: &str, message: impl Into<String>) -> CloudError {
        CloudError { code: code.into(), message: message.into(), request_id: None, status: 0, call: call.into() }
    }

    /// Whether the code is `code` (exactly).
    pub fn is(&self, code: &str) -> bool {
        self.code == code
    }

    /// Whether the caller's credentials or request were refused (bad key, signature, token,
    /// permission, unknown action): an error about the call, never about the object.
    pub fn is_auth_or_request_error(&self) -> bool {
        const PREFIXES: &[&str] = &[
            "InvalidAccessKeyId",
            "InvalidSecurityToken",
            "MissingSecurityToken",
            "SignatureDoesNotMatch",
            "SignatureNonceUsed",
            "IncompleteSignature",
            "InvalidTimeStamp",
            "Forbidden",
            "NoPermission",
            "InvalidAction",
            "InvalidApi",
            "InvalidVersion",
            "UnknownOperation",
        ];
        PREFIXES.iter().any(|p| self.code.starts_with(p))
    }

    /// Whether the service said the object does not exist (`EntityNotExist.*`, `*.NotFound`,
    /// CS's `Error*NotFound`, HTTP 404). Never true for credential or request errors, although
    /// `InvalidAccessKeyId.NotFound` is a 404 too: a resource must not conclude its object is
    /// gone because a key is wrong.
    pub fn is_not_found(&self) -> bool {
        if self.is_auth_or_request_error() {
            return false;
        }
        self.status == 404
            || self.code.starts_with("EntityNotExist")
            || self.code.ends_with(".NotFound")
            || (self.code.starts_with("Error") && self.code.ends_with("NotFound"))
    }

    /// Throttling: the request was refused unprocessed, so it is safe to send again.
    pub fn is_throttling(&self) -> bool {
        self.status == 429 || self.code.starts_with("Throttling")
    }

    /// Transient server-side failure (the request may or may not have taken effect).
    pub fn is_server_error(&self) -> bool {
        self.status >= 500 || self.code == "ServiceUnavailable" || self.code == "InternalError"
    }

    fn detail(&self) -> String {
        let mut d = format!("{} answered {}: {}", self.call, self.code, self.message);
        if self.status != 0 {
            d.push_str(&format!(" (HTTP {})", self.status));
        }
        if let Some(id) = &self.request_id {
            d.push_str(&format!("\nRequest ID: {id}"));
        }
        if self.code.starts_with("InvalidAccessKeyId") || self.code == "SignatureDoesNotMatch" {
            d.push_str("\nCheck the provider's credentials (access_key/secret_key, the environment, or the profile).");
        } else if self.code.starts_with("InvalidSecurityToken") || self.code == "MissingSecurityToken" {
            d.push_str("\nThe STS token is missing, malformed or expired: refresh the temporary credentials.");
        } else if self.is_throttling() {
            d.push_str("\nThe service kept throttling after several retries; try again later or lower -parallelism.");
        } else if self.code == "ConnectionRefused" || self.code == "Transport" {
            d.push_str("\nCheck the endpoint (the provider's endpoints block or HYBRID_ENDPOINT_*) and the network.");
        }
        d
    }

    pub fn to_diagnostics(&self, summary: &str) -> Diagnostics {
        let mut d = Diagnostics::new();
        d.error(summary, self.detail());
        d
    }

    pub fn to_diagnostics_at(&self, path: AttrPath, summary: &str) -> Diagnostics {
        let mut d = Diagnostics::new();
        d.error_at(path, summary, self.detail());
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: u16, code: &str) -> CloudError {
        CloudError { code: code.into(), message: "m".into(), request_id: Some("rid".into()), status, call: "x".into() }
    }

    #[test]
    fn not_found_means_the_object_not_the_key() {
        for (status, code) in [
            (404, "EntityNotExist.User"),
            (404, "ErrorClusterNotFound"),
            (404, "ErrorAddonNotFound"),
            (404, "InvalidSecurityGroupId.NotFound"),
            (404, "HTTP404"),
        ] {
            assert!(err(status, code).is_not_found(), "{code}");
        }
        for (status, code) in [
            (404, "InvalidAccessKeyId.NotFound"),
            (404, "InvalidAction.NotFound"),
            (400, "SignatureDoesNotMatch"),
            (403, "Forbidden.RAM"),
            (409, "EntityAlreadyExists.User"),
        ] {
            assert!(!err(status, code).is_not_found(), "{code}");
        }
    }

    #[test]
    fn display_and_diagnostics_carry_code_message_and_request_id() {
        let e = err(429, "Throttling.User");
        let shown = e.to_string();
        assert!(shown.contains("Throttling.User") && shown.contains("rid") && shown.contains(": m"), "{shown}");
        let d = e.to_diagnostics_at(AttrPath::attr("cluster_id"), "Could not read");
        assert_eq!(d.0[0].path.as_ref().unwrap().to_string(), "cluster_id");
        assert!(d.0[0].detail.contains("Request ID: rid") && d.0[0].detail.contains("throttling"), "{}", d.0[0].detail);
    }

    #[test]
    fn scrubbing_removes_echoed_secrets() {
        assert_eq!(scrub("token abcd1234 is bad", &["abcd1234", ""]), "token <redacted> is bad");
    }
}

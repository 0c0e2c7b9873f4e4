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

impl CloudError {
    pub fn local(call: &str, code: &str, message: impl Into<String>) -> CloudError {
        CloudError { code: code.into(), message: message.into(), request_id: None, status: 0, call: call.into() }
    }

    /// Whether the code is `code` (exactly).
    pub fn is(&self, code: &str) -> bool {
        self.code == code
    }

    /// Whether the service said the object does not exist.
    pub fn is_not_found(&self) -> bool {
        self.status == 404
            || self.code.starts_with("EntityNotExist")
            || self.code.ends_with(".NotFound")
            || self.code.starts_with("ErrorAddonNotFound")
            || self.code == "ErrorClusterNotFound"
            || self.code == "ErrorNodePoolNotFound"
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

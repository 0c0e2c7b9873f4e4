//! What every operation gets besides its values: the configured provider, cancellation,
//! and private state.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::cty::Value;

use super::diag::{self, Diagnostics};
use super::validators::parse_duration;

/// Per-call context.
#[derive(Clone)]
pub struct Ctx {
    provider: Option<Arc<dyn Any + Send + Sync>>,
    /// Cancelled when Terraform calls StopProvider (Ctrl-C): long waits should end early.
    pub cancel: CancellationToken,
}

impl Ctx {
    pub fn new(provider: Option<Arc<dyn Any + Send + Sync>>, cancel: CancellationToken) -> Self {
        Ctx { provider, cancel }
    }

    /// The data the provider built in ConfigureProvider.
    pub fn provider<T: Send + Sync + 'static>(&self) -> Result<Arc<T>, Diagnostics> {
        self.provider
            .clone()
            .ok_or_else(|| {
                diag::error(
                    "Provider not configured",
                    "The provider was used before ConfigureProvider. This is a bug in Terraform or the provider.",
                )
            })?
            .downcast::<T>()
            .map_err(|_| {
                diag::error("Provider error", "Provider data has an unexpected type. This is a bug in the provider.")
            })
    }

    /// The `timeouts.<op>` duration from a resource value, or `default`.
    pub fn timeout(&self, value: &Value, op: &str, default: Duration) -> Duration {
        value
            .get("timeouts")
            .and_then(|t| t.get(op))
            .and_then(Value::as_str)
            .and_then(|s| parse_duration(s).ok())
            .unwrap_or(default)
    }
}

/// Private state: provider-only data Terraform stores beside a resource's state without
/// showing it (e.g. IDs of objects created by an apply that failed half-way).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Private(pub serde_json::Map<String, serde_json::Value>);

impl Private {
    pub fn from_bytes(bytes: &[u8]) -> Private {
        if bytes.is_empty() {
            return Private::default();
        }
        // Unreadable private state (from another provider version) is dropped rather than
        // failing every operation on the resource.
        serde_json::from_slice(bytes).map(Private).unwrap_or_default()
    }
    pub fn to_bytes(&self) -> Vec<u8> {
        if self.0.is_empty() {
            Vec::new()
        } else {
            serde_json::to_vec(&self.0).unwrap_or_default()
        }
    }
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.as_str())
    }
    pub fn set(&mut self, key: &str, value: impl Into<serde_json::Value>) {
        self.0.insert(key.to_string(), value.into());
    }
    pub fn remove(&mut self, key: &str) {
        self.0.remove(key);
    }
}

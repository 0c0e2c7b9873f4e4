//! Kubernetes API client of the provider, built from its `kubernetes` block on first use.
//!
//! - `connect`: settings → `kube::Client` (explicit host/token/CA, kubeconfig, `KUBECONFIG`, `~/.kube/config`).
//! - `api`: the calls resources make ([`Kube`]): get/list/apply/merge patch/replace/delete and a
//!   conflict-safe read-modify-write, all retried per `retry` and named `terraform-provider-hybrid`.
//! - `retry`: which failures are retried and how long to wait.
//! - `error`: [`KubeError`] and its diagnostics.
//! - `paths`: REST paths of the resource types used.

pub mod api;
pub mod connect;
pub mod error;
pub mod paths;
pub mod retry;

use std::sync::Arc;

pub use api::{Kube, FIELD_MANAGER};
pub use error::KubeError;
pub use paths::ResourceType;

use crate::framework::{Ctx, Diagnostics};
use crate::provider::{KubernetesSettings, ProviderConfig};

/// The provider's Kubernetes client, created on first use and then shared by every operation
/// of the provider process (a plan that touches no Kubernetes resource never loads a kubeconfig).
#[derive(Clone, Default)]
pub struct LazyClient(Arc<tokio::sync::OnceCell<Kube>>);

impl LazyClient {
    /// The client, connecting on the first call. A failed attempt is not cached, so a fixed
    /// kubeconfig is picked up by the next operation.
    pub async fn get(&self, settings: &KubernetesSettings) -> Result<Kube, KubeError> {
        self.0.get_or_try_init(|| Kube::connect(settings)).await.cloned()
    }
}

impl std::fmt::Debug for LazyClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.initialized() { "LazyClient(connected)" } else { "LazyClient(idle)" })
    }
}

impl Kube {
    /// Builds a client from settings (no request is made yet).
    pub async fn connect(settings: &KubernetesSettings) -> Result<Kube, KubeError> {
        let client = connect::connect(settings).await?;
        let secrets = settings.token.iter().filter(|t| !t.is_empty()).cloned().collect();
        Ok(Kube::new(client, secrets))
    }
}

/// The provider's Kubernetes client for one operation: cancelled when Terraform stops the provider.
pub async fn kube_client(cfg: &ProviderConfig, ctx: &Ctx) -> Result<Kube, Diagnostics> {
    cfg.kube
        .get(&cfg.kubernetes)
        .await
        .map(|k| k.with_cancel(ctx.cancel.clone()))
        .map_err(|e| e.to_diagnostics("Could not configure the Kubernetes client"))
}

/// Shorthand for resources: the configured provider's Kubernetes client.
pub async fn from_ctx(ctx: &Ctx) -> Result<Kube, Diagnostics> {
    let cfg = ctx.provider::<ProviderConfig>()?;
    kube_client(&cfg, ctx).await
}

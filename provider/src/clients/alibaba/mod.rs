//! Alibaba Cloud OpenAPI client: ACS3-HMAC-SHA256 signing, RPC (RAM, VPC, ECS) and ROA (CS)
//! calls, retries with backoff and jitter, request IDs and error codes in diagnostics.
//!
//! - `credentials`: the credential chain and region.
//! - `endpoint`: endpoints per service and region, with overrides.
//! - `sign`: the signature.
//! - `call`: sending one call with retries.
//! - `error`: [`CloudError`].
//!
//! Created lazily from the provider configuration: nothing here runs until a resource calls.

pub mod call;
pub mod credentials;
pub mod cs;
pub mod endpoint;
pub mod error;
pub mod retry;
pub mod roa;
pub mod sign;

use std::collections::HashMap;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

pub use credentials::Credentials;
pub use endpoint::Service;
pub use error::CloudError;
pub use retry::Retry;

use crate::framework::{Ctx, Diagnostics};
use crate::provider::ProviderConfig;
use retry::RetryPolicy;

/// A client for every service, for one provider process. Cheap to clone.
#[derive(Clone)]
pub struct Alibaba {
    inner: Arc<Inner>,
    cancel: Option<CancellationToken>,
}

struct Inner {
    http: reqwest::Client,
    credentials: Credentials,
    region: String,
    base_urls: HashMap<Service, String>,
    policy: RetryPolicy,
    /// Per-run memo of read results (see [`Alibaba::memo`]).
    memo: tokio::sync::Mutex<HashMap<String, Arc<tokio::sync::OnceCell<serde_json::Value>>>>,
}

/// The provider's Alibaba client, created on first use.
#[derive(Clone, Default)]
pub struct LazyAlibaba(Arc<tokio::sync::OnceCell<Option<Alibaba>>>);

impl std::fmt::Debug for LazyAlibaba {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LazyAlibaba")
    }
}

impl Alibaba {
    /// Builds the client from resolved settings. `None` when no source has credentials.
    pub fn new(cfg: &ProviderConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Alibaba>, String> {
        let resolved = credentials::resolve(cfg, env)?;
        let Some(creds) = resolved.credentials else { return Ok(None) };
        let region = resolved.region.ok_or_else(|| {
            "no region: set the provider's region, ALIBABA_CLOUD_REGION or ALICLOUD_REGION".to_string()
        })?;
        let base_urls = [Service::Ram, Service::Cs, Service::Vpc, Service::Ecs]
            .into_iter()
            .map(|s| (s, endpoint::base_url(s, &region, &cfg.endpoints, env)))
            .collect();
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(60))
            .user_agent(concat!("terraform-provider-hybrid/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("could not set up the HTTP client: {e}"))?;
        Ok(Some(Alibaba {
            inner: Arc::new(Inner {
                http,
                credentials: creds,
                region,
                base_urls,
                policy: RetryPolicy::default(),
                memo: Default::default(),
            }),
            cancel: None,
        }))
    }

    pub fn region(&self) -> &str {
        &self.inner.region
    }

    /// The AccessKey ID in use (not secret), e.g. for messages.
    pub fn access_key_id(&self) -> &str {
        &self.inner.credentials.access_key_id
    }

    /// The same client, with retries and waits ending when `cancel` fires.
    pub fn with_cancel(&self, cancel: CancellationToken) -> Alibaba {
        Alibaba { inner: self.inner.clone(), cancel: Some(cancel) }
    }

    /// A value computed once per provider process and `key` (e.g. one node-pool list per cluster
    /// per run, shared by every resource that needs it). `forget` drops it after a write.
    pub async fn memo<F, Fut>(&self, key: &str, compute: F) -> Result<serde_json::Value, CloudError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<serde_json::Value, CloudError>>,
    {
        let cell = self.inner.memo.lock().await.entry(key.to_string()).or_default().clone();
        cell.get_or_try_init(compute).await.cloned()
    }

    /// Forgets memoised values whose key starts with `prefix`.
    pub async fn forget(&self, prefix: &str) {
        self.inner.memo.lock().await.retain(|k, _| !k.starts_with(prefix));
    }
}

/// The provider's Alibaba client for one operation (cancelled with the operation); an error
/// diagnostic when no credentials are configured.
pub async fn from_ctx(ctx: &Ctx) -> Result<Alibaba, Diagnostics> {
    match try_from_ctx(ctx).await? {
        Some(a) => Ok(a),
        None => Err(crate::framework::diag::error(
            "No Alibaba Cloud credentials",
            "Set access_key and secret_key in the provider block, ALIBABA_CLOUD_ACCESS_KEY_ID and \
             ALIBABA_CLOUD_ACCESS_KEY_SECRET (or ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY), or a profile in \
             ~/.aliyun/config.json.",
        )),
    }
}

/// Like [`from_ctx`], but `Ok(None)` when no credentials are configured anywhere (for optional
/// cloud checks).
pub async fn try_from_ctx(ctx: &Ctx) -> Result<Option<Alibaba>, Diagnostics> {
    let cfg = ctx.provider::<ProviderConfig>()?;
    let env = |k: &str| std::env::var(k).ok();
    let client = cfg
        .alibaba
        .0
        .get_or_try_init(|| async { Alibaba::new(&cfg, &env) })
        .await
        .map_err(|e| crate::framework::diag::error("Invalid Alibaba Cloud configuration", e))?;
    Ok(client.as_ref().map(|a| a.with_cancel(ctx.cancel.clone())))
}

#[cfg(test)]
mod tests;

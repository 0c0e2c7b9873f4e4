//! Alibaba Cloud OpenAPI client: ACS3-HMAC-SHA256 signing, RPC (RAM, VPC, ECS) and ROA (CS)
//! calls, retries with backoff and jitter, request IDs and error codes in diagnostics.
//!
//! Credentials, first complete source wins:
//! 1. the provider block: `access_key`, `secret_key`, `security_token`;
//! 2. `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET`, `ALIBABA_CLOUD_SECURITY_TOKEN`;
//! 3. the alicloud provider's `ALICLOUD_ACCESS_KEY`, `ALICLOUD_SECRET_KEY`, `ALICLOUD_SECURITY_TOKEN`;
//! 4. the aliyun CLI config file (`shared_credentials_file`, default `~/.aliyun/config.json`),
//!    profile `profile`, else `ALIBABA_CLOUD_PROFILE`, else the file's `current`; modes `AK` and
//!    `StsToken`.
//!
//! Region: `region`, `ALIBABA_CLOUD_REGION`, `ALICLOUD_REGION`, the profile's `region_id`.
//! Endpoints: the `endpoints` block, `HYBRID_ENDPOINT_RAM|CS|VPC|ECS`, the public endpoint.
//!
//! - `credentials`: the credential chain and region.
//! - `endpoint`: [`Service`], endpoints per service and region, with overrides.
//! - `sign`: the signature.
//! - `call`: sending one call ([`Alibaba::rpc`], [`Alibaba::roa`], [`Alibaba::cs`]).
//! - `retry`: which failures are retried ([`Retry`]) and how long to wait.
//! - `roa`: CS actions by method and path.
//! - `error`: [`CloudError`] and its diagnostics.
//! - `cs`: Container Service helpers (cluster check, task polling).
//!
//! Created lazily from the provider configuration: nothing here runs until a resource calls.
//! Secrets (AccessKey secret, STS token, signature) never reach logs, errors or `Debug` output.

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
use std::time::Duration;

use tokio_util::sync::CancellationToken;

pub use credentials::Credentials;
pub use endpoint::Service;
pub use error::CloudError;
pub use retry::{Retry, RetryPolicy};

use crate::framework::{Ctx, Diagnostics};
use crate::provider::ProviderConfig;

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

// Only what is safe to show.
impl std::fmt::Debug for Alibaba {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alibaba")
            .field("credentials", &self.inner.credentials)
            .field("region", &self.inner.region)
            .field("base_urls", &self.inner.base_urls)
            .finish_non_exhaustive()
    }
}

/// Transport settings of a client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClientOptions {
    pub retry: RetryPolicy,
    /// Limit of one attempt, from sending to the last byte of the answer.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// The provider's Alibaba client, created on first use.
#[derive(Clone, Default)]
pub struct LazyAlibaba(Arc<tokio::sync::OnceCell<Option<Alibaba>>>);

impl std::fmt::Debug for LazyAlibaba {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.initialized() { "LazyAlibaba(configured)" } else { "LazyAlibaba(idle)" })
    }
}

impl Alibaba {
    /// Builds the client from the provider settings and the environment (`env` looks a variable
    /// up). `Ok(None)` when no source has credentials; `Err` for settings that are wrong.
    pub fn new(cfg: &ProviderConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Alibaba>, String> {
        Self::new_with(cfg, env, ClientOptions::default())
    }

    /// [`Alibaba::new`] with explicit transport settings.
    pub fn new_with(
        cfg: &ProviderConfig,
        env: &dyn Fn(&str) -> Option<String>,
        options: ClientOptions,
    ) -> Result<Option<Alibaba>, String> {
        let resolved = credentials::resolve(cfg, env)?;
        let Some(creds) = resolved.credentials else { return Ok(None) };
        let region = resolved.region.ok_or_else(|| {
            "no region: set the provider's region, ALIBABA_CLOUD_REGION or ALICLOUD_REGION".to_string()
        })?;
        let base_urls = Service::ALL
            .into_iter()
            .map(|s| endpoint::base_url(s, &region, &cfg.endpoints, env).map(|u| (s, u)))
            .collect::<Result<HashMap<_, _>, _>>()?;
        let http = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .user_agent(concat!("terraform-provider-hybrid/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("could not set up the HTTP client: {e}"))?;
        tracing::debug!(
            access_key_id = %creds.access_key_id,
            source = %creds.source,
            sts = creds.security_token.is_some(),
            region = %region,
            "Alibaba Cloud client configured"
        );
        Ok(Some(Alibaba {
            inner: Arc::new(Inner {
                http,
                credentials: creds,
                region,
                base_urls,
                policy: options.retry,
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

    /// Where the credentials came from (`the provider block`, an environment variable, the
    /// shared config file), for messages.
    pub fn credentials_source(&self) -> &str {
        &self.inner.credentials.source
    }

    /// The base URL calls to `service` go to.
    pub fn endpoint(&self, service: Service) -> &str {
        &self.inner.base_urls[&service]
    }

    /// The same client, with calls, retries and waits ending when `cancel` fires.
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
    require(try_from_ctx(ctx).await?)
}

/// Like [`from_ctx`], but `Ok(None)` when no credentials are configured anywhere (for optional
/// cloud checks). Wrong settings are still an error.
pub async fn try_from_ctx(ctx: &Ctx) -> Result<Option<Alibaba>, Diagnostics> {
    let cfg = ctx.provider::<ProviderConfig>()?;
    lazy_client(&cfg, &ctx.cancel, &|k| std::env::var(k).ok()).await
}

fn require(client: Option<Alibaba>) -> Result<Alibaba, Diagnostics> {
    client.ok_or_else(|| {
        crate::framework::diag::error(
            "No Alibaba Cloud credentials",
            "Set access_key and secret_key in the provider block, ALIBABA_CLOUD_ACCESS_KEY_ID and \
             ALIBABA_CLOUD_ACCESS_KEY_SECRET (or ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY), or a profile in \
             ~/.aliyun/config.json.",
        )
    })
}

/// The client kept in `cfg.alibaba`, built on first use, for an operation ending with `cancel`.
async fn lazy_client(
    cfg: &ProviderConfig,
    cancel: &CancellationToken,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<Option<Alibaba>, Diagnostics> {
    // A failed attempt is not cached: every operation reports the problem on its own.
    let client = cfg
        .alibaba
        .0
        .get_or_try_init(|| async { Alibaba::new(cfg, env) })
        .await
        .map_err(|e| crate::framework::diag::error("Invalid Alibaba Cloud configuration", e))?;
    Ok(client.as_ref().map(|a| a.with_cancel(cancel.clone())))
}

#[cfg(test)]
mod tests;

//! Alibaba Cloud OpenAPI stand-ins: RAM 2015-05-01, CS 2015-12-15, VPC 2016-04-28 and ECS
//! 2014-05-26 on one plain-HTTP listener (`http://127.0.0.1:PORT` is every service's endpoint;
//! calls are routed by `x-acs-version` and `x-acs-action`, CS additionally by method and path).
//!
//! Requests must carry a valid ACS3-HMAC-SHA256 signature by the sandbox's AccessKey, an STS
//! credential it minted, or an Active key created through RAM `CreateAccessKey`. The addon and node
//! pool APIs act on the sandbox's Kubernetes store through [`KubeHooks`].

pub mod cli;
pub mod cs;
pub mod errors;
pub mod faults;
pub mod http;
pub mod ids;
pub mod kube_hooks;
pub mod network;
pub mod params;
pub mod ram;
pub mod signature;
pub mod state;

pub use faults::CloudFaultConfig;
pub use http::{router, serve_cloud};
pub use kube_hooks::{KubeHooks, NodeInfo, StoreHooks};
pub use state::{CloudOptions, CloudState, SeedIds};

use crate::{Running, SandboxOptions};
use std::sync::{Arc, OnceLock};

/// Name of the cloud listener in [`Running::listeners`].
pub const LISTENER: &str = "cloud";

/// Gives access to the cloud state once the sandbox has started.
#[derive(Clone, Default)]
pub struct CloudHandle(Arc<OnceLock<Result<CloudState, String>>>);

impl CloudHandle {
    /// The state, or why it could not be built.
    pub fn state(&self) -> anyhow::Result<&CloudState> {
        match self.0.get() {
            Some(Ok(s)) => Ok(s),
            Some(Err(e)) => Err(anyhow::anyhow!("the cloud APIs failed to start: {e}")),
            None => Err(anyhow::anyhow!("the sandbox has not been started")),
        }
    }
}

/// Adds the cloud listener to a sandbox about to start. The state is built when the listener's
/// router is, with the sandbox's store, and its admin endpoints take the sandbox's bearer token.
pub fn mount(opts: SandboxOptions, cloud: CloudOptions) -> (SandboxOptions, CloudHandle) {
    let handle = CloudHandle::default();
    let cell = handle.0.clone();
    let port = cloud.port;
    let opts = opts.listener(LISTENER, port, false, move |shared| {
        let hooks = Arc::new(StoreHooks(shared.store.clone()));
        let opts = CloudOptions { admin_token: Some(shared.token.clone()), ..cloud };
        let built = CloudState::new(opts, hooks);
        let router = match &built {
            Ok(s) => http::router(s.clone()),
            Err(_) => axum::Router::new(),
        };
        let _ = cell.set(built);
        router
    });
    (opts, handle)
}

/// The cloud listener's base URL and state of a started sandbox.
pub fn started<'a>(running: &Running, handle: &'a CloudHandle) -> anyhow::Result<(String, &'a CloudState)> {
    let url = running
        .listeners
        .get(LISTENER)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("the sandbox has no {LISTENER:?} listener"))?;
    Ok((url, handle.state()?))
}

/// Appends the cloud lines (credentials, region, endpoints, seeded IDs) to `DIR/sandbox.env`.
pub fn write_env(running: &Running, handle: &CloudHandle) -> anyhow::Result<()> {
    let (url, state) = started(running, handle)?;
    if running.dir.is_some() {
        running.append_env(&state.env_vars(&url))?;
    }
    Ok(())
}

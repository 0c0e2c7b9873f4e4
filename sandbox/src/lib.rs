//! hybrid-sandbox: a local stand-in for an ACK One registered cluster.
//!
//! [`start`] serves the Kubernetes API over HTTPS on 127.0.0.1 (own CA, bearer token), seeded with a
//! [`Scenario`], on a background thread with its own runtime, so it can be used from synchronous and
//! asynchronous tests alike. Other APIs (the Alibaba Cloud side) are mounted as extra listeners with
//! [`SandboxOptions::listener`]; their routers get the shared [`Shared`] state, including the
//! in-process Kubernetes [`Store`].

// `ApiError` mirrors the full `Status` body; returning it by value keeps call sites plain, and no
// path here is hot enough for its size to matter.
#![allow(clippy::result_large_err)]

pub mod cloud;
pub mod faults;
pub mod files;
pub mod https;
pub mod kube;
pub mod tls;

pub use faults::{FaultConfig, Faults};
pub use kube::seed::Scenario;
pub use kube::store::Store;

use anyhow::{Context, Result};
use axum::Router;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::watch;

/// Builds the router of an extra listener from the shared state.
pub type RouterFactory = Box<dyn FnOnce(&Shared) -> Router + Send>;

/// An additional HTTP(S) listener on 127.0.0.1 (e.g. the cloud APIs).
pub struct ListenerSpec {
    /// Key of the listener's URL in [`Running::listeners`].
    pub name: String,
    /// 0 picks an ephemeral port.
    pub port: u16,
    /// HTTPS with the sandbox CA (true) or plain HTTP (false).
    pub tls: bool,
    pub router: RouterFactory,
}

/// How to start a sandbox.
#[derive(Default)]
pub struct SandboxOptions {
    /// Where `kubeconfig`, `ca.crt` and `sandbox.env` are written; `None` writes nothing.
    pub dir: Option<PathBuf>,
    pub scenario: Scenario,
    /// Port of the Kubernetes API; 0 picks an ephemeral port.
    pub port: u16,
    /// Faults active from the start (change them later through [`Running::faults`] or the admin API).
    pub faults: FaultConfig,
    pub extra_listeners: Vec<ListenerSpec>,
}

impl SandboxOptions {
    /// Options for a test: ephemeral port, the given scenario, files in `dir`.
    pub fn for_test(dir: &Path, scenario: Scenario) -> Self {
        SandboxOptions { dir: Some(dir.to_path_buf()), scenario, ..Default::default() }
    }

    /// Adds a listener serving `router(&shared)`.
    pub fn listener(
        mut self,
        name: &str,
        port: u16,
        tls: bool,
        router: impl FnOnce(&Shared) -> Router + Send + 'static,
    ) -> Self {
        self.extra_listeners.push(ListenerSpec { name: name.to_string(), port, tls, router: Box::new(router) });
        self
    }
}

/// State every listener's router may use.
#[derive(Clone)]
pub struct Shared {
    pub store: Arc<Store>,
    pub pki: tls::Pki,
    /// The bearer token clients present (also accepted by the admin endpoints).
    pub token: String,
    pub faults: Faults,
    pub dir: Option<PathBuf>,
    pub scenario: Scenario,
}

/// A running sandbox; dropping it stops the servers.
pub struct Running {
    pub kubeconfig_path: Option<PathBuf>,
    /// `https://127.0.0.1:<port>` of the Kubernetes API.
    pub base_url: String,
    pub token: String,
    pub ca_pem: String,
    pub store: Arc<Store>,
    pub faults: Faults,
    /// Base URL of each extra listener, by name.
    pub listeners: BTreeMap<String, String>,
    pub dir: Option<PathBuf>,
    shutdown: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Stops all listeners and waits for the server thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Appends `export` lines to `DIR/sandbox.env`.
    pub fn append_env(&self, vars: &[(&str, String)]) -> Result<()> {
        let dir = self.dir.as_deref().context("the sandbox has no --dir to write sandbox.env into")?;
        files::append_env(dir, vars)
    }

    /// The kubeconfig contents (also written to `kubeconfig_path` when a dir was given).
    pub fn kubeconfig_yaml(&self) -> String {
        files::kubeconfig_yaml(&self.base_url, &self.ca_pem, &self.token)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

fn random_token() -> String {
    let bytes: [u8; 24] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn bind(port: u16) -> Result<std::net::TcpListener> {
    let l = std::net::TcpListener::bind(("127.0.0.1", port)).with_context(|| format!("binding 127.0.0.1:{port}"))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// Starts a sandbox: seeds the store, binds the listeners, writes the files and serves on a
/// background thread. Returns once every listener accepts connections.
pub fn start(opts: SandboxOptions) -> Result<Running> {
    faults::validate(&opts.faults).map_err(anyhow::Error::msg)?;
    let pki = tls::Pki::generate()?;
    let token = random_token();
    let store = Arc::new(Store::new());
    kube::seed::seed(&store, opts.scenario)?;
    let faults = Faults::new(opts.faults.clone());
    let shared = Shared {
        store: store.clone(),
        pki: pki.clone(),
        token: token.clone(),
        faults: faults.clone(),
        dir: opts.dir.clone(),
        scenario: opts.scenario,
    };

    let kube_listener = bind(opts.port)?;
    let kube_addr = kube_listener.local_addr()?;
    let base_url = format!("https://{kube_addr}");
    let api = Arc::new(kube::api::KubeApi::new(store.clone(), &token));
    api.set_server_address(&kube_addr.to_string());
    let auth_api = api.clone();
    let kube_router = Router::new()
        .merge(faults::admin_router(faults.clone(), move |h| auth_api.authorized(h)))
        .merge(kube::api::router(api))
        .layer(axum::middleware::from_fn_with_state(faults.clone(), faults::middleware));
    let tls_config = pki.server_config()?;

    let mut extra = Vec::new();
    let mut listeners = BTreeMap::new();
    for spec in opts.extra_listeners {
        let l = bind(spec.port)?;
        let addr = l.local_addr()?;
        let scheme = if spec.tls { "https" } else { "http" };
        listeners.insert(spec.name.clone(), format!("{scheme}://{addr}"));
        extra.push((l, spec.tls, (spec.router)(&shared)));
    }

    let mut kubeconfig_path = None;
    if let Some(dir) = &opts.dir {
        let kc = files::write_kube_files(dir, &base_url, &pki.ca_cert_pem, &token)?;
        let dir_abs = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
        let kc_abs = dir_abs.join("kubeconfig");
        files::write_env(
            dir,
            &[
                ("KUBECONFIG", kc_abs.display().to_string()),
                ("KUBE_CONFIG_PATH", kc_abs.display().to_string()),
                ("HYBRID_SANDBOX_KUBE_CONTEXT", files::CONTEXT.to_string()),
                ("HYBRID_SANDBOX_KUBE_HOST", base_url.clone()),
                ("HYBRID_SANDBOX_KUBE_TOKEN", token.clone()),
                ("HYBRID_SANDBOX_CA_FILE", dir_abs.join("ca.crt").display().to_string()),
                ("HYBRID_SANDBOX_SCENARIO", opts.scenario.as_str().to_string()),
                ("HYBRID_SANDBOX_FAULTS_URL", format!("{base_url}{}", faults::ADMIN_PATH)),
            ],
        )?;
        kubeconfig_path = Some(kc);
        let _ = kc_abs;
    }

    let (tx, rx) = watch::channel(false);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<()>>();
    let thread = std::thread::Builder::new()
        .name("hybrid-sandbox".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(e.into()));
                    return;
                }
            };
            rt.block_on(async move {
                let mut tasks = Vec::new();
                let kl = match tokio::net::TcpListener::from_std(kube_listener) {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.into()));
                        return;
                    }
                };
                tasks.push(tokio::spawn(https::serve(kl, tls_config.clone(), kube_router, rx.clone())));
                for (l, use_tls, router) in extra {
                    let l = match tokio::net::TcpListener::from_std(l) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.into()));
                            return;
                        }
                    };
                    if use_tls {
                        tasks.push(tokio::spawn(https::serve(l, tls_config.clone(), router, rx.clone())));
                    } else {
                        let mut srx = rx.clone();
                        tasks.push(tokio::spawn(async move {
                            let _ = axum::serve(l, router)
                                .with_graceful_shutdown(async move {
                                    let _ = srx.changed().await;
                                })
                                .await;
                        }));
                    }
                }
                let _ = ready_tx.send(Ok(()));
                for t in tasks {
                    let _ = t.await;
                }
            });
        })
        .context("spawning the server thread")?;
    ready_rx.recv().context("the server thread stopped before serving")??;
    Ok(Running {
        kubeconfig_path,
        base_url,
        token,
        ca_pem: pki.ca_cert_pem,
        store,
        faults,
        listeners,
        dir: opts.dir,
        shutdown: tx,
        thread: Some(thread),
    })
}

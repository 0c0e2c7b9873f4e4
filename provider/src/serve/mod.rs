//! Serving the provider as a go-plugin plugin, the way Terraform launches it.
//!
//! Terraform starts the binary with a magic cookie and its client certificate in the
//! environment, reads one handshake line from stdout (`core|app|network|address|grpc|cert`),
//! then dials the address over mutual TLS. Besides the provider service we serve go-plugin's
//! health, controller (Shutdown), stdio and broker services.

mod conn;
pub mod handshake;
pub mod hclog;
mod services;
mod tls;

use std::path::PathBuf;

use anyhow::Context;
use base64::Engine as _;
use hybrid_proto::plugin::grpc_broker_server::GrpcBrokerServer;
use hybrid_proto::plugin::grpc_controller_server::GrpcControllerServer;
use hybrid_proto::plugin::grpc_stdio_server::GrpcStdioServer;
use hybrid_proto::tfplugin6::provider_server::{Provider, ProviderServer};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;

pub use handshake::{HandshakeConfig, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE};

/// The provider's registry address, used in reattach configuration.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/hybridops/hybrid";

/// Serves until Terraform calls `GRPCController.Shutdown` or sends SIGTERM.
pub async fn serve<P: Provider>(provider: P, hs: HandshakeConfig) -> anyhow::Result<()> {
    let socket_dir = tempdir_in(hs.socket_dir.clone())?;
    let socket_path = socket_dir.join("plugin.sock");
    let listener = tokio::net::UnixListener::bind(&socket_path)
        .with_context(|| format!("listening on {}", socket_path.display()))?;

    let tls = match &hs.client_cert_pem {
        Some(pem) => Some(tls::server_config(pem)?),
        None => None,
    };
    let cert_field = tls
        .as_ref()
        .map(|t| base64::engine::general_purpose::STANDARD_NO_PAD.encode(&t.server_cert_der))
        .unwrap_or_default();

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (conn_tx, conn_rx) = mpsc::channel(16);
    tokio::spawn(conn::accept_loop(listener, tls.map(|t| t.acceptor), conn_tx, shutdown_rx.clone()));

    // Exactly one line on stdout; everything else goes to stderr.
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "1|6|unix|{}|grpc|{}", socket_path.display(), cert_field)?;
        out.flush()?;
    }
    tracing::debug!(socket = %socket_path.display(), mtls = !cert_field.is_empty(), "serving plugin");

    spawn_signal_handlers(shutdown_tx.clone(), false);
    let result = run_grpc(provider, conn_rx, shutdown_tx, shutdown_rx).await;
    let _ = std::fs::remove_dir_all(&socket_dir);
    result
}

/// Serves without the cookie or TLS and prints how to attach Terraform, for debuggers.
pub async fn serve_debug<P: Provider>(provider: P) -> anyhow::Result<()> {
    let socket_dir = tempdir_in(None)?;
    let socket_path = socket_dir.join("plugin.sock");
    let listener = tokio::net::UnixListener::bind(&socket_path)?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (conn_tx, conn_rx) = mpsc::channel(16);
    tokio::spawn(conn::accept_loop(listener, None, conn_tx, shutdown_rx.clone()));
    let reattach = serde_json::json!({
        PROVIDER_ADDRESS: {
            "Protocol": "grpc",
            "ProtocolVersion": 6,
            "Pid": std::process::id(),
            "Test": true,
            "Addr": {"Network": "unix", "String": socket_path.display().to_string()},
        }
    });
    println!(
        "Provider started. To attach Terraform, set this in the shell where you run it:\n\n\
         \tTF_REATTACH_PROVIDERS='{reattach}'\n\nPress Ctrl-C to stop."
    );
    spawn_signal_handlers(shutdown_tx.clone(), true);
    let result = run_grpc(provider, conn_rx, shutdown_tx, shutdown_rx).await;
    let _ = std::fs::remove_dir_all(&socket_dir);
    result
}

async fn run_grpc<P: Provider>(
    provider: P,
    conns: mpsc::Receiver<Result<conn::Conn, std::io::Error>>,
    shutdown_tx: watch::Sender<bool>,
    mut shutdown_rx: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_service_status("plugin", tonic_health::ServingStatus::Serving).await;
    let stop = shutdown_rx.clone();
    let server = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(GrpcControllerServer::new(services::Controller { shutdown: shutdown_tx }))
        .add_service(GrpcStdioServer::new(services::Stdio { shutdown: stop.clone() }))
        .add_service(GrpcBrokerServer::new(services::Broker))
        .add_service(
            ProviderServer::new(provider).max_decoding_message_size(256 << 20).max_encoding_message_size(256 << 20),
        )
        .serve_with_incoming_shutdown(ReceiverStream::new(conns), async move {
            let _ = shutdown_rx.wait_for(|s| *s).await;
        });
    let mut server = std::pin::pin!(server);
    tokio::select! {
        r = &mut server => r.context("gRPC server failed"),
        // Graceful shutdown waits for open streams; Terraform closes them, but never hang on it.
        _ = async { let mut s = stop; let _ = s.wait_for(|s| *s).await; tokio::time::sleep(std::time::Duration::from_secs(2)).await } => Ok(()),
    }
}

/// SIGTERM stops the plugin. SIGINT is Terraform's to handle (it reaches the whole process
/// group on Ctrl-C and Terraform then calls StopProvider), so it is ignored except in debug mode.
fn spawn_signal_handlers(shutdown: watch::Sender<bool>, stop_on_interrupt: bool) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut term) = signal(SignalKind::terminate()) else { return };
    let Ok(mut int) = signal(SignalKind::interrupt()) else { return };
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = term.recv() => break,
                _ = int.recv() => {
                    if stop_on_interrupt { break }
                    tracing::debug!("ignoring SIGINT: Terraform stops the provider itself");
                }
            }
        }
        let _ = shutdown.send(true);
    });
}

/// A private directory for the socket (go-plugin uses one per plugin too).
fn tempdir_in(base: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let base = base.unwrap_or_else(std::env::temp_dir);
    for attempt in 0..16u32 {
        let dir = base.join(format!("plugin-hybrid-{}-{attempt}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
                return Ok(dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
        }
    }
    anyhow::bail!("could not create a socket directory in {}", base.display())
}

//! The go-plugin handshake of the real binary: cookie, protocol negotiation, AutoMTLS with a
//! required client certificate, health, and a clean Shutdown.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use hybrid_proto::plugin::grpc_controller_client::GrpcControllerClient;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tonic::transport::{Channel, Endpoint};

const COOKIE: (&str, &str) =
    ("TF_PLUGIN_MAGIC_COOKIE", "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2");

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-hybrid"))
}

struct ClientCert {
    pem: String,
    der: Vec<u8>,
    key: Vec<u8>,
}

fn client_cert() -> ClientCert {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap().self_signed(&key).unwrap();
    ClientCert { pem: cert.pem(), der: cert.der().to_vec(), key: key.serialize_der() }
}

struct Plugin {
    child: Child,
    socket: PathBuf,
    server_cert: Vec<u8>,
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(client_pem: Option<&str>) -> Plugin {
    let mut cmd = Command::new(binary());
    cmd.env(COOKIE.0, COOKIE.1).env("PLUGIN_PROTOCOL_VERSIONS", "5,6").stdout(Stdio::piped()).stderr(Stdio::null());
    if let Some(pem) = client_pem {
        cmd.env("PLUGIN_CLIENT_CERT", pem);
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let parts: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(parts.len(), 6, "handshake line: {line:?}");
    assert_eq!(&parts[..3], &["1", "6", "unix"]);
    assert_eq!(parts[4], "grpc");
    let server_cert = base64::engine::general_purpose::STANDARD_NO_PAD.decode(parts[5]).unwrap();
    Plugin { child, socket: PathBuf::from(parts[3]), server_cert }
}

async fn connect(p: &Plugin, cert: Option<&ClientCert>) -> Result<Channel, tonic::transport::Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(p.server_cert.clone())).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let mut config = match cert {
        Some(c) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from(c.der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(c.key.clone())),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let socket = p.socket.clone();
    Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_| {
            let connector = connector.clone();
            let socket = socket.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(socket).await?;
                let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
                let tls = connector.connect(name, stream).await?;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }))
        .await
}

/// True when a connection with `cert` gets a SERVING answer for the `plugin` service.
async fn health_serving(p: &Plugin, cert: Option<&ClientCert>) -> bool {
    let Ok(channel) = connect(p, cert).await else { return false };
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    match health.check(tonic_health::pb::HealthCheckRequest { service: "plugin".into() }).await {
        Ok(r) => r.into_inner().status == tonic_health::pb::health_check_response::ServingStatus::Serving as i32,
        Err(_) => false,
    }
}

#[test]
fn without_the_cookie_it_explains_itself_and_exits_1() {
    let out = Command::new(binary()).env_remove(COOKIE.0).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing on stdout");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("plugin for Terraform"), "{err}");
}

#[test]
fn refuses_protocol_5_only() {
    let out = Command::new(binary()).env(COOKIE.0, COOKIE.1).env("PLUGIN_PROTOCOL_VERSIONS", "5").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("version 6"));
}

#[tokio::test]
async fn mtls_requires_terraforms_client_certificate() {
    let ours = client_cert();
    let plugin = start(Some(&ours.pem));

    // The right certificate: health says SERVING for "plugin".
    assert!(health_serving(&plugin, Some(&ours)).await, "Terraform's certificate is accepted");
    // Another certificate, or none, is refused (TLS 1.3 may only report it on first use).
    assert!(!health_serving(&plugin, Some(&client_cert())).await, "a different client certificate is rejected");
    assert!(!health_serving(&plugin, None).await, "a client without a certificate is rejected");
    let channel = connect(&plugin, Some(&ours)).await.expect("connects with the right cert");

    // Shutdown ends the process cleanly and removes the socket.
    GrpcControllerClient::new(channel).shutdown(hybrid_proto::plugin::Empty {}).await.expect("shutdown");
    let mut plugin = plugin;
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = plugin.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "plugin did not exit after Shutdown");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status:?}");
    assert!(!plugin.socket.exists(), "socket removed on exit");
}

#[test]
fn without_a_client_cert_it_serves_plaintext_with_an_empty_cert_field() {
    let mut cmd = Command::new(binary());
    cmd.env(COOKIE.0, COOKIE.1).env_remove("PLUGIN_CLIENT_CERT").stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.trim_end().ends_with("|grpc|"), "{line:?}");
}

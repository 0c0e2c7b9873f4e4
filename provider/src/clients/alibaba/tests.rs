//! The client against hybrid-sandbox's cloud APIs (which verify ACS3 signatures like the real
//! services): RPC and ROA calls, the credential chain from `sandbox.env`, wrong secrets, STS
//! credentials, throttling, server errors, lost answers, timeouts, cancellation, and logs
//! without secrets.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hybrid_sandbox::cloud::{self, CloudOptions};
use hybrid_sandbox::{SandboxOptions, Scenario};
use serde_json::json;

use super::*;
use crate::provider::config::EndpointSettings;

struct Cloud {
    sandbox: hybrid_sandbox::Running,
    url: String,
    id: String,
    secret: String,
    handle: cloud::CloudHandle,
    dir: tempfile::TempDir,
}

impl Cloud {
    fn state(&self) -> &cloud::CloudState {
        self.handle.state().unwrap()
    }
}

fn start() -> Cloud {
    let dir = tempfile::tempdir().unwrap();
    let opts = SandboxOptions::for_test(dir.path(), Scenario::Bgp);
    let (opts, handle) = cloud::mount(opts, CloudOptions::default());
    let sandbox = hybrid_sandbox::start(opts).unwrap();
    let (url, state) = cloud::started(&sandbox, &handle).unwrap();
    let (id, secret) = state.root_credentials();
    let (id, secret) = (id.to_string(), secret.to_string());
    Cloud { sandbox, url, id, secret, handle, dir }
}

/// Short waits keep the fault tests quick.
fn fast() -> ClientOptions {
    ClientOptions {
        retry: RetryPolicy {
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn client_with(c: &Cloud, id: &str, secret: &str, token: Option<&str>, options: ClientOptions) -> Alibaba {
    let ep = Some(c.url.clone());
    let cfg = ProviderConfig {
        region: Some("cn-hangzhou".into()),
        access_key: Some(id.into()),
        secret_key: Some(secret.into()),
        security_token: token.map(str::to_string),
        endpoints: EndpointSettings { ram: ep.clone(), cs: ep.clone(), vpc: ep.clone(), ecs: ep },
        ..Default::default()
    };
    Alibaba::new_with(&cfg, &no_env, options).unwrap().unwrap()
}

fn client(c: &Cloud, id: &str, secret: &str, token: Option<&str>) -> Alibaba {
    client_with(c, id, secret, token, fast())
}

/// The variables of `sandbox.env` (`export K='v'` lines).
fn sandbox_env(c: &Cloud) -> HashMap<String, String> {
    cloud::write_env(&c.sandbox, &c.handle).unwrap();
    let text = std::fs::read_to_string(c.dir.path().join("sandbox.env")).unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("export ")?.split_once('='))
        .map(|(k, v)| {
            let v = v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')).unwrap_or(v);
            (k.to_string(), v.replace("'\\''", "'"))
        })
        .collect()
}

async fn describe_vswitches(a: &Alibaba, retry: Retry) -> Result<serde_json::Value, CloudError> {
    a.rpc(Service::Vpc, "DescribeVSwitches", &[("RegionId", "cn-hangzhou".into())], retry).await
}

#[tokio::test(flavor = "multi_thread")]
async fn rpc_and_roa_calls_are_signed_and_answered() {
    let c = start();
    let a = client(&c, &c.id, &c.secret, None);
    let created = a
        .rpc(
            Service::Ram,
            "CreateUser",
            &[("UserName", "ack-one-user-test".into()), ("DisplayName", "ack one user".into())],
            Retry::Never,
        )
        .await
        .unwrap();
    assert_eq!(created["User"]["UserName"], "ack-one-user-test");
    let got = a.rpc(Service::Ram, "GetUser", &[("UserName", "ack-one-user-test".into())], Retry::Idempotent).await;
    assert_eq!(got.unwrap()["User"]["DisplayName"], "ack one user");
    let missing =
        a.rpc(Service::Ram, "GetUser", &[("UserName", "nobody".into())], Retry::Idempotent).await.unwrap_err();
    assert!(missing.is(&missing.code) && missing.is("EntityNotExist.User"), "{missing:?}");
    assert!(missing.is_not_found() && missing.request_id.is_some(), "{missing:?}");

    let cluster_id = c.state().seed_ids().cluster_id.clone();
    let detail = a
        .roa(Service::Cs, http::Method::GET, &format!("/clusters/{cluster_id}"), &[], None, Retry::Idempotent)
        .await
        .unwrap();
    assert_eq!(detail["cluster_type"], "ExternalKubernetes");
    // CS errors come in lowercase keys; they are read all the same.
    let e = a.roa(Service::Cs, http::Method::GET, "/clusters/c-nope", &[], None, Retry::Idempotent).await.unwrap_err();
    assert!(e.is("ErrorClusterNotFound") && e.is_not_found() && e.request_id.is_some(), "{e:?}");
    // A ROA call with a body and a query.
    let pools = a
        .roa(
            Service::Cs,
            http::Method::GET,
            &format!("/clusters/{cluster_id}/nodepools"),
            &[("NodepoolName", "np-cloud-h".into())],
            None,
            Retry::Idempotent,
        )
        .await
        .unwrap();
    assert!(pools["nodepools"].as_array().is_some_and(|p| p.len() == 1), "{pools}");
    let unknown = a.roa(Service::Cs, http::Method::DELETE, "/clusters/x", &[], None, Retry::Never).await.unwrap_err();
    assert_eq!(unknown.code, "UnknownOperation");

    let vsw = describe_vswitches(&a, Retry::Idempotent).await.unwrap();
    assert!(vsw["VSwitches"]["VSwitch"].as_array().is_some_and(|v| !v.is_empty()), "{vsw}");
    let params = [("RegionId", "cn-hangzhou".to_string())];
    let sg = a.rpc(Service::Ecs, "DescribeSecurityGroups", &params, Retry::Idempotent);
    assert!(sg.await.unwrap()["SecurityGroups"]["SecurityGroup"].as_array().is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_and_endpoints_from_sandbox_env() {
    let c = start();
    let vars = sandbox_env(&c);
    let env = |k: &str| vars.get(k).cloned();
    let a = Alibaba::new_with(&ProviderConfig::default(), &env, fast()).unwrap().unwrap();
    assert_eq!((a.region(), a.endpoint(Service::Cs)), ("cn-hangzhou", c.url.as_str()));
    assert_eq!(a.credentials_source(), "ALIBABA_CLOUD_* variables");
    describe_vswitches(&a, Retry::Idempotent).await.unwrap();

    // The STS credential sandbox.env carries, through the alicloud variables.
    let mut sts_vars: HashMap<String, String> = vars
        .iter()
        .filter(|(k, _)| !k.starts_with("ALIBABA_CLOUD_ACCESS_KEY"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    sts_vars.insert("ALICLOUD_ACCESS_KEY".into(), vars["HYBRID_SANDBOX_STS_ACCESS_KEY_ID"].clone());
    sts_vars.insert("ALICLOUD_SECRET_KEY".into(), vars["HYBRID_SANDBOX_STS_ACCESS_KEY_SECRET"].clone());
    sts_vars.insert("ALICLOUD_SECURITY_TOKEN".into(), vars["HYBRID_SANDBOX_STS_SECURITY_TOKEN"].clone());
    let env = |k: &str| sts_vars.get(k).cloned();
    let sts = Alibaba::new_with(&ProviderConfig::default(), &env, fast()).unwrap().unwrap();
    assert_eq!(sts.access_key_id(), vars["HYBRID_SANDBOX_STS_ACCESS_KEY_ID"]);
    sts.rpc(Service::Ram, "CreateUser", &[("UserName", "via-sts".into())], Retry::Never).await.unwrap();
    let cluster = c.state().seed_ids().cluster_id.clone();
    sts.roa(Service::Cs, http::Method::GET, &format!("/clusters/{cluster}"), &[], None, Retry::Idempotent)
        .await
        .unwrap();

    // The provider block's endpoint beats HYBRID_ENDPOINT_*: an unreachable one proves it is used.
    let vars2 = vars.clone();
    let env = |k: &str| vars2.get(k).cloned();
    let cfg = ProviderConfig {
        endpoints: EndpointSettings { vpc: Some("http://127.0.0.1:9".into()), ..Default::default() },
        ..Default::default()
    };
    let one_try = ClientOptions { retry: RetryPolicy { max_attempts: 1, ..fast().retry }, ..fast() };
    let blocked = Alibaba::new_with(&cfg, &env, one_try).unwrap().unwrap();
    assert_eq!(describe_vswitches(&blocked, Retry::Idempotent).await.unwrap_err().code, "ConnectionRefused");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_secret_is_refused_and_never_shown() {
    let c = start();
    let a = client(&c, &c.id, "definitely-wrong-secret", None);
    let e = a.rpc(Service::Ram, "GetUser", &[("UserName", "x".into())], Retry::Idempotent).await.unwrap_err();
    assert_eq!((e.code.as_str(), e.status), ("SignatureDoesNotMatch", 400));
    let request_id = e.request_id.clone().expect("a request ID");
    let diags = e.to_diagnostics("Could not read the RAM user");
    let detail = &diags.0[0].detail;
    assert!(detail.contains("SignatureDoesNotMatch") && detail.contains(&request_id), "{detail}");
    let shown = format!("{e} {e:?} {detail} {a:?}");
    assert!(shown.contains(&request_id), "{shown}");
    assert!(!shown.contains("definitely-wrong-secret") && !shown.contains("Signature="), "{shown}");
    let unknown = client(&c, "LTAIunknown", "s", None);
    let e = unknown.rpc(Service::Ram, "GetUser", &[("UserName", "x".into())], Retry::Idempotent).await.unwrap_err();
    assert_eq!(e.code, "InvalidAccessKeyId.NotFound");
}

#[tokio::test(flavor = "multi_thread")]
async fn sts_credentials_carry_their_token() {
    let c = start();
    let sts = c.state().mint_sts(3600);
    let a = client(&c, &sts.access_key_id, &sts.secret, Some(&sts.token));
    a.rpc(Service::Ecs, "DescribeSecurityGroups", &[("RegionId", "cn-hangzhou".into())], Retry::Idempotent)
        .await
        .unwrap();
    let no_token = client(&c, &sts.access_key_id, &sts.secret, None);
    let e = describe_vswitches(&no_token, Retry::Idempotent).await;
    assert_eq!(e.unwrap_err().code, "MissingSecurityToken");
    let expired = c.state().mint_sts(-60);
    let old = client(&c, &expired.access_key_id, &expired.secret, Some(&expired.token));
    let e = describe_vswitches(&old, Retry::Idempotent).await.unwrap_err();
    assert_eq!(e.code, "InvalidSecurityToken.Expired");
    let detail = e.to_diagnostics("x").0[0].detail.clone();
    assert!(detail.contains("STS token") && !detail.contains(&expired.token), "{detail}");
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_and_server_errors_are_retried_for_idempotent_calls_only() {
    let c = start();
    let a = client(&c, &c.id, &c.secret, None);
    let state = c.state();
    state.update_faults(&json!({"fail_next": ["throttle", "503", "throttle", "500"]})).unwrap();
    describe_vswitches(&a, Retry::Idempotent).await.unwrap();
    assert_eq!(state.faults_status()["injected"]["throttle"], 2);
    // CS throttles with 429.
    state.update_faults(&json!({"fail_next": ["throttle", "throttle"]})).unwrap();
    a.roa(Service::Cs, http::Method::GET, "/addons", &[], None, Retry::Idempotent).await.unwrap();
    // A 503 on a non-idempotent call is returned, not repeated (it may have taken effect).
    state.update_faults(&json!({"fail_next": ["503"]})).unwrap();
    let e = a.rpc(Service::Ram, "CreateUser", &[("UserName", "u-503".into())], Retry::Never).await.unwrap_err();
    assert_eq!((e.status, e.code.as_str()), (503, "ServiceUnavailable"));
    // Throttling is refused before the operation runs, so it is repeated even then.
    state.update_faults(&json!({"fail_next": ["throttle"]})).unwrap();
    a.rpc(Service::Ram, "CreateUser", &[("UserName", "u-throttled".into())], Retry::Never).await.unwrap();
    // Attempts are bounded: the last error comes back.
    let three = client_with(
        &c,
        &c.id,
        &c.secret,
        None,
        ClientOptions { retry: RetryPolicy { max_attempts: 3, ..fast().retry }, ..fast() },
    );
    state.update_faults(&json!({"fail_next": ["throttle", "throttle", "throttle", "throttle"]})).unwrap();
    let e = describe_vswitches(&three, Retry::Idempotent).await.unwrap_err();
    assert!(e.is_throttling(), "{e:?}");
    assert_eq!(state.faults_status()["config"]["fail_next"], json!(["throttle"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_servers_retry_after_is_honoured() {
    let c = start();
    let a = client(&c, &c.id, &c.secret, None);
    c.state().update_faults(&json!({"fail_next": ["throttle"], "retry_after_ms": 400})).unwrap();
    let t = Instant::now();
    describe_vswitches(&a, Retry::Idempotent).await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(400), "{:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_answers_are_repeated_only_when_safe() {
    let c = start();
    let a = client(&c, &c.id, &c.secret, None);
    let state = c.state();
    // `drop`: the connection closes before anything is done.
    state.update_faults(&json!({"fail_next": ["drop"]})).unwrap();
    describe_vswitches(&a, Retry::Idempotent).await.unwrap();
    state.update_faults(&json!({"fail_next": ["drop"]})).unwrap();
    let e = a.rpc(Service::Ram, "CreateUser", &[("UserName", "u-lost".into())], Retry::Never).await.unwrap_err();
    assert_eq!(e.code, "Transport", "{e:?}");
    // The client did not send it again: the user does not exist.
    let got = a.rpc(Service::Ram, "GetUser", &[("UserName", "u-lost".into())], Retry::Idempotent).await;
    assert!(got.unwrap_err().is_not_found());
    // With a client token the same create is repeated; without one, SafeWithToken is Never.
    state.update_faults(&json!({"fail_next": ["drop"]})).unwrap();
    let params = [("UserName", "u-token".to_string()), ("ClientToken", "7f1c2a".to_string())];
    a.rpc(Service::Ram, "CreateUser", &params, Retry::SafeWithToken).await.unwrap();
    state.update_faults(&json!({"fail_next": ["drop"]})).unwrap();
    let e = a.rpc(Service::Ram, "CreateUser", &[("UserName", "u-no-token".into())], Retry::SafeWithToken).await;
    assert_eq!(e.unwrap_err().code, "Transport");
}

#[tokio::test(flavor = "multi_thread")]
async fn timeouts_are_bounded_and_retried_for_reads() {
    let c = start();
    let opts = ClientOptions {
        request_timeout: Duration::from_millis(150),
        retry: RetryPolicy { max_attempts: 2, ..fast().retry },
        ..fast()
    };
    let a = client_with(&c, &c.id, &c.secret, None, opts);
    c.state().update_faults(&json!({"latency_ms": 600})).unwrap();
    let e = describe_vswitches(&a, Retry::Idempotent).await.unwrap_err();
    assert!(e.code == "Transport" && e.message.contains("timed out"), "{e:?}");
    c.state().update_faults(&json!({"latency_ms": 0})).unwrap();
    describe_vswitches(&a, Retry::Idempotent).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_sent_is_retried_for_every_call_then_reported() {
    // A port nobody listens on: every attempt is refused before anything is sent.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cfg = ProviderConfig {
        region: Some("cn-hangzhou".into()),
        access_key: Some("id".into()),
        secret_key: Some("secret".into()),
        endpoints: EndpointSettings { ram: Some(format!("http://127.0.0.1:{port}")), ..Default::default() },
        ..Default::default()
    };
    let a = Alibaba::new_with(&cfg, &no_env, fast()).unwrap().unwrap();
    let e = a.rpc(Service::Ram, "CreateUser", &[("UserName", "u".into())], Retry::Never).await.unwrap_err();
    assert_eq!((e.code.as_str(), e.status), ("ConnectionRefused", 0));
    assert!(!format!("{e}").contains("secret"));
}

#[tokio::test(flavor = "multi_thread")]
async fn cancellation_ends_a_call_in_flight() {
    let c = start();
    let cancel = CancellationToken::new();
    let a = client(&c, &c.id, &c.secret, None).with_cancel(cancel.clone());
    c.state().update_faults(&json!({"latency_ms": 10_000})).unwrap();
    let t = Instant::now();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        cancel.cancel();
    });
    let e = describe_vswitches(&a, Retry::Idempotent).await.unwrap_err();
    canceller.await.unwrap();
    assert_eq!(e.code, "Cancelled");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

/// Collects everything logged on this thread.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// current_thread: the client runs on the test's thread, where the capturing subscriber is set.
#[tokio::test(flavor = "current_thread")]
async fn logs_never_carry_secrets_tokens_or_signatures() {
    let c = start();
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sts = c.state().mint_sts(3600);
    let vars = sandbox_env(&c);
    let env = |k: &str| match k {
        "ALIBABA_CLOUD_ACCESS_KEY_ID" => Some(sts.access_key_id.clone()),
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET" => Some(sts.secret.clone()),
        "ALIBABA_CLOUD_SECURITY_TOKEN" => Some(sts.token.clone()),
        other => vars.get(other).cloned(),
    };
    let a = Alibaba::new_with(&ProviderConfig::default(), &env, fast()).unwrap().unwrap();
    c.state().update_faults(&json!({"fail_next": ["throttle", "503"]})).unwrap();
    describe_vswitches(&a, Retry::Idempotent).await.unwrap();
    let wrong = client(&c, &sts.access_key_id, "wrong-secret-value", Some(&sts.token));
    let e = describe_vswitches(&wrong, Retry::Idempotent).await.unwrap_err();
    tracing::error!(error = %e, "as a resource would log it");
    tracing::debug!(client = ?a, "the client itself");

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("retrying") && logs.contains(&sts.access_key_id), "{logs}");
    for secret in [sts.secret.as_str(), sts.token.as_str(), "wrong-secret-value", "Signature=", "authorization"] {
        assert!(!logs.contains(secret), "{secret:?} logged:\n{logs}");
    }
}

/// A server that echoes the request's token and Authorization header in its error message, as a
/// careless service might: the client must not pass them on.
#[tokio::test(flavor = "multi_thread")]
async fn echoed_secrets_are_scrubbed_from_errors() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let head = String::from_utf8_lossy(&buf).to_string();
        let header = |name: &str| {
            head.lines()
                .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()))
                .unwrap_or("")
                .to_string()
        };
        let message = format!(
            "token {} authorization {} secret-in-string-to-sign",
            header("x-acs-security-token"),
            header("authorization")
        );
        let body =
            json!({"Code": "InvalidSecurityToken.Malformed", "Message": message, "RequestId": "r-echo"}).to_string();
        let resp = format!(
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        sock.write_all(resp.as_bytes()).await.unwrap();
    });
    let cfg = ProviderConfig {
        region: Some("cn-hangzhou".into()),
        access_key: Some("STS.echo".into()),
        secret_key: Some("echo-secret-value".into()),
        security_token: Some("echo-token-value".into()),
        endpoints: EndpointSettings { ram: Some(url), ..Default::default() },
        ..Default::default()
    };
    let a = Alibaba::new_with(&cfg, &no_env, fast()).unwrap().unwrap();
    let e = a.rpc(Service::Ram, "GetUser", &[("UserName", "u".into())], Retry::Idempotent).await.unwrap_err();
    server.await.unwrap();
    let shown = format!("{e} {e:?} {}", e.to_diagnostics("x").0[0].detail);
    assert!(shown.contains("r-echo") && shown.contains("<redacted>"), "{shown}");
    let signature = e.message.split("Signature=").nth(1).unwrap_or_default();
    assert!(signature.starts_with("<redacted>"), "{shown}");
    assert!(!shown.contains("echo-token-value") && !shown.contains("echo-secret-value"), "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_provider_client_is_built_once_and_only_when_asked() {
    let cfg = ProviderConfig {
        region: Some("cn-beijing".into()),
        access_key: Some("id".into()),
        secret_key: Some("secret".into()),
        ..Default::default()
    };
    assert!(!cfg.alibaba.0.initialized());
    let (c1, c2) = (CancellationToken::new(), CancellationToken::new());
    let a = lazy_client(&cfg, &c1, &no_env).await.unwrap().unwrap();
    let b = lazy_client(&cfg, &c2, &no_env).await.unwrap().unwrap();
    assert!(Arc::ptr_eq(&a.inner, &b.inner));
    assert_eq!(a.endpoint(Service::Ecs), "https://ecs.cn-beijing.aliyuncs.com");
    // Each operation's cancellation reaches its own calls only.
    c1.cancel();
    assert!(a.cancel.as_ref().unwrap().is_cancelled() && !b.cancel.as_ref().unwrap().is_cancelled());

    let nothing = ProviderConfig::default();
    assert!(lazy_client(&nothing, &c2, &no_env).await.unwrap().is_none());
    let d = require(None).unwrap_err();
    assert_eq!(d.0[0].summary, "No Alibaba Cloud credentials");
    let no_region =
        ProviderConfig { access_key: Some("id".into()), secret_key: Some("s".into()), ..Default::default() };
    let d = lazy_client(&no_region, &c2, &no_env).await.unwrap_err();
    assert!(d.0[0].detail.contains("no region"), "{}", d.0[0].detail);
    assert!(!no_region.alibaba.0.initialized());
}

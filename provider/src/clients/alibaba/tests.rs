//! The client against hybrid-sandbox's cloud APIs (which verify ACS3 signatures like the real
//! services): RPC and ROA calls, wrong secrets, STS credentials, throttling and 5xx retries.

use std::collections::HashMap;

use hybrid_sandbox::cloud::{self, CloudOptions};
use hybrid_sandbox::{SandboxOptions, Scenario};
use serde_json::json;

use super::*;
use crate::provider::config::EndpointSettings;

struct Cloud {
    _sandbox: hybrid_sandbox::Running,
    url: String,
    id: String,
    secret: String,
    state: cloud::CloudHandle,
}

fn start() -> Cloud {
    let dir = tempfile::tempdir().unwrap();
    let (opts, handle) = cloud::mount(SandboxOptions::for_test(dir.path(), Scenario::Bgp), CloudOptions::default());
    let sb = hybrid_sandbox::start(opts).unwrap();
    let (url, state) = cloud::started(&sb, &handle).unwrap();
    let (id, secret) = state.root_credentials();
    let (id, secret) = (id.to_string(), secret.to_string());
    Cloud { _sandbox: sb, url, id, secret, state: handle }
}

fn client(c: &Cloud, id: &str, secret: &str, token: Option<&str>) -> Alibaba {
    let ep = Some(c.url.clone());
    let cfg = ProviderConfig {
        region: Some("cn-hangzhou".into()),
        access_key: Some(id.into()),
        secret_key: Some(secret.into()),
        security_token: token.map(str::to_string),
        endpoints: EndpointSettings { ram: ep.clone(), cs: ep.clone(), vpc: ep.clone(), ecs: ep },
        ..Default::default()
    };
    let no_env: HashMap<String, String> = HashMap::new();
    let mut a = Alibaba::new(&cfg, &|k| no_env.get(k).cloned()).unwrap().unwrap();
    // Short waits keep the fault tests quick.
    Arc::get_mut(&mut a.inner).unwrap().policy.base_delay = std::time::Duration::from_millis(5);
    a
}

#[tokio::test(flavor = "multi_thread")]
async fn rpc_and_roa_calls_are_signed_and_answered() {
    let c = start();
    let a = client(&c, &c.id, &c.secret, None);
    let created = a
        .rpc(
            Service::Ram,
            "CreateUser",
            &[("UserName", "ack-one-user-test".into()), ("DisplayName", "ack one".into())],
            Retry::Never,
        )
        .await
        .unwrap();
    assert_eq!(created["User"]["UserName"], "ack-one-user-test");
    let missing =
        a.rpc(Service::Ram, "GetUser", &[("UserName", "nobody".into())], Retry::Idempotent).await.unwrap_err();
    assert!(missing.is_not_found() && missing.request_id.is_some(), "{missing:?}");

    let cluster_id = c.state.state().unwrap().seed_ids().cluster_id.clone();
    let detail = a
        .roa(Service::Cs, http::Method::GET, &format!("/clusters/{cluster_id}"), &[], None, Retry::Idempotent)
        .await
        .unwrap();
    assert_eq!(detail["cluster_type"], "ExternalKubernetes");
    let vsw = a
        .rpc(Service::Vpc, "DescribeVSwitches", &[("RegionId", "cn-hangzhou".into())], Retry::Idempotent)
        .await
        .unwrap();
    assert!(vsw["VSwitches"]["VSwitch"].as_array().is_some_and(|v| !v.is_empty()), "{vsw}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_secret_is_refused_and_never_shown() {
    let c = start();
    let a = client(&c, &c.id, "definitely-wrong-secret", None);
    let e = a.rpc(Service::Ram, "GetUser", &[("UserName", "x".into())], Retry::Idempotent).await.unwrap_err();
    assert_eq!(e.code, "SignatureDoesNotMatch");
    let shown = format!("{e} {:?}", e.to_diagnostics("x").iter().map(|d| d.detail.clone()).collect::<Vec<_>>());
    assert!(!shown.contains("definitely-wrong-secret"), "{shown}");
    let unknown = client(&c, "LTAIunknown", "s", None);
    let e = unknown.rpc(Service::Ram, "GetUser", &[("UserName", "x".into())], Retry::Idempotent).await.unwrap_err();
    assert_eq!(e.code, "InvalidAccessKeyId.NotFound");
}

#[tokio::test(flavor = "multi_thread")]
async fn sts_credentials_carry_their_token() {
    let c = start();
    let sts = c.state.state().unwrap().mint_sts(3600);
    let a = client(&c, &sts.access_key_id, &sts.secret, Some(&sts.token));
    a.rpc(Service::Ecs, "DescribeSecurityGroups", &[("RegionId", "cn-hangzhou".into())], Retry::Idempotent)
        .await
        .unwrap();
    let no_token = client(&c, &sts.access_key_id, &sts.secret, None);
    let e = no_token
        .rpc(Service::Ecs, "DescribeSecurityGroups", &[("RegionId", "cn-hangzhou".into())], Retry::Idempotent)
        .await;
    assert_eq!(e.unwrap_err().code, "MissingSecurityToken");
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_and_server_errors_are_retried_for_idempotent_calls_only() {
    let c = start();
    let a = client(&c, &c.id, &c.secret, None);
    let state = c.state.state().unwrap();
    state.update_faults(&json!({"fail_next": ["throttle", "503", "throttle"]})).unwrap();
    a.rpc(Service::Vpc, "DescribeVSwitches", &[("RegionId", "cn-hangzhou".into())], Retry::Idempotent).await.unwrap();
    // A 503 on a non-idempotent call is returned, not repeated (it may have taken effect).
    state.update_faults(&json!({"fail_next": ["503"]})).unwrap();
    let e = a.rpc(Service::Ram, "CreateUser", &[("UserName", "u-503".into())], Retry::Never).await.unwrap_err();
    assert_eq!(e.status, 503);
    // Throttling is safe to repeat even then.
    state.update_faults(&json!({"fail_next": ["throttle"]})).unwrap();
    a.rpc(Service::Ram, "CreateUser", &[("UserName", "u-throttled".into())], Retry::Never).await.unwrap();
}

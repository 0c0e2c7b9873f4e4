//! The cloud APIs without the Kubernetes store: `serve_cloud` with a recording [`KubeHooks`], which
//! pins down what the cloud side asks of the cluster.

mod cloud_support;

use cloud_support::{Client, Credentials};
use hybrid_sandbox::cloud::{serve_cloud, CloudFaultConfig, CloudOptions, CloudState, KubeHooks, NodeInfo};
use serde_json::json;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<String>>,
}

impl KubeHooks for Recorder {
    fn install_addon(&self, name: &str, version: &str, region: &str) -> Result<(), String> {
        self.calls.lock().unwrap().push(format!("install {name} {version} {region}"));
        Ok(())
    }
    fn uninstall_addon(&self, name: &str) -> Result<(), String> {
        self.calls.lock().unwrap().push(format!("uninstall {name}"));
        Ok(())
    }
    fn nodes(&self) -> Vec<NodeInfo> {
        let node = |name: &str, zone: &str, external: bool| NodeInfo {
            name: name.into(),
            labels: vec![
                ("alibabacloud.com/external".into(), external.to_string()),
                ("topology.kubernetes.io/zone".into(), zone.into()),
            ],
            internal_ip: "10.0.0.1".into(),
            provider_id: None,
            created: "2026-01-01T00:00:00Z".into(),
            ready: true,
        };
        vec![node("cloud-h", "cn-hangzhou-h", true), node("idc", "cn-hangzhou-h", false)]
    }
    fn set_node_labels(&self, node: &str, labels: &[(String, Option<String>)]) -> Result<(), String> {
        self.calls.lock().unwrap().push(format!("label {node} {labels:?}"));
        Ok(())
    }
}

#[test]
fn hooks_see_pool_assignment_installs_and_uninstalls() {
    let hooks = Arc::new(Recorder::default());
    let opts = CloudOptions {
        region: "cn-hangzhou".into(),
        faults: CloudFaultConfig { task_delay_ms: 0, ..Default::default() },
        ..Default::default()
    };
    let state = CloudState::new(opts, hooks.clone()).unwrap();
    let pool_h = state.seed_ids().node_pools[0].1.clone();
    assert_eq!(
        hooks.calls.lock().unwrap().clone(),
        [format!("label cloud-h [(\"alibabacloud.com/nodepool-id\", Some(\"{pool_h}\"))]")],
        "only external nodes join the pool of their zone"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(serve_cloud(listener, state.clone(), async move {
        let _ = rx.await;
    }));
    let (id, secret) = state.root_credentials();
    let client = Client::new(&base, Credentials::new(id, secret));
    let cid = state.seed_ids().cluster_id.clone();
    let body = json!([{"name": "terway-eniip", "version": "v1.16.6", "config": ""}]);
    let r =
        client.roa("POST", &format!("/clusters/{cid}/components/install"), "InstallClusterAddons", &[], Some(&body));
    assert_eq!(client.wait_task(r.body["task_id"].as_str().unwrap())["state"], "success");
    let body = json!([{"name": "terway-eniip"}]);
    let r = client.roa(
        "POST",
        &format!("/clusters/{cid}/components/uninstall"),
        "UnInstallClusterAddons",
        &[],
        Some(&body),
    );
    assert_eq!(client.wait_task(r.body["task_id"].as_str().unwrap())["state"], "success");
    let calls = hooks.calls.lock().unwrap().clone();
    assert_eq!(
        calls[1..],
        ["install terway-eniip v1.16.6 cn-hangzhou".to_string(), "uninstall terway-eniip".to_string()]
    );
    let _ = tx.send(());
    rt.block_on(server).unwrap().unwrap();
}

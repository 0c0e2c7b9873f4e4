//! The cloud APIs over HTTP: signature verification as the services answer it, credentials created
//! through RAM, faults, tasks that finish on their own, the Kubernetes side effects, the admin
//! endpoints and the `sandbox.env` lines.

mod cloud_support;

use cloud_support::{admin, send, sign, Client, Credentials, Signing, CS, ECS, RAM, VPC};
use hybrid_sandbox::cloud::{self, CloudFaultConfig, CloudHandle, CloudOptions};
use hybrid_sandbox::kube::resources::ResourceRef;
use hybrid_sandbox::{Running, SandboxOptions, Scenario};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

struct Fixture {
    sandbox: Running,
    handle: CloudHandle,
    _dir: tempfile::TempDir,
    base: String,
    root: Client,
}

impl Fixture {
    fn start(task_delay_ms: u64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let opts =
            CloudOptions { faults: CloudFaultConfig { task_delay_ms, ..Default::default() }, ..Default::default() };
        let (opts, handle) = cloud::mount(SandboxOptions::for_test(dir.path(), Scenario::Bgp), opts);
        let sandbox = hybrid_sandbox::start(opts).unwrap();
        cloud::write_env(&sandbox, &handle).unwrap();
        let base = sandbox.listeners["cloud"].clone();
        let (id, secret) = handle.state().unwrap().root_credentials();
        let root = Client::new(&base, Credentials::new(id, secret));
        Fixture { sandbox, handle, _dir: dir, base, root }
    }

    fn token(&self) -> Option<&str> {
        Some(self.sandbox.token.as_str())
    }

    fn faults(&self, body: Value) {
        let (status, reply) = admin(&self.base, self.token(), "POST", "faults", Some(body));
        assert_eq!(status, 200, "{reply}");
    }

    fn cluster_id(&self) -> String {
        self.handle.state().unwrap().seed_ids().cluster_id.clone()
    }

    fn env(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(self.sandbox.dir.as_ref().unwrap().join("sandbox.env")).unwrap();
        text.lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
            .collect()
    }
}

fn code(r: &cloud_support::Reply) -> &str {
    r.body["Code"].as_str().or(r.body["code"].as_str()).unwrap_or("")
}

#[test]
fn rpc_errors_have_the_rpc_shape_and_roa_errors_the_roa_shape() {
    let f = Fixture::start(100);
    let r = f.root.rpc(RAM, "GetUser", &[("UserName", "nobody")]);
    assert_eq!(r.status, 404);
    for k in ["RequestId", "HostId", "Code", "Message", "Recommend"] {
        assert!(r.body[k].is_string(), "RPC error field {k}: {}", r.body);
    }
    assert_eq!(r.body["Code"], "EntityNotExist.User");
    assert_eq!(r.body["HostId"], "ram.aliyuncs.com");
    assert_eq!(r.headers["x-acs-request-id"].to_str().unwrap(), r.body["RequestId"]);
    let r = f.root.roa("GET", "/clusters/c-missing", "DescribeClusterDetail", &[], None);
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"code": "ErrorClusterNotFound", "message": "cluster c-missing not found",
                              "requestId": r.body["requestId"]})
    );
    let r = f.root.rpc(RAM, "NoSuchAction", &[]);
    assert_eq!((r.status, code(&r)), (404, "InvalidAction.NotFound"));
    let r = f.root.rpc("2099-01-01", "GetUser", &[]);
    assert_eq!((r.status, code(&r)), (400, "InvalidVersion"));
    // A CS action whose path belongs to another action is not routed.
    let r = f.root.roa("GET", &format!("/clusters/{}", f.cluster_id()), "DescribeClusterNodePools", &[], None);
    assert_eq!((r.status, code(&r)), (404, "InvalidAction.NotFound"));
}

#[test]
fn tampered_requests_fail_signature_verification() {
    let f = Fixture::start(100);
    let cid = f.cluster_id();
    let secret = f.handle.state().unwrap().root_credentials().1.to_string();
    let check = |p: &cloud_support::Prepared, status: u16, expected: &str| {
        let r = send(&f.base, p).unwrap();
        assert_eq!((r.status, code(&r)), (status, expected), "{}", r.body);
        assert!(!r.body.to_string().contains(&secret), "the secret never appears in an error");
        r
    };
    // The body changes after signing.
    let path = format!("/clusters/{cid}/components/install");
    let body = json!([{"name": "terway-eniip", "version": "v1.17.5", "config": ""}]);
    let mut p = f.root.prepare_roa("POST", &path, "InstallClusterAddons", &[], Some(&body));
    p.body = br#"[{"name":"terway-eniip","version":"v1.13.4","config":""}]"#.to_vec();
    let r = check(&p, 400, "SignatureDoesNotMatch");
    assert!(r.body["requestId"].is_string(), "CS errors use the ROA shape: {}", r.body);
    // The body and its hash change, the signature does not.
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&p.body));
    p.header("x-acs-content-sha256", &hash);
    let r = check(&p, 400, "SignatureDoesNotMatch");
    assert!(r.body["message"].as_str().unwrap().contains("server string to sign is:ACS3-HMAC-SHA256\n"));
    // A signed header changes.
    let mut p = f.root.prepare_rpc(RAM, "GetUser", &[("UserName", "u")]);
    p.header("x-acs-action", "DeleteUser");
    check(&p, 400, "SignatureDoesNotMatch");
    // A query value changes, or a parameter is added.
    let mut p = f.root.prepare_rpc(RAM, "GetUser", &[("UserName", "u")]);
    p.query[0].1 = "v".into();
    check(&p, 400, "SignatureDoesNotMatch");
    let mut p = f.root.prepare_rpc(RAM, "GetUser", &[("UserName", "u")]);
    p.query.push(("Extra".into(), "1".into()));
    check(&p, 400, "SignatureDoesNotMatch");
    // An unsigned x-acs-* header, a missing Authorization, a foreign algorithm.
    let mut p = f.root.prepare_rpc(RAM, "GetUser", &[("UserName", "u")]);
    p.header("x-acs-security-token", "t");
    check(&p, 400, "IncompleteSignature");
    let mut p = f.root.prepare_rpc(RAM, "GetUser", &[("UserName", "u")]);
    p.headers.retain(|(k, _)| k != "authorization");
    check(&p, 400, "IncompleteSignature");
    let mut p = f.root.prepare_rpc(RAM, "GetUser", &[("UserName", "u")]);
    let auth =
        p.headers.iter().find(|(k, _)| k == "authorization").unwrap().1.replace("ACS3-HMAC-SHA256", "ACS3-HMAC-SM3");
    p.header("authorization", &auth);
    check(&p, 400, "IncompleteSignature");
    // Wrong secret, unknown key.
    let wrong = f.root.with(Credentials::new(&f.root.creds.id, "wrong-secret"));
    let r = wrong.rpc(RAM, "GetUser", &[("UserName", "u")]);
    assert_eq!((r.status, code(&r)), (400, "SignatureDoesNotMatch"));
    let unknown = f.root.with(Credentials::new("LTAI5tNoSuchKey0000000000", "x"));
    let r = unknown.rpc(RAM, "GetUser", &[("UserName", "u")]);
    assert_eq!((r.status, code(&r)), (404, "InvalidAccessKeyId.NotFound"));
    // A stale date and a replayed nonce.
    let stale = sign(
        &f.root.host,
        &f.root.creds,
        Signing {
            method: "POST",
            path: "/",
            query: &[("UserName", "u")],
            action: "GetUser",
            version: RAM,
            body: None,
            date: Some("2020-01-01T00:00:00Z".into()),
            nonce: None,
        },
    );
    check(&stale, 400, "InvalidTimeStamp.Expired");
    let p = f.root.prepare_rpc(RAM, "GetUser", &[("UserName", "u")]);
    check(&p, 404, "EntityNotExist.User");
    check(&p, 400, "SignatureNonceUsed");
}

#[test]
fn form_bodies_and_get_requests_carry_rpc_parameters() {
    let f = Fixture::start(100);
    let form = b"UserName=form-user&DisplayName=from+a+form".to_vec();
    let p = sign(
        &f.root.host,
        &f.root.creds,
        Signing {
            method: "POST",
            path: "/",
            query: &[],
            action: "CreateUser",
            version: RAM,
            body: Some(("application/x-www-form-urlencoded", form)),
            date: None,
            nonce: None,
        },
    );
    let r = send(&f.base, &p).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["User"]["DisplayName"], "from a form");
    let p = sign(
        &f.root.host,
        &f.root.creds,
        Signing {
            method: "GET",
            path: "/",
            query: &[("UserName", "form-user")],
            action: "GetUser",
            version: RAM,
            body: None,
            date: None,
            nonce: None,
        },
    );
    assert_eq!(send(&f.base, &p).unwrap().body["User"]["UserName"], "form-user");
}

#[test]
fn keys_created_through_ram_sign_requests_while_active() {
    let f = Fixture::start(100);
    assert_eq!(f.root.rpc(RAM, "CreateUser", &[("UserName", "terway")]).status, 200);
    let k = f.root.rpc(RAM, "CreateAccessKey", &[("UserName", "terway")]).body;
    let id = k["AccessKey"]["AccessKeyId"].as_str().unwrap();
    let user = f.root.with(Credentials::new(id, k["AccessKey"]["AccessKeySecret"].as_str().unwrap()));
    let vsw = user.rpc(VPC, "DescribeVSwitches", &[("RegionId", "cn-hangzhou")]);
    assert_eq!(vsw.status, 200, "{}", vsw.body);
    assert_eq!(vsw.body["TotalCount"], 3);
    let set = |status: &str| {
        let r =
            f.root.rpc(RAM, "UpdateAccessKey", &[("UserName", "terway"), ("UserAccessKeyId", id), ("Status", status)]);
        assert_eq!(r.status, 200, "{}", r.body);
    };
    set("Inactive");
    let r = user.rpc(ECS, "DescribeSecurityGroups", &[("RegionId", "cn-hangzhou")]);
    assert_eq!((r.status, code(&r)), (400, "InvalidAccessKeyId.Inactive"));
    set("Active");
    assert_eq!(user.rpc(ECS, "DescribeSecurityGroups", &[("RegionId", "cn-hangzhou")]).status, 200);
    f.root.rpc(RAM, "DeleteAccessKey", &[("UserName", "terway"), ("UserAccessKeyId", id)]);
    let r = user.rpc(ECS, "DescribeSecurityGroups", &[("RegionId", "cn-hangzhou")]);
    assert_eq!((r.status, code(&r)), (404, "InvalidAccessKeyId.NotFound"));
}

#[test]
fn sts_credentials_need_their_token_until_they_expire() {
    let f = Fixture::start(100);
    let st = f.handle.state().unwrap();
    let sts = st.default_sts();
    let mut creds = Credentials::new(&sts.access_key_id, &sts.secret);
    let r = f.root.with(creds.clone()).rpc(RAM, "GetUser", &[("UserName", "x")]);
    assert_eq!((r.status, code(&r)), (400, "MissingSecurityToken"));
    creds.token = Some(sts.token.clone());
    assert_eq!(code(&f.root.with(creds.clone()).rpc(RAM, "GetUser", &[("UserName", "x")])), "EntityNotExist.User");
    creds.token = Some("CAISforged".into());
    let r = f.root.with(creds).rpc(RAM, "GetUser", &[("UserName", "x")]);
    assert_eq!((r.status, code(&r)), (400, "InvalidSecurityToken.Malformed"));
    let expired = st.mint_sts(-1);
    let creds = Credentials { id: expired.access_key_id, secret: expired.secret, token: Some(expired.token) };
    let r = f.root.with(creds).rpc(RAM, "GetUser", &[("UserName", "x")]);
    assert_eq!((r.status, code(&r)), (400, "InvalidSecurityToken.Expired"));
}

#[test]
fn ambiguous_failures_make_the_change_and_lose_the_response() {
    let f = Fixture::start(100);
    f.faults(json!({"fail_next": ["ambiguous-503", "ambiguous-drop", "drop"], "actions": ["CreateUser"]}));
    let r = f.root.rpc(RAM, "CreateUser", &[("UserName", "a1")]);
    assert_eq!((r.status, code(&r)), (503, "ServiceUnavailable"));
    assert_eq!(f.root.rpc(RAM, "GetUser", &[("UserName", "a1")]).status, 200, "the change was made");
    assert!(
        send(&f.base, &f.root.prepare_rpc(RAM, "CreateUser", &[("UserName", "a2")])).is_err(),
        "connection dropped"
    );
    assert_eq!(f.root.rpc(RAM, "GetUser", &[("UserName", "a2")]).status, 200, "the change was made");
    assert!(send(&f.base, &f.root.prepare_rpc(RAM, "CreateUser", &[("UserName", "a3")])).is_err());
    assert_eq!(f.root.rpc(RAM, "GetUser", &[("UserName", "a3")]).status, 404, "a plain drop changes nothing");
    // A retry of the ambiguous create sees the real conflict.
    assert_eq!(code(&f.root.rpc(RAM, "CreateUser", &[("UserName", "a1")])), "EntityAlreadyExists.User");
    let (_, status) = admin(&f.base, f.token(), "GET", "faults", None);
    assert_eq!(status["injected"]["ambiguous"], 2);
    assert_eq!(status["injected"]["drop"], 1);
}

#[test]
fn throttling_and_server_errors_per_service() {
    let f = Fixture::start(100);
    f.faults(json!({"fail_next": ["throttle", "throttle", "500", "503"], "retry_after_ms": 2000}));
    let r = f.root.rpc(VPC, "DescribeVSwitches", &[]);
    assert_eq!((r.status, code(&r)), (400, "Throttling.User"));
    assert_eq!(r.headers["x-acs-retry-after"], "2000");
    let r = f.root.roa("GET", "/addons", "ListAddons", &[], None);
    assert_eq!((r.status, code(&r)), (429, "Throttling.User"));
    assert_eq!(code(&f.root.rpc(ECS, "DescribeSecurityGroups", &[("RegionId", "cn-hangzhou")])), "InternalError");
    let r = f.root.rpc(RAM, "GetUser", &[("UserName", "x")]);
    assert_eq!((r.status, code(&r)), (503, "ServiceUnavailable"));
    assert_eq!(f.root.rpc(RAM, "GetUser", &[("UserName", "x")]).status, 404, "the queue is empty again");
    // Only the listed services are affected.
    f.faults(json!({"throttle_rate": 1.0, "services": ["cs"]}));
    assert_eq!(f.root.rpc(RAM, "GetUser", &[("UserName", "x")]).status, 404);
    assert_eq!(f.root.roa("GET", "/addons", "ListAddons", &[], None).status, 429);
    let (status, _) = admin(&f.base, f.token(), "DELETE", "faults", None);
    assert_eq!(status, 200);
    assert_eq!(f.root.roa("GET", "/addons", "ListAddons", &[], None).status, 200);
}

#[test]
fn seeded_faults_repeat_and_latency_delays() {
    let f = Fixture::start(100);
    let pattern = || {
        f.faults(json!({"seed": 42, "throttle_rate": 0.5}));
        (0..16).map(|_| f.root.rpc(RAM, "GetUser", &[("UserName", "x")]).status).collect::<Vec<_>>()
    };
    let first = pattern();
    assert_eq!(first, pattern(), "the same seed gives the same faults");
    assert!(first.contains(&400) && first.contains(&404), "{first:?}");
    f.faults(json!({"throttle_rate": 0.0, "latency_ms": 300}));
    let t = Instant::now();
    f.root.rpc(RAM, "GetUser", &[("UserName", "x")]);
    assert!(t.elapsed() >= Duration::from_millis(300));
    let (status, _) = admin(&f.base, f.token(), "POST", "faults", Some(json!({"throttle_rate": 3})));
    assert_eq!(status, 400, "invalid fault settings are refused");
}

fn terway_ds(f: &Fixture) -> Option<Value> {
    f.sandbox.store.get(&ResourceRef::daemonsets(), Some("kube-system"), "terway-eniip").ok()
}

#[test]
fn addon_tasks_finish_on_their_own_and_change_the_cluster() {
    let f = Fixture::start(300);
    let cid = f.cluster_id();
    let install = |version: &str| {
        let body = json!([{"name": "terway-eniip", "version": version, "config": ""}]);
        f.root.roa("POST", &format!("/clusters/{cid}/components/install"), "InstallClusterAddons", &[], Some(&body))
    };
    let r = install("v1.99.0");
    assert_eq!((r.status, code(&r)), (400, "InvalidParameter"));
    assert!(r.body["message"].as_str().unwrap().contains("v1.17.5"), "lists the known versions");
    let r = install("");
    assert_eq!(r.status, 200, "{}", r.body);
    let detail = f.root.roa("GET", &format!("/clusters/{cid}"), "DescribeClusterDetail", &[], None);
    assert_eq!(detail.body["state"], "updating", "a running addon task keeps the cluster updating");
    assert!(terway_ds(&f).is_none(), "nothing changes before the task finishes");
    std::thread::sleep(Duration::from_millis(700));
    // No API call in between: the task finished by itself.
    let ds = terway_ds(&f).expect("the DaemonSet exists once the task finished");
    assert_eq!(
        ds["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry-cn-hangzhou-vpc.ack.aliyuncs.com/acs/terway:v1.17.5",
        "an empty version installs the default"
    );
    let task = f.root.wait_task(r.body["task_id"].as_str().unwrap());
    assert_eq!(task["state"], "success");
    // An injected task failure leaves the old version in place.
    f.faults(json!({"task_failure_rate": 1.0}));
    let body = json!([{"component_name": "terway-eniip", "next_version": "v1.17.5"}]);
    let up =
        f.root.roa("POST", &format!("/clusters/{cid}/components/upgrade"), "UpgradeClusterAddons", &[], Some(&body));
    assert_eq!(up.status, 200, "{}", up.body);
    let t = f.root.wait_task(up.body["task_id"].as_str().unwrap());
    assert_eq!(t["state"], "failed");
    assert_eq!(t["error"]["code"], "AddonTaskFailed");
    let down = json!([{"component_name": "terway-eniip", "next_version": "v1.13.4"}]);
    let r =
        f.root.roa("POST", &format!("/clusters/{cid}/components/upgrade"), "UpgradeClusterAddons", &[], Some(&down));
    assert_eq!(code(&r), "InvalidParameter", "no downgrades");
    f.faults(json!({"task_failure_rate": 0.0}));
    let un = json!([{"name": "terway-eniip"}]);
    let r =
        f.root.roa("POST", &format!("/clusters/{cid}/components/uninstall"), "UnInstallClusterAddons", &[], Some(&un));
    let r2 =
        f.root.roa("POST", &format!("/clusters/{cid}/components/uninstall"), "UnInstallClusterAddons", &[], Some(&un));
    assert_eq!((r2.status, code(&r2)), (400, "ErrorClusterState"), "one task per addon at a time");
    assert_eq!(f.root.wait_task(r.body["task_id"].as_str().unwrap())["state"], "success");
    assert!(terway_ds(&f).is_none(), "uninstalling removes the DaemonSet");
}

#[test]
fn node_pool_labels_reach_nodes_only_with_update_nodes() {
    let f = Fixture::start(50);
    let cid = f.cluster_id();
    let (_, pool, zone) = f.handle.state().unwrap().seed_ids().node_pools[0].clone();
    let nodes = f.sandbox.store.list(&ResourceRef::nodes(), None, None, None).unwrap().items;
    let node = nodes
        .iter()
        .find(|n| n["metadata"]["labels"]["topology.kubernetes.io/zone"] == zone.as_str())
        .expect("a cloud node in the pool's zone");
    let name = node["metadata"]["name"].as_str().unwrap().to_string();
    assert_eq!(node["metadata"]["labels"]["alibabacloud.com/nodepool-id"], pool.as_str(), "seeded into its pool");
    let labels = || f.sandbox.store.get(&ResourceRef::nodes(), None, &name).unwrap()["metadata"]["labels"].clone();
    let modify = |body: Value| {
        let r =
            f.root.roa("PUT", &format!("/clusters/{cid}/nodepools/{pool}"), "ModifyClusterNodePool", &[], Some(&body));
        assert_eq!(r.status, 200, "{}", r.body);
        f.root.wait_task(r.body["task_id"].as_str().unwrap())
    };
    modify(json!({"kubernetes_config": {"labels": [{"key": "team", "value": "a"}]}}));
    assert!(labels().get("team").is_none(), "without update_nodes only new nodes would get the label");
    modify(
        json!({"kubernetes_config": {"labels": [{"key": "team", "value": "b"}, {"key": "tier", "value": "x"}]}, "update_nodes": true}),
    );
    assert_eq!((labels()["team"].clone(), labels()["tier"].clone()), (json!("b"), json!("x")));
    modify(json!({"kubernetes_config": {"labels": [{"key": "tier", "value": "y"}]}, "update_nodes": true}));
    assert!(labels().get("team").is_none(), "keys dropped from the pool leave its nodes");
    assert_eq!(labels()["tier"], "y");
    assert_eq!(labels()["alibabacloud.com/external"], "true", "labels the pool never set stay");
    // A body without labels keeps them.
    modify(json!({"nodepool_info": {"name": "renamed"}}));
    let d = f.root.roa("GET", &format!("/clusters/{cid}/nodepools/{pool}"), "DescribeClusterNodePoolDetail", &[], None);
    assert_eq!(d.body["kubernetes_config"]["labels"], json!([{"key": "tier", "value": "y"}]));
    assert_eq!(d.body["nodepool_info"]["name"], "renamed");
}

#[test]
fn admin_endpoints_need_the_token_and_state_has_no_secrets() {
    let f = Fixture::start(50);
    let (status, _) = admin(&f.base, None, "GET", "state", None);
    assert_eq!(status, 401);
    let (status, _) = admin(&f.base, Some("wrong"), "POST", "faults", Some(json!({})));
    assert_eq!(status, 401);
    f.root.rpc(RAM, "CreateUser", &[("UserName", "s")]);
    let key = f.root.rpc(RAM, "CreateAccessKey", &[("UserName", "s")]).body;
    let secret = key["AccessKey"]["AccessKeySecret"].as_str().unwrap();
    let (status, state) = admin(&f.base, f.token(), "GET", "state", None);
    assert_eq!(status, 200);
    assert_eq!(state["ram"]["users"][0]["AccessKeys"][0]["AccessKeyId"], key["AccessKey"]["AccessKeyId"]);
    assert!(!state.to_string().contains(secret));
    assert_eq!(state["cs"]["clusters"][0]["nodepools"].as_array().unwrap().len(), 2);
}

#[test]
fn sandbox_env_has_credentials_endpoints_and_seeded_ids() {
    let f = Fixture::start(50);
    let env = f.env();
    let get =
        |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_else(|| panic!("{k} missing"));
    assert_eq!(get("ALIBABA_CLOUD_REGION"), "cn-hangzhou");
    for svc in ["RAM", "CS", "VPC", "ECS"] {
        assert_eq!(get(&format!("HYBRID_ENDPOINT_{svc}")), f.base);
    }
    let creds = Credentials::new(&get("ALIBABA_CLOUD_ACCESS_KEY_ID"), &get("ALIBABA_CLOUD_ACCESS_KEY_SECRET"));
    let client = Client::new(&get("HYBRID_ENDPOINT_CS"), creds);
    let cid = get("TF_VAR_cluster_id");
    let d = client.roa("GET", &format!("/clusters/{cid}"), "DescribeClusterDetail", &[], None);
    assert_eq!(d.body["cluster_type"], "ExternalKubernetes");
    assert_eq!(d.body["vpc_id"], get("TF_VAR_vpc_id"));
    let vsw: Value = serde_json::from_str(&get("TF_VAR_vswitch_ids")).unwrap();
    assert_eq!(vsw.as_object().unwrap().keys().collect::<Vec<_>>(), ["cn-hangzhou-h", "cn-hangzhou-i"]);
    let pools: Vec<String> = serde_json::from_str(&get("TF_VAR_node_pool_ids")).unwrap();
    let listed = client.roa("GET", &format!("/clusters/{cid}/nodepools"), "DescribeClusterNodePools", &[], None);
    let ids: Vec<&str> = listed.body["nodepools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["nodepool_info"]["nodepool_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, pools);
    assert!(get("TF_VAR_security_group_id").starts_with("sg-"));
    let _ = CS;
}

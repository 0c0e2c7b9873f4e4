//! The raw HTTP API against the Kubernetes API conventions: status codes, Status bodies,
//! optimistic concurrency, metadata semantics, discovery, custom resources and fault hooks.

mod common;

use common::{start, Sandbox};
use hybrid_sandbox::Scenario;
use serde_json::{json, Value};

fn call(sb: &Sandbox, method: &str, path: &str, ct: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let c = sb.http();
    let mut rb = c.request(method.parse().unwrap(), sb.url(path)).header("Authorization", sb.bearer());
    if let Some(b) = body {
        let text =
            if ct == Some("application/apply-patch+yaml") { serde_yaml::to_string(&b).unwrap() } else { b.to_string() };
        rb = rb.header("Content-Type", ct.unwrap_or("application/json")).body(text);
    }
    let resp = rb.send().expect("request sent");
    let code = resp.status().as_u16();
    let bytes = resp.bytes().unwrap();
    (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn req(sb: &Sandbox, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    call(sb, method, path, None, body)
}

const CM: &str = "/api/v1/namespaces/default/configmaps";

fn cm(name: &str, data: Value) -> Value {
    json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name": name},"data": data})
}

// API conventions "Response Status Kind": 401 without the kubeconfig's bearer token.
#[test]
fn unauthorized_without_token() {
    let sb = start(Scenario::Host);
    let r = sb.http().get(sb.url("/api/v1/namespaces")).send().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let v: Value = r.json().unwrap();
    assert_eq!(
        v,
        json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})
    );
    let r = sb.http().get(sb.url("/api/v1/namespaces")).header("Authorization", "Bearer wrong").send().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // /version is public, as with anonymous discovery on real clusters.
    assert_eq!(sb.http().get(sb.url("/version")).send().unwrap().status().as_u16(), 200);
}

// API concepts "Discovery API": unaggregated documents, served as application/json even when the
// aggregated form is preferred, so clients fall back.
#[test]
fn discovery_documents() {
    let sb = start(Scenario::Bgp);
    let r = sb
        .http()
        .get(sb.url("/apis"))
        .header("Authorization", sb.bearer())
        .header("Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json")
        .send()
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/json");
    let v: Value = r.json().unwrap();
    assert_eq!(v["kind"], json!("APIGroupList"));
    let groups: Vec<&str> = v["groups"].as_array().unwrap().iter().filter_map(|g| g["name"].as_str()).collect();
    assert!(groups.contains(&"crd.projectcalico.org"), "{groups:?}");
    let (c, core) = req(&sb, "GET", "/api/v1", None);
    assert_eq!(c, 200);
    let cmres = core["resources"].as_array().unwrap().iter().find(|r| r["name"] == "configmaps").unwrap();
    assert_eq!(cmres["namespaced"], json!(true));
    assert_eq!(cmres["shortNames"], json!(["cm"]));
    let (_, calico) = req(&sb, "GET", "/apis/crd.projectcalico.org/v1", None);
    let pool = calico["resources"].as_array().unwrap().iter().find(|r| r["name"] == "ippools").unwrap();
    assert_eq!(pool["kind"], json!("IPPool"));
    assert_eq!(pool["namespaced"], json!(false));
    assert_eq!(req(&sb, "GET", "/apis/nope/v1", None).0, 404);
    assert_eq!(req(&sb, "GET", "/openapi/v2", None).0, 404);
    let (_, v) = req(&sb, "GET", "/version", None);
    assert_eq!(v["gitVersion"], json!("v1.32.4"));
}

// API conventions "Metadata" (uid, resourceVersion, creationTimestamp, generation) and "Concurrency
// Control and Consistency" (409 on a stale resourceVersion, unconditional update without one).
#[test]
fn metadata_and_optimistic_concurrency() {
    let sb = start(Scenario::Host);
    let (c, created) = req(&sb, "POST", CM, Some(cm("a", json!({"k":"1"}))));
    assert_eq!(c, 201);
    let uid = created["metadata"]["uid"].clone();
    let rv1: u64 = created["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
    assert!(created["metadata"]["creationTimestamp"].as_str().unwrap().ends_with('Z'));
    assert!(created["metadata"].get("generation").is_none(), "ConfigMaps have no generation");
    let (c, dup) = req(&sb, "POST", CM, Some(cm("a", json!({}))));
    assert_eq!(c, 409);
    assert_eq!(dup["reason"], json!("AlreadyExists"));
    assert_eq!(dup["message"], json!("configmaps \"a\" already exists"));

    let mut upd = created.clone();
    upd["data"]["k"] = json!("2");
    let (c, updated) = req(&sb, "PUT", &format!("{CM}/a"), Some(upd.clone()));
    assert_eq!(c, 200);
    let rv2: u64 = updated["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
    assert!(rv2 > rv1);
    assert_eq!(updated["metadata"]["uid"], uid);
    // The same stale body again: conflict.
    let (c, conflict) = req(&sb, "PUT", &format!("{CM}/a"), Some(upd));
    assert_eq!(c, 409);
    assert_eq!(
        conflict,
        json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
               "message":"Operation cannot be fulfilled on configmaps \"a\": the object has been modified; please apply your changes to the latest version and try again",
               "reason":"Conflict","details":{"name":"a","kind":"configmaps"},"code":409})
    );
    // Without resourceVersion the update is unconditional.
    let (c, _) = req(&sb, "PUT", &format!("{CM}/a"), Some(cm("a", json!({"k":"3"}))));
    assert_eq!(c, 200);
    // PUT to a missing object is a 404 (ConfigMaps do not allow create-on-update).
    let (c, nf) = req(&sb, "PUT", &format!("{CM}/zz"), Some(cm("zz", json!({}))));
    assert_eq!(c, 404);
    assert_eq!(nf["details"], json!({"name":"zz","kind":"configmaps"}));
}

// API conventions "Spec and Status": generation counts spec changes only; status is ignored on the
// main resource of kinds with a status subresource.
#[test]
fn generation_tracks_spec_changes() {
    let sb = start(Scenario::Bgp);
    let path = "/apis/apps/v1/namespaces/kube-system/daemonsets/calico-node";
    let ct = Some("application/merge-patch+json");
    let (c, ds) = call(&sb, "PATCH", path, ct, Some(json!({"metadata":{"labels":{"x":"y"}}})));
    assert_eq!(c, 200);
    assert_eq!(ds["metadata"]["generation"], json!(1), "a label is not a spec change");
    let (_, ds) = call(&sb, "PATCH", path, ct, Some(json!({"spec":{"minReadySeconds":5},"status":{"numberReady":99}})));
    assert_eq!(ds["metadata"]["generation"], json!(2));
    assert_eq!(ds["status"]["numberReady"], json!(5), "status comes from the controller, not the main resource");
    assert_eq!(ds["status"]["observedGeneration"], json!(2));
}

// API conventions "HTTP Status codes" 422 with causes; 400 for undecodable bodies.
#[test]
fn validation_errors() {
    let sb = start(Scenario::Host);
    let (c, e) = req(&sb, "POST", CM, Some(cm("Bad_Name", json!({}))));
    assert_eq!(c, 422);
    assert_eq!(e["reason"], json!("Invalid"));
    assert_eq!(e["details"]["kind"], json!("ConfigMap"));
    assert_eq!(e["details"]["causes"][0]["field"], json!("metadata.name"));
    let (c, e) = req(&sb, "POST", CM, Some(cm("n", json!({"k": 1}))));
    assert_eq!(c, 400);
    assert_eq!(e["reason"], json!("BadRequest"));
    let (c, _) = req(&sb, "POST", "/api/v1/namespaces/missing/configmaps", Some(cm("x", json!({}))));
    assert_eq!(c, 404);
    let ds = json!({"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"a":"b"}},
        "template":{"metadata":{"labels":{"a":"c"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}});
    let (c, e) = req(&sb, "POST", "/apis/apps/v1/namespaces/default/daemonsets", Some(ds));
    assert_eq!(c, 422);
    assert!(
        e["message"].as_str().unwrap().starts_with("DaemonSet.apps \"d\" is invalid: spec.template.metadata.labels"),
        "{e}"
    );
    let (c, e) = call(
        &sb,
        "POST",
        &format!("{CM}?fieldValidation=Strict"),
        None,
        Some(json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"s"},"spec":{}})),
    );
    assert_eq!(c, 400, "{e}");
    assert!(e["message"].as_str().unwrap().contains("unknown field \"spec\""));
}

// API concepts "API verbs" / "Patch": unsupported verbs, media types and subresources answer 405/415/404, never success.
#[test]
fn unsupported_requests_are_refused() {
    let sb = start(Scenario::Bgp);
    let (c, e) = req(&sb, "POST", "/api/v1/namespaces/kube-system/configmaps/kube-root-ca.crt", Some(json!({})));
    assert_eq!(c, 405);
    assert_eq!(e["reason"], json!("MethodNotAllowed"));
    let (c, e) = call(
        &sb,
        "PATCH",
        "/apis/crd.projectcalico.org/v1/ippools/default-ipv4-ippool",
        Some("application/strategic-merge-patch+json"),
        Some(json!({})),
    );
    assert_eq!(c, 415);
    assert_eq!(e["message"], json!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"));
    let (c, _) = call(&sb, "POST", CM, Some("text/plain"), Some(json!({})));
    assert_eq!(c, 415);
    let (c, e) = call(&sb, "POST", CM, Some("application/vnd.kubernetes.protobuf"), Some(json!({})));
    assert_eq!(c, 400, "not a protobuf envelope: {e}");
    let (c, _) = req(&sb, "GET", "/api/v1/namespaces/kube-system/configmaps/kube-root-ca.crt/status", None);
    assert_eq!(c, 404, "ConfigMaps have no status subresource");
    let (c, _) = req(&sb, "GET", "/api/v1/namespaces/default/widgets", None);
    assert_eq!(c, 404);
}

// API conventions "List Operations": labelSelector and fieldSelector.
#[test]
fn list_selectors() {
    let sb = start(Scenario::Bgp);
    let (c, l) = req(&sb, "GET", "/api/v1/nodes?labelSelector=alibabacloud.com%2Fexternal%3Dtrue", None);
    assert_eq!(c, 200);
    assert_eq!(l["kind"], json!("NodeList"));
    let names: Vec<&str> =
        l["items"].as_array().unwrap().iter().filter_map(|n| n["metadata"]["name"].as_str()).collect();
    assert_eq!(names, vec!["cn-hangzhou.172.16.1.10", "cn-hangzhou.172.16.2.10"]);
    let (_, l) = req(&sb, "GET", "/api/v1/nodes?labelSelector=alibabacloud.com%2Fexternal%21%3Dtrue", None);
    assert_eq!(l["items"].as_array().unwrap().len(), 3);
    let (_, l) = req(&sb, "GET", "/api/v1/configmaps?fieldSelector=metadata.name%3Dkube-root-ca.crt", None);
    assert_eq!(l["items"].as_array().unwrap().len(), 1);
    assert_eq!(req(&sb, "GET", "/api/v1/configmaps?fieldSelector=data.x%3D1", None).0, 400);
}

// API conventions "Delete": the Status of an immediate delete; finalizers keep the object with
// deletionTimestamp (202) until the last finalizer is removed.
#[test]
fn delete_semantics() {
    let sb = start(Scenario::Host);
    let (_, created) = req(&sb, "POST", CM, Some(cm("gone", json!({}))));
    let (c, s) = req(&sb, "DELETE", &format!("{CM}/gone"), None);
    assert_eq!(c, 200);
    assert_eq!(
        s,
        json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success",
                         "details":{"name":"gone","kind":"configmaps","uid": created["metadata"]["uid"]}})
    );
    let mut f = cm("held", json!({}));
    f["metadata"]["finalizers"] = json!(["example.com/hold"]);
    req(&sb, "POST", CM, Some(f));
    let (c, held) = req(&sb, "DELETE", &format!("{CM}/held"), None);
    assert_eq!(c, 202);
    assert!(held["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(req(&sb, "GET", &format!("{CM}/held"), None).0, 200);
    let (c, _) = call(
        &sb,
        "PATCH",
        &format!("{CM}/held"),
        Some("application/merge-patch+json"),
        Some(json!({"metadata":{"finalizers":null}})),
    );
    assert_eq!(c, 200);
    assert_eq!(req(&sb, "GET", &format!("{CM}/held"), None).0, 404);
    // Preconditions.
    req(&sb, "POST", CM, Some(cm("pre", json!({}))));
    let (c, _) = req(&sb, "DELETE", &format!("{CM}/pre"), Some(json!({"preconditions":{"uid":"nope"}})));
    assert_eq!(c, 409);
}

// API concepts "Dry-run": dryRun=All answers as if written and persists nothing.
#[test]
fn dry_run_persists_nothing() {
    let sb = start(Scenario::Host);
    let (c, v) = req(&sb, "POST", &format!("{CM}?dryRun=All"), Some(cm("dry", json!({"k":"v"}))));
    assert_eq!(c, 201);
    assert_eq!(v["data"]["k"], json!("v"));
    assert_eq!(req(&sb, "GET", &format!("{CM}/dry"), None).0, 404);
}

// CustomResourceDefinition docs: a created CRD is served (discovery + CRUD); deleting it removes its objects.
#[test]
fn crd_lifecycle() {
    let sb = start(Scenario::Bgp);
    let crd = hybrid_sandbox::kube::seed::tigera_installation_crd();
    let (c, created) = req(&sb, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", Some(crd));
    assert_eq!(c, 201);
    assert_eq!(created["status"]["conditions"][1]["type"], json!("Established"));
    let inst = json!({"apiVersion":"operator.tigera.io/v1","kind":"Installation","metadata":{"name":"default"},"spec":{"variant":"Calico"}});
    let (c, _) = req(&sb, "POST", "/apis/operator.tigera.io/v1/installations", Some(inst));
    assert_eq!(c, 201);
    let (_, list) = req(&sb, "GET", "/apis/operator.tigera.io/v1/installations", None);
    assert_eq!(list["kind"], json!("InstallationList"));
    assert_eq!(list["items"][0]["kind"], json!("Installation"), "custom resource lists keep item type meta");
    let (c, _) = req(
        &sb,
        "DELETE",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/installations.operator.tigera.io",
        None,
    );
    assert_eq!(c, 200);
    assert_eq!(req(&sb, "GET", "/apis/operator.tigera.io/v1/installations", None).0, 404);
}

// Server-Side Apply docs: apply creates (201) and then updates (200); the conflict Status has the
// apiserver's shape with FieldManagerConflict causes.
#[test]
fn apply_over_http() {
    let sb = start(Scenario::Host);
    let ct = Some("application/apply-patch+yaml");
    let path = format!("{CM}/applied?fieldManager=tf");
    let (c, v) = call(&sb, "PATCH", &path, ct, Some(cm("applied", json!({"a":"1"}))));
    assert_eq!(c, 201, "{v}");
    let (c, _) = call(&sb, "PATCH", &path, ct, Some(cm("applied", json!({"a":"1","b":"2"}))));
    assert_eq!(c, 200);
    let (c, e) =
        call(&sb, "PATCH", &format!("{CM}/applied?fieldManager=other"), ct, Some(cm("applied", json!({"b":"3"}))));
    assert_eq!(c, 409);
    assert_eq!(
        e,
        json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
        "message":"Apply failed with 1 conflict: conflict with \"tf\": .data.b","reason":"Conflict",
        "details":{"causes":[{"reason":"FieldManagerConflict","message":"conflict with \"tf\"","field":".data.b"}]},"code":409})
    );
    let (c, _) = call(&sb, "PATCH", &format!("{CM}/applied"), ct, Some(cm("applied", json!({}))));
    assert_eq!(c, 400, "apply requires a field manager");
    let (c, v) =
        call(&sb, "PATCH", &format!("{CM}/applied?fieldManager=tf"), ct, Some(cm("applied", json!({"a":"1"}))));
    assert_eq!(c, 200);
    assert!(v["data"].get("b").is_none(), "fields the applier dropped are removed");
}

// Server-side apply docs ("Using Server-Side Apply in a controller"): a resourceVersion in the applied
// configuration is a precondition; a stale one answers 409 Conflict, the current one applies.
#[test]
fn apply_honours_a_resource_version_precondition() {
    let sb = start(Scenario::Host);
    let ct = Some("application/apply-patch+yaml");
    let path = format!("{CM}/guarded?fieldManager=tf");
    let (c, v) = call(&sb, "PATCH", &path, ct, Some(cm("guarded", json!({"a":"1"}))));
    assert_eq!(c, 201, "{v}");
    let rv = v["metadata"]["resourceVersion"].as_str().unwrap().to_string();
    // Someone else writes: our version is stale now.
    let (c, _) = call(
        &sb,
        "PATCH",
        &format!("{CM}/guarded"),
        Some("application/merge-patch+json"),
        Some(json!({"data":{"x":"y"}})),
    );
    assert_eq!(c, 200);
    let mut stale = cm("guarded", json!({"a":"2"}));
    stale["metadata"]["resourceVersion"] = json!(rv);
    let (c, e) = call(&sb, "PATCH", &path, ct, Some(stale));
    assert_eq!((c, e["reason"].as_str()), (409, Some("Conflict")), "{e}");
    let (_, now) = req(&sb, "GET", &format!("{CM}/guarded"), None);
    let mut fresh = cm("guarded", json!({"a":"2"}));
    fresh["metadata"]["resourceVersion"] = now["metadata"]["resourceVersion"].clone();
    let (c, v) = call(&sb, "PATCH", &path, ct, Some(fresh));
    assert_eq!(c, 200, "{v}");
    assert_eq!(v["data"]["a"], "2");
}

// Fault hooks: fail_next answers 429 with Retry-After, then 503; the admin API switches faults off.
#[test]
fn fault_admin_api() {
    let sb = start(Scenario::Host);
    let c = sb.http();
    let r = c
        .post(sb.url("/__sandbox/faults"))
        .header("Authorization", sb.bearer())
        .body(r#"{"fail_next":[429,503],"retry_after_seconds":2}"#)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = c.get(sb.url(CM)).header("Authorization", sb.bearer()).send().unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    let v: Value = r.json().unwrap();
    assert_eq!(v["reason"], json!("TooManyRequests"));
    assert_eq!(v["details"]["retryAfterSeconds"], json!(2));
    let r = c.get(sb.url(CM)).header("Authorization", sb.bearer()).send().unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(c.get(sb.url(CM)).header("Authorization", sb.bearer()).send().unwrap().status().as_u16(), 200);
    // Conflicts on writes at rate 1, then off again.
    sb.running.faults.update(&json!({"rate_conflict": 1.0})).unwrap();
    let (code, _) = call(
        &sb,
        "PATCH",
        "/api/v1/namespaces/kube-system/configmaps/kube-root-ca.crt",
        Some("application/merge-patch+json"),
        Some(json!({})),
    );
    assert_eq!(code, 409);
    let r = c.delete(sb.url("/__sandbox/faults")).header("Authorization", sb.bearer()).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(sb.running.faults.get(), hybrid_sandbox::FaultConfig::default());
    let r = c.post(sb.url("/__sandbox/faults")).body("{}").send().unwrap();
    assert_eq!(r.status().as_u16(), 401, "the admin API needs the token too");
    let r = c
        .post(sb.url("/__sandbox/faults"))
        .header("Authorization", sb.bearer())
        .body(r#"{"rate_429":7}"#)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

// The files a test or script uses: kubeconfig with CA data and token, sandbox.env exports.
#[test]
fn files_are_written() {
    let sb = start(Scenario::Overlay);
    let kc = std::fs::read_to_string(sb.running.kubeconfig_path.as_ref().unwrap()).unwrap();
    assert!(kc.contains(&format!("server: {}", sb.running.base_url)));
    assert!(kc.contains("certificate-authority-data: "));
    assert!(kc.contains(&format!("token: {}", sb.running.token)));
    sb.running.append_env(&[("ALIBABA_CLOUD_ENDPOINT", "https://127.0.0.1:1".into())]).unwrap();
    let env = std::fs::read_to_string(sb.dir.path().join("sandbox.env")).unwrap();
    assert!(env.contains("export KUBECONFIG='"));
    assert!(env.contains("export HYBRID_SANDBOX_SCENARIO='overlay'"));
    assert!(env.ends_with("export ALIBABA_CLOUD_ENDPOINT='https://127.0.0.1:1'\n"));
}

// The in-process store is what the HTTP API serves (the cloud side's addon install path).
#[test]
fn store_changes_are_visible_over_http() {
    let sb = start(Scenario::Bgp);
    hybrid_sandbox::kube::addons::install_terway_eniip(&sb.running.store, "v1.9.0", "cn-hangzhou").unwrap();
    let (c, ds) = req(&sb, "GET", "/apis/apps/v1/namespaces/kube-system/daemonsets/terway-eniip", None);
    assert_eq!(c, 200);
    assert_eq!(ds["status"]["desiredNumberScheduled"], json!(2));
    sb.running.store.set_node_labels("idc-worker-2", &[("alibabacloud.com/external", Some("true"))], "test").unwrap();
    let (_, ds) = req(&sb, "GET", "/apis/apps/v1/namespaces/kube-system/daemonsets/terway-eniip", None);
    assert_eq!(ds["status"]["desiredNumberScheduled"], json!(3), "DaemonSet status follows node labels");
}

// Extra listeners (the cloud APIs) share the in-process store and serve with the sandbox CA.
#[test]
fn extra_listener_shares_the_store() {
    use axum::routing::get;
    let dir = tempfile::tempdir().unwrap();
    let opts =
        hybrid_sandbox::SandboxOptions::for_test(dir.path(), Scenario::Bgp).listener("probe", 0, true, |shared| {
            let store = shared.store.clone();
            axum::Router::new().route(
                "/nodes",
                get(move || async move {
                    let n =
                        store.list(&hybrid_sandbox::kube::ResourceRef::nodes(), None, None, None).unwrap().items.len();
                    n.to_string()
                }),
            )
        });
    let running = hybrid_sandbox::start(opts).unwrap();
    let url = running.listeners["probe"].clone();
    let sb = Sandbox { running, dir };
    let body = sb.http().get(format!("{url}/nodes")).send().unwrap().text().unwrap();
    assert_eq!(body, "5");
}

// API concepts "Efficient detection of changes": list, then watch from the list's resourceVersion and
// receive the later changes as ADDED / MODIFIED / DELETED events, filtered by labelSelector.
#[test]
fn watch_streams_changes() {
    use std::io::{BufRead, BufReader};
    let sb = start(Scenario::Host);
    let (_, list) = req(&sb, "GET", CM, None);
    let rv = list["metadata"]["resourceVersion"].as_str().unwrap().to_string();
    let resp = sb
        .http()
        .get(sb.url(&format!("{CM}?watch=true&resourceVersion={rv}&labelSelector=app%3Dw&timeoutSeconds=5")))
        .header("Authorization", sb.bearer())
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let mut labelled = cm("w", json!({"k":"1"}));
    labelled["metadata"]["labels"] = json!({"app":"w"});
    req(&sb, "POST", CM, Some(cm("ignored", json!({}))));
    req(&sb, "POST", CM, Some(labelled));
    call(&sb, "PATCH", &format!("{CM}/w"), Some("application/merge-patch+json"), Some(json!({"data":{"k":"2"}})));
    req(&sb, "DELETE", &format!("{CM}/w"), None);
    let events: Vec<Value> =
        BufReader::new(resp).lines().take(3).map(|l| serde_json::from_str(&l.unwrap()).unwrap()).collect();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(kinds, vec!["ADDED", "MODIFIED", "DELETED"]);
    assert_eq!(events[1]["object"]["data"]["k"], json!("2"));
    assert!(events.iter().all(|e| e["object"]["metadata"]["name"] == "w"));
}

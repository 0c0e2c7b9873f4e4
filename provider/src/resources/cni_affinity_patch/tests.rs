//! The writes and the target detection against the in-process sandbox API server.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Value as Json};

use super::target::{self, Target};
use super::terms;
use super::{write, Edit};
use crate::clients::kubernetes::Kube;
use crate::provider::KubernetesSettings;
use hybrid_sandbox::kube::{PatchKind, ResourceRef, WriteOptions};
use hybrid_sandbox::{SandboxOptions, Scenario};

struct Env {
    sb: hybrid_sandbox::Running,
    kube: Kube,
    _dir: tempfile::TempDir,
}

async fn start(scenario: Scenario) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let sb = hybrid_sandbox::start(SandboxOptions::for_test(dir.path(), scenario)).unwrap();
    let settings = KubernetesSettings {
        host: Some(sb.base_url.clone()),
        token: Some(sb.token.clone()),
        cluster_ca_certificate: Some(sb.ca_pem.clone()),
        ..Default::default()
    };
    let kube = Kube::connect(&settings).await.unwrap();
    Env { sb, kube, _dir: dir }
}

fn calico(env: &Env, ns: &str) -> Json {
    env.sb.store.get(&ResourceRef::daemonsets(), Some(ns), "calico-node").unwrap()
}

fn ours() -> Json {
    terms::expression("alibabacloud.com/external", &["true".into()])
}

#[tokio::test(flavor = "multi_thread")]
async fn cni_affinity_concurrent_writer_between_read_and_write_loses_nothing() {
    let env = start(Scenario::Bgp).await;
    let chain = Target::DaemonSet.chain();
    let expr = ours();
    let edit = Edit { chain: chain.clone(), prior: None, expression: Some(&expr) };
    let calls = AtomicUsize::new(0);
    let store = env.sb.store.clone();
    // Another client writes the DaemonSet right after our read, twice: both our PUTs carry a
    // stale resourceVersion, get 409 and start over from a fresh read.
    let record = write(&env.kube, &target::daemonset_path("kube-system", "calico-node"), &edit, || {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        if n < 2 {
            let patch = json!({"metadata": {"annotations": {format!("other-writer/{n}"): "x"}}});
            store
                .patch(
                    &ResourceRef::daemonsets(),
                    Some("kube-system"),
                    "calico-node",
                    PatchKind::Merge,
                    &patch,
                    &WriteOptions::manager("other"),
                )
                .unwrap();
        }
    })
    .await
    .unwrap()
    .unwrap()
    .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3, "two conflicts, then the write went through");
    let ds = calico(&env, "kube-system");
    assert_eq!(ds["metadata"]["annotations"]["other-writer/0"], "x");
    assert_eq!(ds["metadata"]["annotations"]["other-writer/1"], "x");
    assert!(terms::in_effect(&ds, &chain, &expr));
    assert_eq!(record.patched_terms, 1);
    assert_eq!(record.uid, target::uid(&ds));
}

#[tokio::test(flavor = "multi_thread")]
async fn cni_affinity_undo_restores_the_seeded_affinity_and_ignores_a_recreated_daemonset() {
    let env = start(Scenario::Bgp).await;
    let before = calico(&env, "kube-system");
    let chain = Target::DaemonSet.chain();
    let expr = ours();
    let path = target::daemonset_path("kube-system", "calico-node");
    let add = Edit { chain: chain.clone(), prior: None, expression: Some(&expr) };
    let record = write(&env.kube, &path, &add, || {}).await.unwrap().unwrap().unwrap();
    let undo = Edit { chain: chain.clone(), prior: Some(&record), expression: None };
    write(&env.kube, &path, &undo, || {}).await.unwrap();
    let after = calico(&env, "kube-system");
    assert_eq!(after["spec"]["template"]["spec"]["affinity"], before["spec"]["template"]["spec"]["affinity"]);

    // Recreated with the expression already in it: the record names another uid, so nothing is ours.
    write(&env.kube, &path, &add, || {}).await.unwrap();
    let mut copy = calico(&env, "kube-system");
    env.sb.store.delete(&ResourceRef::daemonsets(), Some("kube-system"), "calico-node", &Default::default()).unwrap();
    for k in ["uid", "resourceVersion", "creationTimestamp", "managedFields", "generation"] {
        copy["metadata"].as_object_mut().unwrap().remove(k);
    }
    env.sb
        .store
        .create(&ResourceRef::daemonsets(), Some("kube-system"), copy, &WriteOptions::manager("kubectl"))
        .unwrap();
    write(&env.kube, &path, &undo, || {}).await.unwrap();
    assert!(terms::in_effect(&calico(&env, "kube-system"), &chain, &expr), "the new object's expression stays");
    // A DaemonSet that is gone is nothing to undo.
    env.sb.store.delete(&ResourceRef::daemonsets(), Some("kube-system"), "calico-node", &Default::default()).unwrap();
    assert!(write(&env.kube, &path, &undo, || {}).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn cni_affinity_detects_the_tigera_operator() {
    let env = start(Scenario::BgpOperator).await;
    let ds = calico(&env, "calico-system");
    assert_eq!(target::detect(&env.kube, &ds).await.unwrap(), Ok(Target::Installation("default".into())));
    // No owner reference, but the operator's Installation default exists: still the operator's.
    let mut bare = ds.clone();
    bare["metadata"].as_object_mut().unwrap().remove("ownerReferences");
    assert_eq!(target::detect(&env.kube, &bare).await.unwrap(), Ok(Target::Installation("default".into())));
    // Owned by an Installation that does not exist: refused with the reason.
    let mut orphan = ds.clone();
    orphan["metadata"]["ownerReferences"][0]["name"] = json!("gone");
    let why = target::detect(&env.kube, &orphan).await.unwrap().unwrap_err();
    assert!(why.contains("\"gone\""), "{why}");

    let manifest = start(Scenario::Bgp).await;
    let ds = calico(&manifest, "kube-system");
    assert_eq!(target::detect(&manifest.kube, &ds).await.unwrap(), Ok(Target::DaemonSet));
}

#[tokio::test(flavor = "multi_thread")]
async fn cni_affinity_installation_edit_is_rolled_out_by_the_operator() {
    let env = start(Scenario::BgpOperator).await;
    let target = Target::Installation("default".into());
    let expr = ours();
    let edit = Edit { chain: target.chain(), prior: None, expression: Some(&expr) };
    write(&env.kube, &target.path("calico-system", "calico-node"), &edit, || {}).await.unwrap().unwrap().unwrap();
    let ds = calico(&env, "calico-system");
    assert!(terms::in_effect(&ds, &Target::DaemonSet.chain(), &expr), "{}", ds["spec"]["template"]["spec"]);
}

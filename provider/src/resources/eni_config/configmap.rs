//! The ConfigMap side of `hybrid_eni_config`: read the two documents, write them by server-side
//! apply, remove them on destroy.
//!
//! Writes are server-side applies (field manager `terraform-provider-hybrid`, forced, so an
//! existing ConfigMap and keys another manager wrote are adopted) whose configuration holds only
//! `data.eni_conf` and `data.10-terway.conf`: every other key of the ConfigMap is left to its
//! owner. Because `eni_conf` is one string that also carries keys we do not model, the document
//! is computed over the one read, and the apply carries that read's resourceVersion as a
//! precondition: when someone writes in between, the API server answers 409 and we start over
//! from a fresh read, so their change is not lost.

use std::time::Duration;

use serde_json::{json, Map, Value as Json};

use super::model::{same_json, Model, CNI_CONF, ENI_CONF};
use crate::clients::kubernetes::{Kube, KubeError, ResourceType, FIELD_MANAGER};

/// How often a write or destroy starts over after a 409 Conflict.
const MAX_CONFLICTS: u32 = 8;

fn data(cm: &Json) -> Option<&Map<String, Json>> {
    cm.get("data").and_then(Json::as_object)
}

fn text<'a>(cm: &'a Json, key: &str) -> Option<&'a str> {
    data(cm).and_then(|d| d.get(key)).and_then(Json::as_str)
}

fn resource_version(cm: &Json) -> Option<&str> {
    cm.pointer("/metadata/resourceVersion").and_then(Json::as_str).filter(|rv| !rv.is_empty())
}

async fn back_off(conflicts: u32) {
    tokio::time::sleep(Duration::from_millis(50 * u64::from(conflicts))).await;
}

/// Whether our manager's Apply entry owns both keys (after an apply it does, unless someone
/// else has since changed them).
fn owns_our_keys(cm: &Json) -> bool {
    cm.pointer("/metadata/managedFields").and_then(Json::as_array).into_iter().flatten().any(|e| {
        e["manager"] == FIELD_MANAGER
            && e["operation"] == "Apply"
            && [ENI_CONF, CNI_CONF].iter().all(|k| e["fieldsV1"]["f:data"].get(format!("f:{k}")).is_some())
    })
}

/// The state found in the ConfigMap; `None` when the ConfigMap or its `eni_conf` key is missing.
pub async fn read(kube: &Kube, namespace: &str, name: &str) -> Result<Option<Model>, KubeError> {
    let path = ResourceType::CONFIGMAPS.object(Some(namespace), name);
    let cm: Option<Json> = kube.get(&path).await?;
    Ok(cm.as_ref().and_then(data).and_then(|d| Model::from_data(namespace, name, d)))
}

/// The apply configuration for `m` given the ConfigMap found (`None`: absent). `None` when the
/// ConfigMap already says the same and the keys are ours: nothing to write.
fn apply_config(m: &Model, current: Option<&Json>) -> Option<Json> {
    let eni = m.eni_conf(current.and_then(|c| text(c, ENI_CONF)));
    let cni = m.cni_conf(current.and_then(|c| text(c, CNI_CONF)));
    if let Some(cm) = current {
        if same_json(text(cm, ENI_CONF), &eni) && same_json(text(cm, CNI_CONF), &cni) && owns_our_keys(cm) {
            return None;
        }
    }
    let mut metadata = json!({ "name": m.name(), "namespace": m.namespace() });
    if let Some(rv) = current.and_then(resource_version) {
        metadata["resourceVersion"] = json!(rv);
    }
    Some(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata,
        "data": { ENI_CONF: eni, CNI_CONF: cni },
    }))
}

/// Writes `m`'s keys, creating the ConfigMap when absent. Returns whether this call created it.
pub async fn write(kube: &Kube, m: &Model) -> Result<bool, KubeError> {
    let path = m.path();
    let mut conflicts = 0;
    loop {
        let current: Option<Json> = kube.get(&path).await?;
        let Some(config) = apply_config(m, current.as_ref()) else { return Ok(false) };
        match kube.apply::<Json>(&path, &config, true).await {
            Ok(_) => return Ok(current.is_none()),
            Err(e) if e.is_conflict() && conflicts < MAX_CONFLICTS => {
                conflicts += 1;
                tracing::debug!(path, conflicts, "ConfigMap changed since it was read; applying again");
                back_off(conflicts).await;
            }
            Err(e) => return Err(e),
        }
    }
}

fn entries(cm: &Json) -> usize {
    ["data", "binaryData"].iter().map(|k| cm.get(*k).and_then(Json::as_object).map_or(0, Map::len)).sum()
}

/// Removes our two keys. The ConfigMap itself is deleted only when `created` (this resource made
/// it) and nothing else is left in it; the delete is guarded by the resourceVersion just written,
/// so a key someone adds meanwhile keeps the ConfigMap alive.
pub async fn remove(kube: &Kube, m: &Model, created: bool) -> Result<(), KubeError> {
    let path = m.path();
    let mut conflicts = 0;
    loop {
        let stored = kube
            .read_modify_write(&path, |cm| {
                if text(cm, ENI_CONF).is_none() && text(cm, CNI_CONF).is_none() {
                    return Ok(None);
                }
                let mut next = cm.clone();
                if let Some(d) = next.get_mut("data").and_then(Json::as_object_mut) {
                    d.remove(ENI_CONF);
                    d.remove(CNI_CONF);
                }
                Ok(Some(next))
            })
            .await?;
        let Some(cm) = stored else { return Ok(()) };
        if !created || entries(&cm) > 0 {
            return Ok(());
        }
        match kube.delete(&path, resource_version(&cm)).await {
            Ok(_) => return Ok(()),
            Err(e) if e.is_conflict() && conflicts < MAX_CONFLICTS => {
                conflicts += 1;
                back_off(conflicts).await;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::tests::seed_model;
    use super::*;
    use crate::provider::KubernetesSettings;
    use hybrid_sandbox::kube::{PatchKind, ResourceRef, WriteOptions};
    use hybrid_sandbox::{SandboxOptions, Scenario};

    struct Env {
        sb: hybrid_sandbox::Running,
        kube: Kube,
        _dir: tempfile::TempDir,
    }

    async fn start() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let sb = hybrid_sandbox::start(SandboxOptions::for_test(dir.path(), Scenario::Bgp)).unwrap();
        let settings = KubernetesSettings {
            host: Some(sb.base_url.clone()),
            token: Some(sb.token.clone()),
            cluster_ca_certificate: Some(sb.ca_pem.clone()),
            ..Default::default()
        };
        let kube = Kube::connect(&settings).await.unwrap();
        Env { sb, kube, _dir: dir }
    }

    fn configmaps() -> ResourceRef {
        ResourceRef::new("", "v1", "configmaps")
    }

    /// A write by another client (as kubectl would do), under its own field manager.
    fn kubectl_merge(env: &Env, patch: Json) {
        let opts = WriteOptions::manager("kubectl-patch");
        env.sb.store.patch(&configmaps(), Some("kube-system"), "eni-config", PatchKind::Merge, &patch, &opts).unwrap();
    }

    fn stored(env: &Env) -> Option<Json> {
        env.sb.store.get(&configmaps(), Some("kube-system"), "eni-config").ok()
    }

    fn doc(cm: &Json, key: &str) -> Json {
        serde_json::from_str(text(cm, key).unwrap()).unwrap()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn creates_owns_only_its_keys_and_keeps_everything_else() {
        let env = start().await;
        let m = seed_model();
        assert!(write(&env.kube, &m).await.unwrap(), "created");
        let cm = stored(&env).unwrap();
        assert_eq!(doc(&cm, ENI_CONF)["max_pool_size"], 5);
        assert_eq!(doc(&cm, CNI_CONF)["type"], "terway");
        let ours: Vec<&Json> = cm["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["manager"] == FIELD_MANAGER)
            .collect();
        assert_eq!(ours.len(), 1);
        assert_eq!(ours[0]["operation"], "Apply");
        let mut owned: Vec<&String> = ours[0]["fieldsV1"]["f:data"].as_object().unwrap().keys().collect();
        owned.sort();
        assert_eq!(owned, ["f:10-terway.conf", "f:eni_conf"]);

        // Unchanged: no write at all.
        let rv_before = resource_version(&cm).unwrap().to_string();
        assert!(!write(&env.kube, &m).await.unwrap());
        assert_eq!(resource_version(&stored(&env).unwrap()).unwrap(), rv_before, "no-op write changed the object");

        // Someone adds a key of their own and a key Terway reads that we do not model.
        let mut eni = doc(&cm, ENI_CONF);
        eni["ip_pool_sync_period"] = json!("120s");
        kubectl_merge(&env, json!({"data": {"note": "kept", ENI_CONF: eni.to_string()}}));

        let bigger = Model { max_pool_size: Some(9), ..m.clone() };
        assert!(!write(&env.kube, &bigger).await.unwrap(), "existing ConfigMap is not 'created'");
        let cm = stored(&env).unwrap();
        assert_eq!(cm["data"]["note"], "kept");
        let eni = doc(&cm, ENI_CONF);
        assert_eq!(eni["max_pool_size"], 9);
        assert_eq!(eni["ip_pool_sync_period"], "120s", "unmodelled key dropped");
        assert!(owns_our_keys(&cm));

        // Destroy: our keys go, the ConfigMap stays for the foreign key.
        remove(&env.kube, &m, true).await.unwrap();
        let cm = stored(&env).unwrap();
        assert_eq!(cm["data"].as_object().unwrap().keys().collect::<Vec<_>>(), ["note"]);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn adopts_an_existing_configmap_and_never_deletes_it() {
        let env = start().await;
        let cm = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "eni-config", "namespace": "kube-system"},
            "data": {ENI_CONF: "{\"max_pool_size\": 2, \"extra\": true}"},
        });
        env.sb.store.create(&configmaps(), Some("kube-system"), cm, &WriteOptions::manager("kubectl-create")).unwrap();
        let m = seed_model();
        assert!(!write(&env.kube, &m).await.unwrap());
        let cm = stored(&env).unwrap();
        assert!(owns_our_keys(&cm), "forced apply takes the keys over");
        assert_eq!(doc(&cm, ENI_CONF)["max_pool_size"], 5);
        assert_eq!(doc(&cm, ENI_CONF)["extra"], true);
        // Not created by us: emptied but kept.
        remove(&env.kube, &m, false).await.unwrap();
        let cm = stored(&env).expect("adopted ConfigMap deleted");
        assert_eq!(entries(&cm), 0);
        // Removing again is a no-op.
        remove(&env.kube, &m, false).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_configmap_we_created_is_deleted_when_empty() {
        let env = start().await;
        let m = seed_model();
        assert!(write(&env.kube, &m).await.unwrap());
        remove(&env.kube, &m, true).await.unwrap();
        assert!(stored(&env).is_none(), "ConfigMap left behind");
        remove(&env.kube, &m, true).await.unwrap();
        assert!(read(&env.kube, "kube-system", "eni-config").await.unwrap().is_none());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn reads_back_what_was_written_and_sees_edits() {
        let env = start().await;
        let m = seed_model();
        write(&env.kube, &m).await.unwrap();
        let found = read(&env.kube, "kube-system", "eni-config").await.unwrap().unwrap();
        assert_eq!(Model { id: None, namespace: None, name: None, ..found }, m);
        let cm = stored(&env).unwrap();
        let mut eni = doc(&cm, ENI_CONF);
        eni["access_secret"] = json!("rotated-elsewhere");
        kubectl_merge(&env, json!({"data": {ENI_CONF: eni.to_string()}}));
        let found = read(&env.kube, "kube-system", "eni-config").await.unwrap().unwrap();
        assert_eq!(found.access_secret.as_deref(), Some("rotated-elsewhere"), "a changed secret is drift");
        // Our keys were changed by someone else: the next write takes them back.
        assert!(!owns_our_keys(&stored(&env).unwrap()));
        write(&env.kube, &m).await.unwrap();
        assert_eq!(doc(&stored(&env).unwrap(), ENI_CONF)["access_secret"], "s3cret-value");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn conflicts_are_retried_from_a_fresh_read() {
        let env = start().await;
        let m = seed_model();
        write(&env.kube, &m).await.unwrap();
        env.sb.faults.update(&json!({"fail_next": [409, 409], "methods": ["PATCH"]})).unwrap();
        let bigger = Model { max_pool_size: Some(7), ..m };
        write(&env.kube, &bigger).await.unwrap();
        assert!(env.sb.faults.get().fail_next.is_empty(), "the injected conflicts were not hit");
        assert_eq!(doc(&stored(&env).unwrap(), ENI_CONF)["max_pool_size"], 7);
    }

    #[test]
    fn the_apply_configuration_is_guarded_and_minimal() {
        let m = seed_model();
        let fresh = apply_config(&m, None).unwrap();
        assert!(fresh["metadata"].get("resourceVersion").is_none(), "creation carries no resourceVersion");
        let found = json!({"metadata": {"resourceVersion": "42"}, "data": {"note": "x"}});
        let config = apply_config(&m, Some(&found)).unwrap();
        assert_eq!(config["metadata"]["resourceVersion"], "42");
        let mut keys: Vec<&String> = config["data"].as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["10-terway.conf", "eni_conf"], "only our keys are applied");
    }
}

//! Objects that installing ACK addons creates in the cluster, for the cloud side's addon APIs.

use crate::kube::resources::ResourceRef;
use crate::kube::status::ApiError;
use crate::kube::store::{DeleteOptions, Store, WriteOptions};
use serde_json::{json, Value};

pub const TERWAY_DAEMONSET: &str = "terway-eniip";
pub const ADDON_MANAGER: &str = "ack-addon-manager";

/// The `kube-system/terway-eniip` DaemonSet as the `terway-eniip` addon installs it: scheduled only
/// on cloud nodes (`alibabacloud.com/external=true`), images from the regional ACK registry.
pub fn terway_eniip_daemonset(version: &str, region: &str) -> Value {
    let image = |repo: &str| format!("registry-{region}-vpc.ack.aliyuncs.com/acs/{repo}:{version}");
    json!({"apiVersion":"apps/v1","kind":"DaemonSet",
      "metadata":{"name": TERWAY_DAEMONSET,"namespace":"kube-system","labels":{"app":"terway-eniip"}},
      "spec":{"selector":{"matchLabels":{"app":"terway-eniip"}},
        "updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"20%"}},
        "template":{"metadata":{"labels":{"app":"terway-eniip"}},
          "spec":{"hostNetwork":true,"priorityClassName":"system-node-critical","serviceAccountName":"terway",
            "nodeSelector":{"alibabacloud.com/external":"true"},
            "tolerations":[{"operator":"Exists"}],
            "initContainers":[{"name":"terway-init","image": image("terway"),"command":["/bin/init.sh"],
              "securityContext":{"privileged":true},
              "volumeMounts":[{"name":"configvolume","mountPath":"/etc/eni"},{"name":"cni-bin","mountPath":"/opt/cni/bin/"}]}],
            "containers":[{"name":"terway","image": image("terway"),"command":["/usr/bin/terwayd","-log-level","info","-daemon-mode","ENIMultiIP"],
              "securityContext":{"privileged":true},
              "env":[{"name":"NODE_NAME","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}}],
              "volumeMounts":[{"name":"configvolume","mountPath":"/etc/eni"},{"name":"cni-bin","mountPath":"/opt/cni/bin/"}]}],
            "volumes":[{"name":"configvolume","configMap":{"name":"eni-config","items":[{"key":"eni_conf","path":"eni.json"},
                        {"key":"10-terway.conf","path":"10-terway.conf"}]}},
                       {"name":"cni-bin","hostPath":{"path":"/opt/cni/bin"}}]}}}})
}

/// Creates (or, when present, replaces the spec of) the terway-eniip DaemonSet.
pub fn install_terway_eniip(store: &Store, version: &str, region: &str) -> Result<Value, ApiError> {
    let ds = terway_eniip_daemonset(version, region);
    store.apply(&ResourceRef::daemonsets(), Some("kube-system"), TERWAY_DAEMONSET, &ds, ADDON_MANAGER, true)
}

/// Deletes the terway-eniip DaemonSet; absent is fine.
pub fn uninstall_terway_eniip(store: &Store) -> Result<(), ApiError> {
    match store.delete(&ResourceRef::daemonsets(), Some("kube-system"), TERWAY_DAEMONSET, &DeleteOptions::default()) {
        Ok(_) => Ok(()),
        Err(e) if e.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether the addon's DaemonSet exists.
pub fn terway_installed(store: &Store) -> bool {
    store.get(&ResourceRef::daemonsets(), Some("kube-system"), TERWAY_DAEMONSET).is_ok()
}

/// Creates or replaces a Secret's `data` (e.g. `kube-system/alibaba-addon-secret` after a RAM grant).
pub fn put_secret(
    store: &Store,
    ns: &str,
    name: &str,
    data: &[(&str, &str)],
    manager: &str,
) -> Result<Value, ApiError> {
    use base64::Engine;
    let mut d = serde_json::Map::new();
    for (k, v) in data {
        d.insert((*k).to_string(), json!(base64::engine::general_purpose::STANDARD.encode(v)));
    }
    let obj =
        json!({"apiVersion":"v1","kind":"Secret","metadata":{"name": name,"namespace": ns},"type":"Opaque","data": d});
    match store.get(&ResourceRef::secrets(), Some(ns), name) {
        Ok(_) => store.update(&ResourceRef::secrets(), Some(ns), name, obj, &WriteOptions::manager(manager)),
        Err(e) if e.code == 404 => {
            store.create(&ResourceRef::secrets(), Some(ns), obj, &WriteOptions::manager(manager))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::seed::{seed, Scenario};

    #[test]
    fn install_and_uninstall_terway() {
        let s = Store::new();
        seed(&s, Scenario::Bgp).unwrap();
        assert!(!terway_installed(&s));
        let ds = install_terway_eniip(&s, "v1.9.0", "cn-hangzhou").unwrap();
        assert_eq!(ds["spec"]["template"]["spec"]["nodeSelector"]["alibabacloud.com/external"], json!("true"));
        assert_eq!(ds["status"]["desiredNumberScheduled"], json!(2), "two cloud nodes in the seed");
        install_terway_eniip(&s, "v1.9.1", "cn-hangzhou").unwrap();
        uninstall_terway_eniip(&s).unwrap();
        uninstall_terway_eniip(&s).unwrap();
        assert!(!terway_installed(&s));
    }
}

//! Server-side defaulting of the built-in kinds (the `SetDefaults_*` functions of k8s.io/kubernetes
//! pkg/apis/*/v1/defaults.go), limited to fields the sandbox's kinds carry. Defaults run on every
//! write, as the real server defaults every decoded request body.

use serde_json::{json, Map, Value};

fn set_default(m: &mut Map<String, Value>, key: &str, v: Value) {
    if m.get(key).is_none_or(Value::is_null) {
        m.insert(key.to_string(), v);
    }
}

fn container(c: &mut Value) {
    let Some(m) = c.as_object_mut() else { return };
    let image = m.get("image").and_then(Value::as_str).unwrap_or_default().to_string();
    // SetDefaults_Container: Always for `:latest` or untagged images, IfNotPresent otherwise.
    let last = image.rsplit('/').next().unwrap_or_default();
    let latest = !last.contains(':') && !image.contains('@') || last.ends_with(":latest");
    set_default(m, "imagePullPolicy", json!(if latest { "Always" } else { "IfNotPresent" }));
    set_default(m, "terminationMessagePath", json!("/dev/termination-log"));
    set_default(m, "terminationMessagePolicy", json!("File"));
    set_default(m, "resources", json!({}));
    if let Some(Value::Array(ports)) = m.get_mut("ports") {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            set_default(p, "protocol", json!("TCP"));
        }
    }
}

fn pod_spec(spec: &mut Value) {
    let Some(m) = spec.as_object_mut() else { return };
    set_default(m, "restartPolicy", json!("Always"));
    set_default(m, "terminationGracePeriodSeconds", json!(30));
    set_default(m, "dnsPolicy", json!("ClusterFirst"));
    set_default(m, "securityContext", json!({}));
    set_default(m, "schedulerName", json!("default-scheduler"));
    for list in ["containers", "initContainers"] {
        if let Some(Value::Array(cs)) = m.get_mut(list) {
            cs.iter_mut().for_each(container);
        }
    }
}

fn template(spec: &mut Map<String, Value>) {
    if let Some(t) = spec.get_mut("template") {
        if let Some(ps) = t.get_mut("spec") {
            pod_spec(ps);
        }
    }
}

/// Applies the defaults of `kind` to `obj` in place.
pub fn apply(kind: &str, obj: &mut Value) {
    match kind {
        "DaemonSet" => {
            if let Some(spec) = obj_mut_or_insert(obj, "spec") {
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(
                    spec,
                    "updateStrategy",
                    json!({"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":0}}),
                );
                if let Some(us) = spec.get_mut("updateStrategy").and_then(Value::as_object_mut) {
                    if us.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
                        set_default(us, "rollingUpdate", json!({}));
                        if let Some(ru) = us.get_mut("rollingUpdate").and_then(Value::as_object_mut) {
                            set_default(ru, "maxUnavailable", json!(1));
                            set_default(ru, "maxSurge", json!(0));
                        }
                    }
                }
                template(spec);
            }
        }
        "Deployment" => {
            if let Some(spec) = obj_mut_or_insert(obj, "spec") {
                set_default(spec, "replicas", json!(1));
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(spec, "progressDeadlineSeconds", json!(600));
                set_default(
                    spec,
                    "strategy",
                    json!({"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}}),
                );
                template(spec);
            }
        }
        "Secret" => {
            if let Some(m) = obj.as_object_mut() {
                set_default(m, "type", json!("Opaque"));
            }
        }
        "Namespace" => {
            if let Some(m) = obj.as_object_mut() {
                set_default(m, "spec", json!({"finalizers":["kubernetes"]}));
                set_default(m, "status", json!({"phase":"Active"}));
            }
            // The namespace controller's label (NamespaceDefaultLabelName feature, GA in 1.22).
            let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_string();
            if let Some(meta) = obj_mut_or_insert(obj, "metadata") {
                set_default(meta, "labels", json!({}));
                if let Some(l) = meta.get_mut("labels").and_then(Value::as_object_mut) {
                    l.insert("kubernetes.io/metadata.name".into(), json!(name));
                }
            }
        }
        "CustomResourceDefinition" => {
            if let Some(names) = obj.get_mut("spec").and_then(|s| s.get_mut("names")).and_then(Value::as_object_mut) {
                let kind = names.get("kind").and_then(Value::as_str).unwrap_or_default().to_lowercase();
                set_default(names, "singular", json!(kind));
                let kind_name = names.get("kind").and_then(Value::as_str).unwrap_or_default().to_string();
                set_default(names, "listKind", json!(format!("{kind_name}List")));
            }
        }
        _ => {}
    }
}

fn obj_mut_or_insert<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    let m = v.as_object_mut()?;
    if !m.get(key).is_some_and(Value::is_object) {
        m.insert(key.to_string(), json!({}));
    }
    m.get_mut(key).and_then(Value::as_object_mut)
}

#[cfg(test)]
mod tests {
    use super::*;

    // k8s.io/kubernetes pkg/apis/apps/v1/defaults.go SetDefaults_DaemonSet and core/v1 SetDefaults_Container.
    #[test]
    fn daemonset_defaults() {
        let mut ds = json!({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"calico/node:v3"},
                                                                     {"name":"d","image":"busybox"}]}}}});
        apply("DaemonSet", &mut ds);
        assert_eq!(ds["spec"]["updateStrategy"]["type"], json!("RollingUpdate"));
        assert_eq!(ds["spec"]["revisionHistoryLimit"], json!(10));
        let ps = &ds["spec"]["template"]["spec"];
        assert_eq!(ps["dnsPolicy"], json!("ClusterFirst"));
        assert_eq!(ps["containers"][0]["imagePullPolicy"], json!("IfNotPresent"));
        assert_eq!(ps["containers"][1]["imagePullPolicy"], json!("Always"));
    }

    // Namespaces get the immutable `kubernetes.io/metadata.name` label and phase Active.
    #[test]
    fn namespace_defaults() {
        let mut ns = json!({"metadata":{"name":"x"}});
        apply("Namespace", &mut ns);
        assert_eq!(ns["metadata"]["labels"]["kubernetes.io/metadata.name"], json!("x"));
        assert_eq!(ns["status"]["phase"], json!("Active"));
    }
}

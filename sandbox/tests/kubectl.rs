//! Real `/usr/bin/kubectl` (v1.32) against an in-process sandbox: the commands the runbook and the
//! provider's users run must behave as against a real API server.

mod common;

use common::{kubectl_available, start};
use hybrid_sandbox::Scenario;
use serde_json::json;

const SEED_PATCH: &str = "spec:
  template:
    spec:
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - key: alibabacloud.com/external
                operator: NotIn
                values:
                - \"true\"
";

// kubectl get with `-o yaml`: discovery (API concepts "Discovery API") and a plain GET.
#[test]
fn get_daemonset_yaml() {
    if !kubectl_available() {
        return;
    }
    let sb = start(Scenario::Bgp);
    let r = sb.kubectl(&["-n", "kube-system", "get", "ds", "calico-node", "-o", "yaml"]);
    assert!(r.ok, "{}", r.stderr);
    let ds: serde_json::Value = serde_yaml::from_str(&r.stdout).unwrap();
    assert_eq!(ds["kind"], json!("DaemonSet"));
    assert_eq!(ds["apiVersion"], json!("apps/v1"));
    assert_eq!(
        ds["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
            ["nodeSelectorTerms"][0]["matchExpressions"][0]["key"],
        json!("kubernetes.io/os")
    );
    assert_eq!(ds["metadata"]["generation"], json!(1));
    let jp = sb.kubectl(&[
        "-n",
        "kube-system",
        "get",
        "ds",
        "calico-node",
        "-o",
        "jsonpath={.status.desiredNumberScheduled}",
    ]);
    assert_eq!(jp.stdout, "5");
}

// API concepts "Receiving resources as Tables": kubectl prints the server's columns.
#[test]
fn get_tables() {
    if !kubectl_available() {
        return;
    }
    let sb = start(Scenario::Bgp);
    let r = sb.kubectl(&["get", "nodes"]);
    assert!(r.ok, "{}", r.stderr);
    let header = r.stdout.lines().next().unwrap();
    assert_eq!(header.split_whitespace().collect::<Vec<_>>(), vec!["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
    assert!(r.stdout.contains("control-plane"));
    let ds = sb.kubectl(&["-n", "kube-system", "get", "ds"]);
    assert!(ds.stdout.contains("NODE SELECTOR"), "{}", ds.stdout);
    assert!(ds.stdout.contains("kubernetes.io/os=linux"));
    let pools = sb.kubectl(&["get", "ippools"]);
    assert!(pools.stdout.contains("default-ipv4-ippool"), "{}", pools.stderr);
}

// strategic-merge-patch.md and k8s.io/api NodeSelector (no patchStrategy on nodeSelectorTerms): the
// runbook's patch REPLACES the DaemonSet's existing required terms, as a real API server does.
#[test]
fn seed_affinity_patch_replaces_existing_terms() {
    if !kubectl_available() {
        return;
    }
    let sb = start(Scenario::Bgp);
    let r = sb.kubectl(&["-n", "kube-system", "patch", "ds", "calico-node", "-p", SEED_PATCH]);
    assert!(r.ok, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "daemonset.apps/calico-node patched");
    let ds = sb.kubectl_json(&["-n", "kube-system", "get", "ds", "calico-node", "--show-managed-fields"]);
    let spec = &ds["spec"]["template"]["spec"];
    assert_eq!(
        spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"],
        json!([{"matchExpressions":[{"key":"alibabacloud.com/external","operator":"NotIn","values":["true"]}]}]),
        "the kubernetes.io/os term is gone: the list was replaced"
    );
    assert_eq!(spec["containers"][0]["name"], json!("calico-node"), "containers untouched");
    assert_eq!(ds["metadata"]["generation"], json!(2), "spec change bumps generation");
    assert_eq!(ds["status"]["desiredNumberScheduled"], json!(3), "cloud nodes excluded");
    let managers: Vec<&str> =
        ds["metadata"]["managedFields"].as_array().unwrap().iter().filter_map(|m| m["manager"].as_str()).collect();
    assert!(managers.contains(&"kubectl-patch"), "{managers:?}");
    // Patching again with the same body is a no-op: resourceVersion does not move.
    let rv = ds["metadata"]["resourceVersion"].clone();
    assert!(sb.kubectl(&["-n", "kube-system", "patch", "ds", "calico-node", "-p", SEED_PATCH]).ok);
    let again = sb.kubectl_json(&["-n", "kube-system", "get", "ds", "calico-node"]);
    assert_eq!(again["metadata"]["resourceVersion"], rv);
}

// kubectl label: a merge patch on metadata.labels; label selectors on list (Labels and Selectors guide).
#[test]
fn label_node() {
    if !kubectl_available() {
        return;
    }
    let sb = start(Scenario::Bgp);
    let r = sb.kubectl(&["label", "node", "idc-worker-2", "route-reflector=true"]);
    assert!(r.ok, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "node/idc-worker-2 labeled");
    let l = sb.kubectl(&["get", "nodes", "-l", "route-reflector=true", "-o", "name"]);
    assert_eq!(l.stdout.lines().collect::<Vec<_>>(), vec!["node/idc-worker-1", "node/idc-worker-2"]);
    let cloud = sb.kubectl(&[
        "get",
        "nodes",
        "-l",
        "alibabacloud.com/external=true",
        "-o",
        "jsonpath={.items[*].metadata.labels.topology\\.kubernetes\\.io/zone}",
    ]);
    assert_eq!(cloud.stdout, "cn-hangzhou-h cn-hangzhou-i");
    assert!(sb.kubectl(&["label", "node", "idc-worker-2", "route-reflector-"]).ok);
    let l = sb.kubectl(&["get", "nodes", "-l", "route-reflector=true", "-o", "name"]);
    assert_eq!(l.stdout.trim(), "node/idc-worker-1");
}

// Server-Side Apply docs, "Conflicts": a second manager changing an owned field gets a 409 that kubectl
// reports; --force-conflicts takes the field over.
#[test]
fn server_side_apply_conflict_and_force() {
    if !kubectl_available() {
        return;
    }
    let sb = start(Scenario::Bgp);
    let write = |name: &str, value: &str| {
        let p = sb.dir.path().join(name);
        std::fs::write(&p, format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n  namespace: default\ndata:\n  a: \"{value}\"\n")).unwrap();
        p.display().to_string()
    };
    let one = write("one.yaml", "1");
    let two = write("two.yaml", "2");
    let r = sb.kubectl(&["apply", "--server-side", "--field-manager=m1", "-f", &one]);
    assert!(r.ok, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "configmap/demo serverside-applied");
    let r = sb.kubectl(&["apply", "--server-side", "--field-manager=m2", "-f", &two]);
    assert!(!r.ok);
    assert!(r.stderr.contains("Apply failed with 1 conflict: conflict with \"m1\": .data.a"), "{}", r.stderr);
    let r = sb.kubectl(&["apply", "--server-side", "--field-manager=m2", "--force-conflicts", "-f", &two]);
    assert!(r.ok, "{}", r.stderr);
    let cm = sb.kubectl_json(&["get", "cm", "demo", "--show-managed-fields"]);
    assert_eq!(cm["data"]["a"], json!("2"));
    let mf = cm["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(mf.len(), 1, "m1 lost its only field: {mf:?}");
    assert_eq!(mf[0]["manager"], json!("m2"));
    assert_eq!(mf[0]["operation"], json!("Apply"));
    assert_eq!(mf[0]["fieldsV1"], json!({"f:data":{"f:a":{}}}));
}

// kubectl edit: a strategic merge patch for built-ins, a JSON merge patch for custom resources.
#[test]
fn edit_builtin_and_custom_resource() {
    if !kubectl_available() {
        return;
    }
    let sb = start(Scenario::Bgp);
    let r = sb.kubectl_env(
        &["-n", "kube-system", "edit", "ds", "calico-node"],
        &[("KUBE_EDITOR", "sed -i s/maxUnavailable:\\ 1/maxUnavailable:\\ 2/")],
    );
    assert!(r.ok, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "daemonset.apps/calico-node edited");
    let ds = sb.kubectl_json(&["-n", "kube-system", "get", "ds", "calico-node"]);
    assert_eq!(ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"], json!(2));
    let r = sb.kubectl_env(
        &["edit", "ippool", "default-ipv4-ippool"],
        &[("KUBE_EDITOR", "sed -i s/ipipMode:\\ Never/ipipMode:\\ Always/")],
    );
    assert!(r.ok, "{}", r.stderr);
    let pool = sb.kubectl_json(&["get", "ippool", "default-ipv4-ippool"]);
    assert_eq!(pool["spec"]["ipipMode"], json!("Always"));
    assert_eq!(pool["metadata"]["generation"], json!(2));
}

// JSON merge patch (RFC 7386) and JSON patch (RFC 6902) through kubectl patch --type.
#[test]
fn merge_and_json_patches() {
    if !kubectl_available() {
        return;
    }
    let sb = start(Scenario::Overlay);
    let base = ["-n", "kube-flannel", "patch", "cm", "kube-flannel-cfg"];
    let mut merge = base.to_vec();
    merge.extend(["--type=merge", "-p", r#"{"data":{"extra":"x","cni-conf.json":null}}"#]);
    assert!(sb.kubectl(&merge).ok);
    let mut jp = base.to_vec();
    jp.extend([
        "--type=json",
        "-p",
        r#"[{"op":"test","path":"/data/extra","value":"x"},{"op":"replace","path":"/data/extra","value":"y"}]"#,
    ]);
    let r = sb.kubectl(&jp);
    assert!(r.ok, "{}", r.stderr);
    let cm = sb.kubectl_json(&["-n", "kube-flannel", "get", "cm", "kube-flannel-cfg"]);
    assert_eq!(cm["data"]["extra"], json!("y"));
    assert!(cm["data"].get("cni-conf.json").is_none());
    let mut failing = base.to_vec();
    failing.extend(["--type=json", "-p", r#"[{"op":"test","path":"/data/extra","value":"nope"}]"#]);
    let r = sb.kubectl(&failing);
    assert!(!r.ok);
    assert!(r.stderr.contains("test failed"), "{}", r.stderr);
    // Strategic merge is not available for custom resources: 415, as on a real server.
    let r = sb.kubectl(&["patch", "ippools", "x", "-p", "{}"]);
    assert!(!r.ok);
}

// kubectl delete: 200 with a Status, then NotFound (API conventions "Response Status Kind").
#[test]
fn delete_and_not_found() {
    if !kubectl_available() {
        return;
    }
    let sb = start(Scenario::Bgp);
    let r = sb.kubectl(&["-n", "kube-system", "delete", "ds", "calico-node"]);
    assert!(r.ok, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "daemonset.apps \"calico-node\" deleted");
    let r = sb.kubectl(&["-n", "kube-system", "get", "ds", "calico-node"]);
    assert!(!r.ok);
    assert_eq!(r.stderr.trim(), "Error from server (NotFound): daemonsets.apps \"calico-node\" not found");
    let r = sb.kubectl(&["-n", "kube-system", "get", "cm", "eni-config"]);
    assert_eq!(r.stderr.trim(), "Error from server (NotFound): configmaps \"eni-config\" not found");
}

// kubectl create -f / apply (client-side) of a namespace and a ConfigMap; kubectl delete ns removes its contents.
#[test]
fn create_from_file_and_delete_namespace() {
    if !kubectl_available() {
        return;
    }
    let sb = start(Scenario::Host);
    let f = sb.dir.path().join("objs.yaml");
    std::fs::write(&f, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: demo\ndata:\n  k: v\n").unwrap();
    let r = sb.kubectl(&["create", "-f", &f.display().to_string()]);
    assert!(r.ok, "{}", r.stderr);
    let r = sb.kubectl(&["apply", "-f", &f.display().to_string()]);
    assert!(r.ok, "{}", r.stderr);
    assert_eq!(sb.kubectl(&["-n", "demo", "get", "cm", "c", "-o", "jsonpath={.data.k}"]).stdout, "v");
    let r = sb.kubectl(&["delete", "ns", "demo"]);
    assert!(r.ok, "{}", r.stderr);
    assert!(!sb.kubectl(&["-n", "demo", "get", "cm", "c"]).ok);
}

// kubectl's generators send protobuf (k8s.io/apimachinery protobuf serializer): the runbook's
// `kubectl create secret generic` for the Terway AccessKey works; kinds without a decoder get a 415.
#[test]
fn create_generators_over_protobuf() {
    if !kubectl_available() {
        return;
    }
    let sb = start(Scenario::Bgp);
    assert!(sb.kubectl(&["create", "namespace", "demo"]).ok);
    let ns = sb.kubectl_json(&["get", "ns", "demo"]);
    assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
    assert!(ns["metadata"].get("generateName").is_none());
    let r = sb.kubectl(&[
        "-n",
        "kube-system",
        "create",
        "secret",
        "generic",
        "alibaba-addon-secret",
        "--from-literal=access-key-id=LTAIexample",
        "--from-literal=access-key-secret=not-a-real-secret",
    ]);
    assert!(r.ok, "{}", r.stderr);
    let s = sb.kubectl_json(&["-n", "kube-system", "get", "secret", "alibaba-addon-secret"]);
    assert_eq!(s["type"], json!("Opaque"));
    assert_eq!(s["data"]["access-key-id"], json!("TFRBSWV4YW1wbGU="));
    assert!(sb.kubectl(&["-n", "demo", "create", "configmap", "c", "--from-literal=k=v"]).ok);
    let r = sb.kubectl(&["create", "deployment", "web", "--image=nginx"]);
    assert!(!r.ok);
    assert!(r.stderr.contains("the body of the request was in an unknown format"), "{}", r.stderr);
}

// kubectl rollout status watches the DaemonSet (API concepts "Efficient detection of changes").
#[test]
fn rollout_status_uses_watch() {
    if !kubectl_available() {
        return;
    }
    let sb = start(Scenario::Bgp);
    let r = sb.kubectl(&["-n", "kube-system", "rollout", "status", "ds/calico-node", "--timeout=20s"]);
    assert!(r.ok, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "daemon set \"calico-node\" successfully rolled out");
}

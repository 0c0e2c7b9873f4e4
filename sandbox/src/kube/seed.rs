//! Scenario seeds: the objects a registered cluster of each kind already has before the provider runs.

use crate::kube::resources::ResourceRef;
use crate::kube::store::{Store, WriteOptions};
use anyhow::{Context, Result};
use serde_json::{json, Value};

/// Which on-prem network the seeded cluster runs (`--scenario`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scenario {
    /// Calico in BGP mode (IPPool ipipMode/vxlanMode Never), installed from manifests in kube-system.
    #[default]
    Bgp,
    /// Calico in BGP mode managed by the tigera operator (`calico-system`, `Installation default`).
    BgpOperator,
    /// Flannel with the VXLAN backend.
    Overlay,
    /// Host network: no CNI DaemonSet.
    Host,
}

impl std::str::FromStr for Scenario {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "bgp" => Ok(Scenario::Bgp),
            "bgp-operator" => Ok(Scenario::BgpOperator),
            "overlay" => Ok(Scenario::Overlay),
            "host" => Ok(Scenario::Host),
            other => Err(format!("unknown scenario {other:?} (expected bgp, bgp-operator, overlay or host)")),
        }
    }
}

impl Scenario {
    pub fn as_str(&self) -> &'static str {
        match self {
            Scenario::Bgp => "bgp",
            Scenario::BgpOperator => "bgp-operator",
            Scenario::Overlay => "overlay",
            Scenario::Host => "host",
        }
    }
}

/// Manifests are installed with `kubectl apply` (client-side), as most clusters' CNIs are.
const INSTALLER: &str = "kubectl-client-side-apply";

fn create(store: &Store, r: &ResourceRef, ns: Option<&str>, obj: Value, manager: &str) -> Result<()> {
    let mut obj = obj;
    if manager == INSTALLER {
        // `kubectl apply` records what it applied.
        let last = serde_json::to_string(&obj)?;
        obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = json!(format!("{last}\n"));
    }
    let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_string();
    store
        .create(r, ns, obj, &WriteOptions::manager(manager))
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("seeding {} {name}", r.resource))
}

/// A Node as a kubelet registers it.
fn node(name: &str, ip: &str, labels: Value, provider_id: Option<&str>) -> Value {
    let mut l = json!({"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                       "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64"});
    for (k, v) in labels.as_object().into_iter().flatten() {
        l[k] = v.clone();
    }
    let mut n = json!({"apiVersion":"v1","kind":"Node","metadata":{"name": name, "labels": l,
            "annotations":{"node.alpha.kubernetes.io/ttl":"0","volumes.kubernetes.io/controller-managed-attach-detach":"true"}},
        "spec":{"podCIDR":"10.244.0.0/24","podCIDRs":["10.244.0.0/24"]},
        "status":{"addresses":[{"type":"InternalIP","address": ip},{"type":"Hostname","address": name}],
            "conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"kubelet is posting ready status",
                           "lastHeartbeatTime":"2025-01-01T00:00:00Z","lastTransitionTime":"2025-01-01T00:00:00Z"}],
            "capacity":{"cpu":"4","memory":"16Gi","pods":"110"},"allocatable":{"cpu":"4","memory":"15Gi","pods":"110"},
            "nodeInfo":{"kubeletVersion":"v1.32.4","kubeProxyVersion":"v1.32.4","osImage":"Alibaba Cloud Linux 3",
                        "kernelVersion":"5.10.134-18.al8.x86_64","containerRuntimeVersion":"containerd://1.6.36",
                        "operatingSystem":"linux","architecture":"amd64","machineID":"","systemUUID":"","bootID":""}}});
    if let Some(p) = provider_id {
        n["spec"]["providerID"] = json!(p);
    }
    n
}

/// An on-prem (IDC) node.
pub fn onprem_node(name: &str, ip: &str, control_plane: bool) -> Value {
    let labels = if control_plane { json!({"node-role.kubernetes.io/control-plane": ""}) } else { json!({}) };
    node(name, ip, labels, None)
}

/// A cloud (ECS) node that joined from a node pool: labelled `alibabacloud.com/external=true` and
/// with its zone; the cloud side calls this when a node pool scales out.
pub fn cloud_node(name: &str, ip: &str, region: &str, zone: &str, instance_id: &str, nodepool_id: &str) -> Value {
    node(
        name,
        ip,
        json!({"alibabacloud.com/external": "true", "alibabacloud.com/nodepool-id": nodepool_id,
               "topology.kubernetes.io/region": region, "topology.kubernetes.io/zone": zone,
               "node.kubernetes.io/instance-type": "ecs.g7.xlarge"}),
        Some(&format!("{region}.{instance_id}")),
    )
}

/// The unrelated required node-affinity term the seeded calico-node already has.
fn calico_affinity() -> Value {
    json!({"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
        {"matchExpressions":[{"key":"kubernetes.io/os","operator":"In","values":["linux"]}]}]}}})
}

fn calico_node_ds(namespace: &str) -> Value {
    json!({"apiVersion":"apps/v1","kind":"DaemonSet",
      "metadata":{"name":"calico-node","namespace": namespace,"labels":{"k8s-app":"calico-node"}},
      "spec":{"selector":{"matchLabels":{"k8s-app":"calico-node"}},
        "updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1}},
        "template":{"metadata":{"labels":{"k8s-app":"calico-node"}},
          "spec":{"nodeSelector":{"kubernetes.io/os":"linux"},"hostNetwork":true,
            "affinity": calico_affinity(),
            "tolerations":[{"effect":"NoSchedule","operator":"Exists"},{"key":"CriticalAddonsOnly","operator":"Exists"},
                           {"effect":"NoExecute","operator":"Exists"}],
            "serviceAccountName":"calico-node","terminationGracePeriodSeconds":0,"priorityClassName":"system-node-critical",
            "initContainers":[{"name":"install-cni","image":"docker.io/calico/cni:v3.27.3","command":["/opt/cni/bin/install"],
              "env":[{"name":"CNI_CONF_NAME","value":"10-calico.conflist"}],
              "volumeMounts":[{"mountPath":"/host/opt/cni/bin","name":"cni-bin-dir"},{"mountPath":"/host/etc/cni/net.d","name":"cni-net-dir"}],
              "securityContext":{"privileged":true}}],
            "containers":[{"name":"calico-node","image":"docker.io/calico/node:v3.27.3",
              "env":[{"name":"DATASTORE_TYPE","value":"kubernetes"},{"name":"CLUSTER_TYPE","value":"k8s,bgp"},
                     {"name":"CALICO_NETWORKING_BACKEND","value":"bird"},{"name":"IP","value":"autodetect"},
                     {"name":"CALICO_IPV4POOL_IPIP","value":"Never"},{"name":"CALICO_IPV4POOL_VXLAN","value":"Never"}],
              "securityContext":{"privileged":true},
              "resources":{"requests":{"cpu":"250m"}},
              "volumeMounts":[{"mountPath":"/lib/modules","name":"lib-modules","readOnly":true},
                              {"mountPath":"/var/run/calico","name":"var-run-calico"}]}],
            "volumes":[{"name":"lib-modules","hostPath":{"path":"/lib/modules"}},
                       {"name":"var-run-calico","hostPath":{"path":"/var/run/calico"}},
                       {"name":"cni-bin-dir","hostPath":{"path":"/opt/cni/bin"}},
                       {"name":"cni-net-dir","hostPath":{"path":"/etc/cni/net.d"}}]}}}})
}

fn crd(group: &str, plural: &str, kind: &str, scope: &str, spec_props: Value, columns: Value) -> Value {
    json!({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
      "metadata":{"name": format!("{plural}.{group}")},
      "spec":{"group": group,"scope": scope,
        "names":{"kind": kind,"listKind": format!("{kind}List"),"plural": plural,"singular": kind.to_lowercase()},
        "versions":[{"name":"v1","served":true,"storage":true,"additionalPrinterColumns": columns,
          "schema":{"openAPIV3Schema":{"type":"object","properties":{
            "apiVersion":{"type":"string"},"kind":{"type":"string"},"metadata":{"type":"object"},
            "spec":{"type":"object","properties": spec_props,"x-kubernetes-preserve-unknown-fields": true},
            "status":{"type":"object","x-kubernetes-preserve-unknown-fields": true}}}}}]}})
}

/// The Calico CRDs this sandbox seeds (a subset of calico's `crds.yaml`).
pub fn calico_crds() -> Vec<Value> {
    vec![
        crd(
            "crd.projectcalico.org",
            "ippools",
            "IPPool",
            "Cluster",
            json!({"cidr":{"type":"string"},"ipipMode":{"type":"string"},"vxlanMode":{"type":"string"},
                   "natOutgoing":{"type":"boolean"},"blockSize":{"type":"integer"},"nodeSelector":{"type":"string"}}),
            json!([]),
        ),
        crd(
            "crd.projectcalico.org",
            "bgpconfigurations",
            "BGPConfiguration",
            "Cluster",
            json!({"asNumber":{"type":"integer"},"nodeToNodeMeshEnabled":{"type":"boolean"},"logSeverityScreen":{"type":"string"}}),
            json!([]),
        ),
        crd(
            "crd.projectcalico.org",
            "bgppeers",
            "BGPPeer",
            "Cluster",
            json!({"peerIP":{"type":"string"},"asNumber":{"type":"integer"},"nodeSelector":{"type":"string"},"peerSelector":{"type":"string"}}),
            json!([]),
        ),
    ]
}

/// The tigera operator's `Installation` CRD.
pub fn tigera_installation_crd() -> Value {
    crd(
        "operator.tigera.io",
        "installations",
        "Installation",
        "Cluster",
        json!({"variant":{"type":"string"},"calicoNetwork":{"type":"object","x-kubernetes-preserve-unknown-fields": true},
               "calicoNodeDaemonSet":{"type":"object","x-kubernetes-preserve-unknown-fields": true}}),
        json!([]),
    )
}

fn calico_objects(store: &Store) -> Result<()> {
    let gv = |r: &str| ResourceRef::new("crd.projectcalico.org", "v1", r);
    for c in calico_crds() {
        create(store, &ResourceRef::crds(), None, c, INSTALLER)?;
    }
    create(
        store,
        &gv("ippools"),
        None,
        json!({"apiVersion":"crd.projectcalico.org/v1","kind":"IPPool",
        "metadata":{"name":"default-ipv4-ippool"},
        "spec":{"cidr":"10.244.0.0/16","ipipMode":"Never","vxlanMode":"Never","natOutgoing":true,"blockSize":26,"nodeSelector":"all()"}}),
        "calico-node",
    )?;
    create(
        store,
        &gv("bgpconfigurations"),
        None,
        json!({"apiVersion":"crd.projectcalico.org/v1","kind":"BGPConfiguration",
        "metadata":{"name":"default"},"spec":{"asNumber":64512,"nodeToNodeMeshEnabled":false,"logSeverityScreen":"Info"}}),
        INSTALLER,
    )?;
    create(
        store,
        &gv("bgppeers"),
        None,
        json!({"apiVersion":"crd.projectcalico.org/v1","kind":"BGPPeer",
        "metadata":{"name":"route-reflectors"},"spec":{"nodeSelector":"all()","peerSelector":"route-reflector == 'true'"}}),
        INSTALLER,
    )?;
    create(
        store,
        &gv("bgppeers"),
        None,
        json!({"apiVersion":"crd.projectcalico.org/v1","kind":"BGPPeer",
        "metadata":{"name":"idc-tor"},"spec":{"peerIP":"192.168.0.1","asNumber":64513}}),
        INSTALLER,
    )?;
    Ok(())
}

fn namespace(name: &str) -> Value {
    json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name": name}})
}

/// Seeds `store` with the objects of `scenario`.
pub fn seed(store: &Store, scenario: Scenario) -> Result<()> {
    let ns_ref = ResourceRef::namespaces();
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        create(store, &ns_ref, None, namespace(ns), "kube-apiserver")?;
    }
    let nodes = ResourceRef::nodes();
    create(store, &nodes, None, onprem_node("idc-master-1", "192.168.0.10", true), "kubelet")?;
    let mut rr = onprem_node("idc-worker-1", "192.168.0.11", false);
    rr["metadata"]["labels"]["route-reflector"] = json!("true");
    create(store, &nodes, None, rr, "kubelet")?;
    create(store, &nodes, None, onprem_node("idc-worker-2", "192.168.0.12", false), "kubelet")?;
    create(
        store,
        &nodes,
        None,
        cloud_node(
            "cn-hangzhou.172.16.1.10",
            "172.16.1.10",
            "cn-hangzhou",
            "cn-hangzhou-h",
            "i-bp1sandbox0001",
            "np-sandbox",
        ),
        "kubelet",
    )?;
    create(
        store,
        &nodes,
        None,
        cloud_node(
            "cn-hangzhou.172.16.2.10",
            "172.16.2.10",
            "cn-hangzhou",
            "cn-hangzhou-i",
            "i-bp1sandbox0002",
            "np-sandbox",
        ),
        "kubelet",
    )?;
    create(
        store,
        &ResourceRef::configmaps(),
        Some("kube-system"),
        json!({"apiVersion":"v1","kind":"ConfigMap",
        "metadata":{"name":"kube-root-ca.crt","namespace":"kube-system"},"data":{"ca.crt":"<sandbox CA>"}}),
        "kube-controller-manager",
    )?;
    create(
        store,
        &ResourceRef::deployments(),
        Some("kube-system"),
        json!({"apiVersion":"apps/v1","kind":"Deployment",
        "metadata":{"name":"coredns","namespace":"kube-system","labels":{"k8s-app":"kube-dns"}},
        "spec":{"replicas":2,"selector":{"matchLabels":{"k8s-app":"kube-dns"}},
          "template":{"metadata":{"labels":{"k8s-app":"kube-dns"}},"spec":{"priorityClassName":"system-cluster-critical",
            "containers":[{"name":"coredns","image":"registry.k8s.io/coredns/coredns:v1.11.3","args":["-conf","/etc/coredns/Corefile"],
              "ports":[{"containerPort":53,"name":"dns","protocol":"UDP"},{"containerPort":53,"name":"dns-tcp","protocol":"TCP"}]}]}}}}),
        "kubeadm",
    )?;
    match scenario {
        Scenario::Bgp => {
            create(store, &ResourceRef::daemonsets(), Some("kube-system"), calico_node_ds("kube-system"), INSTALLER)?;
            calico_objects(store)?;
        }
        Scenario::BgpOperator => {
            for ns in ["tigera-operator", "calico-system"] {
                create(store, &ns_ref, None, namespace(ns), INSTALLER)?;
            }
            create(
                store,
                &ResourceRef::deployments(),
                Some("tigera-operator"),
                json!({"apiVersion":"apps/v1","kind":"Deployment",
                "metadata":{"name":"tigera-operator","namespace":"tigera-operator","labels":{"k8s-app":"tigera-operator"}},
                "spec":{"replicas":1,"selector":{"matchLabels":{"name":"tigera-operator"}},
                  "template":{"metadata":{"labels":{"name":"tigera-operator","k8s-app":"tigera-operator"}},
                    "spec":{"hostNetwork":true,"containers":[{"name":"tigera-operator","image":"quay.io/tigera/operator:v1.32.7"}]}}}}),
                INSTALLER,
            )?;
            create(store, &ResourceRef::crds(), None, tigera_installation_crd(), INSTALLER)?;
            create(
                store,
                &ResourceRef::new("operator.tigera.io", "v1", "installations"),
                None,
                json!({"apiVersion":"operator.tigera.io/v1","kind":"Installation","metadata":{"name":"default"},
                       "spec":{"variant":"Calico","calicoNetwork":{"bgp":"Enabled",
                         "ipPools":[{"cidr":"10.244.0.0/16","encapsulation":"None","natOutgoing":"Enabled","blockSize":26}]},
                         "calicoNodeDaemonSet":{"spec":{"template":{"spec":{"affinity": calico_affinity()}}}}}}),
                INSTALLER,
            )?;
            let mut ds = calico_node_ds("calico-system");
            ds["metadata"]["ownerReferences"] = json!([{"apiVersion":"operator.tigera.io/v1","kind":"Installation","name":"default",
                "uid":"00000000-0000-0000-0000-000000000001","controller":true,"blockOwnerDeletion":true}]);
            create(store, &ResourceRef::daemonsets(), Some("calico-system"), ds, "operator")?;
            calico_objects(store)?;
        }
        Scenario::Overlay => {
            create(store, &ns_ref, None, namespace("kube-flannel"), INSTALLER)?;
            create(
                store,
                &ResourceRef::configmaps(),
                Some("kube-flannel"),
                json!({"apiVersion":"v1","kind":"ConfigMap",
                "metadata":{"name":"kube-flannel-cfg","namespace":"kube-flannel","labels":{"app":"flannel","k8s-app":"flannel","tier":"node"}},
                "data":{"cni-conf.json":"{\n  \"name\": \"cbr0\",\n  \"cniVersion\": \"0.3.1\",\n  \"plugins\": [\n    {\n      \"type\": \"flannel\",\n      \"delegate\": {\n        \"hairpinMode\": true,\n        \"isDefaultGateway\": true\n      }\n    },\n    {\n      \"type\": \"portmap\",\n      \"capabilities\": {\n        \"portMappings\": true\n      }\n    }\n  ]\n}\n",
                        "net-conf.json":"{\n  \"Network\": \"10.244.0.0/16\",\n  \"EnableNFTables\": false,\n  \"Backend\": {\n    \"Type\": \"vxlan\"\n  }\n}\n"}}),
                INSTALLER,
            )?;
            create(
                store,
                &ResourceRef::daemonsets(),
                Some("kube-flannel"),
                json!({"apiVersion":"apps/v1","kind":"DaemonSet",
                "metadata":{"name":"kube-flannel-ds","namespace":"kube-flannel","labels":{"app":"flannel","k8s-app":"flannel","tier":"node"}},
                "spec":{"selector":{"matchLabels":{"app":"flannel","k8s-app":"flannel"}},
                  "template":{"metadata":{"labels":{"app":"flannel","k8s-app":"flannel","tier":"node"}},
                    "spec":{"hostNetwork":true,"priorityClassName":"system-node-critical","serviceAccountName":"flannel",
                      "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
                        {"matchExpressions":[{"key":"kubernetes.io/os","operator":"In","values":["linux"]}]}]}}},
                      "tolerations":[{"effect":"NoSchedule","operator":"Exists"}],
                      "containers":[{"name":"kube-flannel","image":"ghcr.io/flannel-io/flannel:v0.26.4",
                        "command":["/opt/bin/flanneld"],"args":["--ip-masq","--kube-subnet-mgr"],
                        "securityContext":{"privileged":false,"capabilities":{"add":["NET_ADMIN","NET_RAW"]}},
                        "volumeMounts":[{"name":"run","mountPath":"/run/flannel"},{"name":"flannel-cfg","mountPath":"/etc/kube-flannel/"}]}],
                      "volumes":[{"name":"run","hostPath":{"path":"/run/flannel"}},{"name":"flannel-cfg","configMap":{"name":"kube-flannel-cfg"}}]}}}}),
                INSTALLER,
            )?;
        }
        Scenario::Host => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bgp_seed_has_calico_and_no_eni_config() {
        let s = Store::new();
        seed(&s, Scenario::Bgp).unwrap();
        let ds = s.get(&ResourceRef::daemonsets(), Some("kube-system"), "calico-node").unwrap();
        // 3 on-prem + 2 cloud nodes are linux; the existing term does not exclude cloud nodes yet.
        assert_eq!(ds["status"]["desiredNumberScheduled"], json!(5));
        let pool =
            s.get(&ResourceRef::new("crd.projectcalico.org", "v1", "ippools"), None, "default-ipv4-ippool").unwrap();
        assert_eq!(pool["spec"]["ipipMode"], json!("Never"));
        assert_eq!(s.get(&ResourceRef::configmaps(), Some("kube-system"), "eni-config").unwrap_err().code, 404);
        let cloud = s
            .list(
                &ResourceRef::nodes(),
                None,
                Some(&crate::kube::selector::LabelSelector::parse("alibabacloud.com/external=true").unwrap()),
                None,
            )
            .unwrap();
        assert_eq!(cloud.items.len(), 2);
    }

    #[test]
    fn overlay_and_host_seeds() {
        let s = Store::new();
        seed(&s, Scenario::Overlay).unwrap();
        let cm = s.get(&ResourceRef::configmaps(), Some("kube-flannel"), "kube-flannel-cfg").unwrap();
        assert!(cm["data"]["net-conf.json"].as_str().unwrap().contains("vxlan"));
        let h = Store::new();
        seed(&h, Scenario::Host).unwrap();
        assert!(h.list(&ResourceRef::daemonsets(), None, None, None).unwrap().items.is_empty());
        let o = Store::new();
        seed(&o, Scenario::BgpOperator).unwrap();
        assert!(o.get(&ResourceRef::daemonsets(), Some("calico-system"), "calico-node").is_ok());
    }

    // tigera operator docs ("Installation" reference, calicoNodeDaemonSet): the operator owns the
    // DaemonSet, so a direct edit is reverted and an Installation edit is rolled out.
    #[test]
    fn operator_reverts_direct_edits_and_follows_installation() {
        use crate::kube::store::{PatchKind, WriteOptions};
        let s = Store::new();
        seed(&s, Scenario::BgpOperator).unwrap();
        let ds_ref = ResourceRef::daemonsets();
        let aff = "/spec/template/spec/affinity";
        let edit = json!([{"op":"remove","path": aff}]);
        s.patch(
            &ds_ref,
            Some("calico-system"),
            "calico-node",
            PatchKind::Json,
            &edit,
            &WriteOptions::manager("kubectl-patch"),
        )
        .unwrap();
        let ds = s.get(&ds_ref, Some("calico-system"), "calico-node").unwrap();
        assert_eq!(ds["spec"]["template"]["spec"]["affinity"], calico_affinity(), "reverted");
        let inst_ref = ResourceRef::new("operator.tigera.io", "v1", "installations");
        let term =
            json!({"matchExpressions":[{"key":"alibabacloud.com/external","operator":"NotIn","values":["true"]}]});
        let patch = json!({"spec":{"calicoNodeDaemonSet":{"spec":{"template":{"spec":{"affinity":{"nodeAffinity":{
            "requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[term]}}}}}}}}});
        s.patch(&inst_ref, None, "default", PatchKind::Merge, &patch, &WriteOptions::manager("tf")).unwrap();
        let ds = s.get(&ds_ref, Some("calico-system"), "calico-node").unwrap();
        assert_eq!(
            ds["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]
                ["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"],
            json!([term])
        );
        assert_eq!(ds["status"]["desiredNumberScheduled"], json!(3));
    }
}

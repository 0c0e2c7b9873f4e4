//! Which object gets the affinity: the CNI DaemonSet named by a preset or by namespace/name, or,
//! when the tigera operator manages calico-node, the operator's `Installation`.

use serde_json::Value as Json;

use crate::clients::kubernetes::{Kube, KubeError, ResourceType};

use super::terms;

pub const DEFAULT_NAMESPACE: &str = "kube-system";
const TIGERA_GROUP: &str = "operator.tigera.io";
/// The Installation the tigera operator reconciles (its docs: "the operator only uses the
/// Installation named default").
const DEFAULT_INSTALLATION: &str = "default";
/// Where the pod spec sits in a DaemonSet and in a tigera Installation
/// (`spec.calicoNodeDaemonSet.spec.template.spec`, operator.tigera.io/v1 CalicoNodeDaemonSet).
const DS_POD_SPEC: [&str; 3] = ["spec", "template", "spec"];
const INSTALLATION_POD_SPEC: [&str; 5] = ["spec", "calicoNodeDaemonSet", "spec", "template", "spec"];

/// A preset: the DaemonSets a CNI is installed as, in order of preference (see the reference:
/// Calico manifest vs operator installs, flannel's current and older namespaces, Cilium).
pub struct Preset {
    pub name: &'static str,
    pub daemonsets: &'static [(&'static str, &'static str)],
}

pub const PRESETS: &[Preset] = &[
    Preset { name: "calico", daemonsets: &[("kube-system", "calico-node"), ("calico-system", "calico-node")] },
    Preset {
        name: "flannel",
        daemonsets: &[
            ("kube-flannel", "kube-flannel-ds"),
            ("kube-system", "kube-flannel-ds"),
            ("kube-system", "kube-flannel-ds-amd64"),
        ],
    },
    Preset { name: "cilium", daemonsets: &[("kube-system", "cilium")] },
];

pub const PRESET_NAMES: &[&str] = &["calico", "flannel", "cilium"];

pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The attribute (`namespace` or `name`) an explicit setting conflicts with the preset on, and why.
pub fn preset_conflict(preset: &Preset, namespace: Option<&str>, name: Option<&str>) -> Option<(&'static str, String)> {
    let fits = |ns: Option<&str>, n: Option<&str>| {
        preset.daemonsets.iter().any(|(pns, pn)| ns.is_none_or(|x| x == *pns) && n.is_none_or(|x| x == *pn))
    };
    let list = || preset.daemonsets.iter().map(|(ns, n)| format!("{ns}/{n}")).collect::<Vec<_>>().join(", ");
    if !fits(None, name) {
        return Some(("name", format!("preset {:?} patches {}; name {:?} is not one of them. Remove `preset` to patch another DaemonSet, or drop `name`.", preset.name, list(), name.unwrap_or_default())));
    }
    if !fits(namespace, name) {
        return Some(("namespace", format!("preset {:?} patches {}; namespace {:?} does not fit. Remove `preset` to patch another DaemonSet, or drop `namespace`.", preset.name, list(), namespace.unwrap_or_default())));
    }
    None
}

/// The DaemonSets to look for, in order: the preset's that fit the explicit settings, or the
/// explicit one (namespace `kube-system` unless set).
pub fn candidates(preset_name: Option<&str>, namespace: Option<&str>, name: Option<&str>) -> Vec<(String, String)> {
    match preset_name.and_then(preset) {
        Some(p) => p
            .daemonsets
            .iter()
            .filter(|(pns, pn)| namespace.is_none_or(|x| x == *pns) && name.is_none_or(|x| x == *pn))
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        None => {
            name.map(|n| vec![(namespace.unwrap_or(DEFAULT_NAMESPACE).to_string(), n.to_string())]).unwrap_or_default()
        }
    }
}

pub fn daemonset_path(namespace: &str, name: &str) -> String {
    ResourceType::DAEMONSETS.object(Some(namespace), name)
}

/// The first candidate DaemonSet that exists, with its namespace and name.
pub async fn locate(kube: &Kube, candidates: &[(String, String)]) -> Result<Option<(String, String, Json)>, KubeError> {
    for (ns, name) in candidates {
        if let Some(ds) = kube.get::<Json>(&daemonset_path(ns, name)).await? {
            return Ok(Some((ns.clone(), name.clone(), ds)));
        }
    }
    Ok(None)
}

/// Where the affinity is written.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    DaemonSet,
    /// The tigera operator's Installation of that name.
    Installation(String),
}

impl Target {
    pub fn parse(s: &str) -> Target {
        match s.strip_prefix("installation:") {
            Some(name) => Target::Installation(name.to_string()),
            None => Target::DaemonSet,
        }
    }

    pub fn label(&self) -> String {
        match self {
            Target::DaemonSet => "daemonset".into(),
            Target::Installation(n) => format!("installation:{n}"),
        }
    }

    /// Keys from the object's root to the nodeSelectorTerms.
    pub fn chain(&self) -> Vec<&'static str> {
        match self {
            Target::DaemonSet => terms::chain(&DS_POD_SPEC),
            Target::Installation(_) => terms::chain(&INSTALLATION_POD_SPEC),
        }
    }

    pub fn path(&self, namespace: &str, name: &str) -> String {
        match self {
            Target::DaemonSet => daemonset_path(namespace, name),
            Target::Installation(inst) => ResourceType::TIGERA_INSTALLATIONS.object(None, inst),
        }
    }
}

/// The tigera Installation a DaemonSet's ownerReferences name, if any.
fn operator_owner(ds: &Json) -> Option<String> {
    ds.pointer("/metadata/ownerReferences")?.as_array()?.iter().find_map(|r| {
        let group = r.get("apiVersion")?.as_str()?.split('/').next()?;
        (group == TIGERA_GROUP && r.get("kind")?.as_str()? == "Installation")
            .then(|| r.get("name").and_then(Json::as_str).unwrap_or(DEFAULT_INSTALLATION).to_string())
    })
}

/// Decides the target for a DaemonSet: the Installation when the operator owns the DaemonSet, or
/// when it is `calico-node` and the operator's Installation `default` exists (the operator takes
/// a manifest-installed calico-node over and reverts direct edits). Errors when the owning
/// Installation does not exist, since then nothing could keep the change.
pub async fn detect(kube: &Kube, ds: &Json) -> Result<Result<Target, String>, KubeError> {
    let installation = |name: &str| ResourceType::TIGERA_INSTALLATIONS.object(None, name);
    if let Some(owner) = operator_owner(ds) {
        return Ok(match kube.get::<Json>(&installation(&owner)).await? {
            Some(_) => Ok(Target::Installation(owner)),
            None => Err(format!(
                "the DaemonSet is owned by the tigera operator's Installation {owner:?}, which does not exist; \
                 the operator would revert a direct edit"
            )),
        });
    }
    let is_calico_node = ds.pointer("/metadata/name").and_then(Json::as_str) == Some("calico-node");
    if is_calico_node && kube.get::<Json>(&installation(DEFAULT_INSTALLATION)).await?.is_some() {
        return Ok(Ok(Target::Installation(DEFAULT_INSTALLATION.to_string())));
    }
    Ok(Ok(Target::DaemonSet))
}

pub fn uid(obj: &Json) -> Option<String> {
    obj.pointer("/metadata/uid").and_then(Json::as_str).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn presets_and_explicit_names() {
        assert_eq!(
            candidates(Some("calico"), None, None),
            vec![("kube-system".into(), "calico-node".into()), ("calico-system".into(), "calico-node".into())]
        );
        assert_eq!(candidates(Some("flannel"), None, None)[0], ("kube-flannel".into(), "kube-flannel-ds".into()));
        assert_eq!(candidates(Some("cilium"), None, None), vec![("kube-system".into(), "cilium".into())]);
        assert_eq!(candidates(Some("calico"), Some("calico-system"), None).len(), 1);
        assert_eq!(candidates(None, None, Some("agent")), vec![("kube-system".into(), "agent".into())]);
        assert!(candidates(None, Some("x"), None).is_empty());
    }

    #[test]
    fn conflicting_preset_and_name_is_reported_on_the_attribute() {
        let calico = preset("calico").unwrap();
        assert_eq!(preset_conflict(calico, None, Some("kube-flannel-ds")).unwrap().0, "name");
        assert_eq!(preset_conflict(calico, Some("kube-flannel"), Some("calico-node")).unwrap().0, "namespace");
        assert_eq!(preset_conflict(calico, Some("kube-flannel"), None).unwrap().0, "namespace");
        assert!(preset_conflict(calico, Some("calico-system"), Some("calico-node")).is_none());
        let flannel = preset("flannel").unwrap();
        assert_eq!(
            preset_conflict(flannel, Some("kube-flannel"), Some("kube-flannel-ds-amd64")).unwrap().0,
            "namespace"
        );
        assert!(preset_conflict(flannel, Some("kube-system"), Some("kube-flannel-ds-amd64")).is_none());
    }

    #[test]
    fn operator_owner_from_owner_references() {
        let owned = json!({"metadata": {"ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "Deployment", "name": "x"},
            {"apiVersion": "operator.tigera.io/v1", "kind": "Installation", "name": "default"}]}});
        assert_eq!(operator_owner(&owned).as_deref(), Some("default"));
        assert_eq!(operator_owner(&json!({"metadata": {}})), None);
        let other = json!({"metadata": {"ownerReferences": [{"apiVersion": "operator.tigera.io.evil/v1", "kind": "Installation"}]}});
        assert_eq!(operator_owner(&other), None);
        assert_eq!(&Target::Installation("default".into()).chain()[..2], &["spec", "calicoNodeDaemonSet"]);
        assert_eq!(Target::parse(&Target::Installation("a".into()).label()), Target::Installation("a".into()));
        assert_eq!(Target::parse("daemonset"), Target::DaemonSet);
    }
}

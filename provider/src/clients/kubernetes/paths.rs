//! REST paths of Kubernetes objects (`/api/v1/namespaces/NS/configmaps/NAME`,
//! `/apis/GROUP/VERSION/...`), built from parts so no caller concatenates URLs by hand.

/// A resource type as the API serves it: group (empty for the core group), version, plural.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceType {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
}

impl ResourceType {
    pub const CONFIGMAPS: ResourceType = ResourceType { group: "", version: "v1", plural: "configmaps" };
    pub const SECRETS: ResourceType = ResourceType { group: "", version: "v1", plural: "secrets" };
    pub const NODES: ResourceType = ResourceType { group: "", version: "v1", plural: "nodes" };
    pub const DAEMONSETS: ResourceType = ResourceType { group: "apps", version: "v1", plural: "daemonsets" };
    pub const CALICO_IPPOOLS: ResourceType =
        ResourceType { group: "crd.projectcalico.org", version: "v1", plural: "ippools" };
    pub const CALICO_BGPPEERS: ResourceType =
        ResourceType { group: "crd.projectcalico.org", version: "v1", plural: "bgppeers" };
    pub const TIGERA_INSTALLATIONS: ResourceType =
        ResourceType { group: "operator.tigera.io", version: "v1", plural: "installations" };

    fn prefix(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }

    /// Path of the collection, in a namespace or cluster-wide (`None`).
    pub fn collection(&self, namespace: Option<&str>) -> String {
        match namespace {
            Some(ns) => format!("{}/namespaces/{}/{}", self.prefix(), segment(ns), self.plural),
            None => format!("{}/{}", self.prefix(), self.plural),
        }
    }

    /// Path of one object.
    pub fn object(&self, namespace: Option<&str>, name: &str) -> String {
        format!("{}/{}", self.collection(namespace), segment(name))
    }

    /// `apiVersion` as written in object bodies (`v1`, `apps/v1`).
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// Percent-encodes a path segment. Valid Kubernetes names never need it; this keeps an invalid
/// name from changing the path's meaning (`..`, `/`, `?`).
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out == "." || out == ".." {
        return out.replace('.', "%2E");
    }
    out
}

/// Percent-encodes a query parameter value.
pub fn query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_and_group_paths() {
        assert_eq!(
            ResourceType::CONFIGMAPS.object(Some("kube-system"), "eni-config"),
            "/api/v1/namespaces/kube-system/configmaps/eni-config"
        );
        assert_eq!(ResourceType::NODES.collection(None), "/api/v1/nodes");
        assert_eq!(
            ResourceType::DAEMONSETS.object(Some("kube-system"), "calico-node"),
            "/apis/apps/v1/namespaces/kube-system/daemonsets/calico-node"
        );
        assert_eq!(ResourceType::CALICO_IPPOOLS.collection(None), "/apis/crd.projectcalico.org/v1/ippools");
        assert_eq!(ResourceType::DAEMONSETS.api_version(), "apps/v1");
    }

    #[test]
    fn hostile_names_stay_one_segment() {
        assert_eq!(ResourceType::CONFIGMAPS.object(Some("a/b"), ".."), "/api/v1/namespaces/a%2Fb/configmaps/%2E%2E");
        assert_eq!(query_value("alibabacloud.com/external=true"), "alibabacloud.com%2Fexternal%3Dtrue");
    }
}

//! ROA operations of Container Service: which action a method and path are.
//!
//! ROA services route by method and path, but the ACS3 signature still names the action
//! (`x-acs-action`), so [`super::Alibaba::roa`] looks it up here. Templates are from the CS
//! 2015-12-15 API (the official SDK's `client.py`); `{x}` stands for one path segment.

use http::Method;

/// (method, path template, action) of every CS operation the provider may call.
const CS_ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/clusters/{cluster_id}", "DescribeClusterDetail"),
    ("POST", "/clusters/{cluster_id}/components/install", "InstallClusterAddons"),
    ("POST", "/clusters/{cluster_id}/components/uninstall", "UnInstallClusterAddons"),
    ("POST", "/clusters/{cluster_id}/components/upgrade", "UpgradeClusterAddons"),
    ("POST", "/clusters/{cluster_id}/components/{component_id}/config", "ModifyClusterAddon"),
    ("GET", "/clusters/{cluster_id}/components/version", "DescribeClusterAddonsVersion"),
    ("GET", "/clusters/{cluster_id}/components/upgradestatus", "DescribeClusterAddonsUpgradeStatus"),
    ("GET", "/clusters/{cluster_id}/components/{addon_name}/instance", "DescribeClusterAddonInstance"),
    ("GET", "/clusters/{cluster_id}/addon_instances", "ListClusterAddonInstances"),
    ("GET", "/clusters/{cluster_id}/addon_instances/{instance_name}", "GetClusterAddonInstance"),
    ("GET", "/addons", "ListAddons"),
    ("GET", "/addons/{addon_name}", "DescribeAddon"),
    ("GET", "/tasks/{task_id}", "DescribeTaskInfo"),
    ("GET", "/clusters/{cluster_id}/nodepools", "DescribeClusterNodePools"),
    ("GET", "/clusters/{cluster_id}/nodepools/{nodepool_id}", "DescribeClusterNodePoolDetail"),
    ("PUT", "/clusters/{cluster_id}/nodepools/{nodepool_id}", "ModifyClusterNodePool"),
    ("GET", "/clusters/{cluster_id}/nodes", "DescribeClusterNodes"),
    ("GET", "/k8s/{cluster_id}/external/agent/deployment", "DescribeExternalAgent"),
];

fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

fn matches(template: &str, path: &str) -> bool {
    let (t, p) = (segments(template), segments(path));
    t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| (t.starts_with('{') && t.ends_with('}')) || t == p)
}

/// The CS action served at `method path` (query string excluded). When two templates match, the
/// one with more literal segments wins (`/components/version` over `/components/{name}`).
pub fn cs_action(method: &Method, path: &str) -> Option<&'static str> {
    CS_ROUTES
        .iter()
        .filter(|(m, t, _)| *m == method.as_str() && matches(t, path))
        .max_by_key(|(_, t, _)| segments(t).iter().filter(|s| !s.starts_with('{')).count())
        .map(|(_, _, action)| *action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_from_method_and_path() {
        let cases = [
            (Method::GET, "/clusters/c1", Some("DescribeClusterDetail")),
            (Method::POST, "/clusters/c1/components/install", Some("InstallClusterAddons")),
            (Method::POST, "/clusters/c1/components/terway-eniip/config", Some("ModifyClusterAddon")),
            (Method::GET, "/clusters/c1/components/version", Some("DescribeClusterAddonsVersion")),
            (Method::GET, "/clusters/c1/components/terway-eniip/instance", Some("DescribeClusterAddonInstance")),
            (Method::GET, "/clusters/c1/nodepools/np1", Some("DescribeClusterNodePoolDetail")),
            (Method::PUT, "/clusters/c1/nodepools/np1", Some("ModifyClusterNodePool")),
            (Method::GET, "/tasks/T-1", Some("DescribeTaskInfo")),
            (Method::DELETE, "/clusters/c1", None),
            (Method::GET, "/clusters/c1/unknown", None),
            (Method::GET, "/clusters", None),
        ];
        for (m, p, want) in cases {
            assert_eq!(cs_action(&m, p), want, "{m} {p}");
        }
    }
}

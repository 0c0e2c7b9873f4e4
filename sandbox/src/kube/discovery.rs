//! Discovery documents (API concepts, "Discovery API"): `/version`, `/api`, `/api/v1`, `/apis`,
//! `/apis/<group>`, `/apis/<group>/<version>`, in the unaggregated form. Requests that prefer the
//! aggregated `apidiscovery.k8s.io/v2` form get this form too, with `Content-Type: application/json`,
//! which clients take as "aggregated discovery not supported" and fall back on (client-go
//! `discovery.AcceptV1` handling).

use crate::kube::resources::{ResourceInfo, VERBS};
use serde_json::{json, Value};

pub const KUBERNETES_VERSION: &str = "v1.32.4";

pub fn version() -> Value {
    json!({"major":"1","minor":"32","gitVersion": KUBERNETES_VERSION,"gitCommit":"59526cd4867447956156ae3a602fcbac10a2c335",
           "gitTreeState":"clean","buildDate":"2025-04-22T16:02:27Z","goVersion":"go1.23.6","compiler":"gc",
           "platform":"linux/amd64"})
}

pub fn api_versions(server_address: &str) -> Value {
    json!({"kind":"APIVersions","versions":["v1"],
           "serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress": server_address}]})
}

fn group_entry(group: &str, versions: &[String], preferred: &str) -> Value {
    let vs: Vec<Value> =
        versions.iter().map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v})).collect();
    json!({"name": group, "versions": vs,
           "preferredVersion": {"groupVersion": format!("{group}/{preferred}"), "version": preferred}})
}

/// Groups in first-seen order with their versions; the storage version is preferred for CRDs.
fn groups(resources: &[ResourceInfo]) -> Vec<(String, Vec<String>, String)> {
    let mut out: Vec<(String, Vec<String>, String)> = Vec::new();
    for r in resources.iter().filter(|r| !r.group.is_empty()) {
        let preferred = r.custom.as_ref().is_none_or(|c| c.storage);
        match out.iter_mut().find(|(g, _, _)| *g == r.group) {
            Some((_, vs, p)) => {
                if !vs.contains(&r.version) {
                    vs.push(r.version.clone());
                }
                if preferred {
                    *p = r.version.clone();
                }
            }
            None => out.push((r.group.clone(), vec![r.version.clone()], r.version.clone())),
        }
    }
    out
}

pub fn api_group_list(resources: &[ResourceInfo]) -> Value {
    let gs: Vec<Value> = groups(resources).iter().map(|(g, vs, p)| group_entry(g, vs, p)).collect();
    json!({"kind":"APIGroupList","apiVersion":"v1","groups": gs})
}

pub fn api_group(resources: &[ResourceInfo], group: &str) -> Option<Value> {
    groups(resources).iter().find(|(g, _, _)| g == group).map(|(g, vs, p)| {
        let mut e = group_entry(g, vs, p);
        e["kind"] = json!("APIGroup");
        e["apiVersion"] = json!("v1");
        e
    })
}

/// `APIResourceList` for one group/version, or `None` when nothing is served there.
pub fn api_resource_list(resources: &[ResourceInfo], group: &str, version: &str) -> Option<Value> {
    let rs: Vec<&ResourceInfo> = resources.iter().filter(|r| r.group == group && r.version == version).collect();
    if rs.is_empty() {
        return None;
    }
    let mut list = Vec::new();
    for r in rs {
        let mut e = json!({"name": r.resource, "singularName": r.singular, "namespaced": r.namespaced,
                           "kind": r.kind, "verbs": VERBS});
        if !r.short_names.is_empty() {
            e["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            e["categories"] = json!(r.categories);
        }
        list.push(e);
        if r.status_subresource {
            list.push(json!({"name": format!("{}/status", r.resource), "singularName": "", "namespaced": r.namespaced,
                             "kind": r.kind, "verbs": ["get", "patch", "update"]}));
        }
    }
    let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    Some(json!({"kind":"APIResourceList","apiVersion":"v1","groupVersion": gv, "resources": list}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::resources::builtins;

    // API concepts "Discovery API": APIResourceList names, kinds, verbs, shortNames and subresources.
    #[test]
    fn apps_v1_lists_daemonsets() {
        let l = api_resource_list(&builtins(), "apps", "v1").unwrap();
        assert_eq!(l["groupVersion"], json!("apps/v1"));
        let ds = l["resources"].as_array().unwrap().iter().find(|r| r["name"] == "daemonsets").unwrap();
        assert_eq!(ds["kind"], json!("DaemonSet"));
        assert_eq!(ds["shortNames"], json!(["ds"]));
        assert!(ds["verbs"].as_array().unwrap().contains(&json!("patch")));
        assert!(l["resources"].as_array().unwrap().iter().any(|r| r["name"] == "daemonsets/status"));
        assert!(api_resource_list(&builtins(), "apps", "v2").is_none());
    }

    #[test]
    fn group_list_has_apps_and_apiextensions() {
        let g = api_group_list(&builtins());
        let names: Vec<&str> = g["groups"].as_array().unwrap().iter().filter_map(|g| g["name"].as_str()).collect();
        assert_eq!(names, vec!["apps", "apiextensions.k8s.io"]);
    }
}

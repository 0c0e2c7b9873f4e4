//! OpenAPI v3 discovery (`/openapi/v3` and `/openapi/v3/<api|apis/group>/<version>`), the minimum
//! clients need: one path item per resource URL with its operations tagged by
//! `x-kubernetes-group-version-kind` and their query parameters. kubectl (`--validate=strict`, the
//! default of `apply`, `create`, `edit`, `replace`) looks for the `fieldValidation` parameter on the
//! PATCH operation of the object's kind; finding it, it leaves validation to the server (the
//! sandbox's is described in [`crate::kube::strict`]). `/openapi/v2` is not served (404).

use crate::kube::resources::ResourceInfo;
use serde_json::{json, Map, Value};
use std::hash::{Hash, Hasher};

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn gv_hash(resources: &[&ResourceInfo]) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for r in resources {
        r.resource.hash(&mut h);
        r.kind.hash(&mut h);
        r.namespaced.hash(&mut h);
        r.status_subresource.hash(&mut h);
    }
    format!("{:016X}", h.finish())
}

/// The root document: where each group/version's document is.
pub fn root(resources: &[ResourceInfo]) -> Value {
    let mut paths = Map::new();
    let mut gvs: Vec<(String, String)> = Vec::new();
    for r in resources {
        let gv = (r.group.clone(), r.version.clone());
        if !gvs.contains(&gv) {
            gvs.push(gv);
        }
    }
    for (g, v) in gvs {
        let rs: Vec<&ResourceInfo> = resources.iter().filter(|r| r.group == g && r.version == v).collect();
        let p = gv_path(&g, &v);
        paths.insert(p.clone(), json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={}", gv_hash(&rs))}));
    }
    json!({"paths": Value::Object(paths)})
}

fn param(name: &str) -> Value {
    json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}})
}

fn operation(action: &str, gvk: &Value, params: &[&str]) -> Value {
    let ps: Vec<Value> = params.iter().map(|p| param(p)).collect();
    json!({"x-kubernetes-action": action, "x-kubernetes-group-version-kind": gvk, "parameters": ps,
           "responses": {"200": {"description": "OK"}}})
}

/// The document of one group/version, or `None` when nothing is served there.
pub fn group_version(resources: &[ResourceInfo], group: &str, version: &str) -> Option<Value> {
    let rs: Vec<&ResourceInfo> = resources.iter().filter(|r| r.group == group && r.version == version).collect();
    if rs.is_empty() {
        return None;
    }
    let prefix = format!("/{}", gv_path(group, version));
    let mut paths = Map::new();
    let write = ["dryRun", "fieldManager", "fieldValidation", "pretty"];
    let patch = ["dryRun", "fieldManager", "fieldValidation", "force", "pretty"];
    for r in rs {
        let gvk = json!({"group": r.group, "version": r.version, "kind": r.kind});
        let coll = if r.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}", r.resource)
        } else {
            format!("{prefix}/{}", r.resource)
        };
        paths.insert(
            coll.clone(),
            json!({"get": operation("list", &gvk, &["labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "timeoutSeconds", "watch"]),
                   "post": operation("post", &gvk, &write),
                   "delete": operation("deletecollection", &gvk, &["labelSelector", "fieldSelector", "dryRun"])}),
        );
        let item = format!("{coll}/{{name}}");
        paths.insert(
            item.clone(),
            json!({"get": operation("get", &gvk, &["pretty"]), "put": operation("put", &gvk, &write),
                   "patch": operation("patch", &gvk, &patch), "delete": operation("delete", &gvk, &["dryRun", "gracePeriodSeconds", "propagationPolicy"])}),
        );
        if r.status_subresource {
            paths.insert(
                format!("{item}/status"),
                json!({"get": operation("get", &gvk, &["pretty"]), "put": operation("put", &gvk, &write),
                       "patch": operation("patch", &gvk, &patch)}),
            );
        }
    }
    Some(
        json!({"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": crate::kube::discovery::KUBERNETES_VERSION},
                "paths": Value::Object(paths), "components": {"schemas": {}}}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::resources::builtins;

    // kubectl's QueryParamVerifierV3 needs the PATCH operation of the kind with a fieldValidation parameter.
    #[test]
    fn patch_operations_declare_field_validation() {
        let all = builtins();
        let root = root(&all);
        assert!(root["paths"]["apis/apps/v1"]["serverRelativeURL"]
            .as_str()
            .unwrap()
            .starts_with("/openapi/v3/apis/apps/v1?hash="));
        let doc = group_version(&all, "apps", "v1").unwrap();
        let p = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/daemonsets/{name}"]["patch"];
        assert_eq!(p["x-kubernetes-group-version-kind"]["kind"], json!("DaemonSet"));
        assert!(p["parameters"].as_array().unwrap().iter().any(|x| x["name"] == "fieldValidation"));
        assert!(group_version(&all, "nope", "v1").is_none());
    }
}

//! Server-side printing: `meta.k8s.io/v1` `Table` responses (API concepts, "Receiving resources as
//! Tables"), with the columns the real server's printers produce for each kind.

use crate::kube::resources::ResourceInfo;
use serde_json::{json, Value};

/// `duration.HumanDuration` from k8s.io/apimachinery, used for AGE cells.
pub fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        let s = secs % 60;
        return if s == 0 { format!("{minutes}m") } else { format!("{minutes}m{s}s") };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 { format!("{hours}h") } else { format!("{hours}h{m}m") };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 { format!("{}d", hours / 24) } else { format!("{}d{h}h", hours / 24) };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 { format!("{}y", hours / 24 / 365) } else { format!("{}y{dy}d", hours / 24 / 365) };
    }
    format!("{}y", hours / 24 / 365)
}

fn age(obj: &Value) -> String {
    let ts = obj["metadata"]["creationTimestamp"].as_str().unwrap_or_default();
    let Ok(t) = time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339) else {
        return "<unknown>".into();
    };
    human_duration((time::OffsetDateTime::now_utc() - t).whole_seconds())
}

struct Col(&'static str, &'static str, &'static str, i64);

fn columns(cols: &[Col]) -> Vec<Value> {
    cols.iter()
        .map(|Col(name, ty, format, priority)| {
            json!({"name": name, "type": ty, "format": format, "description": description(name), "priority": priority})
        })
        .collect()
}

fn description(col: &str) -> &'static str {
    match col {
        "Name" => "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
        "Age" => "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
        _ => "",
    }
}

fn format_labels(m: &Value) -> String {
    let Some(map) = m.as_object().filter(|m| !m.is_empty()) else {
        return "<none>".into();
    };
    let mut parts: Vec<String> = map.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect();
    parts.sort();
    parts.join(",")
}

fn selector_string(sel: &Value) -> String {
    let mut parts: Vec<String> = sel["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    parts.sort();
    for e in sel["matchExpressions"].as_array().into_iter().flatten() {
        let key = e["key"].as_str().unwrap_or_default();
        let vals: Vec<&str> = e["values"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        parts.push(match e["operator"].as_str().unwrap_or_default() {
            "In" => format!("{key} in ({})", vals.join(",")),
            "NotIn" => format!("{key} notin ({})", vals.join(",")),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            other => format!("{key} {other}"),
        });
    }
    if parts.is_empty() {
        "<none>".into()
    } else {
        parts.join(",")
    }
}

fn containers(obj: &Value) -> (String, String) {
    let cs = obj["spec"]["template"]["spec"]["containers"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = cs.iter().filter_map(|c| c["name"].as_str()).collect();
    let images: Vec<&str> = cs.iter().filter_map(|c| c["image"].as_str()).collect();
    (names.join(","), images.join(","))
}

fn int(v: &Value) -> Value {
    json!(v.as_i64().unwrap_or(0))
}

fn node_status(n: &Value) -> String {
    let ready = n["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Ready")
        .map(|c| c["status"] == "True");
    let mut s = match ready {
        Some(true) => "Ready".to_string(),
        Some(false) => "NotReady".to_string(),
        None => "Unknown".to_string(),
    };
    if n["spec"]["unschedulable"] == json!(true) {
        s.push_str(",SchedulingDisabled");
    }
    s
}

fn node_roles(n: &Value) -> String {
    let mut roles: Vec<String> = n["metadata"]["labels"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/").map(str::to_string))
        .filter(|r| !r.is_empty())
        .collect();
    roles.sort();
    if roles.is_empty() {
        "<none>".into()
    } else {
        roles.join(",")
    }
}

fn node_address(n: &Value, ty: &str) -> String {
    n["status"]["addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["type"] == ty)
        .and_then(|a| a["address"].as_str())
        .unwrap_or("<none>")
        .to_string()
}

/// A tiny JSONPath for `additionalPrinterColumns` (`.spec.a.b`, `.metadata.name`).
fn simple_path<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = obj;
    for part in path.trim_start_matches('.').split('.').filter(|p| !p.is_empty()) {
        cur = cur.get(part)?;
    }
    Some(cur)
}

/// Column definitions and one row of cells per object.
fn columns_and_cells(info: &ResourceInfo, objs: &[Value]) -> (Vec<Value>, Vec<Vec<Value>>) {
    let name = |o: &Value| json!(o["metadata"]["name"].as_str().unwrap_or_default());
    if let Some(custom) = &info.custom {
        let mut defs =
            vec![json!({"name":"Name","type":"string","format":"name","description":description("Name"),"priority":0})];
        let mut cols = custom.printer_columns.clone();
        if cols.is_empty() {
            cols.push(crate::kube::resources::PrinterColumn {
                name: "Age".into(),
                type_: "date".into(),
                format: String::new(),
                description: description("Age").into(),
                priority: 0,
                json_path: ".metadata.creationTimestamp".into(),
            });
        }
        for c in &cols {
            defs.push(json!({"name": c.name, "type": c.type_, "format": c.format, "description": c.description, "priority": c.priority}));
        }
        let rows = objs
            .iter()
            .map(|o| {
                let mut r = vec![name(o)];
                for c in &cols {
                    let v = simple_path(o, &c.json_path);
                    r.push(match (c.type_.as_str(), v) {
                        ("date", Some(Value::String(_))) => json!(age(o)),
                        (_, Some(v)) => v.clone(),
                        (_, None) => Value::Null,
                    });
                }
                r
            })
            .collect();
        return (defs, rows);
    }
    match info.kind.as_str() {
        "DaemonSet" => (
            columns(&[
                Col("Name", "string", "name", 0),
                Col("Desired", "integer", "", 0),
                Col("Current", "integer", "", 0),
                Col("Ready", "integer", "", 0),
                Col("Up-to-date", "integer", "", 0),
                Col("Available", "integer", "", 0),
                Col("Node Selector", "string", "", 0),
                Col("Age", "string", "", 0),
                Col("Containers", "string", "", 1),
                Col("Images", "string", "", 1),
                Col("Selector", "string", "", 1),
            ]),
            objs.iter()
                .map(|o| {
                    let s = &o["status"];
                    let (c, i) = containers(o);
                    vec![
                        name(o),
                        int(&s["desiredNumberScheduled"]),
                        int(&s["currentNumberScheduled"]),
                        int(&s["numberReady"]),
                        int(&s["updatedNumberScheduled"]),
                        int(&s["numberAvailable"]),
                        json!(format_labels(&o["spec"]["template"]["spec"]["nodeSelector"])),
                        json!(age(o)),
                        json!(c),
                        json!(i),
                        json!(selector_string(&o["spec"]["selector"])),
                    ]
                })
                .collect(),
        ),
        "Deployment" => (
            columns(&[
                Col("Name", "string", "name", 0),
                Col("Ready", "string", "", 0),
                Col("Up-to-date", "integer", "", 0),
                Col("Available", "integer", "", 0),
                Col("Age", "string", "", 0),
                Col("Containers", "string", "", 1),
                Col("Images", "string", "", 1),
                Col("Selector", "string", "", 1),
            ]),
            objs.iter()
                .map(|o| {
                    let s = &o["status"];
                    let (c, i) = containers(o);
                    vec![
                        name(o),
                        json!(format!(
                            "{}/{}",
                            s["readyReplicas"].as_i64().unwrap_or(0),
                            o["spec"]["replicas"].as_i64().unwrap_or(0)
                        )),
                        int(&s["updatedReplicas"]),
                        int(&s["availableReplicas"]),
                        json!(age(o)),
                        json!(c),
                        json!(i),
                        json!(selector_string(&o["spec"]["selector"])),
                    ]
                })
                .collect(),
        ),
        "ConfigMap" => (
            columns(&[Col("Name", "string", "name", 0), Col("Data", "string", "", 0), Col("Age", "string", "", 0)]),
            objs.iter()
                .map(|o| {
                    let n = o["data"].as_object().map_or(0, |m| m.len())
                        + o["binaryData"].as_object().map_or(0, |m| m.len());
                    vec![name(o), json!(n), json!(age(o))]
                })
                .collect(),
        ),
        "Secret" => (
            columns(&[
                Col("Name", "string", "name", 0),
                Col("Type", "string", "", 0),
                Col("Data", "string", "", 0),
                Col("Age", "string", "", 0),
            ]),
            objs.iter()
                .map(|o| {
                    let n = o["data"].as_object().map_or(0, |m| m.len());
                    vec![name(o), o["type"].clone(), json!(n), json!(age(o))]
                })
                .collect(),
        ),
        "Namespace" => (
            columns(&[Col("Name", "string", "name", 0), Col("Status", "string", "", 0), Col("Age", "string", "", 0)]),
            objs.iter().map(|o| vec![name(o), o["status"]["phase"].clone(), json!(age(o))]).collect(),
        ),
        "Node" => (
            columns(&[
                Col("Name", "string", "name", 0),
                Col("Status", "string", "", 0),
                Col("Roles", "string", "", 0),
                Col("Age", "string", "", 0),
                Col("Version", "string", "", 0),
                Col("Internal-IP", "string", "", 1),
                Col("External-IP", "string", "", 1),
                Col("OS-Image", "string", "", 1),
                Col("Kernel-Version", "string", "", 1),
                Col("Container-Runtime", "string", "", 1),
            ]),
            objs.iter()
                .map(|o| {
                    let ni = &o["status"]["nodeInfo"];
                    let s = |v: &Value| json!(v.as_str().unwrap_or("<unknown>"));
                    vec![
                        name(o),
                        json!(node_status(o)),
                        json!(node_roles(o)),
                        json!(age(o)),
                        s(&ni["kubeletVersion"]),
                        json!(node_address(o, "InternalIP")),
                        json!(node_address(o, "ExternalIP")),
                        s(&ni["osImage"]),
                        s(&ni["kernelVersion"]),
                        s(&ni["containerRuntimeVersion"]),
                    ]
                })
                .collect(),
        ),
        // The default table convertor (CRDs and anything without a printer): Name and Created At.
        _ => (
            vec![
                json!({"name":"Name","type":"string","format":"name","description":description("Name"),"priority":0}),
                json!({"name":"Created At","type":"date","format":"","description":description("Age"),"priority":0}),
            ],
            objs.iter().map(|o| vec![name(o), o["metadata"]["creationTimestamp"].clone()]).collect(),
        ),
    }
}

/// `includeObject` of the Table request: `None`, `Metadata` (default) or `Object`.
pub fn to_table(info: &ResourceInfo, objs: &[Value], include_object: &str, resource_version: &str) -> Value {
    let (defs, cells) = columns_and_cells(info, objs);
    let rows: Vec<Value> = objs
        .iter()
        .zip(cells)
        .map(|(o, c)| {
            let mut row = json!({"cells": c});
            match include_object {
                "None" => {}
                "Object" => row["object"] = o.clone(),
                _ => {
                    row["object"] =
                        json!({"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata": o["metadata"]});
                }
            }
            row
        })
        .collect();
    json!({"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion": resource_version},
           "columnDefinitions": defs, "rows": rows})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::resources::builtins;

    // k8s.io/apimachinery/pkg/util/duration HumanDuration, as used for the AGE column.
    #[test]
    fn human_durations() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(119), "119s");
        assert_eq!(human_duration(150), "2m30s");
        assert_eq!(human_duration(600), "10m");
        assert_eq!(human_duration(3 * 3600 + 60), "3h1m");
        assert_eq!(human_duration(30 * 3600), "30h");
        assert_eq!(human_duration(3 * 86400 + 3600), "3d1h");
    }

    // API concepts "Receiving resources as Tables": DaemonSet columns and a PartialObjectMetadata row object.
    #[test]
    fn daemonset_table() {
        let info = builtins().into_iter().find(|r| r.kind == "DaemonSet").unwrap();
        let ds = json!({"metadata":{"name":"calico-node","creationTimestamp":"2020-01-01T00:00:00Z"},
            "spec":{"selector":{"matchLabels":{"k8s-app":"calico-node"}},"template":{"spec":{"nodeSelector":{"kubernetes.io/os":"linux"},
                     "containers":[{"name":"calico-node","image":"calico/node:v3"}]}}},
            "status":{"desiredNumberScheduled":3,"currentNumberScheduled":3,"numberReady":3,"updatedNumberScheduled":3,"numberAvailable":3}});
        let t = to_table(&info, &[ds], "Metadata", "7");
        assert_eq!(t["columnDefinitions"][6]["name"], json!("Node Selector"));
        assert_eq!(t["rows"][0]["cells"][1], json!(3));
        assert_eq!(t["rows"][0]["cells"][6], json!("kubernetes.io/os=linux"));
        assert_eq!(t["rows"][0]["object"]["kind"], json!("PartialObjectMetadata"));
    }
}

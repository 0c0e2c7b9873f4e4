//! `metadata.managedFields`: who owns which fields, updated on every write the way the API server's
//! field manager does (Server-Side Apply docs, "Field management" and "Conflicts").

use crate::kube::fieldpath::{self, compare, FieldSet, Path};
use crate::kube::schema::Node;
use crate::kube::status::{ApiError, Cause};
use serde_json::{json, Map, Value};

pub const APPLY: &str = "Apply";
pub const UPDATE: &str = "Update";

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub manager: String,
    pub operation: String,
    pub api_version: String,
    pub subresource: String,
    pub time: String,
    pub set: FieldSet,
}

impl Entry {
    /// The manager identity (`BuildManagerIdentifier`): appliers are one entry whatever the apiVersion.
    fn id(&self) -> (String, String, String, String) {
        let v = if self.operation == APPLY { String::new() } else { self.api_version.clone() };
        (self.manager.clone(), self.operation.clone(), v, self.subresource.clone())
    }

    /// How a conflict names this manager (`printManager` in the apiserver's fieldmanager).
    fn printed(&self) -> String {
        let mut s = format!("\"{}\"", self.manager);
        if !self.subresource.is_empty() {
            s.push_str(&format!(" with subresource \"{}\"", self.subresource));
        }
        if self.operation == UPDATE {
            s.push_str(&format!(" using {}", self.api_version));
        }
        s
    }
}

pub fn parse(obj: &Value) -> Result<Vec<Entry>, ApiError> {
    let mut out = Vec::new();
    for e in obj["metadata"]["managedFields"].as_array().into_iter().flatten() {
        let set = match e.get("fieldsV1") {
            Some(f) => fieldpath::from_fields_v1(f)
                .map_err(|m| ApiError::bad_request(format!("metadata.managedFields: invalid fieldsV1: {m}")))?,
            None => FieldSet::new(),
        };
        let operation = e["operation"].as_str().unwrap_or_default().to_string();
        if operation != APPLY && operation != UPDATE {
            return Err(ApiError::bad_request(format!("metadata.managedFields: invalid operation {operation:?}")));
        }
        out.push(Entry {
            manager: e["manager"].as_str().unwrap_or_default().to_string(),
            operation,
            api_version: e["apiVersion"].as_str().unwrap_or_default().to_string(),
            subresource: e["subresource"].as_str().unwrap_or_default().to_string(),
            time: e["time"].as_str().unwrap_or_default().to_string(),
            set,
        });
    }
    Ok(out)
}

/// Writes the entries into `obj`, sorted as the server sorts them (operation, time, manager).
pub fn store(obj: &mut Value, mut entries: Vec<Entry>) {
    entries.sort_by(|a, b| {
        (a.operation.as_str(), a.time.as_str(), a.manager.as_str(), a.api_version.as_str()).cmp(&(
            b.operation.as_str(),
            b.time.as_str(),
            b.manager.as_str(),
            b.api_version.as_str(),
        ))
    });
    let list: Vec<Value> = entries
        .iter()
        .map(|e| {
            let mut m = Map::new();
            m.insert("manager".into(), json!(e.manager));
            m.insert("operation".into(), json!(e.operation));
            m.insert("apiVersion".into(), json!(e.api_version));
            m.insert("time".into(), json!(e.time));
            m.insert("fieldsType".into(), json!("FieldsV1"));
            m.insert("fieldsV1".into(), fieldpath::to_fields_v1(&e.set));
            if !e.subresource.is_empty() {
                m.insert("subresource".into(), json!(e.subresource));
            }
            Value::Object(m)
        })
        .collect();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if list.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(list));
        }
    }
}

/// The object as the field manager sees it: no type meta, no system metadata, and only the part of
/// the object the (sub)resource owns (`status` for `/status`, everything else for the main resource).
pub fn strip(obj: &Value, has_status_subresource: bool, subresource: &str) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("apiVersion");
        m.remove("kind");
        if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in [
                "name",
                "namespace",
                "uid",
                "resourceVersion",
                "generation",
                "creationTimestamp",
                "selfLink",
                "managedFields",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
            ] {
                meta.remove(k);
            }
            if meta.is_empty() {
                m.remove("metadata");
            }
        }
        if has_status_subresource {
            if subresource == "status" {
                let status = m.remove("status");
                m.clear();
                if let Some(s) = status {
                    m.insert("status".into(), s);
                }
            } else {
                m.remove("status");
            }
        }
    }
    v
}

/// Records a non-apply write (`operation: Update`): the writer takes the fields it changed, and
/// everybody loses what was removed or taken over.
pub fn track_update(entries: &mut Vec<Entry>, old: &Value, new: &Value, schema: &Node<'_>, me: Entry) {
    let c = compare(old, new, schema);
    if c.is_same() {
        return;
    }
    let changed: FieldSet = c.modified.union(&c.added).cloned().collect();
    let my_id = me.id();
    for e in entries.iter_mut() {
        if e.id() != my_id {
            e.set = e.set.difference(&changed).cloned().collect();
        }
        e.set = e.set.difference(&c.removed).cloned().collect();
    }
    match entries.iter_mut().find(|e| e.id() == my_id) {
        Some(e) => {
            e.set = e.set.union(&changed).cloned().collect::<FieldSet>().difference(&c.removed).cloned().collect();
            e.time = me.time;
        }
        None => {
            let mut me = me;
            me.set = changed;
            entries.push(me);
        }
    }
    entries.retain(|e| !e.set.is_empty());
}

/// Whether a path or any path below it is in `set`.
fn touches(set: &FieldSet, p: &Path) -> bool {
    set.range(p.clone()..).take_while(|q| q.starts_with(p)).next().is_some()
}

/// Server-side apply of `config` (stripped) onto `live` (stripped). Returns the merged object, or the
/// 409 conflict the server answers when `force` is off and another manager owns a changed field.
pub fn apply(
    entries: &mut Vec<Entry>,
    live: &Value,
    config: &Value,
    schema: &Node<'_>,
    me: Entry,
    force: bool,
) -> Result<Value, ApiError> {
    let my_id = me.id();
    let config_set = fieldpath::to_field_set(config, schema);
    let mut merged = fieldpath::apply_merge(live, config, schema);
    let others: FieldSet = entries.iter().filter(|e| e.id() != my_id).flat_map(|e| e.set.iter().cloned()).collect();
    // Fields this applier set last time and no longer sets are removed, unless someone else owns them.
    if let Some(prev) = entries.iter().find(|e| e.id() == my_id) {
        let dropped: FieldSet = prev.set.difference(&config_set).filter(|p| !touches(&others, p)).cloned().collect();
        fieldpath::remove_paths(&mut merged, &dropped, schema);
    }
    let c = compare(live, &merged, schema);
    let changed: FieldSet = c.modified.union(&c.added).cloned().collect();
    let mut conflicts: Vec<(String, String, usize)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if e.id() == my_id {
            continue;
        }
        for p in e.set.intersection(&changed) {
            conflicts.push((e.printed(), fieldpath::path_string(p), i));
        }
    }
    if !conflicts.is_empty() && !force {
        conflicts.sort();
        return Err(conflict_error(&conflicts));
    }
    for e in entries.iter_mut() {
        if e.id() != my_id {
            e.set = e.set.difference(&changed).cloned().collect();
        }
        e.set = e.set.difference(&c.removed).cloned().collect();
    }
    entries.retain(|e| e.id() == my_id || !e.set.is_empty());
    match entries.iter_mut().find(|e| e.id() == my_id) {
        Some(e) => {
            if e.set != config_set || !c.is_same() {
                e.time = me.time.clone();
            }
            e.set = config_set;
            e.api_version = me.api_version;
        }
        None => {
            let mut me = me;
            me.set = config_set;
            entries.push(me);
        }
    }
    // structured-merge-diff drops every manager left without fields, the applier included.
    entries.retain(|e| !e.set.is_empty());
    Ok(merged)
}

/// `NewConflictError` of the apiserver's fieldmanager: message and one `FieldManagerConflict` cause per path.
fn conflict_error(conflicts: &[(String, String, usize)]) -> ApiError {
    let message = if conflicts.len() == 1 {
        format!("Apply failed with 1 conflict: conflict with {}: {}", conflicts[0].0, conflicts[0].1)
    } else {
        let mut lines = Vec::new();
        let mut last: Option<&str> = None;
        for (m, p, _) in conflicts {
            if last != Some(m.as_str()) {
                lines.push(format!("conflicts with {m}:"));
                last = Some(m);
            }
            lines.push(format!("- {p}"));
        }
        format!("Apply failed with {} conflicts: {}", conflicts.len(), lines.join("\n"))
    };
    let mut e = ApiError::new(409, "Conflict", message);
    e.causes = conflicts
        .iter()
        .map(|(m, p, _)| Cause {
            reason: Some("FieldManagerConflict".into()),
            message: format!("conflict with {m}"),
            field: Some(p.clone()),
        })
        .collect();
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::schema;

    fn entry(manager: &str, op: &str) -> Entry {
        Entry {
            manager: manager.into(),
            operation: op.into(),
            api_version: "v1".into(),
            subresource: String::new(),
            time: "2024-01-01T00:00:00Z".into(),
            set: FieldSet::new(),
        }
    }

    fn cm() -> Node<'static> {
        Node(schema::builtin("ConfigMap"))
    }

    // Server-Side Apply docs, "Conflicts": applying a different value to a field another manager owns
    // fails with 409 naming the manager and the field; the same value makes both co-owners.
    #[test]
    fn apply_conflicts_and_shared_ownership() {
        let mut entries = Vec::new();
        let live =
            apply(&mut entries, &json!({}), &json!({"data":{"k":"1"}}), &cm(), entry("a", APPLY), false).unwrap();
        let same = apply(&mut entries, &live, &json!({"data":{"k":"1"}}), &cm(), entry("b", APPLY), false).unwrap();
        assert_eq!(same, live);
        let e = apply(&mut entries, &live, &json!({"data":{"k":"2"}}), &cm(), entry("c", APPLY), false).unwrap_err();
        assert_eq!(e.code, 409);
        assert_eq!(
            e.message,
            "Apply failed with 2 conflicts: conflicts with \"a\":\n- .data.k\nconflicts with \"b\":\n- .data.k"
        );
        assert_eq!(e.causes[0].reason.as_deref(), Some("FieldManagerConflict"));
        assert_eq!(e.causes[0].field.as_deref(), Some(".data.k"));
    }

    // Server-Side Apply docs, "Conflicts" / "force": forcing takes the field from the other manager.
    #[test]
    fn force_takes_ownership() {
        let mut entries = Vec::new();
        let live =
            apply(&mut entries, &json!({}), &json!({"data":{"k":"1"}}), &cm(), entry("a", APPLY), false).unwrap();
        let live = apply(&mut entries, &live, &json!({"data":{"k":"2"}}), &cm(), entry("b", APPLY), true).unwrap();
        assert_eq!(live, json!({"data":{"k":"2"}}));
        // "a" owned nothing else, so its entry is gone; "b" owns the field.
        assert!(entries.iter().all(|e| e.manager != "a"));
        assert_eq!(entries.len(), 1);
    }

    // Server-Side Apply docs, "Field management": fields an applier stops setting are removed if nobody
    // else owns them.
    #[test]
    fn dropped_fields_are_pruned() {
        let mut entries = Vec::new();
        let live = apply(&mut entries, &json!({}), &json!({"data":{"k":"1","j":"2"}}), &cm(), entry("a", APPLY), false)
            .unwrap();
        let live = apply(&mut entries, &live, &json!({"data":{"k":"1"}}), &cm(), entry("a", APPLY), false).unwrap();
        assert_eq!(live, json!({"data":{"k":"1"}}));
    }

    // An Update-operation manager loses ownership of fields another writer changes.
    #[test]
    fn update_takes_changed_fields() {
        let mut entries = Vec::new();
        track_update(&mut entries, &json!({}), &json!({"data":{"k":"1"}}), &cm(), entry("kubectl-create", UPDATE));
        track_update(
            &mut entries,
            &json!({"data":{"k":"1"}}),
            &json!({"data":{"k":"2"}}),
            &cm(),
            entry("kubectl-edit", UPDATE),
        );
        assert_eq!(entries.len(), 2, "create keeps ownership of the data map itself");
        let edit = entries.iter().find(|e| e.manager == "kubectl-edit").unwrap();
        assert_eq!(fieldpath::to_fields_v1(&edit.set), json!({"f:data":{"f:k":{}}}));
        let e = apply(
            &mut entries,
            &json!({"data":{"k":"2"}}),
            &json!({"data":{"k":"3"}}),
            &cm(),
            entry("tf", APPLY),
            false,
        )
        .unwrap_err();
        assert_eq!(e.message, "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using v1: .data.k");
    }
}

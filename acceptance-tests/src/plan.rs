//! The result of `terraform plan -detailed-exitcode -out` plus `terraform show -json` of that plan.

use anyhow::{anyhow, Result};
use serde_json::Value;

use crate::state::{lookup, State};

/// A finished plan: exit code 0 (no changes) or 2 (changes), the human output, and the structured
/// plan (`terraform show -json <planfile>`).
#[derive(Debug, Clone)]
pub struct PlanResult {
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
    pub json: Value,
}

impl PlanResult {
    /// Whether Terraform reported changes (`-detailed-exitcode` 2).
    pub fn has_changes(&self) -> bool {
        self.exit_code == 2
    }

    /// The `resource_changes` entries (including data sources read during apply).
    pub fn resource_changes(&self) -> Vec<&Value> {
        self.json.get("resource_changes").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default()
    }

    /// Resource changes whose actions are not just `no-op` (and not a plain `read` of a data source
    /// Terraform could read at plan time, which does not appear here at all).
    pub fn changed_addresses(&self) -> Vec<String> {
        self.resource_changes()
            .into_iter()
            .filter(|rc| {
                let actions = rc.pointer("/change/actions").and_then(Value::as_array);
                !actions.is_some_and(|a| a.iter().all(|x| x == "no-op"))
            })
            .filter_map(|rc| rc.get("address")?.as_str().map(str::to_owned))
            .collect()
    }

    /// The `change` object (`actions`, `before`, `after`, `after_unknown`, ...) for `address`.
    pub fn change(&self, address: &str) -> Result<&Value> {
        self.resource_changes()
            .into_iter()
            .find(|rc| rc.get("address").and_then(Value::as_str) == Some(address))
            .and_then(|rc| rc.get("change"))
            .ok_or_else(|| {
                anyhow!(
                    "{address} has no resource change in the plan (changes: [{}])",
                    self.changed_addresses().join(", ")
                )
            })
    }

    /// The planned actions for `address`, e.g. `["create"]`, `["read"]`, `["delete", "create"]`.
    pub fn actions(&self, address: &str) -> Result<Vec<String>> {
        Ok(self
            .change(address)?
            .get("actions")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
            .unwrap_or_default())
    }

    /// Whether the attribute at `path` of `address` is unknown until apply.
    pub fn is_unknown(&self, address: &str, path: &str) -> Result<bool> {
        let after_unknown = self.change(address)?.get("after_unknown").cloned().unwrap_or(Value::Null);
        if after_unknown == Value::Bool(true) {
            return Ok(true);
        }
        Ok(crate::state::is_marked(&after_unknown, path))
    }

    /// The planned (after) value of an attribute; null when it is unknown or absent.
    pub fn planned_attr(&self, address: &str, path: &str) -> Result<Value> {
        let after = self.change(address)?.get("after").cloned().unwrap_or(Value::Null);
        lookup(&after, path).map_err(|e| anyhow!("{address}: {e}"))
    }

    /// The plan's `planned_values` as a [`State`], for the same lookups as after apply.
    pub fn planned_values(&self) -> State {
        let values = self.json.get("planned_values").cloned().unwrap_or(Value::Null);
        State::new(serde_json::json!({ "values": values }))
    }

    /// Attributes whose planned values force replacement, per address (`replace_paths`).
    pub fn replace_paths(&self, address: &str) -> Result<Vec<Value>> {
        let rc = self
            .resource_changes()
            .into_iter()
            .find(|rc| rc.get("address").and_then(Value::as_str) == Some(address))
            .ok_or_else(|| anyhow!("{address} has no resource change in the plan"))?;
        Ok(rc.pointer("/change/replace_paths").and_then(Value::as_array).cloned().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan() -> PlanResult {
        PlanResult {
            exit_code: 2,
            stdout: String::new(),
            stderr: String::new(),
            json: json!({
                "planned_values": {"root_module": {"resources": [
                    {"address": "terraform_data.a", "values": {"input": "x"}}
                ]}},
                "resource_changes": [
                    {"address": "terraform_data.a", "change": {
                        "actions": ["create"], "after": {"input": "x", "output": null},
                        "after_unknown": {"id": true, "output": true}}},
                    {"address": "terraform_data.b", "change": {"actions": ["no-op"], "after": {}}},
                    {"address": "data.hybrid_datapath_image.x", "change": {
                        "actions": ["read"], "after": {"region": null}, "after_unknown": true}},
                    {"address": "terraform_data.c", "change": {
                        "actions": ["delete", "create"], "replace_paths": [["input"]]}}
                ]
            }),
        }
    }

    #[test]
    fn reads_actions_and_unknowns() {
        let p = plan();
        assert!(p.has_changes());
        assert_eq!(p.changed_addresses(), vec!["terraform_data.a", "data.hybrid_datapath_image.x", "terraform_data.c"]);
        assert_eq!(p.actions("terraform_data.a").unwrap(), vec!["create"]);
        assert_eq!(p.actions("data.hybrid_datapath_image.x").unwrap(), vec!["read"]);
        assert!(p.is_unknown("terraform_data.a", "id").unwrap());
        assert!(!p.is_unknown("terraform_data.a", "input").unwrap());
        assert!(p.is_unknown("data.hybrid_datapath_image.x", "anything").unwrap());
        assert_eq!(p.planned_attr("terraform_data.a", "input").unwrap(), json!("x"));
        assert_eq!(p.planned_values().attr("terraform_data.a", "input").unwrap(), json!("x"));
        assert_eq!(p.replace_paths("terraform_data.c").unwrap(), vec![json!(["input"])]);
        let err = p.actions("terraform_data.zzz").unwrap_err().to_string();
        assert!(err.contains("terraform_data.zzz") && err.contains("terraform_data.a"), "{err}");
    }
}

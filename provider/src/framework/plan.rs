//! Generic planning: turns Terraform's proposed new state into a planned state that obeys
//! the protocol's rules, before a resource adds its own logic.
//!
//! Rules (as terraform-plugin-framework applies them):
//! - non-computed attributes are planned exactly as configured;
//! - a computed attribute left null in configuration gets its default, or on create becomes
//!   unknown, or on update keeps its prior value — unless something else in the resource
//!   changes, in which case it becomes unknown (it may be recomputed) except where
//!   `UseStateForUnknown` says the value never changes once known;
//! - write-only attributes are always planned null;
//! - attributes marked `RequiresReplace` whose planned value differs from the prior one are
//!   reported so Terraform plans a replacement.

use crate::cty::Value;

use super::path::AttrPath;
use super::schema::{Block, PlanModifier};

pub struct PlannedChange {
    pub planned: Value,
    pub requires_replace: Vec<AttrPath>,
}

pub fn plan_block(block: &Block, prior: &Value, proposed: &Value, config: &Value) -> PlannedChange {
    let creating = prior.is_null();
    let mut planned = match proposed {
        Value::Object(m) => m.clone(),
        _ => return PlannedChange { planned: proposed.clone(), requires_replace: Vec::new() },
    };
    let mut may_recompute = Vec::new();
    for attr in &block.attributes {
        let cfg = config.get(&attr.name).unwrap_or(&Value::Null);
        let slot = planned.entry(attr.name.clone()).or_insert(Value::Null);
        if attr.write_only {
            *slot = Value::Null;
        } else if attr.computed && cfg.is_null() {
            if let Some(default) = &attr.default {
                *slot = default.clone();
            } else if creating {
                *slot = Value::Unknown;
            } else if !attr.has_modifier(|m| matches!(m, PlanModifier::UseStateForUnknown)) {
                may_recompute.push(attr.name.clone());
            }
        }
    }
    let planned_obj = Value::Object(planned.clone());
    if !creating && !planned_obj.semantic_eq(prior) {
        for name in may_recompute {
            planned.insert(name, Value::Unknown);
        }
    }
    let mut requires_replace = Vec::new();
    if !creating {
        for attr in &block.attributes {
            if !attr.has_modifier(|m| matches!(m, PlanModifier::RequiresReplace)) {
                continue;
            }
            let before = prior.get(&attr.name).unwrap_or(&Value::Null);
            let after = planned.get(&attr.name).unwrap_or(&Value::Null);
            if !after.semantic_eq(before) {
                requires_replace.push(AttrPath::attr(&attr.name));
            }
        }
    }
    PlannedChange { planned: Value::Object(planned), requires_replace }
}

/// Checks the protocol's rules on a finished plan, so a resource bug surfaces as a clear
/// diagnostic instead of Terraform's "provider produced an invalid plan".
pub fn check_plan(block: &Block, config: &Value, planned: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for attr in &block.attributes {
        let cfg = config.get(&attr.name).unwrap_or(&Value::Null);
        let p = planned.get(&attr.name).unwrap_or(&Value::Null);
        if attr.write_only {
            if !p.is_null() {
                problems.push(format!("write-only attribute {} planned non-null", attr.name));
            }
        } else if !attr.computed && !p.semantic_eq(cfg) {
            problems.push(format!("{} planned differently from its configuration", attr.name));
        } else if attr.computed && !cfg.is_null() && !p.semantic_eq(cfg) {
            problems.push(format!("{} is configured but planned differently", attr.name));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::Attribute;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    fn block() -> Block {
        Block::new("t")
            .attr(Attribute::string("name").required().requires_replace())
            .attr(Attribute::string("size").optional())
            .attr(Attribute::string("id").computed().use_state_for_unknown())
            .attr(Attribute::string("status").computed())
            .attr(Attribute::string("mode").default("fast"))
            .attr(Attribute::string("password").write_only())
    }

    #[test]
    fn create_marks_computed_unknown_and_applies_defaults() {
        let cfg = obj(&[("name", "a".into()), ("password", "p".into())]);
        let proposed = obj(&[("name", "a".into()), ("password", "p".into())]);
        let p = plan_block(&block(), &Value::Null, &proposed, &cfg);
        assert_eq!(p.planned.get("id"), Some(&Value::Unknown));
        assert_eq!(p.planned.get("status"), Some(&Value::Unknown));
        assert_eq!(p.planned.get("mode"), Some(&"fast".into()));
        assert_eq!(p.planned.get("password"), Some(&Value::Null));
        assert!(p.requires_replace.is_empty());
        assert!(check_plan(&block(), &cfg, &p.planned).is_empty());
    }

    #[test]
    fn no_change_keeps_prior_computed_values() {
        let prior = obj(&[
            ("name", "a".into()),
            ("size", Value::Null),
            ("id", "i-1".into()),
            ("status", "ok".into()),
            ("mode", "fast".into()),
            ("password", Value::Null),
        ]);
        let cfg = obj(&[("name", "a".into())]);
        let p = plan_block(&block(), &prior, &prior, &cfg);
        assert!(p.planned.semantic_eq(&prior));
    }

    #[test]
    fn update_recomputes_only_what_may_change_and_flags_replacement() {
        let prior = obj(&[
            ("name", "a".into()),
            ("size", "1".into()),
            ("id", "i-1".into()),
            ("status", "ok".into()),
            ("mode", "fast".into()),
            ("password", Value::Null),
        ]);
        let mut proposed = prior.clone();
        if let Value::Object(m) = &mut proposed {
            m.insert("name".into(), "b".into());
            m.insert("size".into(), "2".into());
        }
        let cfg = obj(&[("name", "b".into()), ("size", "2".into())]);
        let p = plan_block(&block(), &prior, &proposed, &cfg);
        assert_eq!(p.planned.get("id"), Some(&"i-1".into()));
        assert_eq!(p.planned.get("status"), Some(&Value::Unknown));
        assert_eq!(p.requires_replace, vec![AttrPath::attr("name")]);
    }

    #[test]
    fn check_plan_catches_a_resource_that_rewrites_config() {
        let cfg = obj(&[("name", "a".into())]);
        let planned = obj(&[("name", "b".into())]);
        assert_eq!(check_plan(&block(), &cfg, &planned).len(), 1);
    }
}

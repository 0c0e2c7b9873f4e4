//! Typed schemas for providers, resources and data sources.
//!
//! A schema is data: the server converts it to the protocol form, the planner reads its
//! flags and plan modifiers, the validator runs its validators, and the docs generator
//! renders its descriptions.

use std::sync::Arc;

use crate::cty::{Type, Value};

use super::validators::Validator;

/// How nested blocks or nested attributes repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
    Map,
}

/// What the planner does with an attribute beyond the protocol's rules.
#[derive(Clone)]
pub enum PlanModifier {
    /// A computed value that does not change once known: keep the prior state's value
    /// instead of planning it as unknown when other attributes change.
    UseStateForUnknown,
    /// A change to this attribute destroys and re-creates the object.
    RequiresReplace,
}

#[derive(Clone)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    /// Nested attributes (protocol 6 `nested_type`); `ty` is derived from them.
    pub nested: Option<(Nesting, Vec<Attribute>)>,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub write_only: bool,
    pub deprecated: bool,
    /// Planned when the configuration leaves the attribute null (needs optional + computed).
    pub default: Option<Value>,
    pub validators: Vec<Arc<dyn Validator>>,
    pub plan_modifiers: Vec<PlanModifier>,
}

impl Attribute {
    pub fn new(name: &str, ty: Type) -> Self {
        Attribute {
            name: name.to_string(),
            ty,
            nested: None,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecated: false,
            default: None,
            validators: Vec::new(),
            plan_modifiers: Vec::new(),
        }
    }
    pub fn string(name: &str) -> Self {
        Self::new(name, Type::String)
    }
    pub fn number(name: &str) -> Self {
        Self::new(name, Type::Number)
    }
    pub fn bool(name: &str) -> Self {
        Self::new(name, Type::Bool)
    }
    /// An attribute whose value is an object (or collection of objects) with its own attributes.
    pub fn nested(name: &str, nesting: Nesting, attrs: Vec<Attribute>) -> Self {
        let obj = object_type(&attrs);
        let ty = match nesting {
            Nesting::Single => obj,
            Nesting::List => Type::list(obj),
            Nesting::Set => Type::set(obj),
            Nesting::Map => Type::map(obj),
        };
        let mut a = Self::new(name, ty);
        a.nested = Some((nesting, attrs));
        a
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    /// Never stored in state or plan (Terraform 1.11+). Implies optional.
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self.optional = true;
        self
    }
    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }
    pub fn description(mut self, md: &str) -> Self {
        self.description = md.to_string();
        self
    }
    /// Optional + computed with a value planned when the configuration omits it.
    pub fn default(mut self, v: impl Into<Value>) -> Self {
        self.default = Some(v.into());
        self.optional = true;
        self.computed = true;
        self
    }
    pub fn validate(mut self, v: impl Validator + 'static) -> Self {
        self.validators.push(Arc::new(v));
        self
    }
    pub fn use_state_for_unknown(mut self) -> Self {
        self.plan_modifiers.push(PlanModifier::UseStateForUnknown);
        self
    }
    pub fn requires_replace(mut self) -> Self {
        self.plan_modifiers.push(PlanModifier::RequiresReplace);
        self
    }
    pub fn has_modifier(&self, want: fn(&PlanModifier) -> bool) -> bool {
        self.plan_modifiers.iter().any(want)
    }
}

#[derive(Clone)]
pub struct NestedBlock {
    pub type_name: String,
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
}

#[derive(Clone, Default)]
pub struct Block {
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    pub description: String,
    pub deprecated: bool,
}

impl Block {
    pub fn new(description: &str) -> Self {
        Block { description: description.to_string(), ..Default::default() }
    }
    pub fn attr(mut self, a: Attribute) -> Self {
        self.attributes.push(a);
        self
    }
    pub fn block(mut self, b: NestedBlock) -> Self {
        self.blocks.push(b);
        self
    }
    /// The cty object type of a value of this block.
    pub fn value_type(&self) -> Type {
        let mut attrs: std::collections::BTreeMap<String, Type> =
            self.attributes.iter().map(|a| (a.name.clone(), a.ty.clone())).collect();
        for b in &self.blocks {
            let obj = b.block.value_type();
            let t = match b.nesting {
                Nesting::Single => obj,
                Nesting::List => Type::list(obj),
                Nesting::Set => Type::set(obj),
                Nesting::Map => Type::map(obj),
            };
            attrs.insert(b.type_name.clone(), t);
        }
        Type::Object { attrs, optional: Vec::new() }
    }
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

fn object_type(attrs: &[Attribute]) -> Type {
    Type::object(attrs.iter().map(|a| (a.name.clone(), a.ty.clone())))
}

/// A versioned schema. Bump `version` when the stored state's shape changes, and teach the
/// resource's `upgrade_state` to convert older states.
#[derive(Clone, Default)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

impl Schema {
    pub fn new(version: i64, block: Block) -> Self {
        Schema { version, block }
    }
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}

/// The conventional `timeouts` block (`create`, `update`, `delete`, `read` as Go-style
/// durations such as "10m" or "1h30m").
pub fn timeouts_block(ops: &[&str]) -> NestedBlock {
    let mut block = Block::new("Time limits for operations, as durations such as `30s`, `10m` or `1h`.");
    for op in ops {
        block.attributes.push(
            Attribute::string(op)
                .optional()
                .description(&format!("How long `{op}` may take."))
                .validate(super::validators::Duration),
        );
    }
    NestedBlock { type_name: "timeouts".to_string(), nesting: Nesting::Single, block, min_items: 0, max_items: 0 }
}

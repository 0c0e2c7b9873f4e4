//! Runs attribute validators over a configuration value, block by block.

use crate::cty::Value;

use super::diag::Diagnostics;
use super::path::AttrPath;
use super::schema::{Attribute, Block, Nesting};

/// Validates every known attribute value in `value` (an object of `block`'s type).
pub fn validate_block(block: &Block, value: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    for attr in &block.attributes {
        let v = value.get(&attr.name).unwrap_or(&Value::Null);
        validate_attribute(attr, v, &path.then_attr(&attr.name), diags);
    }
    for nb in &block.blocks {
        let v = value.get(&nb.type_name).unwrap_or(&Value::Null);
        let p = path.then_attr(&nb.type_name);
        for_each_nested(nb.nesting, v, &p, &mut |elem, ep| validate_block(&nb.block, elem, ep, diags));
    }
}

fn validate_attribute(attr: &Attribute, v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    if v.is_null() || v.is_unknown() {
        return;
    }
    for validator in &attr.validators {
        validator.validate(path, v, diags);
    }
    if let Some((nesting, attrs)) = &attr.nested {
        for_each_nested(*nesting, v, path, &mut |elem, ep| {
            for a in attrs {
                let av = elem.get(&a.name).unwrap_or(&Value::Null);
                validate_attribute(a, av, &ep.then_attr(&a.name), diags);
            }
        });
    }
}

/// Calls `f` for each object inside a nested value, with its path. Set elements have no
/// address of their own, so they report the set's path.
fn for_each_nested(nesting: Nesting, v: &Value, path: &AttrPath, f: &mut dyn FnMut(&Value, &AttrPath)) {
    if v.is_null() || v.is_unknown() {
        return;
    }
    match nesting {
        Nesting::Single => f(v, path),
        Nesting::List => {
            for (i, e) in v.as_seq().unwrap_or_default().iter().enumerate() {
                f(e, &path.then_index(i));
            }
        }
        Nesting::Set => {
            for e in v.as_seq().unwrap_or_default() {
                f(e, path);
            }
        }
        Nesting::Map => {
            for (k, e) in v.as_map().into_iter().flatten() {
                f(e, &path.then_key(k));
            }
        }
    }
}

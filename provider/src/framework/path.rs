//! Attribute paths: where in a configuration a diagnostic points.

use std::fmt;

/// One step into a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathStep {
    Attr(String),
    /// A map key.
    Key(String),
    /// A list or tuple index. Set elements have no stable address; paths stop at the set.
    Index(i64),
}

/// A path from the root of a resource's configuration, e.g. `vswitches["cn-hangzhou-h"][0]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AttrPath(pub Vec<PathStep>);

impl AttrPath {
    pub fn root() -> Self {
        AttrPath(Vec::new())
    }
    /// Path to a top-level attribute.
    pub fn attr(name: &str) -> Self {
        AttrPath(vec![PathStep::Attr(name.to_string())])
    }
    pub fn then_attr(&self, name: &str) -> Self {
        self.with(PathStep::Attr(name.to_string()))
    }
    pub fn then_key(&self, key: &str) -> Self {
        self.with(PathStep::Key(key.to_string()))
    }
    pub fn then_index(&self, i: usize) -> Self {
        self.with(PathStep::Index(i as i64))
    }
    fn with(&self, step: PathStep) -> Self {
        let mut steps = self.0.clone();
        steps.push(step);
        AttrPath(steps)
    }
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attr(a) if i == 0 => write!(f, "{a}")?,
                PathStep::Attr(a) => write!(f, ".{a}")?,
                PathStep::Key(k) => write!(f, "[{k:?}]")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_terraform_addresses() {
        let p = AttrPath::attr("vswitches").then_key("cn-hangzhou-h").then_index(0);
        assert_eq!(p.to_string(), r#"vswitches["cn-hangzhou-h"][0]"#);
        assert_eq!(AttrPath::attr("a").then_attr("b").to_string(), "a.b");
    }
}

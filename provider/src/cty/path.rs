//! Paths to a nested value (`.attr[2]["key"]`), for error messages.
//!
//! A path is a chain of stack frames, each borrowing its parent, so walking a value
//! costs no allocation; the text is built only when an error is reported.

use super::CodecError;

/// One step from a value to a nested one.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step<'a> {
    /// Object attribute: `.name`.
    Attr(&'a str),
    /// List, set or tuple element: `[2]`.
    Index(usize),
    /// Map element: `["key"]`.
    Key(&'a str),
}

/// The path from the root value to the one being processed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    step: Option<Step<'a>>,
}

impl<'a> Path<'a> {
    pub(crate) const ROOT: Path<'static> = Path { parent: None, step: None };

    pub(crate) fn child(&'a self, step: Step<'a>) -> Path<'a> {
        Path { parent: Some(self), step: Some(step) }
    }

    pub(crate) fn render(&self) -> String {
        let mut steps = Vec::new();
        let mut node = Some(self);
        while let Some(current) = node {
            if let Some(step) = current.step {
                steps.push(step);
            }
            node = current.parent;
        }
        let mut out = String::new();
        for step in steps.iter().rev() {
            match step {
                Step::Attr(name) => {
                    out.push('.');
                    out.push_str(name);
                }
                Step::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
                Step::Key(key) => {
                    out.push('[');
                    out.push_str(&serde_json::Value::from(*key).to_string());
                    out.push(']');
                }
            }
        }
        out
    }

    /// An error about the value at this path.
    pub(crate) fn error(&self, message: impl Into<String>) -> CodecError {
        CodecError::Invalid { path: self.render(), message: message.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_terraform() {
        let root = Path::ROOT;
        let attr = root.child(Step::Attr("attr"));
        let index = attr.child(Step::Index(2));
        let key = index.child(Step::Key("k\"ey"));
        assert_eq!(key.render(), r#".attr[2]["k\"ey"]"#);
        assert_eq!(root.render(), "");
    }
}

//! The Terraform CLI configuration each test runs with (`TF_CLI_CONFIG_FILE`).

use std::path::Path;

use crate::mirror::{PROVIDER_HOST, PROVIDER_NAMESPACE};

/// CLI configuration that installs our provider only from `mirror`. There is deliberately no
/// `direct {}` method: a configuration that needs any other registry provider fails at
/// `terraform init` at once instead of reaching for the network. Builtin providers
/// (`terraform_data`) need no installation.
pub fn cli_config(mirror: &Path) -> String {
    let path = hcl_string(&mirror.display().to_string());
    let include = hcl_string(&format!("{PROVIDER_HOST}/{PROVIDER_NAMESPACE}/*"));
    format!(
        "# Written by the acceptance-test harness.\n\
         disable_checkpoint = true\n\
         \n\
         provider_installation {{\n  filesystem_mirror {{\n    path    = {path}\n    include = [{include}]\n  }}\n}}\n"
    )
}

/// An HCL quoted string literal (escapes `\`, `"`, control characters, and `${`/`%{` templates).
pub fn hcl_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_names_the_mirror_and_has_no_direct_installation() {
        let text = cli_config(Path::new("/tmp/x/mirror"));
        assert!(text.contains("filesystem_mirror {"), "{text}");
        assert!(text.contains(r#"path    = "/tmp/x/mirror""#), "{text}");
        assert!(text.contains(r#"include = ["registry.terraform.io/hybridops/*"]"#), "{text}");
        assert!(!text.contains("direct"), "{text}");
        assert!(!text.contains("dev_overrides"), "{text}");
    }

    #[test]
    fn strings_are_escaped_for_hcl() {
        assert_eq!(hcl_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(hcl_string("x${y}%{z}$w"), r#""x$${y}%%{z}$w""#);
        assert_eq!(hcl_string("l1\nl2"), r#""l1\nl2""#);
    }
}

//! Terraform Registry documentation rendered from the schemas (tfplugindocs layout), so the
//! docs cannot drift from the code: a test compares `docs/` with what this renders, and
//! `UPDATE_DOCS=1 cargo test -p terraform-provider-hybrid docs::` rewrites it.
//!
//! Examples come from `examples/` by the same convention tfplugindocs uses:
//! `examples/provider/provider.tf`, `examples/resources/<type>/resource.tf` (+ `import.sh`),
//! `examples/data-sources/<type>/data-source.tf`.

use std::fmt::Write as _;
use std::path::Path;

use crate::framework::schema::{Attribute, Block, Nesting};
use crate::framework::ProviderDef;
use crate::server::attribute_description;

/// One rendered page: path relative to the repository root, and its text.
pub struct Page {
    pub path: String,
    pub text: String,
}

pub fn render_all(def: &dyn ProviderDef, repo: &Path) -> Vec<Page> {
    let name = def.type_name();
    let read = |p: String| std::fs::read_to_string(repo.join(p)).ok();
    let mut pages = vec![Page {
        path: "docs/index.md".into(),
        text: render_page(
            &format!("{name} Provider"),
            &format!("# {name} Provider"),
            &def.schema().block,
            read("examples/provider/provider.tf".into()),
            read("docs-src/index-extra.md".into()),
            None,
        ),
    }];
    for r in def.resources() {
        let t = r.type_name();
        let short = t.strip_prefix(&format!("{name}_")).unwrap_or(t);
        pages.push(Page {
            path: format!("docs/resources/{short}.md"),
            text: render_page(
                &format!("{t} Resource - {name}"),
                &format!("# {t} (Resource)"),
                &r.schema().block,
                read(format!("examples/resources/{t}/resource.tf")),
                None,
                read(format!("examples/resources/{t}/import.sh")),
            ),
        });
    }
    for d in def.data_sources() {
        let t = d.type_name();
        let short = t.strip_prefix(&format!("{name}_")).unwrap_or(t);
        pages.push(Page {
            path: format!("docs/data-sources/{short}.md"),
            text: render_page(
                &format!("{t} Data Source - {name}"),
                &format!("# {t} (Data Source)"),
                &d.schema().block,
                read(format!("examples/data-sources/{t}/data-source.tf")),
                None,
                None,
            ),
        });
    }
    pages
}

fn render_page(
    title: &str,
    heading: &str,
    block: &Block,
    example: Option<String>,
    extra: Option<String>,
    import: Option<String>,
) -> String {
    let mut s = String::new();
    let first_line = block.description.split(". ").next().unwrap_or_default().trim_end_matches('.');
    let _ = writeln!(s, "---\npage_title: \"{title}\"\nsubcategory: \"\"\ndescription: |-\n  {first_line}.\n---\n");
    let _ = writeln!(s, "{heading}\n\n{}\n", block.description);
    if let Some(ex) = example {
        let _ = writeln!(s, "## Example Usage\n\n```terraform\n{}\n```\n", ex.trim_end());
    }
    if let Some(extra) = extra {
        let _ = writeln!(s, "{}\n", extra.trim_end());
    }
    let _ =
        writeln!(s, "<!-- schema generated from the provider's schema; edit descriptions in the code -->\n## Schema\n");
    render_block(&mut s, block, "");
    if let Some(imp) = import {
        let _ = writeln!(
            s,
            "## Import\n\nImport is supported using the following syntax:\n\n```shell\n{}\n```",
            imp.trim_end()
        );
    }
    s.trim_end().to_string() + "\n"
}

fn flags(a: &Attribute) -> String {
    let mut f = Vec::new();
    if a.sensitive {
        f.push("Sensitive");
    }
    if a.write_only {
        f.push("Write-only");
    }
    if a.deprecated {
        f.push("Deprecated");
    }
    if f.is_empty() {
        String::new()
    } else {
        format!(", {}", f.join(", "))
    }
}

fn type_name(a: &Attribute) -> String {
    match &a.nested {
        Some((Nesting::Single, _)) => "Attributes".into(),
        Some((Nesting::List, _)) => "Attributes List".into(),
        Some((Nesting::Set, _)) => "Attributes Set".into(),
        Some((Nesting::Map, _)) => "Attributes Map".into(),
        None => type_label(&a.ty),
    }
}

fn type_label(t: &crate::cty::Type) -> String {
    use crate::cty::Type;
    match t {
        Type::String => "String".into(),
        Type::Number => "Number".into(),
        Type::Bool => "Boolean".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(e) => format!("List of {}", type_label(e)),
        Type::Set(e) => format!("Set of {}", type_label(e)),
        Type::Map(e) => format!("Map of {}", type_label(e)),
        Type::Object { .. } => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}

fn anchor(prefix: &str, name: &str) -> String {
    format!("{prefix}{name}").replace('.', "--")
}

/// A section of a schema page and which attributes belong in it.
type Section = (&'static str, fn(&Attribute) -> bool);

fn render_block(s: &mut String, block: &Block, prefix: &str) {
    let groups: [Section; 3] = [
        ("Required", |a| a.required),
        ("Optional", |a| a.optional),
        ("Read-Only", |a| a.computed && !a.optional && !a.required),
    ];
    let mut nested: Vec<(String, &Block, Option<&[Attribute]>)> = Vec::new();
    for (title, pick) in groups {
        let attrs: Vec<&Attribute> = block.attributes.iter().filter(|a| pick(a)).collect();
        let blocks: Vec<_> = if title == "Optional" { block.blocks.iter().collect() } else { Vec::new() };
        if attrs.is_empty() && blocks.is_empty() {
            continue;
        }
        let _ = writeln!(s, "### {title}\n");
        let mut lines: Vec<(String, String)> = attrs
            .iter()
            .map(|a| {
                let more = if a.nested.is_some() {
                    format!(" (see [below for nested schema](#nestedatt--{}))", anchor(prefix, &a.name))
                } else {
                    String::new()
                };
                (
                    a.name.clone(),
                    format!("- `{}` ({}{}) {}{}", a.name, type_name(a), flags(a), attribute_description(a), more),
                )
            })
            .collect();
        for b in &blocks {
            lines.push((
                b.type_name.clone(),
                format!(
                    "- `{}` (Block{}) {} (see [below for nested schema](#nestedblock--{}))",
                    b.type_name,
                    if b.nesting == Nesting::Single { "" } else { ", List" },
                    b.block.description,
                    anchor(prefix, &b.type_name)
                ),
            ));
        }
        lines.sort();
        for (_, l) in lines {
            let _ = writeln!(s, "{}", l.trim_end());
        }
        let _ = writeln!(s);
        for a in attrs {
            if let Some((_, inner)) = &a.nested {
                nested.push((format!("{prefix}{}", a.name), block, Some(inner)));
            }
        }
        for b in blocks {
            nested.push((format!("{prefix}{}", b.type_name), &b.block, None));
        }
    }
    for (path, b, inner) in nested {
        match inner {
            Some(attrs) => {
                let _ = writeln!(
                    s,
                    "<a id=\"nestedatt--{}\"></a>\n### Nested Schema for `{path}`\n",
                    path.replace('.', "--")
                );
                let tmp = Block { attributes: attrs.to_vec(), ..Default::default() };
                render_block(s, &tmp, &format!("{path}."));
            }
            None => {
                let _ = writeln!(
                    s,
                    "<a id=\"nestedblock--{}\"></a>\n### Nested Schema for `{path}`\n",
                    path.replace('.', "--")
                );
                render_block(s, b, &format!("{path}."));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
    }

    /// Fails when docs/ and the schema disagree. Regenerate with UPDATE_DOCS=1.
    #[test]
    fn docs_match_schema() {
        let repo = repo();
        let pages = render_all(&crate::provider::HybridProvider, &repo);
        let update = std::env::var_os("UPDATE_DOCS").is_some();
        let mut stale = Vec::new();
        for p in &pages {
            let path = repo.join(&p.path);
            let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
            if on_disk != p.text {
                if update {
                    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                    std::fs::write(&path, &p.text).unwrap();
                } else {
                    stale.push(p.path.clone());
                }
            }
        }
        assert!(stale.is_empty(), "docs out of date with the schema: {stale:?}; run `UPDATE_DOCS=1 cargo test -p terraform-provider-hybrid docs::`");
    }

    #[test]
    fn every_type_has_a_page_and_an_example() {
        let repo = repo();
        let def = crate::provider::HybridProvider;
        for r in def.resources() {
            assert!(
                repo.join(format!("examples/resources/{}/resource.tf", r.type_name())).exists(),
                "{} has no example",
                r.type_name()
            );
            assert!(
                repo.join(format!("examples/resources/{}/import.sh", r.type_name())).exists(),
                "{} has no import example",
                r.type_name()
            );
        }
        for d in def.data_sources() {
            assert!(
                repo.join(format!("examples/data-sources/{}/data-source.tf", d.type_name())).exists(),
                "{} has no example",
                d.type_name()
            );
        }
        assert!(render_all(&def, &repo).len() >= 2);
    }
}

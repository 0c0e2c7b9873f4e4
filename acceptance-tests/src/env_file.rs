//! Reading `sandbox.env`-style files (`export NAME='value'` lines) into environment pairs.

/// Parses `export NAME='value'` / `NAME=value` / `NAME="value"` lines; single-quoted values may
/// contain `'\''` (the shell's escaped quote). Comments and blank lines are skipped.
pub fn parse_env_file(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else { continue };
        let value = if let Some(inner) = value.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            inner.replace(r"'\''", "'")
        } else if let Some(inner) = value.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            inner.to_string()
        } else {
            value.to_string()
        };
        out.push((name.trim().to_string(), value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_parse_shell_quoting() {
        let parsed = parse_env_file(
            "# c\nexport A='x y'\nexport B='it'\\''s'\nC=plain\n\nexport J='{\"a\":[\"b\"]}'\nD=\"q\"\n",
        );
        let expected: Vec<(String, String)> =
            [("A", "x y"), ("B", "it's"), ("C", "plain"), ("J", "{\"a\":[\"b\"]}"), ("D", "q")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        assert_eq!(parsed, expected);
    }
}

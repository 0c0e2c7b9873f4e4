//! The provider configuration as resources see it. Holds settings only: API clients are
//! built on first use, so a plan that needs no API call makes none.

use crate::cty::Value;
use crate::framework::{AttrPath, Diagnostics};

/// Settings of the `kubernetes` block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KubernetesSettings {
    pub config_path: Option<String>,
    pub config_context: Option<String>,
    pub host: Option<String>,
    pub token: Option<String>,
    pub cluster_ca_certificate: Option<String>,
    pub insecure: bool,
}

/// Settings of the `endpoints` block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EndpointSettings {
    pub ram: Option<String>,
    pub cs: Option<String>,
    pub vpc: Option<String>,
    pub ecs: Option<String>,
}

/// Everything the provider block said, with nothing resolved yet.
#[derive(Clone, Default)]
pub struct ProviderConfig {
    pub region: Option<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub security_token: Option<String>,
    pub profile: Option<String>,
    pub shared_credentials_file: Option<String>,
    pub endpoints: EndpointSettings,
    pub kubernetes: KubernetesSettings,
    pub terraform_version: String,
    /// The Kubernetes client, created on first use (see `clients::kubernetes`).
    pub kube: crate::clients::kubernetes::LazyClient,
    /// The Alibaba Cloud client, created on first use (see `clients::alibaba`).
    pub alibaba: crate::clients::alibaba::LazyAlibaba,
}

// Secrets must never be printed, even by a stray `{:?}`.
impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "<redacted>"))
            .field("security_token", &self.security_token.as_ref().map(|_| "<redacted>"))
            .field("profile", &self.profile)
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

fn string_at(v: &Value, attr: &str) -> Option<String> {
    v.get(attr).and_then(Value::as_str).map(str::to_string)
}

impl ProviderConfig {
    pub fn from_value(config: &Value, terraform_version: &str, diags: &mut Diagnostics) -> Option<Self> {
        validate(config, diags);
        if diags.has_errors() {
            return None;
        }
        let ep = config.get("endpoints").cloned().unwrap_or(Value::Null);
        let k = config.get("kubernetes").cloned().unwrap_or(Value::Null);
        Some(ProviderConfig {
            region: string_at(config, "region"),
            access_key: string_at(config, "access_key"),
            secret_key: string_at(config, "secret_key"),
            security_token: string_at(config, "security_token"),
            profile: string_at(config, "profile"),
            shared_credentials_file: string_at(config, "shared_credentials_file"),
            endpoints: EndpointSettings {
                ram: string_at(&ep, "ram"),
                cs: string_at(&ep, "cs"),
                vpc: string_at(&ep, "vpc"),
                ecs: string_at(&ep, "ecs"),
            },
            kubernetes: KubernetesSettings {
                config_path: string_at(&k, "config_path"),
                config_context: string_at(&k, "config_context"),
                host: string_at(&k, "host"),
                token: string_at(&k, "token"),
                cluster_ca_certificate: string_at(&k, "cluster_ca_certificate"),
                insecure: k.get("insecure").and_then(Value::as_bool).unwrap_or(false),
            },
            terraform_version: terraform_version.to_string(),
            kube: Default::default(),
            alibaba: Default::default(),
        })
    }
}

/// An endpoint is a bare host (`cs.cn-hangzhou.aliyuncs.com`, optionally with a port) or an
/// http(s) URL without query or fragment.
pub fn check_endpoint(s: &str) -> Result<(), String> {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://")).unwrap_or(s);
    let host = rest.split('/').next().unwrap_or_default();
    let bad = || {
        format!("{s:?} is not a host name or http(s) URL, e.g. \"cs.cn-hangzhou.aliyuncs.com\" or \"https://127.0.0.1:8443\".")
    };
    if s.contains("://") && !(s.starts_with("https://") || s.starts_with("http://")) {
        return Err(bad());
    }
    if host.is_empty() || s.contains(char::is_whitespace) || s.contains('?') || s.contains('#') {
        return Err(bad());
    }
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) if !n.ends_with(']') || n.starts_with('[') => (n, Some(p)),
        _ => (host, None),
    };
    if let Some(p) = port {
        if p.parse::<u16>().is_err() {
            return Err(bad());
        }
    }
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || ".-[]:".contains(c)) {
        return Err(bad());
    }
    Ok(())
}

/// Cross-attribute rules of the provider block. Unknown values are skipped.
pub fn validate(config: &Value, diags: &mut Diagnostics) {
    let known = |v: Option<&Value>| v.is_some_and(|v| !v.is_null() && !v.is_unknown());
    if known(config.get("secret_key")) != known(config.get("access_key"))
        && !config.get("access_key").is_some_and(Value::is_unknown)
        && !config.get("secret_key").is_some_and(Value::is_unknown)
    {
        let (missing, set) =
            if known(config.get("access_key")) { ("secret_key", "access_key") } else { ("access_key", "secret_key") };
        diags.error_at(
            AttrPath::attr(missing),
            "Incomplete credentials",
            format!("`{set}` is set, so `{missing}` must be set too."),
        );
    }
    if let Some(k) = config.get("kubernetes").filter(|k| !k.is_null()) {
        let p = AttrPath::attr("kubernetes");
        if known(k.get("host")) && known(k.get("config_path")) {
            diags.error_at(
                p.then_attr("host"),
                "Conflicting Kubernetes settings",
                "Set either `host` (with `token`) or `config_path`, not both.",
            );
        }
        if known(k.get("token")) && !known(k.get("host")) && !k.get("host").is_some_and(Value::is_unknown) {
            diags.error_at(
                p.then_attr("token"),
                "Missing Kubernetes host",
                "`token` is used with `host`; set `host` too.",
            );
        }
        if k.get("insecure").and_then(Value::as_bool) == Some(true) && known(k.get("cluster_ca_certificate")) {
            diags.error_at(
                p.then_attr("insecure"),
                "Conflicting Kubernetes settings",
                "`insecure = true` skips certificate checks, so `cluster_ca_certificate` would be ignored. Set one of them.",
            );
        }
        if let Some(pem) = k.get("cluster_ca_certificate").and_then(Value::as_str) {
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                diags.error_at(
                    p.then_attr("cluster_ca_certificate"),
                    "Invalid CA certificate",
                    "Expected a PEM certificate starting with -----BEGIN CERTIFICATE-----.",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_accept_hosts_and_urls_only() {
        for ok in
            ["cs.cn-hangzhou.aliyuncs.com", "https://127.0.0.1:8443", "http://localhost:9000/", "ram.aliyuncs.com:443"]
        {
            assert!(check_endpoint(ok).is_ok(), "{ok}");
        }
        for bad in ["", "ftp://x", "https://", "a b", "host:99999", "https://x?y=1"] {
            assert!(check_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn half_credentials_point_at_the_missing_attribute() {
        let cfg =
            Value::Object([("access_key".to_string(), "LTAIx".into()), ("secret_key".to_string(), Value::Null)].into());
        let mut d = Diagnostics::new();
        validate(&cfg, &mut d);
        assert_eq!(d.0[0].path.as_ref().unwrap().to_string(), "secret_key");
        assert!(!d.0[0].detail.contains("LTAIx"));
    }

    #[test]
    fn debug_output_hides_secrets() {
        let c = ProviderConfig {
            secret_key: Some("s3cr3t".into()),
            security_token: Some("tok3n".into()),
            ..Default::default()
        };
        let s = format!("{c:?}");
        assert!(!s.contains("s3cr3t") && !s.contains("tok3n"), "{s}");
    }
}

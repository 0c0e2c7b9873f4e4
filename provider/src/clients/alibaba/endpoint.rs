//! Endpoints per service and region, with the provider's overrides.

use crate::provider::config::EndpointSettings;

/// The services the provider calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Ram,
    Cs,
    Vpc,
    Ecs,
}

impl Service {
    pub fn version(self) -> &'static str {
        match self {
            Service::Ram => "2015-05-01",
            Service::Cs => "2015-12-15",
            Service::Vpc => "2016-04-28",
            Service::Ecs => "2014-05-26",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Service::Ram => "ram",
            Service::Cs => "cs",
            Service::Vpc => "vpc",
            Service::Ecs => "ecs",
        }
    }
    fn env(self) -> &'static str {
        match self {
            Service::Ram => "HYBRID_ENDPOINT_RAM",
            Service::Cs => "HYBRID_ENDPOINT_CS",
            Service::Vpc => "HYBRID_ENDPOINT_VPC",
            Service::Ecs => "HYBRID_ENDPOINT_ECS",
        }
    }
}

/// The base URL (`scheme://host[:port]`, no trailing slash) of `service`: the `endpoints` block,
/// else its environment variable, else the public endpoint for the region (RAM is global).
pub fn base_url(
    service: Service,
    region: &str,
    overrides: &EndpointSettings,
    env: &dyn Fn(&str) -> Option<String>,
) -> String {
    let configured = match service {
        Service::Ram => overrides.ram.clone(),
        Service::Cs => overrides.cs.clone(),
        Service::Vpc => overrides.vpc.clone(),
        Service::Ecs => overrides.ecs.clone(),
    }
    .filter(|s| !s.is_empty())
    .or_else(|| env(service.env()).filter(|s| !s.is_empty()));
    let raw = configured.unwrap_or_else(|| match service {
        Service::Ram => "ram.aliyuncs.com".to_string(),
        other => format!("{}.{region}.aliyuncs.com", other.name()),
    });
    let with_scheme =
        if raw.starts_with("http://") || raw.starts_with("https://") { raw } else { format!("https://{raw}") };
    with_scheme.trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_overrides_and_env() {
        let none = |_: &str| None;
        let ep = EndpointSettings::default();
        assert_eq!(base_url(Service::Ram, "cn-hangzhou", &ep, &none), "https://ram.aliyuncs.com");
        assert_eq!(base_url(Service::Cs, "cn-beijing", &ep, &none), "https://cs.cn-beijing.aliyuncs.com");
        assert_eq!(base_url(Service::Vpc, "cn-beijing", &ep, &none), "https://vpc.cn-beijing.aliyuncs.com");
        let env = |k: &str| (k == "HYBRID_ENDPOINT_ECS").then(|| "http://127.0.0.1:9000/".to_string());
        assert_eq!(base_url(Service::Ecs, "cn-beijing", &ep, &env), "http://127.0.0.1:9000");
        let block = EndpointSettings { ecs: Some("ecs-vpc.cn-beijing.aliyuncs.com".into()), ..Default::default() };
        assert_eq!(base_url(Service::Ecs, "cn-beijing", &block, &env), "https://ecs-vpc.cn-beijing.aliyuncs.com");
    }
}

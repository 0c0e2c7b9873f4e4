//! Endpoints per service and region, with the provider's overrides.
//!
//! Order: the provider's `endpoints` block, then `HYBRID_ENDPOINT_RAM|CS|VPC|ECS`, then the
//! public endpoint. Public endpoints follow the official SDKs (`_endpoint_map` of each
//! `client.py`, checked against alibabacloud-{cs20151215 7.2.3, vpc20160428 7.2.2,
//! ecs20140526 7.11.8, ram20150501 1.3.0}): RAM is global (`ram.aliyuncs.com`); CS, VPC and ECS
//! are `<service>.<region>.aliyuncs.com` except for the few regions the SDKs map elsewhere.

use crate::provider::config::{check_endpoint, EndpointSettings};

/// The services the provider calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Ram,
    Cs,
    Vpc,
    Ecs,
}

/// Public customer regions whose endpoint is not `<service>.<region>.aliyuncs.com`, from the
/// SDKs' endpoint maps (internal and test regions left out).
const REGION_EXCEPTIONS: &[(Service, &str, &str)] = &[
    (Service::Cs, "cn-fujian", "cs.aliyuncs.com"),
    (Service::Cs, "cn-wuhan", "cs.aliyuncs.com"),
    (Service::Cs, "cn-zhangbei", "cs.aliyuncs.com"),
    (Service::Cs, "cn-beijing-gov-1", "cs.aliyuncs.com"),
    (Service::Vpc, "cn-hangzhou", "vpc.aliyuncs.com"),
    (Service::Vpc, "cn-fujian", "vpc.aliyuncs.com"),
    (Service::Vpc, "cn-wuhan", "vpc.aliyuncs.com"),
    (Service::Vpc, "cn-zhangbei", "vpc.aliyuncs.com"),
    (Service::Vpc, "cn-shanghai-finance-1", "vpc.aliyuncs.com"),
    (Service::Vpc, "cn-shenzhen-finance-1", "vpc.aliyuncs.com"),
    (Service::Vpc, "cn-hangzhou-finance", "vpc.aliyuncs.com"),
    (Service::Vpc, "cn-north-2-gov-1", "vpc.aliyuncs.com"),
    (Service::Vpc, "cn-beijing-gov-1", "vpc.aliyuncs.com"),
    (Service::Ecs, "cn-hangzhou", "ecs-cn-hangzhou.aliyuncs.com"),
    (Service::Ecs, "cn-fujian", "ecs-cn-hangzhou.aliyuncs.com"),
    (Service::Ecs, "cn-shanghai-finance-1", "ecs-cn-hangzhou.aliyuncs.com"),
    (Service::Ecs, "cn-shenzhen-finance-1", "ecs-cn-hangzhou.aliyuncs.com"),
    (Service::Ecs, "cn-wuhan", "ecs.aliyuncs.com"),
    (Service::Ecs, "cn-zhangbei", "ecs.aliyuncs.com"),
    (Service::Ecs, "cn-hangzhou-finance", "ecs.aliyuncs.com"),
    (Service::Ecs, "cn-north-2-gov-1", "ecs.aliyuncs.com"),
    (Service::Ecs, "cn-beijing-gov-1", "ecs.aliyuncs.com"),
];

impl Service {
    pub const ALL: [Service; 4] = [Service::Ram, Service::Cs, Service::Vpc, Service::Ecs];

    /// The API version every call to the service names.
    pub fn version(self) -> &'static str {
        match self {
            Service::Ram => "2015-05-01",
            Service::Cs => "2015-12-15",
            Service::Vpc => "2016-04-28",
            Service::Ecs => "2014-05-26",
        }
    }

    /// The product code (`ram`, `cs`, ...), as in endpoints and the `endpoints` block.
    pub fn name(self) -> &'static str {
        match self {
            Service::Ram => "ram",
            Service::Cs => "cs",
            Service::Vpc => "vpc",
            Service::Ecs => "ecs",
        }
    }

    /// The environment variable overriding the endpoint.
    pub fn env_var(self) -> &'static str {
        match self {
            Service::Ram => "HYBRID_ENDPOINT_RAM",
            Service::Cs => "HYBRID_ENDPOINT_CS",
            Service::Vpc => "HYBRID_ENDPOINT_VPC",
            Service::Ecs => "HYBRID_ENDPOINT_ECS",
        }
    }

    /// The public endpoint host in `region`.
    pub fn public_host(self, region: &str) -> String {
        if self == Service::Ram {
            return "ram.aliyuncs.com".into();
        }
        REGION_EXCEPTIONS
            .iter()
            .find(|(s, r, _)| *s == self && *r == region)
            .map(|(_, _, host)| host.to_string())
            .unwrap_or_else(|| format!("{}.{region}.aliyuncs.com", self.name()))
    }
}

/// The base URL (`scheme://host[:port][/prefix]`, no trailing slash) of `service`: the
/// `endpoints` block, else its environment variable, else the public endpoint for the region.
/// Host names get `https://`; full URLs (`http://127.0.0.1:PORT`) are taken as they are.
pub fn base_url(
    service: Service,
    region: &str,
    overrides: &EndpointSettings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let block = match service {
        Service::Ram => &overrides.ram,
        Service::Cs => &overrides.cs,
        Service::Vpc => &overrides.vpc,
        Service::Ecs => &overrides.ecs,
    };
    let configured = match block.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(v) => Some((v.to_string(), format!("endpoints.{}", service.name()))),
        None => env(service.env_var())
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .map(|v| (v, service.env_var().to_string())),
    };
    let raw = match configured {
        Some((value, source)) => {
            check_endpoint(&value).map_err(|e| format!("{source}: {e}"))?;
            value
        }
        None => service.public_host(region),
    };
    let with_scheme =
        if raw.starts_with("http://") || raw.starts_with("https://") { raw } else { format!("https://{raw}") };
    Ok(with_scheme.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn public_endpoints_per_service_and_region() {
        let ep = EndpointSettings::default();
        let url = |s, r| base_url(s, r, &ep, &none).unwrap();
        assert_eq!(url(Service::Ram, "cn-beijing"), "https://ram.aliyuncs.com");
        assert_eq!(url(Service::Ram, "eu-central-1"), "https://ram.aliyuncs.com");
        assert_eq!(url(Service::Cs, "cn-hangzhou"), "https://cs.cn-hangzhou.aliyuncs.com");
        assert_eq!(url(Service::Cs, "ap-southeast-1"), "https://cs.ap-southeast-1.aliyuncs.com");
        assert_eq!(url(Service::Vpc, "cn-beijing"), "https://vpc.cn-beijing.aliyuncs.com");
        assert_eq!(url(Service::Ecs, "cn-shanghai"), "https://ecs.cn-shanghai.aliyuncs.com");
        // Where the SDKs say otherwise.
        assert_eq!(url(Service::Vpc, "cn-hangzhou"), "https://vpc.aliyuncs.com");
        assert_eq!(url(Service::Ecs, "cn-hangzhou"), "https://ecs-cn-hangzhou.aliyuncs.com");
        assert_eq!(url(Service::Cs, "cn-wuhan"), "https://cs.aliyuncs.com");
    }

    #[test]
    fn the_block_beats_the_environment() {
        let env = |k: &str| (k == "HYBRID_ENDPOINT_ECS").then(|| "http://127.0.0.1:9000/".to_string());
        let empty = EndpointSettings::default();
        assert_eq!(base_url(Service::Ecs, "cn-beijing", &empty, &env).unwrap(), "http://127.0.0.1:9000");
        assert_eq!(base_url(Service::Vpc, "cn-beijing", &empty, &env).unwrap(), "https://vpc.cn-beijing.aliyuncs.com");
        let block = EndpointSettings { ecs: Some("ecs-vpc.cn-beijing.aliyuncs.com".into()), ..Default::default() };
        assert_eq!(
            base_url(Service::Ecs, "cn-beijing", &block, &env).unwrap(),
            "https://ecs-vpc.cn-beijing.aliyuncs.com"
        );
        let blank = EndpointSettings { ecs: Some(String::new()), ..Default::default() };
        assert_eq!(base_url(Service::Ecs, "cn-beijing", &blank, &env).unwrap(), "http://127.0.0.1:9000");
        let port = EndpointSettings { cs: Some("cs.internal.example:8443".into()), ..Default::default() };
        assert_eq!(base_url(Service::Cs, "cn-beijing", &port, &none).unwrap(), "https://cs.internal.example:8443");
    }

    #[test]
    fn bad_overrides_name_their_source() {
        let env = |k: &str| (k == "HYBRID_ENDPOINT_RAM").then(|| "ftp://nope".to_string());
        let e = base_url(Service::Ram, "cn-beijing", &EndpointSettings::default(), &env).unwrap_err();
        assert!(e.starts_with("HYBRID_ENDPOINT_RAM: "), "{e}");
        let block = EndpointSettings { cs: Some("a b".into()), ..Default::default() };
        let e = base_url(Service::Cs, "cn-beijing", &block, &none).unwrap_err();
        assert!(e.starts_with("endpoints.cs: "), "{e}");
    }
}

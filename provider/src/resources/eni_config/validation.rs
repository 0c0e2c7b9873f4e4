//! Plan-time checks that span attributes or need parsing (single-attribute enums and ID syntax
//! are attribute validators in the schema). Every error names the attribute path; unknown
//! values are skipped (Terraform validates again once they are known).

use ipnet::IpNet;

use crate::cty::Value;
use crate::framework::validators::IdWithPrefix;
use crate::framework::{AttrPath, Diagnostics};

/// Zone IDs look like `cn-hangzhou-h`: lowercase words joined by dashes.
pub fn check_zone(zone: &str) -> bool {
    let parts: Vec<&str> = zone.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
}

/// Checks `service_cidr` against `ip_stack`: one CIDR of the stack's family, or one of each for
/// dual stack (comma-separated, as Terway reads it).
pub fn check_service_cidr(cidr: &str, ip_stack: Option<&str>) -> Result<(), String> {
    let mut nets = Vec::new();
    for part in cidr.split(',') {
        let part = part.trim();
        let net: IpNet = part.parse().map_err(|_| format!("{part:?} is not a CIDR block (e.g. 192.168.0.0/16)"))?;
        if net.trunc() != net {
            return Err(format!("{part:?} has host bits set; the network is {}", net.trunc()));
        }
        nets.push(net);
    }
    let v4 = nets.iter().filter(|n| matches!(n, IpNet::V4(_))).count();
    let v6 = nets.len() - v4;
    match ip_stack.unwrap_or("ipv4") {
        "ipv4" if v4 == 1 && v6 == 0 => Ok(()),
        "ipv6" if v6 == 1 && v4 == 0 => Ok(()),
        "dual" if v4 == 1 && v6 == 1 => Ok(()),
        "ipv4" => Err("ip_stack \"ipv4\" needs exactly one IPv4 CIDR".into()),
        "ipv6" => Err("ip_stack \"ipv6\" needs exactly one IPv6 CIDR".into()),
        "dual" => Err("ip_stack \"dual\" needs one IPv4 and one IPv6 CIDR, comma-separated".into()),
        _ => Ok(()), // an invalid ip_stack is reported on that attribute
    }
}

fn is_set(config: &Value, attr: &str) -> bool {
    config.get(attr).is_some_and(|v| !v.is_null())
}

fn is_unknown(config: &Value, attr: &str) -> bool {
    config.get(attr).is_some_and(Value::is_unknown)
}

/// `low <= high` for two integer attributes, reported on `low`.
fn check_order(config: &Value, low: &str, high: &str, diags: &mut Diagnostics) {
    let int = |a: &str| config.get(a).and_then(Value::as_i64);
    if let (Some(min), Some(max)) = (int(low), int(high)) {
        if min > max {
            diags.error_at(
                AttrPath::attr(low),
                format!("{low} exceeds {high}"),
                format!("{low} ({min}) must not be greater than {high} ({max})."),
            );
        }
    }
}

fn check_vswitches(config: &Value, diags: &mut Diagnostics) {
    let Some(zones) = config.get("vswitches").and_then(Value::as_map) else { return };
    if zones.is_empty() {
        diags.error_at(AttrPath::attr("vswitches"), "No vSwitches", "Give at least one zone with its vSwitch IDs.");
    }
    let vsw = IdWithPrefix("vsw-");
    for (zone, list) in zones {
        let at = AttrPath::attr("vswitches").then_key(zone);
        if !check_zone(zone) {
            diags.error_at(at.clone(), "Invalid zone ID", format!("{zone:?} is not a zone ID like \"cn-hangzhou-h\"."));
        }
        match list.as_seq() {
            Some([]) => diags.error_at(at, "No vSwitches for the zone", format!("Zone {zone} has an empty list.")),
            Some(items) => {
                for (i, v) in items.iter().enumerate() {
                    if let Some(s) = v.as_str().filter(|s| !vsw.check(s)) {
                        diags.error_at(
                            at.then_index(i),
                            "Invalid vSwitch ID",
                            format!("{s:?} is not a vSwitch ID (\"vsw-\" followed by lowercase letters and digits)."),
                        );
                    }
                }
            }
            None => {}
        }
    }
}

fn check_credentials(config: &Value, diags: &mut Diagnostics) {
    let (key, secret) = (is_set(config, "access_key"), is_set(config, "access_secret"));
    if key != secret && !is_unknown(config, "access_key") && !is_unknown(config, "access_secret") {
        let missing = if key { "access_secret" } else { "access_key" };
        diags.error_at(
            AttrPath::attr(missing),
            "Incomplete credentials",
            "access_key and access_secret are set together (or both left out to use credential_path or the addon \
             Secret).",
        );
    }
    // The secret's value is never quoted: only whether it is empty.
    if config.get("access_secret").and_then(Value::as_str).is_some_and(str::is_empty) {
        diags.error_at(AttrPath::attr("access_secret"), "Empty access_secret", "Leave it out instead of empty.");
    }
    if is_set(config, "credential_path") && key {
        diags.error_at(
            AttrPath::attr("credential_path"),
            "Conflicting credentials",
            "Set either credential_path or access_key/access_secret, not both.",
        );
    }
}

/// The resource's `ValidateResourceConfig` checks.
pub fn validate(config: &Value, diags: &mut Diagnostics) {
    check_order(config, "min_pool_size", "max_pool_size", diags);
    check_order(config, "min_eni", "max_eni", diags);
    if let Some(ratio) = config.get("eni_cap_ratio").and_then(Value::as_f64) {
        if !(ratio > 0.0 && ratio <= 1.0) {
            diags.error_at(
                AttrPath::attr("eni_cap_ratio"),
                "Invalid eni_cap_ratio",
                "Must be greater than 0 and at most 1.",
            );
        }
    }
    check_vswitches(config, diags);
    if let Some(cidr) = config.get("service_cidr").and_then(Value::as_str) {
        if !is_unknown(config, "ip_stack") {
            if let Err(e) = check_service_cidr(cidr, config.get("ip_stack").and_then(Value::as_str)) {
                diags.error_at(AttrPath::attr("service_cidr"), "Invalid service CIDR", e);
            }
        }
    }
    if !is_set(config, "security_group") && !is_set(config, "security_groups") {
        diags.error_at(
            AttrPath::attr("security_group"),
            "Missing security group",
            "Set security_group (or security_groups): Terway needs a security group for the ENIs it creates.",
        );
    }
    if let Some(kinds) = config.get("custom_stateful_workload_kinds").and_then(Value::as_seq) {
        for (i, k) in kinds.iter().enumerate() {
            if k.as_str().is_some_and(|s| s.trim().is_empty()) {
                diags.error_at(
                    AttrPath::attr("custom_stateful_workload_kinds").then_index(i),
                    "Empty workload kind",
                    "Give a kind such as \"CloneSet\".",
                );
            }
        }
    }
    check_credentials(config, diags);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(attrs: &[(&str, Value)]) -> Value {
        let mut all: std::collections::BTreeMap<String, Value> = [
            (
                "vswitches".to_string(),
                Value::Map([("cn-hangzhou-h".to_string(), Value::List(vec![Value::string("vsw-1")]))].into()),
            ),
            ("security_group".to_string(), Value::string("sg-1")),
            ("service_cidr".to_string(), Value::string("172.21.0.0/20")),
        ]
        .into();
        for (k, v) in attrs {
            all.insert(k.to_string(), v.clone());
        }
        Value::Object(all)
    }

    fn paths(cfg: &Value) -> Vec<String> {
        let mut diags = Diagnostics::new();
        validate(cfg, &mut diags);
        diags.iter().map(|d| format!("{:?}", d.path)).collect()
    }

    #[test]
    fn service_cidr_follows_the_ip_stack() {
        assert!(check_service_cidr("172.21.0.0/20", None).is_ok());
        assert!(check_service_cidr("172.21.0.0/20,fd00::/112", Some("dual")).is_ok());
        assert!(check_service_cidr("fd00::/112", Some("ipv6")).is_ok());
        assert!(check_service_cidr("fd00::/112", Some("ipv4")).unwrap_err().contains("IPv4"));
        assert!(check_service_cidr("172.21.0.0/20", Some("dual")).unwrap_err().contains("dual"));
        assert!(check_service_cidr("172.21.0.1/20", None).unwrap_err().contains("host bits"));
        assert!(check_service_cidr("300.0.0.0/8", None).unwrap_err().contains("not a CIDR"));
        assert!(check_service_cidr("", None).unwrap_err().contains("not a CIDR"));
    }

    #[test]
    fn zones_look_like_alibaba_zone_ids() {
        assert!(check_zone("cn-hangzhou-h") && check_zone("ap-southeast-1a"));
        assert!(!check_zone("cn-hangzhou") && !check_zone("CN-hangzhou-h") && !check_zone("cn--h"));
    }

    #[test]
    fn a_valid_configuration_has_no_errors() {
        assert!(paths(&config(&[])).is_empty());
        let unknown = config(&[("service_cidr", Value::Unknown), ("min_pool_size", Value::Unknown)]);
        assert!(paths(&unknown).is_empty(), "unknown values are checked later");
    }

    #[test]
    fn validation_names_the_attribute() {
        let cfg = config(&[
            ("min_pool_size", Value::from(6i64)),
            ("max_pool_size", Value::from(5i64)),
            ("service_cidr", Value::string("10.0.0.0/33")),
            (
                "vswitches",
                Value::Map([("cn-hangzhou-h".to_string(), Value::List(vec![Value::string("vpc-1")]))].into()),
            ),
        ]);
        let paths = paths(&cfg);
        assert_eq!(paths.len(), 3, "{paths:?}");
        assert!(paths.iter().any(|p| p.contains("min_pool_size")), "{paths:?}");
        assert!(paths.iter().any(|p| p.contains("service_cidr")), "{paths:?}");
        assert!(paths.iter().any(|p| p.contains("cn-hangzhou-h") && p.contains('0')), "{paths:?}");
    }

    #[test]
    fn credentials_come_in_pairs_and_the_secret_is_never_quoted() {
        let p = paths(&config(&[("access_key", Value::string("LTAIx"))]));
        assert!(p.len() == 1 && p[0].contains("access_secret"), "{p:?}");
        let mut diags = Diagnostics::new();
        validate(
            &config(&[
                ("access_secret", Value::string("hidden-secret-text")),
                ("credential_path", Value::string("/x")),
            ]),
            &mut diags,
        );
        assert_eq!(diags.iter().count(), 1);
        assert!(diags.iter().all(|d| !d.detail.contains("hidden-secret-text") && !d.summary.contains("hidden")));
        let p = paths(&config(&[("access_key", Value::string("k")), ("access_secret", Value::string(""))]));
        assert!(p.len() == 1 && p[0].contains("access_secret"), "{p:?}");
    }

    #[test]
    fn other_cross_checks() {
        let p = paths(&config(&[("security_group", Value::Null)]));
        assert!(p.len() == 1 && p[0].contains("security_group"), "{p:?}");
        let p = paths(&config(&[("eni_cap_ratio", Value::Number(crate::cty::Number::parse("1.5").unwrap()))]));
        assert!(p.len() == 1 && p[0].contains("eni_cap_ratio"), "{p:?}");
        let p = paths(&config(&[("min_eni", Value::from(3i64)), ("max_eni", Value::from(2i64))]));
        assert!(p.len() == 1 && p[0].contains("min_eni"), "{p:?}");
        let p =
            paths(&config(&[("vswitches", Value::Map([("cn-hangzhou-h".to_string(), Value::List(vec![]))].into()))]));
        assert!(p.len() == 1 && p[0].contains("cn-hangzhou-h"), "{p:?}");
        let p = paths(&config(&[(
            "custom_stateful_workload_kinds",
            Value::List(vec![Value::string("CloneSet"), Value::string(" ")]),
        )]));
        assert!(p.len() == 1 && p[0].contains("custom_stateful_workload_kinds"), "{p:?}");
    }
}

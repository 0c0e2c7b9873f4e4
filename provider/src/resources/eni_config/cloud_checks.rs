//! Plan-time checks of `hybrid_eni_config` against the cloud, run when credentials are available:
//! every vSwitch exists, in the zone it is listed under and in the cluster's VPC; the security
//! groups exist in that VPC; `service_cidr` overlaps no listed vSwitch's CIDR.

use std::collections::BTreeMap;

use ipnet::IpNet;
use serde_json::Value as Json;

use crate::clients::alibaba::{Alibaba, CloudError, Retry, Service};
use crate::framework::{AttrPath, Diagnostics};

/// The configuration the checks look at (all known).
pub struct Inputs {
    pub cluster_id: Option<String>,
    pub vswitches: BTreeMap<String, Vec<String>>,
    /// (attribute path, ID).
    pub security_groups: Vec<(AttrPath, String)>,
    pub service_cidr: Option<String>,
}

struct VSwitch {
    zone: String,
    vpc: String,
    cidr: Option<IpNet>,
}

async fn describe_vswitches(a: &Alibaba, ids: &[String]) -> Result<BTreeMap<String, VSwitch>, CloudError> {
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(50) {
        let params =
            [("RegionId", a.region().to_string()), ("VSwitchId", chunk.join(",")), ("PageSize", "50".to_string())];
        let r = a.rpc(Service::Vpc, "DescribeVSwitches", &params, Retry::Idempotent).await?;
        for v in r["VSwitches"]["VSwitch"].as_array().into_iter().flatten() {
            let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            out.insert(
                text("VSwitchId"),
                VSwitch { zone: text("ZoneId"), vpc: text("VpcId"), cidr: text("CidrBlock").parse().ok() },
            );
        }
    }
    Ok(out)
}

async fn describe_security_groups(a: &Alibaba, ids: &[String]) -> Result<BTreeMap<String, String>, CloudError> {
    let params = [
        ("RegionId", a.region().to_string()),
        ("SecurityGroupIds", Json::from(ids.to_vec()).to_string()),
        ("PageSize", "50".to_string()),
    ];
    let r = a.rpc(Service::Ecs, "DescribeSecurityGroups", &params, Retry::Idempotent).await?;
    Ok(r["SecurityGroups"]["SecurityGroup"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| {
            Some((g["SecurityGroupId"].as_str()?.to_string(), g["VpcId"].as_str().unwrap_or_default().to_string()))
        })
        .collect())
}

fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// A failed look-up is a warning, not an error: the checks help, but a missing permission for
/// them must not block a plan.
fn could_not_check(diags: &mut Diagnostics, what: &str, e: &CloudError) {
    diags.warning(format!("Could not check {what}"), format!("{e}. The check is skipped."));
}

pub async fn check(a: &Alibaba, inp: &Inputs, diags: &mut Diagnostics) {
    let mut vpc = None;
    if let Some(cluster) = &inp.cluster_id {
        match a.check_registered_cluster(cluster).await {
            Ok(c) => vpc = c["vpc_id"].as_str().filter(|v| !v.is_empty()).map(str::to_string),
            Err(e) => return diags.error_at(AttrPath::attr("cluster_id"), "Unusable cluster", e),
        }
    }
    let ids: Vec<String> = inp.vswitches.values().flatten().cloned().collect();
    let found = match describe_vswitches(a, &ids).await {
        Ok(f) => f,
        Err(e) => return could_not_check(diags, "the vSwitches", &e),
    };
    // Without a cluster, the vSwitches must at least agree with each other.
    let vpc = vpc.or_else(|| found.values().next().map(|v| v.vpc.clone()));
    for (zone, list) in &inp.vswitches {
        for (i, id) in list.iter().enumerate() {
            let at = AttrPath::attr("vswitches").then_key(zone).then_index(i);
            match found.get(id) {
                None => {
                    diags.error_at(at, "vSwitch not found", format!("{id} does not exist in region {}.", a.region()))
                }
                Some(v) if v.zone != *zone => diags.error_at(
                    at,
                    "vSwitch in another zone",
                    format!("{id} is in zone {}, but is listed under {zone}.", v.zone),
                ),
                Some(v) if vpc.as_ref().is_some_and(|want| *want != v.vpc) => diags.error_at(
                    at,
                    "vSwitch in another VPC",
                    format!("{id} is in {}, not in the cluster's VPC {}.", v.vpc, vpc.as_deref().unwrap_or_default()),
                ),
                Some(_) => {}
            }
        }
    }
    if let Some(cidr) = &inp.service_cidr {
        for svc in cidr.split(',').filter_map(|c| c.trim().parse::<IpNet>().ok()) {
            for (id, v) in &found {
                if v.cidr.is_some_and(|c| overlaps(&c, &svc)) {
                    diags.error_at(
                        AttrPath::attr("service_cidr"),
                        "Service CIDR overlaps a vSwitch",
                        format!(
                            "{svc} overlaps {id} ({}): pod and service addresses would collide.",
                            v.cidr.unwrap_or(svc)
                        ),
                    );
                }
            }
        }
    }
    if inp.security_groups.is_empty() {
        return;
    }
    let sg_ids: Vec<String> = inp.security_groups.iter().map(|(_, id)| id.clone()).collect();
    let groups = match describe_security_groups(a, &sg_ids).await {
        Ok(g) => g,
        Err(e) => return could_not_check(diags, "the security groups", &e),
    };
    for (at, id) in &inp.security_groups {
        match groups.get(id) {
            None => diags.error_at(
                at.clone(),
                "Security group not found",
                format!("{id} does not exist in region {}.", a.region()),
            ),
            Some(g) if vpc.as_ref().is_some_and(|want| want != g) => diags.error_at(
                at.clone(),
                "Security group in another VPC",
                format!("{id} is in {g}, not in {}.", vpc.as_deref().unwrap_or_default()),
            ),
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::config::EndpointSettings;
    use crate::provider::ProviderConfig;
    use hybrid_sandbox::cloud::{self, CloudOptions};
    use hybrid_sandbox::{SandboxOptions, Scenario};

    struct Cloud {
        _sandbox: hybrid_sandbox::Running,
        _dir: tempfile::TempDir,
        client: Alibaba,
        ids: hybrid_sandbox::cloud::SeedIds,
    }

    fn start() -> Cloud {
        let dir = tempfile::tempdir().unwrap();
        let (opts, handle) = cloud::mount(SandboxOptions::for_test(dir.path(), Scenario::Bgp), CloudOptions::default());
        let sb = hybrid_sandbox::start(opts).unwrap();
        let (url, state) = cloud::started(&sb, &handle).unwrap();
        let (id, secret) = state.root_credentials();
        let ep = Some(url);
        let cfg = ProviderConfig {
            region: Some("cn-hangzhou".into()),
            access_key: Some(id.into()),
            secret_key: Some(secret.into()),
            endpoints: EndpointSettings { ram: ep.clone(), cs: ep.clone(), vpc: ep.clone(), ecs: ep },
            ..Default::default()
        };
        let client = Alibaba::new(&cfg, &|_| None).unwrap().unwrap();
        let ids = state.seed_ids().clone();
        Cloud { _sandbox: sb, _dir: dir, client, ids }
    }

    /// The seeded, consistent configuration: cluster, its vSwitches by zone, its security group.
    fn good(c: &Cloud) -> Inputs {
        let mut vswitches: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (zone, id, _) in &c.ids.vswitches {
            vswitches.entry(zone.clone()).or_default().push(id.clone());
        }
        Inputs {
            cluster_id: Some(c.ids.cluster_id.clone()),
            vswitches,
            security_groups: vec![(AttrPath::attr("security_group"), c.ids.security_group_id.clone())],
            service_cidr: Some("172.21.0.0/20".into()),
        }
    }

    async fn errors(c: &Cloud, inp: &Inputs) -> Vec<(String, String)> {
        let mut diags = Diagnostics::new();
        check(&c.client, inp, &mut diags).await;
        diags.iter().map(|d| (format!("{:?}", d.path), d.summary.clone())).collect()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn each_wrong_input_is_reported_on_its_attribute() {
        let c = start();
        assert_eq!(errors(&c, &good(&c)).await, vec![], "the seeded configuration is consistent");

        let (zone, _, cidr) = c.ids.vswitches[0].clone();
        let mut inp = good(&c);
        inp.vswitches.get_mut(&zone).unwrap().push(c.ids.foreign_vswitch_id.clone());
        inp.vswitches.insert("cn-hangzhou-z".into(), vec![c.ids.vswitches[0].1.clone(), "vsw-missing0".into()]);
        inp.security_groups
            .push((AttrPath::attr("security_groups").then_index(1), c.ids.foreign_security_group_id.clone()));
        inp.service_cidr = Some(cidr.clone());
        let found = errors(&c, &inp).await;
        let has = |path: &[&str], summary: &str| {
            found.iter().any(|(p, s)| s == summary && path.iter().all(|part| p.contains(part)))
        };
        assert!(has(&[&zone], "vSwitch in another VPC"), "{found:?}");
        assert!(has(&["cn-hangzhou-z", "0"], "vSwitch in another zone"), "{found:?}");
        assert!(has(&["cn-hangzhou-z", "1"], "vSwitch not found"), "{found:?}");
        assert!(has(&["security_groups", "1"], "Security group in another VPC"), "{found:?}");
        assert!(has(&["service_cidr"], "Service CIDR overlaps a vSwitch"), "{found:?}");

        let mut inp = good(&c);
        inp.cluster_id = Some("c0000000000000000000000000000bad".into());
        let found = errors(&c, &inp).await;
        assert!(found.len() == 1 && found[0].0.contains("cluster_id"), "{found:?}");
    }

    #[test]
    fn overlap_is_symmetric_and_exact() {
        let n = |s: &str| s.parse::<IpNet>().unwrap();
        assert!(overlaps(&n("192.168.0.0/16"), &n("192.168.1.0/24")));
        assert!(overlaps(&n("192.168.1.0/24"), &n("192.168.0.0/16")));
        assert!(!overlaps(&n("172.21.0.0/20"), &n("192.168.0.0/24")));
        assert!(!overlaps(&n("10.0.0.0/24"), &n("10.0.1.0/24")));
    }
}

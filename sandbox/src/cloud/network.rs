//! VPC DescribeVSwitches and ECS DescribeSecurityGroups over seeded, read-only objects.

use super::errors::{CloudError, CloudResult};
use super::ids;
use super::params::Params;
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct VSwitch {
    pub id: String,
    pub vpc_id: String,
    pub zone: String,
    pub cidr: String,
    pub name: String,
    pub created: String,
}

#[derive(Debug, Clone)]
pub struct SecurityGroup {
    pub id: String,
    pub vpc_id: String,
    pub name: String,
    pub created: String,
}

#[derive(Debug, Clone)]
pub struct NetworkState {
    pub region: String,
    pub owner_id: u64,
    /// The cluster's VPC.
    pub vpc_id: String,
    /// Another VPC in the region, for "not in the cluster's VPC" checks.
    pub foreign_vpc_id: String,
    pub vswitches: Vec<VSwitch>,
    pub security_groups: Vec<SecurityGroup>,
}

impl NetworkState {
    /// The cluster VPC `192.168.0.0/16` with one vSwitch per zone, one security group, and a
    /// foreign VPC `10.0.0.0/8` with a vSwitch in the first zone and its own security group.
    pub fn seeded(region: &str, zones: &[&str]) -> Self {
        let now = ids::now_iso();
        let vpc_id = ids::hangzhou_id("vpc");
        let foreign_vpc_id = ids::hangzhou_id("vpc");
        let mut vswitches: Vec<VSwitch> = zones
            .iter()
            .enumerate()
            .map(|(i, zone)| VSwitch {
                id: ids::hangzhou_id("vsw"),
                vpc_id: vpc_id.clone(),
                zone: zone.to_string(),
                cidr: format!("192.168.{i}.0/24"),
                name: format!("hybrid-{zone}"),
                created: now.clone(),
            })
            .collect();
        if let Some(zone) = zones.first() {
            vswitches.push(VSwitch {
                id: ids::hangzhou_id("vsw"),
                vpc_id: foreign_vpc_id.clone(),
                zone: zone.to_string(),
                cidr: "10.0.0.0/24".into(),
                name: "other-vpc".into(),
                created: now.clone(),
            });
        }
        let security_groups = vec![
            SecurityGroup {
                id: ids::hangzhou_id("sg"),
                vpc_id: vpc_id.clone(),
                name: "hybrid-terway".into(),
                created: now.clone(),
            },
            SecurityGroup {
                id: ids::hangzhou_id("sg"),
                vpc_id: foreign_vpc_id.clone(),
                name: "other-vpc".into(),
                created: now,
            },
        ];
        NetworkState {
            region: region.to_string(),
            owner_id: 1_234_567_890_123_456,
            vpc_id,
            foreign_vpc_id,
            vswitches,
            security_groups,
        }
    }

    pub fn cluster_vswitches(&self) -> impl Iterator<Item = &VSwitch> {
        self.vswitches.iter().filter(|v| v.vpc_id == self.vpc_id)
    }

    pub fn cluster_security_group(&self) -> &SecurityGroup {
        &self.security_groups[0]
    }

    fn region_matches(&self, p: &Params) -> bool {
        p.get("RegionId").is_none_or(|r| r.is_empty() || r == self.region)
    }

    pub fn describe_vswitches(&self, p: &Params) -> CloudResult<Value> {
        let page = p.int("PageNumber", 1, 1, u32::MAX as u64)?;
        let size = p.int("PageSize", 10, 1, 50)?;
        let ids: Option<Vec<&str>> =
            p.get("VSwitchId").filter(|v| !v.is_empty()).map(|v| v.split(',').map(str::trim).collect());
        let region_ok = self.region_matches(p);
        let matching: Vec<&VSwitch> = self
            .vswitches
            .iter()
            .filter(|_| region_ok)
            .filter(|v| p.get("VpcId").is_none_or(|x| x.is_empty() || x == v.vpc_id))
            .filter(|v| p.get("ZoneId").is_none_or(|x| x.is_empty() || x == v.zone))
            .filter(|v| ids.as_ref().is_none_or(|l| l.contains(&v.id.as_str())))
            .filter(|v| p.get("VSwitchName").is_none_or(|x| x.is_empty() || x == v.name))
            .collect();
        let total = matching.len();
        let items: Vec<Value> = page_of(&matching, page, size)
            .iter()
            .map(|v| {
                json!({
                    "VSwitchId": v.id, "VpcId": v.vpc_id, "Status": "Available", "CidrBlock": v.cidr,
                    "ZoneId": v.zone, "AvailableIpAddressCount": 252, "Description": "", "VSwitchName": v.name,
                    "CreationTime": v.created, "IsDefault": false, "ResourceGroupId": "rg-acfmsandbox00000",
                    "NetworkAclId": "", "OwnerId": self.owner_id, "ShareType": "",
                    "RouteTable": {"RouteTableId": format!("vtb-{}", &v.vpc_id[4..]), "RouteTableType": "System"},
                    "Tags": {"Tag": []}, "Ipv6CidrBlock": "", "EnabledIpv6": false,
                })
            })
            .collect();
        Ok(json!({"TotalCount": total, "PageNumber": page, "PageSize": size, "VSwitches": {"VSwitch": items}}))
    }

    pub fn describe_security_groups(&self, p: &Params) -> CloudResult<Value> {
        p.required("RegionId")?;
        let page = p.int("PageNumber", 1, 1, u32::MAX as u64)?;
        let size = p.int("PageSize", 10, 1, 50)?;
        let ids = p.json_strings("SecurityGroupIds", "InvalidSecurityGroupIds.Malformed")?;
        if ids.as_ref().is_some_and(|l| l.len() > 100) {
            return Err(CloudError::invalid(
                "InvalidSecurityGroupIds.Malformed",
                "The specified parameter \"SecurityGroupIds\" is not valid.",
            ));
        }
        let region_ok = self.region_matches(p);
        let matching: Vec<&SecurityGroup> = self
            .security_groups
            .iter()
            .filter(|_| region_ok)
            .filter(|g| p.get("VpcId").is_none_or(|x| x.is_empty() || x == g.vpc_id))
            .filter(|g| p.get("SecurityGroupId").is_none_or(|x| x.is_empty() || x == g.id))
            .filter(|g| ids.as_ref().is_none_or(|l| l.contains(&g.id)))
            .filter(|g| p.get("SecurityGroupName").is_none_or(|x| x.is_empty() || x == g.name))
            .collect();
        let total = matching.len();
        let items: Vec<Value> = page_of(&matching, page, size)
            .iter()
            .map(|g| {
                json!({
                    "SecurityGroupId": g.id, "SecurityGroupName": g.name, "Description": "", "VpcId": g.vpc_id,
                    "SecurityGroupType": "normal", "CreationTime": g.created, "ResourceGroupId": "",
                    "ServiceManaged": false, "EcsCount": 0, "AvailableInstanceAmount": 2000,
                    "RuleCount": 2, "GroupToGroupRuleCount": 0, "Tags": {"Tag": []},
                })
            })
            .collect();
        Ok(json!({
            "RegionId": self.region, "TotalCount": total, "PageNumber": page, "PageSize": size, "NextToken": "",
            "SecurityGroups": {"SecurityGroup": items},
        }))
    }

    pub fn dump(&self) -> Value {
        json!({
            "vpc_id": self.vpc_id, "foreign_vpc_id": self.foreign_vpc_id,
            "vswitches": self.vswitches.iter().map(|v| json!({"VSwitchId": v.id, "VpcId": v.vpc_id, "ZoneId": v.zone, "CidrBlock": v.cidr})).collect::<Vec<_>>(),
            "security_groups": self.security_groups.iter().map(|g| json!({"SecurityGroupId": g.id, "VpcId": g.vpc_id})).collect::<Vec<_>>(),
        })
    }
}

fn page_of<T>(items: &[T], page: u64, size: u64) -> &[T] {
    let start = ((page - 1) * size).min(items.len() as u64) as usize;
    let end = (start as u64 + size).min(items.len() as u64) as usize;
    &items[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn vswitch_filters_and_paging() {
        let n = NetworkState::seeded("cn-hangzhou", &["cn-hangzhou-h", "cn-hangzhou-i"]);
        let all = n.describe_vswitches(&p(&[("RegionId", "cn-hangzhou")])).unwrap();
        assert_eq!(all["TotalCount"], 3);
        let in_vpc = n.describe_vswitches(&p(&[("VpcId", &n.vpc_id)])).unwrap();
        assert_eq!(in_vpc["TotalCount"], 2);
        let zone_i = n.describe_vswitches(&p(&[("VpcId", &n.vpc_id), ("ZoneId", "cn-hangzhou-i")])).unwrap();
        assert_eq!(zone_i["VSwitches"]["VSwitch"][0]["CidrBlock"], "192.168.1.0/24");
        let by_id = n.describe_vswitches(&p(&[("VSwitchId", &n.vswitches[0].id)])).unwrap();
        assert_eq!(by_id["TotalCount"], 1);
        let page2 = n.describe_vswitches(&p(&[("PageSize", "2"), ("PageNumber", "2")])).unwrap();
        assert_eq!(page2["VSwitches"]["VSwitch"].as_array().unwrap().len(), 1);
        assert_eq!(page2["TotalCount"], 3);
        assert_eq!(n.describe_vswitches(&p(&[("PageSize", "51")])).unwrap_err().code, "InvalidParameter");
        assert_eq!(n.describe_vswitches(&p(&[("RegionId", "cn-beijing")])).unwrap()["TotalCount"], 0);
        assert_eq!(n.describe_vswitches(&p(&[("VSwitchId", "vsw-nope")])).unwrap()["TotalCount"], 0);
    }

    #[test]
    fn security_group_filters() {
        let n = NetworkState::seeded("cn-hangzhou", &["cn-hangzhou-h", "cn-hangzhou-i"]);
        let sg = n.cluster_security_group().id.clone();
        assert_eq!(n.describe_security_groups(&p(&[])).unwrap_err().code, "MissingParameter");
        let r = n.describe_security_groups(&p(&[("RegionId", "cn-hangzhou"), ("VpcId", &n.vpc_id)])).unwrap();
        assert_eq!(r["SecurityGroups"]["SecurityGroup"][0]["SecurityGroupId"], sg.as_str());
        let ids = format!("[\"{sg}\",\"sg-nope\"]");
        let r = n.describe_security_groups(&p(&[("RegionId", "cn-hangzhou"), ("SecurityGroupIds", &ids)])).unwrap();
        assert_eq!(r["TotalCount"], 1);
        let bad = n.describe_security_groups(&p(&[("RegionId", "cn-hangzhou"), ("SecurityGroupIds", "sg-1")]));
        assert_eq!(bad.unwrap_err().code, "InvalidSecurityGroupIds.Malformed");
    }
}

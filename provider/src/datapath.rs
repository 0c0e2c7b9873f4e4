//! The Terway node datapath images this provider version knows, per region and version.
//!
//! Sources: the terway-eniip DaemonSet in AliyunContainerService/terway
//! (`charts/terway/templates/terwayd/daemonset.yaml`: the `terway-init`, `terway` and
//! `policy` containers all run `acs/terway:<tag>`; `terway-controlplane` runs
//! `acs/terway-controlplane:<tag>`), release tags of that repository, and the ACK registry
//! naming `registry-<region>.ack.aliyuncs.com` (public) / `registry-<region>-vpc.ack.aliyuncs.com`
//! (pull from inside a VPC), as used by the chart's values.yaml. Regions are the public
//! Alibaba Cloud regions where ACK is offered.

/// The version installed when a configuration does not name one. Change it here only.
pub const CURRENT_VERSION: &str = "v1.17.5";

/// Known Terway releases, newest first.
pub const VERSIONS: &[&str] = &["v1.17.5", "v1.17.2", "v1.16.6", "v1.15.3", "v1.14.5", "v1.13.4"];

/// Images of one release: component name → repository in the ACK registry.
pub const COMPONENTS: &[(&str, &str)] = &[("terway", "acs/terway"), ("terway-controlplane", "acs/terway-controlplane")];

/// The component whose image runs on every node (the datapath).
pub const DATAPATH_COMPONENT: &str = "terway";

pub const REGIONS: &[&str] = &[
    "cn-qingdao",
    "cn-beijing",
    "cn-zhangjiakou",
    "cn-huhehaote",
    "cn-wulanchabu",
    "cn-hangzhou",
    "cn-shanghai",
    "cn-shenzhen",
    "cn-heyuan",
    "cn-guangzhou",
    "cn-chengdu",
    "cn-hongkong",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-3",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "us-east-1",
    "us-west-1",
    "eu-west-1",
    "eu-central-1",
    "me-east-1",
    "me-central-1",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub component: &'static str,
    pub repository: &'static str,
    pub tag: &'static str,
}

/// The image references of one release in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatapathImages {
    pub region: String,
    pub version: &'static str,
    pub registry: String,
    pub vpc_registry: String,
    pub images: Vec<Image>,
}

impl DatapathImages {
    pub fn reference(&self, image: &Image, vpc: bool) -> String {
        let host = if vpc { &self.vpc_registry } else { &self.registry };
        format!("{host}/{}:{}", image.repository, image.tag)
    }
    pub fn datapath(&self) -> &Image {
        self.images.iter().find(|i| i.component == DATAPATH_COMPONENT).expect("every release has the datapath image")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("unknown region {0:?}; known regions: {known}", known = REGIONS.join(", "))]
    UnknownRegion(String),
    #[error("unknown Terway version {0:?}; this provider knows: {known}", known = VERSIONS.join(", "))]
    UnknownVersion(String),
}

pub fn check_region(region: &str) -> Result<(), LookupError> {
    REGIONS.contains(&region).then_some(()).ok_or_else(|| LookupError::UnknownRegion(region.to_string()))
}

pub fn check_version(version: &str) -> Result<&'static str, LookupError> {
    VERSIONS.iter().copied().find(|v| *v == version).ok_or_else(|| LookupError::UnknownVersion(version.to_string()))
}

pub fn lookup(region: &str, version: Option<&str>) -> Result<DatapathImages, LookupError> {
    check_region(region)?;
    let version = check_version(version.unwrap_or(CURRENT_VERSION))?;
    Ok(DatapathImages {
        region: region.to_string(),
        version,
        registry: format!("registry-{region}.ack.aliyuncs.com"),
        vpc_registry: format!("registry-{region}-vpc.ack.aliyuncs.com"),
        images: COMPONENTS
            .iter()
            .map(|(component, repository)| Image { component, repository, tag: version })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_version_is_a_known_release() {
        assert_eq!(check_version(CURRENT_VERSION), Ok(CURRENT_VERSION));
        assert_eq!(VERSIONS[0], CURRENT_VERSION, "the default should be the newest release");
    }

    #[test]
    fn references_follow_the_ack_registry_naming() {
        let d = lookup("cn-hangzhou", Some("v1.16.6")).unwrap();
        assert_eq!(d.reference(d.datapath(), false), "registry-cn-hangzhou.ack.aliyuncs.com/acs/terway:v1.16.6");
        assert_eq!(d.reference(d.datapath(), true), "registry-cn-hangzhou-vpc.ack.aliyuncs.com/acs/terway:v1.16.6");
    }

    #[test]
    fn unknown_inputs_list_what_is_known() {
        let e = lookup("mars-1", None).unwrap_err().to_string();
        assert!(e.contains("mars-1") && e.contains("cn-hangzhou"), "{e}");
        let e = lookup("cn-hangzhou", Some("v0.0.1")).unwrap_err().to_string();
        assert!(e.contains(CURRENT_VERSION), "{e}");
    }
}

//! Managed resources, one file per Terraform type. Adding one: write `<name>.rs`, declare it
//! here and list it in [`all`].

use std::sync::Arc;

use crate::framework::Resource;

pub mod cni_affinity_patch;
pub mod eni_config;
pub mod node_pool_label;
pub mod ram_grant;
pub mod terway_addon;

/// Every managed resource the provider offers.
pub fn all() -> Vec<Arc<dyn Resource>> {
    vec![
        Arc::new(eni_config::EniConfig),
        Arc::new(cni_affinity_patch::CniAffinityPatch),
        Arc::new(terway_addon::TerwayAddon),
        Arc::new(node_pool_label::NodePoolLabel),
        Arc::new(ram_grant::RamGrant),
    ]
}

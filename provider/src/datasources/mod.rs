//! Data sources, one file per Terraform type. Adding one: write `<name>.rs`, declare it here
//! and list it in [`all`].

use std::sync::Arc;

use crate::framework::DataSource;

pub mod cluster_network;
pub mod datapath_image;

/// Every data source the provider offers.
pub fn all() -> Vec<Arc<dyn DataSource>> {
    vec![Arc::new(datapath_image::DatapathImage), Arc::new(cluster_network::ClusterNetwork)]
}

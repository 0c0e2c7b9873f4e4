//! Data sources, one file each.

pub mod datapath_image;

//! API clients used by resources. Created lazily from the provider configuration.

pub mod alibaba;
pub mod kubernetes;

//! The Kubernetes API side of the sandbox.

pub mod addons;
pub mod api;
pub mod defaults;
pub mod discovery;
pub mod fieldpath;
pub mod managed;
pub mod openapi;
pub mod patch;
pub mod protobuf;
pub mod resources;
pub mod schema;
pub mod seed;
pub mod selector;
pub mod status;
pub mod store;
pub mod strict;
pub mod table;
pub mod validate;
pub mod watch;

pub use resources::ResourceRef;
pub use status::ApiError;
pub use store::{DeleteOptions, PatchKind, Store, WriteOptions};

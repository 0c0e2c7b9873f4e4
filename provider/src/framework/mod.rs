//! The resource framework: everything a Terraform type needs except its own logic.
//!
//! A resource or data source is one file implementing [`Resource`] or [`DataSource`] with a
//! [`Schema`]; the framework validates configuration against the schema, applies the
//! protocol's planning rules, runs create/read/update/delete/import, and keeps private
//! state. It knows nothing of gRPC: `crate::server` converts protocol messages.

pub mod context;
pub mod diag;
pub mod model;
pub mod path;
pub mod plan;
pub mod provider;
pub mod resource;
pub mod schema;
pub mod validate;
pub mod validators;

pub use context::{Ctx, Private};
pub use diag::{Diagnostic, Diagnostics, Severity};
pub use path::AttrPath;
pub use provider::ProviderDef;
pub use resource::{DataSource, PlanRequest, Resource};
pub use schema::{Attribute, Block, NestedBlock, Nesting, Schema};

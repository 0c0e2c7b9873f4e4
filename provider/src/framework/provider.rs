//! The provider itself: its configuration schema and the types it offers.

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;

use crate::cty::Value;

use super::diag::Diagnostics;
use super::resource::{DataSource, Resource};
use super::schema::Schema;

#[async_trait]
pub trait ProviderDef: Send + Sync {
    /// Prefix of every resource type name (`hybrid`).
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    /// Builds the data every resource will see through `Ctx::provider`. Must be cheap: API
    /// clients are created on first use, so plans that need no API call make none.
    async fn configure(
        &self,
        config: &Value,
        terraform_version: &str,
        diags: &mut Diagnostics,
    ) -> Option<Arc<dyn Any + Send + Sync>>;
    fn resources(&self) -> Vec<Arc<dyn Resource>>;
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>>;
}

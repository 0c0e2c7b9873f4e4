//! The contracts a managed resource and a data source implement. One file per Terraform
//! type implements one of these; the framework does everything protocol-shaped.

use async_trait::async_trait;

use crate::cty::Value;

use super::context::{Ctx, Private};
use super::diag::{self, Diagnostics};
use super::path::AttrPath;
use super::schema::Schema;

/// A plan under construction, after the generic rules ran (see `plan`).
pub struct PlanRequest<'a> {
    /// Null when creating.
    pub prior: &'a Value,
    pub config: &'a Value,
    /// Starts as the generic plan; the resource may refine computed values.
    pub planned: Value,
    pub requires_replace: Vec<AttrPath>,
    pub private: Private,
}

#[async_trait]
pub trait Resource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;

    /// Checks across attributes that single-attribute validators cannot express. Values may
    /// be unknown here.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Resource-specific planning (API look-ups, computed values known at plan time).
    async fn modify_plan(&self, _ctx: &Ctx, _plan: &mut PlanRequest<'_>, _diags: &mut Diagnostics) {}

    /// Creates the object. Returns its state; on a failure after something was created,
    /// return the state of what exists together with the error, so nothing is lost.
    async fn create(
        &self,
        ctx: &Ctx,
        planned: &Value,
        config: &Value,
        private: &mut Private,
        diags: &mut Diagnostics,
    ) -> Option<Value>;

    /// Reads the object's real state; `None` when it no longer exists.
    async fn read(&self, ctx: &Ctx, state: &Value, private: &mut Private, diags: &mut Diagnostics) -> Option<Value>;

    /// Updates in place. Returns the new state (on failure, the state of what is there now).
    async fn update(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &Value,
        config: &Value,
        private: &mut Private,
        diags: &mut Diagnostics,
    ) -> Option<Value>;

    async fn delete(&self, ctx: &Ctx, prior: &Value, private: &Private, diags: &mut Diagnostics);

    /// Turns an import ID into a state that `read` can complete.
    async fn import(&self, ctx: &Ctx, id: &str, diags: &mut Diagnostics) -> Option<Value>;

    /// A typed model as a value of this resource's schema; a failure is added to `diags`.
    fn encode_state<M: serde::Serialize>(&self, model: &M, diags: &mut Diagnostics) -> Option<Value>
    where
        Self: Sized,
    {
        diags.capture(super::model::encode(model, &self.schema().value_type()))
    }

    /// Converts a stored state of an older schema version (as JSON) to the current one.
    fn upgrade_state(
        &self,
        from_version: i64,
        _state: serde_json::Value,
        diags: &mut Diagnostics,
    ) -> Option<serde_json::Value> {
        diags.extend(diag::error(
            "Unsupported state version",
            format!(
                "State version {from_version} of {} cannot be upgraded by this provider version.",
                self.type_name()
            ),
        ));
        None
    }
}

#[async_trait]
pub trait DataSource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    /// Reads the data. `config` is wholly known (Terraform defers the read otherwise).
    async fn read(&self, ctx: &Ctx, config: &Value, diags: &mut Diagnostics) -> Option<Value>;
}

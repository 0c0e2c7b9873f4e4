//! The tfplugin6 gRPC service. Each RPC decodes its values with the schema, hands them to
//! the framework, and encodes the answer; no resource logic lives here.

mod convert;
mod registry;
#[cfg(test)]
mod tests;

use std::any::Any;
use std::sync::{Arc, RwLock};

use hybrid_proto::tfplugin6 as pb;
use hybrid_proto::tfplugin6::provider_server::Provider;
use tokio_util::sync::CancellationToken;
use tonic::codegen::tokio_stream;
use tonic::{Request, Response, Status, Streaming};

use crate::cty::Value;
use crate::framework::{plan, validate, AttrPath, Ctx, Diagnostics, PlanRequest, Private, ProviderDef};

pub use convert::attribute_description;
use registry::Registry;

type Rpc<T> = Result<Response<T>, Status>;

pub struct ProviderService {
    reg: Arc<Registry>,
    configured: RwLock<Option<Arc<dyn Any + Send + Sync>>>,
    stop: CancellationToken,
}

impl Default for ProviderService {
    fn default() -> Self {
        Self::new()
    }
}

impl ProviderService {
    /// The hybrid provider.
    pub fn new() -> Self {
        Self::with_provider(Arc::new(crate::provider::HybridProvider))
    }

    /// Any provider definition (tests use small ones).
    pub fn with_provider(def: Arc<dyn ProviderDef>) -> Self {
        ProviderService {
            reg: Arc::new(Registry::new(def)),
            configured: RwLock::new(None),
            stop: CancellationToken::new(),
        }
    }

    fn ctx(&self) -> Ctx {
        let data = self.configured.read().ok().and_then(|g| g.clone());
        Ctx::new(data, self.stop.clone())
    }
}

fn unknown_type(kind: &str, name: &str) -> Diagnostics {
    crate::framework::diag::error(
        format!("Unknown {kind} type"),
        format!("This provider has no {kind} named {name:?}."),
    )
}

/// Write-only attributes are never persisted: null them in every state we return.
fn null_write_only(block: &crate::framework::Block, v: &mut Value) {
    if let Value::Object(m) = v {
        for a in block.attributes.iter().filter(|a| a.write_only) {
            m.insert(a.name.clone(), Value::Null);
        }
    }
}

#[tonic::async_trait]
impl Provider for ProviderService {
    async fn get_metadata(&self, _: Request<pb::get_metadata::Request>) -> Rpc<pb::get_metadata::Response> {
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            resources: self
                .reg
                .resources
                .keys()
                .map(|t| pb::get_metadata::ResourceMetadata { type_name: t.clone() })
                .collect(),
            data_sources: self
                .reg
                .data_sources
                .keys()
                .map(|t| pb::get_metadata::DataSourceMetadata { type_name: t.clone() })
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> Rpc<pb::get_provider_schema::Response> {
        tracing::debug!("serving provider schema");
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(convert::schema(&self.reg.provider_schema)),
            resource_schemas: self.reg.resources.iter().map(|(k, e)| (k.clone(), convert::schema(&e.schema))).collect(),
            data_source_schemas: self
                .reg
                .data_sources
                .iter()
                .map(|(k, e)| (k.clone(), convert::schema(&e.schema)))
                .collect(),
            server_capabilities: Some(capabilities()),
            ..Default::default()
        }))
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> Rpc<pb::validate_provider_config::Response> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let config = convert::decode(req.config.as_ref(), &self.reg.provider_ty, "provider configuration", &mut diags);
        if !diags.has_errors() {
            validate::validate_block(&self.reg.provider_schema.block, &config, &AttrPath::root(), &mut diags);
            self.reg.def.validate(&config, &mut diags);
        }
        Ok(Response::new(pb::validate_provider_config::Response { diagnostics: convert::diagnostics(&diags) }))
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> Rpc<pb::validate_resource_config::Response> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        match self.reg.resources.get(&req.type_name) {
            None => diags.extend(unknown_type("resource", &req.type_name)),
            Some(e) => {
                let config = convert::decode(req.config.as_ref(), &e.ty, "configuration", &mut diags);
                if !diags.has_errors() {
                    validate::validate_block(&e.schema.block, &config, &AttrPath::root(), &mut diags);
                    let wo_allowed = req.client_capabilities.is_some_and(|c| c.write_only_attributes_allowed);
                    for a in e.schema.block.attributes.iter().filter(|a| a.write_only) {
                        if !wo_allowed && config.get(&a.name).is_some_and(|v| !v.is_null()) {
                            diags.error_at(
                                AttrPath::attr(&a.name),
                                "Write-only attribute not supported",
                                "This Terraform version cannot handle write-only attributes; use Terraform 1.11 or later.",
                            );
                        }
                    }
                    e.imp.validate(&config, &mut diags);
                }
            }
        }
        Ok(Response::new(pb::validate_resource_config::Response { diagnostics: convert::diagnostics(&diags) }))
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> Rpc<pb::validate_data_resource_config::Response> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        match self.reg.data_sources.get(&req.type_name) {
            None => diags.extend(unknown_type("data source", &req.type_name)),
            Some(e) => {
                let config = convert::decode(req.config.as_ref(), &e.ty, "configuration", &mut diags);
                if !diags.has_errors() {
                    validate::validate_block(&e.schema.block, &config, &AttrPath::root(), &mut diags);
                    e.imp.validate(&config, &mut diags);
                }
            }
        }
        Ok(Response::new(pb::validate_data_resource_config::Response { diagnostics: convert::diagnostics(&diags) }))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Rpc<pb::upgrade_resource_state::Response> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let mut upgraded = None;
        match self.reg.resources.get(&req.type_name) {
            None => diags.extend(unknown_type("resource", &req.type_name)),
            Some(e) => {
                let raw = req.raw_state.unwrap_or_default();
                if raw.json.is_empty() && !raw.flatmap.is_empty() {
                    diags.error(
                        "Unsupported state format",
                        "This resource's state is in the pre-0.12 flatmap format, which this provider never wrote.",
                    );
                } else {
                    match serde_json::from_slice::<serde_json::Value>(&raw.json) {
                        Err(e) => diags.error("Unreadable state", format!("The stored state is not valid JSON: {e}")),
                        Ok(mut json) => {
                            if req.version < e.schema.version {
                                json = e
                                    .imp
                                    .upgrade_state(req.version, json, &mut diags)
                                    .unwrap_or(serde_json::Value::Null);
                            } else if req.version > e.schema.version {
                                diags.error(
                                    "State from a newer provider",
                                    format!("The state was written by a newer provider (schema version {}); this one knows up to {}.", req.version, e.schema.version),
                                );
                            }
                            if !diags.has_errors() {
                                // Attributes no longer in the schema are dropped, absent ones read as null.
                                match crate::framework::model::from_json(&json, &e.ty) {
                                    Ok(mut v) => {
                                        null_write_only(&e.schema.block, &mut v);
                                        upgraded = convert::encode(&v, &e.ty, &mut diags);
                                    }
                                    Err(err) => diags.error("Unreadable state", err),
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state: upgraded,
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Rpc<pb::get_resource_identity_schemas::Response> {
        Ok(Response::new(Default::default()))
    }

    async fn upgrade_resource_identity(
        &self,
        req: Request<pb::upgrade_resource_identity::Request>,
    ) -> Rpc<pb::upgrade_resource_identity::Response> {
        let d = crate::framework::diag::error(
            "Resource identity not supported",
            format!("{} has no resource identity.", req.get_ref().type_name),
        );
        Ok(Response::new(pb::upgrade_resource_identity::Response {
            upgraded_identity: None,
            diagnostics: convert::diagnostics(&d),
        }))
    }

    async fn configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> Rpc<pb::configure_provider::Response> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let config = convert::decode(req.config.as_ref(), &self.reg.provider_ty, "provider configuration", &mut diags);
        if !diags.has_errors() {
            tracing::debug!(terraform_version = %req.terraform_version, "configuring provider");
            if let Some(data) = self.reg.def.configure(&config, &req.terraform_version, &mut diags).await {
                if let Ok(mut slot) = self.configured.write() {
                    *slot = Some(data);
                }
            }
        }
        Ok(Response::new(pb::configure_provider::Response { diagnostics: convert::diagnostics(&diags) }))
    }

    async fn read_resource(&self, req: Request<pb::read_resource::Request>) -> Rpc<pb::read_resource::Response> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let Some(e) = self.reg.resources.get(&req.type_name) else {
            return Ok(Response::new(pb::read_resource::Response {
                diagnostics: convert::diagnostics(&unknown_type("resource", &req.type_name)),
                ..Default::default()
            }));
        };
        let current = convert::decode(req.current_state.as_ref(), &e.ty, "state", &mut diags);
        let mut private = Private::from_bytes(&req.private);
        let mut new_state = current.clone();
        if !diags.has_errors() && !current.is_null() {
            tracing::debug!(type_name = %req.type_name, "reading resource");
            new_state = match e.imp.read(&self.ctx(), &current, &mut private, &mut diags).await {
                Some(v) => v,
                // On a failed read keep what we had: dropping it would plan a re-create.
                None if diags.has_errors() => current,
                None => Value::Null,
            };
            null_write_only(&e.schema.block, &mut new_state);
        }
        Ok(Response::new(pb::read_resource::Response {
            new_state: convert::encode(&new_state, &e.ty, &mut diags),
            private: private.to_bytes(),
            diagnostics: convert::diagnostics(&diags),
            ..Default::default()
        }))
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Rpc<pb::plan_resource_change::Response> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let Some(e) = self.reg.resources.get(&req.type_name) else {
            return Ok(Response::new(pb::plan_resource_change::Response {
                diagnostics: convert::diagnostics(&unknown_type("resource", &req.type_name)),
                ..Default::default()
            }));
        };
        let prior = convert::decode(req.prior_state.as_ref(), &e.ty, "prior state", &mut diags);
        let proposed = convert::decode(req.proposed_new_state.as_ref(), &e.ty, "proposed state", &mut diags);
        let config = convert::decode(req.config.as_ref(), &e.ty, "configuration", &mut diags);
        if diags.has_errors() || proposed.is_null() {
            // Destroy (or undecodable input): nothing to plan.
            return Ok(Response::new(pb::plan_resource_change::Response {
                planned_state: convert::encode(&proposed, &e.ty, &mut diags),
                planned_private: req.prior_private,
                diagnostics: convert::diagnostics(&diags),
                ..Default::default()
            }));
        }
        let generic = plan::plan_block(&e.schema.block, &prior, &proposed, &config);
        let mut pr = PlanRequest {
            prior: &prior,
            config: &config,
            planned: generic.planned,
            requires_replace: generic.requires_replace,
            private: Private::from_bytes(&req.prior_private),
        };
        e.imp.modify_plan(&self.ctx(), &mut pr, &mut diags).await;
        for problem in plan::check_plan(&e.schema.block, &config, &pr.planned) {
            diags.error(
                "Provider produced an invalid plan",
                format!("{}: {problem}. This is a bug in the provider.", req.type_name),
            );
        }
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state: convert::encode(&pr.planned, &e.ty, &mut diags),
            requires_replace: pr.requires_replace.iter().map(convert::attr_path).collect(),
            planned_private: pr.private.to_bytes(),
            diagnostics: convert::diagnostics(&diags),
            ..Default::default()
        }))
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Rpc<pb::apply_resource_change::Response> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let Some(e) = self.reg.resources.get(&req.type_name) else {
            return Ok(Response::new(pb::apply_resource_change::Response {
                diagnostics: convert::diagnostics(&unknown_type("resource", &req.type_name)),
                ..Default::default()
            }));
        };
        let prior = convert::decode(req.prior_state.as_ref(), &e.ty, "prior state", &mut diags);
        let planned = convert::decode(req.planned_state.as_ref(), &e.ty, "planned state", &mut diags);
        let config = convert::decode(req.config.as_ref(), &e.ty, "configuration", &mut diags);
        let mut private = Private::from_bytes(&req.planned_private);
        if diags.has_errors() {
            return Ok(Response::new(pb::apply_resource_change::Response {
                new_state: convert::encode(&prior, &e.ty, &mut Diagnostics::new()),
                private: req.planned_private,
                diagnostics: convert::diagnostics(&diags),
                ..Default::default()
            }));
        }
        let ctx = self.ctx();
        let mut new_state = if planned.is_null() {
            tracing::debug!(type_name = %req.type_name, "deleting");
            e.imp.delete(&ctx, &prior, &private, &mut diags).await;
            // A failed delete leaves the object in state so the next apply tries again.
            if diags.has_errors() {
                prior.clone()
            } else {
                Value::Null
            }
        } else if prior.is_null() {
            tracing::debug!(type_name = %req.type_name, "creating");
            e.imp.create(&ctx, &planned, &config, &mut private, &mut diags).await.unwrap_or(Value::Null)
        } else {
            tracing::debug!(type_name = %req.type_name, "updating");
            e.imp
                .update(&ctx, &prior, &planned, &config, &mut private, &mut diags)
                .await
                .unwrap_or_else(|| prior.clone())
        };
        null_write_only(&e.schema.block, &mut new_state);
        if !new_state.is_wholly_known() {
            diags.error(
                "Provider returned unknown values after apply",
                format!("{} left values unknown after apply. This is a bug in the provider.", req.type_name),
            );
            new_state = prior;
        }
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state: convert::encode(&new_state, &e.ty, &mut diags),
            private: private.to_bytes(),
            diagnostics: convert::diagnostics(&diags),
            ..Default::default()
        }))
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Rpc<pb::import_resource_state::Response> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let mut imported = Vec::new();
        match self.reg.resources.get(&req.type_name) {
            None => diags.extend(unknown_type("resource", &req.type_name)),
            Some(e) => {
                tracing::debug!(type_name = %req.type_name, id = %req.id, "importing");
                if let Some(state) = e.imp.import(&self.ctx(), &req.id, &mut diags).await {
                    if !diags.has_errors() {
                        imported.push(pb::import_resource_state::ImportedResource {
                            type_name: req.type_name.clone(),
                            state: convert::encode(&state, &e.ty, &mut diags),
                            ..Default::default()
                        });
                    }
                }
            }
        }
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources: imported,
            diagnostics: convert::diagnostics(&diags),
            ..Default::default()
        }))
    }

    async fn move_resource_state(
        &self,
        req: Request<pb::move_resource_state::Request>,
    ) -> Rpc<pb::move_resource_state::Response> {
        let r = req.get_ref();
        let d = crate::framework::diag::error(
            "Moving resource state is not supported",
            format!(
                "{} cannot take state moved from {} ({}).",
                r.target_type_name, r.source_type_name, r.source_provider_address
            ),
        );
        Ok(Response::new(pb::move_resource_state::Response {
            diagnostics: convert::diagnostics(&d),
            ..Default::default()
        }))
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> Rpc<pb::read_data_source::Response> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let Some(e) = self.reg.data_sources.get(&req.type_name) else {
            return Ok(Response::new(pb::read_data_source::Response {
                diagnostics: convert::diagnostics(&unknown_type("data source", &req.type_name)),
                ..Default::default()
            }));
        };
        let config = convert::decode(req.config.as_ref(), &e.ty, "configuration", &mut diags);
        let mut state = None;
        if !diags.has_errors() {
            tracing::debug!(type_name = %req.type_name, "reading data source");
            if let Some(v) = e.imp.read(&self.ctx(), &config, &mut diags).await {
                state = convert::encode(&v, &e.ty, &mut diags);
            }
        }
        Ok(Response::new(pb::read_data_source::Response {
            state,
            diagnostics: convert::diagnostics(&diags),
            ..Default::default()
        }))
    }

    async fn generate_resource_config(
        &self,
        req: Request<pb::generate_resource_config::Request>,
    ) -> Rpc<pb::generate_resource_config::Response> {
        let d = crate::framework::diag::error(
            "Config generation is not supported",
            format!("{} does not generate configuration.", req.get_ref().type_name),
        );
        Ok(Response::new(pb::generate_resource_config::Response {
            config: None,
            diagnostics: convert::diagnostics(&d),
        }))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        req: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Rpc<pb::validate_ephemeral_resource_config::Response> {
        let d = unknown_type("ephemeral resource", &req.get_ref().type_name);
        Ok(Response::new(pb::validate_ephemeral_resource_config::Response { diagnostics: convert::diagnostics(&d) }))
    }

    async fn open_ephemeral_resource(
        &self,
        req: Request<pb::open_ephemeral_resource::Request>,
    ) -> Rpc<pb::open_ephemeral_resource::Response> {
        let d = unknown_type("ephemeral resource", &req.get_ref().type_name);
        Ok(Response::new(pb::open_ephemeral_resource::Response {
            diagnostics: convert::diagnostics(&d),
            ..Default::default()
        }))
    }

    async fn renew_ephemeral_resource(
        &self,
        req: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Rpc<pb::renew_ephemeral_resource::Response> {
        let d = unknown_type("ephemeral resource", &req.get_ref().type_name);
        Ok(Response::new(pb::renew_ephemeral_resource::Response {
            diagnostics: convert::diagnostics(&d),
            ..Default::default()
        }))
    }

    async fn close_ephemeral_resource(
        &self,
        req: Request<pb::close_ephemeral_resource::Request>,
    ) -> Rpc<pb::close_ephemeral_resource::Response> {
        let d = unknown_type("ephemeral resource", &req.get_ref().type_name);
        Ok(Response::new(pb::close_ephemeral_resource::Response { diagnostics: convert::diagnostics(&d) }))
    }

    type ListResourceStream = tokio_stream::Iter<std::vec::IntoIter<Result<pb::list_resource::Event, Status>>>;

    async fn list_resource(&self, req: Request<pb::list_resource::Request>) -> Rpc<Self::ListResourceStream> {
        let d = unknown_type("list resource", &req.get_ref().type_name);
        let event = pb::list_resource::Event { diagnostic: convert::diagnostics(&d), ..Default::default() };
        Ok(Response::new(tokio_stream::iter(vec![Ok(event)])))
    }

    async fn validate_list_resource_config(
        &self,
        req: Request<pb::validate_list_resource_config::Request>,
    ) -> Rpc<pb::validate_list_resource_config::Response> {
        let d = unknown_type("list resource", &req.get_ref().type_name);
        Ok(Response::new(pb::validate_list_resource_config::Response { diagnostics: convert::diagnostics(&d) }))
    }

    async fn get_functions(&self, _: Request<pb::get_functions::Request>) -> Rpc<pb::get_functions::Response> {
        Ok(Response::new(Default::default()))
    }

    async fn call_function(&self, req: Request<pb::call_function::Request>) -> Rpc<pb::call_function::Response> {
        Ok(Response::new(pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text: format!("This provider has no function named {:?}.", req.get_ref().name),
                function_argument: None,
            }),
        }))
    }

    async fn validate_state_store_config(
        &self,
        req: Request<pb::validate_state_store::Request>,
    ) -> Rpc<pb::validate_state_store::Response> {
        let d = unknown_type("state store", &req.get_ref().type_name);
        Ok(Response::new(pb::validate_state_store::Response { diagnostics: convert::diagnostics(&d) }))
    }

    async fn configure_state_store(
        &self,
        req: Request<pb::configure_state_store::Request>,
    ) -> Rpc<pb::configure_state_store::Response> {
        let d = unknown_type("state store", &req.get_ref().type_name);
        Ok(Response::new(pb::configure_state_store::Response {
            diagnostics: convert::diagnostics(&d),
            ..Default::default()
        }))
    }

    type ReadStateBytesStream = tokio_stream::Iter<std::vec::IntoIter<Result<pb::read_state_bytes::Response, Status>>>;

    async fn read_state_bytes(&self, req: Request<pb::read_state_bytes::Request>) -> Rpc<Self::ReadStateBytesStream> {
        let d = unknown_type("state store", &req.get_ref().type_name);
        let chunk = pb::read_state_bytes::Response { diagnostics: convert::diagnostics(&d), ..Default::default() };
        Ok(Response::new(tokio_stream::iter(vec![Ok(chunk)])))
    }

    async fn write_state_bytes(
        &self,
        _: Request<Streaming<pb::write_state_bytes::RequestChunk>>,
    ) -> Rpc<pb::write_state_bytes::Response> {
        let d = crate::framework::diag::error("Unknown state store type", "This provider offers no state stores.");
        Ok(Response::new(pb::write_state_bytes::Response { diagnostics: convert::diagnostics(&d) }))
    }

    async fn lock_state(&self, req: Request<pb::lock_state::Request>) -> Rpc<pb::lock_state::Response> {
        let d = unknown_type("state store", &req.get_ref().type_name);
        Ok(Response::new(pb::lock_state::Response { diagnostics: convert::diagnostics(&d), ..Default::default() }))
    }

    async fn unlock_state(&self, req: Request<pb::unlock_state::Request>) -> Rpc<pb::unlock_state::Response> {
        let d = unknown_type("state store", &req.get_ref().type_name);
        Ok(Response::new(pb::unlock_state::Response { diagnostics: convert::diagnostics(&d) }))
    }

    async fn get_states(&self, req: Request<pb::get_states::Request>) -> Rpc<pb::get_states::Response> {
        let d = unknown_type("state store", &req.get_ref().type_name);
        Ok(Response::new(pb::get_states::Response { diagnostics: convert::diagnostics(&d), ..Default::default() }))
    }

    async fn delete_state(&self, req: Request<pb::delete_state::Request>) -> Rpc<pb::delete_state::Response> {
        let d = unknown_type("state store", &req.get_ref().type_name);
        Ok(Response::new(pb::delete_state::Response { diagnostics: convert::diagnostics(&d) }))
    }

    async fn plan_action(&self, req: Request<pb::plan_action::Request>) -> Rpc<pb::plan_action::Response> {
        let d = unknown_type("action", &req.get_ref().action_type);
        Ok(Response::new(pb::plan_action::Response { diagnostics: convert::diagnostics(&d), ..Default::default() }))
    }

    type InvokeActionStream = tokio_stream::Iter<std::vec::IntoIter<Result<pb::invoke_action::Event, Status>>>;

    async fn invoke_action(&self, req: Request<pb::invoke_action::Request>) -> Rpc<Self::InvokeActionStream> {
        let d = unknown_type("action", &req.get_ref().action_type);
        let event = pb::invoke_action::Event {
            r#type: Some(pb::invoke_action::event::Type::Completed(pb::invoke_action::event::Completed {
                diagnostics: convert::diagnostics(&d),
            })),
        };
        Ok(Response::new(tokio_stream::iter(vec![Ok(event)])))
    }

    async fn validate_action_config(
        &self,
        req: Request<pb::validate_action_config::Request>,
    ) -> Rpc<pb::validate_action_config::Response> {
        let d = unknown_type("action", &req.get_ref().type_name);
        Ok(Response::new(pb::validate_action_config::Response { diagnostics: convert::diagnostics(&d) }))
    }

    async fn stop_provider(&self, _: Request<pb::stop_provider::Request>) -> Rpc<pb::stop_provider::Response> {
        tracing::info!("stop requested: cancelling in-flight operations");
        self.stop.cancel();
        Ok(Response::new(pb::stop_provider::Response { error: String::new() }))
    }
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: false,
        // Our schema does not depend on configuration, so Terraform may cache it.
        get_provider_schema_optional: true,
        move_resource_state: false,
        generate_resource_config: false,
    }
}

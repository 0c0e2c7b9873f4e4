//! `hybrid_eni_config`: the Terway ConfigMap (`kube-system/eni-config` by default).
//!
//! The ConfigMap holds two JSON documents: `eni_conf` (what the Terway daemon reads) and
//! `10-terway.conf` (the CNI configuration). Each modelled key is a typed attribute; reads parse
//! the JSON back, so key order and spacing never cause a diff while a changed value does. Keys of
//! either document that are not modelled, and other keys of the ConfigMap, are left as found.
//!
//! - `schema`: attributes and defaults; `validation`: plan-time checks with attribute paths;
//! - `model`: typed state ⇄ the two JSON documents; `configmap`: read, server-side apply, removal;
//! - `cloud_checks`: plan-time look-ups of vSwitches and security groups (Alibaba Cloud).

mod cloud_checks;
mod configmap;
mod model;
mod schema;
mod validation;

use async_trait::async_trait;
use serde_json::Value as Json;

use crate::clients::kubernetes::{self, error::redact, Kube, KubeError};
use crate::cty::Value;
use crate::framework::{model as framework_model, AttrPath, Ctx, Diagnostics, PlanRequest, Private, Resource, Schema};

use model::Model;

pub struct EniConfig;

/// Private-state flag: this resource created the ConfigMap, so destroy may delete it when empty.
const CREATED: &str = "created_configmap";

async fn client(ctx: &Ctx, diags: &mut Diagnostics) -> Option<Kube> {
    diags.capture(kubernetes::from_ctx(ctx).await)
}

/// Adds `e` as a diagnostic. The API server's message may quote the object it rejected, so the
/// configured secret is scrubbed from it on top of the client's own redaction.
fn kube_error(diags: &mut Diagnostics, summary: String, e: KubeError, m: &Model) {
    let secrets: Vec<String> = m.access_secret.iter().cloned().collect();
    let mut d = e.to_diagnostics(&summary);
    for item in &mut d.0 {
        item.detail = redact(&item.detail, &secrets);
    }
    diags.extend(d);
}

impl EniConfig {
    /// Plan-time cloud checks, on create and whenever the checked attributes change (so scheduled
    /// drift plans make no cloud calls), when credentials are configured and the values known.
    async fn check_cloud(&self, ctx: &Ctx, plan: &PlanRequest<'_>, diags: &mut Diagnostics) {
        let watched = ["cluster_id", "vswitches", "security_group", "security_groups", "service_cidr"];
        let cfg = plan.config;
        if watched.iter().any(|k| cfg.get(k).is_some_and(|v| !v.is_wholly_known())) {
            return;
        }
        if !plan.prior.is_null() && watched.iter().all(|k| plan.prior.get(k) == cfg.get(k)) {
            return;
        }
        let Ok(Some(a)) = crate::clients::alibaba::try_from_ctx(ctx).await else { return };
        let Ok(m) = framework_model::decode::<Model>(cfg) else { return };
        let mut groups: Vec<(AttrPath, String)> =
            m.security_group.iter().map(|g| (AttrPath::attr("security_group"), g.clone())).collect();
        for (i, g) in m.security_groups.iter().flatten().enumerate() {
            groups.push((AttrPath::attr("security_groups").then_index(i), g.clone()));
        }
        let inputs = cloud_checks::Inputs {
            cluster_id: m.cluster_id.clone(),
            vswitches: m.vswitches.clone().unwrap_or_default(),
            security_groups: groups,
            service_cidr: m.service_cidr.clone(),
        };
        cloud_checks::check(&a, &inputs, diags).await;
    }
}

#[async_trait]
impl Resource for EniConfig {
    fn type_name(&self) -> &'static str {
        "hybrid_eni_config"
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validation::validate(config, diags);
    }

    async fn modify_plan(&self, ctx: &Ctx, plan: &mut PlanRequest<'_>, diags: &mut Diagnostics) {
        if plan.planned.is_null() {
            return;
        }
        self.check_cloud(ctx, plan, diags).await;
        // The ID follows from namespace and name, which are known whenever they are configured.
        let ns = plan.planned.get("namespace").and_then(Value::as_str).map(str::to_string);
        let name = plan.planned.get("name").and_then(Value::as_str).map(str::to_string);
        if let (Some(ns), Some(name), Value::Object(attrs)) = (ns, name, &mut plan.planned) {
            attrs.insert("id".into(), Value::string(format!("{ns}/{name}")));
        }
    }

    async fn create(
        &self,
        ctx: &Ctx,
        planned: &Value,
        _config: &Value,
        private: &mut Private,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let mut m = diags.capture(framework_model::decode::<Model>(planned))?;
        let kube = client(ctx, diags).await?;
        match configmap::write(&kube, &m).await {
            Ok(created) => private.set(CREATED, created),
            Err(e) => {
                kube_error(diags, format!("Could not write ConfigMap {}", m.object_id()), e, &m);
                return None;
            }
        }
        m.id = Some(m.object_id());
        self.encode_state(&m, diags)
    }

    async fn read(&self, ctx: &Ctx, state: &Value, _private: &mut Private, diags: &mut Diagnostics) -> Option<Value> {
        let m = diags.capture(framework_model::decode::<Model>(state))?;
        let kube = client(ctx, diags).await?;
        match configmap::read(&kube, m.namespace(), m.name()).await {
            // cluster_id is not in the ConfigMap: it stays as configured.
            Ok(Some(found)) => self.encode_state(&Model { cluster_id: m.cluster_id.clone(), ..found }, diags),
            Ok(None) => None,
            Err(e) => {
                kube_error(diags, format!("Could not read ConfigMap {}", m.object_id()), e, &m);
                // Keep the prior state: an unreachable cluster is not a deleted ConfigMap.
                Some(state.clone())
            }
        }
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &Value,
        _config: &Value,
        private: &mut Private,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let m = diags.capture(framework_model::decode::<Model>(planned))?;
        let kube = client(ctx, diags).await?;
        match configmap::write(&kube, &m).await {
            Ok(true) => private.set(CREATED, true),
            Ok(false) => {}
            Err(e) => {
                kube_error(diags, format!("Could not update ConfigMap {}", m.object_id()), e, &m);
                return Some(prior.clone());
            }
        }
        self.encode_state(&m, diags)
    }

    async fn delete(&self, ctx: &Ctx, prior: &Value, private: &Private, diags: &mut Diagnostics) {
        let Some(m) = diags.capture(framework_model::decode::<Model>(prior)) else { return };
        let Some(kube) = client(ctx, diags).await else { return };
        let created = private.0.get(CREATED).and_then(Json::as_bool).unwrap_or(false);
        if let Err(e) = configmap::remove(&kube, &m, created).await {
            kube_error(diags, format!("Could not remove the Terway keys from {}", m.object_id()), e, &m);
        }
    }

    async fn import(&self, _ctx: &Ctx, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        let Some((ns, name)) = parse_import_id(id) else {
            diags.error(
                "Invalid import ID",
                format!("{id:?} is not `namespace/name` of a ConfigMap, e.g. `kube-system/eni-config`."),
            );
            return None;
        };
        let m = Model {
            id: Some(format!("{ns}/{name}")),
            namespace: Some(ns.to_string()),
            name: Some(name.to_string()),
            ..Default::default()
        };
        self.encode_state(&m, diags)
    }
}

/// `namespace/name`, both non-empty, nothing more.
fn parse_import_id(id: &str) -> Option<(&str, &str)> {
    id.split_once('/').filter(|(ns, name)| !ns.is_empty() && !name.is_empty() && !name.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::decode;

    #[test]
    fn import_ids_are_namespace_slash_name() {
        assert_eq!(parse_import_id("kube-system/eni-config"), Some(("kube-system", "eni-config")));
        for bad in ["eni-config", "/eni-config", "kube-system/", "a/b/c", ""] {
            assert!(parse_import_id(bad).is_none(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn a_bad_import_id_is_a_clear_diagnostic() {
        let ctx = Ctx::new(None, tokio_util::sync::CancellationToken::new());
        let mut diags = Diagnostics::new();
        assert!(EniConfig.import(&ctx, "eni-config", &mut diags).await.is_none());
        let d = diags.iter().next().unwrap();
        assert!(d.summary.contains("Invalid import ID") && d.detail.contains("namespace/name"), "{d:?}");
        let mut diags = Diagnostics::new();
        let state = EniConfig.import(&ctx, "ns/cm", &mut diags).await.unwrap();
        let m: Model = decode(&state).unwrap();
        assert_eq!((m.namespace(), m.name(), m.id.as_deref()), ("ns", "cm", Some("ns/cm")));
    }

    #[test]
    fn secrets_are_scrubbed_from_api_errors() {
        let m = Model { access_secret: Some("top-secret-value".into()), ..Default::default() };
        let e = KubeError::Api {
            verb: "PATCH".into(),
            path: "/api/v1/namespaces/kube-system/configmaps/eni-config".into(),
            code: 422,
            reason: "Invalid".into(),
            message: "data[eni_conf]: Invalid value: \"{\\\"access_secret\\\":\\\"top-secret-value\\\"}\"".into(),
            attempts: 1,
        };
        let mut diags = Diagnostics::new();
        kube_error(&mut diags, "Could not write".into(), e, &m);
        let d = diags.iter().next().unwrap();
        assert!(!d.detail.contains("top-secret-value") && d.detail.contains("<redacted>"), "{}", d.detail);
    }

    #[test]
    fn schema_names_every_modelled_key_and_hides_the_secret() {
        let s = EniConfig.schema();
        for k in model::ENI_KEYS {
            assert!(s.block.attribute(k).is_some(), "{k} missing from the schema");
        }
        assert!(s.block.attribute("access_secret").is_some_and(|a| a.sensitive));
        for k in ["cni_version", "cni_name", "cni_type", "ipvlan", "namespace", "name", "id"] {
            assert!(s.block.attribute(k).is_some(), "{k}");
        }
    }
}

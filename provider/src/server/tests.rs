//! Framework flows driven through the gRPC service exactly as Terraform calls it, with a
//! test-only provider whose resource lives in memory.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use hybrid_proto::tfplugin6 as pb;
use hybrid_proto::tfplugin6::provider_server::Provider;
use tonic::Request;

use super::ProviderService;
use crate::cty::{self, Type, Value};
use crate::framework::schema::timeouts_block;
use crate::framework::validators::OneOf;
use crate::framework::*;

type Store = Arc<Mutex<HashMap<String, String>>>;

struct Thing(Store);

fn obj(pairs: &[(&str, Value)]) -> Value {
    Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

#[async_trait]
impl Resource for Thing {
    fn type_name(&self) -> &'static str {
        "test_thing"
    }
    fn schema(&self) -> Schema {
        Schema::new(
            1,
            Block::new("thing")
                .attr(Attribute::string("id").computed().use_state_for_unknown())
                .attr(Attribute::string("name").required().requires_replace())
                .attr(Attribute::string("color").optional().validate(OneOf(&["red", "blue"])))
                .attr(Attribute::string("status").computed())
                .attr(Attribute::string("password").write_only())
                .block(timeouts_block(&["create"])),
        )
    }
    async fn create(
        &self,
        _: &Ctx,
        planned: &Value,
        _: &Value,
        private: &mut Private,
        _: &mut Diagnostics,
    ) -> Option<Value> {
        let name = planned.get("name")?.as_str()?.to_string();
        let id = format!("t-{name}");
        self.0.lock().unwrap().insert(id.clone(), name);
        private.set("created_by", "test");
        let mut v = planned.clone();
        if let Value::Object(m) = &mut v {
            m.insert("id".into(), id.into());
            m.insert("status".into(), "ready".into());
        }
        Some(v)
    }
    async fn read(&self, _: &Ctx, state: &Value, _: &mut Private, _: &mut Diagnostics) -> Option<Value> {
        let id = state.get("id")?.as_str()?;
        let name = self.0.lock().unwrap().get(id)?.clone();
        let mut v = state.clone();
        if let Value::Object(m) = &mut v {
            m.insert("name".into(), name.into());
            m.insert("status".into(), "ready".into());
        }
        Some(v)
    }
    async fn update(
        &self,
        _: &Ctx,
        _: &Value,
        planned: &Value,
        _: &Value,
        _: &mut Private,
        _: &mut Diagnostics,
    ) -> Option<Value> {
        let mut v = planned.clone();
        if let Value::Object(m) = &mut v {
            m.insert("status".into(), "updated".into());
        }
        Some(v)
    }
    async fn delete(&self, _: &Ctx, prior: &Value, _: &Private, _: &mut Diagnostics) {
        if let Some(id) = prior.get("id").and_then(Value::as_str) {
            self.0.lock().unwrap().remove(id);
        }
    }
    async fn import(&self, _: &Ctx, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        if !id.starts_with("t-") {
            diags.error("Bad import ID", "expected t-<name>");
            return None;
        }
        Some(obj(&[("id", id.into())]))
    }
    fn upgrade_state(
        &self,
        from: i64,
        mut state: serde_json::Value,
        diags: &mut Diagnostics,
    ) -> Option<serde_json::Value> {
        if from != 0 {
            diags.error("bad version", "");
            return None;
        }
        let label = state.as_object_mut()?.remove("label")?;
        state["name"] = label;
        Some(state)
    }
}

struct TestProvider(Store);

#[async_trait]
impl ProviderDef for TestProvider {
    fn type_name(&self) -> &'static str {
        "test"
    }
    fn schema(&self) -> Schema {
        Schema::new(0, Block::new("test").attr(Attribute::string("region").optional()))
    }
    async fn configure(&self, _: &Value, _: &str, _: &mut Diagnostics) -> Option<Arc<dyn Any + Send + Sync>> {
        Some(Arc::new(()))
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(Thing(self.0.clone()))]
    }
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        Vec::new()
    }
}

fn ty() -> Type {
    Thing(Store::default()).schema().value_type()
}

fn dv(v: &Value) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue { msgpack: cty::msgpack::encode(v, &ty()).unwrap(), json: Vec::new() })
}

fn un(d: Option<pb::DynamicValue>) -> Value {
    cty::msgpack::decode(&d.unwrap().msgpack, &ty()).unwrap()
}

fn full(pairs: &[(&str, Value)]) -> Value {
    let mut base = obj(&[
        ("id", Value::Null),
        ("name", Value::Null),
        ("color", Value::Null),
        ("status", Value::Null),
        ("password", Value::Null),
        ("timeouts", Value::Null),
    ]);
    if let Value::Object(m) = &mut base {
        for (k, v) in pairs {
            m.insert(k.to_string(), v.clone());
        }
    }
    base
}

fn service() -> (ProviderService, Store) {
    let store = Store::default();
    (ProviderService::with_provider(Arc::new(TestProvider(store.clone()))), store)
}

async fn plan(svc: &ProviderService, prior: &Value, config: &Value) -> pb::plan_resource_change::Response {
    // Terraform's proposed new state: config, with prior values for computed attributes left null.
    let mut proposed = config.clone();
    if let (Value::Object(p), Value::Object(pr)) = (&mut proposed, prior) {
        for k in ["id", "status"] {
            if p.get(k).is_none_or(Value::is_null) {
                p.insert(k.into(), pr.get(k).cloned().unwrap_or(Value::Null));
            }
        }
    }
    svc.plan_resource_change(Request::new(pb::plan_resource_change::Request {
        type_name: "test_thing".into(),
        prior_state: dv(prior),
        proposed_new_state: dv(&proposed),
        config: dv(config),
        ..Default::default()
    }))
    .await
    .unwrap()
    .into_inner()
}

async fn apply(
    svc: &ProviderService,
    prior: &Value,
    planned: Option<pb::DynamicValue>,
    config: &Value,
    private: Vec<u8>,
) -> pb::apply_resource_change::Response {
    svc.apply_resource_change(Request::new(pb::apply_resource_change::Request {
        type_name: "test_thing".into(),
        prior_state: dv(prior),
        planned_state: planned,
        config: dv(config),
        planned_private: private,
        ..Default::default()
    }))
    .await
    .unwrap()
    .into_inner()
}

#[tokio::test]
async fn create_plan_apply_read_update_replace_delete() {
    let (svc, store) = service();
    let config = full(&[("name", "a".into()), ("password", "hunter2".into())]);

    let p = plan(&svc, &Value::Null, &config).await;
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let planned = un(p.planned_state.clone());
    assert_eq!(planned.get("id"), Some(&Value::Unknown));
    assert_eq!(planned.get("password"), Some(&Value::Null), "write-only is never planned");

    let a = apply(&svc, &Value::Null, p.planned_state, &config, p.planned_private).await;
    assert!(a.diagnostics.is_empty(), "{:?}", a.diagnostics);
    let state = un(a.new_state);
    assert_eq!(state.get("id"), Some(&"t-a".into()));
    assert_eq!(state.get("password"), Some(&Value::Null), "write-only is never stored");
    assert_eq!(Private::from_bytes(&a.private).get_str("created_by"), Some("test"));
    assert_eq!(store.lock().unwrap().get("t-a").map(String::as_str), Some("a"));

    // Unchanged config: the plan equals the state.
    let config_no_pw = full(&[("name", "a".into())]);
    let p = plan(&svc, &state, &config_no_pw).await;
    assert!(un(p.planned_state).semantic_eq(&state));
    assert!(p.requires_replace.is_empty());

    // An in-place change keeps the stable id and recomputes status.
    let changed = full(&[("name", "a".into()), ("color", "red".into())]);
    let p = plan(&svc, &state, &changed).await;
    let planned = un(p.planned_state.clone());
    assert_eq!(planned.get("id"), Some(&"t-a".into()));
    assert_eq!(planned.get("status"), Some(&Value::Unknown));
    let a = apply(&svc, &state, p.planned_state, &changed, p.planned_private).await;
    let state = un(a.new_state);
    assert_eq!(state.get("status"), Some(&"updated".into()));

    // Renaming requires replacement, reported with the attribute path.
    let renamed = full(&[("name", "b".into()), ("color", "red".into())]);
    let p = plan(&svc, &state, &renamed).await;
    let steps: Vec<_> = p.requires_replace.iter().flat_map(|p| p.steps.clone()).collect();
    assert_eq!(steps.len(), 1);

    // Drift: the object vanished out of band, read returns null.
    store.lock().unwrap().clear();
    let r = svc
        .read_resource(Request::new(pb::read_resource::Request {
            type_name: "test_thing".into(),
            current_state: dv(&state),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(un(r.new_state).is_null());

    // Destroy.
    store.lock().unwrap().insert("t-a".into(), "a".into());
    let a = apply(&svc, &state, dv(&Value::Null), &Value::Null, Vec::new()).await;
    assert!(un(a.new_state).is_null());
    assert!(store.lock().unwrap().is_empty());
}

#[tokio::test]
async fn import_then_read_fills_state() {
    let (svc, store) = service();
    store.lock().unwrap().insert("t-x".into(), "x".into());
    let i = svc
        .import_resource_state(Request::new(pb::import_resource_state::Request {
            type_name: "test_thing".into(),
            id: "t-x".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(i.diagnostics.is_empty());
    let imported = un(i.imported_resources[0].state.clone());
    let r = svc
        .read_resource(Request::new(pb::read_resource::Request {
            type_name: "test_thing".into(),
            current_state: dv(&imported),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(un(r.new_state).get("name"), Some(&"x".into()));

    let bad = svc
        .import_resource_state(Request::new(pb::import_resource_state::Request {
            type_name: "test_thing".into(),
            id: "nope".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(bad.imported_resources.is_empty());
    assert_eq!(bad.diagnostics[0].severity, pb::diagnostic::Severity::Error as i32);
}

#[tokio::test]
async fn upgrade_converts_old_state_and_drops_removed_attributes() {
    let (svc, _) = service();
    let raw = serde_json::json!({"id": "t-a", "label": "a", "status": "ready", "gone": 1});
    let u = svc
        .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
            type_name: "test_thing".into(),
            version: 0,
            raw_state: Some(pb::RawState { json: serde_json::to_vec(&raw).unwrap(), ..Default::default() }),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(u.diagnostics.is_empty(), "{:?}", u.diagnostics);
    let v = un(u.upgraded_state);
    assert_eq!(v.get("name"), Some(&"a".into()));
    assert_eq!(v.get("color"), Some(&Value::Null));

    let newer = svc
        .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
            type_name: "test_thing".into(),
            version: 7,
            raw_state: Some(pb::RawState { json: b"{}".to_vec(), ..Default::default() }),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(!newer.diagnostics.is_empty());
}

#[tokio::test]
async fn validation_reports_attribute_paths_and_skips_unknowns() {
    let (svc, _) = service();
    let validate = |config: Value| {
        let svc = &svc;
        async move {
            svc.validate_resource_config(Request::new(pb::validate_resource_config::Request {
                type_name: "test_thing".into(),
                config: dv(&config),
                client_capabilities: Some(pb::ClientCapabilities {
                    write_only_attributes_allowed: true,
                    ..Default::default()
                }),
            }))
            .await
            .unwrap()
            .into_inner()
            .diagnostics
        }
    };
    let d = validate(full(&[("name", "a".into()), ("color", "green".into())])).await;
    assert_eq!(d.len(), 1);
    let step = &d[0].attribute.as_ref().unwrap().steps[0];
    assert_eq!(step.selector, Some(pb::attribute_path::step::Selector::AttributeName("color".into())));
    assert!(validate(full(&[("name", "a".into()), ("color", Value::Unknown)])).await.is_empty());
    let bad_timeout = full(&[("name", "a".into()), ("timeouts", obj(&[("create", "soon".into())]))]);
    let d = validate(bad_timeout).await;
    assert_eq!(d[0].attribute.as_ref().unwrap().steps.len(), 2, "timeouts.create");
}

#[tokio::test]
async fn unknown_types_and_unused_features_answer_with_diagnostics() {
    let (svc, _) = service();
    let r = svc
        .read_resource(Request::new(pb::read_resource::Request { type_name: "nope".into(), ..Default::default() }))
        .await
        .unwrap()
        .into_inner();
    assert!(r.diagnostics[0].summary.contains("Unknown"));
    let m = svc.get_metadata(Request::new(pb::get_metadata::Request {})).await.unwrap().into_inner();
    assert_eq!(m.resources[0].type_name, "test_thing");
    let f = svc.get_functions(Request::new(pb::get_functions::Request {})).await.unwrap().into_inner();
    assert!(f.functions.is_empty() && f.diagnostics.is_empty());
}

#[tokio::test]
async fn stop_provider_cancels_operations() {
    let (svc, _) = service();
    let ctx = svc.ctx();
    assert!(!ctx.cancel.is_cancelled());
    svc.stop_provider(Request::new(pb::stop_provider::Request {})).await.unwrap();
    assert!(ctx.cancel.is_cancelled());
}

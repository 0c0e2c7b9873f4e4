//! `hybrid_cni_affinity_patch`: keeps the on-premises CNI DaemonSet off cloud nodes.
//!
//! Adds the expression `<key> NotIn <values>` to every nodeSelectorTerm of the DaemonSet's
//! required node affinity ([`terms`]): terms are ORed and expressions inside a term ANDed, so only
//! an expression in every term excludes anything. When the tigera operator manages calico-node, an
//! edit of the DaemonSet would be reverted, so the same change goes into the operator's
//! `Installation` (`spec.calicoNodeDaemonSet`) instead ([`target`]). Every write is a
//! read-modify-write guarded by resourceVersion and restarted on 409, so concurrent writers lose
//! nothing. Private state remembers what was added ([`terms::Record`]), so destroy removes exactly
//! that.

mod target;
mod terms;
#[cfg(test)]
mod tests;
mod validation;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::clients::kubernetes::{self, Kube, KubeError};
use crate::cty::{Type, Value};
use crate::framework::validators::{Check, NonEmpty, OneOf};
use crate::framework::{model, AttrPath, Attribute, Block, Ctx, Diagnostics, PlanRequest, Private, Resource, Schema};

use target::{Target, DEFAULT_NAMESPACE};
use terms::Record;

pub struct CniAffinityPatch;

const DEFAULT_KEY: &str = "alibabacloud.com/external";
const DEFAULT_VALUE: &str = "true";
/// Private-state key of the [`Record`].
const RECORD: &str = "record";

#[derive(Serialize, Deserialize, Default, Debug, Clone)]
struct Model {
    id: Option<String>,
    preset: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
    key: Option<String>,
    values: Option<Vec<String>>,
    target: Option<String>,
    in_effect: Option<bool>,
}

impl Model {
    fn expression(&self) -> Json {
        let values = self.values.clone().unwrap_or_else(|| vec![DEFAULT_VALUE.into()]);
        terms::expression(self.key.as_deref().unwrap_or(DEFAULT_KEY), &values)
    }
    fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE)
    }
    fn name(&self) -> &str {
        self.name.as_deref().unwrap_or_default()
    }
    fn ds_path(&self) -> String {
        target::daemonset_path(self.namespace(), self.name())
    }
}

/// What to change in one read-modify-write of the target object.
struct Edit<'a> {
    chain: Vec<&'static str>,
    /// What an earlier apply added (taken over, or removed).
    prior: Option<&'a Record>,
    /// The expression to establish; `None` removes `prior`'s.
    expression: Option<&'a Json>,
}

impl Edit<'_> {
    /// The edited object and, when adding, the record of it. A prior record of another object
    /// (different uid: the object was recreated) is ignored, since nothing of it is ours.
    fn run(&self, current: &Json) -> (Json, Option<Record>) {
        let mut next = current.clone();
        let uid = target::uid(current);
        let prior = self.prior.filter(|p| p.uid.is_none() || p.uid == uid);
        let record = match (self.expression, prior) {
            (Some(expr), prior) => {
                let mut r = terms::apply(&mut next, &self.chain, prior, expr);
                r.uid = uid;
                Some(r)
            }
            (None, Some(prior)) => {
                terms::remove(&mut next, &self.chain, prior);
                None
            }
            (None, None) => None,
        };
        (next, record)
    }
}

/// Runs `edit` as a read-modify-write of `path` (`before_write` runs between the read and the
/// write; tests use it to play a concurrent writer). `Ok(None)`: the object does not exist.
async fn write(
    kube: &Kube,
    path: &str,
    edit: &Edit<'_>,
    mut before_write: impl FnMut() + Send,
) -> Result<Option<Option<Record>>, KubeError> {
    let mut record = None;
    let stored = kube
        .read_modify_write(path, |current| {
            let (next, r) = edit.run(current);
            record = r;
            before_write();
            Ok((next != *current).then_some(next))
        })
        .await?;
    Ok(stored.map(|_| record))
}

/// The DaemonSet a configuration names, and where its affinity goes.
struct Located {
    namespace: String,
    name: String,
    target: Target,
}

/// Finds the DaemonSet and the target, with errors on the attribute that named them.
async fn locate(kube: &Kube, m: &Model, diags: &mut Diagnostics) -> Option<Located> {
    let candidates = target::candidates(m.preset.as_deref(), m.namespace.as_deref(), m.name.as_deref());
    let found = match target::locate(kube, &candidates).await {
        Ok(found) => found,
        Err(e) => {
            diags.extend(e.to_diagnostics("Could not look up the DaemonSet"));
            return None;
        }
    };
    let Some((namespace, name, ds)) = found else {
        let tried = candidates.iter().map(|(ns, n)| format!("{ns}/{n}")).collect::<Vec<_>>().join(", ");
        let attr = if m.name.is_some() || m.preset.is_none() { "name" } else { "preset" };
        diags.error_at(
            AttrPath::attr(attr),
            "DaemonSet not found",
            format!("No DaemonSet {tried} exists in the cluster; check `preset`, `namespace` and `name`."),
        );
        return None;
    };
    let target = detect(kube, &ds, diags).await?;
    Some(Located { namespace, name, target })
}

async fn detect(kube: &Kube, ds: &Json, diags: &mut Diagnostics) -> Option<Target> {
    match target::detect(kube, ds).await {
        Ok(Ok(t)) => Some(t),
        Ok(Err(why)) => {
            diags.error_at(AttrPath::attr("name"), "Cannot patch an operator-managed DaemonSet", why);
            None
        }
        Err(e) => {
            diags.extend(e.to_diagnostics("Could not look up the tigera operator's Installation"));
            None
        }
    }
}

async fn client(ctx: &Ctx, diags: &mut Diagnostics) -> Option<Kube> {
    diags.capture(kubernetes::from_ctx(ctx).await)
}

fn stored_record(private: &Private) -> Option<Record> {
    private.0.get(RECORD).and_then(|r| serde_json::from_value(r.clone()).ok())
}

fn save_record(private: &mut Private, record: &Record) {
    if let Ok(v) = serde_json::to_value(record) {
        private.set(RECORD, v);
    }
}

/// Without a record (after an import) every copy of the expression in `target` counts as ours.
fn adopted(target: &Target, m: &Model) -> Record {
    Record { target: target.label(), expression: m.expression(), ..Default::default() }
}

impl CniAffinityPatch {
    /// Establishes the expression on the located target, taking over `prior`. The returned
    /// record is complete (target and uid set).
    async fn establish(
        kube: &Kube,
        m: &Model,
        at: &Located,
        prior: Option<&Record>,
        diags: &mut Diagnostics,
    ) -> Option<Record> {
        let expr = m.expression();
        let edit = Edit { chain: at.target.chain(), prior, expression: Some(&expr) };
        let path = at.target.path(&at.namespace, &at.name);
        match write(kube, &path, &edit, || {}).await {
            Ok(Some(Some(mut record))) => {
                record.target = at.target.label();
                Some(record)
            }
            Ok(_) => {
                diags.error("Patch target not found", format!("{path} does not exist (any more)."));
                None
            }
            Err(e) => {
                diags.extend(e.to_diagnostics("Could not patch the node affinity"));
                None
            }
        }
    }

    /// Removes what `record` added; a missing object is fine (nothing left to undo).
    async fn undo(kube: &Kube, m: &Model, record: &Record, diags: &mut Diagnostics) {
        let target = Target::parse(&record.target);
        let edit = Edit { chain: target.chain(), prior: Some(record), expression: None };
        if let Err(e) = write(kube, &target.path(m.namespace(), m.name()), &edit, || {}).await {
            diags.extend(e.to_diagnostics("Could not remove the node-affinity expression"));
        }
    }
}

#[async_trait]
impl Resource for CniAffinityPatch {
    fn type_name(&self) -> &'static str {
        "hybrid_cni_affinity_patch"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new(
                "Keeps an on-premises CNI DaemonSet (e.g. `calico-node`) off the cloud nodes of a registered cluster: \
                 adds the node-affinity expression `key NotIn values` to every term of the DaemonSet's required node \
                 affinity (creating the affinity when absent). Terms are ORed, so the expression must be in each of \
                 them; a separate term would exclude nothing. When the tigera operator manages calico-node, the \
                 change is made in the operator's `Installation` (`spec.calicoNodeDaemonSet`), since the operator \
                 reverts edits of the DaemonSet. Writes use optimistic concurrency (resourceVersion, retried on \
                 conflict). Destroy removes exactly what was added; other terms and expressions stay.",
            )
            .attr(
                Attribute::string("id")
                    .computed()
                    .use_state_for_unknown()
                    .description("`namespace/name` of the DaemonSet."),
            )
            .attr(Attribute::string("preset").optional().validate(OneOf(target::PRESET_NAMES)).description(
                "Which CNI's DaemonSet to patch: `calico` (`kube-system/calico-node`, or \
                         `calico-system/calico-node` under the tigera operator), `flannel` \
                         (`kube-flannel/kube-flannel-ds`, or `kube-system/kube-flannel-ds[-amd64]` in older \
                         installs), `cilium` (`kube-system/cilium`). Set this or `name`; an explicit `namespace` or \
                         `name` must be one of the preset's.",
            ))
            .attr(
                Attribute::string("namespace")
                    .optional()
                    .computed()
                    .requires_replace()
                    .validate(NonEmpty)
                    .description("Namespace of the DaemonSet: found from `preset`, else `kube-system` when not set."),
            )
            .attr(
                Attribute::string("name")
                    .optional()
                    .computed()
                    .requires_replace()
                    .validate(NonEmpty)
                    .description("Name of the DaemonSet. Found from `preset` when not set."),
            )
            .attr(
                Attribute::string("key")
                    .default(DEFAULT_KEY)
                    .validate(Check {
                        description: "Must be a Kubernetes label key (an optional DNS-subdomain prefix and `/`, then at most 63 characters).",
                        check: |v: &Value| validation::label_key(v.as_str().unwrap_or_default()),
                    })
                    .description("Node label key that marks cloud nodes."),
            )
            .attr(
                Attribute::new("values", Type::list(Type::String))
                    .default(Value::List(vec![Value::string(DEFAULT_VALUE)]))
                    .description("Label values of cloud nodes (`NotIn` these keeps the DaemonSet off them)."),
            )
            .attr(Attribute::string("target").computed().description(
                "Where the affinity is set: `daemonset`, or `installation:<name>` when the tigera operator manages \
                 calico-node (the DaemonSet is owned by an `operator.tigera.io` Installation, or the Installation \
                 `default` exists).",
            ))
            .attr(Attribute::bool("in_effect").computed().description(
                "Whether every node-selector term holds the expression on the object this resource patched. Reads \
                 report the cluster's actual state, so removing or changing the expression out of band, or \
                 recreating the DaemonSet, shows as a change to `true` in the next plan, and apply repairs it.",
            )),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validation::config(config, diags);
    }

    async fn modify_plan(&self, ctx: &Ctx, plan: &mut PlanRequest<'_>, diags: &mut Diagnostics) {
        if plan.planned.is_null() {
            return;
        }
        let Some(m) = diags.capture(model::decode::<Model>(&plan.planned)) else { return };
        let prior = plan.prior.clone();
        let Value::Object(attrs) = &mut plan.planned else { return };
        // Apply always leaves the expression in effect; planning `true` over a drifted `false`
        // is what makes an out-of-band removal show up as a change.
        attrs.insert("in_effect".into(), Value::Bool(true));
        if !prior.is_null() {
            // The DaemonSet and the target stay what they are unless namespace/name change
            // (which replaces); `read` refreshed the target.
            for k in ["id", "namespace", "name", "target"] {
                if attrs.get(k).is_some_and(Value::is_unknown) {
                    if let Some(v) = prior.get(k) {
                        attrs.insert(k.into(), v.clone());
                    }
                }
            }
            // A preset set or changed replaces only when the DaemonSet is not one of the new
            // preset's (e.g. `preset = "calico"` added after importing kube-system/calico-node).
            let (ns, name) =
                (prior.get("namespace").and_then(Value::as_str), prior.get("name").and_then(Value::as_str));
            let preset_changed =
                !attrs.get("preset").unwrap_or(&Value::Null).semantic_eq(prior.get("preset").unwrap_or(&Value::Null));
            if preset_changed {
                if let Some(p) = m.preset.as_deref().and_then(target::preset) {
                    if target::preset_conflict(p, ns, name).is_some() {
                        plan.requires_replace.push(AttrPath::attr("preset"));
                    }
                }
            }
            let planned = Value::Object(attrs.clone());
            plan.requires_replace.retain(|p| {
                let attr = p.to_string();
                let attr = attr.trim_start_matches('.');
                !planned.get(attr).unwrap_or(&Value::Null).semantic_eq(prior.get(attr).unwrap_or(&Value::Null))
            });
            return;
        }
        let unknown = |k: &str| plan.config.get(k).is_some_and(Value::is_unknown);
        if unknown("preset") || unknown("name") || unknown("namespace") {
            return;
        }
        // Resolve the DaemonSet and the target at plan time, so the plan shows them, a missing
        // DaemonSet fails early, and an operator-managed Calico is detected before apply.
        let Ok(kube) = kubernetes::from_ctx(ctx).await else { return };
        if let Some(at) = locate(&kube, &m, diags).await {
            attrs.insert("id".into(), Value::string(format!("{}/{}", at.namespace, at.name)));
            attrs.insert("namespace".into(), Value::string(at.namespace));
            attrs.insert("name".into(), Value::string(at.name));
            attrs.insert("target".into(), Value::string(at.target.label()));
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
        let mut m = diags.capture(model::decode::<Model>(planned))?;
        let kube = client(ctx, diags).await?;
        let at = locate(&kube, &m, diags).await?;
        let record = Self::establish(&kube, &m, &at, None, diags).await?;
        save_record(private, &record);
        m.id = Some(format!("{}/{}", at.namespace, at.name));
        m.namespace = Some(at.namespace);
        m.name = Some(at.name);
        m.target = Some(at.target.label());
        m.in_effect = Some(true);
        self.encode_state(&m, diags)
    }

    async fn read(&self, ctx: &Ctx, state: &Value, private: &mut Private, diags: &mut Diagnostics) -> Option<Value> {
        let mut m = diags.capture(model::decode::<Model>(state))?;
        let kube = client(ctx, diags).await?;
        let ds = match kube.get::<Json>(&m.ds_path()).await {
            Ok(Some(ds)) => ds,
            Ok(None) => return None,
            Err(e) => {
                diags.extend(e.to_diagnostics("Could not read the DaemonSet"));
                return Some(state.clone());
            }
        };
        let target = match target::detect(&kube, &ds).await {
            Ok(Ok(t)) => t,
            Ok(Err(why)) => {
                diags.warning_at(AttrPath::attr("target"), "The node affinity cannot be kept", why);
                m.in_effect = Some(false);
                return self.encode_state(&m, diags);
            }
            Err(e) => {
                diags.extend(e.to_diagnostics("Could not look up the tigera operator's Installation"));
                return Some(state.clone());
            }
        };
        let obj = match &target {
            Target::DaemonSet => Some(ds),
            Target::Installation(_) => match kube.get::<Json>(&target.path(m.namespace(), m.name())).await {
                Ok(o) => o,
                Err(e) => {
                    diags.extend(e.to_diagnostics("Could not read the tigera Installation"));
                    return Some(state.clone());
                }
            },
        };
        // A recreated object (another uid) lost our change with its old self, whatever it holds.
        let record = stored_record(private);
        let recreated = |o: &Json| {
            record.as_ref().is_some_and(|r| r.target == target.label() && r.uid.is_some() && r.uid != target::uid(o))
        };
        m.in_effect =
            Some(obj.is_some_and(|o| !recreated(&o) && terms::in_effect(&o, &target.chain(), &m.expression())));
        m.target = Some(target.label());
        if m.id.is_none() {
            m.id = Some(format!("{}/{}", m.namespace(), m.name()));
        }
        self.encode_state(&m, diags)
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
        let old = diags.capture(model::decode::<Model>(prior))?;
        let mut m = diags.capture(model::decode::<Model>(planned))?;
        let kube = client(ctx, diags).await?;
        let ds = match kube.get::<Json>(&m.ds_path()).await {
            Ok(Some(ds)) => ds,
            Ok(None) => {
                diags.error("DaemonSet not found", format!("{} does not exist any more.", m.ds_path()));
                return None;
            }
            Err(e) => {
                diags.extend(e.to_diagnostics("Could not read the DaemonSet"));
                return Some(prior.clone());
            }
        };
        let target = detect(&kube, &ds, diags).await?;
        let at = Located { namespace: m.namespace().to_string(), name: m.name().to_string(), target };
        let prior_target = old.target.as_deref().map(Target::parse).unwrap_or(Target::DaemonSet);
        let recorded = stored_record(private).unwrap_or_else(|| adopted(&prior_target, &old));
        // The operator took over (or let go) since the last apply: undo on the old object first.
        let prior_record = if Target::parse(&recorded.target) == at.target {
            Some(recorded)
        } else {
            Self::undo(&kube, &old, &recorded, diags).await;
            if diags.has_errors() {
                return Some(prior.clone());
            }
            None
        };
        let Some(record) = Self::establish(&kube, &m, &at, prior_record.as_ref(), diags).await else {
            return Some(prior.clone());
        };
        save_record(private, &record);
        m.target = Some(at.target.label());
        m.in_effect = Some(true);
        self.encode_state(&m, diags)
    }

    async fn delete(&self, ctx: &Ctx, prior: &Value, private: &Private, diags: &mut Diagnostics) {
        let Some(m) = diags.capture(model::decode::<Model>(prior)) else { return };
        let Some(kube) = client(ctx, diags).await else { return };
        let prior_target = m.target.as_deref().map(Target::parse).unwrap_or(Target::DaemonSet);
        let record = stored_record(private).unwrap_or_else(|| adopted(&prior_target, &m));
        Self::undo(&kube, &m, &record, diags).await;
    }

    async fn import(&self, _ctx: &Ctx, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        let Some((ns, name)) = id.split_once('/').filter(|(a, b)| !a.is_empty() && !b.is_empty() && !b.contains('/'))
        else {
            diags.error(
                "Invalid import ID",
                format!("{id:?} is not `namespace/name` of a DaemonSet, e.g. `kube-system/calico-node`."),
            );
            return None;
        };
        // Without a record, the expression found in the DaemonSet counts as this resource's:
        // destroy after an import removes it from every term (dropping terms left empty).
        let m = Model {
            id: Some(id.to_string()),
            namespace: Some(ns.to_string()),
            name: Some(name.to_string()),
            key: Some(DEFAULT_KEY.to_string()),
            values: Some(vec![DEFAULT_VALUE.into()]),
            ..Default::default()
        };
        self.encode_state(&m, diags)
    }
}

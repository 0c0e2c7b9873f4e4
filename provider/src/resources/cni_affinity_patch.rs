//! `hybrid_cni_affinity_patch`: keeps the on-premises CNI DaemonSet off cloud nodes.
//!
//! Adds the expression `<key> NotIn <values>` to every nodeSelectorTerm of the DaemonSet's
//! required node affinity. Terms are ORed and expressions inside a term ANDed, so only an
//! expression in every term excludes anything; a separate term would exclude nothing. When the
//! DaemonSet is owned by the tigera operator, an edit of it would be reverted, so the same change
//! goes into the operator's `Installation` (`spec.calicoNodeDaemonSet`) instead. Private state
//! remembers what was added, so destroy removes exactly that.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use crate::clients::kubernetes::{self, Kube, KubeError, ResourceType};
use crate::cty::{Type, Value};
use crate::framework::validators::{NonEmpty, OneOf};
use crate::framework::{model, AttrPath, Attribute, Block, Ctx, Diagnostics, PlanRequest, Private, Resource, Schema};

pub struct CniAffinityPatch;

const DEFAULT_KEY: &str = "alibabacloud.com/external";
const TIGERA_GROUP: &str = "operator.tigera.io";
/// Keys from the pod spec down to the list of terms.
const AFFINITY_KEYS: [&str; 4] =
    ["affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"];
/// Where the pod spec sits in a DaemonSet and in a tigera Installation.
const DS_POD_SPEC: [&str; 3] = ["spec", "template", "spec"];
const INSTALLATION_POD_SPEC: [&str; 5] = ["spec", "calicoNodeDaemonSet", "spec", "template", "spec"];

/// DaemonSets of the presets: (preset, candidates in order of preference).
const PRESETS: &[(&str, &[(&str, &str)])] = &[
    ("calico", &[("kube-system", "calico-node"), ("calico-system", "calico-node")]),
    ("flannel", &[("kube-flannel", "kube-flannel-ds"), ("kube-system", "kube-flannel-ds")]),
    ("cilium", &[("kube-system", "cilium")]),
];

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
        json!({
            "key": self.key.as_deref().unwrap_or(DEFAULT_KEY),
            "operator": "NotIn",
            "values": self.values.clone().unwrap_or_else(|| vec!["true".into()]),
        })
    }
    fn ds_path(&self) -> String {
        ResourceType::DAEMONSETS.object(self.namespace.as_deref(), self.name.as_deref().unwrap_or_default())
    }
}

/// What the patch changed, kept in private state so destroy can undo exactly that.
#[derive(Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
struct Record {
    /// `daemonset` or `installation:<name>`.
    target: String,
    /// Index into the key chain (pod spec keys + [`AFFINITY_KEYS`]) of the first key we created.
    created_from: Option<usize>,
    /// Terms that already held the expression before we patched (without it), left alone on undo.
    kept_terms: Vec<Json>,
}

/// Where the change goes.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    DaemonSet,
    /// The tigera operator's Installation of that name.
    Installation(String),
}

impl Target {
    fn parse(s: &str) -> Target {
        match s.strip_prefix("installation:") {
            Some(name) => Target::Installation(name.to_string()),
            None => Target::DaemonSet,
        }
    }
    fn label(&self) -> String {
        match self {
            Target::DaemonSet => "daemonset".into(),
            Target::Installation(n) => format!("installation:{n}"),
        }
    }
    fn chain(&self) -> Vec<&'static str> {
        let base: &[&str] = match self {
            Target::DaemonSet => &DS_POD_SPEC,
            Target::Installation(_) => &INSTALLATION_POD_SPEC,
        };
        base.iter().chain(AFFINITY_KEYS.iter()).copied().collect()
    }
    fn path(&self, m: &Model) -> String {
        match self {
            Target::DaemonSet => m.ds_path(),
            Target::Installation(name) => ResourceType::TIGERA_INSTALLATIONS.object(None, name),
        }
    }
}

/// The tigera Installation owning a DaemonSet, if any.
fn operator_owner(ds: &Json) -> Option<String> {
    ds.pointer("/metadata/ownerReferences")?.as_array()?.iter().find_map(|r| {
        let api = r.get("apiVersion")?.as_str()?;
        (api.starts_with(TIGERA_GROUP) && r.get("kind")?.as_str()? == "Installation")
            .then(|| r.get("name").and_then(Json::as_str).unwrap_or("default").to_string())
    })
}

fn terms<'a>(obj: &'a Json, chain: &[&str]) -> Option<&'a Vec<Json>> {
    chain.iter().try_fold(obj, |o, k| o.get(*k))?.as_array()
}

fn has_expr(term: &Json, expr: &Json) -> bool {
    term.get("matchExpressions").and_then(Json::as_array).is_some_and(|es| es.contains(expr))
}

fn without_expr(term: &Json, expr: &Json) -> Json {
    let mut t = term.clone();
    if let Some(es) = t.get_mut("matchExpressions").and_then(Json::as_array_mut) {
        es.retain(|e| e != expr);
    }
    t
}

/// Whether every term excludes the nodes (and there is at least one term).
fn in_effect(obj: &Json, chain: &[&str], expr: &Json) -> bool {
    terms(obj, chain).is_some_and(|ts| !ts.is_empty() && ts.iter().all(|t| has_expr(t, expr)))
}

/// Adds `expr` to every term of `obj`, creating the chain when absent. Returns what it did.
fn add(obj: &mut Json, chain: &[&str], expr: &Json, target: &Target) -> Record {
    let mut record = Record { target: target.label(), ..Default::default() };
    let mut cur = obj;
    for (i, key) in chain.iter().enumerate() {
        let last = i + 1 == chain.len();
        if !cur.is_object() {
            *cur = json!({});
        }
        let map = cur.as_object_mut().expect("made an object above");
        if !map.contains_key(*key) || map[*key].is_null() {
            record.created_from.get_or_insert(i);
            map.insert(key.to_string(), if last { json!([]) } else { json!({}) });
        }
        cur = map.get_mut(*key).expect("inserted above");
    }
    if !cur.is_array() {
        *cur = json!([]);
    }
    let list = cur.as_array_mut().expect("made an array above");
    if list.is_empty() {
        list.push(json!({ "matchExpressions": [] }));
    }
    for term in list.iter_mut() {
        if has_expr(term, expr) {
            record.kept_terms.push(without_expr(term, expr));
            continue;
        }
        if !term.is_object() {
            *term = json!({});
        }
        let obj = term.as_object_mut().expect("made an object above");
        let es = obj.entry("matchExpressions").or_insert_with(|| json!([]));
        if !es.is_array() {
            *es = json!([]);
        }
        es.as_array_mut().expect("made an array above").push(expr.clone());
    }
    record
}

/// Removes `expr` from the terms it was added to, and what `add` created once empty.
fn remove(obj: &mut Json, chain: &[&str], expr: &Json, record: &Record) {
    let Some(list) = chain.iter().try_fold(&mut *obj, |o, k| o.get_mut(*k)).and_then(Json::as_array_mut) else {
        return;
    };
    let mut kept = record.kept_terms.clone();
    for term in list.iter_mut() {
        if !has_expr(term, expr) {
            continue;
        }
        let stripped = without_expr(term, expr);
        if let Some(i) = kept.iter().position(|k| *k == stripped) {
            kept.remove(i); // it held the expression before us
            continue;
        }
        *term = stripped;
    }
    // A term left with nothing selects every node; drop such terms only if we created them,
    // i.e. when the whole chain is ours.
    let Some(from) = record.created_from else { return };
    list.retain(|t| {
        let empty = |k: &str| t.get(k).and_then(Json::as_array).is_none_or(|a| a.is_empty());
        !(empty("matchExpressions") && empty("matchFields"))
    });
    // Prune the objects we created, bottom up, while they are empty.
    for depth in (from..chain.len()).rev() {
        let Some(parent) =
            chain[..depth].iter().try_fold(&mut *obj, |o, k| o.get_mut(*k)).and_then(Json::as_object_mut)
        else {
            return;
        };
        let empty = match parent.get(chain[depth]) {
            Some(Json::Array(a)) => a.is_empty(),
            Some(Json::Object(o)) => o.is_empty(),
            Some(Json::Null) | None => true,
            Some(_) => false,
        };
        if !empty {
            return;
        }
        parent.remove(chain[depth]);
    }
}

async fn client(ctx: &Ctx, diags: &mut Diagnostics) -> Option<Kube> {
    kubernetes::from_ctx(ctx).await.map_err(|d| diags.extend(d)).ok()
}

/// Finds the DaemonSet: the configured one, else the first candidate of the preset that exists.
async fn locate(kube: &Kube, m: &Model) -> Result<Option<(String, String, Json)>, KubeError> {
    let candidates: Vec<(String, String)> = match (&m.namespace, &m.name, &m.preset) {
        (Some(ns), Some(name), _) => vec![(ns.clone(), name.clone())],
        (ns, name, Some(preset)) => PRESETS
            .iter()
            .find(|(p, _)| p == preset)
            .map(|(_, c)| c.to_vec())
            .unwrap_or_default()
            .into_iter()
            .filter(|(cns, cname)| {
                ns.as_deref().is_none_or(|n| n == *cns) && name.as_deref().is_none_or(|n| n == *cname)
            })
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        _ => Vec::new(),
    };
    for (ns, name) in candidates {
        if let Some(ds) = kube.get::<Json>(&ResourceType::DAEMONSETS.object(Some(&ns), &name)).await? {
            return Ok(Some((ns, name, ds)));
        }
    }
    Ok(None)
}

fn target_of(ds: &Json) -> Target {
    operator_owner(ds).map_or(Target::DaemonSet, Target::Installation)
}

impl CniAffinityPatch {
    fn decode(v: &Value, diags: &mut Diagnostics) -> Option<Model> {
        model::decode(v).map_err(|d| diags.extend(d)).ok()
    }
    fn encode(&self, m: &Model, diags: &mut Diagnostics) -> Option<Value> {
        model::encode(m, &self.schema().value_type()).map_err(|d| diags.extend(d)).ok()
    }

    /// Applies the patch to the target; returns the record of what was added.
    async fn patch(kube: &Kube, m: &Model, target: &Target, diags: &mut Diagnostics) -> Option<Record> {
        let chain = target.chain();
        let expr = m.expression();
        let mut record = None;
        let result = kube
            .read_modify_write(&target.path(m), |obj| {
                let mut next = obj.clone();
                let r = add(&mut next, &chain, &expr, target);
                let changed = next != *obj;
                record = Some(r);
                Ok(changed.then_some(next))
            })
            .await;
        match result {
            Ok(Some(_)) => record,
            Ok(None) => {
                diags.error("Patch target not found", format!("{} does not exist (any more).", target.path(m)));
                None
            }
            Err(e) => {
                diags.extend(e.to_diagnostics("Could not patch the node affinity"));
                None
            }
        }
    }

    async fn unpatch(kube: &Kube, m: &Model, record: &Record, diags: &mut Diagnostics) {
        let target = Target::parse(&record.target);
        let chain = target.chain();
        let expr = m.expression();
        let result = kube
            .read_modify_write(&target.path(m), |obj| {
                let mut next = obj.clone();
                remove(&mut next, &chain, &expr, record);
                Ok((next != *obj).then_some(next))
            })
            .await;
        if let Err(e) = result {
            diags.extend(e.to_diagnostics("Could not remove the node-affinity expression"));
        }
    }

    fn record(private: &Private, m: &Model) -> Record {
        private.0.get("record").and_then(|r| serde_json::from_value(r.clone()).ok()).unwrap_or_else(|| Record {
            target: m.target.clone().unwrap_or_else(|| "daemonset".into()),
            ..Default::default()
        })
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
                 affinity (creating the affinity when absent). When the DaemonSet belongs to the tigera operator, the \
                 change is made in the operator's `Installation` (`spec.calicoNodeDaemonSet`) so the operator does not \
                 revert it. Destroy removes exactly what was added; other terms and expressions are never touched.",
            )
            .attr(Attribute::string("id").computed().use_state_for_unknown().description("`namespace/name` of the DaemonSet."))
            .attr(
                Attribute::string("preset")
                    .optional()
                    .requires_replace()
                    .validate(OneOf(&["calico", "flannel", "cilium"]))
                    .description(
                        "Which CNI's DaemonSet to patch: `calico` (`kube-system/calico-node`, or \
                         `calico-system/calico-node` under the tigera operator), `flannel` (`kube-flannel/kube-flannel-ds`), \
                         `cilium` (`kube-system/cilium`). Set this or `name`.",
                    ),
            )
            .attr(
                Attribute::string("namespace")
                    .optional()
                    .computed()
                    .requires_replace()
                    .validate(NonEmpty)
                    .description("Namespace of the DaemonSet. Found from `preset` when not set."),
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
                    .optional()
                    .computed()
                    .default(DEFAULT_KEY)
                    .validate(NonEmpty)
                    .description("Node label key that marks cloud nodes."),
            )
            .attr(
                Attribute::new("values", Type::list(Type::String))
                    .optional()
                    .computed()
                    .default(Value::List(vec![Value::string("true")]))
                    .description("Label values of cloud nodes (`NotIn` these keeps the DaemonSet off them)."),
            )
            .attr(
                Attribute::string("target")
                    .computed()
                    .description(
                        "Where the affinity is set: `daemonset`, or `installation:<name>` for an operator-managed Calico.",
                    ),
            )
            .attr(Attribute::bool("in_effect").computed().description(
                "Whether every node-selector term holds the expression. Reads report the cluster's actual state, so \
                 removing the expression out of band shows as a change to `true` in the next plan.",
            )),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let set = |a: &str| config.get(a).is_some_and(|v| !v.is_null());
        if !set("preset") && !set("name") {
            diags.error_at(
                AttrPath::attr("name"),
                "Missing DaemonSet",
                "Set `preset` (calico, flannel, cilium) or `name` (and `namespace`).",
            );
        }
        if set("name") && !set("namespace") && !set("preset") {
            diags.error_at(AttrPath::attr("namespace"), "Missing namespace", "Set `namespace` together with `name`.");
        }
        if let Some([]) = config.get("values").and_then(Value::as_seq) {
            diags.error_at(AttrPath::attr("values"), "Empty values", "NotIn needs at least one value.");
        }
    }

    async fn modify_plan(&self, ctx: &Ctx, plan: &mut PlanRequest<'_>, diags: &mut Diagnostics) {
        if plan.planned.is_null() {
            return;
        }
        let Some(m) = Self::decode(&plan.planned, diags) else { return };
        let prior = plan.prior.clone();
        let Value::Object(attrs) = &mut plan.planned else { return };
        // Apply always leaves the expression in effect; planning `true` over a drifted `false`
        // is what makes an out-of-band removal show up as a change.
        attrs.insert("in_effect".into(), Value::Bool(true));
        if !prior.is_null() {
            for k in ["id", "namespace", "name", "target"] {
                if attrs.get(k).is_some_and(Value::is_unknown) {
                    if let Some(v) = prior.get(k) {
                        attrs.insert(k.into(), v.clone());
                    }
                }
            }
            return;
        }
        let unknown = |k: &str| plan.config.get(k).is_some_and(Value::is_unknown);
        if unknown("preset") || unknown("name") || unknown("namespace") {
            return;
        }
        // Resolve the DaemonSet and the target at plan time, so the plan shows them and an
        // operator-managed Calico is detected before apply.
        let Ok(kube) = kubernetes::from_ctx(ctx).await else { return };
        match locate(&kube, &m).await {
            Ok(Some((ns, name, ds))) => {
                attrs.insert("id".into(), Value::string(format!("{ns}/{name}")));
                attrs.insert("namespace".into(), Value::string(ns));
                attrs.insert("name".into(), Value::string(name));
                attrs.insert("target".into(), Value::string(target_of(&ds).label()));
            }
            Ok(None) => {
                let what = m.name.clone().or(m.preset.clone()).unwrap_or_default();
                diags.error_at(
                    AttrPath::attr(if m.name.is_some() { "name" } else { "preset" }),
                    "DaemonSet not found",
                    format!("No DaemonSet for {what:?} exists in the cluster; check `preset`, `namespace` and `name`."),
                );
            }
            Err(e) => diags.extend(e.to_diagnostics("Could not look up the DaemonSet")),
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
        let mut m = Self::decode(planned, diags)?;
        let kube = client(ctx, diags).await?;
        let Some((ns, name, ds)) =
            locate(&kube, &m).await.map_err(|e| diags.extend(e.to_diagnostics("Could not read the DaemonSet"))).ok()?
        else {
            diags.error("DaemonSet not found", format!("{} does not exist.", m.ds_path()));
            return None;
        };
        m.namespace = Some(ns.clone());
        m.name = Some(name.clone());
        let target = target_of(&ds);
        let record = Self::patch(&kube, &m, &target, diags).await?;
        private.set("record", serde_json::to_value(&record).unwrap_or_default());
        private.set("uid", ds.pointer("/metadata/uid").cloned().unwrap_or_default());
        m.target = Some(target.label());
        m.in_effect = Some(true);
        m.id = Some(format!("{ns}/{name}"));
        self.encode(&m, diags)
    }

    async fn read(&self, ctx: &Ctx, state: &Value, private: &mut Private, diags: &mut Diagnostics) -> Option<Value> {
        let mut m = Self::decode(state, diags)?;
        let kube = client(ctx, diags).await?;
        let ds = match kube.get::<Json>(&m.ds_path()).await {
            Ok(Some(ds)) => ds,
            Ok(None) => return None,
            Err(e) => {
                diags.extend(e.to_diagnostics("Could not read the DaemonSet"));
                return Some(state.clone());
            }
        };
        let target = target_of(&ds);
        let obj = match &target {
            Target::DaemonSet => Some(ds.clone()),
            Target::Installation(_) => match kube.get::<Json>(&target.path(&m)).await {
                Ok(o) => o,
                Err(e) => {
                    diags.extend(e.to_diagnostics("Could not read the tigera Installation"));
                    return Some(state.clone());
                }
            },
        };
        // A DaemonSet recreated by someone (new uid) lost our change with its old self.
        let uid = ds.pointer("/metadata/uid").cloned().unwrap_or_default();
        let same_object = private.0.get("uid").is_none_or(|u| *u == uid || u.is_null());
        m.in_effect = Some(same_object && obj.is_some_and(|o| in_effect(&o, &target.chain(), &m.expression())));
        if !same_object {
            private.set("uid", uid);
            private.remove("record");
        }
        m.target = Some(target.label());
        self.encode(&m, diags)
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
        let old = Self::decode(prior, diags)?;
        let mut m = Self::decode(planned, diags)?;
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
        let old_record = Self::record(private, &old);
        if old.expression() != m.expression() && private.0.contains_key("record") {
            Self::unpatch(&kube, &old, &old_record, diags).await;
            if diags.has_errors() {
                return Some(prior.clone());
            }
        }
        let target = target_of(&ds);
        let Some(mut record) = Self::patch(&kube, &m, &target, diags).await else { return Some(prior.clone()) };
        // A repair of the same expression keeps what the first apply created.
        if old.expression() == m.expression() && private.0.contains_key("record") {
            record.created_from = old_record.created_from.or(record.created_from);
            record.kept_terms = old_record.kept_terms;
        }
        private.set("record", serde_json::to_value(&record).unwrap_or_default());
        private.set("uid", ds.pointer("/metadata/uid").cloned().unwrap_or_default());
        m.target = Some(target.label());
        m.in_effect = Some(true);
        self.encode(&m, diags)
    }

    async fn delete(&self, ctx: &Ctx, prior: &Value, private: &Private, diags: &mut Diagnostics) {
        let Some(m) = Self::decode(prior, diags) else { return };
        let Some(kube) = client(ctx, diags).await else { return };
        let record = Self::record(private, &m);
        Self::unpatch(&kube, &m, &record, diags).await;
    }

    async fn import(&self, ctx: &Ctx, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        let Some((ns, name)) = id.split_once('/').filter(|(a, b)| !a.is_empty() && !b.is_empty() && !b.contains('/'))
        else {
            diags.error(
                "Invalid import ID",
                format!("{id:?} is not `namespace/name` of a DaemonSet, e.g. `kube-system/calico-node`."),
            );
            return None;
        };
        let m = Model {
            id: Some(id.to_string()),
            namespace: Some(ns.to_string()),
            name: Some(name.to_string()),
            key: Some(DEFAULT_KEY.to_string()),
            values: Some(vec!["true".into()]),
            ..Default::default()
        };
        // Without a record, destroy after import removes the expression from every term (it
        // cannot know which terms held it before).
        let _ = ctx;
        self.encode(&m, diags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr() -> Json {
        json!({"key": DEFAULT_KEY, "operator": "NotIn", "values": ["true"]})
    }

    fn ds_with_terms(terms: Json) -> Json {
        json!({"spec": {"template": {"spec": {"affinity": {"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}}}}})
    }

    #[test]
    fn expression_is_anded_into_every_term_and_undone_exactly() {
        let original = ds_with_terms(json!([
            {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]},
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}
        ]));
        let chain = Target::DaemonSet.chain();
        let mut ds = original.clone();
        let record = add(&mut ds, &chain, &expr(), &Target::DaemonSet);
        assert!(in_effect(&ds, &chain, &expr()));
        assert_eq!(record.created_from, None);
        assert_eq!(terms(&ds, &chain).unwrap()[0]["matchExpressions"].as_array().unwrap().len(), 2);
        remove(&mut ds, &chain, &expr(), &record);
        // matchFields term had no matchExpressions before; an empty list remains, which means the same.
        assert_eq!(terms(&ds, &chain).unwrap()[0], terms(&original, &chain).unwrap()[0]);
        assert!(!in_effect(&ds, &chain, &expr()));
    }

    #[test]
    fn created_affinity_is_removed_entirely() {
        let original = json!({"spec": {"template": {"spec": {"containers": []}}}});
        let chain = Target::DaemonSet.chain();
        let mut ds = original.clone();
        let record = add(&mut ds, &chain, &expr(), &Target::DaemonSet);
        assert_eq!(record.created_from, Some(3));
        assert!(in_effect(&ds, &chain, &expr()));
        remove(&mut ds, &chain, &expr(), &record);
        assert_eq!(ds, original);
    }

    #[test]
    fn a_term_that_already_held_the_expression_keeps_it() {
        let chain = Target::DaemonSet.chain();
        let mut ds = ds_with_terms(json!([{"matchExpressions": [expr()]}, {"matchExpressions": []}]));
        let before = ds.clone();
        let record = add(&mut ds, &chain, &expr(), &Target::DaemonSet);
        assert_eq!(record.kept_terms.len(), 1);
        remove(&mut ds, &chain, &expr(), &record);
        assert_eq!(ds, before);
    }

    #[test]
    fn operator_owned_daemonsets_target_the_installation() {
        let ds = json!({"metadata": {"ownerReferences": [{"apiVersion": "operator.tigera.io/v1", "kind": "Installation", "name": "default"}]}});
        assert_eq!(target_of(&ds), Target::Installation("default".into()));
        assert_eq!(target_of(&json!({"metadata": {}})), Target::DaemonSet);
        let chain = Target::Installation("default".into()).chain();
        assert_eq!(&chain[..2], &["spec", "calicoNodeDaemonSet"]);
    }
}

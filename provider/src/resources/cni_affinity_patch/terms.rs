//! Pure edits of a required node affinity: AND one expression into every nodeSelectorTerm, and undo
//! exactly that.
//!
//! Kubernetes semantics (core/v1 `NodeSelector`): the terms are ORed, the requirements inside a
//! term are ANDed, and "a null or empty node selector term matches no objects". So the expression
//! must go into every term that selects something; an empty term is left alone (adding to it would
//! make a term that matched nothing match every non-cloud node).

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

/// Keys from a pod spec down to the list of terms.
pub const AFFINITY_KEYS: [&str; 4] =
    ["affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"];

/// What one patch added, kept in private state so destroy (or an update) removes exactly that.
#[derive(Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
#[serde(default)]
pub struct Record {
    /// `daemonset` or `installation:<name>`: the object that was edited.
    pub target: String,
    /// uid of that object when it was edited; another uid means it was recreated and holds
    /// nothing of ours.
    pub uid: Option<String>,
    /// The expression that was added.
    pub expression: Json,
    /// Index into the key chain of the first key that did not exist and was created.
    pub created_from: Option<usize>,
    /// Terms that already held the expression: left alone on undo.
    pub kept_terms: Vec<KeptTerm>,
    /// How many terms received the expression.
    pub patched_terms: usize,
}

/// A term that held the expression before we did: where it was, and its content without it.
#[derive(Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
pub struct KeptTerm {
    pub index: usize,
    pub term: Json,
}

/// For each term: whether it holds `expr` because of us, i.e. holds it and is not a kept term.
/// Kept terms are matched by position and content first, then by content alone (others may have
/// inserted terms since), so equal-looking terms are told apart where possible.
fn ours_mask(list: &[Json], expr: &Json, kept: &[KeptTerm]) -> Vec<bool> {
    let stripped: Vec<Option<Json>> = list.iter().map(|t| has_expr(t, expr).then(|| without_expr(t, expr))).collect();
    let mut ours: Vec<bool> = stripped.iter().map(Option::is_some).collect();
    let mut unmatched = Vec::new();
    for k in kept {
        match stripped.get(k.index) {
            Some(Some(s)) if *s == k.term && ours[k.index] => ours[k.index] = false,
            _ => unmatched.push(k),
        }
    }
    for k in unmatched {
        if let Some(i) = (0..list.len()).find(|&i| ours[i] && stripped[i].as_ref() == Some(&k.term)) {
            ours[i] = false;
        }
    }
    ours
}

/// The NotIn expression of a key and its values.
pub fn expression(key: &str, values: &[String]) -> Json {
    json!({"key": key, "operator": "NotIn", "values": values})
}

/// The key chain from the object's root to the terms: `pod_spec` keys followed by [`AFFINITY_KEYS`].
pub fn chain(pod_spec: &[&'static str]) -> Vec<&'static str> {
    pod_spec.iter().chain(AFFINITY_KEYS.iter()).copied().collect()
}

/// Index of `requiredDuringSchedulingIgnoredDuringExecution` in a chain.
fn required_index(chain: &[&str]) -> usize {
    chain.len() - 2
}

pub fn terms<'a>(obj: &'a Json, chain: &[&str]) -> Option<&'a Vec<Json>> {
    chain.iter().try_fold(obj, |o, k| o.get(*k))?.as_array()
}

fn requirements<'a>(term: &'a Json, field: &str) -> &'a [Json] {
    term.get(field).and_then(Json::as_array).map(Vec::as_slice).unwrap_or_default()
}

/// A term without requirements matches no node.
fn selects_nothing(term: &Json) -> bool {
    requirements(term, "matchExpressions").is_empty() && requirements(term, "matchFields").is_empty()
}

fn has_expr(term: &Json, expr: &Json) -> bool {
    requirements(term, "matchExpressions").contains(expr)
}

/// The term without `expr`; an emptied `matchExpressions` list is dropped, as the API server omits
/// empty lists (`omitempty`) anyway.
fn without_expr(term: &Json, expr: &Json) -> Json {
    let mut t = term.clone();
    if let Some(obj) = t.as_object_mut() {
        if let Some(es) = obj.get_mut("matchExpressions").and_then(Json::as_array_mut) {
            es.retain(|e| e != expr);
            if es.is_empty() {
                obj.remove("matchExpressions");
            }
        }
    }
    t
}

/// Whether the expression excludes the nodes: there is at least one term, and every term that can
/// select a node holds it.
pub fn in_effect(obj: &Json, chain: &[&str], expr: &Json) -> bool {
    terms(obj, chain).is_some_and(|ts| !ts.is_empty() && ts.iter().all(|t| selects_nothing(t) || has_expr(t, expr)))
}

/// Adds `expr` to every term of `obj` that selects something, creating the chain (and a term
/// holding only `expr`) when absent. Returns what it did; the caller fills in `target` and `uid`.
#[cfg(test)]
pub fn add(obj: &mut Json, chain: &[&str], expr: &Json) -> Record {
    apply(obj, chain, None, expr)
}

/// Makes `expr` hold in every term, taking over what `prior` (an earlier apply's record) added:
/// terms that got the prior expression get `expr` in its place (same position), other terms get
/// `expr` appended, and terms that already held `expr` on their own are recorded as kept. One pass,
/// so a change of values never leaves a moment without the exclusion.
pub fn apply(obj: &mut Json, chain: &[&str], prior: Option<&Record>, expr: &Json) -> Record {
    let mut record =
        Record { expression: expr.clone(), created_from: prior.and_then(|p| p.created_from), ..Default::default() };
    let mut cur = obj;
    for (i, key) in chain.iter().enumerate() {
        let last = i + 1 == chain.len();
        if !cur.is_object() {
            *cur = json!({});
        }
        let Json::Object(map) = cur else { return record };
        if map.get(*key).is_none_or(Json::is_null) {
            record.created_from = Some(record.created_from.map_or(i, |c| c.min(i)));
            map.insert(key.to_string(), if last { json!([]) } else { json!({}) });
        }
        cur = map.entry(key.to_string()).or_insert(Json::Null);
    }
    if !cur.is_array() {
        *cur = json!([]);
    }
    let Json::Array(list) = cur else { return record };
    if list.is_empty() {
        // No term at all (the affinity is new): one term holding only our expression.
        list.push(json!({ "matchExpressions": [expr] }));
        record.patched_terms = 1;
        return record;
    }
    let old = prior.map(|p| &p.expression);
    let ours = match prior {
        Some(p) => ours_mask(list, &p.expression, &p.kept_terms),
        None => vec![false; list.len()],
    };
    for (index, (term, ours_before)) in list.iter_mut().zip(ours).enumerate() {
        if !term.is_object() {
            continue;
        }
        let holds_new = has_expr(term, expr);
        if ours_before {
            let es = term.get_mut("matchExpressions").and_then(Json::as_array_mut);
            if let (Some(old), Some(es)) = (old.filter(|old| *old != expr), es) {
                match (holds_new, es.iter().position(|e| e == old)) {
                    (false, Some(at)) => es[at] = expr.clone(),
                    _ => es.retain(|e| e != old),
                }
            }
            record.patched_terms += 1;
        } else if holds_new {
            record.kept_terms.push(KeptTerm { index, term: without_expr(term, expr) });
        } else if !selects_nothing(term) {
            if let Json::Object(t) = term {
                let es = t.entry("matchExpressions").or_insert_with(|| json!([]));
                if !es.is_array() {
                    *es = json!([]);
                }
                if let Json::Array(es) = es {
                    es.push(expr.clone());
                    record.patched_terms += 1;
                }
            }
        }
    }
    record
}

/// Removes `record.expression` from the terms it was added to (every term holding it, except the
/// kept ones). A term left with no requirement is dropped: it was ours alone, and an empty term
/// would match nothing. Containers left empty are dropped from the required block down, and above
/// it only those `add` created.
pub fn remove(obj: &mut Json, chain: &[&str], record: &Record) {
    let expr = &record.expression;
    let Some(list) = chain.iter().try_fold(&mut *obj, |o, k| o.get_mut(*k)).and_then(Json::as_array_mut) else {
        return;
    };
    let ours = ours_mask(list, expr, &record.kept_terms);
    let mut emptied = Vec::new();
    for (i, term) in list.iter_mut().enumerate() {
        if !ours[i] {
            continue;
        }
        let stripped = without_expr(term, expr);
        if selects_nothing(&stripped) {
            emptied.push(i);
        }
        *term = stripped;
    }
    for i in emptied.into_iter().rev() {
        list.remove(i);
    }
    let prune_from = record.created_from.unwrap_or(usize::MAX).min(required_index(chain));
    for depth in (prune_from..chain.len()).rev() {
        let Some(parent) =
            chain[..depth].iter().try_fold(&mut *obj, |o, k| o.get_mut(*k)).and_then(Json::as_object_mut)
        else {
            return;
        };
        if !is_empty(parent, chain[depth]) {
            return;
        }
        parent.remove(chain[depth]);
    }
}

fn is_empty(parent: &Map<String, Json>, key: &str) -> bool {
    match parent.get(key) {
        Some(Json::Array(a)) => a.is_empty(),
        Some(Json::Object(o)) => o.is_empty(),
        Some(Json::Null) | None => true,
        Some(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DS_POD_SPEC: [&str; 3] = ["spec", "template", "spec"];

    fn ours() -> Json {
        expression("alibabacloud.com/external", &["true".to_string()])
    }

    fn os_linux() -> Json {
        json!({"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]})
    }

    fn with_terms(terms: Json) -> Json {
        json!({"spec": {"template": {"spec": {"containers": [], "affinity": {"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}}}}})
    }

    fn c() -> Vec<&'static str> {
        chain(&DS_POD_SPEC)
    }

    #[test]
    fn anded_into_every_term_and_undone_exactly() {
        let original = with_terms(json!([
            {"matchExpressions": [os_linux()]},
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}
        ]));
        let mut ds = original.clone();
        let record = add(&mut ds, &c(), &ours());
        assert!(in_effect(&ds, &c(), &ours()));
        assert_eq!(record.created_from, None);
        assert_eq!(record.patched_terms, 2);
        let ts = terms(&ds, &c()).unwrap();
        assert_eq!(ts[0]["matchExpressions"], json!([os_linux(), ours()]));
        assert_eq!(ts[1]["matchExpressions"], json!([ours()]));
        remove(&mut ds, &c(), &record);
        // Byte for byte: the matchFields-only term gets no leftover empty matchExpressions.
        assert_eq!(ds, original);
        assert!(!in_effect(&ds, &c(), &ours()));
    }

    #[test]
    fn a_separate_term_would_not_count() {
        let ds = with_terms(json!([{"matchExpressions": [os_linux()]}, {"matchExpressions": [ours()]}]));
        assert!(!in_effect(&ds, &c(), &ours()), "terms are ORed: the first still admits cloud nodes");
    }

    #[test]
    fn created_affinity_is_removed_entirely() {
        let original = json!({"spec": {"template": {"spec": {"containers": []}}}});
        let mut ds = original.clone();
        let record = add(&mut ds, &c(), &ours());
        assert_eq!(record.created_from, Some(3));
        assert_eq!(terms(&ds, &c()).unwrap(), &vec![json!({"matchExpressions": [ours()]})]);
        remove(&mut ds, &c(), &record);
        assert_eq!(ds, original);
    }

    #[test]
    fn only_the_node_affinity_is_created_next_to_a_pod_anti_affinity() {
        let anti =
            json!({"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "kubernetes.io/hostname"}]});
        let original = json!({"spec": {"template": {"spec": {"affinity": {"podAntiAffinity": anti}}}}});
        let mut ds = original.clone();
        let record = add(&mut ds, &c(), &ours());
        assert_eq!(record.created_from, Some(4));
        remove(&mut ds, &c(), &record);
        assert_eq!(ds, original);
    }

    #[test]
    fn identical_expression_is_not_duplicated_and_its_term_kept() {
        let original =
            with_terms(json!([{"matchExpressions": [os_linux(), ours()]}, {"matchExpressions": [os_linux()]}]));
        let mut ds = original.clone();
        let record = add(&mut ds, &c(), &ours());
        assert_eq!(record.kept_terms, vec![KeptTerm { index: 0, term: json!({"matchExpressions": [os_linux()]}) }]);
        assert_eq!(record.patched_terms, 1);
        assert_eq!(terms(&ds, &c()).unwrap()[0]["matchExpressions"], json!([os_linux(), ours()]), "no duplicate");
        // Adding again changes nothing.
        let mut again = ds.clone();
        add(&mut again, &c(), &ours());
        assert_eq!(again, ds);
        remove(&mut ds, &c(), &record);
        assert_eq!(ds, original);
    }

    #[test]
    fn a_term_that_matches_nothing_is_left_alone() {
        let original = with_terms(json!([{"matchExpressions": [os_linux()]}, {}]));
        let mut ds = original.clone();
        let record = add(&mut ds, &c(), &ours());
        assert_eq!(terms(&ds, &c()).unwrap()[1], json!({}));
        assert!(in_effect(&ds, &c(), &ours()));
        remove(&mut ds, &c(), &record);
        assert_eq!(ds, original);
    }

    #[test]
    fn terms_added_by_others_later_lose_only_our_expression() {
        let original = with_terms(json!([{"matchExpressions": [os_linux()]}]));
        let mut ds = original.clone();
        let record = add(&mut ds, &c(), &ours());
        // Someone appends a term that also carries our expression, and an unrelated one.
        let extra = json!({"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}, ours()]});
        let list = ds.pointer_mut("/spec/template/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms").unwrap();
        list.as_array_mut().unwrap().push(extra);
        remove(&mut ds, &c(), &record);
        let ts = terms(&ds, &c()).unwrap();
        assert_eq!(ts.len(), 2);
        assert_eq!(ts[0], json!({"matchExpressions": [os_linux()]}));
        assert_eq!(ts[1], json!({"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}));
    }

    #[test]
    fn adopted_expression_alone_leaves_no_empty_term_behind() {
        // After an import nothing is recorded: every copy of the expression counts as ours. A
        // term holding only it must go, and with it the then empty required block (an empty term
        // would match no node; an empty list is invalid).
        let mut ds = with_terms(json!([{"matchExpressions": [ours()]}]));
        let record = Record { expression: ours(), ..Default::default() };
        remove(&mut ds, &c(), &record);
        assert_eq!(ds, json!({"spec": {"template": {"spec": {"containers": [], "affinity": {"nodeAffinity": {}}}}}}));
    }

    #[test]
    fn a_values_change_replaces_our_expression_in_place_and_keeps_foreign_ones() {
        let original = with_terms(json!([
            {"matchExpressions": [os_linux()]},
            {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}, ours()]}
        ]));
        let mut ds = original.clone();
        let first = add(&mut ds, &c(), &ours());
        assert_eq!(first.kept_terms.len(), 1, "the second term held it before us");
        let new = expression("alibabacloud.com/external", &["true".into(), "yes".into()]);
        let second = apply(&mut ds, &c(), Some(&first), &new);
        let ts = terms(&ds, &c()).unwrap();
        assert_eq!(ts[0]["matchExpressions"], json!([os_linux(), new]), "replaced where it was");
        assert_eq!(ts[1]["matchExpressions"].as_array().unwrap().len(), 3, "foreign copy of the old one stays");
        assert!(in_effect(&ds, &c(), &new));
        remove(&mut ds, &c(), &second);
        assert_eq!(ds, original);
    }

    #[test]
    fn a_values_change_on_a_created_affinity_keeps_it_ours() {
        let original = json!({"spec": {"template": {"spec": {}}}});
        let mut ds = original.clone();
        let first = add(&mut ds, &c(), &ours());
        let new = expression("alibabacloud.com/external", &["yes".into()]);
        let second = apply(&mut ds, &c(), Some(&first), &new);
        assert_eq!(terms(&ds, &c()).unwrap(), &vec![json!({"matchExpressions": [new]})]);
        assert_eq!(second.created_from, Some(3));
        remove(&mut ds, &c(), &second);
        assert_eq!(ds, original);
    }

    #[test]
    fn repair_after_removal_out_of_band_keeps_the_first_record() {
        let original =
            with_terms(json!([{"matchExpressions": [os_linux()]}, {"matchExpressions": [os_linux(), ours()]}]));
        let mut ds = original.clone();
        let first = add(&mut ds, &c(), &ours());
        // kubectl removes ours from the first term.
        let p = "/spec/template/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/matchExpressions";
        *ds.pointer_mut(p).unwrap() = json!([os_linux()]);
        assert!(!in_effect(&ds, &c(), &ours()));
        let repaired = apply(&mut ds, &c(), Some(&first), &ours());
        assert!(in_effect(&ds, &c(), &ours()));
        assert_eq!(repaired.kept_terms, first.kept_terms);
        // Applying again is a no-op, and the record stays the same.
        let mut again = ds.clone();
        assert_eq!(apply(&mut again, &c(), Some(&repaired), &ours()), repaired);
        assert_eq!(again, ds);
        remove(&mut ds, &c(), &repaired);
        assert_eq!(ds, original);
    }

    #[test]
    fn other_values_are_a_different_expression() {
        let mut ds = with_terms(json!([{"matchExpressions": [os_linux()]}]));
        add(&mut ds, &c(), &ours());
        let other = expression("alibabacloud.com/external", &["true".into(), "yes".into()]);
        assert!(!in_effect(&ds, &c(), &other));
        assert!(in_effect(&ds, &c(), &ours()));
    }
}

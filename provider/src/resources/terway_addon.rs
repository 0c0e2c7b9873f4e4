//! `hybrid_terway_addon`: the `terway-eniip` addon of an ACK One registered cluster, installed
//! through the Container Service API.
//!
//! The addon's `config` is a JSON string. `network_policy` is its `NetworkPolicy` key; every other
//! key is the user's `config`, compared as JSON so formatting never causes a diff.

use std::time::Duration;

use async_trait::async_trait;
use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

use crate::clients::alibaba::{self, Alibaba, CloudError, Retry};
use crate::clients::kubernetes::{self, ResourceType};
use crate::cty::Value;
use crate::datapath;
use crate::framework::schema::timeouts_block;
use crate::framework::validators::Check;
use crate::framework::{model, AttrPath, Attribute, Block, Ctx, Diagnostics, PlanRequest, Private, Resource, Schema};

pub struct TerwayAddon;

const ADDON: &str = "terway-eniip";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// The addon config key that switches Terway's NetworkPolicy support.
const NETWORK_POLICY_KEY: &str = "NetworkPolicy";

#[derive(Serialize, Deserialize, Default, Debug, Clone)]
struct Model {
    id: Option<String>,
    cluster_id: Option<String>,
    addon_name: Option<String>,
    version: Option<String>,
    network_policy: Option<bool>,
    config: Option<String>,
    state: Option<String>,
    timeouts: Option<Json>,
}

impl Model {
    fn cluster(&self) -> &str {
        self.cluster_id.as_deref().unwrap_or_default()
    }
    fn version(&self) -> &str {
        self.version.as_deref().unwrap_or(datapath::CURRENT_VERSION)
    }
    /// The addon config sent to the API: the user's keys plus `NetworkPolicy`.
    fn addon_config(&self) -> String {
        let mut doc = parse(self.config.as_deref());
        doc.insert(
            NETWORK_POLICY_KEY.into(),
            Json::String(if self.network_policy == Some(true) { "true" } else { "false" }.into()),
        );
        Json::Object(doc).to_string()
    }
}

fn parse(text: Option<&str>) -> Map<String, Json> {
    match text.and_then(|t| serde_json::from_str::<Json>(t).ok()) {
        Some(Json::Object(m)) => m,
        _ => Map::new(),
    }
}

/// Splits an installed addon's config into `network_policy` and the remaining user config, keeping
/// `prior` (the configuration as the user wrote it) when it means the same JSON.
fn split_config(installed: &str, prior: Option<&str>) -> (bool, Option<String>) {
    let mut doc = parse(Some(installed));
    let np = doc.remove(NETWORK_POLICY_KEY).is_some_and(|v| v == "true" || v == true);
    let prior_doc = prior.map(|p| parse(Some(p)));
    let config = match prior_doc {
        Some(p) if p == doc => prior.map(str::to_string),
        _ if doc.is_empty() => None,
        _ => Some(Json::Object(doc).to_string()),
    };
    (np, config)
}

fn check_config_json(v: &Value) -> Result<(), String> {
    match serde_json::from_str::<Json>(v.as_str().unwrap_or_default()) {
        Ok(Json::Object(m)) if m.contains_key(NETWORK_POLICY_KEY) => {
            Err(format!("set `network_policy` instead of the {NETWORK_POLICY_KEY} key"))
        }
        Ok(Json::Object(_)) => Ok(()),
        Ok(_) => Err("the addon config must be a JSON object".into()),
        Err(e) => Err(format!("not valid JSON: {e}")),
    }
}

/// Refuses `network_policy = true` when the cluster already runs Calico (a calico-node DaemonSet or
/// Calico's IPPool CRD); warns when the cluster cannot be inspected.
async fn check_network_policy_safe(ctx: &Ctx, diags: &mut Diagnostics) {
    let at = AttrPath::attr("network_policy");
    let kube = match kubernetes::from_ctx(ctx).await {
        Ok(k) => k,
        Err(_) => {
            diags.warning_at(
                at,
                "NetworkPolicy not checked against the cluster",
                "Without access to the cluster's Kubernetes API the provider cannot tell whether Calico already runs \
                 there. Terway's NetworkPolicy support breaks an existing Calico network.",
            );
            return;
        }
    };
    let daemonsets: Result<Option<Vec<Json>>, _> = kube.list(&ResourceType::DAEMONSETS.collection(None), None).await;
    let calico_ds = daemonsets
        .ok()
        .flatten()
        .unwrap_or_default()
        .into_iter()
        .find(|d| d["metadata"]["name"] == "calico-node")
        .map(|d| format!("{}/calico-node", d["metadata"]["namespace"].as_str().unwrap_or_default()));
    let crd = kube
        .get::<Json>("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/ippools.crd.projectcalico.org")
        .await
        .ok()
        .flatten()
        .map(|_| "the Calico CRD ippools.crd.projectcalico.org".to_string());
    if let Some(found) = calico_ds.or(crd) {
        diags.error_at(
            at,
            "NetworkPolicy would break the on-premises Calico network",
            format!(
                "The cluster already runs Calico ({found}). Terway's NetworkPolicy support installs Calico components \
                 of its own that conflict with it. Keep network_policy = false and enforce policies with the existing \
                 Calico."
            ),
        );
    }
}

async fn cloud(ctx: &Ctx, diags: &mut Diagnostics) -> Option<Alibaba> {
    diags.capture(alibaba::from_ctx(ctx).await)
}

impl TerwayAddon {
    async fn instance(a: &Alibaba, cluster: &str) -> Result<Option<Json>, CloudError> {
        let path = format!("/clusters/{cluster}/components/{ADDON}/instance");
        match a.cs("DescribeClusterAddonInstance", Method::GET, &path, &[], None, Retry::Idempotent).await {
            Ok(j) => Ok(Some(j)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Starts a task-running CS call. A failure whose answer was lost, or a server error, may
    /// still have started the task: look at the addon before sending it again.
    async fn start(
        a: &Alibaba,
        action: &str,
        path: &str,
        body: &Json,
        cluster: &str,
        happened: impl Fn(Option<&Json>) -> bool,
    ) -> Result<Option<String>, CloudError> {
        let sent = a
            .send_checked(
                || a.cs(action, Method::POST, path, &[], Some(body), Retry::Never),
                || async { Ok(happened(Self::instance(a, cluster).await?.as_ref())) },
            )
            .await?;
        Ok(sent.and_then(|r| r["task_id"].as_str().map(str::to_string)))
    }

    /// Waits for the task, or (without a task ID) for the addon to leave its transitional state.
    async fn wait(a: &Alibaba, task: Option<String>, cluster: &str, timeout: Duration) -> Result<(), CloudError> {
        if let Some(t) = task {
            return a.wait_task(&t, timeout).await;
        }
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let state = Self::instance(a, cluster).await?.map(|i| i["state"].as_str().unwrap_or_default().to_string());
            if !matches!(state.as_deref(), Some("installing" | "upgrading" | "uninstalling")) {
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                return Err(CloudError::local("cs wait", "Timeout", "the addon did not settle in time"));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// The state from the addon instance, keeping the user's spelling of `config`.
    fn from_instance(m: &Model, inst: &Json) -> Model {
        let (np, config) = split_config(inst["config"].as_str().unwrap_or("{}"), m.config.as_deref());
        Model {
            id: Some(format!("{}:{ADDON}", m.cluster())),
            addon_name: Some(ADDON.into()),
            version: inst["version"].as_str().map(str::to_string),
            network_policy: Some(np),
            config,
            state: inst["state"].as_str().map(str::to_string),
            ..m.clone()
        }
    }

    /// Brings an installed addon to the planned version and config.
    async fn converge(&self, a: &Alibaba, m: &Model, timeout: Duration) -> Result<(), CloudError> {
        let cluster = m.cluster();
        let Some(inst) = Self::instance(a, cluster).await? else {
            return Err(CloudError::local("cs", "ErrorAddonNotFound", format!("{ADDON} is not installed")));
        };
        if inst["version"].as_str() != Some(m.version()) {
            let body = json!([{ "component_name": ADDON, "next_version": m.version(), "config": m.addon_config() }]);
            let want = m.version().to_string();
            let task = Self::start(
                a,
                "UpgradeClusterAddons",
                &format!("/clusters/{cluster}/components/upgrade"),
                &body,
                cluster,
                |i| i.is_some_and(|i| i["version"].as_str() == Some(want.as_str()) || i["state"] == "upgrading"),
            )
            .await?;
            Self::wait(a, task, cluster, timeout).await?;
        }
        let now = Self::instance(a, cluster).await?.unwrap_or(inst);
        let current = parse(now["config"].as_str());
        if current != parse(Some(&m.addon_config())) {
            let path = format!("/clusters/{cluster}/components/{ADDON}/config");
            // Setting the same config twice has the same effect, so this is idempotent.
            a.cs(
                "ModifyClusterAddon",
                Method::POST,
                &path,
                &[],
                Some(&json!({ "config": m.addon_config() })),
                Retry::Idempotent,
            )
            .await?;
        }
        Ok(())
    }

    async fn read_back(&self, a: &Alibaba, m: &Model, diags: &mut Diagnostics) -> Option<Value> {
        match Self::instance(a, m.cluster()).await {
            Ok(Some(inst)) => self.encode_state(&Self::from_instance(m, &inst), diags),
            Ok(None) => {
                diags.error("Addon missing after apply", format!("{ADDON} is not installed on {}.", m.cluster()));
                None
            }
            Err(e) => {
                diags.extend(e.to_diagnostics("Could not read the addon"));
                self.encode_state(m, diags)
            }
        }
    }
}

#[async_trait]
impl Resource for TerwayAddon {
    fn type_name(&self) -> &'static str {
        "hybrid_terway_addon"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new(
                "The `terway-eniip` addon (Terway in ENI multi-IP mode) on an ACK One registered cluster. Installs it \
                 through the Container Service API and waits for the install task; version changes upgrade it, \
                 config changes modify it, destroy uninstalls it. Plans fail early when the cluster is not a \
                 registered cluster.",
            )
            .attr(Attribute::string("id").computed().use_state_for_unknown().description("`cluster_id:terway-eniip`."))
            .attr(
                Attribute::string("cluster_id")
                    .required()
                    .requires_replace()
                    .description("ID of the registered cluster."),
            )
            .attr(
                Attribute::string("addon_name")
                    .computed()
                    .use_state_for_unknown()
                    .description("Name of the addon: `terway-eniip`."),
            )
            .attr(
                Attribute::string("version")
                    .optional()
                    .computed()
                    .default(datapath::CURRENT_VERSION)
                    .description(&format!(
                        "Addon version. Defaults to `{}`, the version whose datapath image this provider bundles. \
                         Reads report the installed version, so an upgrade made elsewhere shows as drift.",
                        datapath::CURRENT_VERSION
                    ))
                    .validate(Check {
                        description: "A Terway version this provider knows.",
                        check: |v: &Value| {
                            datapath::check_version(v.as_str().unwrap_or_default())
                                .map(|_| ())
                                .map_err(|e| e.to_string())
                        },
                    }),
            )
            .attr(
                Attribute::bool("network_policy")
                    .optional()
                    .computed()
                    .default(false)
                    .description("Enable Terway's NetworkPolicy support (the addon config's `NetworkPolicy`)."),
            )
            .attr(
                Attribute::string("config")
                    .optional()
                    .description(
                        "Further addon configuration as a JSON object, e.g. `jsonencode({ IPVlan = \"false\" })`. \
                         Compared as JSON, so key order and spacing never cause a diff.",
                    )
                    .validate(Check { description: "A JSON object.", check: check_config_json }),
            )
            .attr(Attribute::string("state").computed().description("State of the addon instance, e.g. `active`."))
            .block(timeouts_block(&["create", "update", "delete"])),
        )
    }

    async fn modify_plan(&self, ctx: &Ctx, plan: &mut PlanRequest<'_>, diags: &mut Diagnostics) {
        if plan.planned.is_null() {
            return;
        }
        let cluster = plan.planned.get("cluster_id").and_then(Value::as_str).map(str::to_string);
        let prior_cluster = plan.prior.get("cluster_id").and_then(Value::as_str);
        let prior = plan.prior.clone();
        if let Value::Object(attrs) = &mut plan.planned {
            attrs.insert("addon_name".into(), Value::string(ADDON));
            if let Some(c) = &cluster {
                attrs.insert("id".into(), Value::string(format!("{c}:{ADDON}")));
            }
            // After apply the addon is active; planning that makes a failed or stuck addon a change.
            if !prior.is_null() && prior.get("state").and_then(Value::as_str) != Some("active") {
                attrs.insert("state".into(), Value::string("active"));
            } else if !prior.is_null() && attrs.get("state").is_some_and(Value::is_unknown) {
                attrs.insert("state".into(), prior.get("state").cloned().unwrap_or(Value::Null));
            } else if prior.is_null() {
                attrs.insert("state".into(), Value::string("active"));
            }
        }
        // Terway's NetworkPolicy support brings its own Calico components, which break a Calico
        // network that is already there: refuse at plan, before anything is installed.
        let np_on = plan.planned.get("network_policy").and_then(Value::as_bool) == Some(true);
        let np_was_on = plan.prior.get("network_policy").and_then(Value::as_bool) == Some(true);
        if np_on && !np_was_on {
            check_network_policy_safe(ctx, diags).await;
        }
        // A new cluster ID is checked before anything is planned against it.
        let Some(cluster) = cluster else { return };
        if prior_cluster == Some(cluster.as_str()) {
            return;
        }
        match alibaba::try_from_ctx(ctx).await {
            Ok(Some(a)) => {
                if let Err(e) = a.check_registered_cluster(&cluster).await {
                    diags.error_at(AttrPath::attr("cluster_id"), "Not a registered cluster", e);
                }
            }
            Ok(None) => {}
            Err(d) => diags.extend(d),
        }
    }

    async fn create(
        &self,
        ctx: &Ctx,
        planned: &Value,
        _config: &Value,
        _private: &mut Private,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let m = diags.capture(model::decode::<Model>(planned))?;
        let a = cloud(ctx, diags).await?;
        let timeout = ctx.timeout(planned, "create", DEFAULT_TIMEOUT);
        let cluster = m.cluster().to_string();
        let body = json!([{ "name": ADDON, "version": m.version(), "config": m.addon_config() }]);
        let path = format!("/clusters/{cluster}/components/install");
        let started = Self::start(&a, "InstallClusterAddons", &path, &body, &cluster, |i| i.is_some()).await;
        let result = match started {
            Ok(task) => Self::wait(&a, task, &cluster, timeout).await,
            // Installed before (by hand, or by an apply whose state was lost): adopt it and converge.
            Err(e) if e.is("ErrorAddonAlreadyInstalled") => self.converge(&a, &m, timeout).await,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            diags.extend(e.to_diagnostics("Could not install terway-eniip"));
            // Record what exists (if anything), so the next apply converges instead of reinstalling.
            return match Self::instance(&a, &cluster).await {
                Ok(Some(inst)) => self.encode_state(&Self::from_instance(&m, &inst), diags),
                _ => None,
            };
        }
        self.read_back(&a, &m, diags).await
    }

    async fn read(&self, ctx: &Ctx, state: &Value, _private: &mut Private, diags: &mut Diagnostics) -> Option<Value> {
        let m = diags.capture(model::decode::<Model>(state))?;
        let a = cloud(ctx, diags).await?;
        match Self::instance(&a, m.cluster()).await {
            Ok(Some(inst)) => self.encode_state(&Self::from_instance(&m, &inst), diags),
            Ok(None) => None,
            Err(e) if e.is("ErrorClusterNotFound") => None,
            Err(e) => {
                diags.extend(e.to_diagnostics("Could not read the addon"));
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
        _private: &mut Private,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let m = diags.capture(model::decode::<Model>(planned))?;
        let a = cloud(ctx, diags).await?;
        let timeout = ctx.timeout(planned, "update", DEFAULT_TIMEOUT);
        if let Err(e) = self.converge(&a, &m, timeout).await {
            diags.extend(e.to_diagnostics("Could not update terway-eniip"));
            let old = diags.capture(model::decode::<Model>(prior))?;
            return match Self::instance(&a, m.cluster()).await {
                Ok(Some(inst)) => self.encode_state(&Self::from_instance(&old, &inst), diags),
                _ => Some(prior.clone()),
            };
        }
        self.read_back(&a, &m, diags).await
    }

    async fn delete(&self, ctx: &Ctx, prior: &Value, _private: &Private, diags: &mut Diagnostics) {
        let Some(m) = diags.capture(model::decode::<Model>(prior)) else { return };
        let Some(a) = cloud(ctx, diags).await else { return };
        let timeout = ctx.timeout(prior, "delete", DEFAULT_TIMEOUT);
        let cluster = m.cluster().to_string();
        let body = json!([{ "name": ADDON }]);
        let path = format!("/clusters/{cluster}/components/uninstall");
        let result = match Self::start(&a, "UnInstallClusterAddons", &path, &body, &cluster, |i| {
            i.is_none_or(|i| i["state"] == "uninstalling")
        })
        .await
        {
            Ok(task) => Self::wait(&a, task, &cluster, timeout).await,
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            diags.extend(e.to_diagnostics("Could not uninstall terway-eniip"));
        }
    }

    async fn import(&self, _ctx: &Ctx, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        match id.split_once(':') {
            Some((cluster, ADDON)) if !cluster.is_empty() => {
                let m = Model { id: Some(id.into()), cluster_id: Some(cluster.into()), ..Default::default() };
                self.encode_state(&m, diags)
            }
            _ => {
                diags.error("Invalid import ID", format!("{id:?} is not `cluster_id:{ADDON}`."));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_round_trips_and_keeps_the_users_spelling() {
        let m =
            Model { config: Some(r#"{ "IPVlan": "false" }"#.into()), network_policy: Some(true), ..Default::default() };
        let sent = m.addon_config();
        assert_eq!(parse(Some(&sent)), parse(Some(r#"{"IPVlan":"false","NetworkPolicy":"true"}"#)));
        let (np, config) = split_config(r#"{"NetworkPolicy":"true","IPVlan":"false"}"#, m.config.as_deref());
        assert!(np);
        assert_eq!(config.as_deref(), Some(r#"{ "IPVlan": "false" }"#), "same JSON keeps the prior text");
        let (np, config) = split_config(r#"{"NetworkPolicy":"false","IPVlan":"true"}"#, m.config.as_deref());
        assert!(!np);
        assert_eq!(config.as_deref(), Some(r#"{"IPVlan":"true"}"#), "a changed value is drift");
        assert_eq!(split_config(r#"{"NetworkPolicy":"false"}"#, None), (false, None));
    }

    #[test]
    fn config_validation() {
        assert!(check_config_json(&Value::string("{}")).is_ok());
        assert!(check_config_json(&Value::string("[1]")).unwrap_err().contains("object"));
        assert!(check_config_json(&Value::string("{")).unwrap_err().contains("JSON"));
        assert!(check_config_json(&Value::string(r#"{"NetworkPolicy":"true"}"#))
            .unwrap_err()
            .contains("network_policy"));
    }
}

//! `hybrid_eni_config`: the Terway ConfigMap (`kube-system/eni-config` by default).
//!
//! The ConfigMap holds two JSON documents: `eni_conf` (what the Terway daemon reads) and
//! `10-terway.conf` (the CNI configuration). Each modelled key is a typed attribute; reads parse
//! the JSON back, so key order and spacing never cause a diff while a changed value does. Keys of
//! either document that are not modelled, and other keys of the ConfigMap, are left as found.

mod cloud_checks;

use std::collections::BTreeMap;

use async_trait::async_trait;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

use crate::clients::kubernetes::{self, Kube, KubeError, ResourceType};
use crate::cty::{Type, Value};
use crate::framework::validators::{IdWithPrefix, IntBetween, OneOf};
use crate::framework::{model, AttrPath, Attribute, Block, Ctx, Diagnostics, PlanRequest, Private, Resource, Schema};

pub struct EniConfig;

const ENI_CONF: &str = "eni_conf";
const CNI_CONF: &str = "10-terway.conf";
/// Private-state flag: this resource created the ConfigMap, so destroy may delete it when empty.
const CREATED: &str = "created_configmap";

/// The resource's state. Field names are the attribute names; `Option` fields are null when the
/// key is absent from the ConfigMap (Terway then applies its own default).
#[derive(Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
struct Model {
    id: Option<String>,
    cluster_id: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
    version: Option<String>,
    max_pool_size: Option<i64>,
    min_pool_size: Option<i64>,
    min_eni: Option<i64>,
    max_eni: Option<i64>,
    vswitches: Option<BTreeMap<String, Vec<String>>>,
    eni_tags: Option<BTreeMap<String, String>>,
    service_cidr: Option<String>,
    security_group: Option<String>,
    security_groups: Option<Vec<String>>,
    vswitch_selection_policy: Option<String>,
    eni_selection_policy: Option<String>,
    ip_stack: Option<String>,
    ipam_type: Option<String>,
    eni_cap_ratio: Option<f64>,
    enable_eni_trunking: Option<bool>,
    enable_erdma: Option<bool>,
    access_key: Option<String>,
    access_secret: Option<String>,
    credential_path: Option<String>,
    cni_version: Option<String>,
    cni_name: Option<String>,
    cni_type: Option<String>,
    ipvlan: Option<bool>,
}

/// `eni_conf` keys that are modelled, with the attribute each maps to (same name).
const ENI_KEYS: &[&str] = &[
    "version",
    "max_pool_size",
    "min_pool_size",
    "min_eni",
    "max_eni",
    "vswitches",
    "eni_tags",
    "service_cidr",
    "security_group",
    "security_groups",
    "vswitch_selection_policy",
    "eni_selection_policy",
    "ip_stack",
    "ipam_type",
    "eni_cap_ratio",
    "enable_eni_trunking",
    "enable_erdma",
    "access_key",
    "access_secret",
    "credential_path",
];

impl Model {
    fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or("kube-system")
    }
    fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("eni-config")
    }
    fn path(&self) -> String {
        ResourceType::CONFIGMAPS.object(Some(self.namespace()), self.name())
    }

    /// The modelled `eni_conf` keys as JSON (null for unset attributes).
    fn eni_values(&self) -> Map<String, Json> {
        let all = serde_json::to_value(self).unwrap_or_default();
        ENI_KEYS.iter().map(|k| (k.to_string(), all.get(*k).cloned().unwrap_or(Json::Null))).collect()
    }

    /// `eni_conf` with our keys set over `base` (keys we do not model are kept; unset ones removed).
    fn eni_conf(&self, base: Option<&str>) -> String {
        let mut doc = parse_object(base);
        for (k, v) in self.eni_values() {
            if v.is_null() {
                doc.remove(&k);
            } else {
                doc.insert(k, v);
            }
        }
        pretty(doc)
    }

    /// `10-terway.conf` with our keys set over `base`.
    fn cni_conf(&self, base: Option<&str>) -> String {
        let mut doc = parse_object(base);
        let mut set = |k: &str, v: &Option<String>| match v {
            Some(v) => doc.insert(k.to_string(), Json::String(v.clone())),
            None => doc.remove(k),
        };
        set("cniVersion", &self.cni_version);
        set("name", &self.cni_name);
        set("type", &self.cni_type);
        if self.ipvlan == Some(true) {
            doc.insert("eniip_virtual_type".into(), json!("IPVLAN"));
        } else {
            doc.remove("eniip_virtual_type");
        }
        pretty(doc)
    }

    /// The state as found in a ConfigMap's data; `None` when it holds no `eni_conf`.
    fn from_data(namespace: &str, name: &str, data: &Map<String, Json>) -> Option<Model> {
        let eni: Json = serde_json::from_str(data.get(ENI_CONF)?.as_str()?).unwrap_or(Json::Null);
        let cni: Json =
            data.get(CNI_CONF).and_then(Json::as_str).and_then(|s| serde_json::from_str(s).ok()).unwrap_or(Json::Null);
        let mut fields = Map::new();
        for k in ENI_KEYS {
            if let Some(v) = eni.get(*k) {
                fields.insert(k.to_string(), v.clone());
            }
        }
        // A field of the wrong JSON type (e.g. a number written as a string by hand) reads as a
        // difference to be repaired rather than as an error.
        let mut m: Model = serde_json::from_value(Json::Object(fields.clone())).unwrap_or_else(|_| {
            let mut m = Model::default();
            for (k, v) in fields {
                let single = serde_json::from_value::<Model>(json!({ k: v })).unwrap_or_default();
                m = m.merge(single);
            }
            m
        });
        let text = |k: &str| cni.get(k).and_then(Json::as_str).map(str::to_string);
        m.cni_version = text("cniVersion");
        m.cni_name = text("name");
        m.cni_type = text("type");
        m.ipvlan = Some(
            cni.get("eniip_virtual_type").and_then(Json::as_str).is_some_and(|t| t.eq_ignore_ascii_case("ipvlan")),
        );
        m.namespace = Some(namespace.to_string());
        m.name = Some(name.to_string());
        m.id = Some(format!("{namespace}/{name}"));
        Some(m)
    }

    /// Fields of `other` that are set win.
    fn merge(self, other: Model) -> Model {
        let mut a = serde_json::to_value(self).unwrap_or_default();
        if let (Some(a), Json::Object(b)) = (a.as_object_mut(), serde_json::to_value(other).unwrap_or_default()) {
            for (k, v) in b {
                if !v.is_null() {
                    a.insert(k, v);
                }
            }
        }
        serde_json::from_value(a).unwrap_or_default()
    }
}

fn parse_object(text: Option<&str>) -> Map<String, Json> {
    text.and_then(|t| serde_json::from_str::<Json>(t).ok())
        .and_then(|j| if let Json::Object(m) = j { Some(m) } else { None })
        .unwrap_or_default()
}

fn pretty(doc: Map<String, Json>) -> String {
    serde_json::to_string_pretty(&Json::Object(doc)).unwrap_or_default()
}

fn string_attr(name: &str, description: &str) -> Attribute {
    Attribute::string(name).optional().description(description)
}

fn number_attr(name: &str, description: &str) -> Attribute {
    Attribute::number(name).optional().description(description).validate(IntBetween(0, 10_000))
}

/// Zone IDs look like `cn-hangzhou-h`: lowercase words joined by dashes.
fn check_zone(zone: &str) -> bool {
    let parts: Vec<&str> = zone.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
}

/// Checks `service_cidr` against `ip_stack`: one CIDR of the stack's family, or one of each for
/// dual stack (comma-separated, as Terway reads it).
fn check_service_cidr(cidr: &str, ip_stack: Option<&str>) -> Result<(), String> {
    let mut nets = Vec::new();
    for part in cidr.split(',') {
        let part = part.trim();
        let net: IpNet = part.parse().map_err(|_| format!("{part:?} is not a CIDR block (e.g. 192.168.0.0/16)"))?;
        if net.trunc() != net {
            return Err(format!("{part:?} has host bits set; the network is {}", net.trunc()));
        }
        nets.push(net);
    }
    let v4 = nets.iter().filter(|n| matches!(n, IpNet::V4(_))).count();
    let v6 = nets.len() - v4;
    match ip_stack.unwrap_or("ipv4") {
        "ipv4" if v4 == 1 && v6 == 0 => Ok(()),
        "ipv6" if v6 == 1 && v4 == 0 => Ok(()),
        "dual" if v4 == 1 && v6 == 1 => Ok(()),
        "ipv4" => Err("ip_stack \"ipv4\" needs exactly one IPv4 CIDR".into()),
        "ipv6" => Err("ip_stack \"ipv6\" needs exactly one IPv6 CIDR".into()),
        "dual" => Err("ip_stack \"dual\" needs one IPv4 and one IPv6 CIDR, comma-separated".into()),
        _ => Ok(()), // an invalid ip_stack is reported on that attribute
    }
}

fn known_str<'a>(config: &'a Value, attr: &str) -> Option<&'a str> {
    config.get(attr).and_then(Value::as_str)
}

fn is_set(config: &Value, attr: &str) -> bool {
    config.get(attr).is_some_and(|v| !v.is_null())
}

async fn client(ctx: &Ctx, diags: &mut Diagnostics) -> Option<Kube> {
    kubernetes::from_ctx(ctx).await.map_err(|d| diags.extend(d)).ok()
}

fn kube_error(diags: &mut Diagnostics, summary: &str, e: KubeError) {
    diags.extend(e.to_diagnostics(summary));
}

/// Writes our keys into the ConfigMap, creating it when absent. Returns whether it was created.
/// Existing ConfigMaps are updated with optimistic concurrency, so a concurrent edit of another key
/// (or of an unmodelled `eni_conf` key) is never lost.
async fn write(kube: &Kube, m: &Model) -> Result<bool, KubeError> {
    let path = m.path();
    let updated = kube
        .read_modify_write(&path, |cm| {
            let data = cm.get("data").and_then(Json::as_object);
            let text = |k: &str| data.and_then(|d| d.get(k)).and_then(Json::as_str);
            let eni = m.eni_conf(text(ENI_CONF));
            let cni = m.cni_conf(text(CNI_CONF));
            // Unchanged documents (semantically) are left as they are: no write, no new resourceVersion.
            let same = |k: &str, new: &str| {
                text(k).and_then(|t| serde_json::from_str::<Json>(t).ok()) == serde_json::from_str::<Json>(new).ok()
            };
            if same(ENI_CONF, &eni) && same(CNI_CONF, &cni) {
                return Ok(None);
            }
            let mut next = cm.clone();
            let data = next.as_object_mut().map(|o| o.entry("data").or_insert_with(|| json!({}))).and_then(|d| {
                if !d.is_object() {
                    *d = json!({});
                }
                d.as_object_mut()
            });
            if let Some(data) = data {
                data.insert(ENI_CONF.into(), Json::String(eni));
                data.insert(CNI_CONF.into(), Json::String(cni));
            }
            Ok(Some(next))
        })
        .await?;
    if updated.is_some() {
        return Ok(false);
    }
    let body = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": { "name": m.name(), "namespace": m.namespace() },
        "data": { ENI_CONF: m.eni_conf(None), CNI_CONF: m.cni_conf(None) },
    });
    kube.apply::<Json>(&path, &body, true).await?;
    Ok(true)
}

impl EniConfig {
    fn decode(v: &Value, diags: &mut Diagnostics) -> Option<Model> {
        model::decode(v).map_err(|d| diags.extend(d)).ok()
    }

    fn encode(&self, m: &Model, diags: &mut Diagnostics) -> Option<Value> {
        model::encode(m, &self.schema().value_type()).map_err(|d| diags.extend(d)).ok()
    }

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
        let Ok(m) = model::decode::<Model>(cfg) else { return };
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

    async fn read_model(&self, kube: &Kube, namespace: &str, name: &str) -> Result<Option<Model>, KubeError> {
        let path = ResourceType::CONFIGMAPS.object(Some(namespace), name);
        let cm: Option<Json> = kube.get(&path).await?;
        Ok(cm
            .and_then(|cm| cm.get("data").and_then(Json::as_object).and_then(|d| Model::from_data(namespace, name, d))))
    }
}

#[async_trait]
impl Resource for EniConfig {
    fn type_name(&self) -> &'static str {
        "hybrid_eni_config"
    }

    fn schema(&self) -> Schema {
        let ids = |prefix: &'static str| IdWithPrefix(prefix);
        Schema::new(
            0,
            Block::new(
                "The Terway configuration of a registered cluster: the `eni_conf` and `10-terway.conf` documents of \
                 the ConfigMap `kube-system/eni-config`. Attributes are named as the `eni_conf` keys Terway reads; \
                 an unset optional attribute leaves its key out, so Terway applies its own default. Keys this \
                 resource does not model, in either document or elsewhere in the ConfigMap, are kept as found. \
                 Drift is detected per attribute, and JSON formatting alone never causes a diff.",
            )
            .attr(
                Attribute::string("id")
                    .computed()
                    .use_state_for_unknown()
                    .description("`namespace/name` of the ConfigMap."),
            )
            .attr(Attribute::string("cluster_id").optional().description(
                "ID of the registered cluster. With it (and Alibaba Cloud credentials), plans check that the vSwitches \
                 and security groups are in the cluster's VPC; without it, that they share one VPC. Not written to the \
                 ConfigMap.",
            ))
            .attr(
                Attribute::string("namespace")
                    .optional()
                    .computed()
                    .default("kube-system")
                    .requires_replace()
                    .description("Namespace of the ConfigMap."),
            )
            .attr(
                Attribute::string("name")
                    .optional()
                    .computed()
                    .default("eni-config")
                    .requires_replace()
                    .description("Name of the ConfigMap."),
            )
            .attr(
                Attribute::string("version")
                    .optional()
                    .computed()
                    .default("1")
                    .description("`eni_conf` format version."),
            )
            .attr(
                Attribute::number("max_pool_size")
                    .optional()
                    .computed()
                    .default(Value::from(5i64))
                    .validate(IntBetween(0, 10_000))
                    .description("Most idle IPs kept in the pool per node."),
            )
            .attr(
                Attribute::number("min_pool_size")
                    .optional()
                    .computed()
                    .default(Value::from(0i64))
                    .validate(IntBetween(0, 10_000))
                    .description("Fewest idle IPs kept in the pool per node. At most `max_pool_size`."),
            )
            .attr(number_attr("min_eni", "Fewest ENIs per node."))
            .attr(number_attr("max_eni", "Most ENIs per node."))
            .attr(Attribute::new("vswitches", Type::map(Type::list(Type::String))).required().description(
                "vSwitch IDs (`vsw-...`) for pod IPs, by zone ID (e.g. `cn-hangzhou-h`); each list non-empty.",
            ))
            .attr(
                Attribute::new("eni_tags", Type::map(Type::String))
                    .optional()
                    .description("Tags Terway puts on the ENIs it creates."),
            )
            .attr(
                Attribute::string("service_cidr").required().description(
                    "Service CIDR of the cluster; for dual stack an IPv4 and an IPv6 CIDR, comma-separated.",
                ),
            )
            .attr(string_attr("security_group", "Security group (`sg-...`) of the ENIs.").validate(ids("sg-")))
            .attr(
                Attribute::new("security_groups", Type::list(Type::String))
                    .optional()
                    .description("Security groups (`sg-...`) of the ENIs, when more than one.")
                    .validate(ids("sg-")),
            )
            .attr(
                string_attr(
                    "vswitch_selection_policy",
                    "How Terway picks a vSwitch of a zone (Terway's default: `random`).",
                )
                .validate(OneOf(&["ordered", "random", "most"])),
            )
            .attr(
                string_attr(
                    "eni_selection_policy",
                    "How Terway picks an ENI for a new IP (Terway's default: `most_ips`).",
                )
                .validate(OneOf(&["most_ips", "least_ips"])),
            )
            .attr(
                string_attr("ip_stack", "IP families of pods (Terway's default: `ipv4`).")
                    .validate(OneOf(&["ipv4", "ipv6", "dual"])),
            )
            .attr(
                string_attr("ipam_type", "IPAM mode (`crd` for the centralised IPAM).")
                    .validate(OneOf(&["crd", "default"])),
            )
            .attr(
                Attribute::number("eni_cap_ratio")
                    .optional()
                    .description("Share of the ENI quota Terway may use (0 to 1]."),
            )
            .attr(Attribute::bool("enable_eni_trunking").optional().description("Enable Trunk ENI."))
            .attr(Attribute::bool("enable_erdma").optional().description("Enable elastic RDMA."))
            .attr(string_attr(
                "access_key",
                "AccessKey ID Terway uses. Prefer the Secret written by `hybrid_ram_grant`; set with `access_secret`.",
            ))
            .attr(
                Attribute::string("access_secret")
                    .optional()
                    .sensitive()
                    .description("AccessKey secret Terway uses. Never shown in plans or logs."),
            )
            .attr(string_attr("credential_path", "Path of a credentials file on the node, instead of `access_key`."))
            .attr(
                Attribute::string("cni_version")
                    .optional()
                    .computed()
                    .default("0.3.0")
                    .description("`cniVersion` of `10-terway.conf`."),
            )
            .attr(
                Attribute::string("cni_name")
                    .optional()
                    .computed()
                    .default("terway")
                    .description("`name` of `10-terway.conf`."),
            )
            .attr(
                Attribute::string("cni_type")
                    .optional()
                    .computed()
                    .default("terway")
                    .description("`type` of `10-terway.conf`."),
            )
            .attr(
                Attribute::bool("ipvlan")
                    .optional()
                    .computed()
                    .default(false)
                    .description("Use IPVLAN for pod networking (`eniip_virtual_type: IPVLAN` in `10-terway.conf`)."),
            ),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let int = |a: &str| config.get(a).and_then(Value::as_i64);
        if let (Some(min), Some(max)) = (int("min_pool_size"), int("max_pool_size")) {
            if min > max {
                diags.error_at(
                    AttrPath::attr("min_pool_size"),
                    "min_pool_size exceeds max_pool_size",
                    format!("min_pool_size ({min}) must not be greater than max_pool_size ({max})."),
                );
            }
        }
        if let (Some(min), Some(max)) = (int("min_eni"), int("max_eni")) {
            if min > max {
                diags.error_at(
                    AttrPath::attr("min_eni"),
                    "min_eni exceeds max_eni",
                    format!("min_eni ({min}) must not be greater than max_eni ({max})."),
                );
            }
        }
        if let Some(ratio) = config.get("eni_cap_ratio").and_then(Value::as_f64) {
            if !(ratio > 0.0 && ratio <= 1.0) {
                diags.error_at(
                    AttrPath::attr("eni_cap_ratio"),
                    "Invalid eni_cap_ratio",
                    "Must be greater than 0 and at most 1.",
                );
            }
        }
        if let Some(zones) = config.get("vswitches").and_then(Value::as_map) {
            if zones.is_empty() {
                diags.error_at(
                    AttrPath::attr("vswitches"),
                    "No vSwitches",
                    "Give at least one zone with its vSwitch IDs.",
                );
            }
            let vsw = IdWithPrefix("vsw-");
            for (zone, list) in zones {
                let at = AttrPath::attr("vswitches").then_key(zone);
                if !check_zone(zone) {
                    diags.error_at(
                        at.clone(),
                        "Invalid zone ID",
                        format!("{zone:?} is not a zone ID like \"cn-hangzhou-h\"."),
                    );
                }
                match list.as_seq() {
                    Some([]) => {
                        diags.error_at(at, "No vSwitches for the zone", format!("Zone {zone} has an empty list."))
                    }
                    Some(items) => {
                        for (i, v) in items.iter().enumerate() {
                            if let Some(s) = v.as_str() {
                                if !vsw.check(s) {
                                    diags.error_at(
                                        at.then_index(i),
                                        "Invalid vSwitch ID",
                                        format!("{s:?} is not a vSwitch ID (\"vsw-\" followed by lowercase letters and digits)."),
                                    );
                                }
                            }
                        }
                    }
                    None => {}
                }
            }
        }
        if let Some(cidr) = known_str(config, "service_cidr") {
            let stack = config.get("ip_stack");
            if !stack.is_some_and(Value::is_unknown) {
                if let Err(e) = check_service_cidr(cidr, stack.and_then(Value::as_str)) {
                    diags.error_at(AttrPath::attr("service_cidr"), "Invalid service CIDR", e);
                }
            }
        }
        let unknown = |a: &str| config.get(a).is_some_and(Value::is_unknown);
        if !is_set(config, "security_group") && !is_set(config, "security_groups") {
            diags.error_at(
                AttrPath::attr("security_group"),
                "Missing security group",
                "Set security_group (or security_groups): Terway needs a security group for the ENIs it creates.",
            );
        }
        if is_set(config, "access_key") != is_set(config, "access_secret")
            && !unknown("access_key")
            && !unknown("access_secret")
        {
            let missing = if is_set(config, "access_key") { "access_secret" } else { "access_key" };
            diags.error_at(
                AttrPath::attr(missing),
                "Incomplete credentials",
                "access_key and access_secret are set together (or both left out to use credential_path or the addon Secret).",
            );
        }
        if is_set(config, "credential_path") && is_set(config, "access_key") {
            diags.error_at(
                AttrPath::attr("credential_path"),
                "Conflicting credentials",
                "Set either credential_path or access_key/access_secret, not both.",
            );
        }
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
        let mut m = Self::decode(planned, diags)?;
        let kube = client(ctx, diags).await?;
        match write(&kube, &m).await {
            Ok(created) => private.set(CREATED, created),
            Err(e) => {
                kube_error(diags, &format!("Could not write ConfigMap {}/{}", m.namespace(), m.name()), e);
                return None;
            }
        }
        m.id = Some(format!("{}/{}", m.namespace(), m.name()));
        self.encode(&m, diags)
    }

    async fn read(&self, ctx: &Ctx, state: &Value, _private: &mut Private, diags: &mut Diagnostics) -> Option<Value> {
        let m = Self::decode(state, diags)?;
        let kube = client(ctx, diags).await?;
        match self.read_model(&kube, m.namespace(), m.name()).await {
            Ok(Some(found)) => self.encode(&Model { cluster_id: m.cluster_id.clone(), ..found }, diags),
            Ok(None) => None,
            Err(e) => {
                kube_error(diags, &format!("Could not read ConfigMap {}/{}", m.namespace(), m.name()), e);
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
        let m = Self::decode(planned, diags)?;
        let kube = client(ctx, diags).await?;
        match write(&kube, &m).await {
            Ok(true) => private.set(CREATED, true),
            Ok(false) => {}
            Err(e) => {
                kube_error(diags, &format!("Could not update ConfigMap {}/{}", m.namespace(), m.name()), e);
                return Some(prior.clone());
            }
        }
        self.encode(&m, diags)
    }

    async fn delete(&self, ctx: &Ctx, prior: &Value, private: &Private, diags: &mut Diagnostics) {
        let Some(m) = Self::decode(prior, diags) else { return };
        let Some(kube) = client(ctx, diags).await else { return };
        let path = m.path();
        let created = private.0.get(CREATED).and_then(Json::as_bool).unwrap_or(false);
        let result = kube
            .read_modify_write(&path, |cm| {
                let mut next = cm.clone();
                if let Some(data) = next.get_mut("data").and_then(Json::as_object_mut) {
                    data.remove(ENI_CONF);
                    data.remove(CNI_CONF);
                }
                Ok(Some(next))
            })
            .await;
        let remaining = match result {
            Ok(Some(cm)) => {
                cm.get("data").and_then(Json::as_object).map_or(0, |d| d.len())
                    + cm.get("binaryData").and_then(Json::as_object).map_or(0, |d| d.len())
            }
            Ok(None) => return,
            Err(e) => {
                return kube_error(
                    diags,
                    &format!("Could not remove the Terway keys from {}/{}", m.namespace(), m.name()),
                    e,
                )
            }
        };
        if created && remaining == 0 {
            if let Err(e) = kube.delete(&path, None).await {
                kube_error(diags, &format!("Could not delete ConfigMap {}/{}", m.namespace(), m.name()), e);
            }
        }
    }

    async fn import(&self, _ctx: &Ctx, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        let Some((ns, name)) = id.split_once('/').filter(|(a, b)| !a.is_empty() && !b.is_empty() && !b.contains('/'))
        else {
            diags.error(
                "Invalid import ID",
                format!("{id:?} is not `namespace/name` of a ConfigMap, e.g. `kube-system/eni-config`."),
            );
            return None;
        };
        let m = Model {
            id: Some(id.to_string()),
            namespace: Some(ns.to_string()),
            name: Some(name.to_string()),
            ..Default::default()
        };
        self.encode(&m, diags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_model() -> Model {
        Model {
            version: Some("1".into()),
            max_pool_size: Some(5),
            min_pool_size: Some(0),
            vswitches: Some([("cn-hangzhou-h".to_string(), vec!["vsw-abc".to_string()])].into()),
            service_cidr: Some("172.21.0.0/20".into()),
            security_group: Some("sg-123".into()),
            vswitch_selection_policy: Some("ordered".into()),
            cni_version: Some("0.3.0".into()),
            cni_name: Some("terway".into()),
            cni_type: Some("terway".into()),
            ipvlan: Some(false),
            ..Default::default()
        }
    }

    #[test]
    fn documents_keep_unmodelled_keys_and_drop_unset_ones() {
        let m = seed_model();
        let eni: Json =
            serde_json::from_str(&m.eni_conf(Some(r#"{"custom":1,"min_eni":3,"max_pool_size":9}"#))).unwrap();
        assert_eq!(eni["custom"], 1, "unmodelled key kept");
        assert!(eni.get("min_eni").is_none(), "unset modelled key removed");
        assert_eq!(eni["max_pool_size"], 5);
        assert_eq!(eni["vswitches"]["cn-hangzhou-h"][0], "vsw-abc");
        let cni: Json = serde_json::from_str(&m.cni_conf(Some(r#"{"capabilities":{"bandwidth":true}}"#))).unwrap();
        assert_eq!(cni["cniVersion"], "0.3.0");
        assert_eq!(cni["capabilities"]["bandwidth"], true);
        assert!(cni.get("eniip_virtual_type").is_none());
    }

    #[test]
    fn reading_back_is_independent_of_formatting() {
        let m = seed_model();
        let compact = serde_json::to_string(&serde_json::from_str::<Json>(&m.eni_conf(None)).unwrap()).unwrap();
        let data = json!({ ENI_CONF: compact, CNI_CONF: "{ \"type\" : \"terway\", \"name\":\"terway\",\"cniVersion\":\"0.3.0\"}" });
        let found = Model::from_data("kube-system", "eni-config", data.as_object().unwrap()).unwrap();
        let expected = Model {
            id: Some("kube-system/eni-config".into()),
            namespace: Some("kube-system".into()),
            name: Some("eni-config".into()),
            ..m
        };
        assert_eq!(found, expected);
    }

    #[test]
    fn a_mistyped_key_reads_as_a_difference_not_an_error() {
        let data = json!({ ENI_CONF: r#"{"max_pool_size":"5","min_pool_size":0,"service_cidr":"10.0.0.0/16"}"# });
        let found = Model::from_data("ns", "n", data.as_object().unwrap()).unwrap();
        assert_eq!(found.max_pool_size, None);
        assert_eq!(found.min_pool_size, Some(0));
        assert_eq!(found.service_cidr.as_deref(), Some("10.0.0.0/16"));
    }

    #[test]
    fn service_cidr_follows_the_ip_stack() {
        assert!(check_service_cidr("172.21.0.0/20", None).is_ok());
        assert!(check_service_cidr("172.21.0.0/20,fd00::/112", Some("dual")).is_ok());
        assert!(check_service_cidr("fd00::/112", Some("ipv6")).is_ok());
        assert!(check_service_cidr("fd00::/112", Some("ipv4")).unwrap_err().contains("IPv4"));
        assert!(check_service_cidr("172.21.0.0/20", Some("dual")).unwrap_err().contains("dual"));
        assert!(check_service_cidr("172.21.0.1/20", None).unwrap_err().contains("host bits"));
        assert!(check_service_cidr("300.0.0.0/8", None).unwrap_err().contains("not a CIDR"));
    }

    #[test]
    fn validation_names_the_attribute() {
        let cfg = Value::Object(
            [
                ("min_pool_size".to_string(), Value::from(6i64)),
                ("max_pool_size".to_string(), Value::from(5i64)),
                ("service_cidr".to_string(), Value::string("10.0.0.0/33")),
                (
                    "vswitches".to_string(),
                    Value::Map([("cn-hangzhou-h".to_string(), Value::List(vec![Value::string("vpc-1")]))].into()),
                ),
                ("security_group".to_string(), Value::string("sg-1")),
            ]
            .into(),
        );
        let mut diags = Diagnostics::new();
        EniConfig.validate(&cfg, &mut diags);
        let paths: Vec<String> = diags.iter().map(|d| format!("{:?}", d.path)).collect();
        assert_eq!(diags.iter().count(), 3, "{paths:?}");
        assert!(paths.iter().any(|p| p.contains("min_pool_size")), "{paths:?}");
        assert!(paths.iter().any(|p| p.contains("service_cidr")), "{paths:?}");
        assert!(paths.iter().any(|p| p.contains("cn-hangzhou-h")), "{paths:?}");
    }
}

//! The resource's typed state and how it maps to the two JSON documents of the ConfigMap.
//!
//! Writing sets our keys over the document found (keys we do not model are kept); reading parses
//! the documents back, so key order and spacing never matter while a changed value does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

use crate::clients::kubernetes::ResourceType;

/// ConfigMap key of the daemon configuration.
pub const ENI_CONF: &str = "eni_conf";
/// ConfigMap key of the CNI configuration.
pub const CNI_CONF: &str = "10-terway.conf";
/// `10-terway.conf` key that selects IPVLAN, and its value.
const VIRTUAL_TYPE: &str = "eniip_virtual_type";
const IPVLAN: &str = "IPVLAN";

/// The resource's state. Field names are the attribute names; `Option` fields are null when the
/// key is absent from the ConfigMap (Terway then applies its own default).
#[derive(Serialize, Deserialize, Default, Clone, PartialEq)]
pub struct Model {
    pub id: Option<String>,
    pub cluster_id: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
    pub max_pool_size: Option<i64>,
    pub min_pool_size: Option<i64>,
    pub min_eni: Option<i64>,
    pub max_eni: Option<i64>,
    pub vswitches: Option<BTreeMap<String, Vec<String>>>,
    pub eni_tags: Option<BTreeMap<String, String>>,
    pub service_cidr: Option<String>,
    pub security_group: Option<String>,
    pub security_groups: Option<Vec<String>>,
    pub prefix: Option<String>,
    pub vswitch_selection_policy: Option<String>,
    pub eni_selection_policy: Option<String>,
    pub ip_stack: Option<String>,
    pub ipam_type: Option<String>,
    pub eni_cap_ratio: Option<f64>,
    pub eni_cap_shift: Option<i64>,
    pub enable_eni_trunking: Option<bool>,
    pub enable_erdma: Option<bool>,
    pub custom_stateful_workload_kinds: Option<Vec<String>>,
    pub access_key: Option<String>,
    pub access_secret: Option<String>,
    pub credential_path: Option<String>,
    pub cni_version: Option<String>,
    pub cni_name: Option<String>,
    pub cni_type: Option<String>,
    pub ipvlan: Option<bool>,
}

/// The secret stays out of test failure messages and any debug output.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut shown = serde_json::to_value(self).unwrap_or_default();
        if self.access_secret.is_some() {
            shown["access_secret"] = json!("<sensitive>");
        }
        write!(f, "Model({shown})")
    }
}

/// `eni_conf` keys that are modelled; each maps to the attribute of the same name.
pub const ENI_KEYS: &[&str] = &[
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
    "prefix",
    "vswitch_selection_policy",
    "eni_selection_policy",
    "ip_stack",
    "ipam_type",
    "eni_cap_ratio",
    "eni_cap_shift",
    "enable_eni_trunking",
    "enable_erdma",
    "custom_stateful_workload_kinds",
    "access_key",
    "access_secret",
    "credential_path",
];

impl Model {
    pub fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or("kube-system")
    }

    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("eni-config")
    }

    /// `namespace/name`, the resource ID and import ID.
    pub fn object_id(&self) -> String {
        format!("{}/{}", self.namespace(), self.name())
    }

    /// REST path of the ConfigMap.
    pub fn path(&self) -> String {
        ResourceType::CONFIGMAPS.object(Some(self.namespace()), self.name())
    }

    /// The modelled `eni_conf` keys as JSON (null for unset attributes).
    fn eni_values(&self) -> Map<String, Json> {
        let all = serde_json::to_value(self).unwrap_or_default();
        ENI_KEYS.iter().map(|k| (k.to_string(), all.get(*k).cloned().unwrap_or(Json::Null))).collect()
    }

    /// `eni_conf` with our keys set over `base` (keys we do not model are kept; unset ones removed).
    pub fn eni_conf(&self, base: Option<&str>) -> String {
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
    pub fn cni_conf(&self, base: Option<&str>) -> String {
        let mut doc = parse_object(base);
        let mut set = |k: &str, v: &Option<String>| match v {
            Some(v) => doc.insert(k.to_string(), Json::String(v.clone())),
            None => doc.remove(k),
        };
        set("cniVersion", &self.cni_version);
        set("name", &self.cni_name);
        set("type", &self.cni_type);
        if self.ipvlan == Some(true) {
            doc.insert(VIRTUAL_TYPE.into(), json!(IPVLAN));
        } else {
            doc.remove(VIRTUAL_TYPE);
        }
        pretty(doc)
    }

    /// The state as found in a ConfigMap's data; `None` when it holds no `eni_conf`.
    pub fn from_data(namespace: &str, name: &str, data: &Map<String, Json>) -> Option<Model> {
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
        // difference to be repaired rather than as an error: each field is decoded on its own.
        let mut m: Model = serde_json::from_value(Json::Object(fields.clone())).unwrap_or_else(|_| {
            fields.into_iter().fold(Model::default(), |m, (k, v)| {
                m.merge(serde_json::from_value::<Model>(json!({ k: v })).unwrap_or_default())
            })
        });
        let text = |k: &str| cni.get(k).and_then(Json::as_str).map(str::to_string);
        m.cni_version = text("cniVersion");
        m.cni_name = text("name");
        m.cni_type = text("type");
        m.ipvlan = Some(cni.get(VIRTUAL_TYPE).and_then(Json::as_str).is_some_and(|t| t.eq_ignore_ascii_case(IPVLAN)));
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

/// Whether two JSON documents say the same thing (formatting and key order aside). A document
/// that does not parse equals nothing.
pub fn same_json(a: Option<&str>, b: &str) -> bool {
    let parse = |t: &str| serde_json::from_str::<Json>(t).ok();
    matches!((a.and_then(parse), parse(b)), (Some(x), Some(y)) if x == y)
}

fn parse_object(text: Option<&str>) -> Map<String, Json> {
    text.and_then(|t| serde_json::from_str::<Json>(t).ok())
        .and_then(|j| if let Json::Object(m) = j { Some(m) } else { None })
        .unwrap_or_default()
}

fn pretty(doc: Map<String, Json>) -> String {
    serde_json::to_string_pretty(&Json::Object(doc)).unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The seed's example configuration.
    pub fn seed_model() -> Model {
        Model {
            version: Some("1".into()),
            max_pool_size: Some(5),
            min_pool_size: Some(0),
            vswitches: Some([("cn-hangzhou-h".to_string(), vec!["vsw-abc".to_string()])].into()),
            service_cidr: Some("172.21.0.0/20".into()),
            security_group: Some("sg-123".into()),
            vswitch_selection_policy: Some("ordered".into()),
            access_key: Some("LTAIkey".into()),
            access_secret: Some("s3cret-value".into()),
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
        assert_eq!(eni["access_secret"], "s3cret-value", "Terway reads the secret from here");
        let cni: Json = serde_json::from_str(&m.cni_conf(Some(r#"{"capabilities":{"bandwidth":true}}"#))).unwrap();
        assert_eq!(cni["cniVersion"], "0.3.0");
        assert_eq!(cni["capabilities"]["bandwidth"], true);
        assert!(cni.get("eniip_virtual_type").is_none());
        let ipvlan = Model { ipvlan: Some(true), ..m };
        let cni: Json = serde_json::from_str(&ipvlan.cni_conf(None)).unwrap();
        assert_eq!(cni["eniip_virtual_type"], "IPVLAN");
    }

    #[test]
    fn every_reference_key_round_trips() {
        let m = Model {
            min_eni: Some(1),
            max_eni: Some(4),
            eni_tags: Some([("k".to_string(), "v".to_string())].into()),
            security_groups: Some(vec!["sg-1".into(), "sg-2".into()]),
            prefix: Some("terway".into()),
            eni_selection_policy: Some("least_ips".into()),
            ip_stack: Some("ipv4".into()),
            ipam_type: Some("crd".into()),
            eni_cap_ratio: Some(0.5),
            eni_cap_shift: Some(2),
            enable_eni_trunking: Some(true),
            enable_erdma: Some(false),
            custom_stateful_workload_kinds: Some(vec!["CloneSet".into()]),
            credential_path: Some("/var/creds".into()),
            ipvlan: Some(true),
            ..seed_model()
        };
        let data = json!({ ENI_CONF: m.eni_conf(None), CNI_CONF: m.cni_conf(None) });
        let found = Model::from_data("ns", "n", data.as_object().unwrap()).unwrap();
        let expected =
            Model { id: Some("ns/n".into()), namespace: Some("ns".into()), name: Some("n".into()), ..m.clone() };
        assert_eq!(found, expected);
        let eni: Json = serde_json::from_str(&m.eni_conf(None)).unwrap();
        for k in ENI_KEYS {
            assert!(eni.get(*k).is_some(), "{k} not written");
        }
    }

    #[test]
    fn reading_back_is_independent_of_formatting() {
        let m = seed_model();
        let compact = serde_json::to_string(&serde_json::from_str::<Json>(&m.eni_conf(None)).unwrap()).unwrap();
        let cni = r#"{ "type" : "terway", "name":"terway","cniVersion":"0.3.0"}"#;
        let data = json!({ ENI_CONF: compact, CNI_CONF: cni });
        let found = Model::from_data("kube-system", "eni-config", data.as_object().unwrap()).unwrap();
        let expected = Model {
            id: Some("kube-system/eni-config".into()),
            namespace: Some("kube-system".into()),
            name: Some("eni-config".into()),
            ..m
        };
        assert_eq!(found, expected);
        assert!(same_json(Some("{\"a\": 1, \"b\": [1,2]}"), "{\"b\":[1,2],\"a\":1}"));
        assert!(!same_json(Some("{\"a\": 1}"), "{\"a\": 2}"));
        assert!(!same_json(Some("not json"), "not json"));
    }

    #[test]
    fn a_mistyped_key_reads_as_a_difference_not_an_error() {
        let data = json!({ ENI_CONF: r#"{"max_pool_size":"5","min_pool_size":0,"service_cidr":"10.0.0.0/16"}"# });
        let found = Model::from_data("ns", "n", data.as_object().unwrap()).unwrap();
        assert_eq!(found.max_pool_size, None);
        assert_eq!(found.min_pool_size, Some(0));
        assert_eq!(found.service_cidr.as_deref(), Some("10.0.0.0/16"));
        let broken = json!({ ENI_CONF: "{not json" });
        let found = Model::from_data("ns", "n", broken.as_object().unwrap()).unwrap();
        assert_eq!(found.max_pool_size, None, "unparsable eni_conf reads as empty, to be rewritten");
        assert!(Model::from_data("ns", "n", json!({"other": "x"}).as_object().unwrap()).is_none());
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let shown = format!("{:?}", seed_model());
        assert!(!shown.contains("s3cret-value") && shown.contains("<sensitive>"), "{shown}");
    }
}

//! The schema of `hybrid_eni_config`. `eni_conf` attributes carry the names of the keys Terway
//! reads; the `10-terway.conf` settings are `cni_version`, `cni_name`, `cni_type` and `ipvlan`.
//! Defaults are Terway's own (`vswitch_selection_policy` random, `eni_selection_policy` most_ips,
//! `ip_stack` ipv4, `eni_cap_ratio` 1) and the seed's (`version` "1", pool sizes 5/0, `cniVersion`
//! "0.3.0", name and type "terway"), written out so the plan shows what Terway will do; optional
//! keys without a documented default stay out of the JSON, so the daemon applies its own.

use crate::cty::{Type, Value};
use crate::framework::validators::{IdWithPrefix, IntBetween, OneOf};
use crate::framework::{Attribute, Block, Schema};

fn string_attr(name: &str, description: &str) -> Attribute {
    Attribute::string(name).optional().description(description)
}

fn count_attr(name: &str, description: &str) -> Attribute {
    Attribute::number(name).optional().description(description).validate(IntBetween(0, 10_000))
}

/// An optional+computed attribute with a default written to the ConfigMap.
fn with_default(attr: Attribute, default: impl Into<Value>) -> Attribute {
    attr.optional().computed().default(default.into())
}

fn identity() -> Vec<Attribute> {
    vec![
        Attribute::string("id").computed().use_state_for_unknown().description("`namespace/name` of the ConfigMap."),
        Attribute::string("cluster_id").optional().description(
            "ID of the registered cluster. With it (and Alibaba Cloud credentials), plans check that the vSwitches \
             and security groups are in the cluster's VPC; without it, that they share one VPC. Not written to the \
             ConfigMap.",
        ),
        with_default(Attribute::string("namespace"), "kube-system")
            .requires_replace()
            .description("Namespace of the ConfigMap."),
        with_default(Attribute::string("name"), "eni-config").requires_replace().description("Name of the ConfigMap."),
    ]
}

fn pool_and_network() -> Vec<Attribute> {
    let sg = || IdWithPrefix("sg-");
    vec![
        with_default(Attribute::string("version"), "1").description("`eni_conf` format version."),
        with_default(Attribute::number("max_pool_size"), 5i64)
            .validate(IntBetween(0, 10_000))
            .description("Most idle IPs kept in the pool per node."),
        with_default(Attribute::number("min_pool_size"), 0i64)
            .validate(IntBetween(0, 10_000))
            .description("Fewest idle IPs kept in the pool per node. At most `max_pool_size`."),
        count_attr("min_eni", "Fewest ENIs per node. At most `max_eni`."),
        count_attr("max_eni", "Most ENIs per node."),
        Attribute::new("vswitches", Type::map(Type::list(Type::String))).required().description(
            "vSwitch IDs (`vsw-...`) for pod IPs, by zone ID (e.g. `cn-hangzhou-h`); each list non-empty.",
        ),
        Attribute::new("eni_tags", Type::map(Type::String))
            .optional()
            .description("Tags Terway puts on the ENIs it creates."),
        Attribute::string("service_cidr")
            .required()
            .description("Service CIDR of the cluster; for dual stack an IPv4 and an IPv6 CIDR, comma-separated."),
        string_attr("security_group", "Security group (`sg-...`) of the ENIs.").validate(sg()),
        Attribute::new("security_groups", Type::list(Type::String))
            .optional()
            .description("Security groups (`sg-...`) of the ENIs, when more than one.")
            .validate(sg()),
        string_attr("prefix", "Prefix of the names of the ENIs Terway creates."),
        with_default(Attribute::string("vswitch_selection_policy"), "random")
            .validate(OneOf(&["ordered", "random", "most"]))
            .description("How Terway picks a vSwitch of a zone (the seed uses `ordered`)."),
        with_default(Attribute::string("eni_selection_policy"), "most_ips")
            .validate(OneOf(&["most_ips", "least_ips"]))
            .description("How Terway picks an ENI for a new IP."),
        with_default(Attribute::string("ip_stack"), "ipv4")
            .validate(OneOf(&["ipv4", "ipv6", "dual"]))
            .description("IP families of pods; `service_cidr` must match."),
        string_attr("ipam_type", "IPAM mode (`crd` for the centralised IPAM).").validate(OneOf(&["crd", "default"])),
        with_default(Attribute::number("eni_cap_ratio"), 1i64)
            .description("Share of the ENI quota Terway may use, in (0, 1]."),
        Attribute::number("eni_cap_shift")
            .optional()
            .validate(IntBetween(-100, 100))
            .description("ENIs added to (or, negative, taken from) the quota Terway may use."),
        Attribute::bool("enable_eni_trunking").optional().description("Enable Trunk ENI."),
        Attribute::bool("enable_erdma").optional().description("Enable elastic RDMA."),
        Attribute::new("custom_stateful_workload_kinds", Type::list(Type::String))
            .optional()
            .description("Workload kinds (besides StatefulSet) whose pods keep their IP, e.g. `CloneSet`."),
    ]
}

fn credentials() -> Vec<Attribute> {
    vec![
        string_attr(
            "access_key",
            "AccessKey ID Terway uses. Prefer the Secret written by `hybrid_ram_grant`; set with `access_secret`.",
        ),
        Attribute::string("access_secret").optional().sensitive().description(
            "AccessKey secret Terway uses. Sensitive: masked in plans, never logged; a change made in the ConfigMap \
             still shows as drift.",
        ),
        string_attr("credential_path", "Path of a credentials file on the node, instead of `access_key`."),
    ]
}

fn cni() -> Vec<Attribute> {
    vec![
        with_default(Attribute::string("cni_version"), "0.3.0").description("`cniVersion` of `10-terway.conf`."),
        with_default(Attribute::string("cni_name"), "terway").description("`name` of `10-terway.conf`."),
        with_default(Attribute::string("cni_type"), "terway").description("`type` of `10-terway.conf`."),
        with_default(Attribute::bool("ipvlan"), false)
            .description("Use IPVLAN for pod networking (`eniip_virtual_type: IPVLAN` in `10-terway.conf`)."),
    ]
}

pub fn schema() -> Schema {
    let block = Block::new(
        "The Terway configuration of a registered cluster: the `eni_conf` and `10-terway.conf` documents of the \
         ConfigMap `kube-system/eni-config`, written by server-side apply as `terraform-provider-hybrid` (an \
         existing ConfigMap is adopted). Attributes are named as the `eni_conf` keys Terway reads; defaults are \
         Terway's (or the seed's), and an unset optional attribute without one leaves its key out. Keys this \
         resource does not model, in either document or elsewhere in the ConfigMap, are kept as found. Drift is \
         detected per attribute, and JSON formatting alone never causes a diff. Destroy removes the two keys (and \
         the ConfigMap, when this resource created it and nothing else is left). Import with `namespace/name`.",
    );

    let attrs = identity().into_iter().chain(pool_and_network()).chain(credentials()).chain(cni());
    Schema::new(0, attrs.fold(block, Block::attr))
}

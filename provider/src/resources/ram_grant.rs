//! `hybrid_ram_grant`: the RAM user, Terway policy, attachment and AccessKey the `terway-eniip`
//! addon of a registered cluster uses, with the key pair in the Secret
//! `kube-system/alibaba-addon-secret` (`access-key-id`, `access-key-secret`).
//!
//! The AccessKey secret goes from the CreateAccessKey answer straight into the Secret: it is never
//! in Terraform state, plan, private state, logs or diagnostics. State keeps a one-way fingerprint
//! of it to notice a changed Secret. Every object created is in the returned state before the next
//! call can fail, so a failure half-way leaves nothing untracked.

use std::collections::BTreeMap;

use async_trait::async_trait;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

use crate::clients::alibaba::{self, Alibaba, CloudError, Retry, Service};
use crate::clients::kubernetes::{self, Kube, ResourceType};
use crate::cty::Value;
use crate::framework::validators::{NonEmpty, OneOf};
use crate::framework::{model, AttrPath, Attribute, Block, Ctx, Diagnostics, PlanRequest, Private, Resource, Schema};

pub struct RamGrant;

const DEFAULT_POLICY_NAME: &str = "ack-one-registered-cluster-policy-terway-eniip";
const ID_KEY: &str = "access-key-id";
const SECRET_KEY: &str = "access-key-secret";

/// What Terway's daemon calls, as ACK One grants it for `terway-eniip` (assembled from Terway's
/// ECS/VPC client calls; see ../shared/reference/alibaba-openapi.md). Users may replace it with
/// `policy_document`.
const ECS_ACTIONS: &[&str] = &[
    "CreateNetworkInterface",
    "DescribeNetworkInterfaces",
    "AttachNetworkInterface",
    "DetachNetworkInterface",
    "DeleteNetworkInterface",
    "AssignPrivateIpAddresses",
    "UnassignPrivateIpAddresses",
    "AssignIpv6Addresses",
    "UnassignIpv6Addresses",
    "DescribeInstances",
    "DescribeInstanceAttribute",
    "DescribeInstanceTypes",
    "CreateNetworkInterfacePermission",
    "DescribeNetworkInterfacePermissions",
    "DeleteNetworkInterfacePermission",
    "TagResources",
    "UntagResources",
];
const VPC_ACTIONS: &[&str] = &["DescribeVSwitches"];

/// The bundled Terway policy document.
pub fn terway_policy_document() -> String {
    let actions: Vec<String> =
        ECS_ACTIONS.iter().map(|a| format!("ecs:{a}")).chain(VPC_ACTIONS.iter().map(|a| format!("vpc:{a}"))).collect();
    json!({ "Version": "1", "Statement": [{ "Effect": "Allow", "Action": actions, "Resource": ["*"] }] }).to_string()
}

#[derive(Serialize, Deserialize, Default, Debug, Clone)]
struct Model {
    id: Option<String>,
    user_name: Option<String>,
    create_user: Option<bool>,
    display_name: Option<String>,
    policy_name: Option<String>,
    policy_type: Option<String>,
    policy_document: Option<String>,
    create_policy: Option<bool>,
    secret_namespace: Option<String>,
    secret_name: Option<String>,
    rotation: Option<String>,
    access_key_id: Option<String>,
    access_key_fingerprint: Option<String>,
    policy_attached: Option<bool>,
    access_key_status: Option<String>,
    secret_in_sync: Option<bool>,
}

impl Model {
    fn user(&self) -> &str {
        self.user_name.as_deref().unwrap_or_default()
    }
    fn policy(&self) -> &str {
        self.policy_name.as_deref().unwrap_or(DEFAULT_POLICY_NAME)
    }
    fn policy_type(&self) -> &str {
        self.policy_type.as_deref().unwrap_or("Custom")
    }
    fn owns_user(&self) -> bool {
        self.create_user != Some(false)
    }
    fn owns_policy(&self) -> bool {
        self.create_policy != Some(false) && self.policy_type() == "Custom"
    }
    fn document(&self) -> String {
        self.policy_document.clone().unwrap_or_else(terway_policy_document)
    }
    fn secret_path(&self) -> String {
        ResourceType::SECRETS.object(
            Some(self.secret_namespace.as_deref().unwrap_or("kube-system")),
            self.secret_name.as_deref().unwrap_or("alibaba-addon-secret"),
        )
    }
    fn secret_label(&self) -> String {
        format!(
            "{}/{}",
            self.secret_namespace.as_deref().unwrap_or("kube-system"),
            self.secret_name.as_deref().unwrap_or("alibaba-addon-secret")
        )
    }
}

/// One-way fingerprint of a key pair: enough to notice the Secret changed, useless to recover it.
fn fingerprint(key_id: &str, secret: &str) -> String {
    let digest = Sha256::digest(format!("{key_id}:{secret}").as_bytes());
    hex::encode(&digest[..8])
}

fn same_json(a: &str, b: &str) -> bool {
    matches!((serde_json::from_str::<Json>(a), serde_json::from_str::<Json>(b)), (Ok(x), Ok(y)) if x == y)
}

fn generated_user_name() -> String {
    format!("ack-one-user-{}", &hex::encode(rand::random::<[u8; 5]>()))
}

/// A key pair just created: the secret lives only here, on its way into the Secret.
struct NewKey {
    id: String,
    secret: String,
}

impl Drop for NewKey {
    fn drop(&mut self) {
        // Best effort: do not leave the secret lying around in freed memory longer than needed.
        self.secret.clear();
    }
}

async fn rpc(a: &Alibaba, action: &str, params: &[(&str, String)], retry: Retry) -> Result<Json, CloudError> {
    a.rpc(Service::Ram, action, params, retry).await
}

/// Whether an error leaves it unclear if the call took effect.
fn ambiguous(e: &CloudError) -> bool {
    e.status >= 500 || e.code == "Transport"
}

impl RamGrant {
    async fn user_exists(a: &Alibaba, user: &str) -> Result<bool, CloudError> {
        match rpc(a, "GetUser", &[("UserName", user.into())], Retry::Idempotent).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn get_policy(a: &Alibaba, m: &Model) -> Result<Option<Json>, CloudError> {
        let p = [("PolicyName", m.policy().to_string()), ("PolicyType", m.policy_type().to_string())];
        match rpc(a, "GetPolicy", &p, Retry::Idempotent).await {
            Ok(j) => Ok(Some(j)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn ensure_user(a: &Alibaba, m: &Model) -> Result<(), CloudError> {
        if !m.owns_user() {
            return match Self::user_exists(a, m.user()).await? {
                true => Ok(()),
                false => Err(CloudError::local(
                    "ram GetUser",
                    "EntityNotExist.User",
                    format!("user {} does not exist (create_user = false adopts an existing user)", m.user()),
                )),
            };
        }
        let mut params = vec![("UserName", m.user().to_string())];
        if let Some(d) = &m.display_name {
            params.push(("DisplayName", d.clone()));
        }
        let sent =
            a.send_checked(|| rpc(a, "CreateUser", &params, Retry::Never), || Self::user_exists(a, m.user())).await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) if e.is("EntityAlreadyExists.User") => Err(CloudError {
                message: format!("{} Set create_user = false to adopt the existing user, or import it.", e.message),
                ..e
            }),
            Err(e) => Err(e),
        }
    }

    async fn ensure_policy(a: &Alibaba, m: &Model) -> Result<(), CloudError> {
        if !m.owns_policy() {
            return match Self::get_policy(a, m).await? {
                Some(_) => Ok(()),
                None => Err(CloudError::local(
                    "ram GetPolicy",
                    "EntityNotExist.Policy",
                    format!("policy {} ({}) does not exist", m.policy(), m.policy_type()),
                )),
            };
        }
        let params = [
            ("PolicyName", m.policy().to_string()),
            ("PolicyDocument", m.document()),
            ("Description", "Terway (terway-eniip) on an ACK One registered cluster; managed by Terraform".to_string()),
        ];
        let sent = a
            .send_checked(
                || rpc(a, "CreatePolicy", &params, Retry::Never),
                || async { Ok(Self::get_policy(a, m).await?.is_some()) },
            )
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) if e.is("EntityAlreadyExists.Policy") => Err(CloudError {
                message: format!("{} Set create_policy = false to use the existing policy.", e.message),
                ..e
            }),
            Err(e) => Err(e),
        }
    }

    async fn attach(a: &Alibaba, m: &Model) -> Result<(), CloudError> {
        let params = [
            ("PolicyType", m.policy_type().to_string()),
            ("PolicyName", m.policy().to_string()),
            ("UserName", m.user().to_string()),
        ];
        // Attaching twice answers EntityAlreadyExists.User.Policy, so a repeat is harmless.
        match rpc(a, "AttachPolicyToUser", &params, Retry::Idempotent).await {
            Ok(_) => Ok(()),
            Err(e) if e.is("EntityAlreadyExists.User.Policy") => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn list_keys(a: &Alibaba, user: &str) -> Result<BTreeMap<String, String>, CloudError> {
        let r = rpc(a, "ListAccessKeys", &[("UserName", user.into())], Retry::Idempotent).await?;
        Ok(r["AccessKeys"]["AccessKey"]
            .as_array()
            .map(|ks| {
                ks.iter()
                    .filter_map(|k| {
                        Some((
                            k["AccessKeyId"].as_str()?.to_string(),
                            k["Status"].as_str().unwrap_or("Active").to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Creates a key. A lost answer may have created one whose secret we never saw: such a key is
    /// deleted (it is useless, and would count against the two-key limit) before trying again.
    async fn create_key(a: &Alibaba, user: &str) -> Result<NewKey, CloudError> {
        const ATTEMPTS: usize = 4;
        let before = Self::list_keys(a, user).await?;
        let mut last = None;
        for _ in 0..ATTEMPTS {
            match rpc(a, "CreateAccessKey", &[("UserName", user.into())], Retry::Never).await {
                Ok(r) => {
                    let id = r["AccessKey"]["AccessKeyId"].as_str().unwrap_or_default().to_string();
                    let secret = r["AccessKey"]["AccessKeySecret"].as_str().unwrap_or_default().to_string();
                    if id.is_empty() || secret.is_empty() {
                        return Err(CloudError::local("ram CreateAccessKey", "Decode", "the answer holds no key"));
                    }
                    return Ok(NewKey { id, secret });
                }
                Err(e) if ambiguous(&e) => {
                    for (id, _) in Self::list_keys(a, user).await? {
                        if !before.contains_key(&id) {
                            tracing::debug!(key = %id, "deleting a key whose secret was lost with the answer");
                            Self::delete_key(a, user, &id).await?;
                        }
                    }
                    last = Some(e);
                }
                Err(e) if e.is("LimitExceeded.User.AccessKey") => {
                    return Err(CloudError {
                        message: format!(
                        "{} User {user} already has two AccessKeys; delete one that is not in use, then apply again.",
                        e.message
                    ),
                        ..e
                    })
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| CloudError::local("ram CreateAccessKey", "Transport", "no answer")))
    }

    async fn delete_key(a: &Alibaba, user: &str, id: &str) -> Result<(), CloudError> {
        match rpc(a, "DeleteAccessKey", &[("UserName", user.into()), ("UserAccessKeyId", id.into())], Retry::Idempotent)
            .await
        {
            Err(e) if !e.is_not_found() => Err(e),
            _ => Ok(()),
        }
    }

    /// Writes the pair into the Secret (server-side apply of our two keys; others stay).
    async fn write_secret(kube: &Kube, m: &Model, key: &NewKey) -> Result<(), crate::clients::kubernetes::KubeError> {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let ns = m.secret_namespace.as_deref().unwrap_or("kube-system");
        let name = m.secret_name.as_deref().unwrap_or("alibaba-addon-secret");
        let body = json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": { "name": name, "namespace": ns },
            "type": "Opaque",
            "data": { ID_KEY: b64(&key.id), SECRET_KEY: b64(&key.secret) },
        });
        kube.apply::<Json>(&m.secret_path(), &body, true).await.map(|_| ())
    }

    /// The key ID and fingerprint the Secret holds now (`None` when it is missing or incomplete).
    async fn secret_contents(
        kube: &Kube,
        m: &Model,
    ) -> Result<Option<(String, String)>, crate::clients::kubernetes::KubeError> {
        let Some(s) = kube.get::<Json>(&m.secret_path()).await? else { return Ok(None) };
        let field = |k: &str| {
            s["data"][k]
                .as_str()
                .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
                .and_then(|v| String::from_utf8(v).ok())
        };
        Ok(match (field(ID_KEY), field(SECRET_KEY)) {
            (Some(id), Some(secret)) => {
                let fp = fingerprint(&id, &secret);
                Some((id, fp))
            }
            _ => None,
        })
    }

    /// Creates a key, puts it into the Secret, and only then deletes `old` (so the Secret never
    /// holds an invalid key while a valid one could be there). On a Secret failure the new key is
    /// deleted again.
    async fn rotate(a: &Alibaba, kube: &Kube, m: &mut Model, old: Option<&str>, diags: &mut Diagnostics) -> bool {
        let user = m.user().to_string();
        let key = match Self::create_key(a, &user).await {
            Ok(k) => k,
            Err(e) if e.is("LimitExceeded.User.AccessKey") && old.is_some() => {
                // Two keys already: the old one can only go first when it is not usable anyway.
                let status =
                    Self::list_keys(a, &user).await.ok().and_then(|ks| ks.get(old.unwrap_or_default()).cloned());
                if status.as_deref() == Some("Active") {
                    diags.extend(e.to_diagnostics("Could not create an AccessKey"));
                    return false;
                }
                if let Err(e) = Self::delete_key(a, &user, old.unwrap_or_default()).await {
                    diags.extend(e.to_diagnostics("Could not delete the unusable AccessKey"));
                    return false;
                }
                match Self::create_key(a, &user).await {
                    Ok(k) => k,
                    Err(e) => {
                        diags.extend(e.to_diagnostics("Could not create an AccessKey"));
                        return false;
                    }
                }
            }
            Err(e) => {
                diags.extend(e.to_diagnostics("Could not create an AccessKey"));
                return false;
            }
        };
        if let Err(e) = Self::write_secret(kube, m, &key).await {
            diags.extend(e.to_diagnostics(&format!("Could not write the Secret {}", m.secret_label())));
            if let Err(e) = Self::delete_key(a, &user, &key.id).await {
                // Keep track of it: state names the new key, so the next apply deletes or uses it.
                diags.extend(e.to_diagnostics("Could not delete the AccessKey that did not reach the Secret"));
                m.access_key_id = Some(key.id.clone());
                m.secret_in_sync = Some(false);
            }
            return false;
        }
        m.access_key_id = Some(key.id.clone());
        m.access_key_fingerprint = Some(fingerprint(&key.id, &key.secret));
        m.access_key_status = Some("Active".into());
        m.secret_in_sync = Some(true);
        if let Some(old) = old.filter(|o| *o != key.id) {
            if let Err(e) = Self::delete_key(a, &user, old).await {
                diags.extend(e.to_diagnostics("Could not delete the previous AccessKey"));
            }
        }
        true
    }

    async fn clients(ctx: &Ctx, diags: &mut Diagnostics) -> Option<(Alibaba, Kube)> {
        let a = diags.capture(alibaba::from_ctx(ctx).await)?;
        let k = diags.capture(kubernetes::from_ctx(ctx).await)?;
        Some((a, k))
    }
}

#[async_trait]
impl Resource for RamGrant {
    fn type_name(&self) -> &'static str {
        "hybrid_ram_grant"
    }

    fn schema(&self) -> Schema {
        let rr_default = |name: &str, default: &str, d: &str| {
            Attribute::string(name)
                .optional()
                .computed()
                .default(default)
                .requires_replace()
                .validate(NonEmpty)
                .description(d)
        };
        let health = |a: Attribute, d: &str| a.computed().description(d);
        Schema::new(
            0,
            Block::new(
                "What the Terway addon of a registered cluster needs from RAM: a RAM user, the Terway policy attached \
                 to it, and an AccessKey whose pair is written to the Secret `kube-system/alibaba-addon-secret` \
                 (`access-key-id`, `access-key-secret`). The AccessKey secret goes straight into the Secret and never \
                 into Terraform state, plans or logs; state keeps only a one-way fingerprint. Drift (policy detached, \
                 key deleted or disabled, Secret changed or deleted) shows as a planned repair.",
            )
            .attr(Attribute::string("id").computed().use_state_for_unknown().description("The RAM user name."))
            .attr(
                Attribute::string("user_name")
                    .optional()
                    .computed()
                    .use_state_for_unknown()
                    .requires_replace()
                    .description("RAM user name. Generated like `ack-one-user-<hex>` when not set."),
            )
            .attr(Attribute::bool("create_user").optional().computed().default(true).requires_replace().description(
                "Create the user (and delete it on destroy). `false` adopts an existing user, which destroy leaves.",
            ))
            .attr(Attribute::string("display_name").optional().requires_replace().description("Display name of a created user."))
            .attr(rr_default("policy_name", DEFAULT_POLICY_NAME, "Name of the policy to attach."))
            .attr(
                Attribute::string("policy_type")
                    .optional()
                    .computed()
                    .default("Custom")
                    .requires_replace()
                    .validate(OneOf(&["Custom", "System"]))
                    .description("`Custom` or `System` policy."),
            )
            .attr(Attribute::string("policy_document").optional().description(
                "Policy document of a created policy (JSON). Defaults to the bundled Terway action list (ECS ENI and IP \
                 management, VPC vSwitch reads). Compared as JSON.",
            ))
            .attr(Attribute::bool("create_policy").optional().computed().default(true).requires_replace().description(
                "Create the custom policy (and delete it on destroy). `false` uses an existing policy.",
            ))
            .attr(rr_default("secret_namespace", "kube-system", "Namespace of the Secret."))
            .attr(rr_default("secret_name", "alibaba-addon-secret", "Name of the Secret."))
            .attr(Attribute::string("rotation").optional().description(
                "Any change rotates the AccessKey: a new key is created and written to the Secret before the old one is \
                 deleted, so the Secret never holds an invalid key.",
            ))
            .attr(health(Attribute::string("access_key_id"), "ID of the AccessKey in the Secret (not secret)."))
            .attr(health(
                Attribute::string("access_key_fingerprint"),
                "One-way fingerprint of the key pair (first 16 hex digits of SHA-256 over id and secret).",
            ))
            .attr(health(Attribute::bool("policy_attached"), "Whether the policy is attached to the user."))
            .attr(health(Attribute::string("access_key_status"), "`Active`, `Inactive` or `Deleted`."))
            .attr(health(Attribute::bool("secret_in_sync"), "Whether the Secret holds this key pair.")),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(doc) = config.get("policy_document").and_then(Value::as_str) {
            match serde_json::from_str::<Json>(doc) {
                Ok(j) if j["Statement"].as_array().is_some_and(|s| !s.is_empty()) => {}
                Ok(_) => diags.error_at(
                    AttrPath::attr("policy_document"),
                    "Invalid policy document",
                    "The document needs a non-empty Statement list.",
                ),
                Err(e) => diags.error_at(
                    AttrPath::attr("policy_document"),
                    "Invalid policy document",
                    format!("Not valid JSON: {e}"),
                ),
            }
        }
        let flag = |a: &str| config.get(a).and_then(Value::as_bool);
        if flag("create_policy") == Some(true) && config.get("policy_type").and_then(Value::as_str) == Some("System") {
            diags.error_at(
                AttrPath::attr("create_policy"),
                "System policies cannot be created",
                "Set create_policy = false to attach a System policy.",
            );
        }
        if flag("create_user") == Some(false) && config.get("user_name").is_some_and(Value::is_null) {
            diags.error_at(
                AttrPath::attr("user_name"),
                "Missing user name",
                "Adopting an existing user (create_user = false) needs its user_name.",
            );
        }
    }

    async fn modify_plan(&self, _ctx: &Ctx, plan: &mut PlanRequest<'_>, _diags: &mut Diagnostics) {
        if plan.planned.is_null() {
            return;
        }
        let prior = plan.prior.clone();
        let get = |v: &Value, k: &str| v.get(k).cloned().unwrap_or(Value::Null);
        let Value::Object(attrs) = &mut plan.planned else { return };
        // The desired facts after any apply; a drifted prior value makes this a planned repair.
        attrs.insert("policy_attached".into(), Value::Bool(true));
        attrs.insert("access_key_status".into(), Value::string("Active"));
        attrs.insert("secret_in_sync".into(), Value::Bool(true));
        if let Some(u) = attrs.get("user_name").filter(|u| !u.is_unknown() && !u.is_null()).cloned() {
            attrs.insert("id".into(), u);
        }
        if prior.is_null() {
            return;
        }
        // The key changes only when it is rotated: on a new `rotation`, or to repair a key that is
        // deleted, disabled or not in the Secret.
        let rotating = get(&prior, "rotation") != attrs.get("rotation").cloned().unwrap_or(Value::Null)
            || get(&prior, "access_key_status").as_str() != Some("Active")
            || get(&prior, "secret_in_sync").as_bool() != Some(true);
        for k in ["access_key_id", "access_key_fingerprint"] {
            attrs.insert(k.into(), if rotating { Value::Unknown } else { get(&prior, k) });
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
        let mut m = diags.capture(model::decode::<Model>(planned))?;
        let (a, kube) = Self::clients(ctx, diags).await?;
        if m.user_name.is_none() {
            m.user_name = Some(generated_user_name());
        }
        m.id = m.user_name.clone();
        // Nothing exists yet, so a failure here leaves nothing to track.
        if let Err(e) = Self::ensure_user(&a, &m).await {
            diags.extend(e.to_diagnostics("Could not create the RAM user"));
            return None;
        }
        // From here on, returning the state (with errors) keeps track of the user and the rest.
        m.policy_attached = Some(false);
        m.access_key_status = Some("Deleted".into());
        m.secret_in_sync = Some(false);
        if let Err(e) = Self::ensure_policy(&a, &m).await {
            diags.extend(e.to_diagnostics("Could not create the policy"));
            return self.encode_state(&m, diags);
        }
        if let Err(e) = Self::attach(&a, &m).await {
            diags.extend(e.to_diagnostics("Could not attach the policy"));
            return self.encode_state(&m, diags);
        }
        m.policy_attached = Some(true);
        Self::rotate(&a, &kube, &mut m, None, diags).await;
        self.encode_state(&m, diags)
    }

    async fn read(&self, ctx: &Ctx, state: &Value, _private: &mut Private, diags: &mut Diagnostics) -> Option<Value> {
        let mut m = diags.capture(model::decode::<Model>(state))?;
        let (a, kube) = Self::clients(ctx, diags).await?;
        let user = m.user().to_string();
        match Self::user_exists(&a, &user).await {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => {
                diags.extend(e.to_diagnostics("Could not read the RAM user"));
                return Some(state.clone());
            }
        }
        let listed = rpc(&a, "ListPoliciesForUser", &[("UserName", user.clone())], Retry::Idempotent).await;
        let keys = Self::list_keys(&a, &user).await;
        let (listed, keys) = match (listed, keys) {
            (Ok(l), Ok(k)) => (l, k),
            (Err(e), _) | (_, Err(e)) => {
                diags.extend(e.to_diagnostics("Could not read the RAM grant"));
                return Some(state.clone());
            }
        };
        m.policy_attached = Some(listed["Policies"]["Policy"].as_array().is_some_and(|ps| {
            ps.iter().any(|p| {
                p["PolicyName"].as_str() == Some(m.policy()) && p["PolicyType"].as_str() == Some(m.policy_type())
            })
        }));
        if m.owns_policy() {
            if let Ok(Some(p)) = Self::get_policy(&a, &m).await {
                let remote = p["DefaultPolicyVersion"]["PolicyDocument"].as_str().unwrap_or_default();
                if !same_json(remote, &m.document()) {
                    // Shown as drift only when the user configured a document; otherwise a changed
                    // bundled document is repaired by the next update.
                    m.policy_document = Some(remote.to_string());
                }
            }
        }
        let secret = match Self::secret_contents(&kube, &m).await {
            Ok(s) => s,
            Err(e) => {
                diags.extend(e.to_diagnostics("Could not read the Secret"));
                return Some(state.clone());
            }
        };
        if m.access_key_id.is_none() {
            // Imported: adopt the key the Secret names.
            if let Some((id, fp)) = &secret {
                m.access_key_id = Some(id.clone());
                m.access_key_fingerprint = Some(fp.clone());
            }
        }
        let id = m.access_key_id.clone().unwrap_or_default();
        m.access_key_status = Some(keys.get(&id).cloned().unwrap_or_else(|| "Deleted".into()));
        m.secret_in_sync =
            Some(secret.is_some_and(|(sid, fp)| sid == id && Some(&fp) == m.access_key_fingerprint.as_ref()));
        self.encode_state(&m, diags)
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
        let old = diags.capture(model::decode::<Model>(prior))?;
        let mut m = diags.capture(model::decode::<Model>(planned))?;
        let (a, kube) = Self::clients(ctx, diags).await?;
        // Carry the facts of what exists until each repair succeeds.
        m.access_key_id = old.access_key_id.clone();
        m.access_key_fingerprint = old.access_key_fingerprint.clone();
        m.access_key_status = old.access_key_status.clone();
        m.secret_in_sync = old.secret_in_sync;
        m.policy_attached = old.policy_attached;
        if m.owns_policy() && !same_json(&old.document(), &m.document()) {
            let params = [
                ("PolicyName", m.policy().to_string()),
                ("PolicyDocument", m.document()),
                ("SetAsDefault", "true".to_string()),
                ("RotateStrategy", "DeleteOldestNonDefaultVersionWhenLimitExceeded".to_string()),
            ];
            if let Err(e) = rpc(&a, "CreatePolicyVersion", &params, Retry::Never).await {
                diags.extend(e.to_diagnostics("Could not update the policy document"));
                m.policy_document = old.policy_document.clone();
                return self.encode_state(&m, diags);
            }
        }
        if old.policy_attached != Some(true) {
            if let Err(e) = Self::attach(&a, &m).await {
                diags.extend(e.to_diagnostics("Could not attach the policy"));
                return self.encode_state(&m, diags);
            }
        }
        m.policy_attached = Some(true);
        let rotating = old.rotation != m.rotation
            || old.access_key_status.as_deref() != Some("Active")
            || old.secret_in_sync != Some(true);
        if rotating {
            let previous = old.access_key_id.clone();
            Self::rotate(&a, &kube, &mut m, previous.as_deref(), diags).await;
        }
        self.encode_state(&m, diags)
    }

    async fn delete(&self, ctx: &Ctx, prior: &Value, _private: &Private, diags: &mut Diagnostics) {
        let Some(m) = diags.capture(model::decode::<Model>(prior)) else { return };
        let Some((a, kube)) = Self::clients(ctx, diags).await else { return };
        let user = m.user().to_string();
        // The Secret first: once the key is gone it is useless. Other keys of the Secret stay.
        let path = m.secret_path();
        let result = kube
            .read_modify_write(&path, |s| {
                let mut next = s.clone();
                if let Some(data) = next.get_mut("data").and_then(Json::as_object_mut) {
                    data.remove(ID_KEY);
                    data.remove(SECRET_KEY);
                }
                Ok((next != *s).then_some(next))
            })
            .await;
        match result {
            Ok(Some(s)) if s["data"].as_object().is_none_or(|d| d.is_empty()) => {
                if let Err(e) = kube.delete(&path, None).await {
                    diags.extend(e.to_diagnostics("Could not delete the Secret"));
                }
            }
            Ok(_) => {}
            Err(e) => return diags.extend(e.to_diagnostics("Could not clear the Secret")),
        }
        if let Some(id) = &m.access_key_id {
            if let Err(e) = Self::delete_key(&a, &user, id).await {
                return diags.extend(e.to_diagnostics("Could not delete the AccessKey"));
            }
        }
        let params = [
            ("PolicyType", m.policy_type().to_string()),
            ("PolicyName", m.policy().to_string()),
            ("UserName", user.clone()),
        ];
        match rpc(&a, "DetachPolicyFromUser", &params, Retry::Idempotent).await {
            Err(e) if !e.is_not_found() => return diags.extend(e.to_diagnostics("Could not detach the policy")),
            _ => {}
        }
        if m.owns_policy() {
            match rpc(&a, "DeletePolicy", &[("PolicyName", m.policy().to_string())], Retry::Idempotent).await {
                Err(e) if !e.is_not_found() => return diags.extend(e.to_diagnostics("Could not delete the policy")),
                _ => {}
            }
        }
        if m.owns_user() {
            match rpc(&a, "DeleteUser", &[("UserName", user)], Retry::Idempotent).await {
                Err(e) if !e.is_not_found() => diags.extend(e.to_diagnostics("Could not delete the RAM user")),
                _ => {}
            }
        }
    }

    async fn import(&self, _ctx: &Ctx, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        if id.is_empty() || id.contains([':', '/']) {
            diags.error("Invalid import ID", format!("{id:?} is not a RAM user name."));
            return None;
        }
        // The defaults: a user and policy this resource manages, the standard Secret. Read fills in
        // the key from the Secret and the facts from RAM.
        let m = Model {
            id: Some(id.into()),
            user_name: Some(id.into()),
            create_user: Some(true),
            create_policy: Some(true),
            policy_name: Some(DEFAULT_POLICY_NAME.into()),
            policy_type: Some("Custom".into()),
            secret_namespace: Some("kube-system".into()),
            secret_name: Some("alibaba-addon-secret".into()),
            ..Default::default()
        };
        self.encode_state(&m, diags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_policy_is_valid_and_names_the_terway_actions() {
        let doc: Json = serde_json::from_str(&terway_policy_document()).unwrap();
        let actions = doc["Statement"][0]["Action"].as_array().unwrap();
        assert!(actions.contains(&json!("ecs:AssignPrivateIpAddresses")));
        assert!(actions.contains(&json!("vpc:DescribeVSwitches")));
        assert_eq!(doc["Version"], "1");
    }

    #[test]
    fn fingerprints_are_one_way_and_key_bound() {
        let a = fingerprint("LTAI1", "secret");
        assert_eq!(a.len(), 16);
        assert!(!a.contains("secret"));
        assert_ne!(a, fingerprint("LTAI2", "secret"));
        assert_ne!(a, fingerprint("LTAI1", "secreT"));
    }

    #[test]
    fn generated_names_look_like_onectls() {
        let n = generated_user_name();
        assert!(n.starts_with("ack-one-user-") && n.len() == "ack-one-user-".len() + 10, "{n}");
    }
}

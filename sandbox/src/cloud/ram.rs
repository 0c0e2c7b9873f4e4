//! RAM 2015-05-01: users, custom policies with versions, attachments and AccessKeys.
//!
//! Limits and error codes follow RAM's error-code page: user names 1-64 of `[A-Za-z0-9._-]`, policy
//! names 1-128 of `[A-Za-z0-9-]`, documents up to 6144 characters, 5 policy versions, 2 AccessKeys
//! per user, 5 custom / 20 system policies per user; 404 for missing entities, 409 for conflicts.

use super::errors::{CloudError, CloudResult};
use super::ids;
use super::params::Params;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const MAX_KEYS_PER_USER: usize = 2;
pub const MAX_POLICY_VERSIONS: usize = 5;
pub const MAX_DOCUMENT_LEN: usize = 6144;
const MAX_CUSTOM_PER_USER: usize = 5;
const MAX_SYSTEM_PER_USER: usize = 20;

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub email: String,
    pub mobile_phone: String,
    pub comments: String,
    pub created: String,
    pub updated: String,
}

#[derive(Debug, Clone)]
pub struct PolicyVersion {
    pub id: String,
    pub document: String,
    pub created: String,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    pub policy_type: &'static str,
    pub description: String,
    pub default_version: String,
    pub versions: Vec<PolicyVersion>,
    pub next_version: u32,
    pub created: String,
    pub updated: String,
}

impl Policy {
    fn default_document(&self) -> &str {
        self.versions.iter().find(|v| v.id == self.default_version).map(|v| v.document.as_str()).unwrap_or("")
    }
}

#[derive(Debug, Clone)]
pub struct AccessKey {
    pub id: String,
    pub secret: String,
    pub user: String,
    pub active: bool,
    pub created: String,
}

#[derive(Debug, Default)]
pub struct RamState {
    pub users: BTreeMap<String, User>,
    /// Keyed by (type, name): custom and system policies live in separate name spaces.
    pub policies: BTreeMap<(&'static str, String), Policy>,
    /// (user, policy type, policy name) → attach date.
    pub attachments: BTreeMap<(String, &'static str, String), String>,
    pub keys: BTreeMap<String, AccessKey>,
}

/// A few system policies, so System attachments can be exercised.
const SYSTEM_POLICIES: [(&str, &str, &str); 4] = [
    (
        "AdministratorAccess",
        "Provides full access to Alibaba Cloud services and resources.",
        r#"{"Statement":[{"Action":"*","Effect":"Allow","Resource":"*"}],"Version":"1"}"#,
    ),
    (
        "ReadOnlyAccess",
        "Provides read-only access to Alibaba Cloud services and resources.",
        r#"{"Statement":[{"Action":["*:Describe*","*:List*","*:Get*"],"Effect":"Allow","Resource":"*"}],"Version":"1"}"#,
    ),
    (
        "AliyunECSFullAccess",
        "Provides full access to Elastic Compute Service (ECS) via Management Console.",
        r#"{"Statement":[{"Action":"ecs:*","Effect":"Allow","Resource":"*"}],"Version":"1"}"#,
    ),
    (
        "AliyunVPCReadOnlyAccess",
        "Provides read-only access to Virtual Private Cloud (VPC) via Management Console.",
        r#"{"Statement":[{"Action":["vpc:Describe*","vpc:Get*","vpc:List*"],"Effect":"Allow","Resource":"*"}],"Version":"1"}"#,
    ),
];

fn policy_type(p: &Params, required: bool) -> CloudResult<&'static str> {
    match p.get("PolicyType") {
        Some("Custom") => Ok("Custom"),
        Some("System") => Ok("System"),
        None if !required => Ok("Custom"),
        None => Err(CloudError::missing("PolicyType")),
        Some(_) => {
            Err(CloudError::invalid("InvalidParameter.PolicyType", "The parameter - \"PolicyType\" is incorrect."))
        }
    }
}

fn check_name(value: &str, param: &str, max: usize, allowed: impl Fn(char) -> bool) -> CloudResult<()> {
    if value.is_empty() || value.chars().count() > max {
        return Err(CloudError::invalid(
            &format!("InvalidParameter.{param}.Length"),
            format!("The parameter - \"{param}\" beyond the length limit."),
        ));
    }
    if !value.chars().all(allowed) {
        return Err(CloudError::invalid(
            &format!("InvalidParameter.{param}.InvalidChars"),
            format!("The parameter - \"{param}\" contains invalid chars."),
        ));
    }
    Ok(())
}

fn user_name(p: &Params) -> CloudResult<String> {
    let v = p.required("UserName")?;
    check_name(v, "UserName", 64, |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))?;
    Ok(v.to_string())
}

fn policy_name(p: &Params) -> CloudResult<String> {
    let v = p.required("PolicyName")?;
    check_name(v, "PolicyName", 128, |c| c.is_ascii_alphanumeric() || c == '-')?;
    Ok(v.to_string())
}

fn max_len(p: &Params, param: &str, max: usize) -> CloudResult<String> {
    let v = p.get(param).unwrap_or("");
    if v.chars().count() > max {
        return Err(CloudError::invalid(
            &format!("InvalidParameter.{param}.Length"),
            format!("The parameter - \"{param}\" beyond the length limit."),
        ));
    }
    Ok(v.to_string())
}

fn malformed(detail: impl Into<String>) -> CloudError {
    CloudError::invalid("MalformedPolicyDocument", detail)
}

fn string_or_strings(v: &Value, field: &str) -> CloudResult<()> {
    let ok = match v {
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty() && a.iter().all(|x| x.as_str().is_some_and(|s| !s.is_empty())),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(malformed(format!("{field} must be a non-empty string or a non-empty list of strings")))
    }
}

/// Checks a policy document the way RAM does: JSON, `Version` "1", a non-empty `Statement` list
/// whose entries have `Effect` Allow/Deny, `Action` and `Resource`.
pub fn validate_document(doc: &str) -> CloudResult<()> {
    if doc.chars().count() > MAX_DOCUMENT_LEN {
        return Err(CloudError::invalid(
            "InvalidParameter.PolicyDocument.Length",
            "The parameter - \"PolicyDocument\" beyond the length limit.",
        ));
    }
    let v: Value =
        serde_json::from_str(doc).map_err(|e| malformed(format!("The policy document is not valid JSON: {e}")))?;
    let obj = v.as_object().ok_or_else(|| malformed("The policy document must be a JSON object"))?;
    for k in obj.keys() {
        if k != "Version" && k != "Statement" {
            return Err(malformed(format!("Unknown policy element {k:?}")));
        }
    }
    if obj.get("Version").and_then(Value::as_str) != Some("1") {
        return Err(malformed("The policy Version must be \"1\""));
    }
    let statements = obj
        .get("Statement")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| malformed("Statement must be a non-empty list"))?;
    for st in statements {
        let st = st.as_object().ok_or_else(|| malformed("Each Statement must be an object"))?;
        match st.get("Effect").and_then(Value::as_str) {
            Some("Allow") | Some("Deny") => {}
            _ => return Err(malformed("Effect must be Allow or Deny")),
        }
        string_or_strings(st.get("Action").unwrap_or(&Value::Null), "Action")?;
        string_or_strings(st.get("Resource").unwrap_or(&Value::Null), "Resource")?;
        for k in st.keys() {
            if !matches!(k.as_str(), "Effect" | "Action" | "Resource" | "Condition") {
                return Err(malformed(format!("Unknown statement element {k:?}")));
            }
        }
        if st.get("Condition").is_some_and(|c| !c.is_object()) {
            return Err(malformed("Condition must be an object"));
        }
    }
    Ok(())
}

fn user_not_found() -> CloudError {
    CloudError::not_found("EntityNotExist.User", "The user does not exist.")
}

fn policy_not_found() -> CloudError {
    CloudError::not_found("EntityNotExist.Policy", "The policy does not exist.")
}

fn key_not_found() -> CloudError {
    CloudError::not_found("EntityNotExist.User.AccessKey", "The user access key does not exist.")
}

fn user_json(u: &User, detail: bool) -> Value {
    let mut v = json!({
        "UserId": u.id, "UserName": u.name, "DisplayName": u.display_name, "Email": u.email,
        "MobilePhone": u.mobile_phone, "Comments": u.comments, "CreateDate": u.created,
    });
    if detail {
        v["UpdateDate"] = json!(u.updated);
        v["LastLoginDate"] = json!("");
    }
    v
}

fn version_json(p: &Policy, v: &PolicyVersion) -> Value {
    json!({"VersionId": v.id, "IsDefaultVersion": v.id == p.default_version, "PolicyDocument": v.document, "CreateDate": v.created})
}

/// Whether an action changes state (for ambiguous-failure faults).
pub fn is_mutating(action: &str) -> bool {
    !(action.starts_with("Get") || action.starts_with("List"))
}

impl RamState {
    pub fn seeded() -> Self {
        let mut s = RamState::default();
        let now = ids::now_iso();
        for (name, desc, doc) in SYSTEM_POLICIES {
            s.policies.insert(
                ("System", name.to_string()),
                Policy {
                    name: name.to_string(),
                    policy_type: "System",
                    description: desc.to_string(),
                    default_version: "v1".into(),
                    versions: vec![PolicyVersion { id: "v1".into(), document: doc.to_string(), created: now.clone() }],
                    next_version: 2,
                    created: now.clone(),
                    updated: now.clone(),
                },
            );
        }
        s
    }

    /// Active key lookup for signature verification: `Some((secret, active))`.
    pub fn key_secret(&self, id: &str) -> Option<(String, bool)> {
        self.keys.get(id).map(|k| (k.secret.clone(), k.active))
    }

    fn user(&self, name: &str) -> CloudResult<&User> {
        self.users.get(name).ok_or_else(user_not_found)
    }

    fn attachment_count(&self, ptype: &str, name: &str) -> usize {
        self.attachments.keys().filter(|(_, t, n)| *t == ptype && n == name).count()
    }

    pub fn call(&mut self, action: &str, p: &Params) -> CloudResult<Value> {
        match action {
            "CreateUser" => self.create_user(p),
            "GetUser" => {
                let name = user_name(p)?;
                Ok(json!({"User": user_json(self.user(&name)?, true)}))
            }
            "DeleteUser" => self.delete_user(p),
            "CreatePolicy" => self.create_policy(p),
            "GetPolicy" => self.get_policy(p),
            "DeletePolicy" => self.delete_policy(p),
            "CreatePolicyVersion" => self.create_policy_version(p),
            "ListPolicyVersions" => self.list_policy_versions(p),
            "DeletePolicyVersion" => self.delete_policy_version(p),
            "AttachPolicyToUser" => self.attach(p),
            "DetachPolicyFromUser" => self.detach(p),
            "ListPoliciesForUser" => self.list_policies_for_user(p),
            "CreateAccessKey" => self.create_access_key(p),
            "ListAccessKeys" => self.list_access_keys(p),
            "UpdateAccessKey" => self.update_access_key(p),
            "DeleteAccessKey" => self.delete_access_key(p),
            _ => Err(CloudError::api_not_found()),
        }
    }

    fn create_user(&mut self, p: &Params) -> CloudResult<Value> {
        let name = user_name(p)?;
        let display_name = p.get("DisplayName").unwrap_or(&name).to_string();
        // RAM's page lists letters, digits, @ . _ - for display names; the console also takes
        // spaces and non-ASCII text, so only length and control characters are rejected here.
        if display_name.is_empty() || display_name.chars().count() > 128 {
            return Err(CloudError::invalid(
                "InvalidParameter.DisplayName.Length",
                "The parameter - \"DisplayName\" beyond the length limit.",
            ));
        }
        if display_name.chars().any(char::is_control) {
            return Err(CloudError::invalid(
                "InvalidParameter.DisplayName.InvalidChars",
                "The parameter - \"DisplayName\" contains invalid chars.",
            ));
        }
        let email = p.get("Email").unwrap_or("").to_string();
        let email_ok = email.contains('@') && !email.starts_with('@') && !email.ends_with('@');
        if !email.is_empty() && !email_ok {
            return Err(CloudError::invalid(
                "InvalidParameter.Email.Format",
                "The format of the parameter - \"Email\" is incorrect.",
            ));
        }
        let phone = p.get("MobilePhone").unwrap_or("").to_string();
        let phone_ok = phone.split_once('-').is_some_and(|(cc, n)| {
            !cc.is_empty() && !n.is_empty() && cc.chars().chain(n.chars()).all(|c| c.is_ascii_digit())
        });
        if !phone.is_empty() && !phone_ok {
            return Err(CloudError::invalid(
                "InvalidParameter.MobilePhone.Format",
                "The format of the parameter - \"MobilePhone\" is incorrect.",
            ));
        }
        let comments = max_len(p, "Comments", 128)?;
        if self.users.contains_key(&name) {
            return Err(CloudError::conflict("EntityAlreadyExists.User", "The user does already EXIST."));
        }
        let now = ids::now_iso();
        let user = User {
            id: ids::user_id(),
            name: name.clone(),
            display_name,
            email,
            mobile_phone: phone,
            comments,
            created: now.clone(),
            updated: now,
        };
        let body = json!({"User": user_json(&user, false)});
        self.users.insert(name, user);
        Ok(body)
    }

    fn delete_user(&mut self, p: &Params) -> CloudResult<Value> {
        let name = user_name(p)?;
        self.user(&name)?;
        if self.keys.values().any(|k| k.user == name) {
            return Err(CloudError::conflict(
                "DeleteConflict.User.AccessKey",
                "The user CAN NOT has any access key while deleting the user.",
            ));
        }
        if self.attachments.keys().any(|(u, _, _)| *u == name) {
            return Err(CloudError::conflict(
                "DeleteConflict.User.Policy",
                "The user CAN NOT has any attached policy while deleting the user.",
            ));
        }
        self.users.remove(&name);
        Ok(json!({}))
    }

    fn create_policy(&mut self, p: &Params) -> CloudResult<Value> {
        let name = policy_name(p)?;
        let document = p.required("PolicyDocument")?.to_string();
        let description = max_len(p, "Description", 1024)?;
        validate_document(&document)?;
        if self.policies.contains_key(&("Custom", name.clone()))
            || self.policies.contains_key(&("System", name.clone()))
        {
            return Err(CloudError::conflict("EntityAlreadyExists.Policy", "The policy does already EXIST."));
        }
        let now = ids::now_iso();
        let policy = Policy {
            name: name.clone(),
            policy_type: "Custom",
            description,
            default_version: "v1".into(),
            versions: vec![PolicyVersion { id: "v1".into(), document, created: now.clone() }],
            next_version: 2,
            created: now.clone(),
            updated: now,
        };
        let body = json!({"Policy": {
            "PolicyName": policy.name, "PolicyType": "Custom", "Description": policy.description,
            "DefaultVersion": "v1", "CreateDate": policy.created,
        }});
        self.policies.insert(("Custom", name), policy);
        Ok(body)
    }

    fn get_policy(&self, p: &Params) -> CloudResult<Value> {
        let name = policy_name(p)?;
        let ptype = policy_type(p, true)?;
        let policy = self.policies.get(&(ptype, name.clone())).ok_or_else(policy_not_found)?;
        let default =
            policy.versions.iter().find(|v| v.id == policy.default_version).ok_or_else(CloudError::internal)?;
        Ok(json!({
            "Policy": {
                "PolicyName": policy.name, "PolicyType": policy.policy_type, "Description": policy.description,
                "DefaultVersion": policy.default_version, "PolicyDocument": policy.default_document(),
                "CreateDate": policy.created, "UpdateDate": policy.updated,
                "AttachmentCount": self.attachment_count(ptype, &name),
            },
            "DefaultPolicyVersion": version_json(policy, default),
        }))
    }

    fn custom_policy_mut(&mut self, name: &str) -> CloudResult<&mut Policy> {
        self.policies.get_mut(&("Custom", name.to_string())).ok_or_else(policy_not_found)
    }

    fn delete_policy(&mut self, p: &Params) -> CloudResult<Value> {
        let name = policy_name(p)?;
        let cascade = p.bool("CascadingDelete")?.unwrap_or(false);
        let policy = self.policies.get(&("Custom", name.clone())).ok_or_else(policy_not_found)?;
        let extra_versions = policy.versions.len() > 1;
        let attached = self.attachment_count("Custom", &name) > 0;
        if !cascade {
            if attached {
                return Err(CloudError::conflict(
                    "DeleteConflict.Policy.User",
                    "The policy CAN NOT been attached to any user while deleting the policy.",
                ));
            }
            if extra_versions {
                return Err(CloudError::conflict(
                    "DeleteConflict.Policy.Version",
                    "The policy CAN NOT has any version except the default version.",
                ));
            }
        }
        self.attachments.retain(|(_, t, n), _| !(*t == "Custom" && *n == name));
        self.policies.remove(&("Custom", name));
        Ok(json!({}))
    }

    fn create_policy_version(&mut self, p: &Params) -> CloudResult<Value> {
        let name = policy_name(p)?;
        let document = p.required("PolicyDocument")?.to_string();
        let set_default = p.bool("SetAsDefault")?.unwrap_or(false);
        let rotate = match p.get("RotateStrategy").unwrap_or("None") {
            "None" => false,
            "DeleteOldestNonDefaultVersionWhenLimitExceeded" => true,
            _ => {
                return Err(CloudError::invalid(
                    "InvalidParameter.RotateStrategy",
                    "The parameter - \"RotateStrategy\" is incorrect.",
                ))
            }
        };
        validate_document(&document)?;
        let policy = self.custom_policy_mut(&name)?;
        if policy.versions.len() >= MAX_POLICY_VERSIONS {
            if !rotate {
                return Err(CloudError::conflict(
                    "LimitExceeded.Policy.Version",
                    "The count of policy version beyond the current limits.",
                ));
            }
            let default = policy.default_version.clone();
            if let Some(i) = policy.versions.iter().position(|v| v.id != default) {
                policy.versions.remove(i);
            }
        }
        let now = ids::now_iso();
        let version = PolicyVersion { id: format!("v{}", policy.next_version), document, created: now.clone() };
        policy.next_version += 1;
        if set_default {
            policy.default_version = version.id.clone();
        }
        policy.updated = now;
        let body = json!({"PolicyVersion": version_json(policy, &version)});
        policy.versions.push(version);
        Ok(body)
    }

    fn list_policy_versions(&self, p: &Params) -> CloudResult<Value> {
        let name = policy_name(p)?;
        let ptype = policy_type(p, true)?;
        let policy = self.policies.get(&(ptype, name)).ok_or_else(policy_not_found)?;
        let list: Vec<Value> = policy.versions.iter().map(|v| version_json(policy, v)).collect();
        Ok(json!({"PolicyVersions": {"PolicyVersion": list}}))
    }

    fn delete_policy_version(&mut self, p: &Params) -> CloudResult<Value> {
        let name = policy_name(p)?;
        let version = p.required("VersionId")?.to_string();
        let policy = self.custom_policy_mut(&name)?;
        let i = policy.versions.iter().position(|v| v.id == version).ok_or_else(|| {
            CloudError::not_found("EntityNotExist.Policy.Version", "The policy version does not exist.")
        })?;
        if policy.default_version == version {
            return Err(CloudError::conflict(
                "DeleteConflict.Policy.Version.Default",
                "The default policy version CAN NOT been deleted directly.",
            ));
        }
        policy.versions.remove(i);
        Ok(json!({}))
    }

    fn attachment_target(&self, p: &Params) -> CloudResult<(String, &'static str, String)> {
        let ptype = policy_type(p, true)?;
        let pname = policy_name(p)?;
        let uname = user_name(p)?;
        self.user(&uname)?;
        if !self.policies.contains_key(&(ptype, pname.clone())) {
            return Err(policy_not_found());
        }
        Ok((uname, ptype, pname))
    }

    fn attach(&mut self, p: &Params) -> CloudResult<Value> {
        let key = self.attachment_target(p)?;
        if self.attachments.contains_key(&key) {
            return Err(CloudError::conflict(
                "EntityAlreadyExists.User.Policy",
                "The user has already been attached this policy.",
            ));
        }
        let limit = if key.1 == "Custom" { MAX_CUSTOM_PER_USER } else { MAX_SYSTEM_PER_USER };
        let count = self.attachments.keys().filter(|(u, t, _)| *u == key.0 && *t == key.1).count();
        if count >= limit {
            return Err(CloudError::conflict(
                "LimitExceeded.User.Policy",
                "The policy count of the user attached policies beyond the current limits.",
            ));
        }
        self.attachments.insert(key, ids::now_iso());
        Ok(json!({}))
    }

    fn detach(&mut self, p: &Params) -> CloudResult<Value> {
        let key = self.attachment_target(p)?;
        if self.attachments.remove(&key).is_none() {
            return Err(CloudError::not_found(
                "EntityNotExist.User.Policy",
                "The indicate policy of the user does not exist.",
            ));
        }
        Ok(json!({}))
    }

    fn list_policies_for_user(&self, p: &Params) -> CloudResult<Value> {
        let uname = user_name(p)?;
        self.user(&uname)?;
        let list: Vec<Value> = self
            .attachments
            .iter()
            .filter(|((u, _, _), _)| *u == uname)
            .filter_map(|((_, t, n), date)| {
                self.policies.get(&(*t, n.clone())).map(|pol| {
                    json!({"PolicyName": pol.name, "PolicyType": pol.policy_type, "Description": pol.description,
                           "DefaultVersion": pol.default_version, "AttachDate": date})
                })
            })
            .collect();
        Ok(json!({"Policies": {"Policy": list}}))
    }

    fn create_access_key(&mut self, p: &Params) -> CloudResult<Value> {
        let uname = user_name(p)?;
        self.user(&uname)?;
        if self.keys.values().filter(|k| k.user == uname).count() >= MAX_KEYS_PER_USER {
            return Err(CloudError::conflict(
                "LimitExceeded.User.AccessKey",
                "The access key count of the user access keys beyond the current limits.",
            ));
        }
        let key = AccessKey {
            id: ids::access_key_id(),
            secret: ids::access_key_secret(),
            user: uname,
            active: true,
            created: ids::now_iso(),
        };
        let body = json!({"AccessKey": {
            "AccessKeyId": key.id, "AccessKeySecret": key.secret, "Status": "Active", "CreateDate": key.created,
        }});
        self.keys.insert(key.id.clone(), key);
        Ok(body)
    }

    fn list_access_keys(&self, p: &Params) -> CloudResult<Value> {
        let uname = user_name(p)?;
        self.user(&uname)?;
        let list: Vec<Value> = self
            .keys
            .values()
            .filter(|k| k.user == uname)
            .map(|k| json!({"AccessKeyId": k.id, "Status": status(k.active), "CreateDate": k.created}))
            .collect();
        Ok(json!({"AccessKeys": {"AccessKey": list}}))
    }

    fn user_key_mut(&mut self, p: &Params) -> CloudResult<&mut AccessKey> {
        let uname = user_name(p)?;
        let id = p.required("UserAccessKeyId")?.to_string();
        self.user(&uname)?;
        self.keys.get_mut(&id).filter(|k| k.user == uname).ok_or_else(key_not_found)
    }

    fn update_access_key(&mut self, p: &Params) -> CloudResult<Value> {
        let active = match p.required("Status")? {
            "Active" => true,
            "Inactive" => false,
            _ => {
                return Err(CloudError::invalid("InvalidParameter.Status", "The parameter - \"Status\" is incorrect."))
            }
        };
        self.user_key_mut(p)?.active = active;
        Ok(json!({}))
    }

    fn delete_access_key(&mut self, p: &Params) -> CloudResult<Value> {
        let id = self.user_key_mut(p)?.id.clone();
        self.keys.remove(&id);
        Ok(json!({}))
    }

    /// Everything, AccessKey secrets excluded, for `GET /__sandbox/cloud/state`.
    pub fn dump(&self) -> Value {
        let users: Vec<Value> = self
            .users
            .values()
            .map(|u| {
                let keys: Vec<Value> = self
                    .keys
                    .values()
                    .filter(|k| k.user == u.name)
                    .map(|k| json!({"AccessKeyId": k.id, "Status": status(k.active), "CreateDate": k.created}))
                    .collect();
                let policies: Vec<Value> = self
                    .attachments
                    .keys()
                    .filter(|(n, _, _)| *n == u.name)
                    .map(|(_, t, n)| json!({"PolicyType": t, "PolicyName": n}))
                    .collect();
                let mut v = user_json(u, true);
                v["AccessKeys"] = json!(keys);
                v["Policies"] = json!(policies);
                v
            })
            .collect();
        let policies: Vec<Value> = self
            .policies
            .values()
            .filter(|p| p.policy_type == "Custom")
            .map(|p| {
                json!({"PolicyName": p.name, "Description": p.description, "DefaultVersion": p.default_version,
                       "PolicyDocument": p.default_document(),
                       "Versions": p.versions.iter().map(|v| v.id.clone()).collect::<Vec<_>>(),
                       "AttachmentCount": self.attachment_count("Custom", &p.name)})
            })
            .collect();
        json!({"users": users, "custom_policies": policies})
    }
}

fn status(active: bool) -> &'static str {
    if active {
        "Active"
    } else {
        "Inactive"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    const DOC: &str =
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":["vpc:DescribeVSwitches"],"Resource":"*"}]}"#;

    fn code(r: CloudResult<Value>) -> (u16, String) {
        let e = r.unwrap_err();
        (e.status, e.code)
    }

    #[test]
    fn user_lifecycle_and_conflicts() {
        let mut s = RamState::seeded();
        let created = s.call("CreateUser", &p(&[("UserName", "u1"), ("DisplayName", "ack one user")])).unwrap();
        assert_eq!(created["User"]["UserName"], "u1");
        assert_eq!(code(s.call("CreateUser", &p(&[("UserName", "u1")]))), (409, "EntityAlreadyExists.User".into()));
        assert_eq!(
            code(s.call("CreateUser", &p(&[("UserName", "bad name")]))).1,
            "InvalidParameter.UserName.InvalidChars"
        );
        assert_eq!(
            code(s.call("CreateUser", &p(&[("UserName", &"a".repeat(65))]))).1,
            "InvalidParameter.UserName.Length"
        );
        assert_eq!(code(s.call("CreateUser", &p(&[]))).1, "MissingParameter");
        assert_eq!(code(s.call("GetUser", &p(&[("UserName", "nope")]))), (404, "EntityNotExist.User".into()));
        s.call("CreatePolicy", &p(&[("PolicyName", "pol-1"), ("PolicyDocument", DOC)])).unwrap();
        s.call("AttachPolicyToUser", &p(&[("PolicyType", "Custom"), ("PolicyName", "pol-1"), ("UserName", "u1")]))
            .unwrap();
        let key = s.call("CreateAccessKey", &p(&[("UserName", "u1")])).unwrap();
        let id = key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_string();
        assert_eq!(code(s.call("DeleteUser", &p(&[("UserName", "u1")]))).1, "DeleteConflict.User.AccessKey");
        s.call("DeleteAccessKey", &p(&[("UserName", "u1"), ("UserAccessKeyId", &id)])).unwrap();
        assert_eq!(code(s.call("DeleteUser", &p(&[("UserName", "u1")]))).1, "DeleteConflict.User.Policy");
        assert_eq!(
            code(s.call("DeletePolicy", &p(&[("PolicyName", "pol-1")]))),
            (409, "DeleteConflict.Policy.User".into())
        );
        s.call("DetachPolicyFromUser", &p(&[("PolicyType", "Custom"), ("PolicyName", "pol-1"), ("UserName", "u1")]))
            .unwrap();
        s.call("DeleteUser", &p(&[("UserName", "u1")])).unwrap();
        s.call("DeletePolicy", &p(&[("PolicyName", "pol-1")])).unwrap();
        assert!(s.users.is_empty() && s.attachments.is_empty() && s.keys.is_empty());
    }

    #[test]
    fn access_keys_limit_status_and_secrecy() {
        let mut s = RamState::seeded();
        s.call("CreateUser", &p(&[("UserName", "u")])).unwrap();
        let k1 = s.call("CreateAccessKey", &p(&[("UserName", "u")])).unwrap();
        assert_eq!(k1["AccessKey"]["AccessKeySecret"].as_str().unwrap().len(), 30);
        s.call("CreateAccessKey", &p(&[("UserName", "u")])).unwrap();
        assert_eq!(
            code(s.call("CreateAccessKey", &p(&[("UserName", "u")]))),
            (409, "LimitExceeded.User.AccessKey".into())
        );
        let id = k1["AccessKey"]["AccessKeyId"].as_str().unwrap();
        s.call("UpdateAccessKey", &p(&[("UserName", "u"), ("UserAccessKeyId", id), ("Status", "Inactive")])).unwrap();
        assert!(!s.key_secret(id).unwrap().1);
        let list = s.call("ListAccessKeys", &p(&[("UserName", "u")])).unwrap();
        assert!(!list.to_string().contains("AccessKeySecret"));
        assert!(list.to_string().contains("Inactive"));
        assert!(!s.dump().to_string().contains(k1["AccessKey"]["AccessKeySecret"].as_str().unwrap()));
        assert_eq!(
            code(s.call("UpdateAccessKey", &p(&[("UserName", "u"), ("UserAccessKeyId", id), ("Status", "Off")]))).1,
            "InvalidParameter.Status"
        );
        assert_eq!(
            code(s.call("DeleteAccessKey", &p(&[("UserName", "u"), ("UserAccessKeyId", "LTAInope")]))),
            (404, "EntityNotExist.User.AccessKey".into())
        );
    }

    #[test]
    fn policies_versions_and_documents() {
        let mut s = RamState::seeded();
        assert_eq!(
            code(s.call("CreatePolicy", &p(&[("PolicyName", "bad_name"), ("PolicyDocument", DOC)]))).1,
            "InvalidParameter.PolicyName.InvalidChars"
        );
        assert_eq!(
            code(s.call("CreatePolicy", &p(&[("PolicyName", "x"), ("PolicyDocument", "{")]))).1,
            "MalformedPolicyDocument"
        );
        assert_eq!(
            code(s.call(
                "CreatePolicy",
                &p(&[("PolicyName", "x"), ("PolicyDocument", r#"{"Version":"2","Statement":[]}"#)])
            ))
            .1,
            "MalformedPolicyDocument"
        );
        let long = format!(
            r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"a:b","Resource":"{}"}}]}}"#,
            "r".repeat(6200)
        );
        assert_eq!(
            code(s.call("CreatePolicy", &p(&[("PolicyName", "x"), ("PolicyDocument", &long)]))).1,
            "InvalidParameter.PolicyDocument.Length"
        );
        s.call("CreatePolicy", &p(&[("PolicyName", "pol"), ("PolicyDocument", DOC)])).unwrap();
        assert_eq!(
            code(s.call("CreatePolicy", &p(&[("PolicyName", "pol"), ("PolicyDocument", DOC)]))),
            (409, "EntityAlreadyExists.Policy".into())
        );
        assert_eq!(
            code(s.call("CreatePolicy", &p(&[("PolicyName", "AdministratorAccess"), ("PolicyDocument", DOC)]))).1,
            "EntityAlreadyExists.Policy"
        );
        let doc2 = DOC.replace("DescribeVSwitches", "DescribeVpcs");
        let v = s
            .call(
                "CreatePolicyVersion",
                &p(&[("PolicyName", "pol"), ("PolicyDocument", &doc2), ("SetAsDefault", "true")]),
            )
            .unwrap();
        assert_eq!(v["PolicyVersion"]["VersionId"], "v2");
        let got = s.call("GetPolicy", &p(&[("PolicyName", "pol"), ("PolicyType", "Custom")])).unwrap();
        assert_eq!(got["DefaultPolicyVersion"]["PolicyDocument"], doc2.as_str());
        assert_eq!(got["Policy"]["DefaultVersion"], "v2");
        assert_eq!(
            code(s.call("GetPolicy", &p(&[("PolicyName", "pol"), ("PolicyType", "System")]))).1,
            "EntityNotExist.Policy"
        );
        assert_eq!(
            code(s.call("GetPolicy", &p(&[("PolicyName", "pol"), ("PolicyType", "Other")]))).1,
            "InvalidParameter.PolicyType"
        );
        for _ in 0..3 {
            s.call("CreatePolicyVersion", &p(&[("PolicyName", "pol"), ("PolicyDocument", DOC)])).unwrap();
        }
        assert_eq!(
            code(s.call("CreatePolicyVersion", &p(&[("PolicyName", "pol"), ("PolicyDocument", DOC)]))).1,
            "LimitExceeded.Policy.Version"
        );
        let rotated = s
            .call(
                "CreatePolicyVersion",
                &p(&[
                    ("PolicyName", "pol"),
                    ("PolicyDocument", DOC),
                    ("RotateStrategy", "DeleteOldestNonDefaultVersionWhenLimitExceeded"),
                ]),
            )
            .unwrap();
        assert_eq!(rotated["PolicyVersion"]["VersionId"], "v6");
        let versions = s.call("ListPolicyVersions", &p(&[("PolicyName", "pol"), ("PolicyType", "Custom")])).unwrap();
        let ids: Vec<&str> = versions["PolicyVersions"]["PolicyVersion"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["VersionId"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["v2", "v3", "v4", "v5", "v6"]);
        assert_eq!(
            code(s.call("DeletePolicyVersion", &p(&[("PolicyName", "pol"), ("VersionId", "v2")]))).1,
            "DeleteConflict.Policy.Version.Default"
        );
        assert_eq!(code(s.call("DeletePolicy", &p(&[("PolicyName", "pol")]))).1, "DeleteConflict.Policy.Version");
        s.call("DeletePolicy", &p(&[("PolicyName", "pol"), ("CascadingDelete", "true")])).unwrap();
        assert_eq!(code(s.call("DeletePolicy", &p(&[("PolicyName", "pol")]))), (404, "EntityNotExist.Policy".into()));
    }

    #[test]
    fn attachments() {
        let mut s = RamState::seeded();
        s.call("CreateUser", &p(&[("UserName", "u")])).unwrap();
        let att = |pt: &str, pn: &str| p(&[("PolicyType", pt), ("PolicyName", pn), ("UserName", "u")]);
        assert_eq!(
            code(s.call("AttachPolicyToUser", &att("Custom", "missing"))),
            (404, "EntityNotExist.Policy".into())
        );
        s.call("AttachPolicyToUser", &att("System", "ReadOnlyAccess")).unwrap();
        assert_eq!(
            code(s.call("AttachPolicyToUser", &att("System", "ReadOnlyAccess"))),
            (409, "EntityAlreadyExists.User.Policy".into())
        );
        let list = s.call("ListPoliciesForUser", &p(&[("UserName", "u")])).unwrap();
        assert_eq!(list["Policies"]["Policy"][0]["PolicyName"], "ReadOnlyAccess");
        assert_eq!(list["Policies"]["Policy"][0]["PolicyType"], "System");
        s.call("DetachPolicyFromUser", &att("System", "ReadOnlyAccess")).unwrap();
        assert_eq!(
            code(s.call("DetachPolicyFromUser", &att("System", "ReadOnlyAccess"))),
            (404, "EntityNotExist.User.Policy".into())
        );
        assert_eq!(code(s.call("ListPoliciesForUser", &p(&[("UserName", "x")]))).1, "EntityNotExist.User");
    }
}

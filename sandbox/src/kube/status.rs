//! Kubernetes `Status` error values, shaped like the real API server's responses.
//!
//! API conventions, "Response Status Kind": every failure is a `Status` object with `kind: Status`,
//! `apiVersion: v1`, `status: Failure`, a human `message`, a machine `reason`, optional `details`
//! (`name`, `group`, `kind`, `causes`, `retryAfterSeconds`) and the HTTP `code`.

use serde_json::{json, Map, Value};

/// One entry of `details.causes` (`metav1.StatusCause`).
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    pub reason: Option<String>,
    pub message: String,
    pub field: Option<String>,
}

/// A failed API call: becomes a `Status` body with the same HTTP code.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub reason: String,
    pub message: String,
    pub name: Option<String>,
    pub group: Option<String>,
    /// `details.kind`: the resource (plural) for most errors, the Kind for `Invalid`.
    pub kind: Option<String>,
    pub causes: Vec<Cause>,
    pub retry_after_seconds: Option<u64>,
    /// Whether `details` is written even when empty (`{}`), as the server does for some reasons.
    pub empty_details: bool,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.reason, self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// `resource.group` as the server prints a GroupResource (`daemonsets.apps`, `configmaps`).
pub fn qualified(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

fn opt(s: &str) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s.to_string())
    }
}

impl ApiError {
    pub fn new(code: u16, reason: &str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason: reason.to_string(),
            message: message.into(),
            name: None,
            group: None,
            kind: None,
            causes: Vec::new(),
            retry_after_seconds: None,
            empty_details: false,
        }
    }

    /// `errors.NewNotFound`: `configmaps "x" not found`.
    pub fn not_found(group: &str, resource: &str, name: &str) -> Self {
        let mut e = Self::new(404, "NotFound", format!("{} \"{name}\" not found", qualified(group, resource)));
        e.name = opt(name);
        e.group = opt(group);
        e.kind = opt(resource);
        e
    }

    /// The generic 404 for an unknown path or resource (`errors.NewGenericServerResponse(404)`).
    pub fn no_such_resource() -> Self {
        let mut e = Self::new(404, "NotFound", "the server could not find the requested resource");
        e.empty_details = true;
        e
    }

    /// `errors.NewAlreadyExists`.
    pub fn already_exists(group: &str, resource: &str, name: &str) -> Self {
        let mut e =
            Self::new(409, "AlreadyExists", format!("{} \"{name}\" already exists", qualified(group, resource)));
        e.name = opt(name);
        e.group = opt(group);
        e.kind = opt(resource);
        e
    }

    /// `errors.NewConflict` with the optimistic-concurrency message of the generic registry.
    pub fn conflict_modified(group: &str, resource: &str, name: &str) -> Self {
        Self::conflict(
            group,
            resource,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// `errors.NewConflict`: `Operation cannot be fulfilled on <gr> "<name>": <why>`.
    pub fn conflict(group: &str, resource: &str, name: &str, why: &str) -> Self {
        let mut e = Self::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on {} \"{name}\": {why}", qualified(group, resource)),
        );
        e.name = opt(name);
        e.group = opt(group);
        e.kind = opt(resource);
        e
    }

    /// `errors.NewInvalid`: `<Kind>[.group] "<name>" is invalid: <field errors>` with one cause each.
    pub fn invalid(group: &str, kind: &str, name: &str, causes: Vec<Cause>) -> Self {
        let qualified_kind = if group.is_empty() { kind.to_string() } else { format!("{kind}.{group}") };
        let parts: Vec<String> = causes
            .iter()
            .map(|c| match &c.field {
                Some(f) => format!("{f}: {}", c.message),
                None => c.message.clone(),
            })
            .collect();
        let joined = if parts.len() == 1 { parts[0].clone() } else { format!("[{}]", parts.join(", ")) };
        let mut e = Self::new(422, "Invalid", format!("{qualified_kind} \"{name}\" is invalid: {joined}"));
        e.name = opt(name);
        e.group = opt(group);
        e.kind = opt(kind);
        e.causes = causes;
        e
    }

    /// A 422 that is not tied to a field (`errors.NewGenericServerResponse(422)`), e.g. a failed JSON patch `test`.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(422, "Invalid", message)
    }

    /// `errors.NewBadRequest`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// `errors.NewMethodNotSupported` as the handler answers an unsupported verb.
    pub fn method_not_allowed() -> Self {
        let mut e =
            Self::new(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
        e.empty_details = true;
        e
    }

    /// 415 for a body type the endpoint does not accept (the message names what is accepted).
    pub fn unsupported_media_type(_content_type: &str, accepted: &[&str]) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    /// The max-in-flight filter's 429.
    pub fn too_many_requests(retry_after_seconds: u64) -> Self {
        let mut e = Self::new(429, "TooManyRequests", "Too many requests, please try again later.");
        e.retry_after_seconds = Some(retry_after_seconds);
        e
    }

    pub fn service_unavailable() -> Self {
        Self::new(503, "ServiceUnavailable", "the server is currently unable to handle the request")
    }

    /// `errors.NewInternalError`.
    pub fn internal(why: &str) -> Self {
        let mut e = Self::new(500, "InternalError", format!("Internal error occurred: {why}"));
        e.causes.push(Cause { reason: None, message: why.to_string(), field: None });
        e
    }

    /// Attach `details.name/group/kind` (resource plural) to a generic error.
    pub fn with_target(mut self, group: &str, resource: &str, name: &str) -> Self {
        self.name = opt(name);
        self.group = opt(group);
        self.kind = opt(resource);
        self
    }

    /// The `Status` object the server writes for this error.
    pub fn to_status(&self) -> Value {
        let mut details = Map::new();
        if let Some(n) = &self.name {
            details.insert("name".into(), json!(n));
        }
        if let Some(g) = &self.group {
            details.insert("group".into(), json!(g));
        }
        if let Some(k) = &self.kind {
            details.insert("kind".into(), json!(k));
        }
        if !self.causes.is_empty() {
            let causes: Vec<Value> = self
                .causes
                .iter()
                .map(|c| {
                    let mut m = Map::new();
                    if let Some(r) = &c.reason {
                        m.insert("reason".into(), json!(r));
                    }
                    m.insert("message".into(), json!(c.message));
                    if let Some(f) = &c.field {
                        m.insert("field".into(), json!(f));
                    }
                    Value::Object(m)
                })
                .collect();
            details.insert("causes".into(), Value::Array(causes));
        }
        if let Some(s) = self.retry_after_seconds {
            details.insert("retryAfterSeconds".into(), json!(s));
        }
        let mut status = Map::new();
        status.insert("kind".into(), json!("Status"));
        status.insert("apiVersion".into(), json!("v1"));
        status.insert("metadata".into(), json!({}));
        status.insert("status".into(), json!("Failure"));
        status.insert("message".into(), json!(self.message));
        status.insert("reason".into(), json!(self.reason));
        if !details.is_empty() || self.empty_details {
            status.insert("details".into(), Value::Object(details));
        }
        status.insert("code".into(), json!(self.code));
        Value::Object(status)
    }
}

/// A field error for `ApiError::invalid` (`field.Invalid` / `field.Required` / ...).
pub fn field_invalid(field: &str, value: &Value, detail: &str) -> Cause {
    let shown = match value {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    };
    Cause {
        reason: Some("FieldValueInvalid".into()),
        message: format!("Invalid value: {shown}: {detail}"),
        field: Some(field.to_string()),
    }
}

pub fn field_required(field: &str, detail: &str) -> Cause {
    Cause {
        reason: Some("FieldValueRequired".into()),
        message: if detail.is_empty() { "Required value".to_string() } else { format!("Required value: {detail}") },
        field: Some(field.to_string()),
    }
}

pub fn field_forbidden(field: &str, detail: &str) -> Cause {
    Cause {
        reason: Some("FieldValueForbidden".into()),
        message: format!("Forbidden: {detail}"),
        field: Some(field.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // API conventions, "Response Status Kind": NotFound names the group-qualified resource and the name.
    #[test]
    fn not_found_shape() {
        let s = ApiError::not_found("apps", "daemonsets", "calico-node").to_status();
        assert_eq!(
            s,
            json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                "message":"daemonsets.apps \"calico-node\" not found","reason":"NotFound",
                "details":{"name":"calico-node","group":"apps","kind":"daemonsets"},"code":404})
        );
    }

    // API conventions, "HTTP Status codes" 422 / "Response Status Kind" causes: Invalid names the Kind.
    #[test]
    fn invalid_shape_lists_causes() {
        let e = ApiError::invalid(
            "",
            "ConfigMap",
            "Bad",
            vec![field_invalid("metadata.name", &json!("Bad"), "must be lowercase")],
        );
        let s = e.to_status();
        assert_eq!(
            s["message"],
            json!("ConfigMap \"Bad\" is invalid: metadata.name: Invalid value: \"Bad\": must be lowercase")
        );
        assert_eq!(s["details"]["kind"], json!("ConfigMap"));
        assert_eq!(s["details"]["causes"][0]["reason"], json!("FieldValueInvalid"));
        assert_eq!(s["code"], json!(422));
    }

    // API conventions, "Concurrency Control and Consistency": a stale resourceVersion is a 409 Conflict.
    #[test]
    fn conflict_message() {
        let s = ApiError::conflict_modified("", "configmaps", "x").to_status();
        assert_eq!(s["reason"], json!("Conflict"));
        assert!(s["message"]
            .as_str()
            .unwrap()
            .starts_with("Operation cannot be fulfilled on configmaps \"x\": the object has been modified"));
    }
}

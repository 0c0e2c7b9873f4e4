//! Error values of the cloud APIs and their wire shapes.
//!
//! RPC services (RAM, VPC, ECS) answer `{"RequestId","HostId","Code","Message","Recommend"}`; CS (ROA)
//! answers `{"code","message","requestId"}`. The HTTP statuses follow the services' error-code pages
//! (RAM: 400 invalid parameter, 404 entity missing, 409 conflicts and limits).

use serde_json::{json, Value};

/// How a service shapes its bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Rpc,
    Roa,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

pub type CloudResult<T> = Result<T, CloudError>;

impl CloudError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        CloudError { status, code: code.to_string(), message: message.into() }
    }

    /// A required parameter is absent (the generic gateway wording).
    pub fn missing(param: &str) -> Self {
        Self::new(
            400,
            "MissingParameter",
            format!("The input parameter \"{param}\" that is mandatory for processing this request is not supplied."),
        )
    }

    pub fn invalid(code: &str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    pub fn not_found(code: &str, message: impl Into<String>) -> Self {
        Self::new(404, code, message)
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(409, code, message)
    }

    pub fn api_not_found() -> Self {
        Self::new(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
    }

    pub fn throttled(status: u16) -> Self {
        Self::new(status, "Throttling.User", "Request was denied due to user flow control.")
    }

    pub fn service_unavailable() -> Self {
        Self::new(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")
    }

    pub fn internal() -> Self {
        Self::new(
            500,
            "InternalError",
            "The request processing has failed due to some unknown error, exception or failure.",
        )
    }

    /// The body for `style`; `host_id` is the service host RPC bodies echo.
    pub fn body(&self, style: Style, request_id: &str, host_id: &str, product: &str) -> Value {
        match style {
            Style::Rpc => json!({
                "RequestId": request_id,
                "HostId": host_id,
                "Code": self.code,
                "Message": self.message,
                "Recommend": format!(
                    "https://api.aliyun.com/troubleshoot?q={}&product={product}&requestId={request_id}",
                    self.code
                ),
            }),
            Style::Roa => json!({"code": self.code, "message": self.message, "requestId": request_id}),
        }
    }
}

impl std::fmt::Display for CloudError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for CloudError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_have_each_style_casing() {
        let e = CloudError::not_found("EntityNotExist.User", "The user does not exist.");
        let rpc = e.body(Style::Rpc, "RID", "ram.aliyuncs.com", "Ram");
        assert_eq!(rpc["Code"], "EntityNotExist.User");
        assert_eq!(rpc["HostId"], "ram.aliyuncs.com");
        assert!(rpc["Recommend"].as_str().unwrap().contains("requestId=RID"));
        let roa = e.body(Style::Roa, "RID", "cs.cn-hangzhou.aliyuncs.com", "CS");
        assert_eq!(roa, json!({"code":"EntityNotExist.User","message":"The user does not exist.","requestId":"RID"}));
    }
}

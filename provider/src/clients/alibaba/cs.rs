//! Container Service calls shared by several resources: cluster checks and waiting for tasks.

use std::time::{Duration, Instant};

use http::Method;
use serde_json::Value as Json;

use super::{Alibaba, CloudError, Retry};

/// `cluster_type` of an ACK One registered cluster.
pub const REGISTERED_CLUSTER_TYPE: &str = "ExternalKubernetes";

impl Alibaba {
    /// DescribeClusterDetail.
    pub async fn describe_cluster(&self, cluster_id: &str) -> Result<Json, CloudError> {
        self.cs("DescribeClusterDetail", Method::GET, &format!("/clusters/{cluster_id}"), &[], None, Retry::Idempotent)
            .await
    }

    /// Checks that `cluster_id` is a registered (external) cluster; the error says what it is instead.
    pub async fn check_registered_cluster(&self, cluster_id: &str) -> Result<Json, String> {
        match self.describe_cluster(cluster_id).await {
            Ok(c) if c["cluster_type"].as_str() == Some(REGISTERED_CLUSTER_TYPE) => Ok(c),
            Ok(c) => Err(format!(
                "cluster {cluster_id} is a {} cluster, not an ACK One registered cluster ({REGISTERED_CLUSTER_TYPE})",
                c["cluster_type"].as_str().unwrap_or("unknown")
            )),
            Err(e) if e.is_not_found() => {
                Err(format!("cluster {cluster_id} does not exist in {} ({e})", self.region()))
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// Polls DescribeTaskInfo until the task ends. `Ok(())` on success; the task's error otherwise,
    /// or a `Timeout` error (the task goes on in the cloud) when `timeout` passes first.
    pub async fn wait_task(&self, task_id: &str, timeout: Duration) -> Result<(), CloudError> {
        let call = "cs DescribeTaskInfo";
        let deadline = Instant::now() + timeout;
        let mut interval = Duration::from_millis(250);
        loop {
            let t = self
                .cs("DescribeTaskInfo", Method::GET, &format!("/tasks/{task_id}"), &[], None, Retry::Idempotent)
                .await?;
            match t["state"].as_str().unwrap_or_default() {
                "success" => return Ok(()),
                "failed" | "fail" | "canceled" | "cancelled" => {
                    return Err(CloudError {
                        code: t["error"]["code"].as_str().unwrap_or("TaskFailed").to_string(),
                        message: format!(
                            "task {task_id} failed: {}",
                            t["error"]["message"].as_str().unwrap_or("no message")
                        ),
                        request_id: None,
                        status: 0,
                        call: call.into(),
                    })
                }
                _ => {}
            }
            if Instant::now() >= deadline {
                return Err(CloudError::local(
                    call,
                    "Timeout",
                    format!("task {task_id} did not finish within {}s; it goes on in the cloud", timeout.as_secs()),
                ));
            }
            tracing::debug!(task_id, "task still running");
            let wait = interval.min(deadline.saturating_duration_since(Instant::now()));
            match &self.cancel {
                Some(c) => tokio::select! {
                    _ = c.cancelled() => return Err(CloudError::local(call, "Cancelled", "the operation was cancelled")),
                    _ = tokio::time::sleep(wait) => {}
                },
                None => tokio::time::sleep(wait).await,
            }
            interval = (interval * 2).min(Duration::from_secs(5));
        }
    }
}

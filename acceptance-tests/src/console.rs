//! Out-of-band changes to the sandbox's cloud, as someone in the console or another tool would make
//! them (detach a policy, delete a key, relabel a node pool), through the provider's own API client
//! with the credentials of `sandbox.env`.

use anyhow::{anyhow, Context, Result};
use serde_json::Value;
use terraform_provider_hybrid::clients::alibaba::{Alibaba, Retry, Service};
use terraform_provider_hybrid::provider::config::EndpointSettings;
use terraform_provider_hybrid::provider::ProviderConfig;

use crate::Sandbox;

pub struct Console {
    rt: tokio::runtime::Runtime,
    client: Alibaba,
}

impl Console {
    pub fn for_sandbox(sb: &Sandbox) -> Result<Console> {
        let var = |k: &str| sb.var(k).map(str::to_string).with_context(|| format!("sandbox.env has no {k}"));
        let cfg = ProviderConfig {
            region: Some(var("ALIBABA_CLOUD_REGION")?),
            access_key: Some(var("ALIBABA_CLOUD_ACCESS_KEY_ID")?),
            secret_key: Some(var("ALIBABA_CLOUD_ACCESS_KEY_SECRET")?),
            endpoints: EndpointSettings {
                ram: Some(var("HYBRID_ENDPOINT_RAM")?),
                cs: Some(var("HYBRID_ENDPOINT_CS")?),
                vpc: Some(var("HYBRID_ENDPOINT_VPC")?),
                ecs: Some(var("HYBRID_ENDPOINT_ECS")?),
            },
            ..Default::default()
        };
        let client = Alibaba::new(&cfg, &|_| None).map_err(|e| anyhow!(e))?.context("no credentials")?;
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok(Console { rt, client })
    }

    /// An RPC call (`ram`, `vpc`, `ecs`).
    pub fn rpc(&self, service: &str, action: &str, params: &[(&str, &str)]) -> Result<Value> {
        let service = match service {
            "ram" => Service::Ram,
            "vpc" => Service::Vpc,
            "ecs" => Service::Ecs,
            other => return Err(anyhow!("unknown RPC service {other}")),
        };
        let params: Vec<(&str, String)> = params.iter().map(|(k, v)| (*k, v.to_string())).collect();
        Ok(self.rt.block_on(self.client.rpc(service, action, &params, Retry::Never))?)
    }

    /// A Container Service call.
    pub fn cs(&self, action: &str, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let method: http::Method = method.parse()?;
        Ok(self.rt.block_on(self.client.cs(action, method, path, &[], body.as_ref(), Retry::Never))?)
    }

    /// Waits for a CS task.
    pub fn wait_task(&self, task_id: &str) -> Result<()> {
        Ok(self.rt.block_on(self.client.wait_task(task_id, std::time::Duration::from_secs(60)))?)
    }
}

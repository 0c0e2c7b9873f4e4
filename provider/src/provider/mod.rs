//! The `hybrid` provider: configuration schema, validation, and the types it offers.

pub mod config;

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;

pub use config::KubernetesSettings;
pub use config::ProviderConfig;

use crate::cty::Value;
use crate::framework::schema::Nesting;
use crate::framework::validators::Check;
use crate::framework::{Attribute, Block, DataSource, Diagnostics, NestedBlock, ProviderDef, Resource, Schema};

pub struct HybridProvider;

fn url_check(v: &Value) -> Result<(), String> {
    config::check_endpoint(v.as_str().unwrap_or_default())
}

fn endpoints_block() -> NestedBlock {
    let ep = |name: &str, service: &str, env: &str| {
        Attribute::string(name)
            .optional()
            .description(&format!(
                "Endpoint of the {service} API, as a host name or URL (`https://` is assumed). Overrides the default \
                 endpoint; the environment variable `{env}` does the same."
            ))
            .validate(Check { description: "A host name or an http(s) URL.", check: url_check })
    };
    NestedBlock {
        type_name: "endpoints".into(),
        nesting: Nesting::Single,
        block: Block::new("Custom API endpoints, e.g. for a private network or a test environment.")
            .attr(ep("ram", "RAM", "HYBRID_ENDPOINT_RAM"))
            .attr(ep("cs", "Container Service (ACK)", "HYBRID_ENDPOINT_CS"))
            .attr(ep("vpc", "VPC", "HYBRID_ENDPOINT_VPC"))
            .attr(ep("ecs", "ECS", "HYBRID_ENDPOINT_ECS")),
        min_items: 0,
        max_items: 0,
    }
}

fn kubernetes_block() -> NestedBlock {
    NestedBlock {
        type_name: "kubernetes".into(),
        nesting: Nesting::Single,
        block: Block::new(
            "How to reach the registered cluster's Kubernetes API. Without this block, the kubeconfig named by \
             `KUBECONFIG` (or `~/.kube/config`) and its current context are used.",
        )
        .attr(
            Attribute::string("config_path")
                .optional()
                .description("Path to a kubeconfig file. Defaults to `KUBECONFIG`, then `~/.kube/config`."),
        )
        .attr(
            Attribute::string("config_context")
                .optional()
                .description("Context of the kubeconfig to use. Defaults to its current context."),
        )
        .attr(
            Attribute::string("host")
                .optional()
                .description("API server URL. Set with `token` (and `cluster_ca_certificate`) instead of a kubeconfig.")
                .validate(Check { description: "An https URL.", check: url_check }),
        )
        .attr(Attribute::string("token").optional().sensitive().description("Bearer token for `host`."))
        .attr(
            Attribute::string("cluster_ca_certificate")
                .optional()
                .description("PEM-encoded CA certificate of the API server."),
        )
        .attr(
            Attribute::bool("insecure")
                .optional()
                .description("Skip verification of the API server's certificate. For test clusters only."),
        ),
        min_items: 0,
        max_items: 0,
    }
}

#[async_trait]
impl ProviderDef for HybridProvider {
    fn type_name(&self) -> &'static str {
        "hybrid"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new(
                "The `hybrid` provider deploys the Terway network plugin onto the cloud nodes of an Alibaba Cloud ACK \
                 One registered (hybrid) cluster, and keeps the on-premises CNI off them.",
            )
            .attr(Attribute::string("region").optional().description(
                "Alibaba Cloud region, e.g. `cn-hangzhou`. Defaults to `ALIBABA_CLOUD_REGION`, then `ALICLOUD_REGION`, then the profile's region.",
            ))
            .attr(Attribute::string("access_key").optional().description(
                "AccessKey ID. Defaults to `ALIBABA_CLOUD_ACCESS_KEY_ID`, then `ALICLOUD_ACCESS_KEY`, then the profile.",
            ))
            .attr(Attribute::string("secret_key").optional().sensitive().description(
                "AccessKey secret. Defaults to `ALIBABA_CLOUD_ACCESS_KEY_SECRET`, then `ALICLOUD_SECRET_KEY`, then the profile.",
            ))
            .attr(Attribute::string("security_token").optional().sensitive().description(
                "STS security token for temporary credentials. Defaults to `ALIBABA_CLOUD_SECURITY_TOKEN`, then `ALICLOUD_SECURITY_TOKEN`.",
            ))
            .attr(Attribute::string("profile").optional().description(
                "Profile of the shared credentials file to use. Defaults to `ALIBABA_CLOUD_PROFILE`, then the file's current profile.",
            ))
            .attr(Attribute::string("shared_credentials_file").optional().description(
                "Path of the aliyun CLI config file holding profiles. Defaults to `~/.aliyun/config.json`.",
            ))
            .block(endpoints_block())
            .block(kubernetes_block()),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        config::validate(config, diags);
    }

    async fn configure(
        &self,
        config: &Value,
        terraform_version: &str,
        diags: &mut Diagnostics,
    ) -> Option<Arc<dyn Any + Send + Sync>> {
        let cfg = ProviderConfig::from_value(config, terraform_version, diags)?;
        Some(Arc::new(cfg))
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        crate::resources::all()
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        crate::datasources::all()
    }
}

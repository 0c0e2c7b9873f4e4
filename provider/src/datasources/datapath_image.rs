//! `hybrid_datapath_image`: the Terway node datapath image references bundled in the provider.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::Serialize;

use crate::cty::{Type, Value};
use crate::datapath;
use crate::framework::validators::Check;
use crate::framework::{model, AttrPath, Attribute, Block, Ctx, DataSource, Diagnostics, Schema};

pub struct DatapathImage;

#[derive(Serialize)]
struct State {
    region: String,
    version: String,
    registry: String,
    vpc_registry: String,
    repository: String,
    tag: String,
    image: String,
    vpc_image: String,
    images: BTreeMap<String, String>,
    vpc_images: BTreeMap<String, String>,
}

#[async_trait]
impl DataSource for DatapathImage {
    fn type_name(&self) -> &'static str {
        "hybrid_datapath_image"
    }

    fn schema(&self) -> Schema {
        let computed = |name: &str, d: &str| Attribute::string(name).computed().description(d);
        Schema::new(
            0,
            Block::new(
                "The Terway node datapath image references for a region and Terway version, as bundled in this \
                 provider version. Use it to pre-pull or mirror the images cloud nodes will run.",
            )
            .attr(
                Attribute::string("region")
                    .required()
                    .description("Alibaba Cloud region of the cluster, e.g. `cn-hangzhou`.")
                    .validate(Check {
                        description: "A region this provider knows.",
                        check: |v: &Value| {
                            datapath::check_region(v.as_str().unwrap_or_default()).map_err(|e| e.to_string())
                        },
                    }),
            )
            .attr(
                Attribute::string("version")
                    .optional()
                    .computed()
                    .description(&format!(
                        "Terway version (`terway-eniip` addon version). Defaults to `{}`.",
                        datapath::CURRENT_VERSION
                    ))
                    .validate(Check {
                        description: "A Terway version this provider knows.",
                        check: |v: &Value| {
                            datapath::check_version(v.as_str().unwrap_or_default())
                                .map(|_| ())
                                .map_err(|e| e.to_string())
                        },
                    }),
            )
            .attr(computed("registry", "Registry host for pulls over the internet."))
            .attr(computed("vpc_registry", "Registry host for pulls from inside a VPC."))
            .attr(computed("repository", "Repository of the datapath image (`acs/terway`)."))
            .attr(computed("tag", "Tag of the datapath image."))
            .attr(computed("image", "Full reference of the datapath image through `registry`."))
            .attr(computed("vpc_image", "Full reference of the datapath image through `vpc_registry`."))
            .attr(
                Attribute::new("images", Type::map(Type::String))
                    .computed()
                    .description("Every image of the release by component name, through `registry`."),
            )
            .attr(
                Attribute::new("vpc_images", Type::map(Type::String))
                    .computed()
                    .description("Every image of the release by component name, through `vpc_registry`."),
            ),
        )
    }

    async fn read(&self, _ctx: &Ctx, config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let region = config.get("region").and_then(Value::as_str).unwrap_or_default();
        let version = config.get("version").and_then(Value::as_str);
        let found = match datapath::lookup(region, version) {
            Ok(found) => found,
            Err(e) => {
                let attr = if matches!(e, datapath::LookupError::UnknownRegion(_)) { "region" } else { "version" };
                diags.error_at(AttrPath::attr(attr), "No bundled datapath image", e.to_string());
                return None;
            }
        };
        let dp = found.datapath();
        let all = |vpc: bool| found.images.iter().map(|i| (i.component.to_string(), found.reference(i, vpc))).collect();
        let state = State {
            region: found.region.clone(),
            version: found.version.to_string(),
            registry: found.registry.clone(),
            vpc_registry: found.vpc_registry.clone(),
            repository: dp.repository.to_string(),
            tag: dp.tag.to_string(),
            image: found.reference(dp, false),
            vpc_image: found.reference(dp, true),
            images: all(false),
            vpc_images: all(true),
        };
        diags.capture(model::encode(&state, &self.schema().value_type()))
    }
}

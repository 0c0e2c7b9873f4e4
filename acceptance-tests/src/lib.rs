//! Acceptance-test harness: drives the real Terraform CLI against the provider, in the manner of
//! HashiCorp's terraform-plugin-testing.
//!
//! Each [`TestCase`] gets a temporary directory with a filesystem mirror holding the freshly built
//! provider (`registry.terraform.io/hybridops/hybrid`), a CLI config that allows nothing else, a
//! private `HOME`, and a working directory; `terraform init` therefore runs offline.
//!
//! ```no_run
//! use acceptance_tests::{check, Step, TestCase};
//!
//! # fn main() -> anyhow::Result<()> {
//! let mut t = TestCase::new("datapath_image_reads")?;
//! t.run_steps(vec![
//!     Step::apply(r#"data "hybrid_datapath_image" "x" { region = "cn-hangzhou" }"#)
//!         .check(check::attr_eq("data.hybrid_datapath_image.x", "region", "cn-hangzhou")),
//!     Step::plan_empty(),
//!     Step::destroy(),
//! ])?;
//! # Ok(())
//! # }
//! ```
//!
//! [`Workspace`] is a plainer imperative API over the same machinery (`config`, `apply`,
//! `outputs`, `expect_failure`); [`TestCase`] adds plan JSON, state lookups, checks and steps.
//!
//! Terraform comes from `TF_ACC_TERRAFORM_PATH` or `.tools/bin/terraform`
//! (`scripts/install-terraform.sh`); the provider from `TF_ACC_PROVIDER_PATH` or the target
//! directory (`cargo build -p terraform-provider-hybrid` first). `TF_ACC_KEEP=1` keeps each
//! test's directory; `TF_ACC_COMMAND_TIMEOUT` (seconds) bounds each command.

pub mod case;
pub mod check;
pub mod cli_config;
pub mod command;
pub mod console;
pub mod discover;
pub mod env_file;
pub mod mirror;
pub mod plan;
pub mod sandbox;
pub mod state;
pub mod step;
pub mod workspace;

pub use case::{Cmd, TestCase};
pub use check::Check;
pub use command::{CmdOutput, CommandError};
pub use console::Console;
pub use plan::PlanResult;
pub use sandbox::Sandbox;
pub use state::State;
pub use step::Step;

pub use cli_config::cli_config;
pub use discover::{provider_path, repo_root, terraform_path};
pub use env_file::parse_env_file;
pub use mirror::PROVIDER_VERSION;
pub use workspace::{Run, Workspace};

/// The provider's source address, `registry.terraform.io/hybridops/hybrid`.
pub const PROVIDER_SOURCE: &str = "registry.terraform.io/hybridops/hybrid";

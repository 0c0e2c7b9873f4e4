//! terraform-provider-hybrid: deploys the Terway CNI onto the cloud nodes of an ACK One
//! registered (hybrid) cluster, with drift detection.
//!
//! Layers, each unaware of the ones above it:
//! - `serve`: go-plugin serving (handshake, mTLS, health, controller, stdio), hclog logging.
//! - `cty`: Terraform values and their wire encodings.
//! - `framework`: schemas, plan/apply/read/import flows, diagnostics; resources plug into it.
//! - `server`: the tfplugin6 gRPC service, converting protocol messages to framework calls.
//! - `clients`: Alibaba Cloud and Kubernetes API clients.
//! - `datasources`, `resources`: one file per Terraform type.

pub mod clients;
pub mod cty;
pub mod datapath;
pub mod datasources;
pub mod docs;
pub mod framework;
pub mod provider;
pub mod resources;
pub mod serve;
pub mod server;

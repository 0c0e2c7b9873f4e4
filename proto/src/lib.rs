//! Generated gRPC bindings for the Terraform plugin protocol (tfplugin6) and go-plugin.
#![allow(clippy::all, clippy::pedantic, missing_docs)]

/// `tfplugin6`: the Terraform provider protocol, version 6.10.
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// `plugin`: go-plugin's controller, stdio and broker services.
pub mod plugin {
    tonic::include_proto!("plugin");
}

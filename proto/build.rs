//! Compiles the protocol definitions with `protox` (a pure-Rust protobuf compiler), so a
//! fresh machine needs no `protoc` binary.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["defs/tfplugin6.proto", "defs/goplugin.proto"];
    for f in &files {
        println!("cargo:rerun-if-changed={f}");
    }
    let descriptors = protox::compile(files, ["defs"])?;
    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(descriptors)?;
    Ok(())
}

//! The harness's sandbox process: starts, serves kubectl, writes sandbox.env, stops on drop.

use acceptance_tests::Sandbox;

#[test]
fn sandbox_starts_serves_kubectl_and_stops() -> anyhow::Result<()> {
    let sb = Sandbox::start("bgp", &[])?;
    assert!(sb.url.starts_with("https://127.0.0.1:"), "{}", sb.url);
    assert!(sb.var("TF_VAR_cluster_id").is_some(), "sandbox.env lacks TF_VAR_cluster_id");
    let ds = sb.get_json(&["daemonset", "-n", "kube-system", "calico-node"])?;
    assert_eq!(ds["metadata"]["name"], "calico-node");
    let url = sb.url.clone();
    drop(sb);
    let addr = url.trim_start_matches("https://");
    assert!(std::net::TcpStream::connect(addr).is_err(), "sandbox still listening on {addr}");
    Ok(())
}

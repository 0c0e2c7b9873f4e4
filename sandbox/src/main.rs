//! `hybrid-sandbox`: serves a seeded Kubernetes API (and, later, the Alibaba Cloud APIs) on 127.0.0.1.

use anyhow::{bail, Context, Result};
use hybrid_sandbox::{FaultConfig, SandboxOptions, Scenario};
use std::path::PathBuf;

const USAGE: &str = "Usage: hybrid-sandbox --dir DIR [--scenario bgp|bgp-operator|overlay|host] [--port PORT]
                      [--fault-latency-ms MS] [--fault-429-rate P] [--fault-5xx-rate P] [--fault-5xx-code 500|503]
                      [--fault-conflict-rate P] [--fault-retry-after SECONDS]

Serves the Kubernetes API over HTTPS on 127.0.0.1 (ephemeral port unless --port), writes DIR/kubeconfig,
DIR/ca.crt, DIR/sandbox.env and DIR/sandbox.pid, prints `kubeconfig: PATH` and then `ready: URL`, and
runs until SIGINT or SIGTERM. Every --fault-* flag can also be given as an environment variable
(HYBRID_SANDBOX_FAULT_LATENCY_MS, ..._429_RATE, ..._5XX_RATE, ..._5XX_CODE, ..._CONFLICT_RATE,
..._RETRY_AFTER); faults change at run time with POST /__sandbox/faults (see README).

Scenarios (each: a registered cluster with on-prem nodes and two cloud nodes labelled
alibabacloud.com/external=true in two zones, cloud node pools, a vSwitch per zone and a security group):
  bgp           Calico in BGP mode (IPPool without IPIP/VXLAN, BGPConfiguration, BGPPeers), DaemonSet
                kube-system/calico-node with an existing required node-affinity term (default)
  bgp-operator  the same Calico network managed by the tigera operator (Installation `default`,
                calico-system/calico-node owned by it)
  overlay       Flannel with the VXLAN backend (kube-flannel/kube-flannel-ds, kube-flannel-cfg)
  host          host networking: no CNI DaemonSet";

fn parse<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T> {
    v.parse().map_err(|_| anyhow::anyhow!("invalid value {v:?} for {flag}"))
}

fn options(args: &[String]) -> Result<SandboxOptions> {
    let mut opts = SandboxOptions::default();
    let mut faults = FaultConfig::default();
    let env_flags = [
        ("--fault-latency-ms", "HYBRID_SANDBOX_FAULT_LATENCY_MS"),
        ("--fault-429-rate", "HYBRID_SANDBOX_FAULT_429_RATE"),
        ("--fault-5xx-rate", "HYBRID_SANDBOX_FAULT_5XX_RATE"),
        ("--fault-5xx-code", "HYBRID_SANDBOX_FAULT_5XX_CODE"),
        ("--fault-conflict-rate", "HYBRID_SANDBOX_FAULT_CONFLICT_RATE"),
        ("--fault-retry-after", "HYBRID_SANDBOX_FAULT_RETRY_AFTER"),
    ];
    let mut pairs: Vec<(String, String)> =
        env_flags.iter().filter_map(|(flag, env)| std::env::var(env).ok().map(|v| (flag.to_string(), v))).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "-h" || a == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (a.clone(), None),
        };
        let value = match inline {
            Some(v) => v,
            None => it.next().cloned().with_context(|| format!("{flag} needs a value\n\n{USAGE}"))?,
        };
        pairs.push((flag, value));
    }
    for (flag, v) in pairs {
        match flag.as_str() {
            "--dir" => opts.dir = Some(PathBuf::from(v)),
            "--scenario" => opts.scenario = v.parse::<Scenario>().map_err(anyhow::Error::msg)?,
            "--port" => opts.port = parse(&flag, &v)?,
            "--fault-latency-ms" => faults.latency_ms = parse(&flag, &v)?,
            "--fault-429-rate" => faults.rate_429 = parse(&flag, &v)?,
            "--fault-5xx-rate" => faults.rate_5xx = parse(&flag, &v)?,
            "--fault-5xx-code" => faults.code_5xx = Some(parse(&flag, &v)?),
            "--fault-conflict-rate" => faults.rate_conflict = parse(&flag, &v)?,
            "--fault-retry-after" => faults.retry_after_seconds = Some(parse(&flag, &v)?),
            other => bail!("unknown argument {other}\n\n{USAGE}"),
        }
    }
    if opts.dir.is_none() {
        bail!("--dir is required\n\n{USAGE}");
    }
    opts.faults = faults;
    Ok(opts)
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}\n\n{}", hybrid_sandbox::cloud::cli::USAGE);
        return Ok(());
    }
    let (cloud_opts, args) = hybrid_sandbox::cloud::cli::split_args(&args)?;
    let opts = options(&args)?;
    let dir = opts.dir.clone().context("--dir is required")?;
    let (opts, cloud) = hybrid_sandbox::cloud::mount(opts, cloud_opts);
    let running = hybrid_sandbox::start(opts)?;
    hybrid_sandbox::cloud::write_env(&running, &cloud)?;
    let pid_file = dir.join("sandbox.pid");
    std::fs::write(&pid_file, format!("{}\n", std::process::id()))
        .with_context(|| format!("writing {}", pid_file.display()))?;
    if let Some(kc) = &running.kubeconfig_path {
        println!("kubeconfig: {}", kc.display());
    }
    println!("env: {}", dir.join("sandbox.env").display());
    for (name, url) in &running.listeners {
        println!("listener {name}: {url}");
    }
    println!("ready: {}", running.base_url);
    use std::io::Write;
    std::io::stdout().flush()?;

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
        anyhow::Ok(())
    })?;
    running.shutdown();
    let _ = std::fs::remove_file(&pid_file);
    println!("stopped");
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("hybrid-sandbox: {e:#}");
        std::process::exit(1);
    }
}

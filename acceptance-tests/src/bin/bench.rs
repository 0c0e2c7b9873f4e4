//! `cargo run --release -p acceptance-tests --bin bench`: a report, not a test.
//!
//! Measures in one run, on this machine:
//! - handshake latency: exec of the provider → its handshake line, with AutoMTLS (median, p90);
//! - idle RSS of a serving provider (VmRSS after the handshake);
//! - `terraform plan` wall time for N `hybrid_datapath_image` reads versus N `terraform_data`
//!   resources (Terraform's in-process floor), as a ratio.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use acceptance_tests::{provider_path, Workspace};
use anyhow::{Context, Result};

const HANDSHAKES: usize = 50;
const PLAN_RUNS: usize = 5;
const N: usize = 200;

fn main() -> Result<()> {
    let provider = provider_path()?;
    println!("terraform-provider-hybrid bench ({})", provider.display());
    println!("machine: {} cores", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));

    let client = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let client_pem = rcgen::CertificateParams::new(vec!["localhost".into()])?.self_signed(&client)?.pem();

    let mut handshakes = Vec::with_capacity(HANDSHAKES);
    let mut rss_kib = Vec::new();
    for i in 0..HANDSHAKES {
        let start = Instant::now();
        let mut child = Command::new(&provider)
            .env("TF_PLUGIN_MAGIC_COOKIE", "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2")
            .env("PLUGIN_PROTOCOL_VERSIONS", "6")
            .env("PLUGIN_CLIENT_CERT", &client_pem)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
        handshakes.push(start.elapsed());
        anyhow::ensure!(line.starts_with("1|6|unix|"), "bad handshake line {line:?}");
        if i % 10 == 0 {
            std::thread::sleep(Duration::from_millis(200));
            rss_kib.push(vm_rss_kib(child.id())?);
        }
        child.kill()?;
        child.wait()?;
    }
    handshakes.sort();
    let median = handshakes[HANDSHAKES / 2];
    let p90 = handshakes[HANDSHAKES * 9 / 10];
    rss_kib.sort();
    let rss = rss_kib[rss_kib.len() / 2];

    let floor = plan_time(&"resource \"terraform_data\" \"r{i}\" { input = \"cn-hangzhou\" }\n")?;
    let ours = plan_time(&"data \"hybrid_datapath_image\" \"d{i}\" { region = \"cn-hangzhou\" }\n")?;
    let ratio = ours.as_secs_f64() / floor.as_secs_f64();

    let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
    println!();
    println!("| measure | value | target | |");
    println!("|---|---|---|---|");
    println!("| handshake median (exec → handshake line, AutoMTLS) | {:.2} ms | < 10 ms | {} |", ms(median), verdict(median < Duration::from_millis(10)));
    println!("| handshake p90 | {:.2} ms | | |", ms(p90));
    println!("| idle RSS after handshake (median) | {:.1} MiB | < 16 MiB | {} |", rss as f64 / 1024.0, verdict(rss < 16 * 1024));
    println!("| plan, {N} terraform_data (floor, median of {PLAN_RUNS}) | {:.0} ms | | |", ms(floor));
    println!("| plan, {N} hybrid_datapath_image reads (median of {PLAN_RUNS}) | {:.0} ms | | |", ms(ours));
    println!("| plan ratio (ours / floor) | {ratio:.2}x | ≤ 1.5x | {} |", verdict(ratio <= 1.5));
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn vm_rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).context("no VmRSS")?;
    Ok(line.split_whitespace().nth(1).context("VmRSS value")?.parse()?)
}

/// Median wall time of `terraform plan` over a config of N copies of `block` (`{i}` numbered).
fn plan_time(block: &str) -> Result<Duration> {
    let mut ws = Workspace::new()?;
    let config: String = (0..N).map(|i| block.replace("{i}", &i.to_string())).collect();
    ws.config(&config)?;
    ws.init()?;
    ws.plan()?; // warm-up: page cache, provider binary
    let mut times = Vec::with_capacity(PLAN_RUNS);
    for _ in 0..PLAN_RUNS {
        let start = Instant::now();
        ws.plan()?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times[PLAN_RUNS / 2])
}

//! `bash scripts/bench.sh` (release build) or `cargo run -p acceptance-tests --bin bench -- [options]`:
//! a performance report, not a test. In one run it measures
//! - handshake latency: exec of the provider → its handshake line on stdout, with the magic
//!   cookie and a `PLUGIN_CLIENT_CERT` so AutoMTLS (server key + certificate) is included;
//! - idle RSS of a serving provider (`VmRSS` from `/proc/<pid>/status` after the handshake);
//! - `terraform plan` wall time for N `data "hybrid_datapath_image"` reads versus N
//!   `terraform_data` resources (Terraform's in-process floor), as a ratio;
//!
//! and prints each against its target with PASS/FAIL. Exit status: 0 when every line passes.
//!
//! Options: `--handshakes N` (50), `--rss-samples N` (5), `--resources N` (200), `--plan-runs N` (5).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use acceptance_tests::{provider_path, TestCase};
use anyhow::{bail, Context, Result};

const MAGIC_COOKIE: (&str, &str) =
    ("TF_PLUGIN_MAGIC_COOKIE", "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2");

const TARGET_HANDSHAKE_MEDIAN: Duration = Duration::from_millis(10);
const TARGET_IDLE_RSS_KIB: u64 = 16 * 1024;
const TARGET_PLAN_RATIO: f64 = 1.5;

struct Options {
    handshakes: usize,
    rss_samples: usize,
    resources: usize,
    plan_runs: usize,
}

fn parse_options(args: &[String]) -> Result<Options> {
    let mut o = Options { handshakes: 50, rss_samples: 5, resources: 200, plan_runs: 5 };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let slot = match flag.as_str() {
            "--handshakes" => &mut o.handshakes,
            "--rss-samples" => &mut o.rss_samples,
            "--resources" => &mut o.resources,
            "--plan-runs" => &mut o.plan_runs,
            "-h" | "--help" => {
                bail!("usage: bench [--handshakes N] [--rss-samples N] [--resources N] [--plan-runs N]")
            }
            other => bail!("unknown option {other:?} (try --help)"),
        };
        let value = it.next().with_context(|| format!("{flag} needs a number"))?;
        *slot = value.parse().ok().filter(|n| *n > 0).with_context(|| format!("{flag}: {value:?} is not a count"))?;
    }
    Ok(o)
}

/// One report line: what, the measured value, the target, and the verdict (None: informational).
struct Line {
    what: String,
    value: String,
    target: String,
    pass: Option<bool>,
}

impl Line {
    fn info(what: impl Into<String>, value: impl Into<String>) -> Line {
        Line { what: what.into(), value: value.into(), target: String::new(), pass: None }
    }
    fn judged(what: impl Into<String>, value: impl Into<String>, target: &str, pass: bool) -> Line {
        Line { what: what.into(), value: value.into(), target: target.into(), pass: Some(pass) }
    }
    fn failed(what: impl Into<String>, target: &str, error: &anyhow::Error) -> Line {
        let first = format!("{error:#}").lines().next().unwrap_or_default().chars().take(160).collect::<String>();
        Line { what: what.into(), value: format!("not measured: {first}"), target: target.into(), pass: Some(false) }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_options(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e:#}");
            std::process::exit(2);
        }
    };
    match run(&options) {
        Ok(all_pass) => std::process::exit(if all_pass { 0 } else { 1 }),
        Err(e) => {
            eprintln!("bench: {e:#}");
            std::process::exit(2);
        }
    }
}

fn run(o: &Options) -> Result<bool> {
    let provider = provider_path()?;
    let scratch = tempfile::Builder::new().prefix("hybrid-bench-").tempdir()?;
    println!("terraform-provider-hybrid bench");
    println!("  provider:  {}", provider.display());
    println!("  terraform: {}", acceptance_tests::terraform_path()?.display());
    println!("  machine:   {} cores, {}", std::thread::available_parallelism().map_or(1, |n| n.get()), kernel());
    println!();

    let mut lines = Vec::new();

    // A client certificate like the one Terraform passes, generated once outside the timings.
    let client_pem = client_certificate()?;
    eprintln!("measuring {} handshakes ...", o.handshakes);
    match handshake_latencies(&provider, &client_pem, scratch.path(), o.handshakes) {
        Ok(mut times) => {
            times.sort();
            let median = median(&times);
            lines.push(Line::judged(
                "handshake median (exec → handshake line, AutoMTLS)",
                format!("{:.2} ms", ms(median)),
                "< 10 ms",
                median < TARGET_HANDSHAKE_MEDIAN,
            ));
            lines.push(Line::info(
                format!("handshake p90 / min / max over {} runs", times.len()),
                format!(
                    "{:.2} / {:.2} / {:.2} ms",
                    ms(percentile(&times, 90)),
                    ms(times[0]),
                    ms(times[times.len() - 1])
                ),
            ));
        }
        Err(e) => lines.push(Line::failed("handshake median (exec → handshake line, AutoMTLS)", "< 10 ms", &e)),
    }

    eprintln!("measuring idle RSS ({} samples) ...", o.rss_samples);
    match idle_rss(&provider, &client_pem, scratch.path(), o.rss_samples) {
        Ok((mut rss, hwm)) => {
            rss.sort();
            let m = rss[rss.len() / 2];
            lines.push(Line::judged(
                "idle RSS of a serving provider (VmRSS, median)",
                format!("{:.1} MiB", mib(m)),
                "< 16 MiB",
                m < TARGET_IDLE_RSS_KIB,
            ));
            lines.push(Line::info("peak RSS during start-up (VmHWM, max)", format!("{:.1} MiB", mib(hwm))));
        }
        Err(e) => lines.push(Line::failed("idle RSS of a serving provider (VmRSS, median)", "< 16 MiB", &e)),
    }

    let n = o.resources;
    eprintln!("measuring terraform plan: {n} terraform_data ...");
    let floor = plan_wall_time("bench_floor", false, &format!("{n} terraform_data"), n, o.plan_runs, |i| {
        format!("resource \"terraform_data\" \"r{i}\" {{\n  input = \"cn-hangzhou\"\n}}\n")
    });
    eprintln!("measuring terraform plan: {n} hybrid_datapath_image reads ...");
    let ours =
        plan_wall_time("bench_datapath_image", true, &format!("{n} hybrid_datapath_image"), n, o.plan_runs, |i| {
            format!("data \"hybrid_datapath_image\" \"d{i}\" {{\n  region = \"cn-hangzhou\"\n}}\n")
        });
    let floor_label = format!("plan, {n} terraform_data (floor; median of {})", o.plan_runs);
    let ours_label = format!("plan, {n} hybrid_datapath_image reads (median of {})", o.plan_runs);
    let ratio_label = "plan ratio (data source reads / terraform_data floor)";
    match &floor {
        Ok(d) => lines.push(Line::info(&floor_label, format!("{:.0} ms", ms(*d)))),
        Err(e) => lines.push(Line::failed(&floor_label, "", e)),
    }
    match &ours {
        Ok(d) => lines.push(Line::info(&ours_label, format!("{:.0} ms", ms(*d)))),
        Err(e) => lines.push(Line::failed(&ours_label, "", e)),
    }
    match (&floor, &ours) {
        (Ok(floor), Ok(ours)) => {
            let ratio = ours.as_secs_f64() / floor.as_secs_f64();
            lines.push(Line::judged(ratio_label, format!("{ratio:.2}x"), "≤ 1.5x", ratio <= TARGET_PLAN_RATIO));
        }
        _ => lines.push(Line::judged(ratio_label, "not measured (see above)".to_string(), "≤ 1.5x", false)),
    }

    print_report(&lines);
    if let Err(e) = &ours {
        println!("\nThe data source plan failed:\n{e:#}");
    }
    Ok(lines.iter().all(|l| l.pass != Some(false)))
}

fn print_report(lines: &[Line]) {
    let w_what = lines.iter().map(|l| l.what.chars().count()).max().unwrap_or(0);
    let w_value = lines.iter().map(|l| l.value.chars().count()).max().unwrap_or(0).min(60);
    let w_target = lines.iter().map(|l| l.target.chars().count()).max().unwrap_or(0);
    for l in lines {
        let verdict = match l.pass {
            Some(true) => "PASS",
            Some(false) => "FAIL",
            None => "",
        };
        println!(
            "{:<w_what$}  {:>w_value$}  {:<w_target$}  {verdict}",
            l.what,
            l.value,
            l.target,
            w_what = w_what,
            w_value = w_value,
            w_target = w_target
        );
    }
}

fn client_certificate() -> Result<String> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    Ok(rcgen::CertificateParams::new(vec!["localhost".into()])?.self_signed(&key)?.pem())
}

/// Starts the provider as Terraform does (cookie, protocol versions, client certificate).
fn start_provider(provider: &Path, client_pem: &str, socket_dir: &Path) -> Result<Child> {
    Command::new(provider)
        .env_clear()
        .env(MAGIC_COOKIE.0, MAGIC_COOKIE.1)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_CLIENT_CERT", client_pem)
        .env("PLUGIN_UNIX_SOCKET_DIR", socket_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", provider.display()))
}

/// Reads the handshake line and checks it is protocol 6 with a server certificate (AutoMTLS).
fn read_handshake(child: &mut Child) -> Result<String> {
    let stdout = child.stdout.take().context("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    if fields.len() < 6 || fields[0] != "1" || fields[1] != "6" || fields[4] != "grpc" || fields[5].is_empty() {
        bail!("unexpected handshake line {:?} (want 1|6|<net>|<addr>|grpc|<server cert>)", line.trim_end());
    }
    Ok(line)
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn handshake_latencies(provider: &Path, client_pem: &str, dir: &Path, runs: usize) -> Result<Vec<Duration>> {
    // Warm-up runs bring the binary into the page cache; they are not counted.
    for _ in 0..3 {
        let mut child = start_provider(provider, client_pem, dir)?;
        let result = read_handshake(&mut child);
        stop(child);
        result?;
    }
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let mut child = start_provider(provider, client_pem, dir)?;
        let result = read_handshake(&mut child);
        let elapsed = started.elapsed();
        stop(child);
        result?;
        times.push(elapsed);
    }
    Ok(times)
}

/// VmRSS (KiB) of serving providers 300 ms after their handshake, and the largest VmHWM seen.
fn idle_rss(provider: &Path, client_pem: &str, dir: &Path, samples: usize) -> Result<(Vec<u64>, u64)> {
    let mut rss = Vec::with_capacity(samples);
    let mut hwm = 0;
    for _ in 0..samples {
        let mut child = start_provider(provider, client_pem, dir)?;
        let result = read_handshake(&mut child).and_then(|_| {
            std::thread::sleep(Duration::from_millis(300));
            let status = std::fs::read_to_string(format!("/proc/{}/status", child.id()))?;
            Ok((status_kib(&status, "VmRSS")?, status_kib(&status, "VmHWM")?))
        });
        stop(child);
        let (r, h) = result?;
        rss.push(r);
        hwm = hwm.max(h);
    }
    Ok((rss, hwm))
}

/// A `Name:   1234 kB` field of /proc/<pid>/status, in KiB.
fn status_kib(status: &str, field: &str) -> Result<u64> {
    let line = status
        .lines()
        .find(|l| l.split(':').next() == Some(field))
        .with_context(|| format!("no {field} in /proc status"))?;
    line.split_whitespace().nth(1).context("no value")?.parse().with_context(|| format!("bad {field} line {line:?}"))
}

/// Median wall time of `terraform plan` for a configuration of `n` blocks, after one warm-up.
fn plan_wall_time(
    name: &str,
    with_provider: bool,
    what: &str,
    n: usize,
    runs: usize,
    block: impl Fn(usize) -> String,
) -> Result<Duration> {
    let mut t = if with_provider { TestCase::new(name)? } else { TestCase::builtin_only(name)? };
    let config: String = (0..n).map(block).collect();
    t.write_config(&config)?;
    t.init()?;
    let args = ["plan", "-input=false", "-no-color", "-lock=false"];
    let mut times = Vec::with_capacity(runs);
    for i in 0..=runs {
        let out = t.run(&args)?.expect(&[0]).with_context(|| format!("terraform plan of {what}"))?;
        if i > 0 {
            times.push(out.duration);
        }
    }
    times.sort();
    Ok(median(&times))
}

fn median(sorted: &[Duration]) -> Duration {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| format!("Linux {}", s.trim())).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn statistics() {
        let v: Vec<Duration> = (1..=10).map(d).collect();
        assert_eq!(median(&v), Duration::from_micros(5500));
        assert_eq!(median(&[d(1), d(2), d(9)]), d(2));
        assert_eq!(percentile(&v, 90), d(9));
        assert_eq!(percentile(&v, 100), d(10));
        assert_eq!(percentile(&[d(3)], 90), d(3));
    }

    #[test]
    fn proc_status_fields() {
        let status = "Name:\tx\nVmHWM:\t   20480 kB\nVmRSS:\t    9216 kB\n";
        assert_eq!(status_kib(status, "VmRSS").unwrap(), 9216);
        assert_eq!(status_kib(status, "VmHWM").unwrap(), 20480);
        assert!(status_kib(status, "VmSwap").is_err());
    }

    #[test]
    fn options() {
        let args: Vec<String> = ["--resources", "20", "--plan-runs", "3"].iter().map(|s| s.to_string()).collect();
        let o = parse_options(&args).unwrap();
        assert_eq!((o.handshakes, o.rss_samples, o.resources, o.plan_runs), (50, 5, 20, 3));
        assert!(parse_options(&["--resources".into(), "0".into()]).is_err());
        assert!(parse_options(&["--bogus".into()]).is_err());
    }
}

//! Command-line flags and environment variables of the cloud side.

use super::faults::AmbiguousMode;
use super::state::CloudOptions;
use anyhow::{bail, Context, Result};

pub const USAGE: &str = "Cloud APIs (RAM, CS, VPC, ECS on one plain-HTTP listener):
  --cloud-port PORT                      (default: ephemeral)
  --cloud-region REGION                  (default: cn-hangzhou)
  --cloud-access-key-id ID --cloud-access-key-secret SECRET   (default: random per run)
  --task-delay-ms MS                     how long addon/node pool tasks run (default 1000)
  --cloud-fault-latency-ms MS  --cloud-fault-throttle-rate P  --cloud-fault-5xx-rate P
  --cloud-fault-5xx-code 500|503  --cloud-fault-ambiguous-rate P  --cloud-fault-ambiguous-mode drop|503|mixed
  --cloud-fault-task-failure-rate P  --cloud-fault-retry-after-ms MS  --cloud-fault-seed N
Each may also come from HYBRID_SANDBOX_<FLAG> (upper case, dashes as underscores), e.g.
HYBRID_SANDBOX_TASK_DELAY_MS, HYBRID_SANDBOX_CLOUD_FAULT_THROTTLE_RATE; flags win.";

const FLAGS: [&str; 14] = [
    "--cloud-port",
    "--cloud-region",
    "--cloud-access-key-id",
    "--cloud-access-key-secret",
    "--task-delay-ms",
    "--cloud-fault-latency-ms",
    "--cloud-fault-throttle-rate",
    "--cloud-fault-5xx-rate",
    "--cloud-fault-5xx-code",
    "--cloud-fault-ambiguous-rate",
    "--cloud-fault-ambiguous-mode",
    "--cloud-fault-task-failure-rate",
    "--cloud-fault-retry-after-ms",
    "--cloud-fault-seed",
];

fn env_name(flag: &str) -> String {
    format!("HYBRID_SANDBOX_{}", flag.trim_start_matches('-').replace('-', "_").to_uppercase())
}

fn parse<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T> {
    v.parse().map_err(|_| anyhow::anyhow!("invalid value {v:?} for {flag}"))
}

/// Takes the cloud flags out of `args`; returns the options and the remaining arguments.
pub fn split_args(args: &[String]) -> Result<(CloudOptions, Vec<String>)> {
    split_args_with_env(args, |k| std::env::var(k).ok())
}

pub fn split_args_with_env(
    args: &[String],
    env: impl Fn(&str) -> Option<String>,
) -> Result<(CloudOptions, Vec<String>)> {
    let mut pairs: Vec<(String, String)> =
        FLAGS.iter().filter_map(|f| env(&env_name(f)).map(|v| (f.to_string(), v))).collect();
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (a.as_str(), None),
        };
        if !FLAGS.contains(&flag) {
            rest.push(a.clone());
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None => it.next().cloned().with_context(|| format!("{flag} needs a value"))?,
        };
        pairs.push((flag.to_string(), value));
    }
    let mut o = CloudOptions::default();
    for (flag, v) in pairs {
        let f = &mut o.faults;
        match flag.as_str() {
            "--cloud-port" => o.port = parse(&flag, &v)?,
            "--cloud-region" => o.region = v,
            "--cloud-access-key-id" => o.access_key_id = Some(v),
            "--cloud-access-key-secret" => o.access_key_secret = Some(v),
            "--task-delay-ms" => f.task_delay_ms = parse(&flag, &v)?,
            "--cloud-fault-latency-ms" => f.latency_ms = parse(&flag, &v)?,
            "--cloud-fault-throttle-rate" => f.throttle_rate = parse(&flag, &v)?,
            "--cloud-fault-5xx-rate" => f.error_5xx_rate = parse(&flag, &v)?,
            "--cloud-fault-5xx-code" => f.code_5xx = Some(parse(&flag, &v)?),
            "--cloud-fault-ambiguous-rate" => f.ambiguous_rate = parse(&flag, &v)?,
            "--cloud-fault-ambiguous-mode" => {
                f.ambiguous_mode = match v.as_str() {
                    "drop" => AmbiguousMode::Drop,
                    "503" => AmbiguousMode::Unavailable,
                    "mixed" => AmbiguousMode::Mixed,
                    _ => bail!("invalid value {v:?} for {flag}: drop, 503 or mixed"),
                }
            }
            "--cloud-fault-task-failure-rate" => f.task_failure_rate = parse(&flag, &v)?,
            "--cloud-fault-retry-after-ms" => f.retry_after_ms = Some(parse(&flag, &v)?),
            "--cloud-fault-seed" => f.seed = Some(parse(&flag, &v)?),
            _ => {}
        }
    }
    if o.access_key_id.is_some() != o.access_key_secret.is_some() {
        bail!("--cloud-access-key-id and --cloud-access-key-secret go together");
    }
    super::faults::validate(&o.faults).map_err(anyhow::Error::msg)?;
    Ok((o, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn splits_cloud_flags_from_the_rest() {
        let env = |k: &str| (k == "HYBRID_SANDBOX_CLOUD_FAULT_THROTTLE_RATE").then(|| "0.3".to_string());
        let (o, rest) = split_args_with_env(
            &args(&[
                "--dir",
                "d",
                "--task-delay-ms",
                "50",
                "--cloud-fault-seed=9",
                "--cloud-fault-ambiguous-mode",
                "drop",
            ]),
            env,
        )
        .unwrap();
        assert_eq!(rest, args(&["--dir", "d"]));
        assert_eq!(o.faults.task_delay_ms, 50);
        assert_eq!(o.faults.seed, Some(9));
        assert_eq!(o.faults.throttle_rate, 0.3);
        assert_eq!(o.faults.ambiguous_mode, AmbiguousMode::Drop);
        assert!(split_args_with_env(&args(&["--cloud-fault-5xx-rate", "3"]), |_| None).is_err());
        assert!(split_args_with_env(&args(&["--cloud-access-key-id", "x"]), |_| None).is_err());
        assert!(split_args_with_env(&args(&["--task-delay-ms"]), |_| None).is_err());
    }
}

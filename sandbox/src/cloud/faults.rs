//! Injected faults of the cloud APIs: latency, throttling, 5xx, dropped connections, ambiguous
//! failures (the change is made, the response is lost) and failing tasks.
//!
//! Throttling answers `Throttling.User` with HTTP 400 on the RPC services (how ECS, VPC and RAM
//! answer flow control) and 429 on CS; both statuses can be changed. With a `seed`, the random
//! decisions are the same sequence on every run.

use super::errors::{CloudError, Style};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AmbiguousMode {
    /// The connection is closed before the response is complete.
    Drop,
    /// A 503 `ServiceUnavailable` is answered although the change was made.
    #[serde(rename = "503")]
    Unavailable,
    /// Each ambiguous failure picks one of the two.
    #[default]
    Mixed,
}

/// The fault settings (flags at start, `POST /__sandbox/cloud/faults` at run time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CloudFaultConfig {
    pub latency_ms: u64,
    /// Probability (0..=1) that a call is rejected with `Throttling.User`.
    pub throttle_rate: f64,
    /// Probability that a call is rejected with 500 `InternalError` or 503 `ServiceUnavailable`.
    pub error_5xx_rate: f64,
    /// 500 or 503; unset alternates at random.
    pub code_5xx: Option<u16>,
    /// Probability that a successful change loses its response.
    pub ambiguous_rate: f64,
    pub ambiguous_mode: AmbiguousMode,
    /// Probability that an addon task ends `failed`.
    pub task_failure_rate: f64,
    pub rpc_throttle_status: u16,
    pub roa_throttle_status: u16,
    /// When set, throttling answers carry `x-acs-retry-after` (milliseconds), which the SDKs read.
    pub retry_after_ms: Option<u64>,
    /// Only these services (`ram`, `cs`, `vpc`, `ecs`); empty means all.
    pub services: Vec<String>,
    /// Only these actions; empty means all.
    pub actions: Vec<String>,
    /// Faults for the next matching calls, in order: `throttle`, `500`, `503`, `drop` (connection
    /// closed, nothing done), `ambiguous-503`, `ambiguous-drop` (change made, response lost),
    /// `task-failure` (the next task created fails).
    pub fail_next: Vec<String>,
    pub seed: Option<u64>,
    /// How long addon and node pool tasks run.
    pub task_delay_ms: u64,
}

impl Default for CloudFaultConfig {
    fn default() -> Self {
        CloudFaultConfig {
            latency_ms: 0,
            throttle_rate: 0.0,
            error_5xx_rate: 0.0,
            code_5xx: None,
            ambiguous_rate: 0.0,
            ambiguous_mode: AmbiguousMode::Mixed,
            task_failure_rate: 0.0,
            rpc_throttle_status: 400,
            roa_throttle_status: 429,
            retry_after_ms: None,
            services: Vec::new(),
            actions: Vec::new(),
            fail_next: Vec::new(),
            seed: None,
            task_delay_ms: 1000,
        }
    }
}

const NEXT_KINDS: [&str; 7] = ["throttle", "500", "503", "drop", "ambiguous-503", "ambiguous-drop", "task-failure"];

pub fn validate(cfg: &CloudFaultConfig) -> Result<(), String> {
    for (name, rate) in [
        ("throttle_rate", cfg.throttle_rate),
        ("error_5xx_rate", cfg.error_5xx_rate),
        ("ambiguous_rate", cfg.ambiguous_rate),
        ("task_failure_rate", cfg.task_failure_rate),
    ] {
        if !(0.0..=1.0).contains(&rate) {
            return Err(format!("{name} must be between 0 and 1, got {rate}"));
        }
    }
    if cfg.code_5xx.is_some_and(|c| c != 500 && c != 503) {
        return Err("code_5xx must be 500 or 503".into());
    }
    for (name, s) in
        [("rpc_throttle_status", cfg.rpc_throttle_status), ("roa_throttle_status", cfg.roa_throttle_status)]
    {
        if !(400..=599).contains(&s) {
            return Err(format!("{name} must be an HTTP error status, got {s}"));
        }
    }
    if let Some(bad) = cfg.fail_next.iter().find(|k| !NEXT_KINDS.contains(&k.as_str())) {
        return Err(format!("unknown fail_next entry {bad:?}; known: {}", NEXT_KINDS.join(", ")));
    }
    if let Some(bad) = cfg.services.iter().find(|s| !["ram", "cs", "vpc", "ecs"].contains(&s.as_str())) {
        return Err(format!("unknown service {bad:?}; known: ram, cs, vpc, ecs"));
    }
    Ok(())
}

/// What happens to a call after it succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    Drop,
    Unavailable,
}

/// The decision taken before a call runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Before {
    /// Answer this error instead of running the call.
    pub reject: Option<CloudError>,
    /// Close the connection instead of running the call.
    pub drop: bool,
    /// A queued ambiguous failure to apply once the call succeeded.
    pub after: Option<After>,
}

pub struct FaultEngine {
    cfg: CloudFaultConfig,
    rng: StdRng,
    counters: BTreeMap<&'static str, u64>,
}

impl FaultEngine {
    pub fn new(cfg: CloudFaultConfig) -> Self {
        let rng = rng_for(cfg.seed);
        FaultEngine { cfg, rng, counters: BTreeMap::new() }
    }

    pub fn config(&self) -> &CloudFaultConfig {
        &self.cfg
    }

    /// Merges the given fields into the configuration (a new `seed` restarts the sequence).
    pub fn update(&mut self, changes: &Value) -> Result<(), String> {
        let mut merged = serde_json::to_value(&self.cfg).map_err(|e| e.to_string())?;
        let obj = changes.as_object().ok_or("the body must be a JSON object")?;
        for (k, v) in obj {
            merged[k] = v.clone();
        }
        let cfg: CloudFaultConfig = serde_json::from_value(merged).map_err(|e| e.to_string())?;
        validate(&cfg)?;
        if obj.contains_key("seed") {
            self.rng = rng_for(cfg.seed);
        }
        self.cfg = cfg;
        Ok(())
    }

    /// Switches every fault off; the task delay stays.
    pub fn reset(&mut self) {
        let delay = self.cfg.task_delay_ms;
        self.cfg = CloudFaultConfig { task_delay_ms: delay, ..CloudFaultConfig::default() };
        self.rng = rng_for(None);
    }

    pub fn status(&self) -> Value {
        json!({"config": self.cfg, "injected": self.counters})
    }

    fn applies(&self, service: &str, action: &str) -> bool {
        (self.cfg.services.is_empty() || self.cfg.services.iter().any(|s| s == service))
            && (self.cfg.actions.is_empty() || self.cfg.actions.iter().any(|a| a == action))
    }

    fn count(&mut self, what: &'static str) {
        *self.counters.entry(what).or_default() += 1;
    }

    fn roll(&mut self, p: f64) -> bool {
        p > 0.0 && self.rng.gen::<f64>() < p
    }

    fn throttle(&mut self, style: Style) -> CloudError {
        self.count("throttle");
        CloudError::throttled(match style {
            Style::Rpc => self.cfg.rpc_throttle_status,
            Style::Roa => self.cfg.roa_throttle_status,
        })
    }

    fn server_error(&mut self, code: Option<u16>) -> CloudError {
        self.count("5xx");
        let code = code.or(self.cfg.code_5xx).unwrap_or_else(|| if self.rng.gen::<bool>() { 500 } else { 503 });
        if code == 500 {
            CloudError::internal()
        } else {
            CloudError::service_unavailable()
        }
    }

    pub fn before(&mut self, service: &str, action: &str, style: Style) -> Before {
        let mut d = Before::default();
        if !self.applies(service, action) {
            return d;
        }
        if let Some(i) = self.cfg.fail_next.iter().position(|k| k != "task-failure") {
            let kind = self.cfg.fail_next.remove(i);
            match kind.as_str() {
                "throttle" => d.reject = Some(self.throttle(style)),
                "500" => d.reject = Some(self.server_error(Some(500))),
                "503" => d.reject = Some(self.server_error(Some(503))),
                "drop" => {
                    self.count("drop");
                    d.drop = true;
                }
                "ambiguous-503" => d.after = Some(After::Unavailable),
                _ => d.after = Some(After::Drop),
            }
            return d;
        }
        if self.roll(self.cfg.throttle_rate) {
            d.reject = Some(self.throttle(style));
        } else if self.roll(self.cfg.error_5xx_rate) {
            d.reject = Some(self.server_error(None));
        }
        d
    }

    /// After a successful call: whether its response is lost.
    pub fn after(&mut self, service: &str, action: &str, mutating: bool, queued: Option<After>) -> Option<After> {
        let decision = queued.or_else(|| {
            (mutating && self.applies(service, action) && self.roll(self.cfg.ambiguous_rate)).then(|| {
                match self.cfg.ambiguous_mode {
                    AmbiguousMode::Drop => After::Drop,
                    AmbiguousMode::Unavailable => After::Unavailable,
                    AmbiguousMode::Mixed => {
                        if self.rng.gen::<bool>() {
                            After::Drop
                        } else {
                            After::Unavailable
                        }
                    }
                }
            })
        });
        if decision.is_some() {
            self.count("ambiguous");
        }
        decision
    }

    /// Whether the task being created fails.
    pub fn task_fails(&mut self) -> bool {
        if let Some(i) = self.cfg.fail_next.iter().position(|k| k == "task-failure") {
            self.cfg.fail_next.remove(i);
            self.count("task_failure");
            return true;
        }
        let fails = self.roll(self.cfg.task_failure_rate);
        if fails {
            self.count("task_failure");
        }
        fails
    }
}

fn rng_for(seed: Option<u64>) -> StdRng {
    match seed {
        Some(s) => StdRng::seed_from_u64(s),
        None => StdRng::from_entropy(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_decisions_repeat() {
        let cfg = CloudFaultConfig { throttle_rate: 0.3, error_5xx_rate: 0.1, seed: Some(7), ..Default::default() };
        let run = || {
            let mut e = FaultEngine::new(cfg.clone());
            (0..200).map(|_| e.before("ram", "GetUser", Style::Rpc).reject.map(|x| x.code)).collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let throttled = a.iter().filter(|c| c.as_deref() == Some("Throttling.User")).count();
        assert!((30..90).contains(&throttled), "about 30% of 200: {throttled}");
        assert!(a.iter().any(|c| matches!(c.as_deref(), Some("InternalError") | Some("ServiceUnavailable"))));
    }

    #[test]
    fn queue_filters_and_statuses() {
        let mut e = FaultEngine::new(CloudFaultConfig::default());
        e.update(&json!({"fail_next": ["throttle", "ambiguous-503", "task-failure"], "actions": ["CreateUser"]}))
            .unwrap();
        assert_eq!(e.before("ram", "GetUser", Style::Rpc), Before::default());
        assert_eq!(e.before("ram", "CreateUser", Style::Rpc).reject.unwrap().status, 400);
        let b = e.before("ram", "CreateUser", Style::Rpc);
        assert_eq!(b.after, Some(After::Unavailable));
        assert_eq!(e.after("ram", "CreateUser", true, b.after), Some(After::Unavailable));
        assert!(e.task_fails());
        assert!(!e.task_fails());
        e.update(&json!({"fail_next": ["throttle"], "actions": []})).unwrap();
        assert_eq!(e.before("cs", "DescribeTaskInfo", Style::Roa).reject.unwrap().status, 429);
        assert!(e.update(&json!({"throttle_rate": 2})).is_err());
        assert!(e.update(&json!({"fail_next": ["boom"]})).is_err());
        assert!(e.update(&json!({"unknown": 1})).is_err());
        assert_eq!(e.status()["injected"]["throttle"], 2);
    }
}

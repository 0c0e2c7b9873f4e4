//! `tracing` events written as go-hclog JSON lines on stderr. Terraform parses such lines
//! from a provider's stderr and re-emits them at their own level, filtered by `TF_LOG` /
//! `TF_LOG_PROVIDER`; anything else on stderr would show as unstructured output.

use std::fmt::Write as _;
use std::io::Write as _;

use serde_json::{Map, Value as Json};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// The module name terraform-plugin-log uses for provider lines.
const MODULE: &str = "provider";

/// The most verbose level to emit, from `TF_LOG_PROVIDER`, else `TF_LOG`. Unset or `OFF`
/// means nothing is emitted: Terraform would discard the lines anyway.
pub fn level_from_env(env: impl Fn(&str) -> Option<String>) -> Option<Level> {
    let raw = env("TF_LOG_PROVIDER").filter(|s| !s.is_empty()).or_else(|| env("TF_LOG"))?;
    match raw.trim().to_ascii_uppercase().as_str() {
        "TRACE" | "JSON" | "1" => Some(Level::TRACE),
        "DEBUG" => Some(Level::DEBUG),
        "INFO" => Some(Level::INFO),
        "WARN" => Some(Level::WARN),
        "ERROR" => Some(Level::ERROR),
        "OFF" | "" => None,
        // Terraform treats unknown values as TRACE.
        _ => Some(Level::TRACE),
    }
}

/// Installs the global subscriber. Safe to call once at start-up.
pub fn init() {
    let Some(max) = level_from_env(|k| std::env::var(k).ok()) else { return };
    let layer = HclogLayer { max };
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

pub struct HclogLayer {
    max: Level,
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        // Our own lines at the requested level; libraries (h2, hyper, rustls) only when they warn,
        // their debug output would drown ours.
        let own = metadata.target().starts_with(env!("CARGO_CRATE_NAME"));
        *metadata.level() <= if own { self.max } else { self.max.min(Level::WARN) }
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let line = format_line(event);
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(line.as_bytes());
    }
}

/// One JSON line for an event.
pub fn format_line(event: &Event<'_>) -> String {
    let mut fields = FieldsVisitor(Map::new());
    event.record(&mut fields);
    let mut obj = Map::new();
    obj.insert("@level".into(), Json::String(level_name(*event.metadata().level()).into()));
    obj.insert("@message".into(), fields.0.remove("message").unwrap_or(Json::String(String::new())));
    obj.insert("@module".into(), Json::String(MODULE.into()));
    obj.insert("@timestamp".into(), Json::String(timestamp()));
    obj.insert("@caller".into(), Json::String(event.metadata().target().to_string()));
    obj.extend(fields.0);
    let mut line = Json::Object(obj).to_string();
    line.push('\n');
    line
}

fn level_name(l: Level) -> &'static str {
    match l {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// RFC 3339 with microseconds, local offset as UTC (`2026-11-25T03:04:05.123456Z`).
fn timestamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    let mut s = String::with_capacity(27);
    let _ = write!(
        s,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        now.year(),
        now.month() as u8,
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.microsecond()
    );
    s
}

struct FieldsVisitor(Map<String, Json>);

impl Visit for FieldsVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), Json::String(value.into()));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), Json::Bool(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), Json::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), Json::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().into(), Json::String(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    struct Capture(Arc<Mutex<Vec<String>>>, Level);
    impl<S: Subscriber> Layer<S> for Capture {
        fn enabled(&self, m: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
            *m.level() <= self.1
        }
        fn on_event(&self, e: &Event<'_>, _: Context<'_, S>) {
            self.0.lock().unwrap().push(format_line(e));
        }
    }

    #[test]
    fn lines_are_hclog_json_at_the_right_level() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sub = tracing_subscriber::registry().with(Capture(lines.clone(), Level::DEBUG));
        tracing::subscriber::with_default(sub, || {
            tracing::debug!(type_name = "hybrid_x", attempt = 2, "reading resource");
            tracing::trace!("too verbose");
        });
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 1, "trace is filtered at DEBUG");
        let j: Json = serde_json::from_str(lines[0].trim_end()).unwrap();
        assert_eq!(j["@level"], "debug");
        assert_eq!(j["@message"], "reading resource");
        assert_eq!(j["@module"], "provider");
        assert_eq!(j["type_name"], "hybrid_x");
        assert_eq!(j["attempt"], 2);
        let ts = j["@timestamp"].as_str().unwrap();
        assert!(time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339).is_ok(), "{ts}");
    }

    #[test]
    fn level_comes_from_tf_log_provider_then_tf_log() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        assert_eq!(level_from_env(env(&[])), None);
        assert_eq!(level_from_env(env(&[("TF_LOG", "info")])), Some(Level::INFO));
        assert_eq!(level_from_env(env(&[("TF_LOG", "info"), ("TF_LOG_PROVIDER", "DEBUG")])), Some(Level::DEBUG));
        assert_eq!(level_from_env(env(&[("TF_LOG_PROVIDER", "off")])), None);
    }
}

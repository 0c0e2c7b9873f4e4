//! When to retry a Kubernetes API call and how long to wait. Pure logic, so the rules are
//! tested without a server.
//!
//! - 429 Too Many Requests: always retried (the server did not process the request), after the
//!   server's `Retry-After` when it sent one.
//! - 500/502/503/504 and connection errors: retried only for idempotent calls (reads, server-side
//!   apply, merge patches, deletes, updates guarded by a resourceVersion), since the first attempt
//!   may have taken effect.
//! - Everything else (400, 401, 403, 404, 409, 422, ...) is an answer, not a transient failure.
//!
//! Waits grow exponentially with "equal jitter" (half fixed, half random), so many clients
//! that failed together do not retry together, and no retry is immediate.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included.
    pub max_attempts: u32,
    /// Wait before the first retry (before jitter).
    pub base_delay: Duration,
    /// Upper bound of a computed wait.
    pub max_delay: Duration,
    /// Upper bound of a server-requested wait (`Retry-After`), so a misbehaving server cannot
    /// stall an apply for hours.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

/// How a failed attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The server answered with this HTTP status.
    Status(u16),
    /// No answer: connection refused/reset, TLS or timeout.
    Transport,
}

impl RetryPolicy {
    /// Whether `failure` after attempt number `attempt` (1-based) deserves another attempt.
    pub fn should_retry(&self, failure: Failure, idempotent: bool, attempt: u32) -> bool {
        if attempt >= self.max_attempts {
            return false;
        }
        match failure {
            Failure::Status(429) => true,
            Failure::Status(500 | 502 | 503 | 504) | Failure::Transport => idempotent,
            Failure::Status(_) => false,
        }
    }

    /// The wait before attempt `attempt + 1`. `jitter` is a random number in `[0, 1)`.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        let jitter = jitter.clamp(0.0, 1.0);
        if let Some(server) = retry_after {
            // Honour the server's wait in full; add a little spread on top.
            return server.min(self.max_retry_after) + self.base_delay.mul_f64(jitter);
        }
        let exp = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
        let cap = self.base_delay.saturating_mul(exp).min(self.max_delay);
        cap / 2 + cap.mul_f64(jitter / 2.0)
    }
}

/// The server's requested wait: the `Retry-After` header in seconds, else the Status body's
/// `details.retryAfterSeconds`.
pub fn retry_after(header: Option<&str>, status_body: Option<&serde_json::Value>) -> Option<Duration> {
    if let Some(secs) = header.and_then(|h| h.trim().parse::<u64>().ok()) {
        return Some(Duration::from_secs(secs));
    }
    status_body
        .and_then(|b| b.pointer("/details/retryAfterSeconds"))
        .and_then(serde_json::Value::as_u64)
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_is_always_retried_server_errors_only_when_idempotent() {
        let p = RetryPolicy::default();
        assert!(p.should_retry(Failure::Status(429), false, 1));
        assert!(p.should_retry(Failure::Status(503), true, 1));
        assert!(!p.should_retry(Failure::Status(503), false, 1));
        assert!(p.should_retry(Failure::Transport, true, 1));
        assert!(!p.should_retry(Failure::Transport, false, 1));
        for answer in [400, 401, 403, 404, 409, 422, 501] {
            assert!(!p.should_retry(Failure::Status(answer), true, 1), "{answer}");
        }
    }

    #[test]
    fn attempts_are_bounded() {
        let p = RetryPolicy { max_attempts: 3, ..Default::default() };
        assert!(p.should_retry(Failure::Status(429), true, 2));
        assert!(!p.should_retry(Failure::Status(429), true, 3));
    }

    #[test]
    fn waits_grow_are_capped_and_never_zero() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1, None, 0.0), Duration::from_millis(125));
        assert_eq!(p.delay(1, None, 1.0), Duration::from_millis(250));
        assert_eq!(p.delay(3, None, 0.0), Duration::from_millis(500));
        assert_eq!(p.delay(30, None, 1.0), p.max_delay);
        assert!(p.delay(30, None, 0.0) >= p.max_delay / 2);
    }

    #[test]
    fn server_wait_is_honoured_but_bounded() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1, Some(Duration::from_secs(2)), 0.0), Duration::from_secs(2));
        assert!(p.delay(1, Some(Duration::from_secs(2)), 0.5) > Duration::from_secs(2));
        assert_eq!(p.delay(1, Some(Duration::from_secs(3600)), 0.0), p.max_retry_after);
    }

    #[test]
    fn retry_after_from_header_or_status_details() {
        assert_eq!(retry_after(Some("3"), None), Some(Duration::from_secs(3)));
        let body = serde_json::json!({"kind":"Status","details":{"retryAfterSeconds":5}});
        assert_eq!(retry_after(None, Some(&body)), Some(Duration::from_secs(5)));
        assert_eq!(retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT"), Some(&body)), Some(Duration::from_secs(5)));
        assert_eq!(retry_after(None, None), None);
    }
}

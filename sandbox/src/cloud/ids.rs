//! Identifiers and timestamps shaped like the real services' ones.

use rand::distributions::{Alphanumeric, Distribution, Uniform};
use rand::Rng;

fn pick(charset: &[u8], n: usize) -> String {
    let mut rng = rand::thread_rng();
    let d = Uniform::from(0..charset.len());
    (0..n).map(|_| charset[d.sample(&mut rng)] as char).collect()
}

pub fn alnum(n: usize) -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(n).map(char::from).collect()
}

pub fn lower_alnum(n: usize) -> String {
    pick(b"abcdefghijklmnopqrstuvwxyz0123456789", n)
}

pub fn hex(n: usize) -> String {
    pick(b"0123456789abcdef", n)
}

/// `LTAI5t` + 18 characters, like keys issued today.
pub fn access_key_id() -> String {
    format!("LTAI5t{}", alnum(18))
}

pub fn access_key_secret() -> String {
    alnum(30)
}

/// RAM user IDs are 16 digits.
pub fn user_id() -> String {
    let mut rng = rand::thread_rng();
    format!("{}{}", rng.gen_range(1..10), pick(b"0123456789", 15))
}

pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string().to_uppercase()
}

/// CS task IDs look like `T-5faa48fb31b6b8078d000006`.
pub fn task_id() -> String {
    format!("T-{}", hex(24))
}

pub fn cluster_id() -> String {
    format!("c{}", hex(32))
}

pub fn nodepool_id() -> String {
    format!("np{}", hex(32))
}

/// `vpc-bp1…`, `vsw-bp1…`, `sg-bp1…`: the `bp1` infix is what cn-hangzhou IDs carry.
pub fn hangzhou_id(prefix: &str) -> String {
    format!("{prefix}-bp1{}", lower_alnum(17))
}

/// UTC `YYYY-MM-DDTHH:MM:SSZ`.
pub fn now_iso() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` into seconds since the epoch.
pub fn parse_iso(s: &str) -> Option<i64> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::PrimitiveDateTime::parse(s, &fmt).ok().map(|t| t.assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(access_key_id().len(), 24);
        assert_eq!(user_id().len(), 16);
        assert!(hangzhou_id("vsw").starts_with("vsw-bp1"));
        let now = now_iso();
        let secs = parse_iso(&now).unwrap();
        assert!((secs - time::OffsetDateTime::now_utc().unix_timestamp()).abs() < 5);
        assert_eq!(parse_iso("2026-11-24T12:00:00Z"), Some(1795521600));
        assert_eq!(parse_iso("2026-11-24 12:00:00"), None);
    }
}

//! Where Alibaba Cloud credentials and the region come from.
//!
//! Credentials, first complete source wins: the provider block (`access_key`, `secret_key`,
//! `security_token`); `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` / `ALIBABA_CLOUD_SECURITY_TOKEN`;
//! the alicloud provider's `ALICLOUD_ACCESS_KEY` / `ALICLOUD_SECRET_KEY` / `ALICLOUD_SECURITY_TOKEN`;
//! a profile of the aliyun CLI config file (`shared_credentials_file`, default
//! `~/.aliyun/config.json`; profile `profile`, else `ALIBABA_CLOUD_PROFILE`, else the file's
//! `current`; modes `AK` and `StsToken`). Region: `region`, `ALIBABA_CLOUD_REGION`,
//! `ALICLOUD_REGION`, the profile's `region_id`.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::provider::ProviderConfig;

/// An AccessKey pair, with an STS token for temporary credentials.
#[derive(Clone, PartialEq)]
pub struct Credentials {
    pub access_key_id: String,
    pub access_key_secret: String,
    pub security_token: Option<String>,
    /// Where they came from, for messages (never the values).
    pub source: String,
}

// The secret and token never appear in a `{:?}`.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// Resolved settings: credentials (if any source has them) and the region.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub credentials: Option<Credentials>,
    pub region: Option<String>,
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

fn pair(id: Option<String>, secret: Option<String>, token: Option<String>, source: &str) -> Option<Credentials> {
    Some(Credentials {
        access_key_id: nonempty(id)?,
        access_key_secret: nonempty(secret)?,
        security_token: nonempty(token),
        source: source.to_string(),
    })
}

fn default_config_file(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    env("HOME").map(|h| Path::new(&h).join(".aliyun").join("config.json"))
}

/// Reads the profile from the aliyun CLI config file. A missing default file is not an error; an
/// explicitly named file that is missing or unreadable, or a named profile that is absent, is.
fn profile(cfg: &ProviderConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Json>, String> {
    let explicit = nonempty(cfg.shared_credentials_file.clone());
    let path = match &explicit {
        Some(p) => match (p.strip_prefix("~/"), env("HOME")) {
            (Some(rest), Some(home)) => Path::new(&home).join(rest),
            _ => PathBuf::from(p),
        },
        None => match default_config_file(env) {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(_) if explicit.is_none() => return Ok(None),
        Err(e) => return Err(format!("could not read the credentials file {}: {e}", path.display())),
    };
    let doc: Json = serde_json::from_str(&text)
        .map_err(|e| format!("the credentials file {} is not valid JSON: {e}", path.display()))?;
    let wanted = nonempty(cfg.profile.clone()).or_else(|| nonempty(env("ALIBABA_CLOUD_PROFILE")));
    let name =
        wanted.clone().or_else(|| doc["current"].as_str().map(str::to_string)).unwrap_or_else(|| "default".into());
    let found =
        doc["profiles"].as_array().and_then(|ps| ps.iter().find(|p| p["name"].as_str() == Some(&name)).cloned());
    match found {
        Some(p) => Ok(Some(p)),
        None if wanted.is_some() => Err(format!("profile {name:?} is not in {}", path.display())),
        None => Ok(None),
    }
}

/// Resolves credentials and region from the provider settings, the environment (`env`) and the
/// shared config file.
pub fn resolve(cfg: &ProviderConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<Resolved, String> {
    let profile = profile(cfg, env)?;
    let text = |p: &Json, k: &str| p[k].as_str().map(str::to_string);
    let from_profile = profile.as_ref().and_then(|p| match p["mode"].as_str().unwrap_or("AK") {
        "AK" => pair(text(p, "access_key_id"), text(p, "access_key_secret"), None, "the shared config file"),
        "StsToken" => {
            pair(text(p, "access_key_id"), text(p, "access_key_secret"), text(p, "sts_token"), "the shared config file")
        }
        _ => None,
    });
    let credentials =
        pair(cfg.access_key.clone(), cfg.secret_key.clone(), cfg.security_token.clone(), "the provider block")
            .or_else(|| {
                pair(
                    env("ALIBABA_CLOUD_ACCESS_KEY_ID"),
                    env("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
                    env("ALIBABA_CLOUD_SECURITY_TOKEN"),
                    "ALIBABA_CLOUD_ACCESS_KEY_ID",
                )
            })
            .or_else(|| {
                pair(
                    env("ALICLOUD_ACCESS_KEY"),
                    env("ALICLOUD_SECRET_KEY"),
                    env("ALICLOUD_SECURITY_TOKEN"),
                    "ALICLOUD_ACCESS_KEY",
                )
            })
            .or(from_profile);
    let region = nonempty(cfg.region.clone())
        .or_else(|| nonempty(env("ALIBABA_CLOUD_REGION")))
        .or_else(|| nonempty(env("ALICLOUD_REGION")))
        .or_else(|| profile.as_ref().and_then(|p| nonempty(text(p, "region_id"))));
    Ok(Resolved { credentials, region })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn provider_block_beats_environment_beats_alicloud_env() {
        let env = env_of(&[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret"),
            ("ALICLOUD_ACCESS_KEY", "ali-id"),
            ("ALICLOUD_SECRET_KEY", "ali-secret"),
            ("ALICLOUD_REGION", "cn-beijing"),
        ]);
        let mut cfg = ProviderConfig {
            access_key: Some("cfg-id".into()),
            secret_key: Some("cfg-secret".into()),
            ..Default::default()
        };
        let r = resolve(&cfg, &env).unwrap();
        assert_eq!(r.credentials.unwrap().access_key_id, "cfg-id");
        assert_eq!(r.region.as_deref(), Some("cn-beijing"));
        cfg.access_key = None;
        assert_eq!(resolve(&cfg, &env).unwrap().credentials.unwrap().access_key_id, "env-id");
        let only_alicloud = env_of(&[
            ("ALICLOUD_ACCESS_KEY", "ali-id"),
            ("ALICLOUD_SECRET_KEY", "ali-secret"),
            ("ALICLOUD_SECURITY_TOKEN", "tok"),
        ]);
        let c = resolve(&ProviderConfig::default(), &only_alicloud).unwrap().credentials.unwrap();
        assert_eq!((c.access_key_id.as_str(), c.security_token.as_deref()), ("ali-id", Some("tok")));
        assert_eq!(resolve(&ProviderConfig::default(), &env_of(&[])).unwrap().credentials, None);
    }

    #[test]
    fn shared_config_file_profiles() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.json");
        std::fs::write(
            &file,
            r#"{"current":"main","profiles":[
                {"name":"main","mode":"AK","access_key_id":"main-id","access_key_secret":"main-secret","region_id":"cn-shanghai"},
                {"name":"sts","mode":"StsToken","access_key_id":"STS.id","access_key_secret":"s","sts_token":"t","region_id":"cn-hangzhou"}]}"#,
        )
        .unwrap();
        let cfg = ProviderConfig { shared_credentials_file: Some(file.display().to_string()), ..Default::default() };
        let r = resolve(&cfg, &env_of(&[])).unwrap();
        assert_eq!(r.credentials.unwrap().access_key_id, "main-id");
        assert_eq!(r.region.as_deref(), Some("cn-shanghai"));
        let sts = ProviderConfig { profile: Some("sts".into()), ..cfg.clone() };
        let c = resolve(&sts, &env_of(&[])).unwrap().credentials.unwrap();
        assert_eq!(c.security_token.as_deref(), Some("t"));
        let by_env = resolve(&cfg, &env_of(&[("ALIBABA_CLOUD_PROFILE", "sts")])).unwrap();
        assert_eq!(by_env.credentials.unwrap().access_key_id, "STS.id");
        let missing = ProviderConfig { profile: Some("nope".into()), ..cfg.clone() };
        assert!(resolve(&missing, &env_of(&[])).unwrap_err().contains("\"nope\""));
        // The default file is found through HOME.
        std::fs::create_dir_all(dir.path().join(".aliyun")).unwrap();
        std::fs::copy(&file, dir.path().join(".aliyun/config.json")).unwrap();
        let home = dir.path().display().to_string();
        let r = resolve(&ProviderConfig::default(), &env_of(&[("HOME", &home)])).unwrap();
        assert_eq!(r.credentials.unwrap().access_key_id, "main-id");
    }

    #[test]
    fn debug_hides_the_secret() {
        let c = pair(Some("id".into()), Some("s3cr3t".into()), Some("t0k3n".into()), "x").unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cr3t") && !shown.contains("t0k3n"), "{shown}");
    }
}

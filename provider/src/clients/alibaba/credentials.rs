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

/// One source's credentials: none when it has no key ID and no secret, an error when it has
/// one without the other (a typo would otherwise silently fall through to another account).
fn pair(
    id: Option<String>,
    secret: Option<String>,
    token: Option<String>,
    source: &str,
    names: (&str, &str),
) -> Result<Option<Credentials>, String> {
    match (nonempty(id), nonempty(secret)) {
        (Some(access_key_id), Some(access_key_secret)) => Ok(Some(Credentials {
            access_key_id,
            access_key_secret,
            security_token: nonempty(token),
            source: source.to_string(),
        })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(format!("{source}: {} is set but {} is not", names.0, names.1)),
        (None, Some(_)) => Err(format!("{source}: {} is set but {} is not", names.1, names.0)),
    }
}

/// The credentials of an aliyun CLI profile. Modes that need a call to obtain credentials
/// (RamRoleArn, EcsRamRole, ...) are not supported, and say so.
fn profile_credentials(p: &Json) -> Result<Option<Credentials>, String> {
    let text = |k: &str| p[k].as_str().map(str::to_string);
    let name = p["name"].as_str().unwrap_or("?");
    let source = format!("profile {name:?} of the shared config file");
    let keys = ("access_key_id", "access_key_secret");
    match p["mode"].as_str().unwrap_or("AK") {
        "AK" => pair(text("access_key_id"), text("access_key_secret"), None, &source, keys),
        "StsToken" => {
            let creds = pair(text("access_key_id"), text("access_key_secret"), text("sts_token"), &source, keys)?;
            match creds {
                Some(c) if c.security_token.is_none() => Err(format!("{source}: mode StsToken needs sts_token")),
                other => Ok(other),
            }
        }
        other => Err(format!("{source}: mode {other:?} is not supported; use AK or StsToken")),
    }
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
    let sources: [&dyn Fn() -> Result<Option<Credentials>, String>; 4] = [
        &|| {
            pair(
                cfg.access_key.clone(),
                cfg.secret_key.clone(),
                cfg.security_token.clone(),
                "the provider block",
                ("access_key", "secret_key"),
            )
        },
        &|| {
            let names = ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET");
            pair(env(names.0), env(names.1), env("ALIBABA_CLOUD_SECURITY_TOKEN"), "ALIBABA_CLOUD_* variables", names)
        },
        &|| {
            let names = ("ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY");
            pair(env(names.0), env(names.1), env("ALICLOUD_SECURITY_TOKEN"), "ALICLOUD_* variables", names)
        },
        &|| profile.as_ref().map_or(Ok(None), profile_credentials),
    ];
    let mut credentials = None;
    for source in sources {
        if let Some(c) = source()? {
            credentials = Some(c);
            break;
        }
    }
    let region = nonempty(cfg.region.clone())
        .or_else(|| nonempty(env("ALIBABA_CLOUD_REGION")))
        .or_else(|| nonempty(env("ALICLOUD_REGION")))
        .or_else(|| profile.as_ref().and_then(|p| nonempty(p["region_id"].as_str().map(str::to_string))));
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
    fn the_chain_is_ordered_and_tokens_travel_with_their_keys() {
        let file_dir = tempfile::tempdir().unwrap();
        let file = file_dir.path().join("config.json");
        std::fs::write(
            &file,
            r#"{"current":"p","profiles":[{"name":"p","mode":"AK","access_key_id":"file-id","access_key_secret":"file-secret","region_id":"cn-shenzhen"}]}"#,
        )
        .unwrap();
        let cfg = ProviderConfig { shared_credentials_file: Some(file.display().to_string()), ..Default::default() };
        let full_env = [
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret"),
            ("ALIBABA_CLOUD_SECURITY_TOKEN", "env-token"),
            ("ALICLOUD_ACCESS_KEY", "ali-id"),
            ("ALICLOUD_SECRET_KEY", "ali-secret"),
        ];
        // Remove sources one by one, from the top of the chain.
        let with_block =
            ProviderConfig { access_key: Some("cfg-id".into()), secret_key: Some("cfg-secret".into()), ..cfg.clone() };
        let c = resolve(&with_block, &env_of(&full_env)).unwrap().credentials.unwrap();
        // The environment's token does not attach itself to the provider block's keys.
        assert_eq!((c.access_key_id.as_str(), c.security_token.as_deref()), ("cfg-id", None));
        let c = resolve(&cfg, &env_of(&full_env)).unwrap().credentials.unwrap();
        assert_eq!((c.access_key_id.as_str(), c.security_token.as_deref()), ("env-id", Some("env-token")));
        let c = resolve(&cfg, &env_of(&full_env[3..])).unwrap().credentials.unwrap();
        assert_eq!((c.access_key_id.as_str(), c.security_token.as_deref()), ("ali-id", None));
        let r = resolve(&cfg, &env_of(&[])).unwrap();
        assert_eq!(r.credentials.unwrap().access_key_id, "file-id");
        assert_eq!(r.region.as_deref(), Some("cn-shenzhen"));
        // Region order: block, ALIBABA_CLOUD_REGION, ALICLOUD_REGION, profile.
        let regions = [("ALIBABA_CLOUD_REGION", "cn-beijing"), ("ALICLOUD_REGION", "cn-qingdao")];
        assert_eq!(resolve(&cfg, &env_of(&regions)).unwrap().region.as_deref(), Some("cn-beijing"));
        assert_eq!(resolve(&cfg, &env_of(&regions[1..])).unwrap().region.as_deref(), Some("cn-qingdao"));
        let r = ProviderConfig { region: Some("eu-central-1".into()), ..cfg.clone() };
        assert_eq!(resolve(&r, &env_of(&regions)).unwrap().region.as_deref(), Some("eu-central-1"));
    }

    #[test]
    fn half_configured_sources_are_errors_without_secrets() {
        let e =
            resolve(&ProviderConfig::default(), &env_of(&[("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIhalf")])).unwrap_err();
        assert!(e.contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET is not"), "{e}");
        let e = resolve(&ProviderConfig::default(), &env_of(&[("ALICLOUD_SECRET_KEY", "s3cr3t")])).unwrap_err();
        assert!(e.contains("ALICLOUD_ACCESS_KEY is not") && !e.contains("s3cr3t"), "{e}");
        // A complete source earlier in the chain makes a later half one irrelevant.
        let env = env_of(&[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "id"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret"),
            ("ALICLOUD_ACCESS_KEY", "half"),
        ]);
        assert_eq!(resolve(&ProviderConfig::default(), &env).unwrap().credentials.unwrap().access_key_id, "id");
    }

    #[test]
    fn unsupported_or_incomplete_profiles_say_why() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.json");
        std::fs::write(
            &file,
            r#"{"current":"role","profiles":[
                {"name":"role","mode":"RamRoleArn","access_key_id":"a","access_key_secret":"b","ram_role_arn":"acs:ram::1:role/x"},
                {"name":"sts","mode":"StsToken","access_key_id":"STS.a","access_key_secret":"b"}]}"#,
        )
        .unwrap();
        let cfg = ProviderConfig { shared_credentials_file: Some(file.display().to_string()), ..Default::default() };
        let e = resolve(&cfg, &env_of(&[])).unwrap_err();
        assert!(e.contains("\"RamRoleArn\" is not supported"), "{e}");
        let e = resolve(&ProviderConfig { profile: Some("sts".into()), ..cfg.clone() }, &env_of(&[])).unwrap_err();
        assert!(e.contains("needs sts_token"), "{e}");
        // Not reached when the environment has credentials.
        let env = env_of(&[("ALICLOUD_ACCESS_KEY", "id"), ("ALICLOUD_SECRET_KEY", "secret")]);
        assert!(resolve(&cfg, &env).is_ok());
        // A named file that does not exist is an error; a missing default file is not.
        let gone =
            ProviderConfig { shared_credentials_file: Some("/nonexistent/config.json".into()), ..Default::default() };
        assert!(resolve(&gone, &env_of(&[])).unwrap_err().contains("/nonexistent/config.json"));
        let home = dir.path().join("empty-home").display().to_string();
        assert_eq!(resolve(&ProviderConfig::default(), &env_of(&[("HOME", &home)])).unwrap().credentials, None);
    }

    #[test]
    fn debug_hides_the_secret() {
        let c = pair(Some("id".into()), Some("s3cr3t".into()), Some("t0k3n".into()), "x", ("a", "b")).unwrap().unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cr3t") && !shown.contains("t0k3n"), "{shown}");
    }
}

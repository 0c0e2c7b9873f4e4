//! Request parameters of RPC calls (query string and form body) and ROA query strings.

use super::errors::{CloudError, CloudResult};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// Later pairs win, so a form body overrides the query string.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Params(pairs.into_iter().collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The value, or `MissingParameter` when absent or empty.
    pub fn required(&self, name: &str) -> CloudResult<&str> {
        self.get(name).filter(|v| !v.is_empty()).ok_or_else(|| CloudError::missing(name))
    }

    pub fn bool(&self, name: &str) -> CloudResult<Option<bool>> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(invalid_param(name)),
        }
    }

    /// An integer within `min..=max`, or `default` when absent.
    pub fn int(&self, name: &str, default: u64, min: u64, max: u64) -> CloudResult<u64> {
        match self.get(name) {
            None | Some("") => Ok(default),
            Some(v) => v.parse::<u64>().ok().filter(|n| (min..=max).contains(n)).ok_or_else(|| invalid_param(name)),
        }
    }

    /// A parameter holding a JSON array of strings (e.g. `SecurityGroupIds`, `componentIds`).
    pub fn json_strings(&self, name: &str, code: &str) -> CloudResult<Option<Vec<String>>> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) => serde_json::from_str::<Vec<String>>(v)
                .map(Some)
                .map_err(|_| CloudError::invalid(code, format!("The specified parameter \"{name}\" is not valid."))),
        }
    }
}

pub fn invalid_param(name: &str) -> CloudError {
    CloudError::invalid("InvalidParameter", format!("The specified parameter \"{name}\" is not valid."))
}

//! The instance URL an admin types, normalised to the instance root.
//!
//! Accepted and cleaned: a trailing slash; a path an admin copied from the browser or from API
//! docs (`/api/now/table/incident`, `/incident.do?sys_id=…`, `/nav_to.do?uri=…`, `/now/nav/ui/…`),
//! including any query and fragment; a bare instance name (`acme` → `https://acme.service-now.com`)
//! or a host without a scheme. Refused with a message saying what to change: `http://` on anything
//! but a loopback address, user names or passwords inside the URL, other schemes, and any other
//! path (a ServiceNow instance lives at the root of its host).

use std::fmt;

use url::Url;

use crate::error::{ConnectorError, Result};
use crate::root_url::{RootUrlRules, is_loopback, parse_root};

const EXAMPLE: &str = "https://<instance>.service-now.com/";

const RULES: RootUrlRules = RootUrlRules {
    noun: "instance URL",
    example: EXAMPLE,
    bare_name_domain: Some(".service-now.com"),
    credentials: "the credentials",
    https_reason: "ServiceNow instances must be reached over https:// (plain http is only \
                   allowed for a local emulator on localhost)",
};

/// A normalised ServiceNow instance root: scheme, host and optional port, path `/`.
#[derive(Clone, PartialEq, Eq)]
pub struct InstanceUrl(Url);

impl InstanceUrl {
    pub fn parse(input: &str) -> Result<Self> {
        let mut url = parse_root(input, &RULES)?;
        let path = url.path().to_owned();
        if let Some(extra) = unexpected_path(&path) {
            return Err(invalid(format!(
                "{:?} has the path {extra:?}; a ServiceNow instance URL is just the instance \
                 root, such as {EXAMPLE}",
                input.trim()
            )));
        }
        url.set_path("/");
        url.set_query(None);
        url.set_fragment(None);
        Ok(Self(url))
    }

    /// The root, always ending in `/`.
    pub fn as_url(&self) -> &Url {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// An absolute URL below the root; `path` has no leading slash (`api/now/table/incident`).
    pub fn join(&self, path: &str) -> Url {
        let mut url = self.0.clone();
        url.set_path(path.trim_start_matches('/'));
        url
    }

    /// Whether the host is a loopback address (emulators, tests).
    pub fn is_loopback(&self) -> bool {
        self.0
            .host()
            .map(|h| is_loopback(&h.to_owned()))
            .unwrap_or(false)
    }
}

impl fmt::Display for InstanceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl fmt::Debug for InstanceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InstanceUrl({})", self.0)
    }
}

fn invalid(message: String) -> ConnectorError {
    ConnectorError::config(message)
}

/// The part of `path` that is neither empty nor a stray ServiceNow UI or API path, if any.
/// Everything from the first `/api/`, `/now/` or `*.do` segment on is dropped.
fn unexpected_path(path: &str) -> Option<String> {
    let mut kept = Vec::new();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        let lower = segment.to_ascii_lowercase();
        if lower == "api" || lower == "now" || lower.ends_with(".do") {
            break;
        }
        kept.push(segment);
    }
    if kept.is_empty() {
        None
    } else {
        Some(format!("/{}", kept.join("/")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> String {
        InstanceUrl::parse(input)
            .unwrap_or_else(|e| panic!("{input}: {e}"))
            .to_string()
    }

    fn err(input: &str) -> String {
        InstanceUrl::parse(input).unwrap_err().to_string()
    }

    #[test]
    fn stray_paths_slashes_queries_are_removed() {
        let root = "https://acme.service-now.com/";
        for input in [
            "https://acme.service-now.com",
            "https://acme.service-now.com/",
            "  https://acme.service-now.com//  ",
            "https://acme.service-now.com/api/now/table/incident?sysparm_limit=1",
            "https://acme.service-now.com/api/now/v2/table/incident/abc",
            "https://acme.service-now.com/incident.do?sys_id=abc#x",
            "https://acme.service-now.com/nav_to.do?uri=%2Fincident_list.do",
            "https://acme.service-now.com/now/nav/ui/classic/params/target/incident.do",
            "https://ACME.service-now.com/oauth_token.do",
            "acme.service-now.com",
            "acme.service-now.com/incident_list.do",
            "acme",
            "ACME",
        ] {
            assert_eq!(ok(input), root, "{input}");
        }
    }

    #[test]
    fn ports_and_loopback_http_are_allowed() {
        assert_eq!(
            ok("http://127.0.0.1:8443/api/now/table/x"),
            "http://127.0.0.1:8443/"
        );
        assert_eq!(ok("http://localhost:9000"), "http://localhost:9000/");
        assert_eq!(ok("http://[::1]:9000/"), "http://[::1]:9000/");
        assert_eq!(
            ok("https://sn.internal.example:8443/"),
            "https://sn.internal.example:8443/"
        );
        assert!(
            InstanceUrl::parse("http://127.0.0.1:1/")
                .unwrap()
                .is_loopback()
        );
        assert!(!InstanceUrl::parse("acme").unwrap().is_loopback());
    }

    #[test]
    fn unsafe_or_unusable_urls_get_clear_errors() {
        assert!(err("http://acme.service-now.com").contains("must be reached over https://"));
        assert!(err("http://10.0.0.5").contains("https://"));
        assert!(err("ftp://acme.service-now.com").contains("scheme ftp://"));
        assert!(err("https://admin:pw@acme.service-now.com").contains("credential fields"));
        assert!(!err("https://admin:pw@acme.service-now.com").contains("pw@"));
        assert!(err("https://acme.service-now.com/sn/portal").contains("path \"/sn/portal\""));
        assert!(err("").contains("empty"));
        assert!(err("https://").contains("not a URL") || err("https://").contains("no host"));
        assert!(err("acme service now").contains("not a URL"));
    }

    #[test]
    fn join_builds_api_urls() {
        let u = InstanceUrl::parse("https://acme.service-now.com/x.do").unwrap();
        assert_eq!(
            u.join("api/now/table/incident").as_str(),
            "https://acme.service-now.com/api/now/table/incident"
        );
        assert_eq!(
            u.join("/oauth_token.do").as_str(),
            "https://acme.service-now.com/oauth_token.do"
        );
    }
}

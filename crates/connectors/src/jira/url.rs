//! The Jira Cloud site URL an admin types, normalised to the site root.
//!
//! Accepted and cleaned: a trailing slash; a path copied from the browser or the API docs
//! (`/browse/SEC-12`, `/jira/software/projects/SEC/boards/1`, `/rest/api/3/issue/…`,
//! `/secure/…`, `/plugins/servlet/…`), with any query and fragment; a bare site name
//! (`acme` → `https://acme.atlassian.net`) or a host without a scheme. Refused with a message
//! saying what to change: `http://` on anything but a loopback address (a local emulator), user
//! names or passwords inside the URL, other schemes, and any other path (a Cloud site lives at
//! the root of its host).

use std::fmt;

use url::Url;

use crate::error::{ConnectorError, Result};
use crate::root_url::{RootUrlRules, parse_root};

const EXAMPLE: &str = "https://<site>.atlassian.net";

const RULES: RootUrlRules = RootUrlRules {
    noun: "site URL",
    example: EXAMPLE,
    bare_name_domain: Some(".atlassian.net"),
    credentials: "the e-mail and API token",
    https_reason: "Jira Cloud sites are reached over https:// (plain http is only allowed for a \
                   local emulator on localhost)",
};

/// Path prefixes of Jira's UI and APIs: everything from the first one on is dropped.
const SITE_PATHS: [&str; 8] = [
    "browse",
    "jira",
    "rest",
    "secure",
    "plugins",
    "projects",
    "issues",
    "servicedesk",
];

/// A normalised Jira site root: scheme, host and optional port, no path.
#[derive(Clone, PartialEq, Eq)]
pub struct SiteUrl(Url);

impl SiteUrl {
    pub fn parse(input: &str) -> Result<Self> {
        let mut url = parse_root(input, &RULES)?;
        if let Some(extra) = unexpected_path(url.path()) {
            return Err(invalid(format!(
                "{:?} has the path {extra:?}; a Jira Cloud site URL is just the site root, \
                 such as {EXAMPLE}",
                input.trim()
            )));
        }
        url.set_path("/");
        url.set_query(None);
        url.set_fragment(None);
        Ok(Self(url))
    }

    /// The root without a trailing slash, as stored: `https://acme.atlassian.net`.
    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }

    /// An absolute URL below the root; `path` has no leading slash (`rest/api/3/myself`).
    pub fn join(&self, path: &str) -> Url {
        let mut url = self.0.clone();
        url.set_path(path.trim_start_matches('/'));
        url
    }

    /// The one deep link to an issue: `<site>/browse/<KEY>`.
    pub fn browse(&self, key: &str) -> Url {
        self.join(&format!("browse/{key}"))
    }
}

impl fmt::Display for SiteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for SiteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SiteUrl({})", self.as_str())
    }
}

fn invalid(message: String) -> ConnectorError {
    ConnectorError::config(message)
}

/// The part of `path` before the first UI or API segment, when it is not empty.
fn unexpected_path(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let kept: Vec<&str> = segments
        .iter()
        .take_while(|s| !SITE_PATHS.contains(&s.to_ascii_lowercase().as_str()))
        .copied()
        .collect();
    (!kept.is_empty()).then(|| format!("/{}", kept.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_urls_normalise_to_the_root() {
        for (input, expected) in [
            ("acme", "https://acme.atlassian.net"),
            ("https://acme.atlassian.net/", "https://acme.atlassian.net"),
            ("acme.atlassian.net", "https://acme.atlassian.net"),
            (
                "https://acme.atlassian.net/browse/SEC-12?focusedCommentId=1#x",
                "https://acme.atlassian.net",
            ),
            (
                "https://acme.atlassian.net/jira/software/projects/SEC/boards/1",
                "https://acme.atlassian.net",
            ),
            (
                "https://acme.atlassian.net/rest/api/3/myself",
                "https://acme.atlassian.net",
            ),
            ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ] {
            assert_eq!(SiteUrl::parse(input).unwrap().as_str(), expected, "{input}");
        }
        let site = SiteUrl::parse("acme").unwrap();
        assert_eq!(
            site.browse("SEC-12").as_str(),
            "https://acme.atlassian.net/browse/SEC-12"
        );
    }

    #[test]
    fn unusable_site_urls_are_refused_with_a_remedy() {
        for (input, says) in [
            ("", "empty"),
            ("http://acme.atlassian.net", "https://"),
            ("ftp://acme.atlassian.net", "scheme ftp"),
            ("https://me:pw@acme.atlassian.net", "user name or password"),
            ("https://acme.atlassian.net/wiki/spaces", "/wiki/spaces"),
        ] {
            let err = SiteUrl::parse(input).unwrap_err().to_string();
            assert!(err.contains(says), "{input}: {err}");
        }
    }
}

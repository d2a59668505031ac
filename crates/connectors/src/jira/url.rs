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
use std::net::IpAddr;

use url::{Host, Url};

use crate::error::{ConnectorError, Result};

const EXAMPLE: &str = "https://<site>.atlassian.net";

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
        let input = input.trim();
        if input.is_empty() {
            return Err(invalid(format!(
                "the site URL is empty; enter it as {EXAMPLE}"
            )));
        }
        let with_scheme = if input.contains("://") {
            input.to_owned()
        } else if is_bare_site_name(input) {
            format!("https://{}.atlassian.net/", input.to_ascii_lowercase())
        } else {
            format!("https://{input}")
        };
        let mut url = Url::parse(&with_scheme).map_err(|e| {
            invalid(format!(
                "{input:?} is not a URL ({e}); enter it as {EXAMPLE}"
            ))
        })?;
        let host = url
            .host()
            .map(|h| h.to_owned())
            .ok_or_else(|| invalid(format!("{input:?} has no host name; enter it as {EXAMPLE}")))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "the site URL contains a user name or password; remove it from the URL and enter \
                 the e-mail and API token in the credential fields"
                    .to_owned(),
            ));
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&host) => {}
            "http" => {
                return Err(invalid(format!(
                    "{input:?} uses http://; Jira Cloud sites are reached over https:// (plain http \
                     is only allowed for a local emulator on localhost)"
                )));
            }
            other => {
                return Err(invalid(format!(
                    "{input:?} uses the scheme {other}://; enter the site URL as {EXAMPLE}"
                )));
            }
        }
        if let Some(extra) = unexpected_path(url.path()) {
            return Err(invalid(format!(
                "{input:?} has the path {extra:?}; a Jira Cloud site URL is just the site root, \
                 such as {EXAMPLE}"
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

fn is_bare_site_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !s.eq_ignore_ascii_case("localhost")
}

fn is_loopback(host: &Host<String>) -> bool {
    match host {
        Host::Domain(d) => {
            d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost")
        }
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
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

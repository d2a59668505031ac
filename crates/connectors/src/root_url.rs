//! The first steps of turning the URL an admin types into a vendor's root URL, the same for every
//! vendor: trim, default the scheme to https (a bare name becomes a host of the vendor's cloud
//! domain where it has one), parse, refuse user info in the URL and any scheme but https (plain
//! http only on a loopback host, for a local emulator). Each vendor then keeps or refuses the
//! path its own way (`servicenow/url.rs`, `jira/url.rs`, `sdp/url.rs`), so the messages an admin
//! reads differ only in the vendor's words.

use std::net::IpAddr;

use url::{Host, Url};

use crate::error::{ConnectorError, Result};

/// How one vendor names and defaults its root URL in what the admin reads.
pub(crate) struct RootUrlRules {
    /// What the URL is called: `instance URL`, `site URL`, ...
    pub noun: &'static str,
    /// How to enter it, shown with every refusal.
    pub example: &'static str,
    /// A bare name (`acme`) becomes `https://acme<domain>/` when the vendor has a cloud domain.
    pub bare_name_domain: Option<&'static str>,
    /// What goes in the credential fields instead of user info in the URL.
    pub credentials: &'static str,
    /// Why plain http is refused off loopback.
    pub https_reason: &'static str,
}

/// The URL `input` names, with the scheme and user-info rules applied; its path, query and
/// fragment are left for the vendor to judge.
pub(crate) fn parse_root(input: &str, rules: &RootUrlRules) -> Result<Url> {
    let RootUrlRules {
        noun,
        example,
        bare_name_domain,
        credentials,
        https_reason,
    } = rules;
    let input = input.trim();
    if input.is_empty() {
        return Err(invalid(format!(
            "the {noun} is empty; enter it as {example}"
        )));
    }
    let with_scheme = match bare_name_domain {
        _ if input.contains("://") => input.to_owned(),
        Some(domain) if is_bare_name(input) => {
            format!("https://{}{domain}/", input.to_ascii_lowercase())
        }
        _ => format!("https://{input}"),
    };
    let url = Url::parse(&with_scheme).map_err(|e| {
        invalid(format!(
            "{input:?} is not a URL ({e}); enter it as {example}"
        ))
    })?;
    let host = url
        .host()
        .map(|h| h.to_owned())
        .ok_or_else(|| invalid(format!("{input:?} has no host name; enter it as {example}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(format!(
            "the {noun} contains a user name or password; remove it from the URL and enter \
             {credentials} in the credential fields"
        )));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&host) => Ok(url),
        "http" => Err(invalid(format!("{input:?} uses http://; {https_reason}"))),
        other => Err(invalid(format!(
            "{input:?} uses the scheme {other}://; enter the {noun} as {example}"
        ))),
    }
}

/// Whether `host` is this machine (emulators and tests may use plain http there).
pub(crate) fn is_loopback(host: &Host<String>) -> bool {
    match host {
        Host::Domain(d) => {
            d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost")
        }
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

/// `acme`, `acme-dev`: a name without dots, colons or slashes.
fn is_bare_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !s.eq_ignore_ascii_case("localhost")
}

fn invalid(message: String) -> ConnectorError {
    ConnectorError::config(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: RootUrlRules = RootUrlRules {
        noun: "site URL",
        example: "https://<site>.example.net",
        bare_name_domain: Some(".example.net"),
        credentials: "the token",
        https_reason: "sites are reached over https://",
    };

    fn refused(input: &str) -> String {
        parse_root(input, &RULES).unwrap_err().to_string()
    }

    #[test]
    fn names_hosts_and_loopback_http_are_accepted() {
        assert_eq!(
            parse_root(" acme ", &RULES).unwrap().as_str(),
            "https://acme.example.net/"
        );
        assert_eq!(
            parse_root("acme.example.net/x", &RULES).unwrap().as_str(),
            "https://acme.example.net/x"
        );
        assert!(parse_root("http://127.0.0.1:8080/", &RULES).is_ok());
        assert!(parse_root("http://localhost/", &RULES).is_ok());
        let no_domain = RootUrlRules {
            bare_name_domain: None,
            ..RULES
        };
        assert_eq!(
            parse_root("sdp", &no_domain).unwrap().as_str(),
            "https://sdp/"
        );
    }

    #[test]
    fn each_refusal_says_what_to_change_in_the_vendors_words() {
        assert!(refused("").contains("the site URL is empty; enter it as https://<site>"));
        assert!(refused("https://bob:pw@acme.example.net").contains("enter the token"));
        assert!(refused("http://acme.example.net").contains("sites are reached over https://"));
        assert!(refused("ftp://acme.example.net").contains("enter the site URL as"));
        assert!(refused("https://exa mple").contains("is not a URL"));
    }
}

//! The ServiceDesk Plus address an admin types, normalised to its portal root.
//!
//! Two shapes (reference B1): on premises `https://<host>:<port>/` (API under `/api/v3/`), and
//! Cloud or multi-portal builds `https://<domain>/app/<portal>/` (API under
//! `/app/<portal>/api/v3/`). Accepted and cleaned: a trailing slash, a copied API path
//! (`…/api/v3/requests`), a copied UI path after the portal (`/app/<portal>/ui/requests/…`), a
//! query or fragment. Refused with a message: `http://` except on loopback (the technician key
//! would travel in clear), user names or passwords in the URL, other schemes, other paths.

use std::fmt;

use url::Url;

use crate::error::{ConnectorError, Result};
use crate::root_url::{RootUrlRules, parse_root};

const EXAMPLES: &str = "https://sdp.example.com:8080/ (on premises) or https://sdpondemand.manageengine.com/app/<portal>/ (Cloud)";

const RULES: RootUrlRules = RootUrlRules {
    noun: "ServiceDesk Plus URL",
    example: EXAMPLES,
    // On premises has no cloud domain to complete a bare name with.
    bare_name_domain: None,
    credentials: "the API key or OAuth client",
    https_reason: "Lockstep sends the technician key only over https:// (enable HTTPS on the \
                   ServiceDesk Plus server: Admin → Server Settings / Connection mode HTTPS, port \
                   8443 by default)",
};

/// A normalised portal root: scheme, host, port and, for multi-portal and Cloud instances,
/// `/app/<portal>/`.
#[derive(Clone, PartialEq, Eq)]
pub struct PortalUrl {
    root: Url,
    portal: Option<String>,
}

impl PortalUrl {
    pub fn parse(input: &str) -> Result<Self> {
        let mut url = parse_root(input, &RULES)?;
        let portal = portal_of(url.path()).map_err(|extra| {
            invalid(format!(
                "{:?} has the path {extra:?}; enter the server root or the portal root, such as \
                 {EXAMPLES}",
                input.trim()
            ))
        })?;
        match &portal {
            Some(p) => url.set_path(&format!("/app/{p}/")),
            None => url.set_path("/"),
        }
        url.set_query(None);
        url.set_fragment(None);
        Ok(Self { root: url, portal })
    }

    /// The portal root, ending in `/`.
    pub fn root(&self) -> &Url {
        &self.root
    }

    /// The portal name of a `/app/<portal>/` address.
    pub fn portal(&self) -> Option<&str> {
        self.portal.as_deref()
    }

    /// `<root>api/v3/<path>`.
    pub fn api(&self, path: &str) -> Url {
        let mut url = self.root.clone();
        url.set_path(&format!(
            "{}api/v3/{}",
            self.root.path(),
            path.trim_start_matches('/')
        ));
        url
    }

    /// The request's page in the web UI. Cloud and multi-portal builds: `ui/requests/<id>/details`;
    /// on premises without a portal: `WorkOrder.do?woMode=viewWO&woID=<id>`. Both shapes are
    /// UNCONFIRMED in the reference (taken from the vendor's UI as commonly linked).
    pub fn request_page(&self, id: &str) -> Url {
        let mut url = self.root.clone();
        match &self.portal {
            Some(_) => url.set_path(&format!("{}ui/requests/{id}/details", self.root.path())),
            None => {
                url.set_path("/WorkOrder.do");
                url.query_pairs_mut()
                    .append_pair("woMode", "viewWO")
                    .append_pair("woID", id);
            }
        }
        url
    }

    /// The stored form: the root without its trailing slash.
    pub fn as_stored(&self) -> String {
        self.root.as_str().trim_end_matches('/').to_owned()
    }
}

impl fmt::Display for PortalUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.root.as_str())
    }
}

impl fmt::Debug for PortalUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PortalUrl({})", self.root)
    }
}

/// The portal named by a path: `None` for the root or `/api/v3/…`, `Some` for `/app/<portal>/…`
/// (followed by nothing, `api/v3/…` or `ui/…`); `Err(path)` for anything else.
fn portal_of(path: &str) -> std::result::Result<Option<String>, String> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let rest_ok = |rest: &[&str]| matches!(rest, [] | ["api", "v3", ..] | ["ui", ..]);
    match segs.as_slice() {
        [] => Ok(None),
        ["api", "v3", ..] => Ok(None),
        ["app", portal, rest @ ..] if rest_ok(rest) && valid_portal(portal) => {
            Ok(Some((*portal).to_owned()))
        }
        _ => Err(path.to_owned()),
    }
}

fn valid_portal(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 100
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn invalid(message: String) -> ConnectorError {
    ConnectorError::config(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_normalise_to_their_portal_root() {
        let onprem = PortalUrl::parse("sdp.example.com:8443/api/v3/requests?x=1").unwrap();
        assert_eq!(onprem.as_stored(), "https://sdp.example.com:8443");
        assert_eq!(onprem.portal(), None);
        assert_eq!(
            onprem.api("requests/7").as_str(),
            "https://sdp.example.com:8443/api/v3/requests/7"
        );
        let cloud = PortalUrl::parse("https://sdpondemand.manageengine.com/app/itdesk/ui/requests")
            .unwrap();
        assert_eq!(
            cloud.as_stored(),
            "https://sdpondemand.manageengine.com/app/itdesk"
        );
        assert_eq!(cloud.portal(), Some("itdesk"));
        assert_eq!(
            cloud.api("/requests").as_str(),
            "https://sdpondemand.manageengine.com/app/itdesk/api/v3/requests"
        );
        assert_eq!(
            cloud.request_page("12").as_str(),
            "https://sdpondemand.manageengine.com/app/itdesk/ui/requests/12/details"
        );
        assert_eq!(
            onprem.request_page("12").as_str(),
            "https://sdp.example.com:8443/WorkOrder.do?woMode=viewWO&woID=12"
        );
        let again = PortalUrl::parse(&cloud.as_stored()).unwrap();
        assert_eq!(again, cloud);
    }

    #[test]
    fn wrong_addresses_say_what_to_change() {
        for (input, hint) in [
            ("", "empty"),
            ("http://sdp.example.com:8080", "https://"),
            ("https://u:p@sdp.example.com", "user name"),
            ("ftp://sdp.example.com", "scheme"),
            ("https://sdp.example.com/servlets/x", "path"),
        ] {
            let err = PortalUrl::parse(input).unwrap_err().to_string();
            assert!(err.contains(hint), "{input}: {err}");
        }
        assert!(PortalUrl::parse("http://127.0.0.1:9000/app/secops").is_ok());
    }
}

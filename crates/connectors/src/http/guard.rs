//! The destination guard: vendor connections never reach the server's own host or networks
//! (the ranges in [`super::ranges`]) unless the operator's allow-list names them.
//!
//! Enforcement is at connection time, not only when an integration is saved, because a name's
//! DNS answer can change after any check (DNS rebinding):
//! - host names go through [`VettedResolver`], the client's only resolver, which drops refused
//!   addresses from every answer before a connection is opened to any of them;
//! - reqwest does not call the resolver for IP literals, so [`Guard::check_url`] checks them
//!   before every request;
//! - redirects are never followed (the executor's policy), and environment proxies are not used,
//!   since a proxy would resolve and connect on our behalf out of the guard's sight.
//!
//! A refusal is a [`Refusal`]; no connection, status code or TLS error is ever produced for it,
//! so a tenant cannot use integrations to probe what listens on the server's networks.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde::{Deserialize, Serialize};
use url::{Host, Url};

use super::ranges::{RefusedRange, embedded_v4, refused_range};

/// The configuration key of the allow-list in the services (`[vendor_http]`), named in refusals.
pub const ALLOW_LIST_KEY: &str = "vendor_http.allow_private_networks";
/// The environment variable that sets [`ALLOW_LIST_KEY`].
pub const ALLOW_LIST_ENV: &str = "LOCKSTEP_VENDOR_HTTP__ALLOW_PRIVATE_NETWORKS";

/// One entry of the operator's allow-list: a network (`10.20.0.0/16`, or one address such as
/// `127.0.0.1`) or a host name (`sn.corp.example`, every address it resolves to).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum AllowEntry {
    Network(IpNet),
    Host(String),
}

impl FromStr for AllowEntry {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if let Ok(net) = text.parse::<IpNet>() {
            return Ok(Self::Network(net.trunc()));
        }
        if let Ok(ip) = text.trim_matches(['[', ']']).parse::<IpAddr>() {
            return Ok(Self::Network(IpNet::from(ip)));
        }
        let host = normalise_host(text);
        let valid = !host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            });
        if valid {
            Ok(Self::Host(host))
        } else {
            Err(format!(
                "{s:?} is neither a network (such as \"10.20.0.0/16\" or \"127.0.0.1\") nor a host \
                 name (such as \"sn.corp.example\")"
            ))
        }
    }
}

impl TryFrom<String> for AllowEntry {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<AllowEntry> for String {
    fn from(entry: AllowEntry) -> Self {
        entry.to_string()
    }
}

impl fmt::Display for AllowEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Network(net) => write!(f, "{net}"),
            Self::Host(host) => f.write_str(host),
        }
    }
}

/// The networks and host names vendor connections may reach although they are in a refused
/// range. Empty by default: only public addresses are reached.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AllowList(Vec<AllowEntry>);

impl AllowList {
    pub fn new(entries: Vec<AllowEntry>) -> Self {
        Self(entries)
    }

    /// Parses entries such as `["127.0.0.1/32", "sn.corp.example"]`.
    pub fn parse<S: AsRef<str>>(entries: impl IntoIterator<Item = S>) -> Result<Self, String> {
        entries
            .into_iter()
            .map(|e| e.as_ref().parse())
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// This host's loopback addresses (127.0.0.0/8, ::1): what tests, benchmarks and the demo
    /// set to reach the ServiceNow emulator they run locally.
    pub fn loopback() -> Self {
        Self::parse(["127.0.0.0/8", "::1/128"]).expect("static entries parse")
    }

    pub fn entries(&self) -> &[AllowEntry] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn allows_host(&self, host: &str) -> bool {
        let host = normalise_host(host);
        self.0
            .iter()
            .any(|e| matches!(e, AllowEntry::Host(h) if *h == host))
    }

    /// Whether a network entry holds `ip`, or the IPv4 address an IPv6 form of it reaches.
    fn allows_ip(&self, ip: IpAddr) -> bool {
        let inner = match ip {
            IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        self.0.iter().any(|e| match e {
            AllowEntry::Network(net) => {
                net.contains(&ip) || inner.is_some_and(|i| net.contains(&i))
            }
            AllowEntry::Host(_) => false,
        })
    }
}

fn normalise_host(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Why a vendor destination is refused. Travels from the resolver through reqwest's error
/// chain, where the executor finds it and turns it into
/// [`crate::ConnectorError::DestinationRefused`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Refusal {
    pub host: String,
    /// For an IP literal, its range. For a host name it is not said which internal range its
    /// addresses are in, so the refusal tells a tenant as little as possible about the network.
    pub range: Option<RefusedRange>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.range {
            Some(range) => write!(f, "{} is a {range} address", self.host)?,
            None => write!(
                f,
                "{} resolves only to loopback, private, link-local or other internal addresses",
                self.host
            )?,
        }
        write!(
            f,
            "; Lockstep does not connect there unless an operator lists the address, its network \
             or the host name in {ALLOW_LIST_KEY} (environment variable {ALLOW_LIST_ENV}, for \
             example [\"{}\"]); otherwise use the vendor's public address",
            self.example_entry()
        )
    }
}

impl Refusal {
    fn example_entry(&self) -> String {
        match self.host.trim_matches(['[', ']']).parse::<IpAddr>() {
            Ok(ip) => IpNet::from(ip).to_string(),
            Err(_) => self.host.clone(),
        }
    }
}

/// The checks, shared by the executor and its resolver.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    allow: AllowList,
}

impl Guard {
    pub fn new(allow: AllowList) -> Self {
        Self { allow }
    }

    pub fn allow_list(&self) -> &AllowList {
        &self.allow
    }

    /// The refused range of `ip` unless the allow-list names it.
    fn refused(&self, ip: IpAddr) -> Option<RefusedRange> {
        refused_range(ip).filter(|_| !self.allows_ip(ip))
    }

    fn allows_ip(&self, ip: IpAddr) -> bool {
        self.allow.allows_ip(ip)
    }

    /// Checks a URL whose host is an IP literal (reqwest connects to those without resolving).
    /// Host names pass here; the resolver checks what they resolve to.
    pub fn check_url(&self, url: &Url) -> Result<(), Refusal> {
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            _ => return Ok(()),
        };
        match self.refused(ip) {
            Some(range) => Err(Refusal {
                host: url.host_str().unwrap_or_default().to_owned(),
                range: Some(range),
            }),
            None => Ok(()),
        }
    }

    /// Keeps the addresses a connection to `host` may use; a refusal when none is left.
    pub fn filter(&self, host: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, Refusal> {
        if self.allow.allows_host(host) {
            return Ok(addrs);
        }
        let total = addrs.len();
        let kept: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|a| self.refused(a.ip()).is_none())
            .collect();
        if kept.len() < total {
            tracing::warn!(
                host,
                refused = total - kept.len(),
                kept = kept.len(),
                "vendor host resolves to refused addresses; they are not used (see {ALLOW_LIST_KEY})"
            );
        }
        if kept.is_empty() && total > 0 {
            return Err(Refusal {
                host: host.to_owned(),
                range: None,
            });
        }
        Ok(kept)
    }

    /// Resolves `host` and filters the answer.
    pub async fn resolve(&self, host: &str) -> Result<Vec<SocketAddr>, ResolveError> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
            .await
            .map_err(ResolveError::Lookup)?
            .collect();
        self.filter(host, addrs).map_err(ResolveError::Refused)
    }
}

/// A failed resolution: the name did not resolve, or only to refused addresses.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("{0}")]
    Lookup(std::io::Error),
    #[error(transparent)]
    Refused(Refusal),
}

/// The executor's DNS resolver: the system resolver, then [`Guard::filter`].
#[derive(Debug, Clone)]
pub struct VettedResolver {
    guard: Arc<Guard>,
}

impl VettedResolver {
    pub fn new(guard: Arc<Guard>) -> Self {
        Self { guard }
    }
}

impl Resolve for VettedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.guard.clone();
        Box::pin(async move {
            match guard.resolve(name.as_str()).await {
                Ok(addrs) => Ok(Box::new(addrs.into_iter()) as Addrs),
                // The refusal itself (not the enum) goes into the chain, so the executor finds
                // it by type.
                Err(ResolveError::Refused(refusal)) => Err(refusal.into()),
                Err(ResolveError::Lookup(e)) => Err(e.into()),
            }
        })
    }
}

/// The refusal somewhere in an error's source chain, if any.
pub fn find_refusal<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refusal> {
    let mut current = Some(e);
    while let Some(err) = current {
        if let Some(refusal) = err.downcast_ref::<Refusal>() {
            return Some(refusal);
        }
        current = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(entries: &[&str]) -> Guard {
        Guard::new(AllowList::parse(entries).unwrap())
    }

    fn sock(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 443)
    }

    #[test]
    fn allow_entries_parse_networks_addresses_and_host_names() {
        let list = AllowList::parse([
            "127.0.0.1/32",
            "10.20.0.0/16",
            "10.1.2.3/8",
            "::1",
            "[fd00::1]",
            "SN.Corp.Example.",
        ])
        .unwrap();
        let shown: Vec<String> = list.entries().iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "127.0.0.1/32",
                "10.20.0.0/16",
                "10.0.0.0/8",
                "::1/128",
                "fd00::1/128",
                "sn.corp.example"
            ]
        );
        for bad in ["", "10.0.0.0/33", "sn corp", "*.corp.example", "http://x/"] {
            let e = AllowList::parse([bad]).unwrap_err();
            assert!(e.contains("neither a network"), "{bad}: {e}");
        }
    }

    #[test]
    fn literal_hosts_are_checked_against_ranges_and_the_allow_list() {
        let none = guard(&[]);
        let url = |s: &str| Url::parse(s).unwrap();
        let refused = none.check_url(&url("http://127.0.0.1:9/")).unwrap_err();
        assert_eq!(refused.range, Some(RefusedRange::Loopback));
        let text = refused.to_string();
        assert!(
            text.contains(ALLOW_LIST_KEY) && text.contains("127.0.0.1/32"),
            "{text}"
        );
        for u in [
            "http://[::1]:8080/",
            "https://169.254.169.254/latest/meta-data/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:7f00:1]/",
            "https://2130706433/",
            "https://0x7f.1/",
            "https://10.0.0.5/",
        ] {
            assert!(none.check_url(&url(u)).is_err(), "{u}");
        }
        assert!(none.check_url(&url("https://8.8.8.8/")).is_ok());
        assert!(
            none.check_url(&url("https://localhost/")).is_ok(),
            "names are the resolver's"
        );
        let loopback = guard(&["127.0.0.1/32"]);
        assert!(loopback.check_url(&url("http://127.0.0.1:9/")).is_ok());
        assert!(
            loopback
                .check_url(&url("http://[::ffff:127.0.0.1]:9/"))
                .is_ok()
        );
        assert!(loopback.check_url(&url("http://127.0.0.2:9/")).is_err());
        assert!(loopback.check_url(&url("http://[::1]:9/")).is_err());
    }

    #[test]
    fn resolved_addresses_are_filtered() {
        let none = guard(&[]);
        let refusal = none
            .filter("sn.corp.example", vec![sock("10.0.0.5"), sock("::1")])
            .unwrap_err();
        assert_eq!(refusal.range, None, "which internal range is not told");
        assert!(!refusal.to_string().contains("10.0.0.5"));
        let mixed = none
            .filter("sn.example", vec![sock("127.0.0.1"), sock("203.0.113.9")])
            .unwrap();
        assert_eq!(
            mixed,
            vec![sock("203.0.113.9")],
            "only the public address is used"
        );
        let by_name = guard(&["SN.corp.example"]);
        assert_eq!(
            by_name
                .filter("sn.corp.example.", vec![sock("10.0.0.5")])
                .unwrap(),
            vec![sock("10.0.0.5")]
        );
        assert!(
            by_name
                .filter("other.corp.example", vec![sock("10.0.0.5")])
                .is_err()
        );
        let by_net = guard(&["10.0.0.0/24"]);
        assert!(by_net.filter("x", vec![sock("10.0.0.5")]).is_ok());
        assert!(by_net.filter("x", vec![sock("10.0.1.5")]).is_err());
    }

    #[test]
    fn a_refusal_is_found_in_an_error_chain() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] Box<dyn std::error::Error + Send + Sync>);
        let refusal = Refusal {
            host: "localhost".into(),
            range: None,
        };
        let outer = Outer(Box::new(refusal.clone()));
        assert_eq!(find_refusal(&outer), Some(&refusal));
        let io = std::io::Error::other("dns");
        assert_eq!(find_refusal(&io), None);
    }
}

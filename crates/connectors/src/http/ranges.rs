//! Which IP addresses a vendor connection must never reach unless an operator allows them: the
//! server's own host (loopback), its networks (private, shared, link-local with the cloud
//! metadata endpoint), and addresses that are not a single public host (unspecified, multicast,
//! broadcast, reserved). A tenant admin chooses an integration's URL; without this check the URL
//! could aim Lockstep at services that trust the server's network position.
//!
//! Pure functions, tested without a network. IPv6 forms that carry an IPv4 address (IPv4-mapped
//! `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, deprecated IPv4-compatible `::a.b.c.d`) are judged
//! by the IPv4 address they reach.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

/// The kind of refused range an address is in; its text names it for the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusedRange {
    /// 0.0.0.0/8, `::`: "this host", reaches local services on most systems.
    ThisHost,
    /// 127.0.0.0/8, `::1`.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16 (RFC 1918), fc00::/7 (unique local), fec0::/10 (site local).
    Private,
    /// 100.64.0.0/10, carrier-grade NAT (also some clouds' metadata endpoints).
    SharedAddressSpace,
    /// 169.254.0.0/16 and fe80::/10, including the cloud metadata endpoint 169.254.169.254.
    LinkLocal,
    /// 192.0.0.0/24 (IETF protocol assignments), 198.18.0.0/15 (benchmarking), 240.0.0.0/4.
    Reserved,
    /// 224.0.0.0/4, ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
}

impl RefusedRange {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ThisHost => "\"this host\" (0.0.0.0/8 or ::)",
            Self::Loopback => "loopback",
            Self::Private => "private network",
            Self::SharedAddressSpace => "shared address space (100.64.0.0/10)",
            Self::LinkLocal => "link-local (including the cloud metadata endpoint)",
            Self::Reserved => "reserved",
            Self::Multicast => "multicast",
            Self::Broadcast => "broadcast",
        }
    }
}

impl fmt::Display for RefusedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix)
}

/// Refused IPv4 ranges. Broadcast comes before 240/4, which contains it, so it is named as such.
const V4: &[(Ipv4Net, RefusedRange)] = &[
    (v4(0, 0, 0, 0, 8), RefusedRange::ThisHost),
    (v4(10, 0, 0, 0, 8), RefusedRange::Private),
    (v4(100, 64, 0, 0, 10), RefusedRange::SharedAddressSpace),
    (v4(127, 0, 0, 0, 8), RefusedRange::Loopback),
    (v4(169, 254, 0, 0, 16), RefusedRange::LinkLocal),
    (v4(172, 16, 0, 0, 12), RefusedRange::Private),
    (v4(192, 0, 0, 0, 24), RefusedRange::Reserved),
    (v4(192, 168, 0, 0, 16), RefusedRange::Private),
    (v4(198, 18, 0, 0, 15), RefusedRange::Reserved),
    (v4(224, 0, 0, 0, 4), RefusedRange::Multicast),
    (v4(255, 255, 255, 255, 32), RefusedRange::Broadcast),
    (v4(240, 0, 0, 0, 4), RefusedRange::Reserved),
];

const fn v6(segments: [u16; 8], prefix: u8) -> Ipv6Net {
    let [a, b, c, d, e, f, g, h] = segments;
    Ipv6Net::new_assert(Ipv6Addr::new(a, b, c, d, e, f, g, h), prefix)
}

/// Refused IPv6 ranges (the IPv4-carrying forms are handled before this table).
const V6: &[(Ipv6Net, RefusedRange)] = &[
    (v6([0; 8], 128), RefusedRange::ThisHost),
    (v6([0, 0, 0, 0, 0, 0, 0, 1], 128), RefusedRange::Loopback),
    (
        v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),
        RefusedRange::LinkLocal,
    ),
    (v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), RefusedRange::Private),
    (v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), RefusedRange::Private),
    (
        v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8),
        RefusedRange::Multicast,
    ),
];

/// NAT64's well-known prefix: the last 32 bits are the IPv4 address reached.
const NAT64: Ipv6Net = v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96);
/// Deprecated IPv4-compatible addresses `::a.b.c.d` (`::` and `::1` are in [`V6`]).
const IPV4_COMPATIBLE: Ipv6Net = v6([0; 8], 96);

/// The refused range `ip` is in, or `None` for an address Lockstep may connect to.
pub fn refused_range(ip: IpAddr) -> Option<RefusedRange> {
    match ip {
        IpAddr::V4(ip) => refused_v4(ip),
        IpAddr::V6(ip) => match embedded_v4(ip) {
            Some(inner) => refused_v4(inner),
            None => V6
                .iter()
                .find(|(net, _)| net.contains(&ip))
                .map(|(_, range)| *range),
        },
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<RefusedRange> {
    V4.iter()
        .find(|(net, _)| net.contains(&ip))
        .map(|(_, range)| *range)
}

/// The IPv4 address an IPv6 address reaches, for the forms that carry one.
pub fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(mapped) = ip.to_ipv4_mapped() {
        return Some(mapped);
    }
    let [.., a, b, c, d] = ip.octets();
    let inner = Ipv4Addr::new(a, b, c, d);
    let compatible = IPV4_COMPATIBLE.contains(&ip) && u32::from(inner) > 1;
    (NAT64.contains(&ip) || compatible).then_some(inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use RefusedRange::*;

    #[test]
    fn every_refused_range_and_its_edges() {
        let table: &[(&str, Option<RefusedRange>)] = &[
            // IPv4
            ("0.0.0.0", Some(ThisHost)),
            ("0.255.255.255", Some(ThisHost)),
            ("1.0.0.0", None),
            ("9.255.255.255", None),
            ("10.0.0.0", Some(Private)),
            ("10.255.255.255", Some(Private)),
            ("11.0.0.0", None),
            ("100.63.255.255", None),
            ("100.64.0.0", Some(SharedAddressSpace)),
            ("100.100.100.200", Some(SharedAddressSpace)),
            ("100.127.255.255", Some(SharedAddressSpace)),
            ("100.128.0.0", None),
            ("126.255.255.255", None),
            ("127.0.0.1", Some(Loopback)),
            ("127.255.255.254", Some(Loopback)),
            ("128.0.0.0", None),
            ("169.253.255.255", None),
            ("169.254.0.1", Some(LinkLocal)),
            ("169.254.169.254", Some(LinkLocal)),
            ("169.255.0.0", None),
            ("172.15.255.255", None),
            ("172.16.0.0", Some(Private)),
            ("172.31.255.255", Some(Private)),
            ("172.32.0.0", None),
            ("192.0.0.8", Some(Reserved)),
            ("192.0.1.0", None),
            ("192.167.255.255", None),
            ("192.168.1.1", Some(Private)),
            ("192.169.0.0", None),
            ("198.17.255.255", None),
            ("198.18.0.0", Some(Reserved)),
            ("198.19.255.255", Some(Reserved)),
            ("198.20.0.0", None),
            ("223.255.255.255", None),
            ("224.0.0.1", Some(Multicast)),
            ("239.255.255.255", Some(Multicast)),
            ("240.0.0.1", Some(Reserved)),
            ("255.255.255.254", Some(Reserved)),
            ("255.255.255.255", Some(Broadcast)),
            ("8.8.8.8", None),
            ("149.96.5.10", None),
            // IPv6
            ("::", Some(ThisHost)),
            ("::1", Some(Loopback)),
            ("::2", Some(ThisHost)),
            ("fe80::1", Some(LinkLocal)),
            ("febf:ffff::1", Some(LinkLocal)),
            ("fec0::1", Some(Private)),
            ("fc00::1", Some(Private)),
            ("fd00:ec2::254", Some(Private)),
            ("fdff:ffff::1", Some(Private)),
            ("fe00::1", None),
            ("ff02::1", Some(Multicast)),
            ("2001:4860:4860::8888", None),
            ("2606:4700::1111", None),
            // IPv4-mapped, NAT64 and IPv4-compatible forms: judged by the IPv4 address.
            ("::ffff:127.0.0.1", Some(Loopback)),
            ("::ffff:169.254.169.254", Some(LinkLocal)),
            ("::ffff:10.1.2.3", Some(Private)),
            ("::ffff:0.0.0.0", Some(ThisHost)),
            ("::ffff:8.8.8.8", None),
            ("64:ff9b::127.0.0.1", Some(Loopback)),
            ("64:ff9b::192.168.0.1", Some(Private)),
            ("64:ff9b::169.254.169.254", Some(LinkLocal)),
            ("64:ff9b::8.8.8.8", None),
            ("::127.0.0.1", Some(Loopback)),
            ("::10.0.0.1", Some(Private)),
            ("::8.8.8.8", None),
        ];
        for (text, expected) in table {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(refused_range(ip), *expected, "{text}");
        }
    }

    #[test]
    fn ranges_read_as_the_operator_needs() {
        assert_eq!(Loopback.to_string(), "loopback");
        assert!(LinkLocal.to_string().contains("metadata"));
    }
}

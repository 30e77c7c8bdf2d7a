//! Client addresses: Apple's relay ranges, the second signal for Mail Privacy Protection.
//!
//! Apple documents the egress addresses of iCloud Private Relay, which MPP runs on, as a CSV
//! (`mask-api.icloud.com/egress-ip-ranges.csv`, see scanner-notes.md §1). That list is large,
//! changes often and mostly belongs to Cloudflare, Akamai and Fastly, so it is not compiled
//! in here; a deployment that loads it can pass it to [`AppleRelayRanges::from_cidrs`].
//! The built-in list is deliberately minimal and is only ever used together with an Apple
//! Mail-shaped user agent on an open, never alone.

use std::net::IpAddr;
use std::sync::OnceLock;

use ipnet::IpNet;

/// One built-in address range and where it comes from.
#[derive(Debug, Clone, Copy)]
pub struct RelayRange {
    pub cidr: &'static str,
    pub source: &'static str,
}

/// The built-in Apple ranges.
pub static APPLE_RELAY_RANGES: &[RelayRange] = &[RelayRange {
    cidr: "17.0.0.0/8",
    source: "Apple's own block (AS714). scanner-notes.md §1: often named as the origin of MPP \
             fetches but with no primary source, so it only backs up an Apple Mail user agent",
}];

/// A parsed set of relay ranges.
#[derive(Debug, Clone, Default)]
pub struct AppleRelayRanges {
    nets: Vec<IpNet>,
}

impl AppleRelayRanges {
    /// Parses CIDR ranges (or single addresses); entries that do not parse are skipped.
    pub fn from_cidrs<'a>(cidrs: impl IntoIterator<Item = &'a str>) -> Self {
        let nets = cidrs
            .into_iter()
            .filter_map(|cidr| parse_net(cidr.trim()))
            .collect();
        AppleRelayRanges { nets }
    }

    /// The compiled-in ranges, parsed once.
    pub fn built_in() -> &'static AppleRelayRanges {
        static BUILT_IN: OnceLock<AppleRelayRanges> = OnceLock::new();
        BUILT_IN
            .get_or_init(|| AppleRelayRanges::from_cidrs(APPLE_RELAY_RANGES.iter().map(|r| r.cidr)))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|net| net.contains(&ip))
    }
}

fn parse_net(text: &str) -> Option<IpNet> {
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

/// IPv4 addresses written as IPv4-mapped IPv6 (`::ffff:17.0.0.1`), as dual-stack sockets
/// report them, compare as IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_ranges_parse_and_match() {
        let ranges = AppleRelayRanges::built_in();
        assert_eq!(ranges.nets.len(), APPLE_RELAY_RANGES.len());
        assert!(ranges.contains("17.58.1.2".parse().unwrap()));
        assert!(ranges.contains("::ffff:17.58.1.2".parse().unwrap()));
        assert!(!ranges.contains("18.0.0.1".parse().unwrap()));
    }

    #[test]
    fn loaded_ranges_accept_addresses_and_skip_garbage() {
        let ranges = AppleRelayRanges::from_cidrs(["192.0.2.0/27", "2001:db8::1", "x"]);
        assert!(ranges.contains("192.0.2.5".parse().unwrap()));
        assert!(ranges.contains("2001:db8::1".parse().unwrap()));
        assert_eq!(ranges.nets.len(), 2);
    }
}

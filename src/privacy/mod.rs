//! Privacy by design: client addresses cut to their network, raw events purged after the
//! retention period while counters stay, and a recipient's data exported or erased.
//! What is collected and for how long is written down in docs/privacy.md.

pub mod retention;
pub mod rights;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address cut to its network: IPv4 to its /24, IPv6 to its /48. Enough to tell one
/// network's hits from another's, not enough to point at a household.
pub fn truncate_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            IpAddr::V4(Ipv4Addr::new(a, b, c, 0))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_addresses_to_their_network() {
        let cut = |s: &str| truncate_ip(s.parse().unwrap()).to_string();
        assert_eq!(cut("203.0.113.77"), "203.0.113.0");
        assert_eq!(cut("2001:db8:abcd:12:3456::1"), "2001:db8:abcd::");
        assert_eq!(cut("10.1.2.0"), "10.1.2.0");
    }
}

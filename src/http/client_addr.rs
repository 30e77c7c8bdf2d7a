//! The client address of a request, believing forwarding headers only from trusted proxies.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The address of whoever made the request. `X-Forwarded-For` and `Forwarded` are read
/// only when the direct peer is a trusted proxy; the answer is then the nearest address in
/// the chain that is not itself a trusted proxy.
pub fn client_addr(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = canonical(peer.ip());
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }

    let mut chain: Vec<IpAddr> = Vec::new();
    for value in headers.get_all("forwarded") {
        let Ok(value) = value.to_str() else { continue };
        chain.extend(value.split(',').filter_map(forwarded_for));
    }
    if chain.is_empty() {
        for value in headers.get_all("x-forwarded-for") {
            let Ok(value) = value.to_str() else { continue };
            chain.extend(value.split(',').filter_map(|s| parse_addr(s.trim())));
        }
    }
    chain
        .into_iter()
        .rev()
        .map(canonical)
        .find(|ip| !is_trusted(ip))
        .unwrap_or(peer)
}

/// The `for=` address of one `Forwarded` element (RFC 7239).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        if !key.trim().eq_ignore_ascii_case("for") {
            return None;
        }
        parse_addr(value.trim().trim_matches('"'))
    })
}

/// An address as it appears in forwarding headers: bare, `[v6]`, `[v6]:port` or `v4:port`.
fn parse_addr(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    s.strip_prefix('[')?.split(']').next()?.parse().ok()
}

/// IPv4-mapped IPv6 addresses as plain IPv4, so ranges and truncation treat them alike.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn ignores_forwarding_headers_from_untrusted_peers() {
        let peer: SocketAddr = "203.0.113.9:5000".parse().unwrap();
        let h = headers(&[("x-forwarded-for", "1.2.3.4")]);
        assert_eq!(client_addr(peer, &h, &[]), peer.ip());
    }

    #[test]
    fn reads_the_nearest_untrusted_address_behind_trusted_proxies() {
        let peer: SocketAddr = "10.0.0.2:5000".parse().unwrap();
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 1.2.3.4, 10.0.0.7")]);
        assert_eq!(
            client_addr(peer, &h, &trusted),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );

        let h = headers(&[(
            "forwarded",
            "for=\"[2001:db8::1]:4711\";proto=https, for=10.0.0.3",
        )]);
        assert_eq!(
            client_addr(peer, &h, &trusted),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );

        let h = headers(&[("x-forwarded-for", "not an address")]);
        assert_eq!(client_addr(peer, &h, &trusted), peer.ip());
    }
}

//! Which worker owns a packet: a symmetric hash of its flow, computed on the raw frame.
//!
//! Both directions of a flow must be judged by one worker (its session lives in that
//! worker's shard). Where the NIC cannot spread flows symmetrically, the engine hashes
//! every received frame with [`flow_hash`] and hands it to [`owner`]'s worker.
//!
//! The hash covers the protocol and both endpoints (address and port) and is the same
//! whichever endpoint sent the packet. What it keys on:
//! - TCP, UDP, UDP-Lite, SCTP: addresses and ports;
//! - ICMP/ICMPv6 errors (unreachable, time exceeded, parameter problem, ...): the flow
//!   of the packet they quote, so an error lands where the session it concerns lives;
//! - IP fragments (any IPv4 fragment, an IPv6 fragment header with an offset or the
//!   more-fragments bit) and every other protocol (ICMP echo included): the address pair
//!   and the protocol, since later fragments carry no ports. A fragmented datagram is
//!   therefore reassembled and judged on its address pair's worker, which may differ
//!   from the worker of the same flow's unfragmented packets;
//! - anything that is not IPv4 or IPv6, or too short to read: no hash (`None`); such
//!   frames carry no session state and are handled where they arrive.
//!
//! The hash is fixed (not seeded): like the well-known symmetric RSS key the NIC uses,
//! it lets an operator (and a test) predict which worker a flow lands on.

/// The flow-relevant fields of a packet, as read from the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Tuple {
    proto: u8,
    /// Address bytes: IPv4 in the first 4, IPv6 in all 16.
    src: [u8; 16],
    dst: [u8; 16],
    src_port: u16,
    dst_port: u16,
    v6: bool,
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
/// VLAN tags read before giving up (QinQ is two).
const MAX_VLAN_TAGS: usize = 2;
/// IPv6 extension headers walked before giving up.
const MAX_EXTENSIONS: usize = 8;

const PROTO_ICMP: u8 = 1;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const PROTO_ICMPV6: u8 = 58;
const PROTO_SCTP: u8 = 132;
const PROTO_UDPLITE: u8 = 136;
const EXT_HOP_BY_HOP: u8 = 0;
const EXT_ROUTING: u8 = 43;
const EXT_FRAGMENT: u8 = 44;
const EXT_AUTH: u8 = 51;
const EXT_DEST_OPTS: u8 = 60;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let bytes = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]))
}

fn has_ports(proto: u8) -> bool {
    matches!(proto, PROTO_TCP | PROTO_UDP | PROTO_SCTP | PROTO_UDPLITE)
}

/// Read the ports at the start of `l4` (zero when the protocol has none or they are cut).
fn ports(proto: u8, l4: &[u8]) -> (u16, u16) {
    if !has_ports(proto) {
        return (0, 0);
    }
    match (be16(l4, 0), be16(l4, 2)) {
        (Some(s), Some(d)) => (s, d),
        _ => (0, 0),
    }
}

/// An IPv4 packet's tuple; `quoted` is set when reading the packet an ICMP error quotes
/// (no recursion into a quoted ICMP error).
fn ipv4(ip: &[u8], quoted: bool) -> Option<Tuple> {
    let first = *ip.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(first & 0x0f) * 4;
    if ihl < 20 {
        return None;
    }
    let proto = *ip.get(9)?;
    let mut t = Tuple {
        proto,
        src: [0; 16],
        dst: [0; 16],
        src_port: 0,
        dst_port: 0,
        v6: false,
    };
    t.src.get_mut(..4)?.copy_from_slice(ip.get(12..16)?);
    t.dst.get_mut(..4)?.copy_from_slice(ip.get(16..20)?);
    let frag = be16(ip, 6)?;
    // A quoted packet is only its first bytes, but it is never a later fragment's quote
    // that matters: errors quote what was sent, which for a fragment has no ports either.
    let fragment = frag & 0x3fff != 0;
    if fragment {
        return Some(t);
    }
    let l4 = ip.get(ihl..).unwrap_or(&[]);
    if proto == PROTO_ICMP && !quoted {
        if let Some(inner) = icmp_error_quote(l4, false).and_then(|q| ipv4(q, true)) {
            return Some(inner);
        }
        return Some(t);
    }
    (t.src_port, t.dst_port) = ports(proto, l4);
    Some(t)
}

/// An IPv6 packet's tuple (extension headers walked; see [`ipv4`] for `quoted`).
fn ipv6(ip: &[u8], quoted: bool) -> Option<Tuple> {
    if *ip.first()? >> 4 != 6 {
        return None;
    }
    let mut t = Tuple {
        proto: *ip.get(6)?,
        src: [0; 16],
        dst: [0; 16],
        src_port: 0,
        dst_port: 0,
        v6: true,
    };
    t.src.copy_from_slice(ip.get(8..24)?);
    t.dst.copy_from_slice(ip.get(24..40)?);
    let mut at = 40usize;
    for _ in 0..MAX_EXTENSIONS {
        match t.proto {
            EXT_HOP_BY_HOP | EXT_ROUTING | EXT_DEST_OPTS => {
                let len = (usize::from(*ip.get(at + 1)?) + 1) * 8;
                t.proto = *ip.get(at)?;
                at += len;
            }
            EXT_AUTH => {
                let len = (usize::from(*ip.get(at + 1)?) + 2) * 4;
                t.proto = *ip.get(at)?;
                at += len;
            }
            EXT_FRAGMENT => {
                let next = *ip.get(at)?;
                let offset_and_more = be16(ip, at + 2)?;
                t.proto = next;
                if offset_and_more & 0xfff9 != 0 {
                    // A real fragment: the address pair (the protocol is the payload's).
                    return Some(t);
                }
                // An atomic fragment (offset 0, no more fragments) is a whole packet.
                at += 8;
            }
            _ => break,
        }
    }
    let l4 = ip.get(at..).unwrap_or(&[]);
    if t.proto == PROTO_ICMPV6 && !quoted {
        if let Some(inner) = icmp_error_quote(l4, true).and_then(|q| ipv6(q, true)) {
            return Some(inner);
        }
        return Some(t);
    }
    (t.src_port, t.dst_port) = ports(t.proto, l4);
    Some(t)
}

/// The packet an ICMP error message quotes, if `icmp` is one.
fn icmp_error_quote(icmp: &[u8], v6: bool) -> Option<&[u8]> {
    let kind = *icmp.first()?;
    let error = if v6 {
        // Destination unreachable, packet too big, time exceeded, parameter problem.
        (1..=4).contains(&kind)
    } else {
        // Destination unreachable, source quench, redirect, time exceeded, parameter problem.
        matches!(kind, 3 | 4 | 5 | 11 | 12)
    };
    if error {
        icmp.get(8..)
    } else {
        None
    }
}

/// The IP packet inside an Ethernet frame (VLAN tags skipped), with its version.
fn ip_payload(frame: &[u8]) -> Option<(&[u8], u16)> {
    let mut ethertype = be16(frame, 12)?;
    let mut at = 14usize;
    for _ in 0..MAX_VLAN_TAGS {
        if !matches!(
            ethertype,
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD
        ) {
            break;
        }
        ethertype = be16(frame, at + 2)?;
        at += 4;
    }
    Some((frame.get(at..)?, ethertype))
}

/// SplitMix64's finaliser: a cheap, well-mixing bijection on 64 bits.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn endpoint(addr: &[u8; 16], port: u16, v6: bool) -> u64 {
    let mut lo = [0u8; 8];
    let mut hi = [0u8; 8];
    lo.copy_from_slice(addr.get(..8).unwrap_or(&[0; 8]));
    hi.copy_from_slice(addr.get(8..).unwrap_or(&[0; 8]));
    let lo = u64::from_be_bytes(lo);
    let hi = u64::from_be_bytes(hi);
    if v6 {
        mix(lo ^ mix(hi ^ u64::from(port)))
    } else {
        // IPv4 lives in the first four bytes.
        mix((lo & 0xffff_ffff_0000_0000) | (u64::from(port) << 16) | 0x4)
    }
}

impl Tuple {
    /// Symmetric: the two endpoints are combined by an addition, which does not care
    /// which one is the source.
    fn hash(&self) -> u64 {
        let a = endpoint(&self.src, self.src_port, self.v6);
        let b = endpoint(&self.dst, self.dst_port, self.v6);
        mix(a.wrapping_add(b) ^ u64::from(self.proto))
    }
}

/// The symmetric flow hash of an Ethernet frame, or `None` when it carries no IP flow
/// (non-IP, or too short to read the addresses).
#[inline]
pub fn flow_hash(frame: &[u8]) -> Option<u64> {
    let (ip, ethertype) = ip_payload(frame)?;
    let tuple = match ethertype {
        ETHERTYPE_IPV4 => ipv4(ip, false)?,
        ETHERTYPE_IPV6 => ipv6(ip, false)?,
        _ => return None,
    };
    Some(tuple.hash())
}

/// The worker (`0..workers`) a flow hash belongs to; worker 0 when `workers` is 0.
#[inline]
pub fn owner_of(hash: u64, workers: u16) -> u16 {
    // Multiply-shift range reduction: uniform for a uniform hash, no division.
    let top = hash >> 32;
    u16::try_from((top * u64::from(workers)) >> 32).unwrap_or(0)
}

/// The worker that owns `frame`'s flow, or `None` when any worker may handle it (see
/// [`flow_hash`]).
#[inline]
pub fn owner(frame: &[u8], workers: u16) -> Option<u16> {
    flow_hash(frame).map(|h| owner_of(h, workers))
}

/// How the engine keeps both directions of a flow on one worker (`workers.steering`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SteeringMode {
    /// Symmetric RSS when every port offers it, the software hand-off otherwise.
    #[default]
    Auto,
    /// Symmetric RSS only: a port that cannot do it is an error.
    Rss,
    /// The software hand-off, whatever the ports can do.
    Handoff,
}

/// What the engine does, once it knows the ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Steering {
    /// One worker: nothing to steer.
    SingleWorker,
    /// The NICs spread flows with a symmetric hash; no hand-off.
    Rss,
    /// Workers hash every packet and hand other workers' flows over.
    Handoff,
}

impl Steering {
    /// Stable snake_case name (as in the JSON summary).
    pub const fn as_str(self) -> &'static str {
        match self {
            Steering::SingleWorker => "single_worker",
            Steering::Rss => "rss",
            Steering::Handoff => "handoff",
        }
    }
}

/// Why a steering mode cannot be honoured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "workers.steering is \"rss\" but port {port} cannot spread flows with a symmetric RSS hash"
)]
pub struct RssUnavailable {
    /// Index (in `symmetric_rss`) of the first port that cannot.
    pub port: usize,
}

/// Decide how to steer, given the mode, the worker count and, per port, whether it was
/// set up with a symmetric RSS hash over IP, UDP and TCP.
pub fn decide(
    mode: SteeringMode,
    workers: usize,
    symmetric_rss: &[bool],
) -> Result<Steering, RssUnavailable> {
    if workers <= 1 {
        return Ok(Steering::SingleWorker);
    }
    let first_without = symmetric_rss.iter().position(|s| !s);
    match (mode, first_without) {
        (SteeringMode::Handoff, _) => Ok(Steering::Handoff),
        (SteeringMode::Auto | SteeringMode::Rss, None) => Ok(Steering::Rss),
        (SteeringMode::Auto, Some(_)) => Ok(Steering::Handoff),
        (SteeringMode::Rss, Some(port)) => Err(RssUnavailable { port }),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_summary_names_steering_as_the_json_does() {
        for s in [Steering::SingleWorker, Steering::Rss, Steering::Handoff] {
            assert_eq!(
                serde_json::to_value(s).ok(),
                Some(serde_json::json!(s.as_str()))
            );
        }
    }

    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;
    use crate::packet::build::{
        ethernet, fragment_ipv4, icmp, ipv6, ipv6_extension, udp, udp4_frame, Ipv4Header, DST_MAC,
        SRC_MAC,
    };
    use crate::packet::ethernet::EtherType;
    use crate::packet::summary::IpProtocol;
    use crate::packet::Port;

    const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 7);

    #[test]
    fn both_directions_of_a_udp_flow_hash_alike_and_ports_matter() {
        let ab = udp4_frame(A, B, 40000, 5060, b"x");
        let ba = udp4_frame(B, A, 5060, 40000, b"y");
        assert_eq!(flow_hash(&ab), flow_hash(&ba));
        assert!(flow_hash(&ab).is_some());
        let other = udp4_frame(A, B, 40002, 5060, b"x");
        assert_ne!(flow_hash(&ab), flow_hash(&other));
        // Swapping only the ports (not the addresses) is another flow.
        let swapped = udp4_frame(A, B, 5060, 40000, b"x");
        assert_ne!(flow_hash(&ab), flow_hash(&swapped));
    }

    #[test]
    fn vlan_tags_do_not_change_the_hash() {
        let plain = udp4_frame(A, B, 1, 2, b"");
        let ip = Ipv4Header::new(A, B, IpProtocol::UDP).build(&udp(Port(1), Port(2), b""));
        let tagged = ethernet(
            DST_MAC,
            SRC_MAC,
            &[(EtherType::QINQ, 100), (EtherType::VLAN, 10)],
            EtherType::IPV4,
            &ip,
        );
        assert_eq!(flow_hash(&plain), flow_hash(&tagged));
    }

    #[test]
    fn an_icmp_error_lands_with_the_flow_it_quotes() {
        let flow = udp4_frame(A, B, 40000, 53, b"query");
        let quoted =
            Ipv4Header::new(A, B, IpProtocol::UDP).build(&udp(Port(40000), Port(53), b"q"));
        let router = Ipv4Addr::new(198, 51, 100, 1);
        let unreachable = icmp(3, 3, [0; 4], &quoted);
        let error = Ipv4Header::new(router, A, IpProtocol::ICMP).build(&unreachable);
        let frame = ethernet(DST_MAC, SRC_MAC, &[], EtherType::IPV4, &error);
        assert_eq!(flow_hash(&frame), flow_hash(&flow));
        // An echo request is keyed by its address pair, the same both ways.
        let ping = Ipv4Header::new(A, B, IpProtocol::ICMP).build(&icmp(8, 0, [0, 1, 0, 1], b""));
        let pong = Ipv4Header::new(B, A, IpProtocol::ICMP).build(&icmp(0, 0, [0, 1, 0, 1], b""));
        let ping = ethernet(DST_MAC, SRC_MAC, &[], EtherType::IPV4, &ping);
        let pong = ethernet(DST_MAC, SRC_MAC, &[], EtherType::IPV4, &pong);
        assert_eq!(flow_hash(&ping), flow_hash(&pong));
    }

    #[test]
    fn every_fragment_of_a_datagram_has_one_owner() {
        let ip =
            Ipv4Header::new(A, B, IpProtocol::UDP).build(&udp(Port(5060), Port(5060), &[7; 3000]));
        let fragments = fragment_ipv4(&ip, 1400);
        assert!(fragments.len() >= 3);
        let hashes: Vec<_> = fragments
            .iter()
            .map(|f| flow_hash(&ethernet(DST_MAC, SRC_MAC, &[], EtherType::IPV4, f)))
            .collect();
        assert!(
            hashes.iter().all(|h| h.is_some() && *h == hashes[0]),
            "{hashes:?}"
        );
    }

    #[test]
    fn ipv6_flows_hash_symmetrically_through_extension_headers() {
        let a: Ipv6Addr = "2001:db8::1".parse().unwrap_or(Ipv6Addr::UNSPECIFIED);
        let b: Ipv6Addr = "2001:db8:1::2".parse().unwrap_or(Ipv6Addr::UNSPECIFIED);
        let ab = ipv6(
            a,
            b,
            IpProtocol::UDP,
            64,
            &udp(Port(1000), Port(2000), b"x"),
        );
        let ba = ipv6(
            b,
            a,
            IpProtocol::UDP,
            64,
            &udp(Port(2000), Port(1000), b"y"),
        );
        let ab = ethernet(DST_MAC, SRC_MAC, &[], EtherType::IPV6, &ab);
        let ba = ethernet(DST_MAC, SRC_MAC, &[], EtherType::IPV6, &ba);
        assert_eq!(flow_hash(&ab), flow_hash(&ba));
        let mut hop = ipv6_extension(IpProtocol::UDP, &[1, 4, 0, 0, 0, 0]);
        hop.extend_from_slice(&udp(Port(1000), Port(2000), b"x"));
        let with_ext = ipv6(a, b, IpProtocol::HOP_BY_HOP, 64, &hop);
        let with_ext = ethernet(DST_MAC, SRC_MAC, &[], EtherType::IPV6, &with_ext);
        assert_eq!(flow_hash(&with_ext), flow_hash(&ab));
    }

    #[test]
    fn frames_without_an_ip_flow_have_no_owner() {
        let arp = ethernet(DST_MAC, SRC_MAC, &[], EtherType(0x0806), &[0; 28]);
        assert_eq!(owner(&arp, 4), None);
        assert_eq!(owner(&[0u8; 10], 4), None);
        let cut = udp4_frame(A, B, 1, 2, b"");
        assert_eq!(owner(cut.get(..20).unwrap_or(&[]), 4), None);
    }

    #[test]
    fn owners_stay_in_range_and_spread() {
        for workers in 1..=8u16 {
            let mut seen = vec![0u32; usize::from(workers)];
            for port in 0..2000u16 {
                let frame = udp4_frame(A, B, 10000 + port, 5060, b"");
                let Some(w) = owner(&frame, workers) else {
                    panic!("no owner");
                };
                let Some(n) = seen.get_mut(usize::from(w)) else {
                    panic!("owner {w} out of range for {workers}");
                };
                *n += 1;
            }
            let fair = 2000 / u32::from(workers);
            assert!(
                seen.iter().all(|&n| n > fair / 2 && n < fair * 3 / 2),
                "{workers} workers: {seen:?}"
            );
        }
        assert_eq!(owner_of(u64::MAX, 0), 0);
        assert_eq!(owner_of(u64::MAX, 3), 2);
    }

    #[test]
    fn steering_follows_the_mode_and_the_ports() {
        use Steering::*;
        assert_eq!(decide(SteeringMode::Rss, 1, &[false]), Ok(SingleWorker));
        assert_eq!(decide(SteeringMode::Auto, 2, &[true, true]), Ok(Rss));
        assert_eq!(decide(SteeringMode::Auto, 2, &[true, false]), Ok(Handoff));
        assert_eq!(decide(SteeringMode::Handoff, 2, &[true, true]), Ok(Handoff));
        assert_eq!(
            decide(SteeringMode::Rss, 4, &[true, false, false]),
            Err(RssUnavailable { port: 1 })
        );
    }
}

//! Flow identity: the tuple as seen on the wire and the normalised key that makes
//! both directions of a flow hit one session entry.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IP protocol number of TCP.
pub const PROTO_TCP: u8 = 6;
/// IP protocol number of UDP.
pub const PROTO_UDP: u8 = 17;
/// IP protocol number of ICMP (IPv4).
pub const PROTO_ICMP: u8 = 1;
/// IP protocol number of ICMPv6.
pub const PROTO_ICMPV6: u8 = 58;

/// One end of a flow: an address and a port (for ICMP echo: the echo identifier).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// The IP address.
    pub ip: IpAddr,
    /// The transport port, or the ICMP echo identifier, or 0 for other protocols.
    pub port: u16,
}

impl Endpoint {
    /// An endpoint from its parts.
    pub const fn new(ip: IpAddr, port: u16) -> Self {
        Endpoint { ip, port }
    }
}

/// A flow as seen on the wire, in the direction of the packet being handled.
///
/// For ICMP echo the ports on both sides are the echo identifier, so the request and
/// its reply normalise to the same key. ICMP has no other sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowTuple {
    /// IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, anything else).
    pub proto: u8,
    /// Where the packet comes from.
    pub src: Endpoint,
    /// Where the packet goes.
    pub dst: Endpoint,
}

impl FlowTuple {
    /// A tuple from its parts.
    pub const fn new(proto: u8, src: Endpoint, dst: Endpoint) -> Self {
        FlowTuple { proto, src, dst }
    }

    /// The same flow seen from the other direction.
    pub const fn reversed(&self) -> Self {
        FlowTuple {
            proto: self.proto,
            src: self.dst,
            dst: self.src,
        }
    }
}

/// Which way a packet travels relative to the session's initiator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the initiator (the endpoint that sent the first packet) to the responder.
    Forward,
    /// From the responder to the initiator.
    Reverse,
}

impl Direction {
    /// 0 for forward, 1 for reverse: the index of per-direction counters.
    pub const fn index(self) -> usize {
        match self {
            Direction::Forward => 0,
            Direction::Reverse => 1,
        }
    }

    /// The other direction.
    pub const fn opposite(self) -> Self {
        match self {
            Direction::Forward => Direction::Reverse,
            Direction::Reverse => Direction::Forward,
        }
    }

    /// Stable lower-case name for dumps.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Forward => "forward",
            Direction::Reverse => "reverse",
        }
    }
}

/// Addresses are stored as 16 bytes; IPv4 uses the IPv4-mapped form plus a family
/// flag so an IPv4 flow never collides with an IPv6 flow between mapped addresses.
fn ip_bytes(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

fn ip_from_bytes(bytes: [u8; 16], v6: bool) -> IpAddr {
    let v6addr = Ipv6Addr::from(bytes);
    if v6 {
        IpAddr::V6(v6addr)
    } else {
        match v6addr.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        }
    }
}

/// The normalised identity of a flow: the lower endpoint first, so both directions
/// produce the same key, plus a caller-supplied context (VLAN or zone context).
///
/// 40 bytes, alignment 2: compact enough that millions fit in a slab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowKey {
    lo_ip: [u8; 16],
    hi_ip: [u8; 16],
    lo_port: u16,
    hi_port: u16,
    context: u16,
    proto: u8,
    v6: bool,
}

impl Hash for FlowKey {
    // Hashing the key as three machine words is markedly cheaper with ahash than
    // hashing eight fields one by one.
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u128(u128::from_ne_bytes(self.lo_ip));
        state.write_u128(u128::from_ne_bytes(self.hi_ip));
        let tail = u64::from(self.lo_port)
            | u64::from(self.hi_port) << 16
            | u64::from(self.context) << 32
            | u64::from(self.proto) << 48
            | u64::from(self.v6) << 56;
        state.write_u64(tail);
    }
}

impl FlowKey {
    /// The normalised key of `tuple` in `context`, and whether the tuple's source is the
    /// key's lower endpoint (needed to tell the packet's direction).
    pub fn from_tuple(tuple: &FlowTuple, context: u16) -> (FlowKey, bool) {
        let src = (ip_bytes(tuple.src.ip), tuple.src.port);
        let dst = (ip_bytes(tuple.dst.ip), tuple.dst.port);
        let src_is_lo = src.cmp(&dst) != Ordering::Greater;
        let (lo, hi) = if src_is_lo { (src, dst) } else { (dst, src) };
        let key = FlowKey {
            lo_ip: lo.0,
            hi_ip: hi.0,
            lo_port: lo.1,
            hi_port: hi.1,
            context,
            proto: tuple.proto,
            v6: tuple.src.ip.is_ipv6(),
        };
        (key, src_is_lo)
    }

    /// The lower endpoint.
    pub fn lo(&self) -> Endpoint {
        Endpoint::new(ip_from_bytes(self.lo_ip, self.v6), self.lo_port)
    }

    /// The higher endpoint.
    pub fn hi(&self) -> Endpoint {
        Endpoint::new(ip_from_bytes(self.hi_ip, self.v6), self.hi_port)
    }

    /// The IP protocol number.
    pub const fn proto(&self) -> u8 {
        self.proto
    }

    /// The context the pipeline supplied (VLAN or zone context).
    pub const fn context(&self) -> u16 {
        self.context
    }

    /// Whether the flow is IPv6.
    pub const fn is_ipv6(&self) -> bool {
        self.v6
    }

    /// The tuple as sent by the lower endpoint (`lo_first`) or the higher one.
    pub fn tuple(&self, lo_first: bool) -> FlowTuple {
        let (src, dst) = if lo_first {
            (self.lo(), self.hi())
        } else {
            (self.hi(), self.lo())
        };
        FlowTuple::new(self.proto, src, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: u8, port: u16) -> Endpoint {
        Endpoint::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, a)), port)
    }

    #[test]
    fn both_directions_normalise_to_one_key() {
        let t = FlowTuple::new(PROTO_UDP, v4(9, 5060), v4(1, 40000));
        let (k1, s1) = FlowKey::from_tuple(&t, 7);
        let (k2, s2) = FlowKey::from_tuple(&t.reversed(), 7);
        assert_eq!(k1, k2);
        assert_ne!(s1, s2);
        assert_eq!(k1.lo(), v4(1, 40000));
        assert_eq!(k1.hi(), v4(9, 5060));
        assert_eq!(k1.tuple(s1), t);
    }

    #[test]
    fn context_and_family_separate_keys() {
        let t = FlowTuple::new(PROTO_UDP, v4(1, 1), v4(2, 2));
        assert_ne!(FlowKey::from_tuple(&t, 1).0, FlowKey::from_tuple(&t, 2).0);
        let mapped = |e: Endpoint| match e.ip {
            IpAddr::V4(a) => Endpoint::new(IpAddr::V6(a.to_ipv6_mapped()), e.port),
            IpAddr::V6(_) => e,
        };
        let t6 = FlowTuple::new(PROTO_UDP, mapped(t.src), mapped(t.dst));
        assert_ne!(FlowKey::from_tuple(&t, 1).0, FlowKey::from_tuple(&t6, 1).0);
        assert!(FlowKey::from_tuple(&t6, 1).0.is_ipv6());
    }

    #[test]
    fn key_is_compact() {
        assert_eq!(std::mem::size_of::<FlowKey>(), 40);
    }
}

//! Frame templates the traffic sources patch per packet: build a frame once with the
//! dataplane's builders, then rewrite addresses, ports and TCP sequence numbers in
//! place (and the IPv4 header checksum), so generating a packet costs no allocation.

use std::net::Ipv4Addr;

use pinhole_dataplane::packet::build::{self, TcpHeader};
use pinhole_dataplane::packet::{Port, TcpFlags};

use crate::stamp::{Side, STAMP_LEN};

/// Ethernet + IPv4 (no options) + UDP headers.
pub const UDP_HEADERS: usize = 14 + 20 + 8;
/// Ethernet + IPv4 (no options) + TCP (no options) headers.
pub const TCP_HEADERS: usize = 14 + 20 + 20;
/// The smallest frame (without FCS: a "64-byte frame" on the wire).
pub const MIN_FRAME: usize = 60;

const IP: usize = 14;
const IP_CSUM: usize = IP + 10;
const IP_SRC: usize = IP + 12;
const IP_DST: usize = IP + 16;
const L4: usize = IP + 20;
const TCP_SEQ: usize = L4 + 4;
const TCP_ACK: usize = L4 + 8;
const TCP_FLAGS: usize = L4 + 13;

/// Transport of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
}

/// A flow between a host behind the inside interface and one behind the outside one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow {
    /// Transport.
    pub proto: Proto,
    /// Inside host.
    pub inside: Ipv4Addr,
    /// Inside port.
    pub inside_port: u16,
    /// Outside host.
    pub outside: Ipv4Addr,
    /// Outside port.
    pub outside_port: u16,
}

/// Inside hosts are numbered from 10.0.1.0 up (10.0.0.0/8 holds 16 M of them).
pub const INSIDE_BASE: u32 = u32::from_be_bytes([10, 0, 1, 0]);
/// Outside servers: 198.18.0.1 .. 198.18.0.250 (RFC 2544's benchmarking network).
pub const OUTSIDE_BASE: u32 = u32::from_be_bytes([198, 18, 0, 1]);
/// The inside prefix the engine's inside interface is given.
pub const INSIDE_PREFIX: &str = "10.0.0.0/8";

/// Flow number `i`: a distinct inside host per flow (so flows stay distinct whatever
/// the ports), one of 250 servers, ports derived from `i`.
pub fn flow(i: u32, proto: Proto) -> Flow {
    Flow {
        proto,
        inside: Ipv4Addr::from(INSIDE_BASE.wrapping_add(i & 0x00ff_ffff)),
        inside_port: 1024 + (i % 60_000) as u16,
        outside: Ipv4Addr::from(OUTSIDE_BASE + i % 250),
        outside_port: match proto {
            Proto::Udp => 9,
            Proto::Tcp => 80,
        },
    }
}

impl Flow {
    /// Source and destination (address, port) for a frame sent from `side`.
    pub fn endpoints(&self, side: Side) -> ((Ipv4Addr, u16), (Ipv4Addr, u16)) {
        let inside = (self.inside, self.inside_port);
        let outside = (self.outside, self.outside_port);
        match side {
            Side::Inside => (inside, outside),
            Side::Outside => (outside, inside),
        }
    }
}

/// A frame whose headers are rewritten per packet.
#[derive(Clone, Debug)]
pub struct Template {
    bytes: Vec<u8>,
    proto: Proto,
}

/// Payload bytes for a frame of `frame_len` with `headers` bytes of headers: at least a
/// stamp's worth, so every measured frame carries its trailer.
fn payload_len(frame_len: usize, headers: usize) -> usize {
    frame_len.saturating_sub(headers).max(STAMP_LEN)
}

impl Template {
    /// A frame of `frame_len` bytes (without FCS; at least 60) for `proto`.
    pub fn new(proto: Proto, frame_len: usize) -> Template {
        let any = Ipv4Addr::UNSPECIFIED;
        let bytes = match proto {
            Proto::Udp => {
                let payload = vec![0u8; payload_len(frame_len, UDP_HEADERS)];
                build::udp4_frame(any, any, 0, 0, &payload)
            }
            Proto::Tcp => {
                let payload = vec![0u8; payload_len(frame_len, TCP_HEADERS)];
                let tcp = TcpHeader::new(
                    Port(0),
                    Port(0),
                    TcpFlags(TcpFlags::ACK.0 | TcpFlags::PSH.0),
                );
                build::tcp4_frame(any, any, &tcp, &payload)
            }
        };
        Template { bytes, proto }
    }

    /// A TCP frame without payload (SYN, SYN-ACK, ACK of the handshake), padded to 60.
    pub fn tcp_control() -> Template {
        let tcp = TcpHeader::new(Port(0), Port(0), TcpFlags::SYN);
        Template {
            bytes: build::tcp4_frame(Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED, &tcp, &[]),
            proto: Proto::Tcp,
        }
    }

    /// Payload bytes after the transport header (the frame's data, trailer included).
    pub fn payload_len(&self) -> usize {
        let headers = match self.proto {
            Proto::Udp => UDP_HEADERS,
            Proto::Tcp => TCP_HEADERS,
        };
        self.bytes.len().saturating_sub(headers)
    }

    /// Address the frame from `side` of `flow`.
    pub fn address(&mut self, flow: &Flow, side: Side) -> &mut Self {
        let ((src, sport), (dst, dport)) = flow.endpoints(side);
        put(&mut self.bytes, IP_SRC, &src.octets());
        put(&mut self.bytes, IP_DST, &dst.octets());
        put(&mut self.bytes, L4, &sport.to_be_bytes());
        put(&mut self.bytes, L4 + 2, &dport.to_be_bytes());
        put(&mut self.bytes, IP_CSUM, &[0, 0]);
        let sum = ip_checksum(self.bytes.get(IP..IP + 20).unwrap_or(&[]));
        put(&mut self.bytes, IP_CSUM, &sum.to_be_bytes());
        self
    }

    /// Set TCP sequence, acknowledgement and flags (no effect on UDP).
    pub fn tcp(&mut self, seq: u32, ack: u32, flags: TcpFlags) -> &mut Self {
        if self.proto == Proto::Tcp {
            put(&mut self.bytes, TCP_SEQ, &seq.to_be_bytes());
            put(&mut self.bytes, TCP_ACK, &ack.to_be_bytes());
            put(&mut self.bytes, TCP_FLAGS, &[flags.0]);
        }
        self
    }

    /// The frame.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

fn put(buf: &mut [u8], at: usize, value: &[u8]) {
    if let Some(dst) = buf.get_mut(at..at + value.len()) {
        dst.copy_from_slice(value);
    }
}

/// The IPv4 header checksum of `header` (checksum field zeroed by the caller).
fn ip_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|w| {
            u32::from(u16::from_be_bytes([
                w.first().copied().unwrap_or(0),
                w.get(1).copied().unwrap_or(0),
            ]))
        })
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pinhole_dataplane::packet::{parse, L4Summary, Parsed};

    fn summary(frame: &[u8]) -> pinhole_dataplane::packet::PacketSummary {
        match parse(frame) {
            Ok(Parsed::Ip(s)) => s,
            other => panic!("not an IP frame: {other:?}"),
        }
    }

    #[test]
    fn a_64_byte_udp_frame_parses_back_with_the_flow_and_room_for_the_stamp() {
        let f = flow(300, Proto::Udp);
        let mut t = Template::new(Proto::Udp, MIN_FRAME);
        t.address(&f, Side::Outside);
        assert_eq!(t.bytes().len(), 60);
        assert!(t.payload_len() >= STAMP_LEN);
        let s = summary(t.bytes());
        assert_eq!(s.src, std::net::IpAddr::V4(f.outside));
        assert_eq!(s.dst, std::net::IpAddr::V4(Ipv4Addr::new(10, 0, 2, 44)));
        match s.l4 {
            L4Summary::Udp(u) => {
                assert_eq!(u.src_port, Port(9));
                assert_eq!(u.dst_port, Port(1324));
            }
            other => panic!("{other:?}"),
        }
        // The IPv4 checksum verifies (sums to 0xffff with the field included).
        assert_eq!(ip_checksum(&t.bytes()[14..34]), 0);
    }

    #[test]
    fn tcp_templates_carry_sequence_numbers_and_flags() {
        let f = flow(5, Proto::Tcp);
        let mut t = Template::new(Proto::Tcp, 1514);
        t.address(&f, Side::Inside).tcp(1000, 2000, TcpFlags::ACK);
        assert_eq!(t.bytes().len(), 1514);
        let s = summary(t.bytes());
        match s.l4 {
            L4Summary::Tcp(tcp) => {
                assert_eq!(tcp.seq, 1000);
                assert_eq!(tcp.ack, 2000);
                assert_eq!(tcp.flags, TcpFlags::ACK);
                assert_eq!(tcp.dst_port, Port(80));
            }
            other => panic!("{other:?}"),
        }
        let mut syn = Template::tcp_control();
        syn.address(&f, Side::Inside).tcp(7, 0, TcpFlags::SYN);
        assert_eq!(syn.bytes().len(), 60);
        assert!(matches!(summary(syn.bytes()).l4, L4Summary::Tcp(t) if t.flags == TcpFlags::SYN));
    }

    #[test]
    fn flows_are_distinct_and_inside_the_prefixes() {
        let a = flow(0, Proto::Udp);
        let b = flow(1_000_000, Proto::Udp);
        assert_ne!(a.inside, b.inside);
        assert_eq!(a.inside, Ipv4Addr::new(10, 0, 1, 0));
        assert_eq!(b.inside.octets()[0], 10);
        assert_eq!(b.outside.octets()[..2], [198, 18]);
    }
}

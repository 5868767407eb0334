//! Parser throughput on the shapes the fast path sees most: a minimal 64-byte UDP
//! frame (60 bytes before the FCS, with Ethernet padding), a TCP data segment, a
//! QinQ-tagged UDP frame and an IPv6 UDP frame; plus reassembly of a 3-fragment SIP
//! datagram.

use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};

use criterion::{criterion_main, Criterion, Throughput};
use pinhole_dataplane::packet::build::{self, Ipv4Header, TcpHeader};
use pinhole_dataplane::packet::frag::{FragOutcome, Reassembler, ReassemblyConfig};
use pinhole_dataplane::packet::{parse, EtherType, IpProtocol, Parsed, Port, TcpFlags};
use pinhole_dataplane::{IfaceId, Timestamp};

const A: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 1);

fn bench_parse(c: &mut Criterion) {
    let udp64 = build::udp4_frame(A, B, 16384, 16385, &[0; 18]);
    let mut tcp = TcpHeader::new(Port(40000), Port(5060), TcpFlags::ACK | TcpFlags::PSH);
    tcp.options = vec![1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2];
    let tcp_frame = build::tcp4_frame(A, B, &tcp, &[b'x'; 512]);
    let udp4 =
        Ipv4Header::new(A, B, IpProtocol::UDP).build(&build::udp(Port(1), Port(2), &[0; 100]));
    let qinq = build::ethernet(
        build::DST_MAC,
        build::SRC_MAC,
        &[(EtherType::QINQ, 100), (EtherType::VLAN, 200)],
        EtherType::IPV4,
        &udp4,
    );
    let v6 = build::ethernet_ip(&build::ipv6(
        Ipv6Addr::LOCALHOST,
        Ipv6Addr::LOCALHOST,
        IpProtocol::UDP,
        64,
        &build::udp(Port(1), Port(2), &[0; 100]),
    ));

    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(1));
    for (name, frame) in [
        ("udp4_64b", &udp64),
        ("tcp4_segment", &tcp_frame),
        ("qinq_udp4", &qinq),
        ("udp6", &v6),
    ] {
        assert!(matches!(parse(frame), Ok(Parsed::Ip(_))), "{name}");
        group.bench_function(name, |b| b.iter(|| parse(black_box(frame))));
    }
    group.finish();
}

fn bench_reassembly(c: &mut Criterion) {
    let datagram = Ipv4Header::new(A, B, IpProtocol::UDP).build(&build::udp(
        Port(5060),
        Port(5060),
        &[b's'; 3000],
    ));
    let frames: Vec<Vec<u8>> = build::fragment_ipv4(&datagram, 1480)
        .iter()
        .map(|f| build::ethernet_ip(f))
        .collect();
    let summaries: Vec<_> = frames
        .iter()
        .filter_map(|f| match parse(f) {
            Ok(Parsed::Ip(s)) => Some(s),
            _ => None,
        })
        .collect();
    let mut reassembler = Reassembler::new(ReassemblyConfig::default());
    let now = Timestamp::from_secs(1);
    c.bench_function("reassemble_3_fragments_3000b", |b| {
        b.iter(|| {
            let mut len = 0;
            for (frame, summary) in frames.iter().zip(&summaries) {
                if let FragOutcome::Complete(done) =
                    reassembler.feed(frame, summary, IfaceId(0), (), now)
                {
                    len = done.datagram.len();
                }
            }
            black_box(len)
        })
    });
}

/// The generated group function has no doc comment of its own.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::bench_parse, super::bench_reassembly);
}
criterion_main!(group::benches);

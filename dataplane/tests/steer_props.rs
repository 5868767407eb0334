//! Property tests of the steering hash: both directions of any flow (IPv4 or IPv6, TCP
//! or UDP, tagged or not) have one owner; so do the ICMP errors about it and every
//! fragment of a datagram; owners are in range; arbitrary bytes never panic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{Ipv4Addr, Ipv6Addr};

use pinhole_dataplane::packet::build::{
    ethernet, fragment_ipv4, icmp, ipv6, udp, Ipv4Header, TcpHeader, DST_MAC, SRC_MAC,
};
use pinhole_dataplane::packet::{EtherType, IpProtocol, Port, TcpFlags};
use pinhole_dataplane::steer::{flow_hash, owner};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Flow {
    v6: bool,
    tcp: bool,
    a: [u8; 16],
    b: [u8; 16],
    a_port: u16,
    b_port: u16,
    vlans: Vec<u16>,
}

fn flow() -> impl Strategy<Value = Flow> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<[u8; 16]>(),
        any::<[u8; 16]>(),
        any::<u16>(),
        any::<u16>(),
        proptest::collection::vec(1u16..4095, 0..=2),
    )
        .prop_map(|(v6, tcp, a, b, a_port, b_port, vlans)| Flow {
            v6,
            tcp,
            a,
            b,
            a_port,
            b_port,
            vlans,
        })
}

fn v4(bytes: &[u8; 16]) -> Ipv4Addr {
    Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])
}

impl Flow {
    fn proto(&self) -> IpProtocol {
        if self.tcp {
            IpProtocol::TCP
        } else {
            IpProtocol::UDP
        }
    }

    fn l4(&self, reverse: bool, payload: &[u8]) -> Vec<u8> {
        let (s, d) = if reverse {
            (self.b_port, self.a_port)
        } else {
            (self.a_port, self.b_port)
        };
        if self.tcp {
            TcpHeader::new(Port(s), Port(d), TcpFlags::ACK).build(payload)
        } else {
            udp(Port(s), Port(d), payload)
        }
    }

    fn ip(&self, reverse: bool, payload: &[u8]) -> Vec<u8> {
        let (s, d) = if reverse {
            (&self.b, &self.a)
        } else {
            (&self.a, &self.b)
        };
        let l4 = self.l4(reverse, payload);
        if self.v6 {
            ipv6(
                Ipv6Addr::from(*s),
                Ipv6Addr::from(*d),
                self.proto(),
                64,
                &l4,
            )
        } else {
            Ipv4Header::new(v4(s), v4(d), self.proto()).build(&l4)
        }
    }

    fn frame_of(&self, ip: &[u8]) -> Vec<u8> {
        let tags: Vec<(EtherType, u16)> = self
            .vlans
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let tpid = if i + 1 < self.vlans.len() {
                    EtherType::QINQ
                } else {
                    EtherType::VLAN
                };
                (tpid, *v)
            })
            .collect();
        let ethertype = if self.v6 {
            EtherType::IPV6
        } else {
            EtherType::IPV4
        };
        ethernet(DST_MAC, SRC_MAC, &tags, ethertype, ip)
    }

    fn frame(&self, reverse: bool, payload: &[u8]) -> Vec<u8> {
        self.frame_of(&self.ip(reverse, payload))
    }

    /// An ICMP error from a third party about a packet of this flow.
    fn icmp_error(&self, reverse: bool, router: [u8; 16]) -> Vec<u8> {
        let quoted = self.ip(reverse, b"quoted");
        let sender = if reverse { &self.b } else { &self.a };
        if self.v6 {
            let message = icmp(1, 4, [0; 4], &quoted);
            self.frame_of(&ipv6(
                Ipv6Addr::from(router),
                Ipv6Addr::from(*sender),
                IpProtocol::ICMPV6,
                64,
                &message,
            ))
        } else {
            let message = icmp(11, 0, [0; 4], &quoted);
            self.frame_of(
                &Ipv4Header::new(v4(&router), v4(sender), IpProtocol::ICMP).build(&message),
            )
        }
    }
}

proptest! {
    #[test]
    fn both_directions_have_one_owner(f in flow(), workers in 1u16..=16, p in any::<Vec<u8>>()) {
        let ab = f.frame(false, &p);
        let ba = f.frame(true, b"reply");
        prop_assert!(flow_hash(&ab).is_some());
        prop_assert_eq!(flow_hash(&ab), flow_hash(&ba));
        let o = owner(&ab, workers);
        prop_assert_eq!(o, owner(&ba, workers));
        prop_assert!(o.is_some_and(|w| w < workers));
    }

    #[test]
    fn icmp_errors_about_a_flow_go_to_its_owner(f in flow(), router in any::<[u8; 16]>(), reverse in any::<bool>()) {
        let data = f.frame(false, b"data");
        prop_assert_eq!(flow_hash(&f.icmp_error(reverse, router)), flow_hash(&data));
    }

    #[test]
    fn every_fragment_has_the_owner_of_the_first(f in flow(), len in 100usize..4000, reverse in any::<bool>()) {
        let f = Flow { v6: false, ..f };
        let ip = f.ip(reverse, &vec![0x5a; len]);
        let fragments = fragment_ipv4(&ip, 64);
        let first = flow_hash(&f.frame_of(&fragments[0]));
        prop_assert!(first.is_some());
        for frag in &fragments {
            prop_assert_eq!(flow_hash(&f.frame_of(frag)), first);
        }
        // The other direction's fragments share the owner too.
        let back = fragment_ipv4(&f.ip(!reverse, &vec![0xa5; len]), 64);
        prop_assert_eq!(flow_hash(&f.frame_of(&back[0])), first);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in any::<Vec<u8>>(), workers in 0u16..8) {
        if let Some(w) = owner(&bytes, workers) {
            prop_assert!(w < workers.max(1));
        }
    }
}

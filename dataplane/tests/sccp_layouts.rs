//! Every message of `reference/sccp.md`'s table, hand-built byte by byte at the
//! reference's absolute offsets (not with the crate's builder, so a wrong offset shared by
//! builder and parser cannot hide), in each layout: basic, V15, V17 IPv4, V17 IPv6,
//! V20 IPv4, V20 IPv6. Each is parsed and its fields checked.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::net::{Ipv4Addr, Ipv6Addr};

use pinhole_dataplane::inspect::sccp::{
    parse_pdu, ChannelAck, MessageId, OpenChannel, SessionTransmission, SkinnyAddr, SkinnyMessage,
    StartTransmission, StopChannel, TransmissionAck, TransmissionFailure, DEFAULT_MAX_DATA_LENGTH,
};

/// One layout: header version, and the address family written in wide layouts.
#[derive(Clone, Copy, Debug)]
struct Layout {
    version: u32,
    v6: bool,
}

impl Layout {
    /// From V17 (0x11) on an address is type + 16 bytes.
    fn wide(self) -> bool {
        self.version >= 0x11
    }

    /// The reference's offset: `narrow` before V17, `wide` from V17.
    fn at(self, narrow: usize, wide: usize) -> usize {
        if self.wide() {
            wide
        } else {
            narrow
        }
    }

    /// The address the PDU carries, as the parser must return it.
    fn addr(self) -> SkinnyAddr {
        if self.v6 {
            SkinnyAddr::V6(V6)
        } else {
            SkinnyAddr::V4(V4)
        }
    }
}

const LAYOUTS: [Layout; 6] = [
    Layout {
        version: 0x00,
        v6: false,
    },
    Layout {
        version: 0x0F,
        v6: false,
    },
    Layout {
        version: 0x11,
        v6: false,
    },
    Layout {
        version: 0x11,
        v6: true,
    },
    Layout {
        version: 0x14,
        v6: false,
    },
    Layout {
        version: 0x14,
        v6: true,
    },
];

const V4: Ipv4Addr = Ipv4Addr::new(10, 1, 1, 10);
const V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10);

/// A PDU of `total` bytes (header included), zero-filled, then `u32` fields written.
struct Pdu {
    bytes: Vec<u8>,
    layout: Layout,
}

impl Pdu {
    fn new(layout: Layout, id: u32, total: usize) -> Pdu {
        let mut bytes = vec![0u8; total];
        bytes[0..4].copy_from_slice(&((total - 8) as u32).to_le_bytes());
        bytes[4..8].copy_from_slice(&layout.version.to_le_bytes());
        bytes[8..12].copy_from_slice(&id.to_le_bytes());
        Pdu { bytes, layout }
    }

    fn u32(mut self, at: usize, v: u32) -> Pdu {
        self.bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
        self
    }

    /// The layout's address at `at`: 4 bytes, or type then 16 bytes.
    fn addr(mut self, at: usize) -> Pdu {
        if !self.layout.wide() {
            self.bytes[at..at + 4].copy_from_slice(&V4.octets());
        } else if self.layout.v6 {
            self.bytes[at..at + 4].copy_from_slice(&1u32.to_le_bytes());
            self.bytes[at + 4..at + 20].copy_from_slice(&V6.octets());
        } else {
            self.bytes[at..at + 4].copy_from_slice(&0u32.to_le_bytes());
            self.bytes[at + 4..at + 8].copy_from_slice(&V4.octets());
        }
        self
    }

    fn parse(&self) -> SkinnyMessage<'_> {
        let (pdu, len) = parse_pdu(&self.bytes, DEFAULT_MAX_DATA_LENGTH)
            .unwrap_or_else(|e| panic!("{:?}: {e:?}", self.layout));
        assert_eq!(len, self.bytes.len());
        assert_eq!(pdu.header.version.0, self.layout.version);
        pdu.message
    }
}

#[test]
fn header_only_messages_in_every_layout() {
    for l in LAYOUTS {
        for (id, want) in [
            (0x0000, SkinnyMessage::KeepAlive),
            (0x0100, SkinnyMessage::KeepAliveAck),
            (0x0081, SkinnyMessage::RegisterAck),
            (0x009D, SkinnyMessage::RegisterReject),
            (0x0027, SkinnyMessage::Unregister),
            (0x0118, SkinnyMessage::UnregisterAck),
        ] {
            assert_eq!(Pdu::new(l, id, 12).parse(), want, "{l:?} {id:#x}");
        }
    }
}

#[test]
fn register_and_ip_port_in_every_layout() {
    for l in LAYOUTS {
        let mut pdu = Pdu::new(l, 0x0001, 48)
            .u32(28, 7)
            .u32(32, 1)
            .u32(40, 369)
            .u32(44, 5);
        pdu.bytes[12..19].copy_from_slice(b"SEP0001");
        pdu.bytes[36..40].copy_from_slice(&V4.octets());
        let SkinnyMessage::Register(r) = pdu.parse() else {
            panic!("{l:?}: not a Register");
        };
        assert_eq!(r.device_name.as_bytes(), b"SEP0001");
        assert_eq!(
            (
                r.user_id,
                r.instance,
                r.station_ip,
                r.device_type,
                r.max_streams
            ),
            (7, 1, V4, Some(369), Some(5)),
            "{l:?}"
        );
        let port = Pdu::new(l, 0x0002, 16).u32(12, 2000);
        assert_eq!(port.parse(), SkinnyMessage::IpPort { port: 2000 }, "{l:?}");
    }
}

#[test]
fn receive_channel_acks_in_every_layout() {
    for l in LAYOUTS {
        for id in [0x0022u32, 0x0031] {
            let pdu = Pdu::new(l, id, l.at(32, 48))
                .u32(12, 0)
                .addr(16)
                .u32(l.at(20, 36), 16384)
                .u32(l.at(24, 40), 2001)
                .u32(l.at(28, 44), 1001);
            let want = ChannelAck {
                status: 0,
                addr: l.addr(),
                port: 16384,
                pass_thru_party_id: 2001,
                call_reference: Some(1001),
            };
            let got = pdu.parse();
            let ok = match got {
                SkinnyMessage::OpenReceiveChannelAck(a) => id == 0x22 && a == want,
                SkinnyMessage::OpenMultiMediaReceiveChannelAck(a) => id == 0x31 && a == want,
                _ => false,
            };
            assert!(ok, "{l:?} {id:#x}: {got:?}");
        }
    }
}

#[test]
fn open_channel_requests_in_every_layout() {
    for l in LAYOUTS {
        for id in [0x0105u32, 0x0131] {
            let pdu = Pdu::new(l, id, 40).u32(12, 1001).u32(16, 2001);
            let got = pdu.parse();
            let channel = match got {
                SkinnyMessage::OpenReceiveChannel(c) if id == 0x105 => c,
                SkinnyMessage::OpenMultiMediaReceiveChannel(c) if id == 0x131 => c,
                _ => panic!("{l:?} {id:#x}: {got:?}"),
            };
            let OpenChannel {
                conference_id,
                pass_thru_party_id,
                ..
            } = channel;
            assert_eq!((conference_id, pass_thru_party_id), (1001, 2001), "{l:?}");
        }
    }
}

#[test]
fn start_media_transmission_in_every_layout() {
    for l in LAYOUTS {
        // Up to the end of the key material (103 / 119).
        let pdu = Pdu::new(l, 0x008A, l.at(104, 120))
            .u32(12, 1001)
            .u32(16, 2001)
            .addr(20)
            .u32(l.at(24, 40), 16390)
            .u32(l.at(28, 44), 20)
            .u32(l.at(32, 48), 4)
            .u32(l.at(52, 68), 77);
        let got = pdu.parse();
        let SkinnyMessage::StartMediaTransmission(StartTransmission {
            conference_id,
            pass_thru_party_id,
            remote,
            remote_port,
            call_reference,
            ..
        }) = got
        else {
            panic!("{l:?}: {got:?}");
        };
        assert_eq!(
            (
                conference_id,
                pass_thru_party_id,
                remote,
                remote_port,
                call_reference
            ),
            (1001, 2001, l.addr(), 16390, Some(77)),
            "{l:?}"
        );
    }
}

#[test]
fn start_multi_media_transmission_in_every_layout() {
    for l in LAYOUTS {
        let pdu = Pdu::new(l, 0x0132, l.at(36, 52))
            .u32(12, 1001)
            .u32(16, 2001)
            .u32(20, 103)
            .addr(24)
            .u32(l.at(28, 44), 24000)
            .u32(l.at(32, 48), 77);
        let got = pdu.parse();
        let SkinnyMessage::StartMultiMediaTransmission(s) = got else {
            panic!("{l:?}: {got:?}");
        };
        assert_eq!(
            (
                s.conference_id,
                s.pass_thru_party_id,
                s.remote,
                s.remote_port,
                s.call_reference
            ),
            (1001, 2001, l.addr(), 24000, Some(77)),
            "{l:?}"
        );
    }
}

#[test]
fn stops_and_closes_in_every_layout() {
    for l in LAYOUTS {
        for id in [0x008Bu32, 0x0106, 0x0133, 0x0136] {
            let pdu = Pdu::new(l, id, 28)
                .u32(12, 1001)
                .u32(16, 2001)
                .u32(20, 77)
                .u32(24, 1);
            let got = pdu.parse();
            let want = StopChannel {
                conference_id: 1001,
                pass_thru_party_id: 2001,
                call_reference: Some(77),
                keep_port: true,
            };
            let stop = match got {
                SkinnyMessage::StopMediaTransmission(s) if id == 0x8B => s,
                SkinnyMessage::CloseReceiveChannel(s) if id == 0x106 => s,
                SkinnyMessage::StopMultiMediaTransmission(s) if id == 0x133 => s,
                SkinnyMessage::CloseMultiMediaReceiveChannel(s) if id == 0x136 => s,
                _ => panic!("{l:?} {id:#x}: {got:?}"),
            };
            assert_eq!(stop, want, "{l:?} {id:#x}");
        }
    }
}

#[test]
fn session_transmissions_in_every_layout() {
    for l in LAYOUTS {
        for id in [0x0095u32, 0x0096] {
            let pdu = Pdu::new(l, id, l.at(20, 36)).addr(12).u32(l.at(16, 32), 2);
            let got = pdu.parse();
            let want = SessionTransmission {
                remote: l.addr(),
                session_type: Some(2),
            };
            let ok = match got {
                SkinnyMessage::StartSessionTransmission(s) => id == 0x95 && s == want,
                SkinnyMessage::StopSessionTransmission(s) => id == 0x96 && s == want,
                _ => false,
            };
            assert!(ok, "{l:?} {id:#x}: {got:?}");
        }
    }
}

#[test]
fn media_transmission_failure_in_every_layout() {
    for l in LAYOUTS {
        let pdu = Pdu::new(l, 0x002A, l.at(32, 48))
            .u32(12, 1001)
            .u32(16, 2001)
            .addr(20)
            .u32(l.at(24, 40), 16390)
            .u32(l.at(28, 44), 77);
        let got = pdu.parse();
        let want = TransmissionFailure {
            conference_id: 1001,
            pass_thru_party_id: 2001,
            remote: l.addr(),
            remote_port: 16390,
            call_reference: Some(77),
        };
        assert_eq!(got, SkinnyMessage::MediaTransmissionFailure(want), "{l:?}");
    }
}

#[test]
fn start_transmission_acks_in_every_layout() {
    // The reference gives no table for these; the parser follows Wireshark's generator
    // input (passThruPartyID 12, callReference 16, address 20, port, status).
    for l in LAYOUTS {
        for id in [0x0154u32, 0x0155] {
            let pdu = Pdu::new(l, id, l.at(32, 48))
                .u32(12, 2001)
                .u32(16, 77)
                .addr(20)
                .u32(l.at(24, 40), 16384)
                .u32(l.at(28, 44), 0);
            let got = pdu.parse();
            let want = TransmissionAck {
                pass_thru_party_id: 2001,
                call_reference: 77,
                addr: l.addr(),
                port: 16384,
                status: Some(0),
            };
            let ok = match got {
                SkinnyMessage::StartMediaTransmissionAck(a) => id == 0x154 && a == want,
                SkinnyMessage::StartMultiMediaTransmissionAck(a) => id == 0x155 && a == want,
                _ => false,
            };
            assert!(ok, "{l:?} {id:#x}: {got:?}");
        }
    }
}

#[test]
fn multicast_and_spcp_messages_are_framed_but_not_interpreted() {
    for l in LAYOUTS {
        for id in [0x0101u32, 0x0102, 0x0103, 0x0104, 0x8000, 0x8101] {
            let pdu = Pdu::new(l, id, 40).addr(12);
            let got = pdu.parse();
            assert_eq!(got, SkinnyMessage::Other(MessageId(id)), "{l:?} {id:#x}");
        }
    }
}

//! Replays the SIP messages of public captures (`shared/corpora/pcaps`, read in place)
//! through the SIP inspector and checks the pinholes the README expects.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use pcap_file::pcap::PcapReader;
use pinhole_dataplane::inspect::action::{
    CallRef, FlowContext, InspectAction, StreamRef, Transport,
};
use pinhole_dataplane::inspect::sip::frame_for_reassembler;
use pinhole_dataplane::inspect::sip::sdp::SessionDescription;
use pinhole_dataplane::inspect::sip::{
    DialogTable, HeaderName, InvalidMessage, ParseLimits, SipConfig, SipInspector, SipMessage,
    SipOutcome,
};
use pinhole_dataplane::inspect::stream::{StreamConfig, StreamReassembler, StreamStart};
use pinhole_dataplane::Timestamp;

/// A UDP datagram of an Ethernet/IPv4 frame (the captures used here hold no VLANs or
/// fragments of SIP).
struct Datagram {
    frame_no: usize,
    src: SocketAddr,
    dst: SocketAddr,
    payload: Vec<u8>,
}

fn udp(frame_no: usize, frame: &[u8]) -> Option<Datagram> {
    if u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]) != 0x0800 {
        return None;
    }
    let ip = frame.get(14..)?;
    let ihl = usize::from(ip.first()? & 0x0F) * 4;
    if *ip.get(9)? != 17 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
    let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    let udp = ip.get(ihl..total)?;
    let sport = u16::from_be_bytes([udp[0], udp[1]]);
    let dport = u16::from_be_bytes([udp[2], udp[3]]);
    Some(Datagram {
        frame_no,
        src: SocketAddr::new(IpAddr::V4(src), sport),
        dst: SocketAddr::new(IpAddr::V4(dst), dport),
        payload: udp.get(8..)?.to_vec(),
    })
}

fn sip_datagrams(name: &str) -> Vec<Datagram> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpora/pcaps")
        .join(name);
    let mut reader = PcapReader::new(File::open(&path).unwrap()).unwrap();
    let mut out = Vec::new();
    let mut n = 0;
    while let Some(pkt) = reader.next_packet() {
        n += 1;
        if let Some(d) = udp(n, &pkt.unwrap().data) {
            if d.src.port() == 5060 || d.dst.port() == 5060 {
                out.push(d);
            }
        }
    }
    out
}

/// A model of the pinhole table: what each call has open.
#[derive(Default)]
struct Pinholes {
    open: HashMap<(CallRef, StreamRef), Vec<(IpAddr, u16)>>,
}

impl Pinholes {
    fn apply(&mut self, actions: &[InspectAction]) {
        for a in actions {
            match a {
                InspectAction::Open(p) => self
                    .open
                    .entry((p.call, p.stream))
                    .or_default()
                    .push((p.dst, p.dst_port)),
                InspectAction::CloseStream { call, stream } => {
                    self.open.remove(&(*call, *stream));
                }
                InspectAction::CloseCall { call } => self.open.retain(|(c, _), _| c != call),
            }
        }
    }

    fn targets(&self) -> BTreeSet<(IpAddr, u16)> {
        self.open.values().flatten().copied().collect()
    }
}

fn replay(
    name: &str,
    mut each: impl FnMut(&Datagram, SipOutcome, &[InspectAction], &Pinholes),
) -> SipInspector {
    let mut insp = SipInspector::new(
        Arc::new(SipConfig::default()),
        Arc::new(DialogTable::new(4, 1024)),
    );
    let mut table = Pinholes::default();
    for (i, d) in sip_datagrams(name).iter().enumerate() {
        let ctx = FlowContext {
            src: d.src,
            dst: d.dst,
            transport: Transport::Udp,
            zone_link: pinhole_dataplane::ZoneLink::UNZONED,
        };
        let mut actions = Vec::new();
        let outcome = insp.inspect(
            &d.payload,
            &ctx,
            Timestamp::from_secs(i as u64),
            &mut actions,
        );
        table.apply(&actions);
        each(d, outcome, &actions, &table);
    }
    insp
}

fn v4(a: &str, p: u16) -> (IpAddr, u16) {
    (a.parse().unwrap(), p)
}

#[test]
fn ndpi_sip_call_183_opens_early_media_and_480_closes_it() {
    let early = [
        v4("212.242.33.36", 40392),
        v4("212.242.33.36", 40393),
        v4("192.168.1.2", 30000),
        v4("192.168.1.2", 30001),
    ];
    let mut saw_183 = false;
    let mut saw_480 = false;
    let insp = replay("ndpi__sip.pcap", |d, outcome, actions, table| {
        let text = String::from_utf8_lossy(&d.payload);
        let call_2 =
            text.contains("11894297-4432a9f8@192.168.1.2") && text.contains("CSeq: 2 INVITE");
        if call_2 && text.starts_with("SIP/2.0 183") {
            saw_183 = true;
            assert_eq!(outcome, SipOutcome::Inspected, "frame {}", d.frame_no);
            let opened: BTreeSet<_> = actions
                .iter()
                .filter_map(|a| match a {
                    InspectAction::Open(p) => Some((p.dst, p.dst_port)),
                    _ => None,
                })
                .collect();
            assert_eq!(opened, early.into_iter().collect(), "frame {}", d.frame_no);
            for t in early {
                assert!(table.targets().contains(&t));
            }
        }
        if call_2 && text.starts_with("SIP/2.0 480") {
            saw_480 = true;
            assert!(
                actions
                    .iter()
                    .any(|a| matches!(a, InspectAction::CloseCall { .. })),
                "frame {}",
                d.frame_no
            );
            for t in early {
                assert!(
                    !table.targets().contains(&t),
                    "{t:?} still open after the 480"
                );
            }
        }
    });
    assert!(saw_183 && saw_480);
    assert_eq!(
        insp.counters().dialogs_ended_rejected + insp.counters().dialogs_ended_cancel,
        insp.counters().dialogs_created - insp.table().len() as u64
    );
}

#[test]
fn heplify_udp_call_opens_offer_and_answer_pinholes() {
    let mut last = BTreeSet::new();
    replay("heplify__rtp_rtcp_sip_ipv4_udp.pcap", |_, _, _, table| {
        last = table.targets()
    });
    for t in [
        v4("200.57.7.204", 8000),
        v4("200.57.7.204", 8001),
        v4("200.57.7.196", 40376),
        v4("200.57.7.196", 40377),
        v4("200.57.7.196", 40360),
        v4("200.57.7.196", 40361),
    ] {
        assert!(last.contains(&t), "{t:?} not open at the end: {last:?}");
    }
}

#[test]
fn compact_form_content_length_is_honoured_strictly() {
    // l: 272 ends the body before the m= line: no pinhole (docs/sip-parsing-policy.md).
    let datagrams = sip_datagrams("suricata-verify__sip-compact-form_sip_compact_form.pcap");
    assert_eq!(datagrams.len(), 1);
    let payload = &datagrams[0].payload;
    let msg = SipMessage::parse(payload, &ParseLimits::DEFAULT).unwrap();
    assert_eq!(msg.content_length(), Some(272));
    assert_eq!(msg.body().len(), 272);
    assert!(
        payload.len() > msg.len(),
        "the m= line lies after the declared body"
    );
    let sdp = SessionDescription::parse(msg.body(), &ParseLimits::DEFAULT).unwrap();
    assert!(sdp.media().is_empty());
    // Its From display name is written `\"arik\"` (backslashes outside a quoted
    // string): not a token, so the message is also refused by the strict checks.
    let mut outcomes = Vec::new();
    replay(
        "suricata-verify__sip-compact-form_sip_compact_form.pcap",
        |_, o, actions, _| {
            assert!(actions.is_empty(), "{actions:?}");
            outcomes.push(o);
        },
    );
    assert_eq!(
        outcomes,
        vec![SipOutcome::Invalid(InvalidMessage::Malformed(
            HeaderName::From
        ))]
    );
}

#[test]
fn zeek_invalid_content_length_and_junk_are_refused_without_pinholes() {
    for name in [
        "zeek__sip_invalid-content-length.pcap",
        "zeek__sip_sip-junk-before-request.pcap",
    ] {
        let mut n = 0;
        replay(name, |d, o, actions, _| {
            n += 1;
            assert!(actions.is_empty(), "{name} frame {}", d.frame_no);
            assert!(
                !matches!(o, SipOutcome::Inspected),
                "{name} frame {}: {o:?}",
                d.frame_no
            );
        });
        assert!(n > 0, "{name}: no SIP datagram");
    }
}

#[test]
fn ndpi_fuzzed_capture_never_opens_toward_garbage() {
    let mut opened = BTreeSet::new();
    let insp = replay("ndpi__fuzz-2006-06-26-2594.pcap", |_, _, actions, _| {
        for a in actions {
            if let InspectAction::Open(p) = a {
                opened.insert((p.dst, p.dst_port));
                assert!(
                    matches!(
                        p.dst.to_string().as_str(),
                        "192.168.1.2" | "212.242.33.36" | "80.230.84.4"
                    ),
                    "unexpected pinhole toward {}",
                    p.dst
                );
            }
        }
    });
    // Every message of this capture that carries SDP is also damaged in its start line
    // or headers (fuzzed bytes, 0xAA runs, `%s\0`): the strict policy opens nothing.
    let c = insp.counters();
    assert_eq!(c.malformed + c.invalid, c.messages);
    assert!(opened.is_empty(), "{opened:?}");
}

/// A TCP segment of an Ethernet/IPv4 frame.
struct Segment {
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    syn: bool,
    payload: Vec<u8>,
}

fn tcp(frame: &[u8]) -> Option<Segment> {
    if u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]) != 0x0800 {
        return None;
    }
    let ip = frame.get(14..)?;
    let ihl = usize::from(ip.first()? & 0x0F) * 4;
    if *ip.get(9)? != 6 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
    let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    let seg = ip.get(ihl..total)?;
    let data_offset = usize::from(seg[12] >> 4) * 4;
    Some(Segment {
        src: SocketAddr::new(IpAddr::V4(src), u16::from_be_bytes([seg[0], seg[1]])),
        dst: SocketAddr::new(IpAddr::V4(dst), u16::from_be_bytes([seg[2], seg[3]])),
        seq: u32::from_be_bytes([seg[4], seg[5], seg[6], seg[7]]),
        syn: seg[13] & 0x02 != 0,
        payload: seg.get(data_offset..)?.to_vec(),
    })
}

#[test]
fn heplify_tcp_call_through_reassembly_opens_and_bye_closes() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpora/pcaps/heplify__sip_ipv4_tcp.pcap");
    let mut reader = PcapReader::new(File::open(&path).unwrap()).unwrap();
    let mut insp = SipInspector::new(
        Arc::new(SipConfig::default()),
        Arc::new(DialogTable::new(4, 64)),
    );
    let mut streams: HashMap<(SocketAddr, SocketAddr), StreamReassembler> = HashMap::new();
    let mut table = Pinholes::default();
    let mut peak = BTreeSet::new();
    let mut messages = 0;
    let mut i = 0u64;
    while let Some(pkt) = reader.next_packet() {
        let Some(seg) = tcp(&pkt.unwrap().data) else {
            continue;
        };
        if seg.src.port() != 5060 && seg.dst.port() != 5060 {
            continue;
        }
        let stream = streams.entry((seg.src, seg.dst)).or_insert_with(|| {
            let start = if seg.syn {
                StreamStart::Syn(seg.seq)
            } else {
                StreamStart::MidStream
            };
            StreamReassembler::new(
                StreamConfig {
                    max_buffered: 65_536,
                    ..StreamConfig::default()
                },
                start,
            )
        });
        if seg.syn {
            continue;
        }
        let ctx = FlowContext {
            src: seg.src,
            dst: seg.dst,
            transport: Transport::Tcp,
            zone_link: pinhole_dataplane::ZoneLink::UNZONED,
        };
        let mut delivered = Vec::new();
        let report = stream.feed(
            seg.seq,
            &seg.payload,
            |buf| {
                frame_for_reassembler(buf, &pinhole_dataplane::inspect::sip::ParseLimits::DEFAULT)
            },
            |msg| delivered.push(msg.to_vec()),
        );
        assert_eq!(report.error, None);
        for msg in delivered {
            i += 1;
            messages += 1;
            let mut actions = Vec::new();
            let outcome = insp.inspect(&msg, &ctx, Timestamp::from_secs(i), &mut actions);
            assert!(
                matches!(outcome, SipOutcome::Inspected | SipOutcome::KeepAlive),
                "{outcome:?} {}",
                String::from_utf8_lossy(&msg[..60])
            );
            table.apply(&actions);
            peak.extend(table.targets());
        }
    }
    assert_eq!(messages, 7, "INVITE/100/180/200/ACK/BYE/200");
    for t in [
        v4("10.33.6.101", 6050),
        v4("10.33.6.101", 6051),
        v4("10.33.6.100", 6000),
        v4("10.33.6.100", 6001),
    ] {
        assert!(peak.contains(&t), "{t:?} never opened: {peak:?}");
    }
    assert!(
        table.targets().is_empty(),
        "left open after BYE: {:?}",
        table.targets()
    );
    assert_eq!(insp.counters().dialogs_ended_bye, 1);
}

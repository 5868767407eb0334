//! Replay of the heplify SIP/RTP capture through a default-drop zone policy: exact
//! per-flow outcomes (counts from tshark on the capture).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod replay_support;

use replay_support::{corpus, flow, run};
use serde_json::json;

const CAPTURE: &str = "heplify__rtp_rtcp_sip_ipv4_udp.pcap";

/// The SIP trunk side (proxy .195, media gateway .196, .197) is one zone, everything
/// else the phone zone; SIP (5060 and the capture's 5061) is inspected both ways,
/// everything else is dropped by class-default.
fn config() -> serde_json::Value {
    json!({
        "eal": ["--no-huge", "--vdev", "net_ring0", "--vdev", "net_ring1"],
        "interfaces": [
            {"name": "trunk", "port": "net_ring0", "zone": "trunk-zone",
             "prefixes": ["200.57.7.195/32", "200.57.7.196/32", "200.57.7.197/32"]},
            {"name": "phones", "port": "net_ring1", "zone": "phone-zone", "prefixes": ["0.0.0.0/0"]}
        ],
        "forwarding": {"mode": "virtual-wire", "pairs": [["trunk", "phones"]]},
        "zones": [{"name": "trunk-zone"}, {"name": "phone-zone"}],
        "port_map": [{"protocol": "sip", "transport": "udp", "ports": [5060, 5061]}],
        "class_maps": [{"name": "sip-class", "rules": [{"protocol": "sip"}]}],
        "policy_maps": [
            {"name": "sip-policy", "classes": [{"class": "sip-class", "action": "inspect"}],
             "class_default": "drop"}
        ],
        "zone_pairs": [
            {"name": "trunk-phones", "source": "trunk-zone", "destination": "phone-zone",
             "service_policy": "sip-policy"},
            {"name": "phones-trunk", "source": "phone-zone", "destination": "trunk-zone",
             "service_policy": "sip-policy"}
        ]
    })
}

#[test]
fn policy_outcomes_per_flow() {
    let (r, _) = run("heplify-policy", &config(), &corpus(CAPTURE), &[], false);
    assert_eq!(r.capture.format, "pcap");
    assert_eq!(r.capture.link_types, vec!["ethernet"]);
    assert_eq!(r.packets.total, 4269);
    // Both ends on the same side (tshark: 463 IP packets), never judged.
    assert_eq!(r.packets.not_crossing, 463);
    // ARP, CDP and STP cross on the virtual wire.
    assert_eq!(r.stats.pipeline.non_ip_passed, 164);
    assert_eq!(
        r.packets.forwarded + r.packets.dropped + r.packets.not_crossing,
        r.packets.total
    );
    assert_eq!(r.stats.pipeline.packets, 4269 - 463);

    // The call's SIP: INVITE side inspected, the callee's answers ride the session.
    let invite = flow(&r, "udp", "200.57.7.195:5060", "200.57.7.204:5061");
    assert_eq!((invite.packets, invite.forwarded), (4, 4));
    assert_eq!(invite.verdict, "inspect");
    assert_eq!(invite.ingress.as_deref(), Some("trunk"));
    assert_eq!(invite.egress.as_deref(), Some("phones"));
    assert_eq!(invite.zone_pair.as_deref(), Some("trunk-phones"));
    let answers = flow(&r, "udp", "200.57.7.204:5061", "200.57.7.195:5060");
    assert_eq!((answers.packets, answers.forwarded), (6, 6));
    assert_eq!(answers.verdict, "session");
    // REGISTERs from .205.
    let register = flow(&r, "udp", "200.57.7.205:5061", "200.57.7.195:5060");
    assert_eq!((register.packets, register.forwarded), (5, 5));
    assert_eq!(register.zone_pair.as_deref(), Some("phones-trunk"));

    // Not SIP: dropped by class-default, every packet.
    for (proto, src, dst, n) in [
        ("tcp", "200.57.7.205:3432", "200.57.7.195:23", 12),
        ("tcp", "200.57.7.195:23", "200.57.7.205:3432", 12),
        ("udp", "200.57.7.194:1161", "200.57.7.197:161", 250),
        ("udp", "200.57.7.197:161", "200.57.7.194:1161", 249),
        ("udp", "200.57.7.202:2427", "200.57.7.195:2427", 13),
        ("udp", "200.57.7.195:2427", "200.57.7.202:2427", 13),
    ] {
        let f = flow(&r, proto, src, dst);
        assert_eq!(
            (f.packets, f.dropped, f.forwarded),
            (n, n, 0),
            "{src} -> {dst}"
        );
        assert_eq!(f.verdict, "class_default_drop", "{src} -> {dst}");
    }

    // The RTP of the call crosses the engine (its outcome needs the SIP inspector).
    let rtp = flow(&r, "udp", "200.57.7.196:40376", "200.57.7.204:8000");
    assert_eq!(rtp.packets, 891);
    assert_eq!(rtp.ingress.as_deref(), Some("trunk"));
    assert_eq!(
        flow(&r, "udp", "200.57.7.204:8000", "200.57.7.196:40376").packets,
        548
    );

    // Two sides' HTTP never crosses.
    let http = flow(&r, "tcp", "200.57.7.204:4560", "200.57.7.194:80");
    assert_eq!(
        (http.not_crossing, http.verdict.as_str()),
        (11, "not_crossing")
    );

    assert_eq!(
        r.drops.keys().collect::<Vec<_>>(),
        vec!["class_default_drop"]
    );
    assert_eq!(r.drops["class_default_drop"], r.packets.dropped);
    let zp: Vec<&str> = r.stats.zone_pairs.iter().map(|z| z.name.as_str()).collect();
    assert_eq!(zp, ["trunk-phones", "phones-trunk"]);
    let sip_class = r
        .stats
        .classes
        .iter()
        .find(|c| c.name == "sip-policy/sip-class")
        .unwrap();
    // Two SIP sessions: the call (.195 <-> .204) and the registrations (.205 -> .195).
    assert_eq!(sip_class.sessions, 2);
}

#[test]
fn sip_opens_the_media_pinholes() {
    let (r, _) = run("heplify-sip", &config(), &corpus(CAPTURE), &[], false);
    // corpora README: the offer/answer open 200.57.7.204:8000/8001 and
    // 200.57.7.196:40376/40377; RTP and RTCP pass both ways.
    for (src, dst, n) in [
        ("200.57.7.196:40376", "200.57.7.204:8000", 891),
        ("200.57.7.204:8000", "200.57.7.196:40376", 548),
        ("200.57.7.204:8001", "200.57.7.196:40377", 8),
        ("200.57.7.196:40377", "200.57.7.204:8001", 6),
    ] {
        let f = flow(&r, "udp", src, dst);
        assert_eq!((f.packets, f.forwarded), (n, n), "{src} -> {dst}");
    }
    // Whichever direction of the RTP flow comes first goes through the pinhole; the
    // other rides the child session it created.
    let mut verdicts = [
        flow(&r, "udp", "200.57.7.196:40376", "200.57.7.204:8000")
            .verdict
            .clone(),
        flow(&r, "udp", "200.57.7.204:8000", "200.57.7.196:40376")
            .verdict
            .clone(),
    ];
    verdicts.sort();
    assert_eq!(verdicts, ["pinhole".to_string(), "session".to_string()]);
    // MGCP-negotiated media is not covered by the SIP ALG.
    let mgcp_rtp = flow(&r, "udp", "200.57.7.202:30000", "200.57.7.196:40362");
    assert_eq!((mgcp_rtp.packets, mgcp_rtp.dropped), (6, 6));

    // The most recent pinhole toward dst:port (an answer replaces the offer's pinhole,
    // which admitted any source, by one narrowed to the answerer's address).
    let hole = |dst: &str, port: u16| {
        r.pinholes
            .iter()
            .rev()
            .find(|p| p.dst == dst && p.dst_port == port)
            .unwrap_or_else(|| panic!("no pinhole to {dst}:{port}: {:#?}", r.pinholes))
    };
    // Each media pair has two pinholes (one per direction); the first packet of the
    // flow activates one and creates the child session that carries both directions,
    // so the other stays pregenerated (Cisco: four pregenerated become two active).
    let state = |dst: &str, port: u16| serde_json::to_value(hole(dst, port).state_at_end).unwrap();
    for pair in [
        [("200.57.7.204", 8000), ("200.57.7.196", 40376)],
        [("200.57.7.204", 8001), ("200.57.7.196", 40377)],
    ] {
        let states: Vec<_> = pair.iter().map(|(d, p)| state(d, *p)).collect();
        assert!(states.contains(&json!("active")), "{pair:?}: {states:?}");
        let used: u64 = pair.iter().map(|(d, p)| hole(d, *p).packets).sum();
        assert!(used > 0, "{pair:?}");
    }
    // The second INVITE's offer: still pregenerated when the capture ends.
    for port in [40360, 40361] {
        let p = hole("200.57.7.196", port);
        assert_eq!(
            serde_json::to_value(p.state_at_end).unwrap(),
            json!("pregen")
        );
        assert_eq!(p.packets, 0);
    }
}

//! Flow steering with two workers on multi-queue `net_pcap` ports (no RSS, so `auto`
//! means the software hand-off). Each RX queue reads its own capture and each TX queue
//! writes its own, so the output files say which worker sent every packet (worker `w`
//! sends on TX queue `w`).
//!
//! - Both directions of every flow arrive on different workers' queues, yet each flow is
//!   forwarded by one worker only (its owner by the steering hash) and has one session.
//! - A SIP call signalled on worker 0 whose media (and the caller's BYE, on another
//!   flow) belong to worker 1: the media gets through the pinholes worker 0 opened, and
//!   the BYE, inspected on worker 1, ends the call there.
//! - `workers.steering: "rss"` on ports without RSS is refused at start.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::Ipv4Addr;
use std::path::Path;

use pinhole_dataplane::packet::build::udp4_frame;
use pinhole_dataplane::steer::owner;
use pinhole_e2e::{
    num, pcap_packets, run_pinhole, write_empty_pcap, write_pcap, Scratch, EAL_NO_NIC,
};
use serde_json::{json, Value};

const WORKERS: u16 = 2;

/// EAL arguments: two workers sharing CPU 1 (the machine may have two cores), the main
/// lcore on CPU 0, and one `net_pcap` device per `(rx files, tx files)` entry.
fn eal(ports: &[(Vec<&Path>, Vec<&Path>)]) -> Vec<String> {
    let mut eal: Vec<String> = EAL_NO_NIC.iter().map(|s| (*s).to_owned()).collect();
    for (i, (rx, tx)) in ports.iter().enumerate() {
        let mut dev = format!("net_pcap{i}");
        for f in rx {
            dev.push_str(&format!(",rx_pcap={}", f.display()));
        }
        for f in tx {
            dev.push_str(&format!(",tx_pcap={}", f.display()));
        }
        eal.extend(["--vdev".to_owned(), dev]);
    }
    eal.extend(
        ["--lcores", "0@0,1@1,2@1", "--main-lcore", "0"]
            .iter()
            .map(|s| (*s).to_owned()),
    );
    eal
}

fn worker(summary: &Value, w: usize, field: &str) -> u64 {
    num(summary, &format!("/workers/{w}/{field}")).unwrap()
}

fn drops(summary: &Value) -> serde_json::Map<String, Value> {
    summary
        .pointer("/totals/drops")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

#[test]
fn both_directions_of_every_flow_are_handled_by_one_worker() -> anyhow::Result<()> {
    let dir = Scratch::new("steer-flows")?;
    let path = |name: &str| dir.join(name);
    let (in0, in1, out0, out1) = (
        [path("in0_q0.pcap"), path("in0_q1.pcap")],
        [path("in1_q0.pcap"), path("in1_q1.pcap")],
        [path("out0_q0.pcap"), path("out0_q1.pcap")],
        [path("out1_q0.pcap"), path("out1_q1.pcap")],
    );

    // Flow i: three packets inside -> outside arrive on queue i % 2 of the inside port,
    // three replies on the other queue of the outside port: without steering, the two
    // directions of every flow would be judged by different workers.
    const FLOWS: u16 = 16;
    let mut inside_rx: [Vec<Vec<u8>>; 2] = Default::default();
    let mut outside_rx: [Vec<Vec<u8>>; 2] = Default::default();
    let mut flows = Vec::new();
    for i in 0..FLOWS {
        let a = Ipv4Addr::new(10, 0, 0, 1 + i as u8);
        let b = Ipv4Addr::new(192, 0, 2, 100 + (i % 3) as u8);
        let (pa, pb) = (20000 + i * 7, 30000 + i);
        let forward: Vec<Vec<u8>> = (0..3u8)
            .map(|n| udp4_frame(a, b, pa, pb, &[b'f', i as u8, n]))
            .collect();
        let reverse: Vec<Vec<u8>> = (0..3u8)
            .map(|n| udp4_frame(b, a, pb, pa, &[b'r', i as u8, n]))
            .collect();
        let q = usize::from(i % 2);
        inside_rx[q].extend(forward.iter().cloned());
        outside_rx[1 - q].extend(reverse.iter().cloned());
        let own = owner(&forward[0], WORKERS).expect("an IP flow has an owner");
        assert_eq!(owner(&reverse[0], WORKERS), Some(own));
        flows.push((own, forward, reverse));
    }
    let owned = |w: u16| flows.iter().filter(|(o, _, _)| *o == w).count() as u64;
    assert!(owned(0) > 0 && owned(1) > 0, "the flows cover both workers");
    for q in 0..2 {
        write_pcap(&in0[q], &inside_rx[q])?;
        write_pcap(&in1[q], &outside_rx[q])?;
    }

    let config = json!({
        "eal": eal(&[
            (vec![&in0[0], &in0[1]], vec![&out0[0], &out0[1]]),
            (vec![&in1[0], &in1[1]], vec![&out1[0], &out1[1]]),
        ]),
        "workers": {"cores": [1, 2]},
        "interfaces": [
            {"name": "inside", "port": "net_pcap0", "zone": "inside"},
            {"name": "outside", "port": "net_pcap1", "zone": "outside"}
        ],
        "forwarding": {"mode": "virtual-wire", "pairs": [["inside", "outside"]]},
        "zones": [{"name": "inside"}, {"name": "outside"}],
        "class_maps": [{"name": "udp", "rules": [{"protocol": "udp"}]}],
        "policy_maps": [{"name": "inspect-udp",
                         "classes": [{"class": "udp", "action": "inspect"}],
                         "class_default": "drop"}],
        // Either direction may open a flow's session: whichever packet comes first.
        "zone_pairs": [
            {"name": "in-out", "source": "inside", "destination": "outside", "service_policy": "inspect-udp"},
            {"name": "out-in", "source": "outside", "destination": "inside", "service_policy": "inspect-udp"}
        ]
    });
    let run = run_pinhole(&dir, &config, &["--exit-when-idle", "1", "--quiet"], &[])?;
    assert!(
        run.output.status.success(),
        "pinhole failed:\n{}",
        run.stderr()
    );
    let s = run.summary()?;

    assert_eq!(s.pointer("/steering"), Some(&json!("handoff")), "{s:#}");
    let total = u64::from(FLOWS) * 6;
    assert_eq!(num(s, "/totals/rx_packets")?, total);
    assert_eq!(
        num(s, "/totals/tx_packets")?,
        total,
        "every packet forwarded: {s:#}"
    );
    assert!(drops(s).is_empty(), "no drops: {s:#}");

    // One session per flow, on its owner.
    for w in 0..2 {
        assert_eq!(
            worker(s, w, "pipeline/sessions_inspected"),
            owned(w as u16),
            "worker {w}'s sessions: {s:#}"
        );
    }
    // Exactly one direction of each flow arrived on the other worker's queue.
    let handed = u64::from(FLOWS) * 3;
    let sent: u64 = (0..2).map(|w| worker(s, w, "handoff/sent")).sum();
    let received: u64 = (0..2).map(|w| worker(s, w, "handoff/received")).sum();
    assert_eq!((sent, received), (handed, handed), "{s:#}");
    assert_eq!(
        worker(s, 0, "handoff/dropped_full") + worker(s, 1, "handoff/dropped_full"),
        0
    );

    // Each flow left by its owner's TX queues only, in both directions.
    let out_outside = [pcap_packets(&out1[0])?, pcap_packets(&out1[1])?];
    let out_inside = [pcap_packets(&out0[0])?, pcap_packets(&out0[1])?];
    for (own, forward, reverse) in &flows {
        let own = usize::from(*own);
        let other = 1 - own;
        for f in forward {
            assert!(
                out_outside[own].contains(f),
                "forward packet not sent by worker {own}"
            );
            assert!(!out_outside[other].contains(f));
        }
        for r in reverse {
            assert!(
                out_inside[own].contains(r),
                "reply not sent by worker {own}"
            );
            assert!(!out_inside[other].contains(r));
        }
    }
    assert_eq!(num(s, "/mempool/in_use")?, 0, "mbufs leaked");
    Ok(())
}

/// An Ethernet/IPv4/UDP frame.
fn udp_frame(src: (Ipv4Addr, u16), dst: (Ipv4Addr, u16), payload: &[u8]) -> Vec<u8> {
    udp4_frame(src.0, dst.0, src.1, dst.1, payload)
}

fn sdp(addr: Ipv4Addr, port: u16) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 {addr}\r\ns=-\r\nc=IN IP4 {addr}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )
}

/// The headers that identify a SIP message beyond its start line.
struct Sip<'a> {
    via: (Ipv4Addr, u16),
    branch: &'a str,
    from: &'a str,
    to: &'a str,
    cseq: &'a str,
    contact: (Ipv4Addr, u16),
}

impl Sip<'_> {
    fn message(&self, start: &str, body: Option<&str>) -> Vec<u8> {
        let body = body.unwrap_or("");
        let ctype = if body.is_empty() {
            ""
        } else {
            "Content-Type: application/sdp\r\n"
        };
        format!(
            "{start}\r\nVia: SIP/2.0/UDP {}:{};branch=z9hG4bK{}\r\nMax-Forwards: 70\r\n\
             From: {}\r\nTo: {}\r\nCall-ID: steer-call-1@example.com\r\nCSeq: {}\r\n\
             Contact: <sip:x@{}:{}>\r\n{ctype}Content-Length: {}\r\n\r\n{body}",
            self.via.0,
            self.via.1,
            self.branch,
            self.from,
            self.to,
            self.cseq,
            self.contact.0,
            self.contact.1,
            body.len()
        )
        .into_bytes()
    }
}

fn rtp(seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 0x00];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44]);
    p.extend_from_slice(&[0xff; 160]);
    p
}

/// The first port from `from` whose flow (built by `frame`) `steer` assigns to `want`.
fn port_owned_by(want: u16, from: u16, frame: impl Fn(u16) -> Vec<u8>) -> u16 {
    (from..from + 1000)
        .find(|&p| owner(&frame(p), WORKERS) == Some(want))
        .expect("some port hashes to each worker")
}

/// Packets the engine takes from an RX queue at once (`dpdk_sys::BURST_SIZE`); the
/// `net_pcap` driver fills every burst from its file until the file ends.
const BURST: usize = 32;

/// An IPv4 frame with a broken version nibble: no flow (handled where it arrives, never
/// handed off) and dropped as malformed.
fn filler() -> Vec<u8> {
    let mut f = udp4_frame(ip("10.9.9.9"), ip("10.9.9.10"), 9, 9, b"filler");
    f[14] = 0x05;
    f
}

/// Frames in capture order.
type Frames = Vec<Vec<u8>>;

/// Lay `rounds` out in two captures, one per port, so that worker 0 judges them in
/// order: each round is one burst from port 0, then one from port 1 (the worker polls
/// its ports in that order), each padded to a full burst with fillers.
fn rounds(rounds: &[(Frames, Frames)]) -> [Frames; 2] {
    let mut ports: [Frames; 2] = Default::default();
    for (p0, p1) in rounds {
        for (port, frames) in ports.iter_mut().zip([p0, p1]) {
            assert!(frames.len() <= BURST);
            port.extend(frames.iter().cloned());
            port.extend(std::iter::repeat_with(filler).take(BURST - frames.len()));
        }
    }
    ports
}

#[test]
fn a_call_signalled_on_one_worker_gets_its_media_through_on_the_other() -> anyhow::Result<()> {
    let trunk = ip("192.0.2.20");
    // Worker 0 reads every packet (the queues 1 are empty). The signalling flow is
    // worker 0's; the media flow and the flow of the phone's BYE (from its Contact port
    // 5060, not the port the INVITE came from) are worker 1's, so they reach it through
    // the hand-off, in the order worker 0 received them.
    let phone = (10..250)
        .map(|host| Ipv4Addr::new(10, 0, 1, host))
        .find(|&phone| owner(&udp_frame((trunk, 5060), (phone, 5060), b""), WORKERS) == Some(1))
        .expect("some phone address hashes to worker 1");
    let contact_port = 5060;
    let sig_port = port_owned_by(0, 40000, |p| udp_frame((phone, p), (trunk, 5060), b""));
    let phone_rtp = port_owned_by(1, 16384, |p| udp_frame((phone, p), (trunk, 20000), b""));
    let trunk_rtp = 20000;
    let (ph_sig, tr_sig, ph_contact) = ((phone, sig_port), (trunk, 5060), (phone, contact_port));
    let (ph_media, tr_media) = ((phone, phone_rtp), (trunk, trunk_rtp));

    let alice = "<sip:alice@example.com>;tag=a1";
    let bob = "<sip:bob@example.net>;tag=b2";
    let invite_tx = |to, cseq, branch| Sip {
        via: ph_sig,
        branch,
        from: alice,
        to,
        cseq,
        contact: ph_contact,
    };
    let invite = udp_frame(
        ph_sig,
        tr_sig,
        &invite_tx("<sip:bob@example.net>", "1 INVITE", "inv").message(
            "INVITE sip:bob@example.net SIP/2.0",
            Some(&sdp(phone, phone_rtp)),
        ),
    );
    let trying = udp_frame(
        tr_sig,
        ph_sig,
        &invite_tx("<sip:bob@example.net>", "1 INVITE", "inv").message("SIP/2.0 100 Trying", None),
    );
    let ok = udp_frame(
        tr_sig,
        ph_sig,
        &Sip {
            contact: tr_sig,
            ..invite_tx(bob, "1 INVITE", "inv")
        }
        .message("SIP/2.0 200 OK", Some(&sdp(trunk, trunk_rtp))),
    );
    let ack = udp_frame(
        ph_sig,
        tr_sig,
        &invite_tx(bob, "1 ACK", "ack").message("ACK sip:bob@example.net SIP/2.0", None),
    );
    let from_phone: Vec<Vec<u8>> = (0..5)
        .map(|seq| udp_frame(ph_media, tr_media, &rtp(seq)))
        .collect();
    let from_trunk: Vec<Vec<u8>> = (0..5)
        .map(|seq| udp_frame(tr_media, ph_media, &rtp(1000 + seq)))
        .collect();
    // The phone hangs up from its port 5060: a new flow, worker 1's.
    let bye_tx = Sip {
        via: ph_contact,
        branch: "bye",
        from: alice,
        to: bob,
        cseq: "2 BYE",
        contact: ph_contact,
    };
    let bye = udp_frame(
        ph_contact,
        tr_sig,
        &bye_tx.message("BYE sip:bob@example.net SIP/2.0", None),
    );
    let bye_ok = udp_frame(
        tr_sig,
        ph_contact,
        &Sip {
            contact: tr_sig,
            ..bye_tx
        }
        .message("SIP/2.0 200 OK", None),
    );
    let late = udp_frame(ph_media, tr_media, &rtp(99));

    let signalling = [invite.clone(), trying.clone(), ok.clone(), ack.clone()];
    for f in &signalling {
        assert_eq!(owner(f, WORKERS), Some(0));
    }
    let media: Vec<Vec<u8>> = from_phone.iter().chain(&from_trunk).cloned().collect();
    for f in media.iter().chain([&bye, &bye_ok, &late]) {
        assert_eq!(owner(f, WORKERS), Some(1));
    }
    // Port 0 is the phone's side, port 1 the trunk's.
    let [inside, outside] = rounds(&[
        (vec![invite], vec![trying, ok]),
        ([vec![ack], from_phone].concat(), from_trunk),
        (vec![bye.clone()], vec![bye_ok.clone()]),
        (vec![late.clone()], vec![]),
    ]);

    let dir = Scratch::new("steer-sip")?;
    let file = |name: &str| dir.join(name);
    let (in0, in1, empty) = (file("in0.pcap"), file("in1.pcap"), file("empty.pcap"));
    let out0 = [file("out0_q0.pcap"), file("out0_q1.pcap")];
    let out1 = [file("out1_q0.pcap"), file("out1_q1.pcap")];
    write_pcap(&in0, &inside)?;
    write_pcap(&in1, &outside)?;
    write_empty_pcap(&empty)?;
    let config = json!({
        "eal": eal(&[
            (vec![&in0, &empty], vec![&out0[0], &out0[1]]),
            (vec![&in1, &empty], vec![&out1[0], &out1[1]]),
        ]),
        "workers": {"cores": [1, 2], "steering": "handoff"},
        "interfaces": [
            {"name": "inside", "port": "net_pcap0", "zone": "inside"},
            {"name": "outside", "port": "net_pcap1", "zone": "outside"}
        ],
        "forwarding": {"mode": "virtual-wire", "pairs": [["inside", "outside"]]},
        "zones": [{"name": "inside"}, {"name": "outside"}],
        "class_maps": [{"name": "sip", "rules": [{"protocol": "sip"}]}],
        "policy_maps": [{"name": "voice",
                         "classes": [{"class": "sip", "action": "inspect"}],
                         "class_default": "drop"}],
        "zone_pairs": [
            {"name": "in-out", "source": "inside", "destination": "outside", "service_policy": "voice"},
            {"name": "out-in", "source": "outside", "destination": "inside", "service_policy": "voice"}
        ]
    });
    let run = run_pinhole(&dir, &config, &["--exit-when-idle", "1", "--quiet"], &[])?;
    assert!(
        run.output.status.success(),
        "pinhole failed:\n{}",
        run.stderr()
    );
    let s = run.summary()?;

    // What each worker sent, both ports together.
    let sent_by: Vec<Vec<Vec<u8>>> = (0..2)
        .map(|w| Ok([pcap_packets(&out0[w])?, pcap_packets(&out1[w])?].concat()))
        .collect::<anyhow::Result<_>>()?;
    for f in &signalling {
        assert!(
            sent_by[0].contains(f),
            "signalling is sent by worker 0: {s:#}"
        );
    }
    for f in &media {
        assert!(
            sent_by[1].contains(f),
            "media crosses the pinhole on worker 1: {s:#}"
        );
    }
    for f in [&bye, &bye_ok] {
        assert!(
            sent_by[1].contains(f),
            "the BYE's flow is worker 1's: {s:#}"
        );
    }
    assert!(
        !sent_by.iter().any(|out| out.contains(&late)),
        "media after the BYE is refused: the BYE on worker 1 closed the call: {s:#}"
    );
    assert_eq!(sent_by[0].len(), signalling.len());
    assert_eq!(sent_by[1].len(), media.len() + 2);

    // The media session was created from the pinhole on worker 1, none on worker 0.
    assert_eq!(worker(s, 0, "pipeline/sessions_from_pinholes"), 0, "{s:#}");
    assert_eq!(worker(s, 1, "pipeline/sessions_from_pinholes"), 1, "{s:#}");
    assert_eq!(
        worker(s, 0, "pipeline/sessions_inspected"),
        1,
        "the call's signalling"
    );
    assert_eq!(
        worker(s, 1, "pipeline/sessions_inspected"),
        1,
        "the BYE's flow"
    );
    let handed = (media.len() + 3) as u64;
    assert_eq!(worker(s, 0, "handoff/sent"), handed);
    assert_eq!(worker(s, 1, "handoff/received"), handed);
    let fillers = (inside.len() + outside.len()) as u64 - 4 - handed;
    let d = drops(s);
    assert_eq!(d.get("bad_ip_version"), Some(&json!(fillers)), "{s:#}");
    assert_eq!(d.get("call_ended"), Some(&json!(1)), "{s:#}");
    assert_eq!(
        d.len(),
        2,
        "nothing but the fillers and the late media is dropped: {s:#}"
    );
    assert_eq!(num(s, "/mempool/in_use")?, 0, "mbufs leaked");
    Ok(())
}

#[test]
fn rss_steering_on_ports_without_rss_is_refused() -> anyhow::Result<()> {
    let dir = Scratch::new("steer-rss")?;
    let (q0, q1, out0, out1) = (
        dir.join("q0.pcap"),
        dir.join("q1.pcap"),
        dir.join("out0.pcap"),
        dir.join("out1.pcap"),
    );
    write_empty_pcap(&q0)?;
    write_empty_pcap(&q1)?;
    let config = json!({
        "eal": eal(&[(vec![&q0, &q1], vec![&out0, &out1])]),
        "workers": {"cores": [1, 2], "steering": "rss"},
        "interfaces": [{"name": "a", "port": "net_pcap0"}],
        "forwarding": {"mode": "virtual-wire", "pairs": []}
    });
    let run = run_pinhole(&dir, &config, &["--exit-when-idle", "1", "--quiet"], &[])?;
    assert!(!run.output.status.success());
    let stderr = run.stderr();
    assert!(
        stderr.contains("interfaces[0].port: workers.steering is \"rss\""),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    Ok(())
}

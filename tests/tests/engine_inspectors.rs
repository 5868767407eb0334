//! The engine's stop report shows the inspectors: the SIP inspector's counters and the
//! SIP dialogs and pinholes still open when it stopped (here a call whose INVITE went
//! out and that never ended).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::Ipv4Addr;

use pinhole_dataplane::packet::build::udp4_frame;
use pinhole_e2e::{num, run_pinhole, write_empty_pcap, write_pcap, Scratch, EAL_NO_NIC};
use serde_json::json;

const PHONE: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);
const GATEWAY: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 50);

fn invite() -> Vec<u8> {
    let body = format!(
        "v=0\r\no=- 1 1 IN IP4 {PHONE}\r\ns=-\r\nc=IN IP4 {PHONE}\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n"
    );
    format!(
        "INVITE sip:bob@{GATEWAY} SIP/2.0\r\nVia: SIP/2.0/UDP {PHONE}:5060;branch=z9hG4bKe2e\r\n\
         From: <sip:alice@{PHONE}>;tag=a1\r\nTo: <sip:bob@{GATEWAY}>\r\nCall-ID: open-call@{PHONE}\r\n\
         CSeq: 1 INVITE\r\nContact: <sip:alice@{PHONE}:5060>\r\nMax-Forwards: 70\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn the_stop_report_counts_sip_and_what_is_still_open() -> anyhow::Result<()> {
    let dir = Scratch::new("inspectors")?;
    let (input, empty) = (dir.join("in.pcap"), dir.join("empty.pcap"));
    write_pcap(&input, &[udp4_frame(PHONE, GATEWAY, 5060, 5060, &invite())])?;
    write_empty_pcap(&empty)?;
    let mut eal: Vec<String> = EAL_NO_NIC.iter().map(|s| (*s).to_owned()).collect();
    for (i, (rx, tx)) in [(&input, "out_a.pcap"), (&empty, "out_b.pcap")]
        .into_iter()
        .enumerate()
    {
        eal.extend([
            "--vdev".into(),
            format!(
                "net_pcap{i},rx_pcap={},tx_pcap={}",
                rx.display(),
                dir.join(tx).display()
            ),
        ]);
    }
    let config = json!({
        "eal": eal,
        "workers": {"cores": [1]},
        "interfaces": [
            {"name": "a", "port": "net_pcap0", "zone": "inside"},
            {"name": "b", "port": "net_pcap1", "zone": "outside"}
        ],
        "forwarding": {"mode": "virtual-wire", "pairs": [["a", "b"]]},
        "zones": [{"name": "inside"}, {"name": "outside"}],
        "class_maps": [{"name": "sip", "rules": [{"protocol": "sip"}]}],
        "policy_maps": [{"name": "out", "classes": [{"class": "sip", "action": "inspect"}],
                         "class_default": "drop"}],
        "zone_pairs": [{"name": "in-out", "source": "inside", "destination": "outside", "service_policy": "out"}]
    });
    let run = run_pinhole(&dir, &config, &["--exit-when-idle", "1"], &[])?;
    assert!(
        run.output.status.success(),
        "pinhole failed:\n{}",
        run.stderr()
    );
    let s = run.summary()?;
    assert_eq!(num(s, "/inspectors/sip/messages")?, 1, "{s:#}");
    assert_eq!(num(s, "/inspectors/sip/dialogs_created")?, 1, "{s:#}");
    assert_eq!(num(s, "/inspectors/sip_dialogs_open_at_end")?, 1, "{s:#}");
    let open = num(s, "/inspectors/pinholes/open_at_end")?;
    assert!(open >= 1, "{s:#}");
    assert_eq!(num(s, "/inspectors/pinholes/opened")?, open, "{s:#}");
    let human = String::from_utf8_lossy(&run.output.stdout);
    assert!(
        human.contains(&format!("open at stop: {open} pinholes, 1 sip dialogs")),
        "{human}"
    );
    Ok(())
}

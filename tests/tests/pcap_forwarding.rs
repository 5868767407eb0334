//! A SIP call with RTP read from a pcap on one port comes out of its virtual-wire peer
//! byte for byte and in order; nothing leaks.

use pinhole_e2e::{corpus, num, pcap_packets, run_pinhole, write_empty_pcap, Scratch, EAL_NO_NIC};
use serde_json::json;

#[test]
fn every_packet_crosses_the_wire_unchanged_and_in_order() -> anyhow::Result<()> {
    let dir = Scratch::new("pcap")?;
    let input = corpus("pcaps/heplify__rtp_rtcp_sip_ipv4_udp.pcap");
    let (empty, out_a, out_b) = (
        dir.join("empty.pcap"),
        dir.join("out_a.pcap"),
        dir.join("out_b.pcap"),
    );
    write_empty_pcap(&empty)?;
    let mut eal: Vec<String> = EAL_NO_NIC.iter().map(|s| (*s).to_owned()).collect();
    eal.extend([
        "--vdev".into(),
        format!(
            "net_pcap0,rx_pcap={},tx_pcap={}",
            input.display(),
            out_a.display()
        ),
        "--vdev".into(),
        format!(
            "net_pcap1,rx_pcap={},tx_pcap={}",
            empty.display(),
            out_b.display()
        ),
    ]);
    let config = json!({
        "eal": eal,
        "workers": {"cores": [1]},
        "interfaces": [{"name": "a", "port": "net_pcap0"}, {"name": "b", "port": "net_pcap1"}],
        "forwarding": {"mode": "virtual-wire", "pairs": [["a", "b"]]}
    });
    let run = run_pinhole(&dir, &config, &["--exit-when-idle", "1", "--quiet"], &[])?;
    assert!(
        run.output.status.success(),
        "pinhole failed:\n{}",
        run.stderr()
    );
    let summary = run.summary()?;

    let sent = pcap_packets(&input)?;
    let received = pcap_packets(&out_b)?;
    assert!(!sent.is_empty());
    assert_eq!(received.len(), sent.len(), "packet count differs");
    for (i, (s, r)) in sent.iter().zip(&received).enumerate() {
        assert_eq!(s, r, "packet {i} differs");
    }
    assert!(
        pcap_packets(&out_a)?.is_empty(),
        "nothing was sent towards port a"
    );

    let n = sent.len() as u64;
    assert_eq!(num(summary, "/ports/0/ipackets")?, n);
    assert_eq!(num(summary, "/ports/1/opackets")?, n);
    assert_eq!(num(summary, "/totals/rx_packets")?, n);
    assert_eq!(num(summary, "/totals/tx_packets")?, n);
    assert_eq!(
        summary.pointer("/stopped_by").and_then(|v| v.as_str()),
        Some("idle")
    );
    assert_eq!(
        num(summary, "/mempool/available")?,
        num(summary, "/mempool/size")?,
        "mbufs leaked"
    );
    Ok(())
}

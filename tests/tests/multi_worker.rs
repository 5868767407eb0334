//! Two workers on multi-queue virtual devices: traffic flows on every worker, every
//! received packet is accounted for (sent or dropped with a reason), the workers' view
//! matches the ports' statistics, and every mbuf is back in the pool after the stop.

use pinhole_e2e::{num, run_pinhole, Scratch, EAL_NO_NIC};
use serde_json::{json, Value};

fn sum(summary: &Value, array: &str, field: &str) -> anyhow::Result<u64> {
    let items = summary
        .pointer(array)
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow::anyhow!("no {array} in the summary"))?;
    items.iter().map(|item| num(item, field)).sum()
}

#[test]
fn two_workers_forward_and_every_packet_and_mbuf_is_accounted_for() -> anyhow::Result<()> {
    let dir = Scratch::new("multi")?;
    let mut eal: Vec<&str> = EAL_NO_NIC.to_vec();
    // net_null is an endless source and sink. null2 has no peer: its packets are dropped.
    eal.extend([
        "--vdev",
        "net_null0",
        "--vdev",
        "net_null1",
        "--vdev",
        "net_null2",
    ]);
    // Two worker lcores share CPU 1 so the test runs on a 2-core machine; main is on CPU 0.
    eal.extend(["--lcores", "0@0,1@1,2@1", "--main-lcore", "0"]);
    let config = json!({
        "eal": eal,
        "workers": {"cores": [1, 2]},
        "interfaces": [
            {"name": "a", "port": "net_null0"},
            {"name": "b", "port": "net_null1"},
            {"name": "orphan", "port": "net_null2"}
        ],
        "forwarding": {"mode": "virtual-wire", "pairs": [["a", "b"]]}
    });
    let run = run_pinhole(&dir, &config, &["--duration", "2", "--quiet"], &[])?;
    assert!(
        run.output.status.success(),
        "pinhole failed:\n{}",
        run.stderr()
    );
    let s = run.summary()?;

    let workers = s
        .pointer("/workers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    assert_eq!(workers, 2);
    for w in 0..2 {
        assert!(
            num(s, &format!("/workers/{w}/rx_packets"))? > 0,
            "worker {w} received nothing"
        );
        assert!(
            num(s, &format!("/workers/{w}/tx_packets"))? > 0,
            "worker {w} sent nothing"
        );
        assert_eq!(num(s, &format!("/workers/{w}/exit_status"))?, 0);
    }
    let rx = num(s, "/totals/rx_packets")?;
    let tx = num(s, "/totals/tx_packets")?;
    let no_egress = num(s, "/totals/drops/no_egress")?;
    let dropped: u64 = s
        .pointer("/totals/drops")
        .and_then(Value::as_object)
        .map(|d| d.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0)
        + num(s, "/totals/tx_unsent")?
        + num(s, "/totals/egress_unmapped")?
        + num(s, "/totals/emit_failed")?;
    let consumed = num(s, "/totals/consumed")?;
    let emitted = num(s, "/totals/emitted")?;
    assert!(
        no_egress > 0,
        "the unpaired port's packets must be dropped as no_egress"
    );
    assert_eq!(rx + emitted, tx + consumed + dropped, "rx = tx + drops");
    assert_eq!(
        sum(s, "/ports", "/ipackets")?,
        rx,
        "ports' RX = workers' RX"
    );
    assert_eq!(
        sum(s, "/ports", "/opackets")?,
        tx,
        "ports' TX = workers' TX"
    );
    assert_eq!(
        num(s, "/ports/2/opackets")?,
        0,
        "nothing is forwarded to the unpaired port"
    );
    assert_eq!(
        num(s, "/mempool/available")?,
        num(s, "/mempool/size")?,
        "mbufs leaked"
    );
    assert_eq!(num(s, "/mempool/in_use")?, 0);
    Ok(())
}

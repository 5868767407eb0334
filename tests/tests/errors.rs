//! Configuration mistakes end the run with one clear line and a non-zero status,
//! never a panic or a DPDK abort.

use pinhole_e2e::{run_pinhole, RunResult, Scratch, EAL_NO_NIC};
use serde_json::{json, Value};

fn config(port_b: &str, cores: &[u32]) -> Value {
    let mut eal: Vec<&str> = EAL_NO_NIC.to_vec();
    eal.extend(["--vdev", "net_null0", "--vdev", "net_null1"]);
    json!({
        "eal": eal,
        "workers": {"cores": cores},
        "interfaces": [{"name": "a", "port": "net_null0"}, {"name": "b", "port": port_b}],
        "forwarding": {"mode": "virtual-wire", "pairs": [["a", "b"]]}
    })
}

/// The run failed, said `expected` as its last stderr line, and neither panicked nor aborted.
fn assert_one_clear_error(run: &RunResult, expected: &str) {
    let stderr = run.stderr();
    assert!(
        !run.output.status.success(),
        "the run should fail:\n{stderr}"
    );
    assert_eq!(
        run.output.status.code(),
        Some(1),
        "a clean exit, not a signal:\n{stderr}"
    );
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("pinhole: "))
        .collect();
    assert_eq!(ours.len(), 1, "one error line, stderr:\n{stderr}");
    let line = ours.first().copied().unwrap_or_default();
    assert!(
        line.ends_with(expected),
        "expected {expected:?}, stderr:\n{stderr}"
    );
    for bad in ["panicked", "PANIC", "Cause:", "Aborted"] {
        assert!(!stderr.contains(bad), "{bad:?} in stderr:\n{stderr}");
    }
    assert!(run.summary.is_none());
}

#[test]
fn a_port_no_eal_argument_declares_is_named_with_its_config_path() -> anyhow::Result<()> {
    let dir = Scratch::new("err-vdev")?;
    let run = run_pinhole(&dir, &config("net_null7", &[1]), &["--duration", "1"], &[])?;
    assert_one_clear_error(
        &run,
        "interfaces[1].port: no port named \"net_null7\" (not a PCI address and no --vdev declares it)",
    );
    Ok(())
}

#[test]
fn a_port_dpdk_does_not_find_is_named_with_its_config_path() -> anyhow::Result<()> {
    let dir = Scratch::new("err-port")?;
    // Declared (allow-listed) but absent: only DPDK can tell, after its bus scan.
    let mut cfg = config("0000:ff:1f.7", &[1]);
    if let Some(eal) = cfg.get_mut("eal").and_then(|e| e.as_array_mut()) {
        eal.retain(|a| a != "--no-pci");
        eal.extend([json!("-a"), json!("0000:ff:1f.7")]);
    }
    let run = run_pinhole(&dir, &cfg, &["--duration", "1"], &[])?;
    assert_one_clear_error(
        &run,
        "interfaces[1].port: no DPDK port named \"0000:ff:1f.7\"",
    );
    Ok(())
}

#[test]
fn a_core_the_machine_does_not_have_is_refused_before_dpdk_starts() -> anyhow::Result<()> {
    let dir = Scratch::new("err-core")?;
    let run = run_pinhole(
        &dir,
        &config("net_null1", &[4095]),
        &["--duration", "1"],
        &[],
    )?;
    assert_one_clear_error(&run, "workers.cores[0]: core 4095 does not exist");
    Ok(())
}

#[test]
fn a_worker_core_outside_the_given_lcores_is_refused() -> anyhow::Result<()> {
    let dir = Scratch::new("err-lcore")?;
    let run = run_pinhole(
        &dir,
        &config("net_null1", &[1]),
        &["--duration", "1"],
        &["-l", "0"],
    )?;
    assert_one_clear_error(
        &run,
        "workers.cores[0]: core 1 is not an enabled DPDK lcore (check -l/--lcores)",
    );
    Ok(())
}

#[test]
fn malformed_json_is_reported_with_its_position() -> anyhow::Result<()> {
    let dir = Scratch::new("err-json")?;
    let path = dir.join("broken.json");
    std::fs::write(&path, "{\"eal\": [\n")?;
    let output = std::process::Command::new(pinhole_e2e::pinhole_bin()?)
        .args(["run", "--config"])
        .arg(&path)
        .output()?;
    let run = RunResult {
        output,
        summary: None,
    };
    let stderr = run.stderr();
    let line = stderr
        .lines()
        .find(|l| l.starts_with("pinhole: "))
        .unwrap_or_default();
    assert!(!run.output.status.success());
    assert!(
        line.starts_with(&format!("pinhole: {}:", path.display())),
        "{stderr}"
    );
    assert!(line.contains("line 2"), "the position is named: {stderr}");
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.starts_with("pinhole: "))
            .count(),
        1,
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    Ok(())
}

//! Generates the DPDK bindings with bindgen against the system DPDK (pkg-config
//! `libdpdk` >= 22.11) and compiles the wrappers bindgen writes for DPDK's
//! `static inline` functions with exactly the C flags pkg-config reports.
//!
//! A missing prerequisite fails the build with one line naming the package to install.

use std::env;
use std::path::PathBuf;
use std::process::{exit, Command};

const MIN_DPDK: &str = "22.11";

/// Functions the safe layer calls (exact names; `static inline` ones get wrapped).
const FUNCTIONS: &[&str] = &[
    "rte_eal_init",
    "rte_eal_cleanup",
    "rte_strerror",
    "pinhole_rte_errno",
    "pinhole_eth_rss_ip",
    "pinhole_eth_rss_udp",
    "pinhole_eth_rss_tcp",
    "pinhole_eth_tx_offload_mbuf_fast_free",
    "pinhole_mbuf_default_buf_size",
    "pinhole_max_lcore",
    "rte_get_main_lcore",
    "rte_lcore_is_enabled",
    "rte_eal_remote_launch",
    "rte_eal_wait_lcore",
    "rte_get_tsc_cycles",
    "rte_get_tsc_hz",
    "rte_pktmbuf_pool_create",
    "rte_mempool_free",
    "rte_mempool_avail_count",
    "rte_mempool_in_use_count",
    "rte_pktmbuf_alloc",
    "rte_pktmbuf_free",
    "rte_pktmbuf_append",
    "rte_eth_dev_get_port_by_name",
    "rte_eth_dev_info_get",
    "rte_eth_dev_configure",
    "rte_eth_dev_adjust_nb_rx_tx_desc",
    "rte_eth_rx_queue_setup",
    "rte_eth_tx_queue_setup",
    "rte_eth_dev_socket_id",
    "rte_eth_dev_start",
    "rte_eth_dev_stop",
    "rte_eth_dev_close",
    "rte_eth_promiscuous_enable",
    "rte_eth_stats_get",
    "rte_eth_rx_burst",
    "rte_eth_tx_burst",
    "rte_ring_create",
    "rte_ring_free",
    "rte_ring_mp_enqueue_burst",
    "rte_ring_sc_dequeue_burst",
    "rte_ring_count",
];

/// Types the safe layer reads or builds.
const TYPES: &[&str] = &[
    "rte_mbuf",
    "rte_mempool",
    "rte_eth_conf",
    "rte_eth_dev_info",
    "rte_eth_stats",
    "rte_eth_rx_mq_mode",
    "lcore_function_t",
    "rte_ring",
];

fn fail(line: &str) -> ! {
    eprintln!("dpdk-sys: {line}");
    exit(1);
}

fn dpdk_cflags() -> Vec<String> {
    let output = Command::new("pkg-config")
        .args(["--cflags", "libdpdk"])
        .output()
        .unwrap_or_else(|_| fail("pkg-config not found: apt-get install pkg-config libdpdk-dev"));
    if !output.status.success() {
        fail("DPDK not found by pkg-config: apt-get install libdpdk-dev pkg-config");
    }
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    // `-include rte_config.h` is two words; keep them together so both bindgen and cc see it.
    let mut flags = Vec::new();
    let mut words = text.split_whitespace();
    while let Some(word) = words.next() {
        if word == "-include" {
            if let Some(file) = words.next() {
                flags.push(format!("-include{file}"));
            }
        } else {
            flags.push(word.to_owned());
        }
    }
    flags
}

fn main() {
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");

    let library = match pkg_config::Config::new()
        .atleast_version(MIN_DPDK)
        .probe("libdpdk")
    {
        Ok(library) => library,
        Err(pkg_config::Error::Command { .. }) => {
            fail("pkg-config not found: apt-get install pkg-config libdpdk-dev")
        }
        Err(pkg_config::Error::Failure { output, .. })
            if String::from_utf8_lossy(&output.stderr).contains("version") =>
        {
            fail(&format!(
                "DPDK {MIN_DPDK} or newer required (pkg-config libdpdk is older): install a newer libdpdk-dev"
            ))
        }
        Err(_) => fail("DPDK not found by pkg-config: apt-get install libdpdk-dev pkg-config"),
    };
    println!("cargo:version={}", library.version);

    let cflags = dpdk_cflags();
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_else(|| fail("OUT_DIR not set")));
    let manifest =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| fail("no manifest dir")));
    let header = manifest.join("wrapper.h");
    let wrappers = out.join("static_fns");

    let mut builder = bindgen::Builder::default()
        .header(header.to_string_lossy())
        .clang_args(&cflags)
        .wrap_static_fns(true)
        .wrap_static_fns_path(&wrappers)
        .derive_default(true)
        .derive_debug(false)
        .layout_tests(false)
        .generate_comments(false)
        .prepend_enum_name(false)
        .default_enum_style(bindgen::EnumVariation::ModuleConsts)
        .allowlist_recursively(true)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
    for function in FUNCTIONS {
        builder = builder.allowlist_function(function);
    }
    for ty in TYPES {
        builder = builder.allowlist_type(ty);
    }
    builder = builder
        .allowlist_var("RTE_MEMPOOL_CACHE_MAX_SIZE")
        .allowlist_var("RING_F_SC_DEQ");

    // Without libclang bindgen panics deep inside clang-sys; say what to install instead.
    std::panic::set_hook(Box::new(|_| {}));
    let generated =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || builder.generate()));
    let _ = std::panic::take_hook();
    let bindings = match generated {
        Ok(Ok(bindings)) => bindings,
        Ok(Err(e)) => fail(&format!("bindgen could not parse the DPDK headers: {e}")),
        Err(_) => fail("libclang not found (bindgen needs it): apt-get install libclang-dev clang"),
    };
    bindings
        .write_to_file(out.join("bindings.rs"))
        .unwrap_or_else(|e| fail(&format!("cannot write bindings: {e}")));

    let mut cc = cc::Build::new();
    cc.file(wrappers.with_extension("c"))
        .include(&manifest)
        .warnings(false)
        .opt_level(3);
    for flag in &cflags {
        cc.flag(flag);
    }
    if let Err(e) = cc.try_compile("pinhole_dpdk_static_fns") {
        fail(&format!("cannot compile the static-inline wrappers: {e}"));
    }
}

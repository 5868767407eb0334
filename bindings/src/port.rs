//! Ethdev ports: lookup by device name, capability-checked setup, statistics, stop/close.

use std::ffi::CString;
use std::sync::Arc;

use crate::error::{check, Error};
use crate::mempool::Mempool;
use crate::raw;

/// A DPDK ethdev port id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortId(pub u16);

/// What a device says it can do (the parts the setup checks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevInfo {
    /// Maximum RX queues.
    pub max_rx_queues: u16,
    /// Maximum TX queues.
    pub max_tx_queues: u16,
    /// RSS hash functions the device supports.
    pub flow_type_rss_offloads: u64,
    /// TX offloads offered.
    pub tx_offload_capa: u64,
    /// RSS hash key length in bytes (0: the driver did not say; 40 is the usual size).
    pub hash_key_size: u8,
}

/// How to set a port up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortConfig {
    /// RX queues (one per worker).
    pub rx_queues: u16,
    /// TX queues (one per worker).
    pub tx_queues: u16,
    /// Descriptors per RX queue (adjusted to the device's limits).
    pub rx_desc: u16,
    /// Descriptors per TX queue (adjusted to the device's limits).
    pub tx_desc: u16,
    /// Receive frames for every MAC address (a transparent forwarder needs it).
    pub promiscuous: bool,
}

/// Port counters as DPDK reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PortStats {
    /// Packets received.
    pub ipackets: u64,
    /// Packets sent.
    pub opackets: u64,
    /// Bytes received.
    pub ibytes: u64,
    /// Bytes sent.
    pub obytes: u64,
    /// Packets the hardware dropped (RX queues full).
    pub imissed: u64,
    /// Erroneous received packets.
    pub ierrors: u64,
    /// Failed transmissions.
    pub oerrors: u64,
    /// RX mbuf allocation failures.
    pub rx_nombuf: u64,
}

/// RSS hash functions we want when spreading flows over several RX queues.
pub fn wanted_rss_hf() -> u64 {
    // SAFETY: pure constant accessors.
    unsafe { raw::pinhole_eth_rss_ip() | raw::pinhole_eth_rss_udp() | raw::pinhole_eth_rss_tcp() }
}

/// The RSS hash functions to request: what we want, clamped to what the device offers.
/// Zero (RSS off) with a single RX queue.
pub fn rss_hf_for(rx_queues: u16, wanted: u64, offered: u64) -> u64 {
    if rx_queues > 1 {
        wanted & offered
    } else {
        0
    }
}

/// The RSS key length used when the device does not report one.
const DEFAULT_RSS_KEY_LEN: usize = 40;

/// A symmetric Toeplitz key of `len` bytes (0: the default 40): `0x6d5a` repeated.
///
/// With a key whose 16-bit halves repeat, the Toeplitz hash of (source, destination)
/// equals that of (destination, source) for addresses and ports alike, so both
/// directions of a flow land in one RX queue (Woo and Park, "Scalable TCP Session
/// Monitoring with Symmetric Receive-side Scaling").
pub fn symmetric_rss_key(len: u8) -> Vec<u8> {
    let len = match usize::from(len) {
        0 => DEFAULT_RSS_KEY_LEN,
        n => n,
    };
    [0x6d, 0x5a].iter().copied().cycle().take(len).collect()
}

/// Queue counts checked against the device's limits.
pub fn check_queues(name: &str, info: &DevInfo, cfg: &PortConfig) -> Result<(), Error> {
    if cfg.rx_queues > info.max_rx_queues {
        return Err(Error::TooManyQueues {
            port: name.to_owned(),
            direction: "RX",
            requested: cfg.rx_queues,
            max: info.max_rx_queues,
        });
    }
    if cfg.tx_queues > info.max_tx_queues {
        return Err(Error::TooManyQueues {
            port: name.to_owned(),
            direction: "TX",
            requested: cfg.tx_queues,
            max: info.max_tx_queues,
        });
    }
    Ok(())
}

/// `rte_eth_dev_configure` with RSS (`rss_hf`, the symmetric `key`) when `rss_hf` is not 0.
fn configure_device(
    id: PortId,
    cfg: &PortConfig,
    info: &DevInfo,
    rss_hf: u64,
    key: &[u8],
) -> Result<(), Error> {
    let mut conf = raw::rte_eth_conf::default();
    // Kept alive across the call: DPDK reads the key through this pointer.
    let mut key = key.to_vec();
    if rss_hf != 0 {
        conf.rxmode.mq_mode = raw::rte_eth_rx_mq_mode::RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
        conf.rx_adv_conf.rss_conf.rss_key = key.as_mut_ptr();
        conf.rx_adv_conf.rss_conf.rss_key_len = u8::try_from(key.len()).unwrap_or(u8::MAX);
    }
    // SAFETY: pure constant accessor.
    let fast_free = unsafe { raw::pinhole_eth_tx_offload_mbuf_fast_free() };
    // One pool, refcount 1 everywhere: fast free is valid whenever the device offers it.
    conf.txmode.offloads = info.tx_offload_capa & fast_free;
    // SAFETY: conf is a fully initialised rte_eth_conf and `key` outlives the call.
    check("rte_eth_dev_configure", unsafe {
        raw::rte_eth_dev_configure(id.0, cfg.rx_queues, cfg.tx_queues, &conf)
    })?;
    Ok(())
}

impl PortId {
    /// The port whose device name is `name` (a vdev name such as `net_pcap0` or a PCI address).
    pub fn by_name(name: &str) -> Result<PortId, Error> {
        let c_name = CString::new(name).map_err(|_| Error::NulInArgument(name.to_owned()))?;
        let mut id = 0u16;
        // SAFETY: c_name is a valid C string and id a valid out-pointer for the call.
        let ret = unsafe { raw::rte_eth_dev_get_port_by_name(c_name.as_ptr(), &mut id) };
        if ret < 0 {
            return Err(Error::NoSuchPort(name.to_owned()));
        }
        Ok(PortId(id))
    }

    /// The device's capabilities.
    pub fn info(self) -> Result<DevInfo, Error> {
        let mut info = raw::rte_eth_dev_info::default();
        // SAFETY: info is a valid out-parameter; DPDK fills it or returns an error.
        check("rte_eth_dev_info_get", unsafe {
            raw::rte_eth_dev_info_get(self.0, &mut info)
        })?;
        Ok(DevInfo {
            max_rx_queues: info.max_rx_queues,
            max_tx_queues: info.max_tx_queues,
            flow_type_rss_offloads: info.flow_type_rss_offloads,
            tx_offload_capa: info.tx_offload_capa,
            hash_key_size: info.hash_key_size,
        })
    }

    /// The NUMA socket of the device (`-1`/`SOCKET_ID_ANY` when unknown).
    pub fn socket(self) -> i32 {
        // SAFETY: plain lookup, returns SOCKET_ID_ANY or -1 for a bad port.
        unsafe { raw::rte_eth_dev_socket_id(self.0) }
    }
}

/// What a queue handle keeps alive: while any exists, the port cannot be stopped.
#[derive(Debug)]
pub(crate) struct Live {
    pub(crate) port: u16,
}

/// A configured port. Holds its mempool so the pool outlives the queues that use it.
#[derive(Debug)]
pub struct Port {
    id: PortId,
    name: String,
    rx_queues: u16,
    tx_queues: u16,
    rss_hf: u64,
    started: bool,
    closed: bool,
    live: Arc<Live>,
    _pool: Arc<Mempool>,
}

impl Port {
    /// Configure `name` with `cfg`, checking the request against the device's capabilities,
    /// and set up its queues with buffers from `pool`.
    pub fn configure(name: &str, cfg: &PortConfig, pool: &Arc<Mempool>) -> Result<Port, Error> {
        let id = PortId::by_name(name)?;
        let info = id.info()?;
        check_queues(name, &info, cfg)?;

        let wanted_hf = rss_hf_for(cfg.rx_queues, wanted_rss_hf(), info.flow_type_rss_offloads);
        let key = symmetric_rss_key(info.hash_key_size);
        let mut rss_hf = wanted_hf;
        if let Err(e) = configure_device(id, cfg, &info, rss_hf, &key) {
            if rss_hf == 0 {
                return Err(e);
            }
            // A device that offers RSS but refuses our key: run without RSS (the engine
            // then steers flows in software) rather than not at all.
            tracing::warn!(port = name, error = %e, "symmetric RSS refused; RSS off");
            rss_hf = 0;
            configure_device(id, cfg, &info, rss_hf, &key)?;
        }
        let (mut rx_desc, mut tx_desc) = (cfg.rx_desc, cfg.tx_desc);
        // SAFETY: both out-pointers are valid u16s.
        check("rte_eth_dev_adjust_nb_rx_tx_desc", unsafe {
            raw::rte_eth_dev_adjust_nb_rx_tx_desc(id.0, &mut rx_desc, &mut tx_desc)
        })?;
        let socket = u32::try_from(id.socket()).unwrap_or(0);
        for q in 0..cfg.rx_queues {
            // SAFETY: the port is configured with rx_queues queues; null rxconf selects the
            // driver defaults; the pool outlives the queue (held by the Port).
            check("rte_eth_rx_queue_setup", unsafe {
                raw::rte_eth_rx_queue_setup(
                    id.0,
                    q,
                    rx_desc,
                    socket,
                    std::ptr::null(),
                    pool.as_ptr(),
                )
            })?;
        }
        for q in 0..cfg.tx_queues {
            // SAFETY: as above; null txconf selects the driver defaults.
            check("rte_eth_tx_queue_setup", unsafe {
                raw::rte_eth_tx_queue_setup(id.0, q, tx_desc, socket, std::ptr::null())
            })?;
        }
        if cfg.promiscuous {
            // SAFETY: valid configured port. Some virtual devices do not support it; that
            // is harmless for them, so the result is only logged.
            let ret = unsafe { raw::rte_eth_promiscuous_enable(id.0) };
            if ret < 0 {
                tracing::debug!(port = name, error = %Error::dpdk("rte_eth_promiscuous_enable", ret), "promiscuous mode not set");
            }
        }
        Ok(Port {
            id,
            name: name.to_owned(),
            rx_queues: cfg.rx_queues,
            tx_queues: cfg.tx_queues,
            rss_hf,
            started: false,
            closed: false,
            live: Arc::new(Live { port: id.0 }),
            _pool: Arc::clone(pool),
        })
    }

    /// The port id.
    pub fn id(&self) -> PortId {
        self.id
    }

    /// The device name it was configured by.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The RSS hash functions in effect (0: RSS off).
    pub fn rss_hf(&self) -> u64 {
        self.rss_hf
    }

    /// Whether RSS spreads flows over the RX queues with the symmetric key (both
    /// directions of a flow in one queue).
    pub fn rss_symmetric(&self) -> bool {
        // RSS is only ever turned on with the symmetric key.
        self.rss_hf != 0
    }

    /// Start the port.
    pub fn start(&mut self) -> Result<(), Error> {
        // SAFETY: the port is configured with all its queues set up.
        check("rte_eth_dev_start", unsafe {
            raw::rte_eth_dev_start(self.id.0)
        })?;
        self.started = true;
        Ok(())
    }

    /// A handle on RX queue `queue` of this started port.
    pub fn rx_queue(&self, queue: u16) -> Option<crate::burst::RxQueue> {
        (self.started && queue < self.rx_queues)
            .then(|| crate::burst::RxQueue::new(Arc::clone(&self.live), queue))
    }

    /// A handle on TX queue `queue` of this started port.
    pub fn tx_queue(&self, queue: u16) -> Option<crate::burst::TxQueue> {
        (self.started && queue < self.tx_queues)
            .then(|| crate::burst::TxQueue::new(Arc::clone(&self.live), queue))
    }

    /// The port's counters.
    pub fn stats(&self) -> Result<PortStats, Error> {
        let mut s = raw::rte_eth_stats::default();
        // SAFETY: s is a valid out-parameter.
        check("rte_eth_stats_get", unsafe {
            raw::rte_eth_stats_get(self.id.0, &mut s)
        })?;
        Ok(PortStats {
            ipackets: s.ipackets,
            opackets: s.opackets,
            ibytes: s.ibytes,
            obytes: s.obytes,
            imissed: s.imissed,
            ierrors: s.ierrors,
            oerrors: s.oerrors,
            rx_nombuf: s.rx_nombuf,
        })
    }

    /// Stop the port. Refused while queue handles exist (a worker may still poll them).
    pub fn stop(&mut self) -> Result<(), Error> {
        if Arc::strong_count(&self.live) > 1 {
            return Err(Error::dpdk("rte_eth_dev_stop", -libc::EBUSY));
        }
        if self.started {
            // SAFETY: no queue handle exists, so no thread polls this port.
            check("rte_eth_dev_stop", unsafe {
                raw::rte_eth_dev_stop(self.id.0)
            })?;
            self.started = false;
        }
        Ok(())
    }

    /// Stop (if needed) and close the port; drivers flush their output here (net_pcap).
    pub fn close(mut self) -> Result<(), Error> {
        self.stop()?;
        self.closed = true;
        // SAFETY: the port is stopped and no queue handle exists.
        check("rte_eth_dev_close", unsafe {
            raw::rte_eth_dev_close(self.id.0)
        })?;
        Ok(())
    }
}

impl Drop for Port {
    fn drop(&mut self) {
        if self.closed || Arc::strong_count(&self.live) > 1 {
            return;
        }
        if self.started {
            // SAFETY: no queue handle exists (checked above), so nothing polls the port.
            let _ = unsafe { raw::rte_eth_dev_stop(self.id.0) };
        }
        // SAFETY: the port is stopped and unused.
        let _ = unsafe { raw::rte_eth_dev_close(self.id.0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(max_rx: u16, max_tx: u16) -> DevInfo {
        DevInfo {
            max_rx_queues: max_rx,
            max_tx_queues: max_tx,
            flow_type_rss_offloads: 0,
            tx_offload_capa: 0,
            hash_key_size: 40,
        }
    }

    fn cfg(rx: u16, tx: u16) -> PortConfig {
        PortConfig {
            rx_queues: rx,
            tx_queues: tx,
            rx_desc: 512,
            tx_desc: 512,
            promiscuous: true,
        }
    }

    #[test]
    fn queue_counts_beyond_the_device_limit_are_refused() {
        assert!(check_queues("p", &info(2, 2), &cfg(2, 2)).is_ok());
        let e = check_queues("net_pcap0", &info(1, 4), &cfg(2, 2))
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("port \"net_pcap0\" offers at most 1 RX queues, 2 needed")
        );
        assert!(matches!(
            check_queues("p", &info(4, 1), &cfg(2, 2)),
            Err(Error::TooManyQueues {
                direction: "TX",
                ..
            })
        ));
    }

    #[test]
    fn rss_is_clamped_to_what_the_device_offers_and_off_for_one_queue() {
        assert_eq!(rss_hf_for(4, 0b1110, 0b0110), 0b0110);
        assert_eq!(rss_hf_for(4, 0b1110, 0), 0);
        assert_eq!(rss_hf_for(1, 0b1110, 0b1110), 0);
    }

    /// The Toeplitz hash as NICs compute it (for every set input bit, XOR in the 32
    /// key bits starting at that bit).
    fn toeplitz(key: &[u8], input: &[u8]) -> u32 {
        let bit = |i: usize| (key.get(i / 8).copied().unwrap_or(0) >> (7 - i % 8)) & 1;
        let mut hash = 0u32;
        for (byte_index, byte) in input.iter().enumerate() {
            for b in 0..8 {
                if byte & (0x80 >> b) != 0 {
                    let start = byte_index * 8 + b;
                    let window = (0..32).fold(0u32, |w, i| (w << 1) | u32::from(bit(start + i)));
                    hash ^= window;
                }
            }
        }
        hash
    }

    #[test]
    fn the_symmetric_key_hashes_both_directions_of_a_flow_alike() {
        let key = symmetric_rss_key(40);
        assert_eq!(key.len(), 40);
        assert_eq!(symmetric_rss_key(0).len(), 40);
        assert_eq!(symmetric_rss_key(52).len(), 52);
        // RSS input for IPv4/UDP: source address, destination address, source port,
        // destination port.
        let tuple = |src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16| {
            let mut v = Vec::new();
            v.extend_from_slice(&src);
            v.extend_from_slice(&dst);
            v.extend_from_slice(&sp.to_be_bytes());
            v.extend_from_slice(&dp.to_be_bytes());
            v
        };
        let mut distinct = std::collections::HashSet::new();
        for i in 0..200u16 {
            let [hi, lo] = i.to_be_bytes();
            let a = [10, 0, hi, lo];
            let b = [192, 0, 2, lo];
            let forward = toeplitz(&key, &tuple(a, b, 40000 + i, 5060));
            let reverse = toeplitz(&key, &tuple(b, a, 5060, 40000 + i));
            assert_eq!(forward, reverse, "flow {i}");
            distinct.insert(forward);
        }
        assert!(distinct.len() > 150, "the key still spreads flows");
        // The Microsoft default key is not symmetric: the test can tell the difference.
        let ms: Vec<u8> = vec![
            0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
            0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
            0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
        ];
        let a = [10, 0, 0, 1];
        let b = [192, 0, 2, 7];
        assert_ne!(
            toeplitz(&ms, &tuple(a, b, 40000, 5060)),
            toeplitz(&ms, &tuple(b, a, 5060, 40000))
        );
    }
}

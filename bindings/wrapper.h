/* The DPDK API surface pinhole binds. bindgen reads this file; its `static inline`
 * functions (and DPDK's) are wrapped into real symbols by bindgen's wrap_static_fns. */
#include <rte_config.h>
#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_lcore.h>
#include <rte_launch.h>
#include <rte_cycles.h>
#include <rte_ring.h>

/* rte_errno is a per-lcore TLS macro, not a symbol: read it through a function. */
static inline int pinhole_rte_errno(void) { return rte_errno; }

/* The RSS and offload flags are function-like macros (RTE_BIT64) bindgen cannot evaluate;
 * exporting them as functions keeps the values tied to the installed headers. */
static inline uint64_t pinhole_eth_rss_ip(void) { return RTE_ETH_RSS_IP; }
static inline uint64_t pinhole_eth_rss_udp(void) { return RTE_ETH_RSS_UDP; }
static inline uint64_t pinhole_eth_rss_tcp(void) { return RTE_ETH_RSS_TCP; }
static inline uint64_t pinhole_eth_tx_offload_mbuf_fast_free(void) { return RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE; }
static inline uint16_t pinhole_mbuf_default_buf_size(void) { return RTE_MBUF_DEFAULT_BUF_SIZE; }
static inline unsigned pinhole_max_lcore(void) { return RTE_MAX_LCORE; }

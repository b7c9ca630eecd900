/*
 * port.c - bringing up the one Ethernet port the dataplane serves.
 *
 * One RX and one TX queue per worker. Where the port can steer by UDP
 * destination port (rte_flow), each worker's port number is steered to its
 * queue, so a room's packets land on the core that owns the room; where it
 * cannot (virtual PMDs, simple NICs) RSS or a single queue spreads packets
 * and workers hand misdelivered ones to the right worker through rings.
 * Checksum offloads are used when the port has them and reported back so
 * the parser and the egress path skip the software work.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_flow.h>
#include <rte_log.h>

#include "dp.h"

#define RTE_LOGTYPE_SLUICE RTE_LOGTYPE_USER1

static void port_conf(const struct rte_eth_dev_info *di, uint16_t n_queues,
		      struct rte_eth_conf *conf, unsigned *rx_flags, bool *tx_csum)
{
	uint64_t rx_ck = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	uint64_t tx_ck = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;

	memset(conf, 0, sizeof(*conf));
	*rx_flags = 0;
	*tx_csum = false;
	if ((di->rx_offload_capa & rx_ck) == rx_ck) {
		conf->rxmode.offloads |= rx_ck;
		*rx_flags = SL_NET_CSUM_IP_OK | SL_NET_CSUM_L4_OK;
	}
	if ((di->tx_offload_capa & tx_ck) == tx_ck) {
		conf->txmode.offloads |= tx_ck;
		*tx_csum = true;
	}
	if (di->tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
		conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	if (n_queues > 1 && (di->flow_type_rss_offloads & RTE_ETH_RSS_UDP)) {
		conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf->rx_adv_conf.rss_conf.rss_hf =
			di->flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
	}
}

/* Steer UDP to base_port + q onto queue q. Returns 0 if every rule took. */
static int flow_steer(uint16_t port, const struct sl_dp_config *cfg, uint16_t n_queues)
{
	struct rte_flow_error err;

	for (uint16_t q = 0; q < n_queues; q++) {
		for (int v6 = 0; v6 < 2; v6++) {
			struct rte_flow_item_udp udp_spec = { .hdr.dst_port = rte_cpu_to_be_16(
								      cfg->base_port + q) };
			struct rte_flow_item_udp udp_mask = { .hdr.dst_port = RTE_BE16(0xffff) };
			struct rte_flow_item pattern[] = {
				{ .type = RTE_FLOW_ITEM_TYPE_ETH },
				{ .type = v6 ? RTE_FLOW_ITEM_TYPE_IPV6 : RTE_FLOW_ITEM_TYPE_IPV4 },
				{ .type = RTE_FLOW_ITEM_TYPE_UDP,
				  .spec = &udp_spec,
				  .mask = &udp_mask },
				{ .type = RTE_FLOW_ITEM_TYPE_END },
			};
			struct rte_flow_action_queue queue = { .index = q };
			struct rte_flow_action actions[] = {
				{ .type = RTE_FLOW_ACTION_TYPE_QUEUE, .conf = &queue },
				{ .type = RTE_FLOW_ACTION_TYPE_END },
			};
			struct rte_flow_attr attr = { .ingress = 1 };

			if ((v6 && !cfg->local.has_ip6) || (!v6 && !cfg->local.has_ip4))
				continue;
			if (rte_flow_validate(port, &attr, pattern, actions, &err) != 0 ||
			    !rte_flow_create(port, &attr, pattern, actions, &err)) {
				rte_flow_flush(port, &err);
				return -ENOTSUP;
			}
		}
	}
	return 0;
}

static int queues_setup(uint16_t port, uint16_t n_queues, const struct sl_dp_config *cfg,
			struct rte_mempool *pool, const struct rte_eth_conf *conf)
{
	uint16_t rxd = cfg->rx_desc, txd = cfg->tx_desc;
	int socket = rte_eth_dev_socket_id(port);
	int rc;

	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd);
	if (rc != 0)
		return rc;
	for (uint16_t q = 0; q < n_queues; q++) {
		struct rte_eth_txconf txc;
		struct rte_eth_dev_info di;

		rc = rte_eth_rx_queue_setup(port, q, rxd, socket, NULL, pool);
		if (rc != 0)
			return rc;
		rc = rte_eth_dev_info_get(port, &di);
		if (rc != 0)
			return rc;
		txc = di.default_txconf;
		txc.offloads = conf->txmode.offloads;
		rc = rte_eth_tx_queue_setup(port, q, txd, socket, &txc);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int sl_port_setup(const struct sl_dp_config *cfg, uint16_t n_queues, struct rte_mempool *pool,
		  unsigned *rx_flags, bool *tx_csum, bool *flow_steering)
{
	uint16_t port = cfg->port_id;
	struct rte_eth_dev_info di;
	struct rte_eth_conf conf;
	int rc;

	if (!rte_eth_dev_is_valid_port(port)) {
		fprintf(stderr, "port-id: no port %u (%u available)\n", port,
			rte_eth_dev_count_avail());
		return -ENODEV;
	}
	rc = rte_eth_dev_info_get(port, &di);
	if (rc != 0)
		return rc;
	if (di.max_rx_queues < n_queues || di.max_tx_queues < n_queues) {
		fprintf(stderr,
			"lcores: port %u has %u rx / %u tx queues, %u workers need one each\n",
			port, di.max_rx_queues, di.max_tx_queues, n_queues);
		return -EINVAL;
	}
	port_conf(&di, n_queues, &conf, rx_flags, tx_csum);
	rc = rte_eth_dev_configure(port, n_queues, n_queues, &conf);
	if (rc != 0)
		return rc;
	rc = queues_setup(port, n_queues, cfg, pool, &conf);
	if (rc != 0)
		return rc;
	if (cfg->has_mac) {
		struct rte_ether_addr mac;

		memcpy(mac.addr_bytes, cfg->local.mac, 6);
		rc = rte_eth_dev_default_mac_addr_set(port, &mac);
		if (rc != 0) {
			fprintf(stderr, "mac: port %u refuses a new MAC (%s)\n", port,
				rte_strerror(-rc));
			return rc;
		}
	}
	if (cfg->mtu != RTE_ETHER_MTU)
		rte_eth_dev_set_mtu(port, cfg->mtu); /* virtual ports may refuse: fine */
	rc = rte_eth_dev_start(port);
	if (rc != 0)
		return rc;
	rte_eth_allmulticast_enable(port); /* NDP to solicited-node groups */
	*flow_steering = n_queues > 1 && flow_steer(port, cfg, n_queues) == 0;
	return 0;
}

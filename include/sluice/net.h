/*
 * net.h - layer 2 to 4 parsing, the on-the-spot responders (ARP, IPv6
 * neighbour discovery, ICMP/ICMPv6 echo), RFC 7983 demultiplexing and
 * building of outgoing Ethernet/IP/UDP headers.
 *
 * Everything here works on plain byte buffers, knows nothing of DPDK and
 * reads no byte it has not bounds-checked first, so the same code runs in
 * the dataplane, the unit tests, the fuzzers and the bench generator.
 * Multi-byte fields in the buffers are in network order.
 */
#ifndef SLUICE_NET_H
#define SLUICE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_ETH_HLEN       14
#define SL_VLAN_HLEN      4
#define SL_IP4_HLEN       20
#define SL_IP6_HLEN       40
#define SL_UDP_HLEN       8
#define SL_ETHERTYPE_IPV4 0x0800
#define SL_ETHERTYPE_ARP  0x0806
#define SL_ETHERTYPE_VLAN 0x8100
#define SL_ETHERTYPE_IPV6 0x86dd
#define SL_IPPROTO_ICMP   1
#define SL_IPPROTO_UDP    17
#define SL_IPPROTO_ICMPV6 58

/* What a frame is, once parsed. */
enum sl_net_kind {
	SL_NET_UDP = 1,    /* IPv4/IPv6 UDP to one of our addresses */
	SL_NET_ARP,        /* ARP request for one of our IPv4 addresses */
	SL_NET_ARP_REPLY,  /* ARP reply to us (neighbour information) */
	SL_NET_ICMP4_ECHO, /* echo request to our IPv4 address */
	SL_NET_ICMP6_ECHO, /* echo request to our IPv6 address */
	SL_NET_NDP_NS,     /* neighbour solicitation for our IPv6 address */
};

/* Why a frame was dropped (maps onto the SL_CNT_drop_* counters). */
enum sl_net_verdict {
	SL_NET_OK = 0,
	SL_NET_DROP_RUNT,       /* shorter than the headers it claims */
	SL_NET_DROP_L2,         /* ethertype we do not speak, bad VLAN nesting */
	SL_NET_DROP_L3,         /* bad IP version/IHL/length, fragment, options we refuse */
	SL_NET_DROP_L4,         /* bad UDP length, protocol we do not serve, bad ICMP */
	SL_NET_DROP_CHECKSUM,   /* IPv4 header, UDP or ICMP checksum wrong */
	SL_NET_DROP_NOT_FOR_US, /* destination is not one of our addresses */
};

/* Our addresses, as configured. */
struct sl_net_local {
	uint8_t mac[6];
	bool has_ip4;
	bool has_ip6;
	uint8_t ip4[4];
	uint8_t ip6[16];
	uint8_t ip6_ll[16]; /* link-local, derived from the MAC (EUI-64) */
};

/* Result of sl_net_parse; offsets are from the start of the frame. */
struct sl_net_info {
	uint8_t kind;       /* enum sl_net_kind */
	uint8_t ip_version; /* 4 or 6, 0 for ARP */
	uint8_t has_vlan;
	uint8_t ttl; /* IPv4 TTL / IPv6 hop limit */
	uint16_t vlan_tci;
	uint16_t l3_off;
	uint16_t l4_off;
	uint16_t payload_off; /* UDP payload, ICMP message, ARP body */
	uint16_t payload_len;
	uint16_t src_port; /* network order */
	uint16_t dst_port; /* network order */
	uint8_t src_mac[6];
	uint8_t src_ip[16]; /* IPv4 in the first 4 bytes */
	uint8_t dst_ip[16];
};

/* Flags for sl_net_parse. */
#define SL_NET_CSUM_IP_OK 1u /* the NIC verified the IPv4 header checksum */
#define SL_NET_CSUM_L4_OK 2u /* the NIC verified the UDP/ICMP checksum */

/*
 * Parse one Ethernet frame (at most one VLAN tag). Accepts only what is for
 * us (our MAC or broadcast/multicast as the protocol needs): UDP to our IP,
 * ARP for our IPv4, NS for our IPv6 (or its solicited-node group), echo
 * requests. IP fragments and IPv4 options are refused. UDP with checksum 0
 * over IPv4 is accepted; over IPv6 it is refused. Fills *out on SL_NET_OK.
 */
enum sl_net_verdict sl_net_parse(const uint8_t *frame, size_t len, const struct sl_net_local *local,
				 unsigned flags, struct sl_net_info *out);

/*
 * Responders: rewrite a request in place into its answer, addressed back to
 * where it came from. Each returns the new frame length (never more than
 * cap, never more than the request), or 0 if the frame does not qualify.
 */
size_t sl_net_arp_reply(uint8_t *frame, size_t len, size_t cap, const struct sl_net_info *in,
			const struct sl_net_local *local);
size_t sl_net_icmp4_echo_reply(uint8_t *frame, size_t len, size_t cap, const struct sl_net_info *in,
			       const struct sl_net_local *local);
size_t sl_net_icmp6_echo_reply(uint8_t *frame, size_t len, size_t cap, const struct sl_net_info *in,
			       const struct sl_net_local *local);
/* Neighbour advertisement (solicited, override, target link-layer option). */
size_t sl_net_ndp_na(uint8_t *frame, size_t len, size_t cap, const struct sl_net_info *in,
		     const struct sl_net_local *local);

/* RFC 7983 first-byte classes. */
enum sl_demux_class {
	SL_DEMUX_DROP = 0,
	SL_DEMUX_STUN, /* 0-3 */
	SL_DEMUX_ZRTP, /* 16-19: dropped by us, named for the counters */
	SL_DEMUX_DTLS, /* 20-63 */
	SL_DEMUX_TURN, /* 64-79: dropped */
	SL_DEMUX_RTP,  /* 128-191 with an RTP payload type */
	SL_DEMUX_RTCP, /* 128-191 with payload type 192-223 (RFC 5761) */
};

/* Classify a UDP payload; len 0 -> SL_DEMUX_DROP. */
enum sl_demux_class sl_demux(const uint8_t *p, size_t len);

/* What an outgoing UDP datagram needs for its headers. */
struct sl_net_flow {
	uint8_t family; /* 4 or 6 */
	uint8_t has_vlan;
	uint16_t vlan_tci;
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	uint8_t src_ip[16];
	uint8_t dst_ip[16];
	uint16_t src_port; /* network order */
	uint16_t dst_port; /* network order */
};

/* Header length for a flow: 42/46 (IPv4) or 62/66 (IPv6). */
size_t sl_net_hdr_len(const struct sl_net_flow *f);

/*
 * Write Ethernet [+VLAN] + IP + UDP headers for a payload of payload_len
 * bytes that follows them at hdr + sl_net_hdr_len(f). The IPv4 header
 * checksum is always filled. The UDP checksum: if udp_csum is true it is
 * computed over the payload (which must already be in place), else it is
 * left 0 for IPv4 and set to the pseudo-header sum for IPv6 (for a NIC's
 * offload to finish). IPv4 TTL/IPv6 hop limit 64, DF set, id 0.
 * Returns the header length.
 */
size_t sl_net_write_udp(uint8_t *hdr, const struct sl_net_flow *f, size_t payload_len,
			bool udp_csum);

/* The EUI-64 link-local address (fe80::/64) derived from a MAC. */
void sl_net_ip6_link_local(const uint8_t mac[6], uint8_t out[16]);

/* Internet checksum helpers (RFC 1071), exposed for tests and the bench. */
uint32_t sl_net_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t sl_net_csum_fold(uint32_t sum);

#endif

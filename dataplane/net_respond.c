/*
 * net_respond.c - answers the dataplane gives on the spot: ARP replies,
 * IPv6 neighbour advertisements and ICMP/ICMPv6 echo replies.
 *
 * Each answer is the request rewritten in place: addresses swapped, type
 * changed, checksum recomputed. That needs no allocation, keeps the VLAN
 * tag the request came with, and guarantees an answer is never larger than
 * what asked for it (no amplification). Each function re-checks the fields
 * it relies on, so it is safe to call on any frame sl_net_parse accepted.
 */
#include <string.h>

#include <sluice/net.h>

#include "bytes.h"

/* Reply at layer 2: back to the sender, from us. */
static void swap_mac(uint8_t *f, const struct sl_net_local *l)
{
	memmove(f, f + 6, 6);
	memcpy(f + 6, l->mac, 6);
}

size_t sl_net_arp_reply(uint8_t *frame, size_t len, size_t cap, const struct sl_net_info *in,
			const struct sl_net_local *local)
{
	uint8_t *a = frame + in->l3_off, sender_mac[6], sender_ip[4];

	if (in->kind != SL_NET_ARP || len > cap || len < (size_t)in->l3_off + 28 || !local->has_ip4)
		return 0;
	memcpy(sender_mac, a + 8, 6);
	memcpy(sender_ip, a + 14, 4);
	wr16(a + 6, 2);
	memcpy(a + 8, local->mac, 6);
	memcpy(a + 14, local->ip4, 4);
	memcpy(a + 18, sender_mac, 6);
	memcpy(a + 24, sender_ip, 4);
	swap_mac(frame, local);
	return len;
}

size_t sl_net_icmp4_echo_reply(uint8_t *frame, size_t len, size_t cap, const struct sl_net_info *in,
			       const struct sl_net_local *local)
{
	uint8_t *ip = frame + in->l3_off, *icmp = frame + in->l4_off;
	size_t end = (size_t)in->l4_off + in->payload_len;

	if (in->kind != SL_NET_ICMP4_ECHO || len > cap || end > len || in->payload_len < 8)
		return 0;
	memcpy(ip + 16, ip + 12, 4);
	memcpy(ip + 12, local->ip4, 4);
	ip[8] = 64;
	wr16(ip + 10, 0);
	wr16(ip + 10, sl_net_csum_fold(sl_net_csum_add(0, ip, SL_IP4_HLEN)));
	icmp[0] = 0;
	wr16(icmp + 2, 0);
	wr16(icmp + 2, sl_net_csum_fold(sl_net_csum_add(0, icmp, in->payload_len)));
	swap_mac(frame, local);
	return end; /* drop any Ethernet padding */
}

/* ICMPv6 checksum over the pseudo-header and the message. */
static void icmp6_csum(uint8_t *ip, uint8_t *icmp, size_t icmp_len)
{
	uint32_t s = sl_net_csum_add(0, ip + 8, 32);

	s += SL_IPPROTO_ICMPV6 + (uint32_t)icmp_len;
	wr16(icmp + 2, 0);
	wr16(icmp + 2, sl_net_csum_fold(sl_net_csum_add(s, icmp, icmp_len)));
}

size_t sl_net_icmp6_echo_reply(uint8_t *frame, size_t len, size_t cap, const struct sl_net_info *in,
			       const struct sl_net_local *local)
{
	uint8_t *ip = frame + in->l3_off, *icmp = frame + in->l4_off;
	size_t end = (size_t)in->l4_off + in->payload_len;

	if (in->kind != SL_NET_ICMP6_ECHO || len > cap || end > len || in->payload_len < 8)
		return 0;
	/* Answer from the address that was pinged (global or link-local). */
	memcpy(ip + 24, ip + 8, 16);
	memcpy(ip + 8, in->dst_ip, 16);
	ip[7] = 64;
	icmp[0] = 129;
	icmp6_csum(ip, icmp, in->payload_len);
	swap_mac(frame, local);
	return end;
}

size_t sl_net_ndp_na(uint8_t *frame, size_t len, size_t cap, const struct sl_net_info *in,
		     const struct sl_net_local *local)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	static const uint8_t unspec[16];
	uint8_t *ip = frame + in->l3_off, *icmp = frame + in->l4_off, target[16];
	size_t na_len, end;
	bool dad, mcast;

	if (in->kind != SL_NET_NDP_NS || len > cap || in->payload_len < 24 ||
	    (size_t)in->l4_off + in->payload_len > len)
		return 0;
	/*
	 * The NA never outgrows the NS: with a target link-layer option (32
	 * bytes) when the NS had room for one, else bare (24), which RFC 4861
	 * allows only in answer to a unicast solicitation.
	 */
	mcast = in->dst_ip[0] == 0xff;
	na_len = in->payload_len >= 32 ? 32 : 24;
	if (na_len == 24 && mcast)
		return 0;
	end = (size_t)in->l4_off + na_len;
	memcpy(target, icmp + 8, 16);
	dad = !memcmp(in->src_ip, unspec, 16);
	memcpy(ip + 24, dad ? all_nodes : in->src_ip, 16);
	memcpy(ip + 8, target, 16);
	wr16(ip + 4, (uint16_t)na_len);
	ip[7] = 255;
	icmp[0] = 136;
	icmp[1] = 0;
	memset(icmp + 4, 0, 4);
	icmp[4] = dad ? 0x20 : 0x60; /* override, and solicited unless DAD */
	if (na_len == 32) {
		icmp[24] = 2; /* target link-layer address option */
		icmp[25] = 1;
		memcpy(icmp + 26, local->mac, 6);
	}
	icmp6_csum(ip, icmp, na_len);
	if (dad) {
		static const uint8_t mc[6] = { 0x33, 0x33, 0, 0, 0, 1 };

		memcpy(frame, mc, 6);
		memcpy(frame + 6, local->mac, 6);
	} else {
		swap_mac(frame, local);
	}
	return end;
}

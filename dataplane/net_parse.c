/*
 * net_parse.c - layer 2 to 4 parsing of one received frame.
 *
 * One pass from the Ethernet header to the UDP payload or ICMP message,
 * refusing early and saying why: the verdict becomes a drop counter. Only
 * what the dataplane serves is accepted - UDP, ARP, neighbour solicitation
 * and echo requests addressed to us - and only in its plain form (no IP
 * options, fragments or extension headers), which is all WebRTC needs and
 * keeps the attack surface small. Every read is preceded by a bounds check;
 * multi-byte fields are read bytewise, so alignment never matters.
 */
#include <string.h>

#include <sluice/net.h>

#include "bytes.h"

#define ARP_LEN            28
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_NS           135
#define ICMP4_ECHO_REQUEST 8

uint32_t sl_net_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t s = sum;

	while (len >= 8) {
		s += (uint64_t)rd16(p) + rd16(p + 2) + rd16(p + 4) + rd16(p + 6);
		p += 8;
		len -= 8;
	}
	while (len >= 2) {
		s += (uint64_t)rd16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		s += (uint64_t)p[0] << 8;
	while (s >> 32)
		s = (s & 0xffffffff) + (s >> 32);
	return (uint32_t)s;
}

uint16_t sl_net_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Pseudo-header sum for UDP/ICMPv6 over IPv4 or IPv6. */
static uint32_t pseudo_sum(const struct sl_net_info *ni, uint8_t proto, size_t l4_len)
{
	size_t alen = ni->ip_version == 4 ? 4 : 16;
	uint32_t s = sl_net_csum_add(0, ni->src_ip, alen);

	s = sl_net_csum_add(s, ni->dst_ip, alen);
	return s + proto + (uint32_t)l4_len;
}

static bool is_ours6(const struct sl_net_local *l, const uint8_t *ip)
{
	return l->has_ip6 && (!memcmp(ip, l->ip6, 16) || !memcmp(ip, l->ip6_ll, 16));
}

static bool is_solicited_node(const struct sl_net_local *l, const uint8_t *ip)
{
	static const uint8_t pfx[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff };

	if (!l->has_ip6 || memcmp(ip, pfx, 13) != 0)
		return false;
	return !memcmp(ip + 13, l->ip6 + 13, 3) || !memcmp(ip + 13, l->ip6_ll + 13, 3);
}

static enum sl_net_verdict parse_arp(const uint8_t *f, size_t len, const struct sl_net_local *l,
				     struct sl_net_info *out)
{
	const uint8_t *a = f + out->l3_off;
	uint16_t op;

	if (len < (size_t)out->l3_off + ARP_LEN)
		return SL_NET_DROP_RUNT;
	/* Ethernet/IPv4 only: htype 1, ptype 0x0800, hlen 6, plen 4. */
	if (rd16(a) != 1 || rd16(a + 2) != SL_ETHERTYPE_IPV4 || a[4] != 6 || a[5] != 4)
		return SL_NET_DROP_L2;
	op = rd16(a + 6);
	if ((op != 1 && op != 2) || !l->has_ip4 || memcmp(a + 24, l->ip4, 4) != 0)
		return SL_NET_DROP_NOT_FOR_US;
	out->kind = op == 1 ? SL_NET_ARP : SL_NET_ARP_REPLY;
	out->payload_off = out->l3_off;
	out->payload_len = ARP_LEN;
	memcpy(out->src_ip, a + 14, 4);
	memcpy(out->dst_ip, a + 24, 4);
	return SL_NET_OK;
}

static enum sl_net_verdict parse_udp(const uint8_t *f, size_t l4_len, unsigned flags,
				     struct sl_net_info *out)
{
	const uint8_t *u = f + out->l4_off;
	uint16_t ulen, csum;

	if (l4_len < SL_UDP_HLEN)
		return SL_NET_DROP_RUNT;
	ulen = rd16(u + 4);
	if (ulen < SL_UDP_HLEN || ulen != l4_len)
		return SL_NET_DROP_L4;
	csum = rd16(u + 6);
	if (csum == 0 && out->ip_version == 6)
		return SL_NET_DROP_CHECKSUM;
	if (csum != 0 && !(flags & SL_NET_CSUM_L4_OK) &&
	    sl_net_csum_fold(sl_net_csum_add(pseudo_sum(out, SL_IPPROTO_UDP, ulen), u, ulen)) != 0)
		return SL_NET_DROP_CHECKSUM;
	memcpy(&out->src_port, u, 2);
	memcpy(&out->dst_port, u + 2, 2);
	out->kind = SL_NET_UDP;
	out->payload_off = (uint16_t)(out->l4_off + SL_UDP_HLEN);
	out->payload_len = (uint16_t)(ulen - SL_UDP_HLEN);
	return SL_NET_OK;
}

static enum sl_net_verdict parse_icmp4(const uint8_t *f, size_t l4_len, unsigned flags,
				       struct sl_net_info *out)
{
	const uint8_t *p = f + out->l4_off;

	if (l4_len < 8)
		return SL_NET_DROP_RUNT;
	if (p[0] != ICMP4_ECHO_REQUEST || p[1] != 0)
		return SL_NET_DROP_L4;
	if (!(flags & SL_NET_CSUM_L4_OK) && sl_net_csum_fold(sl_net_csum_add(0, p, l4_len)) != 0)
		return SL_NET_DROP_CHECKSUM;
	out->kind = SL_NET_ICMP4_ECHO;
	out->payload_off = out->l4_off;
	out->payload_len = (uint16_t)l4_len;
	return SL_NET_OK;
}

static enum sl_net_verdict parse_ipv4(const uint8_t *f, size_t len, const struct sl_net_local *l,
				      unsigned flags, struct sl_net_info *out)
{
	const uint8_t *ip = f + out->l3_off;
	size_t tot;

	if (len < (size_t)out->l3_off + SL_IP4_HLEN)
		return SL_NET_DROP_RUNT;
	if (ip[0] != 0x45) /* version 4, no options */
		return SL_NET_DROP_L3;
	tot = rd16(ip + 2);
	if (tot < SL_IP4_HLEN || out->l3_off + tot > len)
		return SL_NET_DROP_L3;
	if (rd16(ip + 6) & 0x3fff) /* MF or a fragment offset */
		return SL_NET_DROP_L3;
	if (!(flags & SL_NET_CSUM_IP_OK) &&
	    sl_net_csum_fold(sl_net_csum_add(0, ip, SL_IP4_HLEN)) != 0)
		return SL_NET_DROP_CHECKSUM;
	if (!l->has_ip4 || memcmp(ip + 16, l->ip4, 4) != 0)
		return SL_NET_DROP_NOT_FOR_US;
	out->ip_version = 4;
	out->ttl = ip[8];
	memcpy(out->src_ip, ip + 12, 4);
	memcpy(out->dst_ip, ip + 16, 4);
	out->l4_off = (uint16_t)(out->l3_off + SL_IP4_HLEN);
	if (ip[9] == SL_IPPROTO_UDP)
		return parse_udp(f, tot - SL_IP4_HLEN, flags, out);
	if (ip[9] == SL_IPPROTO_ICMP)
		return parse_icmp4(f, tot - SL_IP4_HLEN, flags, out);
	return SL_NET_DROP_L4;
}

static enum sl_net_verdict parse_icmp6(const uint8_t *f, size_t l4_len,
				       const struct sl_net_local *l, unsigned flags,
				       struct sl_net_info *out)
{
	const uint8_t *p = f + out->l4_off;

	if (l4_len < 8)
		return SL_NET_DROP_RUNT;
	if (!(flags & SL_NET_CSUM_L4_OK) &&
	    sl_net_csum_fold(
		    sl_net_csum_add(pseudo_sum(out, SL_IPPROTO_ICMPV6, l4_len), p, l4_len)) != 0)
		return SL_NET_DROP_CHECKSUM;
	out->payload_off = out->l4_off;
	out->payload_len = (uint16_t)l4_len;
	if (p[0] == ICMP6_ECHO_REQUEST && p[1] == 0 && is_ours6(l, out->dst_ip)) {
		out->kind = SL_NET_ICMP6_ECHO;
		return SL_NET_OK;
	}
	/* NS: hop limit 255, code 0, target ours (RFC 4861 7.1.1). */
	if (p[0] == ICMP6_NS && p[1] == 0 && l4_len >= 24 && out->ttl == 255 &&
	    is_ours6(l, p + 8)) {
		out->kind = SL_NET_NDP_NS;
		return SL_NET_OK;
	}
	return p[0] == ICMP6_NS ? SL_NET_DROP_NOT_FOR_US : SL_NET_DROP_L4;
}

static enum sl_net_verdict parse_ipv6(const uint8_t *f, size_t len, const struct sl_net_local *l,
				      unsigned flags, struct sl_net_info *out)
{
	const uint8_t *ip = f + out->l3_off;
	size_t plen;

	if (len < (size_t)out->l3_off + SL_IP6_HLEN)
		return SL_NET_DROP_RUNT;
	if (ip[0] >> 4 != 6)
		return SL_NET_DROP_L3;
	plen = rd16(ip + 4);
	if (out->l3_off + SL_IP6_HLEN + plen > len)
		return SL_NET_DROP_L3;
	out->ip_version = 6;
	out->ttl = ip[7];
	memcpy(out->src_ip, ip + 8, 16);
	memcpy(out->dst_ip, ip + 24, 16);
	out->l4_off = (uint16_t)(out->l3_off + SL_IP6_HLEN);
	if (!is_ours6(l, out->dst_ip) && !is_solicited_node(l, out->dst_ip))
		return SL_NET_DROP_NOT_FOR_US;
	if (ip[6] == SL_IPPROTO_ICMPV6)
		return parse_icmp6(f, plen, l, flags, out);
	if (ip[6] != SL_IPPROTO_UDP)
		return SL_NET_DROP_L3; /* extension headers, fragments: refused */
	if (!is_ours6(l, out->dst_ip))
		return SL_NET_DROP_NOT_FOR_US;
	return parse_udp(f, plen, flags, out);
}

enum sl_net_verdict sl_net_parse(const uint8_t *frame, size_t len, const struct sl_net_local *local,
				 unsigned flags, struct sl_net_info *out)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint16_t type;

	memset(out, 0, sizeof(*out));
	if (!frame || len < SL_ETH_HLEN || len > UINT16_MAX)
		return SL_NET_DROP_RUNT;
	type = rd16(frame + 12);
	out->l3_off = SL_ETH_HLEN;
	if (type == SL_ETHERTYPE_VLAN) {
		if (len < SL_ETH_HLEN + SL_VLAN_HLEN)
			return SL_NET_DROP_RUNT;
		out->has_vlan = 1;
		out->vlan_tci = rd16(frame + 14);
		type = rd16(frame + 16);
		out->l3_off += SL_VLAN_HLEN;
		if (type == SL_ETHERTYPE_VLAN)
			return SL_NET_DROP_L2;
	}
	memcpy(out->src_mac, frame + 6, 6);
	if (frame[6] & 1) /* a multicast source is never legitimate */
		return SL_NET_DROP_L2;
	if (memcmp(frame, local->mac, 6) != 0) {
		bool bc = !memcmp(frame, bcast, 6), mc6 = frame[0] == 0x33 && frame[1] == 0x33;

		if (!(bc && type == SL_ETHERTYPE_ARP) && !(mc6 && type == SL_ETHERTYPE_IPV6))
			return SL_NET_DROP_NOT_FOR_US;
	}
	switch (type) {
	case SL_ETHERTYPE_ARP:
		return parse_arp(frame, len, local, out);
	case SL_ETHERTYPE_IPV4:
		return parse_ipv4(frame, len, local, flags, out);
	case SL_ETHERTYPE_IPV6:
		return parse_ipv6(frame, len, local, flags, out);
	default:
		return SL_NET_DROP_L2;
	}
}

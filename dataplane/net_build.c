/*
 * net_build.c - Ethernet/IP/UDP headers for what the dataplane sends.
 *
 * Every egress packet (forwarded media, RTCP we originate, STUN and DTLS
 * the control plane sends down) gets its headers from one description of
 * the flow, written in front of a payload already in place. The IPv4
 * header checksum is always computed (20 bytes); the UDP checksum is
 * computed only when asked, because over IPv4 it may be zero and a NIC
 * with offload finishes it from the pseudo-header sum left in the field.
 */
#include <string.h>

#include <sluice/net.h>

#include "bytes.h"

void sl_net_ip6_link_local(const uint8_t mac[6], uint8_t out[16])
{
	memset(out, 0, 16);
	out[0] = 0xfe;
	out[1] = 0x80;
	out[8] = mac[0] ^ 0x02;
	out[9] = mac[1];
	out[10] = mac[2];
	out[11] = 0xff;
	out[12] = 0xfe;
	out[13] = mac[3];
	out[14] = mac[4];
	out[15] = mac[5];
}

size_t sl_net_hdr_len(const struct sl_net_flow *f)
{
	return SL_ETH_HLEN + (f->has_vlan ? SL_VLAN_HLEN : 0) +
	       (f->family == 4 ? SL_IP4_HLEN : SL_IP6_HLEN) + SL_UDP_HLEN;
}

static uint8_t *write_eth(uint8_t *p, const struct sl_net_flow *f)
{
	memcpy(p, f->dst_mac, 6);
	memcpy(p + 6, f->src_mac, 6);
	p += 12;
	if (f->has_vlan) {
		wr16(p, SL_ETHERTYPE_VLAN);
		wr16(p + 2, f->vlan_tci);
		p += 4;
	}
	wr16(p, f->family == 4 ? SL_ETHERTYPE_IPV4 : SL_ETHERTYPE_IPV6);
	return p + 2;
}

size_t sl_net_write_udp(uint8_t *hdr, const struct sl_net_flow *f, size_t payload_len,
			bool udp_csum)
{
	size_t ulen = SL_UDP_HLEN + payload_len, alen = f->family == 4 ? 4 : 16;
	uint8_t *ip = write_eth(hdr, f), *udp;
	uint32_t sum;

	if (f->family == 4) {
		memset(ip, 0, SL_IP4_HLEN);
		ip[0] = 0x45;
		wr16(ip + 2, (uint16_t)(SL_IP4_HLEN + ulen));
		wr16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = SL_IPPROTO_UDP;
		memcpy(ip + 12, f->src_ip, 4);
		memcpy(ip + 16, f->dst_ip, 4);
		wr16(ip + 10, sl_net_csum_fold(sl_net_csum_add(0, ip, SL_IP4_HLEN)));
		udp = ip + SL_IP4_HLEN;
	} else {
		memset(ip, 0, 4);
		ip[0] = 0x60;
		wr16(ip + 4, (uint16_t)ulen);
		ip[6] = SL_IPPROTO_UDP;
		ip[7] = 64;
		memcpy(ip + 8, f->src_ip, 16);
		memcpy(ip + 24, f->dst_ip, 16);
		udp = ip + SL_IP6_HLEN;
	}
	memcpy(udp, &f->src_port, 2);
	memcpy(udp + 2, &f->dst_port, 2);
	wr16(udp + 4, (uint16_t)ulen);
	wr16(udp + 6, 0);
	if (!udp_csum && f->family == 4)
		return (size_t)(udp + SL_UDP_HLEN - hdr);
	sum = sl_net_csum_add(sl_net_csum_add(0, f->src_ip, alen), f->dst_ip, alen);
	sum += SL_IPPROTO_UDP + (uint32_t)ulen;
	if (udp_csum) {
		uint16_t c = sl_net_csum_fold(sl_net_csum_add(sum, udp, ulen));

		wr16(udp + 6, c ? c : 0xffff);
	} else { /* leave the folded pseudo-header sum for the NIC */
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		wr16(udp + 6, (uint16_t)sum);
	}
	return (size_t)(udp + SL_UDP_HLEN - hdr);
}

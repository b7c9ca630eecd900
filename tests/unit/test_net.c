/*
 * test_net.c - layer 2-4 parsing, the responders, RFC 7983 demux and header
 * building.
 *
 * Frames are built field by field here (checksums computed independently
 * of the code under test, by a plain RFC 1071 loop) and every verdict path
 * is walked: a parser of Internet bytes is only as good as its refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include <sluice/net.h>

static struct sl_net_local local = {
	.mac = { 0x02, 0, 0, 0, 0, 0x01 },
	.has_ip4 = true,
	.has_ip6 = true,
	.ip4 = { 10, 0, 0, 1 },
	.ip6 = { 0xfd, [15] = 1 },
};
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t peer4[4] = { 10, 0, 0, 2 };
static const uint8_t peer6[16] = { 0xfd, [15] = 2 };

/* Independent RFC 1071 sum, two bytes at a time. */
static uint16_t ref_csum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t eth(uint8_t *f, uint16_t type, bool vlan)
{
	memcpy(f, local.mac, 6);
	memcpy(f + 6, peer_mac, 6);
	if (vlan) {
		put16(f + 12, 0x8100);
		put16(f + 14, 0x2064);
		put16(f + 16, type);
		return 18;
	}
	put16(f + 12, type);
	return 14;
}

/* IPv4 UDP frame; returns its length. */
static size_t udp4(uint8_t *f, bool vlan, const uint8_t *pl, size_t n, bool csum)
{
	size_t o = eth(f, 0x0800, vlan);
	uint8_t *ip = f + o, *u = ip + 20;
	uint32_t ph;

	memset(ip, 0, 28);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(28 + n));
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, peer4, 4);
	memcpy(ip + 16, local.ip4, 4);
	put16(ip + 10, ref_csum(ip, 20, 0));
	put16(u, 5000);
	put16(u + 2, 10000);
	put16(u + 4, (uint16_t)(8 + n));
	memcpy(u + 8, pl, n);
	if (csum) {
		ph = 0x0a00 + 0x0002 + 0x0a00 + 0x0001 + 17 + (uint32_t)(8 + n);
		put16(u + 6, ref_csum(u, 8 + n, ph));
	}
	return o + 28 + n;
}

static uint32_t ph6(const uint8_t *src, const uint8_t *dst, uint8_t proto, size_t len)
{
	uint32_t s = proto + (uint32_t)len;

	for (int i = 0; i < 16; i += 2)
		s += (uint32_t)(src[i] << 8 | src[i + 1]) + (uint32_t)(dst[i] << 8 | dst[i + 1]);
	return s;
}

static size_t udp6(uint8_t *f, const uint8_t *pl, size_t n)
{
	size_t o = eth(f, 0x86dd, false);
	uint8_t *ip = f + o, *u = ip + 40;

	memset(ip, 0, 48);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)(8 + n));
	ip[6] = 17;
	ip[7] = 64;
	memcpy(ip + 8, peer6, 16);
	memcpy(ip + 24, local.ip6, 16);
	put16(u, 5000);
	put16(u + 2, 10001);
	put16(u + 4, (uint16_t)(8 + n));
	memcpy(u + 8, pl, n);
	put16(u + 6, ref_csum(u, 8 + n, ph6(peer6, local.ip6, 17, 8 + n)));
	return o + 48 + n;
}

static enum sl_net_verdict parse(const uint8_t *f, size_t n, struct sl_net_info *ni)
{
	return sl_net_parse(f, n, &local, 0, ni);
}

static void udp_v4_v6_vlan_ok(void **state)
{
	uint8_t f[256];
	const uint8_t pl[5] = { 0x80, 0x60, 1, 2, 3 };
	struct sl_net_info ni;
	size_t n;

	(void)state;
	n = udp4(f, false, pl, sizeof(pl), true);
	assert_int_equal(parse(f, n, &ni), SL_NET_OK);
	assert_int_equal(ni.kind, SL_NET_UDP);
	assert_int_equal(ni.ip_version, 4);
	assert_int_equal(ni.payload_off, 42);
	assert_int_equal(ni.payload_len, 5);
	assert_memory_equal(ni.src_ip, peer4, 4);
	assert_memory_equal(ni.src_mac, peer_mac, 6);
	assert_int_equal(ni.dst_port, htons(10000));
	/* Ethernet padding after the datagram is fine. */
	memset(f + n, 0xee, 20);
	assert_int_equal(parse(f, n + 20, &ni), SL_NET_OK);
	assert_int_equal(ni.payload_len, 5);
	/* UDP checksum 0 over IPv4 is allowed. */
	n = udp4(f, false, pl, sizeof(pl), false);
	assert_int_equal(parse(f, n, &ni), SL_NET_OK);
	n = udp4(f, true, pl, sizeof(pl), true);
	assert_int_equal(parse(f, n, &ni), SL_NET_OK);
	assert_true(ni.has_vlan);
	assert_int_equal(ni.vlan_tci, 0x2064);
	assert_int_equal(ni.payload_off, 46);
	n = udp6(f, pl, sizeof(pl));
	assert_int_equal(parse(f, n, &ni), SL_NET_OK);
	assert_int_equal(ni.ip_version, 6);
	assert_int_equal(ni.payload_off, 62);
	assert_memory_equal(ni.src_ip, peer6, 16);
}

static void verdicts(void **state)
{
	uint8_t f[256], g[256];
	const uint8_t pl[4] = { 1, 2, 3, 4 };
	struct sl_net_info ni;
	size_t n = udp4(f, false, pl, sizeof(pl), true), m;

	(void)state;
	for (size_t cut = 0; cut < n; cut++) /* every truncation is refused */
		assert_int_not_equal(parse(f, cut, &ni), SL_NET_OK);
	assert_int_equal(parse(f, 10, &ni), SL_NET_DROP_RUNT);
#define MUT(off, val, verdict)                               \
	do {                                                 \
		memcpy(g, f, n);                             \
		g[off] = (val);                              \
		assert_int_equal(parse(g, n, &ni), verdict); \
	} while (0)
	MUT(12, 0x88, SL_NET_DROP_L2);        /* ethertype */
	MUT(0, 0x04, SL_NET_DROP_NOT_FOR_US); /* other MAC */
	MUT(6, 0x03, SL_NET_DROP_L2);         /* multicast source */
	MUT(14, 0x46, SL_NET_DROP_L3);        /* IPv4 options */
	MUT(14, 0x55, SL_NET_DROP_L3);        /* version 5 */
	MUT(16, 0x01, SL_NET_DROP_L3);        /* total length > frame */
	MUT(20, 0x20, SL_NET_DROP_L3);        /* more fragments */
	MUT(21, 0x01, SL_NET_DROP_L3);        /* fragment offset */
	MUT(24, 0x00, SL_NET_DROP_CHECKSUM);  /* IPv4 header checksum */
	MUT(40, 0x00, SL_NET_DROP_CHECKSUM);  /* UDP checksum (non-zero wrong) */
	MUT(39, 0x07, SL_NET_DROP_L4);        /* UDP length */
	/* Other destination IP (checksum fixed so only that is wrong). */
	memcpy(g, f, n);
	g[33] = 9;
	g[24] = g[25] = 0;
	put16(g + 24, ref_csum(g + 14, 20, 0));
	assert_int_equal(parse(g, n, &ni), SL_NET_DROP_NOT_FOR_US);
	/* TCP: not served. */
	memcpy(g, f, n);
	g[23] = 6;
	g[24] = g[25] = 0;
	put16(g + 24, ref_csum(g + 14, 20, 0));
	assert_int_equal(parse(g, n, &ni), SL_NET_DROP_L4);
	/* Two VLAN tags. */
	m = udp4(g, true, pl, sizeof(pl), true);
	put16(g + 16, 0x8100);
	assert_int_equal(parse(g, m, &ni), SL_NET_DROP_L2);
	/* The NIC said the checksums were fine: not re-checked. */
	memcpy(g, f, n);
	g[40] ^= 0xff;
	assert_int_equal(sl_net_parse(g, n, &local, SL_NET_CSUM_L4_OK, &ni), SL_NET_OK);
	/* IPv6 UDP with checksum 0 is refused; a wrong one too. */
	m = udp6(g, pl, sizeof(pl));
	g[60] = g[61] = 0;
	assert_int_equal(parse(g, m, &ni), SL_NET_DROP_CHECKSUM);
	m = udp6(g, pl, sizeof(pl));
	g[61] ^= 1;
	assert_int_equal(parse(g, m, &ni), SL_NET_DROP_CHECKSUM);
	/* IPv6 extension header (hop-by-hop): refused. */
	m = udp6(g, pl, sizeof(pl));
	g[20] = 0;
	assert_int_equal(parse(g, m, &ni), SL_NET_DROP_L3);
	assert_int_equal(sl_net_parse(NULL, 0, &local, 0, &ni), SL_NET_DROP_RUNT);
#undef MUT
}

static void arp_request_reply(void **state)
{
	uint8_t f[64] = { 0 };
	struct sl_net_info ni;
	size_t n;

	(void)state;
	memset(f, 0xff, 6);
	memcpy(f + 6, peer_mac, 6);
	put16(f + 12, 0x0806);
	put16(f + 14, 1);
	put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, 1);
	memcpy(f + 22, peer_mac, 6);
	memcpy(f + 28, peer4, 4);
	memcpy(f + 38, local.ip4, 4);
	assert_int_equal(parse(f, 60, &ni), SL_NET_OK);
	assert_int_equal(ni.kind, SL_NET_ARP);
	n = sl_net_arp_reply(f, 60, 60, &ni, &local);
	assert_int_equal(n, 60);
	assert_memory_equal(f, peer_mac, 6);
	assert_memory_equal(f + 6, local.mac, 6);
	assert_int_equal(f[21], 2);
	assert_memory_equal(f + 22, local.mac, 6);
	assert_memory_equal(f + 28, local.ip4, 4);
	assert_memory_equal(f + 32, peer_mac, 6);
	assert_memory_equal(f + 38, peer4, 4);
	/* For someone else: not answered. */
	memset(f, 0xff, 6);
	f[41] = 7;
	f[21] = 1;
	assert_int_equal(parse(f, 60, &ni), SL_NET_DROP_NOT_FOR_US);
	/* Not Ethernet/IPv4 ARP. */
	f[41] = 1;
	f[19] = 16;
	assert_int_equal(parse(f, 60, &ni), SL_NET_DROP_L2);
}

static size_t icmp6(uint8_t *f, const uint8_t *dst_mac, const uint8_t *dst_ip, uint8_t hop,
		    const uint8_t *msg, size_t n)
{
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	put16(f + 12, 0x86dd);
	memset(f + 14, 0, 40);
	f[14] = 0x60;
	put16(f + 18, (uint16_t)n);
	f[20] = 58;
	f[21] = hop;
	memcpy(f + 22, peer6, 16);
	memcpy(f + 38, dst_ip, 16);
	memcpy(f + 54, msg, n);
	f[56] = f[57] = 0;
	put16(f + 56, ref_csum(f + 54, n, ph6(peer6, dst_ip, 58, n)));
	return 54 + n;
}

static void ndp_and_echo6(void **state)
{
	static const uint8_t sn_mac[6] = { 0x33, 0x33, 0xff, 0, 0, 0x01 };
	static const uint8_t sn_ip[16] = { 0xff, 0x02, [11] = 1, [12] = 0xff, [15] = 1 };
	uint8_t ns[32] = { 135 }, echo[12] = { 128, 0, 0, 0, 1, 2, 3, 4, 'a', 'b', 'c', 'd' },
		f[128];
	struct sl_net_info ni;
	size_t n;

	(void)state;
	memcpy(ns + 8, local.ip6, 16);
	ns[24] = 1;
	ns[25] = 1;
	memcpy(ns + 26, peer_mac, 6);
	n = icmp6(f, sn_mac, sn_ip, 255, ns, sizeof(ns));
	assert_int_equal(parse(f, n, &ni), SL_NET_OK);
	assert_int_equal(ni.kind, SL_NET_NDP_NS);
	n = sl_net_ndp_na(f, n, n, &ni, &local);
	assert_int_equal(n, 54 + 32);
	assert_int_equal(f[54], 136);
	assert_int_equal(f[58], 0x60);
	assert_memory_equal(f + 62, local.ip6, 16);
	assert_memory_equal(f + 80, local.mac, 6);
	assert_memory_equal(f + 22, local.ip6, 16);
	assert_memory_equal(f + 38, peer6, 16);
	assert_int_equal(ref_csum(f + 54, 32, ph6(local.ip6, peer6, 58, 32)), 0);
	/* Hop limit 64: not a valid NS. */
	n = icmp6(f, sn_mac, sn_ip, 64, ns, sizeof(ns));
	assert_int_not_equal(parse(f, n, &ni), SL_NET_OK);
	/* Target not ours. */
	ns[23] = 9;
	n = icmp6(f, sn_mac, sn_ip, 255, ns, sizeof(ns));
	assert_int_not_equal(parse(f, n, &ni), SL_NET_OK);

	n = icmp6(f, local.mac, local.ip6, 64, echo, sizeof(echo));
	assert_int_equal(parse(f, n, &ni), SL_NET_OK);
	assert_int_equal(ni.kind, SL_NET_ICMP6_ECHO);
	n = sl_net_icmp6_echo_reply(f, n, n, &ni, &local);
	assert_int_equal(n, 54 + sizeof(echo));
	assert_int_equal(f[54], 129);
	assert_memory_equal(f + 58, echo + 4, 8);
	assert_int_equal(ref_csum(f + 54, sizeof(echo), ph6(local.ip6, peer6, 58, sizeof(echo))),
			 0);
	/* Corrupt checksum: dropped. */
	n = icmp6(f, local.mac, local.ip6, 64, echo, sizeof(echo));
	f[60] ^= 1;
	assert_int_equal(parse(f, n, &ni), SL_NET_DROP_CHECKSUM);
}

static void echo4(void **state)
{
	uint8_t f[128];
	uint8_t msg[11] = { 8, 0, 0, 0, 0, 9, 0, 1, 'x', 'y', 'z' }; /* odd length */
	struct sl_net_info ni;
	size_t o = eth(f, 0x0800, true), n;

	(void)state;
	put16(msg + 2, ref_csum(msg, sizeof(msg), 0));
	memset(f + o, 0, 20);
	f[o] = 0x45;
	put16(f + o + 2, 20 + sizeof(msg));
	f[o + 8] = 64;
	f[o + 9] = 1;
	memcpy(f + o + 12, peer4, 4);
	memcpy(f + o + 16, local.ip4, 4);
	put16(f + o + 10, ref_csum(f + o, 20, 0));
	memcpy(f + o + 20, msg, sizeof(msg));
	n = o + 20 + sizeof(msg);
	assert_int_equal(parse(f, n + 7, &ni), SL_NET_OK); /* with padding */
	assert_int_equal(ni.kind, SL_NET_ICMP4_ECHO);
	assert_int_equal(sl_net_icmp4_echo_reply(f, n + 7, n + 7, &ni, &local), n);
	assert_int_equal(f[o + 20], 0);
	assert_memory_equal(f + o + 12, local.ip4, 4);
	assert_memory_equal(f + o + 16, peer4, 4);
	assert_int_equal(ref_csum(f + o, 20, 0), 0);
	assert_int_equal(ref_csum(f + o + 20, sizeof(msg), 0), 0);
	assert_int_equal(f[14], 0x20); /* VLAN kept */
}

static void demux_table(void **state)
{
	uint8_t p[2] = { 0, 0 };

	(void)state;
	for (int b = 0; b < 256; b++) {
		enum sl_demux_class want;

		p[0] = (uint8_t)b;
		p[1] = 96; /* an RTP payload type */
		if (b <= 3)
			want = SL_DEMUX_STUN;
		else if (b >= 16 && b <= 19)
			want = SL_DEMUX_ZRTP;
		else if (b >= 20 && b <= 63)
			want = SL_DEMUX_DTLS;
		else if (b >= 64 && b <= 79)
			want = SL_DEMUX_TURN;
		else if (b >= 128 && b <= 191)
			want = SL_DEMUX_RTP;
		else
			want = SL_DEMUX_DROP;
		assert_int_equal(sl_demux(p, 2), want);
		if (b >= 128 && b <= 191) {
			for (int pt = 192; pt <= 223; pt++) {
				p[1] = (uint8_t)pt;
				assert_int_equal(sl_demux(p, 2), SL_DEMUX_RTCP);
			}
			p[1] = 0x80 | 96; /* marker bit set: still RTP */
			assert_int_equal(sl_demux(p, 2), SL_DEMUX_RTP);
			assert_int_equal(sl_demux(p, 1), SL_DEMUX_DROP);
		}
	}
	assert_int_equal(sl_demux(p, 0), SL_DEMUX_DROP);
	assert_int_equal(sl_demux(NULL, 5), SL_DEMUX_DROP);
}

static void build_round_trip(void **state)
{
	uint8_t f[2048], pl[1001];
	struct sl_net_info ni;

	(void)state;
	for (size_t i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)(i * 7);
	for (int fam = 4; fam <= 6; fam += 2) {
		for (int vlan = 0; vlan < 2; vlan++) {
			for (int csum = 0; csum < 2; csum++) {
				struct sl_net_flow fl = { .family = (uint8_t)fam,
							  .has_vlan = (uint8_t)vlan,
							  .vlan_tci = 5,
							  .src_port = htons(40000),
							  .dst_port = htons(10000) };
				size_t h;
				struct sl_net_local peer = { .has_ip4 = true, .has_ip6 = true };

				memcpy(fl.src_mac, local.mac, 6);
				memcpy(fl.dst_mac, peer_mac, 6);
				memcpy(fl.src_ip, fam == 4 ? local.ip4 : local.ip6,
				       fam == 4 ? 4 : 16);
				memcpy(fl.dst_ip, fam == 4 ? peer4 : peer6, fam == 4 ? 4 : 16);
				h = sl_net_hdr_len(&fl);
				assert_int_equal(h, (fam == 4 ? 42u : 62u) + (vlan ? 4u : 0u));
				memcpy(f + h, pl, sizeof(pl));
				assert_int_equal(sl_net_write_udp(f, &fl, sizeof(pl), csum), h);
				memcpy(peer.mac, peer_mac, 6);
				memcpy(peer.ip4, peer4, 4);
				memcpy(peer.ip6, peer6, 16);
				/* v4 without checksum parses (0 allowed); v6 needs it. */
				if (fam == 6 && !csum)
					continue;
				assert_int_equal(sl_net_parse(f, h + sizeof(pl), &peer, 0, &ni),
						 SL_NET_OK);
				assert_int_equal(ni.payload_off, h);
				assert_int_equal(ni.payload_len, sizeof(pl));
				assert_int_equal(ni.src_port, htons(40000));
				assert_int_equal(ni.has_vlan, vlan);
				assert_memory_equal(f + ni.payload_off, pl, sizeof(pl));
			}
		}
	}
}

static void link_local(void **state)
{
	uint8_t ll[16];
	static const uint8_t want[16] = { 0xfe, 0x80, 0,    0,    0,    0,    0,    0,
					  0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01 };

	(void)state;
	sl_net_ip6_link_local(local.mac, ll);
	assert_memory_equal(ll, want, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(udp_v4_v6_vlan_ok),
		cmocka_unit_test(verdicts),
		cmocka_unit_test(arp_request_reply),
		cmocka_unit_test(ndp_and_echo6),
		cmocka_unit_test(echo4),
		cmocka_unit_test(demux_table),
		cmocka_unit_test(build_round_trip),
		cmocka_unit_test(link_local),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

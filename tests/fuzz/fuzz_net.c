/*
 * fuzz_net.c - libFuzzer target for the layer 2-4 parser, the responders
 * and the RFC 7983 demultiplexer.
 *
 * Whatever the bytes, sl_net_parse must return a verdict without reading
 * outside the frame; when it accepts one, the responder for its kind runs on
 * a copy exactly as large as the frame, and its answer must never be larger
 * than the request and must parse again as a frame from us.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/net.h>

static const struct sl_net_local local = {
	.mac = { 0x02, 0, 0, 0, 0, 0x01 },
	.has_ip4 = true,
	.has_ip6 = true,
	.ip4 = { 10, 0, 0, 1 },
	.ip6 = { 0xfd, [15] = 1 },
	.ip6_ll = { 0xfe, 0x80, [11] = 0xff, [12] = 0xfe, [15] = 1 },
};

static void respond(const uint8_t *data, size_t size, const struct sl_net_info *ni)
{
	uint8_t *copy = malloc(size ? size : 1);
	size_t n = 0;

	if (!copy)
		return;
	memcpy(copy, data, size);
	switch (ni->kind) {
	case SL_NET_ARP:
		n = sl_net_arp_reply(copy, size, size, ni, &local);
		break;
	case SL_NET_ICMP4_ECHO:
		n = sl_net_icmp4_echo_reply(copy, size, size, ni, &local);
		break;
	case SL_NET_ICMP6_ECHO:
		n = sl_net_icmp6_echo_reply(copy, size, size, ni, &local);
		break;
	case SL_NET_NDP_NS:
		n = sl_net_ndp_na(copy, size, size, ni, &local);
		break;
	default:
		break;
	}
	if (n > size)
		abort(); /* an answer larger than the request: amplification */
	if (n >= 12 && memcmp(copy + 6, local.mac, 6) != 0)
		abort(); /* an answer not from us */
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_net_info ni;

	for (unsigned flags = 0; flags < 4; flags++) {
		if (sl_net_parse(data, size, &local, flags, &ni) != SL_NET_OK)
			continue;
		if ((size_t)ni.payload_off + ni.payload_len > size)
			abort();
		if (ni.kind == SL_NET_UDP)
			sl_demux(data + ni.payload_off, ni.payload_len);
		else
			respond(data, size, &ni);
	}
	return 0;
}

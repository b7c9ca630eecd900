/*
 * fuzz_stun.c - libFuzzer target for the ICE-lite checks in
 * controlplane/transport/stun.c (and the parts of libnice's STUN library they use).
 *
 * Reads the local ufrag from the input, then asks for an answer with fixed
 * credentials ("evtj" / the RFC 5769 password, so the committed RFC 5769
 * request is a valid seed) from an IPv4 and an IPv6 source, and once more
 * from IPv4 with the remote ufrag of that request. Besides memory errors
 * (ASan/UBSan) it checks what the dataplane relies on: only the documented
 * return codes, no response on error, never a response larger than the
 * request or the buffer, a ufrag that is NUL-terminated at the length
 * returned, and a response that is a STUN binding success with the
 * request's transaction id.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define UFRAG "evtj"
#define PWD   "VOkJxbRl1RmTxUk/WvJxBt"

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void ufrag(const uint8_t *data, size_t size)
{
	char buf[SL_STUN_MAX_UFRAG + 1];
	int rc = sl_stun_local_ufrag(data, size, buf, sizeof(buf));

	check(rc == -EBADMSG || (rc > 0 && rc <= SL_STUN_MAX_UFRAG));
	if (rc > 0)
		check(strlen(buf) == (size_t)rc);
}

static void answer(const uint8_t *data, size_t size, const struct sockaddr *from,
		   socklen_t from_len, const char *remote)
{
	uint8_t resp[2048];
	size_t resp_len = 1;
	struct sl_stun_check chk = { 0 };
	int rc = sl_stun_answer(data, size, from, from_len, UFRAG, PWD, remote, resp, sizeof(resp),
				&resp_len, &chk);

	check(rc == 0 || rc == -EACCES || rc == -EBADMSG || rc == -EMSGSIZE);
	if (rc != 0) {
		check(resp_len == 0);
		return;
	}
	if (resp_len > size || resp_len > sizeof(resp))
		abort();
	check(resp_len >= 20 && resp[0] == 0x01 && resp[1] == 0x01);
	check(memcmp(resp + 4, data + 4, 16) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in v4 = { .sin_family = AF_INET,
				  .sin_port = htons(32853),
				  .sin_addr.s_addr = htonl(0xc0000201) };
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(32853),
				   .sin6_addr.s6_addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };

	ufrag(data, size);
	answer(data, size, (const struct sockaddr *)&v4, sizeof(v4), NULL);
	answer(data, size, (const struct sockaddr *)&v6, sizeof(v6), NULL);
	answer(data, size, (const struct sockaddr *)&v4, sizeof(v4), "h6vY");
	return 0;
}

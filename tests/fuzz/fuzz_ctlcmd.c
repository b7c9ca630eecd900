/*
 * fuzz_ctlcmd.c - libFuzzer target for the operator command parser
 * (controlplane/state/ctlcmd.c).
 *
 * Anyone who can write to Redis writes the stream entries. The input is a
 * list of strings, each one length byte and that many bytes (a short last
 * one is cut), taken as field, value, field, value...; each string is
 * copied to a buffer of its exact size so that a read past it is caught.
 * Whatever the bytes: no crash, no leak, and what comes out obeys the
 * request table (a valid req on OK and BAD_REQUEST, a message on
 * BAD_REQUEST, arguments in their alphabets and lengths).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctlcmd.h"

#define MAX_PAIRS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_chars(const char *s, size_t min, size_t max, const char *alphabet)
{
	size_t n = strlen(s);

	if (n < min || n > max || strspn(s, alphabet) != n)
		abort();
}

#define ID_CHARS  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
#define HEX_CHARS "0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_ctlcmd_str s[2 * MAX_PAIRS], f[MAX_PAIRS] = { 0 }, v[MAX_PAIRS] = { 0 };
	struct sl_ctlcmd c;
	size_t n = 0, off = 0;
	enum sl_ctlcmd_result res;

	while (off < size && n < 2 * MAX_PAIRS) {
		size_t len = data[off++];
		char *p;

		if (len > size - off)
			len = size - off;
		p = malloc(len ? len : 1);
		if (!p)
			abort();
		memcpy(p, data + off, len);
		s[n++] = (struct sl_ctlcmd_str){ p, len };
		off += len;
	}
	for (size_t i = 0; i < n / 2; i++) {
		f[i] = s[2 * i];
		v[i] = s[2 * i + 1];
	}
	res = sl_ctlcmd_parse(f, v, n / 2, &c);
	if (res == SL_CTLCMD_OK || res == SL_CTLCMD_BAD_REQUEST)
		check_chars(c.req, SL_CTLCMD_REQ_MIN, SL_CTLCMD_REQ_MAX, ID_CHARS);
	if (res == SL_CTLCMD_BAD_REQUEST && !c.message)
		abort();
	if (res == SL_CTLCMD_OK) {
		if (c.cmd <= SL_CTLCMD_UNKNOWN || c.cmd >= SL_CTLCMD_N)
			abort();
		if (c.node[0])
			check_chars(c.node, 1, SL_CTLCMD_NODE_MAX, ID_CHARS);
		if (c.meeting[0])
			check_chars(c.meeting, 32, 32, HEX_CHARS);
		if (c.participant[0])
			check_chars(c.participant, 16, 16, HEX_CHARS);
		if (c.kind != SL_CTLCMD_AUDIO && c.kind != SL_CTLCMD_VIDEO)
			abort();
	}
	(void)sl_ctlcmd_name(c.cmd);
	for (size_t i = 0; i < n; i++)
		free((void *)s[i].ptr);
	return 0;
}

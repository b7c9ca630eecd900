/*
 * fuzz_signalling.c - libFuzzer target for the signalling message parser.
 *
 * Every WebSocket message a client sends goes through sl_signal_parse
 * first. Any input must give either a parsed message whose strings are
 * within their documented bounds, or an error with a code from
 * docs/signalling.md - never a crash, a leak or an unbounded string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"
#include "signalling.h"

static const char *const codes[] = { "bad_json", "too_large", "unknown_type", "bad_field" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_signal_msg m;
	const char *code = NULL, *why = NULL;
	bool known = false;

	if (sl_signal_parse((const char *)data, size, &m, &code, &why)) {
		for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
			known |= code && !strcmp(code, codes[i]);
		if (!known || !why)
			abort();
	} else if (m.type == SL_MSG_JOIN) {
		if (strlen(m.room) == 0 || strlen(m.room) > 128 || strlen(m.name) > 64)
			abort();
		if (m.password && (m.password_len == 0 || m.password_len > 128 ||
				   strlen(m.password) != m.password_len))
			abort();
		if (m.token && (strlen(m.token) == 0 || strlen(m.token) > SL_SIGNAL_MAX_TOKEN))
			abort();
	} else if (m.type == SL_MSG_ANSWER) {
		if (m.sdp_len == 0 || m.sdp_len > SL_SDP_MAX_LEN || m.version == 0)
			abort();
	} else if (m.type == SL_MSG_CHECK_NAME) {
		if (strlen(m.room) == 0 || strlen(m.room) > 128)
			abort();
	} else if (m.type == SL_MSG_SET_PASSWORD) {
		if (m.password && (m.password_len == 0 || m.password_len > 128))
			abort();
	} else if (m.type == SL_MSG_MUTE) {
		if (m.kind != SL_SDP_KIND_AUDIO && m.kind != SL_SDP_KIND_VIDEO)
			abort();
	} else if (m.type == SL_MSG_CHAT) {
		if (!m.text || m.text_len == 0 || m.text_len > SL_SIGNAL_MAX_CHAT ||
		    strlen(m.text) != m.text_len)
			abort();
	} else if (m.type == SL_MSG_PERMISSIONS) {
		if (m.perm_chat == SL_PERM_UNSET && m.perm_screenshare == SL_PERM_UNSET)
			abort();
	} else if (m.type < SL_MSG_JOIN || m.type > SL_MSG_SPEAKER_STATS) {
		abort();
	}
	/* The rights check is total: it answers every parsed message. */
	if (!code) {
		if (m.participant &&
		    (strlen(m.participant) == 0 || strlen(m.participant) > 32 ||
		     strspn(m.participant, "0123456789abcdef") != strlen(m.participant)))
			abort();
		const char *r0 = sl_signal_right(&m, false, false),
			   *r1 = sl_signal_right(&m, true, true);

		if (r1 || (r0 && strcmp(r0, "not_moderator") && strcmp(r0, "not_allowed")))
			abort();
	}
	sl_signal_msg_free(&m);
	return 0;
}

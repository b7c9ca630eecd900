/*
 * signalling_msg.c - parsing and validating signalling messages (pure).
 *
 * Kept apart from the dispatch in signalling.c so the fuzzer and the unit
 * tests exercise exactly the code that sees client bytes first: jansson
 * with JSON_REJECT_DUPLICATES (identical keys must never be read two
 * ways), then every member checked for type, length and range.
 */
#include <errno.h>
#include <string.h>

#include "sdp.h"
#include "signalling.h"

#define MAX_ROOM 128
#define MAX_NAME 64

static bool has_control_chars(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

#define FAIL(c, w)           \
	do {                 \
		*code = (c); \
		*why = (w);  \
		goto fail;   \
	} while (0)

static int parse_join(struct sl_signal_msg *m, const char **code, const char **why)
{
	json_t *room = json_object_get(m->root, "room"), *name = json_object_get(m->root, "name");
	size_t n;

	if (!json_is_string(room))
		FAIL("bad_field", "join needs a string 'room'");
	n = json_string_length(room);
	m->room = json_string_value(room);
	if (n == 0 || n > MAX_ROOM || strlen(m->room) != n || has_control_chars(m->room))
		FAIL("bad_field", "'room' must be 1-128 bytes of text");
	m->name = "";
	if (name) {
		if (!json_is_string(name))
			FAIL("bad_field", "'name' must be a string");
		n = json_string_length(name);
		m->name = json_string_value(name);
		if (n > MAX_NAME || strlen(m->name) != n || has_control_chars(m->name))
			FAIL("bad_field", "'name' must be at most 64 bytes of text");
	}
	return 0;
fail:
	return -EINVAL;
}

static int parse_answer(struct sl_signal_msg *m, const char **code, const char **why)
{
	json_t *sdp = json_object_get(m->root, "sdp"), *ver = json_object_get(m->root, "version");

	if (!json_is_string(sdp) || !json_is_integer(ver))
		FAIL("bad_field", "answer needs a string 'sdp' and an integer 'version'");
	m->sdp = json_string_value(sdp);
	m->sdp_len = json_string_length(sdp);
	if (m->sdp_len == 0 || m->sdp_len > SL_SDP_MAX_LEN)
		FAIL("bad_field", "'sdp' must be 1 byte to 192 KiB");
	if (json_integer_value(ver) < 1 || json_integer_value(ver) > UINT32_MAX)
		FAIL("bad_field", "'version' out of range");
	m->version = (uint32_t)json_integer_value(ver);
	return 0;
fail:
	return -EINVAL;
}

int sl_signal_parse(const char *text, size_t len, struct sl_signal_msg *m, const char **code,
		    const char **why)
{
	json_error_t e;
	const char *type;

	memset(m, 0, sizeof(*m));
	if (len > SL_WS_MAX_MSG)
		FAIL("too_large", "message over 256 KiB");
	m->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
	if (!m->root || !json_is_object(m->root))
		FAIL("bad_json", "the message is not one JSON object without duplicate keys");
	type = json_string_value(json_object_get(m->root, "type"));
	if (!type)
		FAIL("unknown_type", "the message has no string 'type'");
	if (!strcmp(type, "join")) {
		m->type = SL_MSG_JOIN;
		return parse_join(m, code, why) ? -EINVAL : 0;
	}
	if (!strcmp(type, "answer")) {
		m->type = SL_MSG_ANSWER;
		return parse_answer(m, code, why) ? -EINVAL : 0;
	}
	if (!strcmp(type, "leave")) {
		m->type = SL_MSG_LEAVE;
		return 0;
	}
	FAIL("unknown_type", "unknown message type");
fail:
	return -EINVAL;
}
#undef FAIL

void sl_signal_msg_free(struct sl_signal_msg *m)
{
	json_decref(m->root);
	m->root = NULL;
}

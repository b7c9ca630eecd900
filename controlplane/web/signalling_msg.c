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

static int parse_room(struct sl_signal_msg *m, const char **code, const char **why)
{
	json_t *room = json_object_get(m->root, "room");
	size_t n;

	if (!json_is_string(room))
		FAIL("bad_field", "a string 'room' is needed");
	n = json_string_length(room);
	m->room = json_string_value(room);
	if (n == 0 || n > MAX_ROOM || strlen(m->room) != n || has_control_chars(m->room))
		FAIL("bad_field", "'room' must be 1-128 bytes of text");
	return 0;
fail:
	return -EINVAL;
}

/* A password: 1-128 bytes, any text (no NUL). */
static int parse_password(struct sl_signal_msg *m, json_t *v, const char **code, const char **why)
{
	if (!json_is_string(v))
		FAIL("bad_field", "'password' must be a string");
	m->password = json_string_value(v);
	m->password_len = json_string_length(v);
	if (m->password_len == 0 || m->password_len > SL_SIGNAL_MAX_PASSWORD ||
	    strlen(m->password) != m->password_len)
		FAIL("bad_field", "'password' must be 1-128 bytes of text");
	return 0;
fail:
	m->password = NULL;
	return -EINVAL;
}

static int parse_join(struct sl_signal_msg *m, const char **code, const char **why)
{
	json_t *name = json_object_get(m->root, "name"), *pw = json_object_get(m->root, "password"),
	       *token = json_object_get(m->root, "token");
	size_t n;

	if (parse_room(m, code, why))
		return -EINVAL;
	if (pw && parse_password(m, pw, code, why))
		return -EINVAL;
	if (token) {
		if (!json_is_string(token))
			FAIL("bad_field", "'token' must be a string");
		n = json_string_length(token);
		m->token = json_string_value(token);
		if (n == 0 || n > SL_SIGNAL_MAX_TOKEN || strlen(m->token) != n)
			FAIL("bad_field", "'token' must be 1-8192 bytes");
	}
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

static int parse_bool(struct sl_signal_msg *m, const char *key, bool optional, bool dflt,
		      const char **code, const char **why)
{
	json_t *v = json_object_get(m->root, key);

	m->flag = dflt;
	if (!v && optional)
		return 0;
	if (!json_is_boolean(v)) {
		*code = "bad_field";
		*why = "a boolean member is missing or not a boolean";
		return -EINVAL;
	}
	m->flag = json_is_true(v);
	return 0;
}

/* A participant or lobby entry id, 1-32 bytes of [0-9a-f], in member key
 * (`participant`, or `to` of chat and p2p) into m->participant. */
static int parse_id(struct sl_signal_msg *m, const char *key, const char **code, const char **why)
{
	json_t *v = json_object_get(m->root, key);
	size_t n = json_string_length(v);

	m->participant = json_string_value(v);
	if (!json_is_string(v) || n == 0 || n > 32 ||
	    strspn(m->participant, "0123456789abcdef") != n) {
		m->participant = NULL;
		*code = "bad_field";
		*why = !strcmp(key, "to") ? "'to' is not a participant id"
					  : "'participant' is not a participant id";
		return -EINVAL;
	}
	return 0;
}

static int parse_participant(struct sl_signal_msg *m, const char **code, const char **why)
{
	return parse_id(m, "participant", code, why);
}

static int parse_mute(struct sl_signal_msg *m, const char **code, const char **why)
{
	const char *kind = json_string_value(json_object_get(m->root, "kind"));

	if (parse_participant(m, code, why) || parse_bool(m, "muted", true, true, code, why))
		return -EINVAL;
	if (kind && !strcmp(kind, "audio"))
		m->kind = SL_SDP_KIND_AUDIO;
	else if (kind && !strcmp(kind, "video"))
		m->kind = SL_SDP_KIND_VIDEO;
	else
		FAIL("bad_field", "'kind' must be \"audio\" or \"video\"");
	return 0;
fail:
	return -EINVAL;
}

static int parse_set_password(struct sl_signal_msg *m, const char **code, const char **why)
{
	json_t *pw = json_object_get(m->root, "password");

	if (json_is_null(pw))
		return 0;
	if (!pw)
		FAIL("bad_field", "set_password needs 'password' (a string, or null to remove it)");
	return parse_password(m, pw, code, why);
fail:
	return -EINVAL;
}

/* chat: text 1-4096 bytes (jansson has checked it is UTF-8; no NUL), `to`
 * an optional participant id. */
static int parse_chat(struct sl_signal_msg *m, const char **code, const char **why)
{
	json_t *text = json_object_get(m->root, "text");

	if (!json_is_string(text))
		FAIL("bad_field", "chat needs a string 'text'");
	m->text = json_string_value(text);
	m->text_len = json_string_length(text);
	if (m->text_len == 0 || m->text_len > SL_SIGNAL_MAX_CHAT || strlen(m->text) != m->text_len)
		FAIL("bad_field", "'text' must be 1-4096 bytes of text");
	if (json_object_get(m->root, "to") && parse_id(m, "to", code, why))
		goto fail;
	return 0;
fail:
	m->text = NULL;
	return -EINVAL;
}

/* p2p: `to` a participant id, `payload` an object of at most
 * SL_SIGNAL_MAX_P2P bytes once serialized compactly (relayed as it is). */
static int parse_p2p(struct sl_signal_msg *m, const char **code, const char **why)
{
	json_t *payload = json_object_get(m->root, "payload");

	if (parse_id(m, "to", code, why))
		return -EINVAL;
	if (!json_is_object(payload))
		FAIL("bad_field", "p2p needs an object 'payload'");
	if (json_dumpb(payload, NULL, 0, JSON_COMPACT) > SL_SIGNAL_MAX_P2P)
		FAIL("bad_field", "'payload' is over 16 KiB");
	m->payload = payload;
	return 0;
fail:
	m->participant = NULL;
	return -EINVAL;
}

static int parse_perm(json_t *root, const char *key, int *out)
{
	json_t *v = json_object_get(root, key);
	const char *s = json_string_value(v);

	*out = SL_PERM_UNSET;
	if (!v)
		return 0;
	if (s && !strcmp(s, "all"))
		*out = SL_PERM_ALL;
	else if (s && !strcmp(s, "moderators"))
		*out = SL_PERM_MODERATORS;
	else
		return -EINVAL;
	return 0;
}

static int parse_permissions(struct sl_signal_msg *m, const char **code, const char **why)
{
	if (parse_perm(m->root, "chat", &m->perm_chat) ||
	    parse_perm(m->root, "screenshare", &m->perm_screenshare))
		FAIL("bad_field", "'chat' and 'screenshare' must be \"all\" or \"moderators\"");
	if (m->perm_chat == SL_PERM_UNSET && m->perm_screenshare == SL_PERM_UNSET)
		FAIL("bad_field", "permissions needs 'chat' or 'screenshare'");
	return 0;
fail:
	return -EINVAL;
}

/* Message types and their parsers (NULL: no members). */
static const struct {
	const char *name;
	int type;
	int (*parse)(struct sl_signal_msg *m, const char **code, const char **why);
} types[] = {
	{ "join", SL_MSG_JOIN, parse_join },
	{ "answer", SL_MSG_ANSWER, parse_answer },
	{ "leave", SL_MSG_LEAVE, NULL },
	{ "check_name", SL_MSG_CHECK_NAME, parse_room },
	{ "set_password", SL_MSG_SET_PASSWORD, parse_set_password },
	{ "lock", SL_MSG_LOCK, NULL },
	{ "lobby", SL_MSG_LOBBY, NULL },
	{ "admit", SL_MSG_ADMIT, parse_participant },
	{ "deny", SL_MSG_DENY, parse_participant },
	{ "mute", SL_MSG_MUTE, parse_mute },
	{ "kick", SL_MSG_KICK, parse_participant },
	{ "grant_moderator", SL_MSG_GRANT_MODERATOR, parse_participant },
	{ "end_meeting", SL_MSG_END_MEETING, NULL },
	{ "chat", SL_MSG_CHAT, parse_chat },
	{ "permissions", SL_MSG_PERMISSIONS, parse_permissions },
	{ "screenshare", SL_MSG_SCREENSHARE, NULL },
	{ "p2p", SL_MSG_P2P, parse_p2p },
	{ "speaker_stats", SL_MSG_SPEAKER_STATS, NULL },
};

const char *sl_signal_type_name(int type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == type)
			return types[i].name;
	return NULL;
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
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(type, types[i].name))
			continue;
		m->type = types[i].type;
		if (m->type == SL_MSG_LOCK)
			return parse_bool(m, "locked", false, false, code, why);
		if (m->type == SL_MSG_LOBBY || m->type == SL_MSG_SCREENSHARE)
			return parse_bool(m, "enabled", false, false, code, why);
		return types[i].parse && types[i].parse(m, code, why) ? -EINVAL : 0;
	}
	FAIL("unknown_type", "unknown message type");
fail:
	return -EINVAL;
}
#undef FAIL

/* jansson's strings are private copies: wipe secrets before they are freed. */
static void wipe_string(json_t *root, const char *key)
{
	json_t *v = json_object_get(root, key);

	if (json_is_string(v))
		explicit_bzero((char *)json_string_value(v), json_string_length(v));
}

void sl_signal_msg_free(struct sl_signal_msg *m)
{
	if (m->root) {
		wipe_string(m->root, "password");
		wipe_string(m->root, "token");
	}
	json_decref(m->root);
	m->root = NULL;
}

const char *sl_signal_right(const struct sl_signal_msg *m, bool moderator, bool to_self)
{
	switch (m->type) {
	case SL_MSG_MUTE:
		if (to_self)
			return NULL;
		if (!m->flag)
			return "not_allowed"; /* nobody unmutes someone else */
		return moderator ? NULL : "not_moderator";
	case SL_MSG_SET_PASSWORD:
	case SL_MSG_LOCK:
	case SL_MSG_LOBBY:
	case SL_MSG_ADMIT:
	case SL_MSG_DENY:
	case SL_MSG_KICK:
	case SL_MSG_GRANT_MODERATOR:
	case SL_MSG_END_MEETING:
	case SL_MSG_PERMISSIONS:
		return moderator ? NULL : "not_moderator";
	default:
		return NULL;
	}
}

/*
 * stun.c - ICE-lite binding requests checked and answered with libnice's
 * STUN library.
 *
 * libnice does the STUN work (framing, FINGERPRINT, the HMAC of
 * MESSAGE-INTEGRITY, building the response); this file decides what counts
 * as a check for us and maps libnice's verdicts onto -errno. A few checks
 * run before libnice sees the bytes because its own are not enough:
 * stun_agent_validate() hashes 20 bytes from the start of MESSAGE-INTEGRITY
 * whatever that attribute's length says (a short one would be read past),
 * sums FINGERPRINT as if it were the last attribute, and answers a missing
 * FINGERPRINT with the same BAD_REQUEST as a malformed header. So the header
 * must be exactly a binding request with the RFC 5389 cookie, FINGERPRINT
 * must be the last attribute (else -EACCES, as a missing one) and
 * MESSAGE-INTEGRITY, when present, 20 bytes long.
 *
 * Choices: a FINGERPRINT that does not match is -EACCES like a missing
 * one; an unknown comprehension-required attribute or a request without a
 * 4-byte PRIORITY is -EBADMSG (no 420 is sent: we answer nothing but
 * success). As an ICE-lite agent we never act on ICE-CONTROLLING/CONTROLLED
 * or the tie-breaker: a valid request is answered with success whatever
 * role it claims, so there is no 487. The response is built here rather
 * than by stun_usage_ice_conncheck_create_reply(), which would apply that
 * role logic and echo USERNAME; it is built in at most min(cap, len) bytes,
 * so it can never be larger than the request. Each call sets up its own
 * StunAgent on the stack; nothing outlives a call. Caller mistakes (NULL
 * or empty credentials, a source that is not a whole sockaddr_in or
 * sockaddr_in6) are -EINVAL.
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include <stun/stunagent.h>
#include <stun/stunmessage.h>

#include "stun.h"

#define HDR_LEN      20
#define FPR_ATTR_LEN 8 /* type, length, CRC-32 */
#define MI_LEN       20

/* Comprehension-required attributes a check may carry (0-terminated). */
static const uint16_t known_attrs[] = {
	STUN_ATTRIBUTE_USERNAME,
	STUN_ATTRIBUTE_MESSAGE_INTEGRITY,
	STUN_ATTRIBUTE_PRIORITY,
	STUN_ATTRIBUTE_USE_CANDIDATE,
	0,
};

/* What the credential callback compares USERNAME and answers with. */
struct creds {
	const char *local_ufrag;
	const char *remote_ufrag; /* NULL: any remote part */
	const char *pwd;
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * True if pkt is one whole binding request with the RFC 5389 cookie and
 * attributes that fit its length field (the type field 0x0001 holds both
 * the method and the request class; its top two bits must be zero).
 */
static bool is_binding_request(const uint8_t *pkt, size_t len)
{
	static const uint8_t cookie[4] = { 0x21, 0x12, 0xa4, 0x42 };

	if (!pkt || len < HDR_LEN || len > UINT16_MAX + (size_t)HDR_LEN)
		return false;
	if (get16(pkt) != 0x0001 || memcmp(pkt + 4, cookie, sizeof(cookie)) != 0)
		return false;
	return stun_message_validate_buffer_length(pkt, len, true) == (int)len;
}

/* Points msg at the request (already checked by is_binding_request). */
static void wrap(StunMessage *msg, StunAgent *agent, const uint8_t *pkt, size_t len)
{
	memset(msg, 0, sizeof(*msg));
	msg->agent = agent;
	msg->buffer = (uint8_t *)pkt;
	msg->buffer_len = len;
}

/* The checks libnice leaves to us, see the top of the file. */
static int precheck(const StunMessage *msg, const uint8_t *pkt, size_t len)
{
	uint16_t mi_len = 0;

	if (len < HDR_LEN + FPR_ATTR_LEN ||
	    get16(pkt + len - FPR_ATTR_LEN) != STUN_ATTRIBUTE_FINGERPRINT ||
	    get16(pkt + len - FPR_ATTR_LEN + 2) != 4)
		return -EACCES;
	if (stun_message_find(msg, STUN_ATTRIBUTE_MESSAGE_INTEGRITY, &mi_len) && mi_len != MI_LEN)
		return -EBADMSG;
	return 0;
}

/* libnice's credential callback: USERNAME must be "local:remote". */
static bool lookup_key(StunAgent *agent, StunMessage *msg, uint8_t *user, uint16_t user_len,
		       uint8_t **key, size_t *key_len, void *data)
{
	const struct creds *c = data;
	size_t local = strlen(c->local_ufrag);

	(void)agent;
	(void)msg;
	if (!user || user_len <= local || memcmp(user, c->local_ufrag, local) != 0 ||
	    user[local] != ':')
		return false;
	if (c->remote_ufrag &&
	    (user_len - local - 1 != strlen(c->remote_ufrag) ||
	     memcmp(user + local + 1, c->remote_ufrag, user_len - local - 1) != 0))
		return false;
	*key = (uint8_t *)c->pwd;
	*key_len = strlen(c->pwd);
	return true;
}

static int validation_errno(StunValidationStatus st)
{
	switch (st) {
	case STUN_VALIDATION_SUCCESS:
		return 0;
	case STUN_VALIDATION_BAD_REQUEST: /* cookie checked before: FINGERPRINT */
	case STUN_VALIDATION_UNAUTHORIZED:
	case STUN_VALIDATION_UNAUTHORIZED_BAD_REQUEST:
		return -EACCES;
	default:
		return -EBADMSG;
	}
}

/* PRIORITY (required), USE-CANDIDATE and the role a checked request claims. */
static int read_check(const StunMessage *req, struct sl_stun_check *out)
{
	uint32_t prio;

	if (stun_message_find32(req, STUN_ATTRIBUTE_PRIORITY, &prio) != STUN_MESSAGE_RETURN_SUCCESS)
		return -EBADMSG;
	out->priority = prio;
	out->use_candidate = stun_message_find_flag(req, STUN_ATTRIBUTE_USE_CANDIDATE) ==
			     STUN_MESSAGE_RETURN_SUCCESS;
	out->controlling = stun_message_has_attribute(req, STUN_ATTRIBUTE_ICE_CONTROLLING);
	return 0;
}

/* Bytes of our response to a source of this family, or 0 if unsupported. */
static size_t response_size(const struct sockaddr_storage *src, socklen_t src_len)
{
	size_t xor_addr;

	if (src->ss_family == AF_INET && src_len >= (socklen_t)sizeof(struct sockaddr_in))
		xor_addr = 4 + 8;
	else if (src->ss_family == AF_INET6 && src_len >= (socklen_t)sizeof(struct sockaddr_in6))
		xor_addr = 4 + 20;
	else
		return 0;
	return HDR_LEN + xor_addr + 4 + MI_LEN + FPR_ATTR_LEN;
}

/* Success response with XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT. */
static int build_response(StunAgent *agent, const StunMessage *req,
			  const struct sockaddr_storage *src, socklen_t src_len, const char *pwd,
			  uint8_t *resp, size_t room, size_t *resp_len)
{
	StunMessage msg;
	size_t n;

	if (!stun_agent_init_response(agent, &msg, resp, room, req) ||
	    stun_message_append_xor_addr(&msg, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, src, src_len) !=
		    STUN_MESSAGE_RETURN_SUCCESS)
		return -EMSGSIZE;
	n = stun_agent_finish_message(agent, &msg, (const uint8_t *)pwd, strlen(pwd));
	if (n == 0 || n > room)
		return -EMSGSIZE;
	*resp_len = n;
	return 0;
}

int sl_stun_local_ufrag(const uint8_t *pkt, size_t len, char *ufrag, size_t cap)
{
	StunAgent agent;
	StunMessage msg;
	const uint8_t *user, *colon;
	uint16_t user_len = 0;
	size_t n;

	if (!is_binding_request(pkt, len) || !ufrag)
		return -EBADMSG;
	stun_agent_init(&agent, known_attrs, STUN_COMPATIBILITY_RFC5389, 0);
	wrap(&msg, &agent, pkt, len);
	user = stun_message_find(&msg, STUN_ATTRIBUTE_USERNAME, &user_len);
	colon = user ? memchr(user, ':', user_len) : NULL;
	if (!colon)
		return -EBADMSG;
	n = (size_t)(colon - user);
	if (n == 0 || n > SL_STUN_MAX_UFRAG || n >= cap || memchr(user, '\0', n))
		return -EBADMSG;
	memcpy(ufrag, user, n);
	ufrag[n] = '\0';
	return (int)n;
}

int sl_stun_answer(const uint8_t *pkt, size_t len, const struct sockaddr *from, socklen_t from_len,
		   const char *local_ufrag, const char *local_pwd, const char *remote_ufrag,
		   uint8_t *resp, size_t cap, size_t *resp_len, struct sl_stun_check *check)
{
	struct creds creds = { local_ufrag, remote_ufrag, local_pwd };
	struct sockaddr_storage src = { 0 };
	struct sl_stun_check found;
	StunAgent agent;
	StunMessage req;
	size_t need, room;
	int rc;

	if (!resp_len)
		return -EINVAL;
	*resp_len = 0;
	/* An empty password would make libnice skip the HMAC check. */
	if (!from || !local_ufrag || !*local_ufrag || !local_pwd || !*local_pwd || !resp || !check)
		return -EINVAL;
	memcpy(&src, from, (size_t)from_len < sizeof(src) ? (size_t)from_len : sizeof(src));
	need = response_size(&src, from_len);
	if (need == 0)
		return -EINVAL;
	if (!is_binding_request(pkt, len))
		return -EBADMSG;
	stun_agent_init(&agent, known_attrs, STUN_COMPATIBILITY_RFC5389,
			STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
	wrap(&req, &agent, pkt, len);
	rc = precheck(&req, pkt, len);
	if (rc == 0)
		rc = validation_errno(
			stun_agent_validate(&agent, &req, pkt, len, lookup_key, &creds));
	if (rc == 0)
		rc = read_check(&req, &found);
	if (rc != 0)
		return rc;
	room = len < cap ? len : cap;
	if (need > room)
		return -EMSGSIZE;
	rc = build_response(&agent, &req, &src, from_len, local_pwd, resp, room, resp_len);
	if (rc == 0)
		*check = found;
	return rc;
}

/*
 * test_stun.c - ICE-lite binding requests checked and answered by
 * controlplane/transport/stun.c.
 *
 * The known-answer fixture is the RFC 5769 2.1 sample request; its
 * transaction id is the one of the 2.2 and 2.3 sample responses, so the
 * XOR-MAPPED-ADDRESS we send to 192.0.2.1:32853 and
 * [2001:db8:1234:5678:11:2233:4455:6677]:32853 must hold the bytes
 * printed there. Other requests come from libnice's own client side, and
 * every response is read back with libnice as a client would: matched to
 * the request, MESSAGE-INTEGRITY checked with our password, FINGERPRINT
 * checked. The broken requests are each one step away from a valid one
 * (FINGERPRINT recomputed where the step would otherwise only break it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <stun/stunagent.h>
#include <stun/stunmessage.h>
#include <stun/usages/ice.h>

#include "stun.h"

#define PWD "VOkJxbRl1RmTxUk/WvJxBt"

/* RFC 5769 2.1: USERNAME "evtj:h6vY", password PWD, ICE-CONTROLLED. */
static const uint8_t rfc5769_req[] = {
	0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
	0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e,
	0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24,
	0x00, 0x04, 0x6e, 0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1,
	0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68,
	0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c,
	0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5,
	0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};
#define RFC_MI_OFF 76 /* MESSAGE-INTEGRITY attribute header */

/* RFC 5769 2.2 and 2.3: XOR-MAPPED-ADDRESS attributes for the two sources. */
static const uint8_t rfc5769_xma4[] = { 0x00, 0x20, 0x00, 0x08, 0x00, 0x01,
					0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43 };
static const uint8_t rfc5769_xma6[] = { 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47,
					0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79,
					0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9 };

static struct sockaddr_in src4;
static struct sockaddr_in6 src6;

static int setup_sources(void **state)
{
	(void)state;
	memset(&src4, 0, sizeof(src4));
	src4.sin_family = AF_INET;
	src4.sin_port = htons(32853);
	inet_pton(AF_INET, "192.0.2.1", &src4.sin_addr);
	memset(&src6, 0, sizeof(src6));
	src6.sin6_family = AF_INET6;
	src6.sin6_port = htons(32853);
	inet_pton(AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677", &src6.sin6_addr);
	return 0;
}

static const struct sockaddr *sa4(void)
{
	return (const struct sockaddr *)&src4;
}

static const struct sockaddr *sa6(void)
{
	return (const struct sockaddr *)&src6;
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 5389 15.5: CRC-32 of everything before FINGERPRINT, xor "STUN". */
static void refingerprint(uint8_t *pkt, size_t len)
{
	uint32_t crc = 0xffffffff;

	for (size_t i = 0; i < len - 8; i++) {
		crc ^= pkt[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320 & (0 - (crc & 1)));
	}
	crc = ~crc ^ 0x5354554e;
	pkt[len - 4] = (uint8_t)(crc >> 24);
	pkt[len - 3] = (uint8_t)(crc >> 16);
	pkt[len - 2] = (uint8_t)(crc >> 8);
	pkt[len - 1] = (uint8_t)crc;
}

/* A client agent as a browser's would be (RFC 5389 framing, short-term). */
static void client_agent(StunAgent *agent, bool fingerprint)
{
	stun_agent_init(agent, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
			STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS |
				(fingerprint ? STUN_AGENT_USAGE_USE_FINGERPRINT : 0));
}

/* libnice's conncheck: USE-CANDIDATE, PRIORITY, ICE-CONTROLLING, USERNAME. */
static size_t libnice_check(StunAgent *agent, uint8_t *buf, size_t cap, const char *user)
{
	StunMessage msg;

	client_agent(agent, true);
	return stun_usage_ice_conncheck_create(agent, &msg, buf, cap, (const uint8_t *)user,
					       strlen(user), (const uint8_t *)PWD, strlen(PWD),
					       true, true, 0x6e7f1eff, 0x0102030405060708ull, NULL,
					       STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
}

/* A minimal request: USERNAME (if any), PRIORITY, MI with key, FINGERPRINT. */
static size_t small_request(uint8_t *buf, size_t cap, const char *user, const char *key,
			    bool fingerprint)
{
	StunAgent agent;
	StunMessage msg;

	client_agent(&agent, fingerprint);
	assert_true(stun_agent_init_request(&agent, &msg, buf, cap, STUN_BINDING));
	if (user)
		assert_int_equal(stun_message_append_string(&msg, STUN_ATTRIBUTE_USERNAME, user),
				 0);
	assert_int_equal(stun_message_append32(&msg, STUN_ATTRIBUTE_PRIORITY, 7), 0);
	return stun_agent_finish_message(&agent, &msg, (const uint8_t *)key, key ? strlen(key) : 0);
}

/*
 * Reads resp back as the client that sent req: matched by transaction id,
 * MESSAGE-INTEGRITY checked with PWD, FINGERPRINT checked, and the mapped
 * address compared with the source.
 */
static void verify_response(const uint8_t *req, const uint8_t *resp, size_t resp_len,
			    const struct sockaddr *from, socklen_t from_len)
{
	struct sockaddr_storage mapped;
	socklen_t mapped_len = sizeof(mapped);
	StunAgent agent;
	StunMessage msg;

	client_agent(&agent, true);
	memcpy(agent.sent_ids[0].id, req + 4, sizeof(StunTransactionId)); /* cookie too */
	agent.sent_ids[0].method = STUN_BINDING;
	agent.sent_ids[0].key = (uint8_t *)PWD;
	agent.sent_ids[0].key_len = strlen(PWD);
	agent.sent_ids[0].long_term_valid = false;
	agent.sent_ids[0].valid = true;
	assert_int_equal(stun_agent_validate(&agent, &msg, resp, resp_len, NULL, NULL),
			 STUN_VALIDATION_SUCCESS);
	assert_int_equal(stun_message_get_class(&msg), STUN_RESPONSE);
	assert_int_equal(stun_message_get_method(&msg), STUN_BINDING);
	assert_memory_equal(resp + 4, req + 4, 16); /* cookie and transaction id */
	assert_non_null(msg.key);                   /* MESSAGE-INTEGRITY was there and checked */
	assert_int_equal(resp[resp_len - 8], 0x80);
	assert_int_equal(resp[resp_len - 7], 0x28);
	assert_int_equal(stun_usage_ice_conncheck_process(&msg, &mapped, &mapped_len,
							  STUN_USAGE_ICE_COMPATIBILITY_RFC5245),
			 STUN_USAGE_ICE_RETURN_SUCCESS);
	assert_int_equal(mapped_len, from_len);
	assert_memory_equal(&mapped, from, from_len);
}

/* sl_stun_answer with PWD; on error also checks nothing was reported. */
static int answer(const uint8_t *pkt, size_t len, const struct sockaddr *from, const char *local,
		  const char *remote, uint8_t *resp, size_t cap, size_t *resp_len,
		  struct sl_stun_check *check)
{
	socklen_t from_len = from->sa_family == AF_INET ? sizeof(src4) : sizeof(src6);
	struct sl_stun_check before;
	int rc;

	memset(check, 0xa5, sizeof(*check));
	before = *check;
	*resp_len = 12345;
	rc = sl_stun_answer(pkt, len, from, from_len, local, PWD, remote, resp, cap, resp_len,
			    check);
	if (rc != 0) {
		assert_int_equal(*resp_len, 0);
		assert_memory_equal(check, &before, sizeof(before));
	} else {
		assert_true(*resp_len <= len && *resp_len <= cap);
	}
	return rc;
}

/* The request as sent, expecting rc; the response verified when rc is 0. */
static void expect(const uint8_t *pkt, size_t len, const struct sockaddr *from, const char *local,
		   const char *remote, int rc)
{
	uint8_t resp[1500];
	size_t resp_len;
	struct sl_stun_check check;

	assert_int_equal(
		answer(pkt, len, from, local, remote, resp, sizeof(resp), &resp_len, &check), rc);
	if (rc == 0)
		verify_response(pkt, resp, resp_len, from,
				from->sa_family == AF_INET ? sizeof(src4) : sizeof(src6));
}

static void rfc5769_request_answered(void **state)
{
	uint8_t resp[1500];
	size_t resp_len;
	struct sl_stun_check check;

	(void)state;
	assert_int_equal(answer(rfc5769_req, sizeof(rfc5769_req), sa4(), "evtj", "h6vY", resp,
				sizeof(resp), &resp_len, &check),
			 0);
	assert_int_equal(resp_len, 20 + 12 + 24 + 8);
	assert_memory_equal(resp + 20, rfc5769_xma4, sizeof(rfc5769_xma4));
	assert_false(check.use_candidate);
	assert_false(check.controlling);
	assert_int_equal(check.priority, 0x6e0001ff);
	verify_response(rfc5769_req, resp, resp_len, sa4(), sizeof(src4));

	assert_int_equal(answer(rfc5769_req, sizeof(rfc5769_req), sa6(), "evtj", NULL, resp,
				sizeof(resp), &resp_len, &check),
			 0);
	assert_int_equal(resp_len, 20 + 24 + 24 + 8);
	assert_memory_equal(resp + 20, rfc5769_xma6, sizeof(rfc5769_xma6));
	verify_response(rfc5769_req, resp, resp_len, sa6(), sizeof(src6));
}

static void libnice_requests_answered(void **state)
{
	const struct sockaddr *srcs[] = { sa4(), sa6() };
	uint8_t req[512], resp[512];
	size_t len, resp_len;
	struct sl_stun_check check;
	StunAgent client;
	StunMessage msg;
	struct sockaddr_storage mapped;
	socklen_t mapped_len;

	(void)state;
	for (int i = 0; i < 2; i++) {
		len = libnice_check(&client, req, sizeof(req), "sfu1:peerufrag");
		assert_true(len > 0);
		assert_int_equal(answer(req, len, srcs[i], "sfu1", "peerufrag", resp, sizeof(resp),
					&resp_len, &check),
				 0);
		assert_true(check.use_candidate);
		assert_true(check.controlling);
		assert_int_equal(check.priority, 0x6e7f1eff);
		verify_response(req, resp, resp_len, srcs[i], i == 0 ? sizeof(src4) : sizeof(src6));
		/* And the client that sent it accepts it too. */
		assert_int_equal(stun_agent_validate(&client, &msg, resp, resp_len, NULL, NULL),
				 STUN_VALIDATION_SUCCESS);
		mapped_len = sizeof(mapped);
		assert_int_equal(
			stun_usage_ice_conncheck_process(&msg, &mapped, &mapped_len,
							 STUN_USAGE_ICE_COMPATIBILITY_RFC5245),
			STUN_USAGE_ICE_RETURN_SUCCESS);
		assert_memory_equal(&mapped, srcs[i], mapped_len);
	}
}

static void wrong_credentials(void **state)
{
	const uint8_t *r = rfc5769_req;
	size_t n = sizeof(rfc5769_req);
	uint8_t req[512];
	size_t len;
	StunAgent client;

	(void)state;
	expect(r, n, sa4(), "evtk", NULL, -EACCES);
	expect(r, n, sa4(), "evt", NULL, -EACCES);
	expect(r, n, sa4(), "evtj:", NULL, -EACCES);
	expect(r, n, sa4(), "evtj", "h6vZ", -EACCES);
	expect(r, n, sa4(), "evtj", "h6v", -EACCES);
	expect(r, n, sa4(), "evtj", "h6vYY", -EACCES);
	expect(r, n, sa4(), "evtj", "", -EACCES);
	len = libnice_check(&client, req, sizeof(req), "sfu1:peerufrag");
	expect(req, len, sa6(), "sfu1", "peerufrag", 0);
	expect(req, len, sa6(), "peerufrag", "sfu1", -EACCES);
	len = small_request(req, sizeof(req), "sfu1:p", "not the password", true);
	expect(req, len, sa4(), "sfu1", "p", -EACCES);
	len = small_request(req, sizeof(req), "sfu1:p", PWD, true);
	expect(req, len, sa4(), "sfu1", "p", 0);
	len = small_request(req, sizeof(req), "sfu1", PWD, true); /* no ':' */
	expect(req, len, sa4(), "sfu1", NULL, -EACCES);
}

static void bad_integrity_or_fingerprint(void **state)
{
	uint8_t req[sizeof(rfc5769_req)];
	size_t n = sizeof(req);

	(void)state;
	for (int bit = 0; bit < 160; bit += 7) {
		memcpy(req, rfc5769_req, n);
		req[RFC_MI_OFF + 4 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
		expect(req, n, sa4(), "evtj", NULL, -EACCES); /* FINGERPRINT now wrong too */
		refingerprint(req, n);
		expect(req, n, sa4(), "evtj", NULL, -EACCES); /* only MI wrong */
	}
	/* A flipped bit in the FINGERPRINT alone. */
	memcpy(req, rfc5769_req, n);
	req[n - 1] ^= 1;
	expect(req, n, sa4(), "evtj", NULL, -EACCES);
	/* A flipped bit in the PRIORITY value, FINGERPRINT made right again. */
	memcpy(req, rfc5769_req, n);
	req[47] ^= 1;
	refingerprint(req, n);
	expect(req, n, sa4(), "evtj", NULL, -EACCES);
	/* The sample as sent, after all that, is still good. */
	expect(rfc5769_req, n, sa4(), "evtj", NULL, 0);
}

static void missing_attributes(void **state)
{
	uint8_t req[512];
	size_t n = sizeof(rfc5769_req), len;

	(void)state;
	/* FINGERPRINT cut off, length re-encoded: MI still good. */
	memcpy(req, rfc5769_req, n);
	put16(req + 2, n - 8 - 20);
	expect(req, n - 8, sa4(), "evtj", NULL, -EACCES);
	/* MI and FINGERPRINT cut off, a fresh FINGERPRINT appended. */
	memcpy(req, rfc5769_req, n);
	memcpy(req + RFC_MI_OFF, rfc5769_req + n - 8, 8);
	put16(req + 2, RFC_MI_OFF + 8 - 20);
	refingerprint(req, RFC_MI_OFF + 8);
	expect(req, RFC_MI_OFF + 8, sa4(), "evtj", NULL, -EACCES);
	/* Neither of them. */
	put16(req + 2, RFC_MI_OFF - 20);
	expect(req, RFC_MI_OFF, sa4(), "evtj", NULL, -EACCES);
	/* libnice-made: no MI, no FINGERPRINT, no USERNAME. */
	len = small_request(req, sizeof(req), "sfu1:p", NULL, true);
	expect(req, len, sa4(), "sfu1", NULL, -EACCES);
	len = small_request(req, sizeof(req), "sfu1:p", PWD, false);
	expect(req, len, sa4(), "sfu1", NULL, -EACCES);
	len = small_request(req, sizeof(req), NULL, PWD, true);
	expect(req, len, sa4(), "sfu1", NULL, -EACCES);
}

static void not_a_binding_request(void **state)
{
	static const uint16_t types[] = { 0x0011, 0x0101, 0x0111, 0x0003, 0x4001, 0x8001, 0x0201 };
	uint8_t req[sizeof(rfc5769_req) + 4];
	size_t n = sizeof(rfc5769_req);

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		memcpy(req, rfc5769_req, n);
		put16(req, types[i]);
		refingerprint(req, n); /* so only the type is wrong */
		expect(req, n, sa4(), "evtj", NULL, -EBADMSG);
	}
	/* No magic cookie. */
	memcpy(req, rfc5769_req, n);
	req[4] ^= 0x01;
	expect(req, n, sa4(), "evtj", NULL, -EBADMSG);
	/* Length field off by 4 either way, or not a multiple of 4. */
	memcpy(req, rfc5769_req, n);
	put16(req + 2, n - 20 + 4);
	expect(req, n, sa4(), "evtj", NULL, -EBADMSG);
	put16(req + 2, n - 20 - 4);
	expect(req, n, sa4(), "evtj", NULL, -EBADMSG);
	put16(req + 2, n - 20 - 2);
	expect(req, n, sa4(), "evtj", NULL, -EBADMSG);
	/* Trailing bytes after the message. */
	memcpy(req, rfc5769_req, n);
	memset(req + n, 0, 4);
	expect(req, n + 4, sa4(), "evtj", NULL, -EBADMSG);
	/* An attribute length that runs past the message (USERNAME: 9 -> 13). */
	memcpy(req, rfc5769_req, n);
	req[63] = 13;
	refingerprint(req, n);
	expect(req, n, sa4(), "evtj", NULL, -EBADMSG);
}

static void odd_but_authentic(void **state)
{
	uint8_t req[512];
	size_t len;
	StunAgent agent;
	StunMessage msg;

	(void)state;
	/* An unknown comprehension-required attribute (0x7fff). */
	client_agent(&agent, true);
	assert_true(stun_agent_init_request(&agent, &msg, req, sizeof(req), STUN_BINDING));
	assert_int_equal(stun_message_append_string(&msg, STUN_ATTRIBUTE_USERNAME, "sfu1:p"), 0);
	assert_int_equal(stun_message_append32(&msg, STUN_ATTRIBUTE_PRIORITY, 7), 0);
	assert_int_equal(stun_message_append32(&msg, 0x7fff, 7), 0);
	len = stun_agent_finish_message(&agent, &msg, (const uint8_t *)PWD, strlen(PWD));
	expect(req, len, sa4(), "sfu1", "p", -EBADMSG);
	/* No PRIORITY. */
	assert_true(stun_agent_init_request(&agent, &msg, req, sizeof(req), STUN_BINDING));
	assert_int_equal(stun_message_append_string(&msg, STUN_ATTRIBUTE_USERNAME, "sfu1:p"), 0);
	len = stun_agent_finish_message(&agent, &msg, (const uint8_t *)PWD, strlen(PWD));
	expect(req, len, sa4(), "sfu1", "p", -EBADMSG);
	/* A short MESSAGE-INTEGRITY (4 bytes) before FINGERPRINT. */
	assert_true(stun_agent_init_request(&agent, &msg, req, sizeof(req), STUN_BINDING));
	assert_int_equal(stun_message_append_string(&msg, STUN_ATTRIBUTE_USERNAME, "sfu1:p"), 0);
	assert_int_equal(stun_message_append32(&msg, STUN_ATTRIBUTE_MESSAGE_INTEGRITY, 7), 0);
	len = stun_agent_finish_message(&agent, &msg, NULL, 0);
	expect(req, len, sa4(), "sfu1", "p", -EBADMSG);
	/* An optional unknown attribute (SOFTWARE-like 0xc0de) is fine. */
	assert_true(stun_agent_init_request(&agent, &msg, req, sizeof(req), STUN_BINDING));
	assert_int_equal(stun_message_append_string(&msg, STUN_ATTRIBUTE_USERNAME, "sfu1:p"), 0);
	assert_int_equal(stun_message_append32(&msg, STUN_ATTRIBUTE_PRIORITY, 7), 0);
	assert_int_equal(stun_message_append32(&msg, 0xc0de, 7), 0);
	len = stun_agent_finish_message(&agent, &msg, (const uint8_t *)PWD, strlen(PWD));
	expect(req, len, sa4(), "sfu1", "p", 0);
}

static void truncated_everywhere(void **state)
{
	uint8_t req[512], resp[512];
	size_t len, resp_len;
	struct sl_stun_check check;
	StunAgent client;

	(void)state;
	for (size_t n = 0; n < sizeof(rfc5769_req); n++) {
		assert_true(answer(rfc5769_req, n, sa4(), "evtj", NULL, resp, sizeof(resp),
				   &resp_len, &check) < 0);
		assert_true(answer(rfc5769_req, n, sa6(), "evtj", "h6vY", resp, sizeof(resp),
				   &resp_len, &check) < 0);
	}
	len = libnice_check(&client, req, sizeof(req), "sfu1:peerufrag");
	for (size_t n = 0; n < len; n++)
		assert_true(answer(req, n, sa6(), "sfu1", NULL, resp, sizeof(resp), &resp_len,
				   &check) < 0);
}

static void response_never_larger(void **state)
{
	uint8_t req[512], resp[512];
	size_t len, resp_len;
	struct sl_stun_check check;

	(void)state;
	/* 20 + USERNAME "a:b" 8 + PRIORITY 8 + MI 24 + FINGERPRINT 8 = 68 bytes. */
	len = small_request(req, sizeof(req), "a:b", PWD, true);
	assert_int_equal(len, 68);
	/* IPv6 answer is 76 bytes: not built. IPv4 answer is 64: fine. */
	expect(req, len, sa6(), "a", "b", -EMSGSIZE);
	expect(req, len, sa4(), "a", "b", 0);
	/* A caller's buffer one byte short of the answer. */
	assert_int_equal(answer(req, len, sa4(), "a", "b", resp, 63, &resp_len, &check), -EMSGSIZE);
	assert_int_equal(answer(req, len, sa4(), "a", "b", resp, 64, &resp_len, &check), 0);
	assert_int_equal(resp_len, 64);
	verify_response(req, resp, resp_len, sa4(), sizeof(src4));
}

static void bad_caller_arguments(void **state)
{
	uint8_t resp[512];
	size_t resp_len = 99;
	struct sl_stun_check check;
	struct sockaddr_in short4 = src4;
	const uint8_t *r = rfc5769_req;
	size_t n = sizeof(rfc5769_req);

	(void)state;
	assert_int_equal(sl_stun_answer(r, n, sa4(), sizeof(src4) - 1, "evtj", PWD, NULL, resp,
					sizeof(resp), &resp_len, &check),
			 -EINVAL);
	assert_int_equal(resp_len, 0);
	short4.sin_family = AF_UNIX;
	assert_int_equal(sl_stun_answer(r, n, (struct sockaddr *)&short4, sizeof(short4), "evtj",
					PWD, NULL, resp, sizeof(resp), &resp_len, &check),
			 -EINVAL);
	assert_int_equal(sl_stun_answer(NULL, 0, sa4(), sizeof(src4), "evtj", PWD, NULL, resp,
					sizeof(resp), &resp_len, &check),
			 -EBADMSG);
	assert_int_equal(sl_stun_answer(r, n, sa4(), sizeof(src4), "evtj", PWD, NULL, resp,
					sizeof(resp), NULL, &check),
			 -EINVAL);
	/* libnice would skip the HMAC with an empty key: refused up front. */
	assert_int_equal(sl_stun_answer(r, n, sa4(), sizeof(src4), "evtj", "", NULL, resp,
					sizeof(resp), &resp_len, &check),
			 -EINVAL);
	assert_int_equal(sl_stun_answer(r, n, sa4(), sizeof(src4), "", PWD, NULL, resp,
					sizeof(resp), &resp_len, &check),
			 -EINVAL);
}

static void local_ufrag(void **state)
{
	char ufrag[SL_STUN_MAX_UFRAG + 1], user[SL_STUN_MAX_UFRAG + 8];
	uint8_t req[1024], ind[sizeof(rfc5769_req)];
	size_t len;

	(void)state;
	assert_int_equal(
		sl_stun_local_ufrag(rfc5769_req, sizeof(rfc5769_req), ufrag, sizeof(ufrag)), 4);
	assert_string_equal(ufrag, "evtj");
	/* Room for exactly "evtj" and its NUL, and one byte less. */
	assert_int_equal(sl_stun_local_ufrag(rfc5769_req, sizeof(rfc5769_req), ufrag, 5), 4);
	assert_int_equal(sl_stun_local_ufrag(rfc5769_req, sizeof(rfc5769_req), ufrag, 4), -EBADMSG);
	assert_int_equal(sl_stun_local_ufrag(rfc5769_req, sizeof(rfc5769_req), ufrag, 0), -EBADMSG);
	/* Integrity is not its business: a bad MI still names the endpoint. */
	memcpy(ind, rfc5769_req, sizeof(ind));
	ind[RFC_MI_OFF + 4] ^= 1;
	assert_int_equal(sl_stun_local_ufrag(ind, sizeof(ind), ufrag, sizeof(ufrag)), 4);
	/* Not a request. */
	put16(ind, 0x0011);
	assert_int_equal(sl_stun_local_ufrag(ind, sizeof(ind), ufrag, sizeof(ufrag)), -EBADMSG);
	for (size_t n = 0; n < sizeof(rfc5769_req); n++)
		assert_int_equal(sl_stun_local_ufrag(rfc5769_req, n, ufrag, sizeof(ufrag)),
				 -EBADMSG);
	/* No USERNAME; no ':'; empty local part. */
	len = small_request(req, sizeof(req), NULL, PWD, true);
	assert_int_equal(sl_stun_local_ufrag(req, len, ufrag, sizeof(ufrag)), -EBADMSG);
	len = small_request(req, sizeof(req), "sfu1", PWD, true);
	assert_int_equal(sl_stun_local_ufrag(req, len, ufrag, sizeof(ufrag)), -EBADMSG);
	len = small_request(req, sizeof(req), ":peer", PWD, true);
	assert_int_equal(sl_stun_local_ufrag(req, len, ufrag, sizeof(ufrag)), -EBADMSG);
	/* 256 characters is the most; 257 is too long. */
	memset(user, 'u', SL_STUN_MAX_UFRAG);
	strcpy(user + SL_STUN_MAX_UFRAG, ":peer");
	len = small_request(req, sizeof(req), user, PWD, true);
	assert_int_equal(sl_stun_local_ufrag(req, len, ufrag, sizeof(ufrag)), SL_STUN_MAX_UFRAG);
	assert_int_equal(strlen(ufrag), SL_STUN_MAX_UFRAG);
	memset(user, 'u', SL_STUN_MAX_UFRAG + 1);
	strcpy(user + SL_STUN_MAX_UFRAG + 1, ":p");
	len = small_request(req, sizeof(req), user, PWD, true);
	assert_int_equal(sl_stun_local_ufrag(req, len, ufrag, sizeof(ufrag)), -EBADMSG);
	/* The remote part may hold ':' too; the first one splits. */
	len = small_request(req, sizeof(req), "ab:c:d", PWD, true);
	assert_int_equal(sl_stun_local_ufrag(req, len, ufrag, sizeof(ufrag)), 2);
	assert_string_equal(ufrag, "ab");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc5769_request_answered),
		cmocka_unit_test(libnice_requests_answered),
		cmocka_unit_test(wrong_credentials),
		cmocka_unit_test(bad_integrity_or_fingerprint),
		cmocka_unit_test(missing_attributes),
		cmocka_unit_test(not_a_binding_request),
		cmocka_unit_test(odd_but_authentic),
		cmocka_unit_test(truncated_everywhere),
		cmocka_unit_test(response_never_larger),
		cmocka_unit_test(bad_caller_arguments),
		cmocka_unit_test(local_ufrag),
	};

	return cmocka_run_group_tests(tests, setup_sources, NULL);
}

/*
 * test_turn.c - TURN REST API credentials (controlplane/transport/turn.c).
 *
 * The expected values were computed independently with Python:
 *   base64.b64encode(hmac.new(b"north", b"1700000000:abc", hashlib.sha1).digest())
 *   base64.b64encode(hmac.new(b"north", b"1700000600:p1", hashlib.sha1).digest())
 * coturn (use-auth-secret) computes the same, so a mismatch here means
 * every browser's TURN allocation would be refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "turn.h"

static void test_vector(void **state)
{
	char cred[SL_TURN_CREDENTIAL_LEN];

	(void)state;
	assert_int_equal(sl_turn_credential("north", "1700000000:abc", cred), 0);
	assert_string_equal(cred, "g5HTmCBrPDhYXFpM/1dHUtfE+c4=");
	assert_int_equal(sl_turn_credential("", "1700000000:abc", cred), -EINVAL);
	assert_int_equal(sl_turn_credential(NULL, "1700000000:abc", cred), -EINVAL);
}

static void test_ice_servers(void **state)
{
	static const char uris[2][256] = { "turn:turn.example.org:3478?transport=udp",
					   "turns:turn.example.org:443?transport=tcp" };
	json_t *v, *s, *urls;

	(void)state;
	assert_null(sl_turn_ice_servers(uris, 0, "north", 600, 1700000000, "p1"));
	v = sl_turn_ice_servers(uris, 2, "north", 600, 1700000000, "p1");
	assert_non_null(v);
	assert_true(json_is_array(v));
	assert_int_equal(json_array_size(v), 1);
	s = json_array_get(v, 0);
	urls = json_object_get(s, "urls");
	assert_int_equal(json_array_size(urls), 2);
	assert_string_equal(json_string_value(json_array_get(urls, 0)), uris[0]);
	assert_string_equal(json_string_value(json_array_get(urls, 1)), uris[1]);
	assert_string_equal(json_string_value(json_object_get(s, "username")), "1700000600:p1");
	assert_string_equal(json_string_value(json_object_get(s, "credential")),
			    "gtYcMIwsZwPry2k029gvl2J7YF0=");
	assert_int_equal(json_object_size(s), 3);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_ice_servers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

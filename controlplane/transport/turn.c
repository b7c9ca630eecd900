/*
 * turn.c - short-lived TURN credentials, handed to each participant in
 * `joined` so that a browser behind a firewall that blocks the dataplane's
 * UDP can relay through a TURN server (coturn with use-auth-secret).
 *
 * The TURN REST API scheme: the username is "<unix expiry time>:<id>" and
 * the password is base64(HMAC-SHA1(shared secret, username)); the TURN
 * server recomputes it from the same secret and refuses expired names. The
 * id is the participant's random id, so the TURN server's logs carry no
 * personal data. Pure functions: no I/O, no logging (the secret never
 * leaves them).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "turn.h"

int sl_turn_credential(const char *secret, const char *user, char out[SL_TURN_CREDENTIAL_LEN])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (!secret || !*secret || !user ||
	    !HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)user,
		  strlen(user), mac, &len) ||
	    len != 20)
		return -EINVAL;
	EVP_EncodeBlock((unsigned char *)out, mac, (int)len);
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

json_t *sl_turn_ice_servers(const char (*uris)[256], unsigned n_uris, const char *secret,
			    uint32_t ttl_s, time_t now, const char *id)
{
	char user[96], cred[SL_TURN_CREDENTIAL_LEN];
	json_t *urls, *srv;
	int w;

	if (!n_uris)
		return NULL;
	w = snprintf(user, sizeof(user), "%lld:%s", (long long)now + ttl_s, id);
	if (w < 0 || (size_t)w >= sizeof(user) || sl_turn_credential(secret, user, cred))
		return NULL;
	urls = json_array();
	for (unsigned i = 0; i < n_uris; i++)
		json_array_append_new(urls, json_string(uris[i]));
	srv = json_pack("[{s:o, s:s, s:s}]", "urls", urls, "username", user, "credential", cred);
	OPENSSL_cleanse(cred, sizeof(cred));
	return srv;
}

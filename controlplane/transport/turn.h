/*
 * turn.h - TURN credentials for the browsers (turn.c).
 */
#ifndef SLUICE_CP_TURN_H
#define SLUICE_CP_TURN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

/* base64 of a 20-byte HMAC-SHA1, with its NUL. */
#define SL_TURN_CREDENTIAL_LEN 29

/*
 * The TURN REST API credential of user (coturn's use-auth-secret):
 * base64(HMAC-SHA1(secret, user)) into out. Returns 0 or -EINVAL.
 */
int sl_turn_credential(const char *secret, const char *user, char out[SL_TURN_CREDENTIAL_LEN]);

/*
 * The `iceServers` value of `joined`: [{"urls": [uri...], "username":
 * "<now + ttl>:<id>", "credential": ...}]. NULL on failure (or no uris).
 */
json_t *sl_turn_ice_servers(const char (*uris)[256], unsigned n_uris, const char *secret,
			    uint32_t ttl_s, time_t now, const char *id);

#endif

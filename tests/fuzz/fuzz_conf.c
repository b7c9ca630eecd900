/*
 * fuzz_conf.c - libFuzzer target for the config-file reader (--config).
 *
 * A config file is operator input, but a mistyped or truncated one must
 * still be refused cleanly. Any bytes (not NUL-terminated) must give 0 or
 * -EINVAL with a message naming the file, and every setting handed on must
 * be a valid key ([a-z0-9-], not "config") with a value that has no
 * newline, NUL or surrounding blanks - never a crash or a read past the
 * input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/conf.h>

static int check(void *ctx, const char *key, const char *value, char *err, size_t errlen)
{
	size_t n = strlen(key);

	(void)err;
	(void)errlen;
	if (!n || n > SL_CONF_MAX_LINE || key[0] == '-' || !strcmp(key, "config") ||
	    strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
		abort();
	if (value) {
		size_t v = strlen(value);

		if (v > SL_CONF_MAX_LINE || strpbrk(value, "\n") ||
		    (v && (strchr(" \t\r", value[0]) || strchr(" \t\r", value[v - 1]))))
			abort();
	}
	/* Refuse one key, as an option parser would. */
	(*(unsigned *)ctx)++;
	return strcmp(key, "bad") ? 0 : -EINVAL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256] = "";
	unsigned n = 0;
	char *copy = malloc(size ? size : 1); /* exactly size bytes: ASan sees over-reads */
	int r;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	r = sl_conf_parse("fuzz.conf", copy, size, check, &n, err, sizeof(err));
	if (r != 0 && (r != -EINVAL || !strstr(err, "fuzz.conf")))
		abort();
	free(copy);
	return 0;
}

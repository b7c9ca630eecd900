/*
 * conf.h - the `key = value` config files both processes read (--config).
 */
#ifndef SLUICE_CONF_H
#define SLUICE_CONF_H

#include <stddef.h>

/* A config file larger than this is refused (it is a list of options). */
#define SL_CONF_MAX_BYTES (64 * 1024)
/* One line, without its newline. */
#define SL_CONF_MAX_LINE 1024

/*
 * Called once per setting, in file order. key is a long option's name
 * without "--"; value is NULL when the line is the key alone (a flag).
 * Returns 0, or -EINVAL with a message in err (the caller prefixes the
 * file and line).
 */
typedef int (*sl_conf_fn)(void *ctx, const char *key, const char *value, char *err, size_t errlen);

/*
 * Parse text (len bytes, need not be NUL-terminated): blank lines and
 * lines whose first non-blank character is '#' are skipped, a '#' after a
 * space or tab starts a trailing comment, every other line is `key`,
 * `key = value` (spaces around '=' and at both ends are dropped). Keys are
 * [a-z0-9-], not starting with '-'; the key "config" is refused (no
 * nesting), as are NUL bytes, over-long lines and texts over
 * SL_CONF_MAX_BYTES. name is used in messages: "config: NAME:LINE: ...".
 * Returns 0 or -EINVAL (err set).
 */
int sl_conf_parse(const char *name, const char *text, size_t len, sl_conf_fn fn, void *ctx,
		  char *err, size_t errlen);

/* Read the file at path (at most SL_CONF_MAX_BYTES) and sl_conf_parse it. */
int sl_conf_read(const char *path, sl_conf_fn fn, void *ctx, char *err, size_t errlen);

#endif

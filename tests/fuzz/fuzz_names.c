/*
 * fuzz_names.c - libFuzzer target for the room-name score.
 *
 * Room names come from clients (join and check_name messages), and every
 * one is scored by sl_names_score. Any bytes, cut to the 128 the server
 * accepts and NUL-terminated, must give a score that is finite and >= 0,
 * weak exactly when below the threshold, and reasons only when weak, each
 * one of the documented words - never a crash, a leak or a read past the
 * name.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

static const char *const words[] = { "short",           "all_digits",      "date",
				     "dictionary_word", "word_and_number", "product_word",
				     "pattern",         "common_name" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_names_score s;
	unsigned min_bits = size ? data[0] % 100 : 0;
	char *name;

	if (size)
		data++, size--;
	if (size > 128)
		size = 128;
	name = malloc(size + 1); /* exact size: ASan sees any over-read */
	if (!name)
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';
	sl_names_score(name, min_bits, &s);
	free(name);
	double floor = min_bits > SL_NAMES_WEAK_BITS ? min_bits : SL_NAMES_WEAK_BITS;
	if (!isfinite(s.bits) || s.bits < 0 || s.weak != (s.bits < floor))
		abort();
	if (s.n_reasons > SL_NAMES_MAX_REASONS || (!s.weak && s.n_reasons))
		abort();
	for (unsigned i = 0; i < s.n_reasons; i++) {
		bool known = false;
		for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
			known |= !strcmp(s.reasons[i], words[k]);
		if (!known)
			abort();
	}
	return 0;
}

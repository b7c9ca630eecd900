/*
 * names.h - how guessable a room name is (names.c).
 *
 * A room's name is its only key, so a meeting whose name can be guessed
 * can be entered. The score is libzxcvbn's estimate (log2 of the guesses
 * an attacker needs) lowered by checks zxcvbn misses for meeting names:
 * all digits, dates, a single dictionary word with a number, the product's
 * own words. Pure and thread-agnostic; the name is never logged or kept.
 */
#ifndef SLUICE_CP_NAMES_H
#define SLUICE_CP_NAMES_H

#include <stdbool.h>

/* Below this many bits a name is flagged weak, whatever the options. */
#define SL_NAMES_WEAK_BITS   40
#define SL_NAMES_MAX_REASONS 8
/* Names with fewer characters (code points) are "short" and always weak. */
#define SL_NAMES_SHORT_CHARS 10

struct sl_names_score {
	double bits; /* estimated guessing entropy, >= 0 */
	bool weak;   /* bits < max(SL_NAMES_WEAK_BITS, min_bits) */
	unsigned n_reasons;
	/* Stable machine-readable words, static strings (docs/signalling.md):
	 * "short", "all_digits", "date", "dictionary_word", "word_and_number",
	 * "product_word", "pattern" (repeats, sequences, keyboard walks),
	 * "common_name" (names, common words and passwords). Empty when not
	 * weak. */
	const char *reasons[SL_NAMES_MAX_REASONS];
};

/* Score name (NUL-terminated UTF-8, at most 128 bytes). min_bits raises the
 * weak threshold (--min-room-name-bits). Never fails. */
void sl_names_score(const char *name, unsigned min_bits, struct sl_names_score *out);

/* Is word (ASCII, any case) one of the product's words or meeting jargon
 * that the score treats as guessable ("sluice", "meeting", "standup")?
 * scripts/make-wordlist keeps these out of the web client's word list. */
bool sl_names_product_word(const char *word);

#endif

/*
 * test_names.c - the room-name score (controlplane/meeting/names.c).
 *
 * A table of names people really type - numbers, dates in four formats,
 * a word with a counter, the product's words and meeting jargon, short
 * names, keyboard walks - each with the exact reasons it must be flagged
 * for, and strong names (random strings, long passphrases, names made like
 * the web client's) that must not be flagged. The table is printed with
 * its bits. Then the web client's word list (web/words.txt, path in
 * SLUICE_WORDS) is checked against the scorer: 8192 unique words, none of
 * them a product word, and names built like web/names.js builds them (five
 * distinct words, CamelCase) score not weak: 200 drawn at random, every
 * word of the list in at least one name, and the weakest name the list
 * allows (its five lowest-scoring words). Last, hostile input: NULL, empty,
 * over-long, invalid UTF-8 and random bytes, checked under ASan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "names.h"

#define N_WORDS  8192
#define PER_NAME 5

struct row {
	const char *name;
	bool weak;
	const char *reasons; /* the exact reasons, space-separated, in order */
};

static const struct row table[] = {
	/* weak */
	{ "12345678", true, "short all_digits dictionary_word" },
	{ "4915112345678", true, "all_digits common_name" },
	{ "0049 151 1234 5678", true, "all_digits pattern" },
	{ "2026-12-03", true, "all_digits date" },
	{ "03.12.2026", true, "all_digits date" },
	{ "20261203", true, "short all_digits date" },
	{ "december2026", true, "date word_and_number common_name" },
	{ "Dec-3-2026", true, "date" },
	{ "standup-2026-12-03", true, "date product_word" },
	{ "meeting123", true, "word_and_number product_word common_name" },
	{ "Standup2", true, "short word_and_number product_word common_name" },
	{ "elephant42", true, "word_and_number common_name" },
	{ "2024budget", true, "word_and_number common_name" },
	{ "sluice", true, "short dictionary_word product_word" },
	{ "SluiceTeamSync", true, "product_word common_name" },
	{ "sluicemeeting", true, "product_word common_name" },
	{ "weekly-team-meeting", true, "product_word common_name" },
	{ "JitsiTestCall", true, "product_word common_name" },
	{ "MyDailyStandup", true, "product_word common_name" },
	{ "abc", true, "short pattern" },
	{ "Xk7#q", true, "short" },
	{ "qwertyuiopasdf", true, "common_name" },
	{ "aaaaaaaaaaaaaaaaaaaa", true, "pattern common_name" },
	{ "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
	  "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac",
	  true, "pattern" },
	{ "password123456", true, "word_and_number common_name" },
	{ "elephant", true, "short dictionary_word" },
	{ "correcthorse", true, "common_name" },
	{ "michaeljordan", true, "common_name" },
	/* strong */
	{ "BrightOtterSingsQuietly", false, "" },
	{ "BrightOtterSingsQuietlyNow", false, "" },
	{ "abacus-nostril-zigzag-turret-lettuce", false, "" },
	{ "xq7Kp2vLm9wR", false, "" },
	{ "bakmel-tosrin-hufdag-zepnol", false, "" },
	{ "correct horse battery staple", false, "" },
	{ "TopazValiantWhiffSymbolAbuzz", false, "" },
	{ "k8Jd93nQ0zLx4", false, "" },
	{ "Ostsee Segeltörn Planungsrunde", false, "" },
};

static void expect_reasons(const struct sl_names_score *s, const char *want)
{
	char buf[256] = "";

	for (unsigned i = 0; i < s->n_reasons; i++) {
		if (i)
			strcat(buf, " ");
		strcat(buf, s->reasons[i]);
	}
	assert_string_equal(buf, want);
}

static void score_table(void **state)
{
	(void)state;
	printf("%-40s %7s %-5s %s\n", "name", "bits", "weak", "reasons");
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct sl_names_score s;

		sl_names_score(table[i].name, 0, &s);
		printf("%-40s %7.2f %-5s", table[i].name, s.bits, s.weak ? "weak" : "-");
		for (unsigned r = 0; r < s.n_reasons; r++)
			printf(" %s", s.reasons[r]);
		printf("\n");
		if (s.weak != table[i].weak)
			fail_msg("%s: weak=%d, want %d", table[i].name, s.weak, table[i].weak);
		assert_true(s.bits >= 0);
		assert_true(s.weak == (s.bits < SL_NAMES_WEAK_BITS));
		expect_reasons(&s, table[i].reasons);
	}
}

/* min_bits only raises the threshold: bits < max(SL_NAMES_WEAK_BITS, min_bits). */
static void threshold(void **state)
{
	struct sl_names_score s, t;

	(void)state;
	sl_names_score("BrightOtterSingsQuietly", 0, &s);
	assert_true(s.bits > SL_NAMES_WEAK_BITS && s.bits < 80);
	assert_false(s.weak);
	assert_int_equal(s.n_reasons, 0);
	sl_names_score("BrightOtterSingsQuietly", 80, &t);
	assert_true(t.weak);
	assert_true(t.bits == s.bits);
	sl_names_score("BrightOtterSingsQuietly", (unsigned)s.bits, &t);
	assert_false(t.weak);
	sl_names_score("BrightOtterSingsQuietly", (unsigned)s.bits + 1, &t);
	assert_true(t.weak);
	/* a lower min_bits never lowers the floor */
	sl_names_score("meeting123", 1, &t);
	assert_true(t.weak);
	assert_true(sl_names_product_word("Standup"));
	assert_true(sl_names_product_word("SLUICE"));
	assert_false(sl_names_product_word("otter"));
	assert_false(sl_names_product_word(NULL));
}

static char words[N_WORDS][8];

static void load_words(void)
{
	const char *path = getenv("SLUICE_WORDS");
	FILE *f = path ? fopen(path, "r") : NULL;
	char line[64];
	size_t n = 0;

	if (!f)
		fail_msg("cannot open the word list (SLUICE_WORDS=%s)", path ? path : "unset");
	while (fgets(line, sizeof(line), f)) {
		size_t len = strcspn(line, "\n");
		line[len] = '\0';
		assert_true(n < N_WORDS);
		assert_true(len >= 4 && len <= 7);
		for (size_t i = 0; i < len; i++)
			assert_true(line[i] >= 'a' && line[i] <= 'z');
		memcpy(words[n++], line, len + 1);
	}
	fclose(f);
	assert_int_equal(n, N_WORDS);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void word_list(void **state)
{
	static char sorted[N_WORDS][8];

	(void)state;
	load_words();
	memcpy(sorted, words, sizeof(words));
	qsort(sorted, N_WORDS, sizeof(sorted[0]), cmp_str);
	for (size_t i = 0; i < N_WORDS; i++) {
		if (i)
			assert_true(strcmp(sorted[i - 1], sorted[i]) < 0);
		if (sl_names_product_word(sorted[i]))
			fail_msg("product word in the list: %s", sorted[i]);
	}
}

/* The name names.js builds from five word indices. */
static void build(char *out, const unsigned idx[PER_NAME])
{
	size_t n = 0;

	for (int w = 0; w < PER_NAME; w++) {
		const char *s = words[idx[w]];
		out[n++] = (char)(s[0] - 'a' + 'A');
		for (size_t i = 1; s[i]; i++)
			out[n++] = s[i];
	}
	out[n] = '\0';
}

static double check_generated(const unsigned idx[PER_NAME], bool print)
{
	char name[PER_NAME * 7 + 1];
	struct sl_names_score s;

	build(name, idx);
	sl_names_score(name, 0, &s);
	if (print)
		printf("%-40s %7.2f %s\n", name, s.bits, s.weak ? "weak" : "-");
	if (s.weak)
		fail_msg("generated name %s is weak (%.2f bits, %s)", name, s.bits,
			 s.n_reasons ? s.reasons[0] : "no reason");
	return s.bits;
}

/* xorshift64*: reproducible draws for the test; names.js uses
 * crypto.getRandomValues. 13 bits of 8192 words: no modulo bias. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned draw13(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (unsigned)((rng * 2685821657736338717ull) >> 51) & (N_WORDS - 1);
}

static void random_name(unsigned idx[PER_NAME])
{
	for (int w = 0; w < PER_NAME; w++) {
		bool again;
		do {
			idx[w] = draw13();
			again = false;
			for (int v = 0; v < w; v++)
				again |= idx[v] == idx[w];
		} while (again);
	}
}

static void generated_names(void **state)
{
	unsigned idx[PER_NAME];
	double lo = 1e9, hi = 0, sum = 0;

	(void)state;
	load_words();
	printf("generated names (first 10 of 200):\n");
	for (int i = 0; i < 200; i++) {
		random_name(idx);
		double b = check_generated(idx, i < 10);
		lo = b < lo ? b : lo;
		hi = b > hi ? b : hi;
		sum += b;
	}
	printf("200 random names: lowest %.2f, mean %.2f, highest %.2f bits\n", lo, sum / 200, hi);

	/* every word in at least one name */
	for (unsigned i = 0; i < N_WORDS; i += PER_NAME) {
		for (int w = 0; w < PER_NAME; w++)
			idx[w] = (i + (unsigned)w) % N_WORDS;
		check_generated(idx, false);
	}

	/* the weakest name the list allows: its five lowest-scoring words */
	unsigned low[PER_NAME];
	double lowb[PER_NAME];
	for (int w = 0; w < PER_NAME; w++)
		lowb[w] = 1e9;
	for (unsigned i = 0; i < N_WORDS; i++) {
		char one[8];
		struct sl_names_score s;
		memcpy(one, words[i], sizeof(one));
		one[0] = (char)(one[0] - 'a' + 'A');
		sl_names_score(one, 0, &s);
		for (int w = 0; w < PER_NAME; w++) {
			if (s.bits < lowb[w]) {
				for (int v = PER_NAME - 1; v > w; v--) {
					lowb[v] = lowb[v - 1];
					low[v] = low[v - 1];
				}
				lowb[w] = s.bits;
				low[w] = i;
				break;
			}
		}
	}
	printf("weakest possible name:\n");
	check_generated(low, true);
}

static void hostile_input(void **state)
{
	struct sl_names_score s;
	char buf[300];

	(void)state;
	sl_names_score(NULL, 0, &s);
	assert_true(s.weak);
	sl_names_score("", 0, &s);
	assert_true(s.weak);
	assert_true(s.bits == 0);
	expect_reasons(&s, "short");
	memset(buf, 'x', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	sl_names_score(buf, 0, &s); /* read up to 128 bytes only */
	assert_true(s.weak);
	const char *odd[] = { "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5",
			      "\xc3",
			      "\xe2\x82",
			      "2026-12-",
			      "2026-12-0",
			      "12.",
			      "1.1.",
			      "-2026",
			      "dec",
			      "december",
			      "december-",
			      "-3december",
			      "99999999",
			      "20261399",
			      "2026/12/03/04",
			      "may-" };
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		sl_names_score(odd[i], 0, &s);
		assert_true(s.bits >= 0);
		assert_true(s.n_reasons <= SL_NAMES_MAX_REASONS);
	}
	/* random bytes and random strings of every length, to 128 */
	for (int n = 0; n < 2000; n++) {
		size_t len = (size_t)n % 129;
		for (size_t i = 0; i < len; i++) {
			uint8_t b = (uint8_t)(draw13() & 0xff);
			if (n & 1) /* half: printable, digits and separators */
				b = (uint8_t)("0123456789-./ aAbBdecjanmay"[b % 27]);
			buf[i] = b ? (char)b : 'x';
		}
		buf[len] = '\0';
		sl_names_score(buf, (unsigned)n % 100, &s);
		assert_true(s.bits >= 0);
		assert_true(s.n_reasons <= SL_NAMES_MAX_REASONS);
		assert_true(s.weak || s.n_reasons == 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(score_table),   cmocka_unit_test(threshold),
		cmocka_unit_test(word_list),     cmocka_unit_test(generated_names),
		cmocka_unit_test(hostile_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

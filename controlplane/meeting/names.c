/*
 * names.c - how guessable a room name is (see names.h).
 *
 * The estimate starts from libzxcvbn (dictionaries of words, names and
 * passwords; repeats, sequences, keyboard walks, dates), which rates a
 * password. A meeting name is guessed differently: attackers try the
 * product's own words and meeting jargon ("sluice-standup"), dates
 * ("weekly-2026-12-03"), a word with a counter ("meeting123"), numbers and
 * short names first. Each of those checks gives its own, lower estimate of
 * the name and a reason word; the score is the lowest estimate. Checks that
 * explain a part of the name (product words, dates) are priced at a fixed
 * cost for that part plus zxcvbn's estimate of the rest.
 *
 * Input is client bytes: everything is bounded by SL_NAMES_MAX_BYTES, works
 * on any bytes (non-ASCII bytes are never letters or digits here) and
 * allocates only inside libzxcvbn. Case is ignored except to find the words
 * of CamelCase names ("SluiceTeamSync").
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <zxcvbn.h>

#include "names.h"

#define SL_NAMES_MAX_BYTES 128
/* A date in any common format: about 2^16 days in +-90 years, times formats. */
#define DATE_BITS 16.0
/* One of the ~64 product words below. */
#define PRODUCT_WORD_BITS 6.0
/* Credited per character of a short name and per digit of a number people
 * pick (phone numbers, PINs, counters): half of log2(10). */
#define SHORT_CHAR_BITS   4.0
#define PICKED_DIGIT_BITS 1.66

/* Keep in step with DENY in scripts/make-wordlist. */
static const char *const product_words[] = {
	"sluice",  "jitsi",    "webrtc",   "zoom",       "meet",     "meets",    "meetup",
	"meeting", "meetings", "room",     "rooms",      "test",     "tests",    "testing",
	"call",    "calls",    "sync",     "standup",    "daily",    "weekly",   "monthly",
	"team",    "teams",    "chat",     "conf",       "video",    "demo",     "huddle",
	"scrum",   "retro",    "review",   "lobby",      "session",  "webinar",  "class",
	"lecture", "office",   "hangout",  "general",    "private",  "secret",   "public",
	"admin",   "guest",    "guests",   "default",    "hello",    "party",    "event",
	"talk",    "group",    "project",  "kickoff",    "sprint",   "planning", "interview",
	"host",    "server",   "allhands", "onboarding", "oneonone", "sfu",      "my",
	"our",     "the",      "new",
};

static const char *const months[] = {
	"january", "february", "march",     "april",   "may",      "june",
	"july",    "august",   "september", "october", "november", "december",
};
static const char *const month_abbr[] = {
	"jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
};

struct scan {
	char s[SL_NAMES_MAX_BYTES + 1];  /* the name, cut at the limit */
	char lc[SL_NAMES_MAX_BYTES + 1]; /* ASCII-lowercased */
	bool span[SL_NAMES_MAX_BYTES];   /* byte explained by a product word or date */
	size_t len;
	unsigned n_product, n_date;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_sep(char c)
{
	return c == ' ' || c == '-' || c == '_' || c == '.' || c == '/' || c == ':' || c == ',';
}

static char lower(char c)
{
	return is_upper(c) ? (char)(c - 'A' + 'a') : c;
}

static double zx(const char *s)
{
	return *s ? ZxcvbnMatch(s, NULL, NULL) : 0.0;
}

/* Is lc[0..n) (lower case) one of the product words? */
static bool product_n(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(product_words) / sizeof(product_words[0]); i++)
		if (strlen(product_words[i]) == n && !memcmp(product_words[i], s, n))
			return true;
	return false;
}

bool sl_names_product_word(const char *word)
{
	char w[32];
	size_t n = word ? strnlen(word, sizeof(w)) : sizeof(w);

	if (n >= sizeof(w))
		return false;
	for (size_t i = 0; i < n; i++)
		w[i] = lower(word[i]);
	return product_n(w, n);
}

/* Fewest product words lc[0..n) splits into, or 0 if it does not. */
static unsigned product_split(const char *lc, size_t n)
{
	unsigned best[SL_NAMES_MAX_BYTES + 1];

	best[0] = 0;
	for (size_t e = 1; e <= n; e++) {
		best[e] = UINT32_MAX;
		for (size_t b = 0; b < e; b++)
			if (best[b] != UINT32_MAX && best[b] + 1 < best[e] &&
			    product_n(lc + b, e - b))
				best[e] = best[b] + 1;
	}
	return best[n] == UINT32_MAX ? 0 : best[n];
}

static void mark(struct scan *sc, size_t b, size_t e)
{
	for (size_t i = b; i < e && i < sc->len; i++)
		sc->span[i] = true;
}

/* Product words: a run of ASCII letters made only of product words
 * ("sluicemeeting"), or a CamelCase word of it that is ("BrightTeamSync"). */
static void find_product_words(struct scan *sc)
{
	size_t i = 0;

	while (i < sc->len) {
		if (!is_lower(sc->lc[i])) {
			i++;
			continue;
		}
		size_t b = i, e = i;
		while (e < sc->len && is_lower(sc->lc[e]))
			e++;
		unsigned n = product_split(sc->lc + b, e - b);
		if (n) {
			sc->n_product += n;
			mark(sc, b, e);
		} else {
			/* CamelCase words: split before an upper-case letter that
			 * follows a lower-case one, or that starts "Xy" after "X". */
			size_t t = b;
			for (size_t k = b + 1; k <= e; k++) {
				bool cut = k == e || (is_upper(sc->s[k]) &&
						      (is_lower(sc->s[k - 1]) ||
						       (k + 1 < e && is_lower(sc->s[k + 1]))));
				if (!cut)
					continue;
				n = product_split(sc->lc + t, k - t);
				if (n) {
					sc->n_product += n;
					mark(sc, t, k);
				}
				t = k;
			}
		}
		i = e;
	}
}

/* The run of digits at p (at most 8 are read), its length in *n. */
static unsigned digits_at(const char *p, size_t *n)
{
	unsigned v = 0;

	*n = 0;
	while (is_digit(p[*n])) {
		if (*n < 8)
			v = v * 10 + (unsigned)(p[*n] - '0');
		(*n)++;
	}
	return v;
}

static bool day_month(unsigned d, unsigned m)
{
	return d >= 1 && d <= 31 && m >= 1 && m <= 12;
}

static bool year4(unsigned y)
{
	return y >= 1900 && y <= 2099;
}

/* Is the 6- or 8-digit number v a date (YYYYMMDD, DDMMYYYY, MMDDYYYY, or the
 * same with two-digit years)? */
static bool packed_date(unsigned v, size_t n)
{
	if (n == 8)
		return (year4(v / 10000) && day_month(v % 100, v / 100 % 100)) ||
		       (year4(v % 10000) && (day_month(v / 1000000, v / 10000 % 100) ||
					     day_month(v / 10000 % 100, v / 1000000)));
	return day_month(v % 100, v / 100 % 100) || day_month(v / 10000, v / 100 % 100) ||
	       day_month(v / 100 % 100, v / 10000);
}

/* Numeric dates starting at lc[i] (a digit after a non-digit): Y-M-D,
 * D.M.Y, M/D/Y (one separator, used twice) or packed; the length or 0. */
static size_t numeric_date(const char *p)
{
	size_t n1, n2, n3;
	unsigned a = digits_at(p, &n1);

	if ((n1 == 8 || n1 == 6) && packed_date(a, n1))
		return n1;
	if (n1 > 4 || !is_sep(p[n1]) || !is_digit(p[n1 + 1]))
		return 0;
	char sep = p[n1];
	unsigned b = digits_at(p + n1 + 1, &n2);
	if (n2 > 2 || p[n1 + 1 + n2] != sep || !is_digit(p[n1 + 2 + n2]))
		return 0;
	unsigned c = digits_at(p + n1 + 2 + n2, &n3);
	if (n1 == 4 && n3 <= 2 && year4(a) && day_month(c, b))
		return n1 + n2 + n3 + 2;
	if (n1 <= 2 && (n3 == 4 || n3 == 2) && (n3 == 2 || year4(c)) &&
	    (day_month(a, b) || day_month(b, a)))
		return n1 + n2 + n3 + 2;
	return 0;
}

/* Does a day (1-31) or a year (1900-2099) start at p? Its length or 0. */
static size_t day_or_year(const char *p)
{
	size_t n;
	unsigned v = digits_at(p, &n);

	if ((n == 1 || n == 2) && v >= 1 && v <= 31)
		return n;
	return n == 4 && year4(v) ? 4 : 0;
}

/* A month name next to a day or a year ("december2026", "3-dec",
 * "March 3 2026"): mark it and return true. */
static bool month_date(struct scan *sc, size_t b, size_t e)
{
	const char *lc = sc->lc;
	size_t end = e, start = b, k;

	k = e + (e < sc->len && is_sep(lc[e]));
	size_t n = day_or_year(lc + k);
	if (n) {
		end = k + n;
		k = end + (end < sc->len && is_sep(lc[end]));
		size_t y = n <= 2 ? day_or_year(lc + k) : 0;
		if (y == 4)
			end = k + y;
	}
	if (b > 0) {
		k = b - (is_sep(lc[b - 1]) && b > 1);
		size_t s = k;
		while (s > 0 && is_digit(lc[s - 1]))
			s--;
		if (s < k && (s == 0 || !is_digit(lc[s - 1])) && day_or_year(lc + s) == k - s)
			start = s;
	}
	if (start == b && end == e)
		return false;
	mark(sc, start, end);
	sc->n_date++;
	return true;
}

static void find_dates(struct scan *sc)
{
	const char *lc = sc->lc;

	for (size_t i = 0; i < sc->len; i++) {
		if (is_digit(lc[i]) && (i == 0 || !is_digit(lc[i - 1]))) {
			size_t n = numeric_date(lc + i);
			if (n) {
				mark(sc, i, i + n);
				sc->n_date++;
				i += n - 1;
			}
			continue;
		}
		if (!is_lower(lc[i]))
			continue;
		/* Full month names anywhere; abbreviations only as a whole
		 * run of letters ("dec2026", not "decade"). */
		for (size_t m = 0; m < 12; m++) {
			size_t n = strlen(months[m]);
			if (i + n <= sc->len && !memcmp(lc + i, months[m], n) &&
			    month_date(sc, i, i + n))
				break;
		}
		if (i == 0 || !is_lower(lc[i - 1])) {
			size_t e = i;
			while (e < sc->len && is_lower(lc[e]))
				e++;
			for (size_t m = 0; m < sizeof(month_abbr) / sizeof(month_abbr[0]); m++)
				if (strlen(month_abbr[m]) == e - i &&
				    !memcmp(lc + i, month_abbr[m], e - i) && month_date(sc, i, e))
					break;
		}
	}
}

/* zxcvbn's estimate of the name without the marked spans, plus their cost. */
static double spans_estimate(const struct scan *sc)
{
	char rest[SL_NAMES_MAX_BYTES + 1];
	size_t n = 0;

	for (size_t i = 0; i < sc->len; i++)
		if (!sc->span[i])
			rest[n++] = sc->s[i];
	rest[n] = '\0';
	return zx(rest) + sc->n_product * PRODUCT_WORD_BITS + sc->n_date * DATE_BITS;
}

/* "meeting123", "Standup2", "2standup": one word (zxcvbn's dictionaries or
 * a product word) and one number, in either order, maybe a separator. */
static bool word_and_number(const struct scan *sc, double *est)
{
	const char *lc = sc->lc;
	size_t i = 0, lb, le, db, de;
	char word[SL_NAMES_MAX_BYTES + 1];

	if (is_digit(lc[0])) {
		db = 0;
		while (is_digit(lc[i]))
			i++;
		de = i;
		i += is_sep(lc[i]);
		lb = i;
		while (is_lower(lc[i]))
			i++;
		le = i;
	} else {
		lb = 0;
		while (is_lower(lc[i]))
			i++;
		le = i;
		i += is_sep(lc[i]);
		db = i;
		while (is_digit(lc[i]))
			i++;
		de = i;
	}
	if (i != sc->len || lb == le || db == de)
		return false;
	memcpy(word, lc + lb, le - lb);
	word[le - lb] = '\0';
	double wbits;
	if (product_n(word, le - lb)) {
		wbits = PRODUCT_WORD_BITS;
	} else {
		ZxcMatch_t *info = NULL;
		wbits = ZxcvbnMatch(word, NULL, &info);
		bool one = info && !info->Next && info->Length == (int)(le - lb) &&
			   ((info->Type & 31) == DICTIONARY_MATCH ||
			    (info->Type & 31) == DICT_LEET_MATCH);
		ZxcvbnFreeInfo(info);
		if (!one)
			return false;
	}
	*est = wbits + (double)(de - db) * PICKED_DIGIT_BITS + 1.0;
	return true;
}

/* A name that is one unit repeated ("€€€€€€€€€€€€", "abcabcabc..."):
 * zxcvbn finds ASCII repeats only. */
static bool repeated(const struct scan *sc, double *est)
{
	for (size_t p = 1; p <= sc->len / 2; p++) {
		if (sc->len % p)
			continue;
		size_t k = p;
		while (k < sc->len && sc->s[k] == sc->s[k - p])
			k++;
		if (k == sc->len) {
			char unit[SL_NAMES_MAX_BYTES + 1];
			memcpy(unit, sc->s, p);
			unit[p] = '\0';
			*est = zx(unit) + log2((double)(sc->len / p));
			return true;
		}
	}
	return false;
}

/* What zxcvbn's matches say: one dictionary word, patterns, common words. */
struct zx_kinds {
	bool dictionary_word, pattern, common_name;
};

static double zx_full(const struct scan *sc, struct zx_kinds *k)
{
	ZxcMatch_t *info = NULL;
	size_t dict = 0, pat = 0, n_dict = 0;
	double bits;

	if (!sc->len)
		return 0.0;
	bits = ZxcvbnMatch(sc->s, NULL, &info);
	for (ZxcMatch_t *m = info; m; m = m->Next) {
		switch (m->Type & 31) {
		case DICTIONARY_MATCH:
		case DICT_LEET_MATCH:
			dict += (size_t)m->Length;
			n_dict++;
			break;
		case REPEATS_MATCH:
		case SEQUENCE_MATCH:
		case SPATIAL_MATCH:
			pat += (size_t)m->Length;
			break;
		default:
			break;
		}
	}
	k->dictionary_word = n_dict == 1 && dict == sc->len && !(info->Type & MULTIPLE_MATCH);
	k->pattern = 3 * pat >= sc->len;
	k->common_name = !k->dictionary_word && 2 * dict >= sc->len;
	ZxcvbnFreeInfo(info);
	return bits;
}

static void add(struct sl_names_score *out, bool yes, const char *reason)
{
	if (yes && out->n_reasons < SL_NAMES_MAX_REASONS)
		out->reasons[out->n_reasons++] = reason;
}

void sl_names_score(const char *name, unsigned min_bits, struct sl_names_score *out)
{
	struct scan sc;
	struct zx_kinds k = { 0 };
	size_t chars = 0, digits = 0, others = 0;
	double bits, est;

	memset(out, 0, sizeof(*out));
	memset(&sc, 0, sizeof(sc));
	sc.len = name ? strnlen(name, SL_NAMES_MAX_BYTES) : 0;
	memcpy(sc.s, name ? name : "", sc.len);
	for (size_t i = 0; i < sc.len; i++) {
		sc.lc[i] = lower(sc.s[i]);
		chars += ((unsigned char)sc.s[i] & 0xc0) != 0x80;
		if (is_digit(sc.s[i]))
			digits++;
		else if (!is_sep(sc.s[i]))
			others++;
	}

	bits = zx_full(&sc, &k);

	bool is_short = chars < SL_NAMES_SHORT_CHARS;
	if (is_short)
		bits = fmin(bits, (double)chars * SHORT_CHAR_BITS);
	bool all_digits = digits && !others;
	if (all_digits)
		bits = fmin(bits, (double)digits * PICKED_DIGIT_BITS);
	find_product_words(&sc);
	find_dates(&sc);
	if (sc.n_product || sc.n_date)
		bits = fmin(bits, spans_estimate(&sc));
	bool wn = sc.len && word_and_number(&sc, &est);
	if (wn)
		bits = fmin(bits, est);
	bool rep = sc.len && repeated(&sc, &est);
	if (rep)
		bits = fmin(bits, est);

	out->bits = bits > 0 ? bits : 0;
	out->weak =
		out->bits < (double)(min_bits > SL_NAMES_WEAK_BITS ? min_bits : SL_NAMES_WEAK_BITS);
	if (!out->weak)
		return;
	add(out, is_short, "short");
	add(out, all_digits, "all_digits");
	add(out, sc.n_date, "date");
	add(out, k.dictionary_word, "dictionary_word");
	add(out, wn, "word_and_number");
	add(out, sc.n_product, "product_word");
	add(out, k.pattern || rep, "pattern");
	add(out, k.common_name, "common_name");
}

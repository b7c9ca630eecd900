/*
 * fuzz_ctl.c - libFuzzer target for control-socket message validation.
 *
 * Both directions are validated; a message that passes is then read field
 * by field the way the receiving process would (key lengths of its
 * profile, packet data up to data_len, counters up to n), so an accepted
 * message that would make a reader step outside it is caught by ASan.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/ctl.h>

static volatile uint8_t sink;

static void touch(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sink ^= p[i];
}

static void read_as_receiver(const uint8_t *data, size_t size)
{
	struct sl_ctl_hdr h;

	memcpy(&h, data, sizeof(h));
	if (h.len != size)
		abort();
	if (h.type == SL_CTL_EP_ADD || h.type == SL_CTL_EP_UPDATE) {
		const struct sl_ctl_ep *m = (const void *)data;
		unsigned kl = sl_srtp_profile_key_len(m->profile), sl = sl_srtp_profile_salt_len(m->profile);

		if ((h.type == SL_CTL_EP_ADD || (m->flags & SL_EP_UPD_KEYS)) && (!kl || !sl))
			abort(); /* accepted keys of an unknown profile */
		touch(m->rx.key, kl);
		touch(m->tx.salt, sl);
	} else if (h.type == SL_CTL_PKT_DOWN || h.type == SL_CTL_PKT_UP) {
		const struct sl_ctl_pkt *m = (const void *)data;

		touch(m->data, m->data_len);
	} else if (h.type == SL_CTL_COUNTERS) {
		const struct sl_ctl_counters *m = (const void *)data;

		touch((const uint8_t *)m->value, 8u * m->n);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An aligned copy of exactly the input's size, as recv() would leave it. */
	uint8_t *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	for (int down = 0; down < 2; down++)
		if (sl_ctl_validate(buf, size, down) == 0)
			read_as_receiver(buf, size);
	free(buf);
	return 0;
}

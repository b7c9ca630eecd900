/*
 * ctl.h - the operator API, node side: commands from the Redis stream
 * sl:ctl, replies to sl:ctl:reply:REQ (docs/operators.md, "Operator API").
 */
#ifndef SLUICE_CP_CTL_H
#define SLUICE_CP_CTL_H

/* Read the stream every 200 ms from now on (on the store's connection). */
void sl_ctl_start(void);
void sl_ctl_stop(void);

#endif

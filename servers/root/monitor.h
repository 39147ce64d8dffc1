/* The live monitor (monitor.c): a top-like table of the kernel's figures
 * since the last report, printed on the console. */
#pragma once
#include "servers/root/root.h"

/* A Memory object to report: its quota and use. */
struct mon_memory {
	const char *name;
	cptr_t mem;
};

/* Print the table: per CPU its busy and idle time and the thread it runs;
 * per thread its CPU time, messages and exits; per guest (threads named
 * "gN.vcpuK") its exits by reason; per Memory object its quota and use. */
void monitor_report(const char *why, const struct mon_memory *m, unsigned n);
/* Take the figures the first report starts from, saying nothing. */
void monitor_baseline(void);

/* Reports every `ms` milliseconds: the EL1 physical timer of this CPU
 * (PPI 30, open to EL0) signals `bits` on notification n when one is due.
 * False if the line is not to be had. */
bool monitor_every(uint64_t ms, cptr_t n, uint64_t bits);
/* A report is due: arm the next. */
void monitor_tick(void);

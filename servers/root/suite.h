/* Tests of the user-level suite that live outside tests.c: tests_io.c,
 * tests_threads.c, tests_errors.c; and helpers they share. */
#pragma once
#include <stdbool.h>
#include "cairn/abi.h"

bool t_user_irq(void);
bool t_ring_between_tasks(void);
bool t_page_transfer(void);
bool t_thread_errors(void);
bool t_cap_and_map_errors(void);
bool t_fp_state(void);
bool t_cancellations(void);
bool t_boot_info(void);
bool t_map_out_of_memory(void);

/* tests_devices.c: the device frame covering physical address pa (0 if
 * none) and pa's offset in it; a DTB device's base and interrupt (INTID). */
bool dt_device(const char *compatible, uint64_t *base, uint64_t *intid);

/* tests_hotplug.c: until CPU 1 says it is on line (on 1) or off (0),
 * asking again and again and yielding meanwhile, or 10 s. */
/* CPU cpu (1: CPU 1) on (1) or off (0) line, asking until it has got there
 * (10 s at most); false, with a line saying why, if it has not. */
bool cpu_becomes(uint64_t cpu, uint64_t on);
bool cpu1_becomes(uint64_t on);

/* tests_stats.c: name a thread (up to 16 bytes of s); page `page` of the
 * live thread named s, by SYS_STATS_THREAD (false: none is). */
err_t stats_set_name(cptr_t thread, const char *s);
bool stats_named(const char *s, uint64_t page, uint64_t r[5]);

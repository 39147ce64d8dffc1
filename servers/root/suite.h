/* Tests of the user-level suite that live outside tests.c: tests_io.c,
 * tests_threads.c, tests_errors.c. */
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

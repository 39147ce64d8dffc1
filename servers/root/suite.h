/* Tests of the user-level suite that live outside tests.c. */
#pragma once
#include <stdbool.h>

bool t_user_irq(void);
bool t_ring_between_tasks(void);
bool t_page_transfer(void);
bool t_more_errors(void);
bool t_fp_state(void);
bool t_cancellations(void);
bool t_boot_info(void);
bool t_map_out_of_memory(void);

#pragma once
struct boot_info;
/* Build the root task from the image linked into the kernel and make it
 * runnable on this CPU. */
void root_task_create(const struct boot_info *bi);

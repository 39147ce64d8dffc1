/* Benchmarks, run with cairn.root=bench under QEMU -icount shift=0. */
#include "servers/root/root.h"

void run_bench(void) { printf("bench: not yet\n"); }

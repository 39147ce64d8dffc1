/* The kernel console: the UART named by /chosen/stdout-path, or the
 * architecture's early console when the DTB does not name a usable one. */
#include <libfdt.h>

#include "hyp/arch.h"
#include "hyp/console.h"
#include "hyp/dtb.h"
#include "hyp/fbcon.h"
#include "hyp/string.h"

static const struct uart_driver *uart;
static volatile void *uart_base;
static struct mem_range uart_range;
static uint64_t uart_irq = CONSOLE_NO_IRQ;

/* The UART's interrupt as the controller numbers it: three cells (GIC:
 * type 0 SPI, 1 PPI; number; flags) or one (PLIC source). */
static uint64_t irq_of(const void *fdt, int node)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, "interrupts", &len);
	if (p && len == 12)
		return (fdt32_to_cpu(p[0]) == 0 ? 32 : 16) + (uint64_t)fdt32_to_cpu(p[1]);
	if (p && len == 4)
		return fdt32_to_cpu(p[0]);
	return CONSOLE_NO_IRQ;
}

static const struct uart_driver *find_driver(const void *fdt, int node)
{
	for (const struct uart_driver *const *d = uart_drivers; *d; d++)
		if (fdt_node_check_compatible(fdt, node, (*d)->compatible) == 0)
			return *d;
	return NULL;
}

void console_init(const void *fdt)
{
	if (fdt_check_header(fdt) != 0 || fdt_totalsize(fdt) > DTB_MAX_SIZE)
		return;
	int chosen = fdt_path_offset(fdt, "/chosen");
	const char *path = chosen < 0 ? NULL :
		fdt_getprop(fdt, chosen, "stdout-path", NULL);
	if (!path)
		return;
	const char *colon = strchr(path, ':'); /* "serial0:115200n8" */
	int node = fdt_path_offset_namelen(fdt, path,
		colon ? (int)(colon - path) : (int)strlen(path));
	if (node < 0)
		return;
	const struct uart_driver *drv = find_driver(fdt, node);
	struct mem_range r;
	if (!drv || dtb_reg(fdt, node, 0, &r) != E_OK)
		return;
	uart_range = r;
	uart_base = (volatile void *)(uintptr_t)pa_addr(r.base);
	uart = drv;
	if (drv->rx_interrupts && (uart_irq = irq_of(fdt, node)) != CONSOLE_NO_IRQ)
		drv->rx_interrupts(uart_base);
}

/* Most ports have no framebuffer console (hyp/fbcon.c) to mirror on. */
__attribute__((weak)) void fbcon_putc(char c) { (void)c; }

/* Most early consoles are output only. */
__attribute__((weak)) int arch_early_getc(void) { return -1; }
__attribute__((weak)) uint64_t arch_early_irq(void) { return CONSOLE_NO_IRQ; }

int console_getc(void)
{
	if (!uart)
		return arch_early_getc();
	return uart->getc ? uart->getc(uart_base) : -1;
}

uint64_t console_irq(void) { return uart ? uart_irq : arch_early_irq(); }

struct mem_range console_region(void) { return uart_range; }

void console_write(const char *s, size_t n)
{
	for (; n; n--, s++) {
		fbcon_putc(*s);
		if (*s == '\n')
			uart ? uart->putc(uart_base, '\r') : arch_early_putc('\r');
		uart ? uart->putc(uart_base, *s) : arch_early_putc(*s);
	}
}

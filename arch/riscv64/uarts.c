#include "hyp/console.h"

extern const struct uart_driver uart_ns16550;
const struct uart_driver *const uart_drivers[] = { &uart_ns16550, NULL };

#include "hyp/console.h"

extern const struct uart_driver uart_pl011;
const struct uart_driver *const uart_drivers[] = { &uart_pl011, NULL };

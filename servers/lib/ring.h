/* A bounded lock-free single-producer single-consumer ring over shared
 * memory: the producer owns `head`, the consumer owns `tail`, each reads
 * the other's with acquire and publishes its own with release, so neither
 * ever waits on a lock.  The producer signals a notification only when the
 * ring goes from empty to non-empty, so a busy consumer costs no system
 * calls.  Capacity is a power of two; entries are 64-bit words. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct ring {
	uint64_t head;   /* next slot the producer writes (producer-owned) */
	uint64_t _pad0[7];
	uint64_t tail;   /* next slot the consumer reads (consumer-owned) */
	uint64_t _pad1[7];
	uint64_t mask;   /* capacity - 1 */
	uint64_t slot[];
};

/* Lay a ring of 2^order entries out in `mem`. */
struct ring *ring_init(void *mem, unsigned order);
/* false if full.  *was_empty says whether the consumer must be woken: it
 * had taken every word before this one, and may be asleep. */
bool ring_push(struct ring *r, uint64_t v, bool *was_empty);
/* false if empty. */
bool ring_pop(struct ring *r, uint64_t *v);
uint64_t ring_count(const struct ring *r);
/* The consumer's last look before it sleeps: true if there is nothing to
 * take.  Its fence pairs with ring_push's, so that a push it does not see
 * signals it. */
bool ring_idle(const struct ring *r);

/* memory_probe.c - whether an allocation of a given size can be had now (MemoryReserve.swift).
 * In C, through a volatile local: an optimiser may delete a malloc that is freed unused, which
 * would make the probe always succeed. (Local, not a shared global: threads probe at once.) */
#include "aimos_kernels.h"

#include <stdlib.h>

int aimk_can_allocate(size_t bytes) {
    void *volatile block = malloc(bytes);
    if (!block) return 0;
    free(block);
    return 1;
}

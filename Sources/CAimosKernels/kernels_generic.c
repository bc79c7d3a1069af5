/* The portable kernels: 4-wide vectors, which every x86-64 (SSE2) and aarch64 (NEON) CPU has.
 * Register tile: 3 pixels x 1 block of 16 output channels (12 accumulators). */
#include "aimos_kernels.h"

#define KNAME(x) x##_generic
#define KERNEL_PATH_NAME "generic"
#define VL 4
#define UR 3
#define OCB 1
#include "kernel_body.h"

const aimk_kernels *aimk_kernels_generic(void) { return &table_generic; }

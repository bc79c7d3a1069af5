/* The avx2 kernels: kernel_body.h compiled under target("avx2,fma"), used only when cpuid
 * says the CPU (and the OS) support it. Register tile: 6 pixels x 1 block(s) of 16
 * output channels with 8-float vectors. */
#include "aimos_kernels.h"

#if defined(__x86_64__)
#pragma clang attribute push (__attribute__((target("avx2,fma"))), apply_to = function)
#define KNAME(x) x##_avx2
#define KERNEL_PATH_NAME "avx2"
#define VL 8
#define UR 6
#define OCB 1
#include "kernel_body.h"
#pragma clang attribute pop

const aimk_kernels *aimk_kernels_avx2(void) { return aimk_cpu_has_avx2_fma() ? &table_avx2 : 0; }
#else
const aimk_kernels *aimk_kernels_avx2(void) { return 0; }
#endif

/* The avx512 kernels: kernel_body.h compiled under target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma"), used only when cpuid
 * says the CPU (and the OS) support it. Register tile: 8 pixels x 2 block(s) of 16
 * output channels with 16-float vectors. */
#include "aimos_kernels.h"

#if defined(__x86_64__)
#pragma clang attribute push (__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma"))), apply_to = function)
#define KNAME(x) x##_avx512
#define KERNEL_PATH_NAME "avx512"
#define VL 16
#define UR 8
#define OCB 2
#include "kernel_body.h"
#pragma clang attribute pop

const aimk_kernels *aimk_kernels_avx512(void) { return aimk_cpu_has_avx512() ? &table_avx512 : 0; }
#else
const aimk_kernels *aimk_kernels_avx512(void) { return 0; }
#endif

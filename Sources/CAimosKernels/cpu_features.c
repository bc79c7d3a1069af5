/* CPU features from cpuid, and whether the OS saves the registers they need (xgetbv):
 * the kernel path is chosen from these, never from a model number. */
#include "aimos_kernels.h"
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>

static unsigned long long xcr0(void) {
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

/* cpuid leaf 1 ECX: OSXSAVE (27), AVX (28), FMA (12). */
static int os_saves_ymm(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & (1u << 27)) || !(c & (1u << 28))) return 0;
    return (xcr0() & 0x6) == 0x6;
}

int aimk_cpu_has_avx2_fma(void) {
    unsigned int a, b, c, d;
    if (!os_saves_ymm()) return 0;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 12))) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b & (1u << 5)) != 0;   /* AVX2 */
}

int aimk_cpu_has_avx512(void) {
    unsigned int a, b, c, d;
    if (!aimk_cpu_has_avx2_fma()) return 0;
    if ((xcr0() & 0xe6) != 0xe6) return 0;   /* opmask and the upper zmm state too */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    const unsigned int f = 1u << 16, dq = 1u << 17, bw = 1u << 30, vl = 1u << 31;
    return (b & (f | dq | bw | vl)) == (f | dq | bw | vl);
}

void aimk_cpu_brand(char *buffer, int capacity) {
    unsigned int regs[12];
    if (capacity <= 0) return;
    buffer[0] = 0;
    if (__get_cpuid_max(0x80000000u, 0) < 0x80000004u) return;
    for (unsigned int i = 0; i < 3; i++)
        __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
    char brand[49];
    memcpy(brand, regs, 48);
    brand[48] = 0;
    const char *start = brand;
    while (*start == ' ') start++;
    strncpy(buffer, start, (size_t)capacity - 1);
    buffer[capacity - 1] = 0;
}
#else
int aimk_cpu_has_avx2_fma(void) { return 0; }
int aimk_cpu_has_avx512(void) { return 0; }
void aimk_cpu_brand(char *buffer, int capacity) { if (capacity > 0) buffer[0] = 0; }
#endif

/* aimos's own CPU kernels (internal: not part of the public C ABI, not exported from
 * libaimos.so). Written in C because Swift cannot compile one function for several
 * instruction sets and pick one at run time: the same kernel source (kernel_body.inc) is
 * compiled three times, under a target attribute per instruction set, and the engine picks a
 * table from the CPU's features (cpuid), never from its model number.
 *
 * Activations use one layout, whatever the path: blocks of 16 channels, each block a padded
 * plane [H + 2][W + 2][16] with a zero border of one pixel, so a 3x3 convolution reads its
 * neighbours without edge tests, concatenation is two runs of blocks one after the other, and
 * pooling and upsampling work on 16 channels at a time. Every kernel that writes a tensor
 * writes its border too (buffers are reused at other sizes).
 *
 * Every kernel takes (part, parts) and does only its share of the work, so one slice can be
 * split over several threads; parts = 1 does all of it. */
#ifndef AIMOS_KERNELS_H
#define AIMOS_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Channels per block of the activation layout. */
#define AIMK_BLOCK 16

/** Winograd F(4x4, 3x3): input tiles of 6 x 6, 36 transformed elements. */
#define AIMK_WINOGRAD_ELEMENTS 36

typedef struct aimk_kernels {
    /** The instruction set these kernels were compiled for: "generic", "avx2" or "avx512". */
    const char *name;

    /** First layer: one input channel, given as a padded plane [H + 2][W + 2] (zero border),
     *  3x3 convolution + bias + ReLU into `out_channels` (a multiple of 16) channels.
     *  weights: [9][out_channels] (tap-major); bias: [out_channels]. */
    void (*conv3x3_single_input)(const float *in, float *out, int out_channels, int height, int width,
                                 const float *weights, const float *bias, int part, int parts);

    /** 3x3 convolution (padding 1) + bias (+ ReLU), computed directly.
     *  weights: aimk_pack_direct_3x3's layout. */
    void (*conv3x3_direct)(const float *in, int in_channels, float *out, int out_channels,
                           int height, int width, const float *weights, const float *bias, int relu,
                           int part, int parts);

    /** 3x3 convolution (padding 1) + bias (+ ReLU) by Winograd F(4x4, 3x3); height and width
     *  multiples of 4. weights: aimk_pack_winograd_3x3's layout. scratch: at least
     *  aimk_winograd_scratch_floats(...) floats for this part. */
    void (*conv3x3_winograd)(const float *in, int in_channels, float *out, int out_channels,
                             int height, int width, const float *weights, const float *bias, int relu,
                             float *scratch, int part, int parts);

    /** The same convolution with every part on one tile block of AIMK_WINOGRAD_TILE_BLOCK tiles,
     *  one phase per call (0: input transform, 1: the 36 products, 2: output transform); the
     *  caller runs the phases in order, all parts finishing one before the next starts, for
     *  every tile block. For layers with fewer tile blocks than parts. scratch: one part's
     *  size, shared by all parts. */
    void (*conv3x3_winograd_phase)(const float *in, int in_channels, float *out, int out_channels,
                                   int height, int width, const float *weights, const float *bias, int relu,
                                   float *scratch, int tile_block, int phase, int part, int parts);

    /** 1x1 classifier on in_channels (at most 128) channels into planar outputs [classes][H][W], with the logistic
     *  sigmoid applied when `sigmoid` is set. weights: [classes][32]. */
    void (*classifier_1x1)(const float *in, int in_channels, float *out, int classes,
                           int height, int width, const float *weights, const float *bias, int sigmoid,
                           int part, int parts);

    /** 2x2 max pooling, stride 2, floor mode. */
    void (*max_pool_2x2)(const float *in, int channels, int height, int width, float *out,
                         int part, int parts);

    /** Bilinear upsampling with align_corners = true (PyTorch's formula in float):
     *  in_h x in_w -> out_h x out_w for `channels` channels. */
    void (*upsample_bilinear)(const float *in, int channels, int in_h, int in_w,
                              float *out, int out_h, int out_w, int part, int parts);

    /** `iterations` rounds of independent multiply-adds on full vectors; returns the
     *  floating-point operations done (time it for the machine's peak). */
    double (*fma_peak)(long iterations);
} aimk_kernels;

/** The kernel tables; NULL where this build or this CPU cannot run them. */
const aimk_kernels *aimk_kernels_generic(void);
const aimk_kernels *aimk_kernels_avx2(void);
const aimk_kernels *aimk_kernels_avx512(void);

/** CPU features, from cpuid and xgetbv (the OS must save the vector registers too). */
int aimk_cpu_has_avx2_fma(void);
int aimk_cpu_has_avx512(void);   /* AVX-512 F, BW, VL, DQ */
/** The CPU's brand string ("" where it has none), into buffer of `capacity` bytes. */
void aimk_cpu_brand(char *buffer, int capacity);

/** Tiles of 4 x 4 outputs per Winograd work unit. */
#define AIMK_WINOGRAD_TILE_BLOCK 32

/** Floats of scratch one part of a Winograd convolution needs. */
size_t aimk_winograd_scratch_floats(int in_channels, int out_channels);

/** Packs a PyTorch-order [out][in][3][3] weight tensor for conv3x3_direct:
 *  [out/16][in/16][3][3][16 in][16 out]. in_channels and out_channels multiples of 16. */
void aimk_pack_direct_3x3(const float *weights, int in_channels, int out_channels, float *packed);

/** Transforms a PyTorch-order [out][in][3][3] weight tensor to Winograd F(4x4, 3x3)
 *  (U = G g G^T, in double) for conv3x3_winograd: [36][out/16][in][16 out]. */
void aimk_pack_winograd_3x3(const float *weights, int in_channels, int out_channels, float *packed);

/* Whether `bytes` can be allocated now (allocated and freed at once); memory_probe.c. */
int aimk_can_allocate(size_t bytes);

#ifdef __cplusplus
}
#endif
#endif

/* The kernels' one source, included once per instruction set by kernels_<isa>.c, which
 * defines before including it:
 *   KNAME(name)  the name with the instruction set's suffix
 *   VL           floats per vector register (4, 8 or 16)
 *   UR           output pixels (or Winograd tiles) per register tile
 *   OCB          blocks of 16 output channels per register tile
 * and wraps it in a target attribute, so the compiler emits that instruction set's vectors.
 * A register tile keeps UR x OCB x 16 / VL accumulators: 16 of 32 registers on AVX-512,
 * 12 of 16 on AVX2 and on the generic 4-wide path.
 * See include/aimos_kernels.h for the layout and for what each kernel computes. */

#include <math.h>
#include <string.h>

#pragma clang fp contract(fast)

#define NVB (AIMK_BLOCK / VL)   /* vectors per channel block */

typedef float KNAME(vf) __attribute__((vector_size(VL * 4)));
typedef float KNAME(vfu) __attribute__((vector_size(VL * 4), aligned(4)));
#define vf KNAME(vf)
/* Names with a register-tile size in them (two steps, so that UR is expanded first). */
#define TILE_NAME(base, n) TILE_NAME_(base, n)
#define TILE_NAME_(base, n) KNAME(base##n)
#define LOAD(p) (*(const KNAME(vfu) *)(p))
#define STORE(p, v) (*(KNAME(vfu) *)(p) = (v))
#define SPLAT(s) KNAME(splat)(s)
#define RELU(v) __builtin_elementwise_max((v), (vf){})

/* s in every lane: one broadcast (adding s to a zero vector would cost an addition, as
 * 0 + -0 is not -0). */
static inline vf KNAME(splat)(float s) {
    vf r;
    for (int i = 0; i < VL; i++) r[i] = s;
    return r;
}

/* The share [begin, end) of `units` that part `part` of `parts` does. */
static inline void KNAME(share)(long units, int part, int parts, long *begin, long *end) {
    *begin = units * part / parts;
    *end = units * (part + 1) / parts;
}

/* Zeroes the one-pixel border of the blocks [first, first + count) of a padded tensor. */
static void KNAME(zero_border)(float *t, int first, int count, int height, int width) {
    const long pw = width + 2, plane = (long)(height + 2) * pw * AIMK_BLOCK;
    for (int b = first; b < first + count; b++) {
        float *p = t + b * plane;
        memset(p, 0, sizeof(float) * pw * AIMK_BLOCK);
        memset(p + (height + 1) * pw * AIMK_BLOCK, 0, sizeof(float) * pw * AIMK_BLOCK);
        for (int y = 1; y <= height; y++) {
            memset(p + y * pw * AIMK_BLOCK, 0, sizeof(float) * AIMK_BLOCK);
            memset(p + (y * pw + width + 1) * AIMK_BLOCK, 0, sizeof(float) * AIMK_BLOCK);
        }
    }
}

/* Each part zeroes the borders of its own blocks (disjoint from every part's interior). */
static void KNAME(zero_border_share)(float *t, int blocks, int height, int width, int part, int parts) {
    long b0, b1;
    KNAME(share)(blocks, part, parts, &b0, &b1);
    KNAME(zero_border)(t, (int)b0, (int)(b1 - b0), height, width);
}

/* ---- 3x3 direct convolution ------------------------------------------------------------ */

/* One register tile: `n` consecutive output pixels of one row x OCB output blocks, over every
 * input block and tap. in: the padded input at the tile's top-left neighbour; w: the weights
 * of the tile's first output block; out: the tile's first output pixel in its first block. */
#define DEFINE_DIRECT_TILE(n) DEFINE_DIRECT_TILE_(n)
#define DEFINE_DIRECT_TILE_(n)                                                                    \
static void KNAME(direct_tile_##n)(const float *in, long in_block, long pw, int in_blocks,        \
                                   const float *w, long w_block, float *out, long out_block,       \
                                   const float *bias, int relu) {                                 \
    vf acc[n][OCB][NVB];                                                                          \
    for (int j = 0; j < OCB; j++)                                                                 \
        for (int v = 0; v < NVB; v++) {                                                           \
            vf b = LOAD(bias + j * AIMK_BLOCK + v * VL);                                          \
            for (int u = 0; u < n; u++) acc[u][j][v] = b;                                         \
        }                                                                                         \
    for (int ib = 0; ib < in_blocks; ib++) {                                                      \
        const float *ip0 = in + ib * in_block;                                                    \
        const float *wp0 = w + (long)ib * 9 * AIMK_BLOCK * AIMK_BLOCK;                            \
        for (int tap = 0; tap < 9; tap++) {                                                       \
            const float *ip = ip0 + ((tap / 3) * pw + tap % 3) * AIMK_BLOCK;                      \
            const float *wp = wp0 + tap * AIMK_BLOCK * AIMK_BLOCK;                                \
            for (int ci = 0; ci < AIMK_BLOCK; ci++) {                                             \
                vf wv[OCB][NVB];                                                                  \
                for (int j = 0; j < OCB; j++)                                                     \
                    for (int v = 0; v < NVB; v++)                                                 \
                        wv[j][v] = LOAD(wp + j * w_block + ci * AIMK_BLOCK + v * VL);             \
                for (int u = 0; u < n; u++) {                                                     \
                    vf x = SPLAT(ip[u * AIMK_BLOCK + ci]);                                        \
                    for (int j = 0; j < OCB; j++)                                                 \
                        for (int v = 0; v < NVB; v++) acc[u][j][v] += x * wv[j][v];               \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
    }                                                                                             \
    for (int u = 0; u < n; u++)                                                                   \
        for (int j = 0; j < OCB; j++)                                                             \
            for (int v = 0; v < NVB; v++)                                                         \
                STORE(out + j * out_block + u * AIMK_BLOCK + v * VL,                              \
                      relu ? RELU(acc[u][j][v]) : acc[u][j][v]);                                  \
}

DEFINE_DIRECT_TILE(UR)
#if UR != 4
DEFINE_DIRECT_TILE(4)
#endif
#if UR != 1
DEFINE_DIRECT_TILE(1)
#endif

/* Covers one output row with register tiles: full tiles of UR, the last one moved back to end
 * at the row's end (recomputing a few pixels, which writes the same values again). */
static void KNAME(direct_row)(const float *in, long in_block, long pw, int in_blocks, const float *w,
                              long w_block, float *out, long out_block, const float *bias, int relu, int width) {
#define TILE_AT(n, x) TILE_NAME(direct_tile_, n)(in + (long)(x) * AIMK_BLOCK, in_block, pw, in_blocks, w, w_block, \
                                              out + (long)(x) * AIMK_BLOCK, out_block, bias, relu)
    if (width >= UR) {
        for (int x = 0; x < width; x += UR) TILE_AT(UR, x + UR <= width ? x : width - UR);
    } else if (width >= 4) {
        for (int x = 0; x < width; x += 4) TILE_AT(4, x + 4 <= width ? x : width - 4);
    } else {
        for (int x = 0; x < width; x++) TILE_AT(1, x);
    }
#undef TILE_AT
}

static void KNAME(conv3x3_direct)(const float *in, int in_channels, float *out, int out_channels,
                                  int height, int width, const float *weights, const float *bias, int relu,
                                  int part, int parts) {
    const long pw = width + 2, block = (long)(height + 2) * pw * AIMK_BLOCK;
    const int in_blocks = in_channels / AIMK_BLOCK, out_blocks = out_channels / AIMK_BLOCK;
    const int groups = out_blocks / OCB;
    const long w_block = (long)in_blocks * 9 * AIMK_BLOCK * AIMK_BLOCK;
    long begin, end;
    /* Work units: (output block group, row); a group's rows share its weights in cache. */
    KNAME(share)((long)groups * height, part, parts, &begin, &end);
    for (long unit = begin; unit < end; unit++) {
        const int g = (int)(unit / height), y = (int)(unit % height);
        KNAME(direct_row)(in + y * pw * AIMK_BLOCK, block, pw, in_blocks, weights + g * OCB * w_block, w_block,
                          out + g * OCB * block + ((y + 1) * pw + 1) * AIMK_BLOCK, block,
                          bias + g * OCB * AIMK_BLOCK, relu, width);
    }
    KNAME(zero_border_share)(out, out_blocks, height, width, part, parts);
}

/* ---- first layer: one input channel ---------------------------------------------------- */

static void KNAME(conv3x3_single_input)(const float *in, float *out, int out_channels, int height, int width,
                                        const float *weights, const float *bias, int part, int parts) {
    const long pw = width + 2, block = (long)(height + 2) * pw * AIMK_BLOCK;
    const int out_blocks = out_channels / AIMK_BLOCK;
    long begin, end;
    KNAME(share)((long)out_blocks * height, part, parts, &begin, &end);
    for (long unit = begin; unit < end; unit++) {
        const int b = (int)(unit / height), y = (int)(unit % height);
        vf w[9][NVB], bv[NVB];
        for (int v = 0; v < NVB; v++) {
            bv[v] = LOAD(bias + b * AIMK_BLOCK + v * VL);
            for (int tap = 0; tap < 9; tap++) w[tap][v] = LOAD(weights + tap * out_channels + b * AIMK_BLOCK + v * VL);
        }
        float *o = out + b * block + ((y + 1) * pw + 1) * AIMK_BLOCK;
        for (int x = 0; x < width; x++) {
            const float *ip = in + y * pw + x;
            for (int v = 0; v < NVB; v++) {
                vf acc = bv[v];
                for (int tap = 0; tap < 9; tap++) acc += SPLAT(ip[(tap / 3) * pw + tap % 3]) * w[tap][v];
                STORE(o + x * AIMK_BLOCK + v * VL, RELU(acc));
            }
        }
    }
    KNAME(zero_border_share)(out, out_blocks, height, width, part, parts);
}

/* ---- 3x3 convolution by Winograd F(4x4, 3x3) -------------------------------------------- */

/* B^T d for six inputs (Lavin & Gray 2015). */
#define WINOGRAD_INPUT_1D(d, r)                                          \
    do {                                                                 \
        r[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];                         \
        r[1] = -4.0f * (d[1] + d[2]) + d[3] + d[4];                      \
        r[2] = 4.0f * (d[1] - d[2]) - d[3] + d[4];                       \
        r[3] = 2.0f * (d[3] - d[1]) - d[2] + d[4];                       \
        r[4] = 2.0f * (d[1] - d[3]) - d[2] + d[4];                       \
        r[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];                         \
    } while (0)

/* A^T m for six inputs: four outputs. */
#define WINOGRAD_OUTPUT_1D(m, o)                                         \
    do {                                                                 \
        vf s12 = m[1] + m[2], d12 = m[1] - m[2];                         \
        vf s34 = m[3] + m[4], d34 = m[3] - m[4];                         \
        o[0] = m[0] + s12 + s34;                                         \
        o[1] = d12 + 2.0f * d34;                                         \
        o[2] = s12 + 4.0f * s34;                                         \
        o[3] = d12 + 8.0f * d34 + m[5];                                  \
    } while (0)

/* One register tile of the per-element products: `n` tiles x OCB output blocks,
 * M[t][co] = sum over ci of V[t][ci] U[ci][co]. */
#define DEFINE_WINOGRAD_TILE(n) DEFINE_WINOGRAD_TILE_(n)
#define DEFINE_WINOGRAD_TILE_(n)                                                                  \
static void KNAME(winograd_gemm_##n)(const float *v_in, int in_channels, const float *u, long u_block, \
                                     float *m_out, int out_channels) {                            \
    vf acc[n][OCB][NVB];                                                                          \
    for (int t = 0; t < n; t++)                                                                   \
        for (int j = 0; j < OCB; j++)                                                             \
            for (int v = 0; v < NVB; v++) acc[t][j][v] = (vf){};                                  \
    for (int ci = 0; ci < in_channels; ci++) {                                                    \
        vf wv[OCB][NVB];                                                                          \
        for (int j = 0; j < OCB; j++)                                                             \
            for (int v = 0; v < NVB; v++) wv[j][v] = LOAD(u + j * u_block + ci * AIMK_BLOCK + v * VL); \
        for (int t = 0; t < n; t++) {                                                             \
            vf x = SPLAT(v_in[(long)t * in_channels + ci]);                                       \
            for (int j = 0; j < OCB; j++)                                                         \
                for (int v = 0; v < NVB; v++) acc[t][j][v] += x * wv[j][v];                       \
        }                                                                                         \
    }                                                                                             \
    for (int t = 0; t < n; t++)                                                                   \
        for (int j = 0; j < OCB; j++)                                                             \
            for (int v = 0; v < NVB; v++)                                                         \
                STORE(m_out + (long)t * out_channels + j * AIMK_BLOCK + v * VL, acc[t][j][v]);    \
}

DEFINE_WINOGRAD_TILE(UR)
#if UR != 1
DEFINE_WINOGRAD_TILE(1)
#endif

/* The geometry of one Winograd convolution. */
typedef struct {
    long pw, block;
    int in_channels, out_channels, in_blocks, out_blocks, tiles_x, tiles;
} KNAME(wgeom);

static KNAME(wgeom) KNAME(winograd_geometry)(int in_channels, int out_channels, int height, int width) {
    KNAME(wgeom) g;
    g.pw = width + 2;
    g.block = (long)(height + 2) * g.pw * AIMK_BLOCK;
    g.in_channels = in_channels;
    g.out_channels = out_channels;
    g.in_blocks = in_channels / AIMK_BLOCK;
    g.out_blocks = out_channels / AIMK_BLOCK;
    g.tiles_x = width / 4;
    g.tiles = (height / 4) * g.tiles_x;
    return g;
}

/* Input transform of the units [u0, u1) of a tile block starting at tile t0, a unit being
 * (tile, input block): V[36][tb][in] = B^T d B, 16 channels at a time. */
static void KNAME(winograd_input)(const KNAME(wgeom) *g, const float *in, int t0, float *V, long u0, long u1) {
    const int tb = AIMK_WINOGRAD_TILE_BLOCK;
    for (long unit = u0; unit < u1; unit++) {
        const int t = (int)(unit / g->in_blocks), ib = (int)(unit % g->in_blocks);
        const int ty = (t0 + t) / g->tiles_x, tx = (t0 + t) % g->tiles_x;
        const float *src = in + ib * g->block + ((long)(4 * ty) * g->pw + 4 * tx) * AIMK_BLOCK;
        for (int v = 0; v < NVB; v++) {
            vf rows[6][6];
            for (int x = 0; x < 6; x++) {
                vf d[6], r[6];
                for (int y = 0; y < 6; y++) d[y] = LOAD(src + ((long)y * g->pw + x) * AIMK_BLOCK + v * VL);
                WINOGRAD_INPUT_1D(d, r);
                for (int i = 0; i < 6; i++) rows[i][x] = r[i];
            }
            for (int i = 0; i < 6; i++) {
                vf r[6];
                WINOGRAD_INPUT_1D(rows[i], r);
                for (int k = 0; k < 6; k++)
                    STORE(V + ((long)(i * 6 + k) * tb + t) * g->in_channels + ib * AIMK_BLOCK + v * VL, r[k]);
            }
        }
    }
}

/* The products of the units [u0, u1), a unit being (element, group of OCB output blocks):
 * M[e][t][out] = sum over in of V[e][t][in] U[e][in][out], for the block's nt tiles. */
static void KNAME(winograd_products)(const KNAME(wgeom) *g, const float *weights, const float *V, float *M, int nt,
                                     long u0, long u1) {
    const int tb = AIMK_WINOGRAD_TILE_BLOCK, groups = g->out_blocks / OCB;
    const long u_block = (long)g->in_channels * AIMK_BLOCK;
    for (long unit = u0; unit < u1; unit++) {
        const int e = (int)(unit / groups), grp = (int)(unit % groups);
        const float *ve = V + (long)e * tb * g->in_channels;
        float *me = M + (long)e * tb * g->out_channels + grp * OCB * AIMK_BLOCK;
        const float *u = weights + ((long)e * g->out_blocks + grp * OCB) * u_block;
        if (nt >= UR) {
            for (int t = 0; t < nt; t += UR) {
                const int s = t + UR <= nt ? t : nt - UR;
                TILE_NAME(winograd_gemm_, UR)(ve + (long)s * g->in_channels, g->in_channels, u, u_block,
                                              me + (long)s * g->out_channels, g->out_channels);
            }
        } else {
            for (int t = 0; t < nt; t++)
                KNAME(winograd_gemm_1)(ve + (long)t * g->in_channels, g->in_channels, u, u_block,
                                       me + (long)t * g->out_channels, g->out_channels);
        }
    }
}

/* Output transform, bias and ReLU of the units [u0, u1), a unit being (tile, output block). */
static void KNAME(winograd_output)(const KNAME(wgeom) *g, const float *M, const float *bias, int relu, float *out,
                                   int t0, long u0, long u1) {
    const int tb = AIMK_WINOGRAD_TILE_BLOCK;
    for (long unit = u0; unit < u1; unit++) {
        const int t = (int)(unit / g->out_blocks), ob = (int)(unit % g->out_blocks);
        const int ty = (t0 + t) / g->tiles_x, tx = (t0 + t) % g->tiles_x;
        float *dst = out + ob * g->block + ((long)(4 * ty + 1) * g->pw + 4 * tx + 1) * AIMK_BLOCK;
        for (int v = 0; v < NVB; v++) {
            const long lane = ob * AIMK_BLOCK + v * VL;
            vf cols[6][4];
            for (int i = 0; i < 6; i++) {
                vf m[6], o[4];
                for (int k = 0; k < 6; k++) m[k] = LOAD(M + ((long)(i * 6 + k) * tb + t) * g->out_channels + lane);
                WINOGRAD_OUTPUT_1D(m, o);
                for (int x = 0; x < 4; x++) cols[i][x] = o[x];
            }
            const vf b = LOAD(bias + lane);
            for (int x = 0; x < 4; x++) {
                vf m[6], o[4];
                for (int i = 0; i < 6; i++) m[i] = cols[i][x];
                WINOGRAD_OUTPUT_1D(m, o);
                for (int y = 0; y < 4; y++) {
                    vf r = o[y] + b;
                    STORE(dst + ((long)y * g->pw + x) * AIMK_BLOCK + v * VL, relu ? RELU(r) : r);
                }
            }
        }
    }
}

/* Each part takes whole tile blocks, with its own scratch. */
static void KNAME(conv3x3_winograd)(const float *in, int in_channels, float *out, int out_channels,
                                    int height, int width, const float *weights, const float *bias, int relu,
                                    float *scratch, int part, int parts) {
    const KNAME(wgeom) g = KNAME(winograd_geometry)(in_channels, out_channels, height, width);
    const int tb = AIMK_WINOGRAD_TILE_BLOCK;
    float *V = scratch, *M = scratch + (long)AIMK_WINOGRAD_ELEMENTS * tb * in_channels;
    long begin, end;
    KNAME(share)((g.tiles + tb - 1) / tb, part, parts, &begin, &end);
    for (long blk = begin; blk < end; blk++) {
        const int t0 = (int)blk * tb, nt = g.tiles - t0 < tb ? g.tiles - t0 : tb;
        KNAME(winograd_input)(&g, in, t0, V, 0, (long)nt * g.in_blocks);
        KNAME(winograd_products)(&g, weights, V, M, nt, 0, (long)AIMK_WINOGRAD_ELEMENTS * (g.out_blocks / OCB));
        KNAME(winograd_output)(&g, M, bias, relu, out, t0, 0, (long)nt * g.out_blocks);
    }
    KNAME(zero_border_share)(out, g.out_blocks, height, width, part, parts);
}

/* All parts on one tile block, one phase per call (0 input, 1 products, 2 output), sharing
 * one scratch: for layers with fewer tile blocks than parts. */
static void KNAME(conv3x3_winograd_phase)(const float *in, int in_channels, float *out, int out_channels,
                                          int height, int width, const float *weights, const float *bias, int relu,
                                          float *scratch, int tile_block, int phase, int part, int parts) {
    const KNAME(wgeom) g = KNAME(winograd_geometry)(in_channels, out_channels, height, width);
    const int tb = AIMK_WINOGRAD_TILE_BLOCK;
    float *V = scratch, *M = scratch + (long)AIMK_WINOGRAD_ELEMENTS * tb * in_channels;
    const int t0 = tile_block * tb, nt = g.tiles - t0 < tb ? g.tiles - t0 : tb;
    long begin, end;
    if (phase == 0) {
        KNAME(share)((long)nt * g.in_blocks, part, parts, &begin, &end);
        KNAME(winograd_input)(&g, in, t0, V, begin, end);
    } else if (phase == 1) {
        KNAME(share)((long)AIMK_WINOGRAD_ELEMENTS * (g.out_blocks / OCB), part, parts, &begin, &end);
        KNAME(winograd_products)(&g, weights, V, M, nt, begin, end);
    } else {
        KNAME(share)((long)nt * g.out_blocks, part, parts, &begin, &end);
        KNAME(winograd_output)(&g, M, bias, relu, out, t0, begin, end);
        if (t0 + nt == g.tiles) KNAME(zero_border_share)(out, g.out_blocks, height, width, part, parts);
    }
}

/* ---- 1x1 classifier, sigmoid --------------------------------------------------------- */

/* exp(x) for |x| <= 88: 2^n * e^r with |r| <= ln2 / 2, a degree-6 polynomial for e^r
 * (relative error below 2e-7). */
static inline vf KNAME(vexp)(vf x) {
    x = __builtin_elementwise_min(__builtin_elementwise_max(x, SPLAT(-87.0f)), SPLAT(88.0f));
    vf n = __builtin_elementwise_roundeven(x * 1.44269504088896341f);
    vf r = x - n * 0.693145751953125f - n * 1.428606765330187045e-06f;
    vf p = SPLAT(1.0f / 720);
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    typedef int KNAME(vi) __attribute__((vector_size(VL * 4)));
    KNAME(vi) bits = (__builtin_convertvector(n, KNAME(vi)) + 127) << 23;
    vf scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static void KNAME(classifier_1x1)(const float *in, int in_channels, float *out, int classes,
                                  int height, int width, const float *weights, const float *bias, int sigmoid,
                                  int part, int parts) {
    const long pw = width + 2, block = (long)(height + 2) * pw * AIMK_BLOCK, plane = (long)height * width;
    const int in_blocks = in_channels / AIMK_BLOCK;
    long begin, end;
    KNAME(share)(height, part, parts, &begin, &end);
    /* Per pixel, 16 classes at a time in the lanes: out[c] += x[ci] * w[c][ci], the weights
     * transposed to [ci][16 classes] once per call. */
    float wt[8 * AIMK_BLOCK * AIMK_BLOCK], bt[AIMK_BLOCK], lanes[AIMK_BLOCK];
    if (in_channels > 8 * AIMK_BLOCK) return;
    for (int c0 = 0; c0 < classes; c0 += AIMK_BLOCK) {
        const int nc = classes - c0 < AIMK_BLOCK ? classes - c0 : AIMK_BLOCK;
        for (int ci = 0; ci < in_channels; ci++)
            for (int c = 0; c < AIMK_BLOCK; c++) wt[ci * AIMK_BLOCK + c] = c < nc ? weights[(c0 + c) * in_channels + ci] : 0;
        for (int c = 0; c < AIMK_BLOCK; c++) bt[c] = c < nc ? bias[c0 + c] : 0;
        for (long y = begin; y < end; y++) {
            for (int x = 0; x < width; x++) {
                vf acc[NVB];
                for (int v = 0; v < NVB; v++) acc[v] = LOAD(bt + v * VL);
                for (int ib = 0; ib < in_blocks; ib++) {
                    const float *p = in + ib * block + ((y + 1) * pw + x + 1) * AIMK_BLOCK;
                    const float *w = wt + ib * AIMK_BLOCK * AIMK_BLOCK;
                    for (int ci = 0; ci < AIMK_BLOCK; ci++) {
                        const vf xv = SPLAT(p[ci]);
                        for (int v = 0; v < NVB; v++) acc[v] += xv * LOAD(w + ci * AIMK_BLOCK + v * VL);
                    }
                }
                for (int v = 0; v < NVB; v++) {
                    if (sigmoid) acc[v] = 1.0f / (1.0f + KNAME(vexp)(-acc[v]));
                    STORE(lanes + v * VL, acc[v]);
                }
                float *o = out + (long)c0 * plane + y * width + x;
                for (int c = 0; c < nc; c++) o[c * plane] = lanes[c];
            }
        }
    }
}

/* ---- pooling and upsampling ------------------------------------------------------------ */

static void KNAME(max_pool_2x2)(const float *in, int channels, int height, int width, float *out,
                                int part, int parts) {
    const int oh = height / 2, ow = width / 2, blocks = channels / AIMK_BLOCK;
    const long ipw = width + 2, iblock = (long)(height + 2) * ipw * AIMK_BLOCK;
    const long opw = ow + 2, oblock = (long)(oh + 2) * opw * AIMK_BLOCK;
    long begin, end;
    KNAME(share)((long)blocks * oh, part, parts, &begin, &end);
    for (long unit = begin; unit < end; unit++) {
        const int b = (int)(unit / oh), y = (int)(unit % oh);
        const float *top = in + b * iblock + ((2 * y + 1) * ipw + 1) * AIMK_BLOCK, *bottom = top + ipw * AIMK_BLOCK;
        float *o = out + b * oblock + ((y + 1) * opw + 1) * AIMK_BLOCK;
        for (int x = 0; x < ow; x++)
            for (int v = 0; v < NVB; v++) {
                const long i = 2 * x * AIMK_BLOCK + v * VL;
                vf a = __builtin_elementwise_max(LOAD(top + i), LOAD(top + i + AIMK_BLOCK));
                vf c = __builtin_elementwise_max(LOAD(bottom + i), LOAD(bottom + i + AIMK_BLOCK));
                STORE(o + x * AIMK_BLOCK + v * VL, __builtin_elementwise_max(a, c));
            }
    }
    KNAME(zero_border_share)(out, blocks, oh, ow, part, parts);
}

/* PyTorch's align-corners source position, in float: lower index, upper index, upper weight. */
static inline void KNAME(source)(int o, int in_size, int out_size, int *lo, int *hi, float *w) {
    const float scale = out_size > 1 ? (float)(in_size - 1) / (float)(out_size - 1) : 0.0f;
    const float s = scale * (float)o;
    int i = (int)s;
    if (i > in_size - 1) i = in_size - 1;
    *lo = i;
    *hi = i < in_size - 1 ? i + 1 : i;
    *w = s - (float)i;
}

#pragma clang fp contract(off)
static void KNAME(upsample_bilinear)(const float *in, int channels, int in_h, int in_w,
                                     float *out, int out_h, int out_w, int part, int parts) {
    const int blocks = channels / AIMK_BLOCK;
    const long ipw = in_w + 2, iblock = (long)(in_h + 2) * ipw * AIMK_BLOCK;
    const long opw = out_w + 2, oblock = (long)(out_h + 2) * opw * AIMK_BLOCK;
    long begin, end;
    KNAME(share)((long)blocks * out_h, part, parts, &begin, &end);
    for (long unit = begin; unit < end; unit++) {
        const int b = (int)(unit / out_h), y = (int)(unit % out_h);
        int y0, y1;
        float h1;
        KNAME(source)(y, in_h, out_h, &y0, &y1, &h1);
        const float h0 = 1 - h1;
        const float *top = in + b * iblock + ((y0 + 1) * ipw + 1) * AIMK_BLOCK;
        const float *bottom = in + b * iblock + ((y1 + 1) * ipw + 1) * AIMK_BLOCK;
        float *o = out + b * oblock + ((y + 1) * opw + 1) * AIMK_BLOCK;
        for (int x = 0; x < out_w; x++) {
            int x0, x1;
            float w1;
            KNAME(source)(x, in_w, out_w, &x0, &x1, &w1);
            const float w0 = 1 - w1;
            for (int v = 0; v < NVB; v++) {
                const long l = x0 * AIMK_BLOCK + v * VL, u = x1 * AIMK_BLOCK + v * VL;
                vf r = h0 * (w0 * LOAD(top + l) + w1 * LOAD(top + u)) + h1 * (w0 * LOAD(bottom + l) + w1 * LOAD(bottom + u));
                STORE(o + x * AIMK_BLOCK + v * VL, r);
            }
        }
    }
    KNAME(zero_border_share)(out, blocks, out_h, out_w, part, parts);
}
#pragma clang fp contract(fast)

/* ---- the machine's peak ---------------------------------------------------------------- */

/* Independent FMA chains (enough to cover the FMA latency on every current core), for the
 * peak that the benchmark reports GFLOP/s against. Returns the floating-point operations done. */
static double KNAME(fma_peak)(long iterations) {
    enum { CHAINS = 12 };
    vf acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = SPLAT(1.0f + i * 1e-3f);
    const vf a = SPLAT(0.999999f), b = SPLAT(1e-7f);
    for (long n = 0; n < iterations; n++) {
        for (int i = 0; i < CHAINS; i++) acc[i] = acc[i] * a + b;
        /* Keeps the compiler from folding the loop (a vector-register operand on either ISA). */
#if defined(__x86_64__)
        __asm__ volatile("" : "+x"(acc[0]), "+x"(acc[1]), "+x"(acc[2]), "+x"(acc[3]));
#elif defined(__aarch64__)
        __asm__ volatile("" : "+w"(acc[0]), "+w"(acc[1]), "+w"(acc[2]), "+w"(acc[3]));
#endif
    }
    vf sum = (vf){};
    for (int i = 0; i < CHAINS; i++) sum += acc[i];
    volatile float sink = sum[0];
    (void)sink;
    return 2.0 * VL * CHAINS * (double)iterations;
}

static const aimk_kernels KNAME(table) = {
    .name = KERNEL_PATH_NAME,
    .conv3x3_single_input = KNAME(conv3x3_single_input),
    .conv3x3_direct = KNAME(conv3x3_direct),
    .conv3x3_winograd = KNAME(conv3x3_winograd),
    .conv3x3_winograd_phase = KNAME(conv3x3_winograd_phase),
    .classifier_1x1 = KNAME(classifier_1x1),
    .max_pool_2x2 = KNAME(max_pool_2x2),
    .upsample_bilinear = KNAME(upsample_bilinear),
    .fma_peak = KNAME(fma_peak),
};

#undef vf
#undef TILE_NAME
#undef TILE_NAME_
#undef DEFINE_DIRECT_TILE
#undef DEFINE_DIRECT_TILE_
#undef DEFINE_WINOGRAD_TILE
#undef DEFINE_WINOGRAD_TILE_
#undef LOAD
#undef STORE
#undef SPLAT
#undef RELU
#undef NVB

/* Weights rearranged once, at load time, into the layouts the kernels read
 * (see include/aimos_kernels.h). Independent of the instruction set. */
#include "aimos_kernels.h"

void aimk_pack_direct_3x3(const float *weights, int in_channels, int out_channels, float *packed) {
    const int ib_count = in_channels / AIMK_BLOCK;
    for (int o = 0; o < out_channels; o++)
        for (int i = 0; i < in_channels; i++)
            for (int tap = 0; tap < 9; tap++) {
                const int ob = o / AIMK_BLOCK, ib = i / AIMK_BLOCK;
                const long index = ((((long)ob * ib_count + ib) * 9 + tap) * AIMK_BLOCK + i % AIMK_BLOCK) * AIMK_BLOCK
                                   + o % AIMK_BLOCK;
                packed[index] = weights[((long)o * in_channels + i) * 9 + tap];
            }
}

/* G of F(4x4, 3x3) (Lavin & Gray 2015). */
static const double G[6][3] = {
    {1.0 / 4, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6},
    {1.0 / 24, -1.0 / 12, 1.0 / 6},
    {0, 0, 1},
};

void aimk_pack_winograd_3x3(const float *weights, int in_channels, int out_channels, float *packed) {
    const int ob_count = out_channels / AIMK_BLOCK;
    for (int o = 0; o < out_channels; o++)
        for (int i = 0; i < in_channels; i++) {
            const float *g = weights + ((long)o * in_channels + i) * 9;
            double gt[6][3];   /* G g */
            for (int r = 0; r < 6; r++)
                for (int c = 0; c < 3; c++)
                    gt[r][c] = G[r][0] * g[c] + G[r][1] * g[3 + c] + G[r][2] * g[6 + c];
            for (int r = 0; r < 6; r++)
                for (int k = 0; k < 6; k++) {
                    const double u = gt[r][0] * G[k][0] + gt[r][1] * G[k][1] + gt[r][2] * G[k][2];
                    const long index = (((long)(r * 6 + k) * ob_count + o / AIMK_BLOCK) * in_channels + i) * AIMK_BLOCK
                                       + o % AIMK_BLOCK;
                    packed[index] = (float)u;
                }
        }
}

size_t aimk_winograd_scratch_floats(int in_channels, int out_channels) {
    return (size_t)AIMK_WINOGRAD_ELEMENTS * AIMK_WINOGRAD_TILE_BLOCK * (size_t)(in_channels + out_channels);
}

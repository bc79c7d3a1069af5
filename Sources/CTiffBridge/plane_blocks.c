#include "plane_blocks.h"

/* One loop per sample type, so the compiler vectorises each sum. */
#define ADD_ROW_BLOCKS(TYPE, SUM)                                                  \
    do {                                                                           \
        const TYPE *p = (const TYPE *)row;                                         \
        for (int64_t start = 0, j = 0; start < width; start += k, j++) {           \
            int64_t end = start + k < width ? start + k : width;                   \
            SUM s = 0;                                                             \
            for (int64_t x = start; x < end; x++) s += (SUM)p[x];                  \
            acc[j] += (double)s;                                                   \
        }                                                                          \
    } while (0)

void pb_add_row_blocks(const void *row, int kind, int64_t width, int64_t k, double *acc) {
    if (k == 1) {
        /* No averaging along x: one add per sample. */
        switch (kind) {
        case PB_UINT8: for (int64_t x = 0; x < width; x++) acc[x] += ((const uint8_t *)row)[x]; return;
        case PB_UINT16: for (int64_t x = 0; x < width; x++) acc[x] += ((const uint16_t *)row)[x]; return;
        case PB_INT16: for (int64_t x = 0; x < width; x++) acc[x] += ((const int16_t *)row)[x]; return;
        case PB_UINT32: for (int64_t x = 0; x < width; x++) acc[x] += ((const uint32_t *)row)[x]; return;
        case PB_INT32: for (int64_t x = 0; x < width; x++) acc[x] += ((const int32_t *)row)[x]; return;
        case PB_FLOAT32: for (int64_t x = 0; x < width; x++) acc[x] += ((const float *)row)[x]; return;
        default: for (int64_t x = 0; x < width; x++) acc[x] += ((const double *)row)[x]; return;
        }
    }
    switch (kind) {
    case PB_UINT8: ADD_ROW_BLOCKS(uint8_t, uint64_t); break;
    case PB_UINT16: ADD_ROW_BLOCKS(uint16_t, uint64_t); break;
    case PB_INT16: ADD_ROW_BLOCKS(int16_t, int64_t); break;
    case PB_UINT32: ADD_ROW_BLOCKS(uint32_t, uint64_t); break;
    case PB_INT32: ADD_ROW_BLOCKS(int32_t, int64_t); break;
    case PB_FLOAT32: ADD_ROW_BLOCKS(float, double); break;
    default: ADD_ROW_BLOCKS(double, double); break;
    }
}

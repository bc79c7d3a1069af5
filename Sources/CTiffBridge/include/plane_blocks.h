#ifndef AIMOS_PLANE_BLOCKS_H
#define AIMOS_PLANE_BLOCKS_H
/* The inner loop of averaging a light-sheet stack down to a working grid: block sums of one row. */
#include <stdint.h>

/* Sample kinds, as TiffStack.Sample orders them. */
enum { PB_UINT8 = 0, PB_UINT16 = 1, PB_INT16 = 2, PB_UINT32 = 3, PB_INT32 = 4, PB_FLOAT32 = 5, PB_FLOAT64 = 6 };

/* Adds to acc[j] the sum of row[j*k ..< min((j+1)*k, width)] for every j < ceil(width / k).
 * NaN samples of a floating-point row are added as they are (they make the block NaN). */
void pb_add_row_blocks(const void *row, int kind, int64_t width, int64_t k, double *acc);

#endif

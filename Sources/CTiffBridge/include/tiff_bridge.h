#ifndef AIMOS_TIFF_BRIDGE_H
#define AIMOS_TIFF_BRIDGE_H
/* libtiff (Debian libtiff-dev) behind a small C interface of aimos's own: read the planes of a
 * TIFF or BigTIFF one at a time (strips or tiles, any compression libtiff decodes), and write
 * uint8 label planes. Errors are returned as -1 with libtiff's message in `err` (libtiff's
 * process-wide handlers are left alone: each file has its own). */
#include <stddef.h>
#include <stdint.h>

typedef struct tb_file tb_file;

/* One page's layout. sample_format: 1 unsigned integer, 2 signed integer, 3 IEEE float. */
typedef struct tb_page_info {
    int64_t width, height;
    int32_t bits_per_sample, sample_format, samples_per_pixel;
    /* Pixels per resolution unit (0 when absent); unit: 1 none, 2 inch, 3 centimetre. */
    double x_resolution, y_resolution;
    int32_t resolution_unit;
} tb_page_info;

tb_file *tb_open(const char *path, char *err, size_t err_size);
void tb_close(tb_file *file);
/* The number of pages (IFDs), or -1. */
int64_t tb_page_count(tb_file *file, char *err, size_t err_size);
/* Page `index`'s layout and ImageDescription (a copy owned by the file, valid until the next
 * call; NULL when absent). Reading the pages in order costs one directory step each. */
int tb_page_info_at(tb_file *file, int64_t index, tb_page_info *info, const char **description, char *err, size_t err_size);
/* Decodes page `index` into `out`: width * height samples, rows top to bottom, x fastest, in
 * the host's byte order. The page must have `expected`'s width, height, sample size and format
 * (the stack's, checked when it was opened), and `out_size` must be exactly its bytes. */
int tb_read_page(tb_file *file, int64_t index, const tb_page_info *expected, void *out, size_t out_size,
                 char *err, size_t err_size);
/* Writes one uint8 plane (width * height, x fastest) as a PackBits-compressed TIFF (fast, and labels are long runs). */
int tb_write_uint8_plane(const char *path, const uint8_t *data, int64_t width, int64_t height,
                         const char *description, char *err, size_t err_size);

#endif

/* jpeg_bridge.h - writes an RGB picture as JPEG with libjpeg (Debian libjpeg-dev), with
 * libjpeg's fatal errors turned into a return code. Internal to aimos. */
#ifndef AIMOS_JPEG_BRIDGE_H
#define AIMOS_JPEG_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

/* rgb: height rows of width * 3 bytes. Returns 0, or -1 with a message in err. */
int jb_write_rgb(const char *path, const uint8_t *rgb, int width, int height, int quality,
                 char *err, size_t err_size);

/* Reads a JPEG's size and RGB pixels (for tests). *rgb is malloc'd; free() it. */
int jb_read_rgb(const char *path, uint8_t **rgb, int *width, int *height, char *err, size_t err_size);

#endif

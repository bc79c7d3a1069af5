/* jpeg_bridge.c - JPEG writing/reading for the preview picture. libjpeg reports fatal errors
 * through error_exit, which must not return: longjmp back and report instead of exiting. */
#include "jpeg_bridge.h"

#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>

struct bridge_error {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

static void on_error(j_common_ptr info) {
    struct bridge_error *e = (struct bridge_error *)info->err;
    (*info->err->format_message)(info, e->message);
    longjmp(e->jump, 1);
}

int jb_write_rgb(const char *path, const uint8_t *rgb, int width, int height, int quality,
                 char *err, size_t err_size) {
    FILE *file = fopen(path, "wb");
    if (!file) {
        snprintf(err, err_size, "cannot create '%s'", path);
        return -1;
    }
    struct jpeg_compress_struct info;
    struct bridge_error e;
    info.err = jpeg_std_error(&e.mgr);
    e.mgr.error_exit = on_error;
    if (setjmp(e.jump)) {
        jpeg_destroy_compress(&info);
        fclose(file);
        snprintf(err, err_size, "JPEG error writing '%s': %s", path, e.message);
        return -1;
    }
    jpeg_create_compress(&info);
    jpeg_stdio_dest(&info, file);
    info.image_width = (JDIMENSION)width;
    info.image_height = (JDIMENSION)height;
    info.input_components = 3;
    info.in_color_space = JCS_RGB;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality, TRUE);
    jpeg_start_compress(&info, TRUE);
    while (info.next_scanline < info.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)info.next_scanline * (size_t)width * 3);
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    if (fclose(file) != 0) {
        snprintf(err, err_size, "cannot finish writing '%s' (disk full?)", path);
        return -1;
    }
    return 0;
}

int jb_read_rgb(const char *path, uint8_t **rgb, int *width, int *height, char *err, size_t err_size) {
    *rgb = NULL;
    FILE *file = fopen(path, "rb");
    if (!file) {
        snprintf(err, err_size, "cannot open '%s'", path);
        return -1;
    }
    struct jpeg_decompress_struct info;
    struct bridge_error e;
    info.err = jpeg_std_error(&e.mgr);
    e.mgr.error_exit = on_error;
    if (setjmp(e.jump)) {
        jpeg_destroy_decompress(&info);
        fclose(file);
        free(*rgb);
        *rgb = NULL;
        snprintf(err, err_size, "'%s' is not a readable JPEG: %s", path, e.message);
        return -1;
    }
    jpeg_create_decompress(&info);
    jpeg_stdio_src(&info, file);
    jpeg_read_header(&info, TRUE);
    info.out_color_space = JCS_RGB;
    jpeg_start_decompress(&info);
    *width = (int)info.output_width;
    *height = (int)info.output_height;
    *rgb = malloc((size_t)*width * (size_t)*height * 3);
    while (*rgb && info.output_scanline < info.output_height) {
        JSAMPROW row = (JSAMPROW)(*rgb + (size_t)info.output_scanline * (size_t)*width * 3);
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    fclose(file);
    return *rgb ? 0 : -1;
}

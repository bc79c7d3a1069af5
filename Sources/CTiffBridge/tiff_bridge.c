#include "tiff_bridge.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

/* libtiff's messages go to per-file handlers (TIFFOpenExt, libtiff 4.5), never to the process-wide
 * ones: a host that embeds libaimos keeps its own libtiff handlers, and threads do not share a
 * message buffer. */
typedef struct tb_messages {
    char last_error[512];
} tb_messages;

static int on_error(TIFF *tiff, void *user_data, const char *module, const char *format, va_list args) {
    (void)tiff;
    tb_messages *messages = user_data;
    char message[400];
    vsnprintf(message, sizeof message, format, args);
    snprintf(messages->last_error, sizeof messages->last_error, "%s%s%s", module ? module : "", module ? ": " : "", message);
    return 1; /* handled: the global handler is not called */
}

static int on_warning(TIFF *tiff, void *user_data, const char *module, const char *format, va_list args) {
    (void)tiff; (void)user_data; (void)module; (void)format; (void)args;
    return 1; /* unknown tags and the like: not the user's concern */
}

/* Opens with aimos's handlers and a bound on any single allocation libtiff makes (a header's
 * claim beyond it is an error, not an allocation). */
static TIFF *open_tiff(const char *path, const char *mode, tb_messages *messages) {
    TIFFOpenOptions *options = TIFFOpenOptionsAlloc();
    if (!options) return NULL;
    TIFFOpenOptionsSetErrorHandlerExtR(options, on_error, messages);
    TIFFOpenOptionsSetWarningHandlerExtR(options, on_warning, messages);
    TIFFOpenOptionsSetMaxSingleMemAlloc(options, (tmsize_t)1 << 30);
    TIFF *tiff = TIFFOpenExt(path, mode, options);
    TIFFOpenOptionsFree(options);
    return tiff;
}

static int fail_with(tb_messages *messages, char *err, size_t err_size, const char *what) {
    const char *detail = messages ? messages->last_error : "";
    if (err && err_size) snprintf(err, err_size, "%s%s%s", what, detail[0] ? ": " : "", detail);
    if (messages) messages->last_error[0] = 0;
    return -1;
}

struct tb_file {
    TIFF *tiff;
    int64_t current; /* the directory libtiff is on */
    char *description;
    tb_messages messages;
};

#define fail(err, err_size, what) fail_with(&file->messages, (err), (err_size), (what))

tb_file *tb_open(const char *path, char *err, size_t err_size) {
    tb_file *file = calloc(1, sizeof *file);
    if (!file) { fail_with(NULL, err, err_size, "out of memory"); return NULL; }
    /* "m": no memory-mapping, so a file truncated while mapped cannot raise SIGBUS. */
    file->tiff = open_tiff(path, "rm", &file->messages);
    if (!file->tiff) {
        fail(err, err_size, "not a readable TIFF");
        free(file);
        return NULL;
    }
    file->current = 0;
    return file;
}

void tb_close(tb_file *file) {
    if (!file) return;
    TIFFClose(file->tiff);
    free(file->description);
    free(file);
}

int64_t tb_page_count(tb_file *file, char *err, size_t err_size) {
    tdir_t n = TIFFNumberOfDirectories(file->tiff);
    if (n == 0) return fail(err, err_size, "no pages");
    file->current = -1; /* TIFFNumberOfDirectories may leave the current directory anywhere */
    /* libtiff stops counting at a page it cannot read: the last one counted must say it is
     * the last, else the file is truncated or its page chain broken. */
    if (!TIFFSetDirectory(file->tiff, (tdir_t)(n - 1))) return fail(err, err_size, "cannot read its last page");
    file->current = (int64_t)n - 1;
    if (!TIFFLastDirectory(file->tiff)) {
        file->messages.last_error[0] = 0;
        char what[96];
        snprintf(what, sizeof what, "page %lld cannot be read (truncated file, or a broken page chain)", (long long)n + 1);
        return fail(err, err_size, what);
    }
    return (int64_t)n;
}

/* Moves to page `index`: the next directory in one step, any other from the start. */
static int go_to(tb_file *file, int64_t index, char *err, size_t err_size) {
    if (file->current == index) return 0;
    if (index < 0 || index > 0xFFFFFFF) return fail(err, err_size, "page index out of range");
    int ok = (file->current >= 0 && index == file->current + 1) ? TIFFReadDirectory(file->tiff)
                                                                  : TIFFSetDirectory(file->tiff, (tdir_t)index);
    if (!ok) { file->current = -1; return fail(err, err_size, "cannot read the page's directory"); }
    file->current = index;
    return 0;
}

int tb_page_info_at(tb_file *file, int64_t index, tb_page_info *info, const char **description, char *err, size_t err_size) {
    file->messages.last_error[0] = 0;
    if (go_to(file, index, err, err_size) != 0) return -1;
    TIFF *t = file->tiff;
    uint32_t width = 0, height = 0;
    uint16_t bits = 1, format = SAMPLEFORMAT_UINT, samples = 1, planar = PLANARCONFIG_CONTIG, unit = RESUNIT_INCH;
    float xres = 0, yres = 0;
    if (!TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &width) || !TIFFGetField(t, TIFFTAG_IMAGELENGTH, &height))
        return fail(err, err_size, "the page has no width or height");
    TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bits);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &format);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &samples);
    TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &planar);
    if (!TIFFGetField(t, TIFFTAG_XRESOLUTION, &xres)) xres = 0;
    if (!TIFFGetField(t, TIFFTAG_YRESOLUTION, &yres)) yres = 0;
    TIFFGetFieldDefaulted(t, TIFFTAG_RESOLUTIONUNIT, &unit);
    info->width = width;
    info->height = height;
    info->bits_per_sample = bits;
    info->sample_format = format;
    info->samples_per_pixel = planar == PLANARCONFIG_CONTIG ? samples : -samples;
    info->x_resolution = xres;
    info->y_resolution = yres;
    info->resolution_unit = unit;
    free(file->description);
    file->description = NULL;
    char *text = NULL;
    if (description) {
        if (TIFFGetField(t, TIFFTAG_IMAGEDESCRIPTION, &text) && text) file->description = strdup(text);
        *description = file->description;
    }
    return 0;
}

int tb_read_page(tb_file *file, int64_t index, const tb_page_info *expected, void *out, size_t out_size,
                 char *err, size_t err_size) {
    file->messages.last_error[0] = 0;
    tb_page_info info;
    if (tb_page_info_at(file, index, &info, NULL, err, err_size) != 0) return -1;
    /* The page is read again from the file, which may have changed since the stack was
     * checked: it must still be exactly what the caller's buffer was sized for. */
    if (info.samples_per_pixel != 1 || info.width != expected->width || info.height != expected->height ||
        info.bits_per_sample != expected->bits_per_sample || info.sample_format != expected->sample_format)
        return fail(err, err_size, "the page's layout differs from the stack's first page");
    TIFF *t = file->tiff;
    if (info.bits_per_sample % 8 || info.bits_per_sample <= 0 || info.bits_per_sample > 64)
        return fail(err, err_size, "unsupported sample size");
    const size_t bytes = (size_t)info.bits_per_sample / 8;
    size_t row = 0, plane = 0;
    if (__builtin_mul_overflow((size_t)info.width, bytes, &row) || __builtin_mul_overflow((size_t)info.height, row, &plane) ||
        plane != out_size)
        return fail(err, err_size, "the page's size differs from the buffer's");
    uint8_t *target = out;
    if (TIFFIsTiled(t)) {
        uint32_t tw = 0, th = 0;
        if (!TIFFGetField(t, TIFFTAG_TILEWIDTH, &tw) || !TIFFGetField(t, TIFFTAG_TILELENGTH, &th) || !tw || !th)
            return fail(err, err_size, "a tiled page without a tile size");
        tmsize_t tile_size = TIFFTileSize(t);
        if (tile_size <= 0 || (uint64_t)tile_size != (uint64_t)tw * th * bytes) return fail(err, err_size, "inconsistent tile size");
        /* Tiles are at most a few MB (TIFF writers use 16 ... 1024 square); a header's claim of
         * more is refused before it is allocated. */
        if (tile_size > ((tmsize_t)64 << 20)) return fail(err, err_size, "a tile larger than 64 MiB");
        uint8_t *tile = malloc((size_t)tile_size);
        if (!tile) return fail(err, err_size, "out of memory for a tile");
        for (uint32_t y = 0; y < info.height; y += th) {
            for (uint32_t x = 0; x < info.width; x += tw) {
                if (TIFFReadTile(t, tile, x, y, 0, 0) < 0) { free(tile); return fail(err, err_size, "cannot decode a tile"); }
                uint32_t rows = y + th > info.height ? (uint32_t)info.height - y : th;
                uint32_t cols = x + tw > info.width ? (uint32_t)info.width - x : tw;
                for (uint32_t r = 0; r < rows; r++)
                    memcpy(target + (size_t)(y + r) * row + (size_t)x * bytes, tile + (size_t)r * tw * bytes, (size_t)cols * bytes);
            }
        }
        free(tile);
    } else {
        uint32_t rows_per_strip = 0;
        TIFFGetFieldDefaulted(t, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
        if (rows_per_strip == 0 || rows_per_strip > info.height) rows_per_strip = (uint32_t)info.height;
        tstrip_t strips = TIFFNumberOfStrips(t);
        if ((uint64_t)strips * rows_per_strip < (uint64_t)info.height) return fail(err, err_size, "too few strips for the page's height");
        for (tstrip_t s = 0; s < strips; s++) {
            uint64_t first = (uint64_t)s * rows_per_strip;
            if (first >= (uint64_t)info.height) break;
            uint64_t rows = first + rows_per_strip > (uint64_t)info.height ? (uint64_t)info.height - first : rows_per_strip;
            /* Decoded straight into place: the strip's rows are contiguous in the plane. */
            tmsize_t want = (tmsize_t)(rows * row);
            if (TIFFReadEncodedStrip(t, s, target + first * row, want) != want)
                return fail(err, err_size, "cannot decode a strip (truncated or corrupt?)");
        }
    }
    return 0;
}

#undef fail
#define fail(err, err_size, what) fail_with(&messages, (err), (err_size), (what))

int tb_write_uint8_plane(const char *path, const uint8_t *data, int64_t width, int64_t height,
                         const char *description, char *err, size_t err_size) {
    tb_messages messages = {{0}};
    if (width <= 0 || height <= 0 || width > 0x7FFFFFFF || height > 0x7FFFFFFF) return fail(err, err_size, "bad plane size");
    TIFF *t = open_tiff(path, "w", &messages);
    if (!t) return fail(err, err_size, "cannot create the TIFF");
    uint32_t rows_per_strip = (uint32_t)(65536 / width > 0 ? 65536 / width : 1);
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)width);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)height);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_UINT);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_PACKBITS);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, rows_per_strip);
    if (description) TIFFSetField(t, TIFFTAG_IMAGEDESCRIPTION, description);
    for (int64_t y = 0; y < height; y += rows_per_strip) {
        int64_t rows = y + rows_per_strip > height ? height - y : rows_per_strip;
        if (TIFFWriteEncodedStrip(t, (tstrip_t)(y / rows_per_strip), (void *)(data + y * width), (tmsize_t)(rows * width)) < 0) {
            TIFFClose(t);
            return fail(err, err_size, "cannot write the plane (disk full?)");
        }
    }
    if (!TIFFWriteDirectory(t)) { TIFFClose(t); return fail(err, err_size, "cannot write the plane's directory"); }
    TIFFClose(t);
    return 0;
}

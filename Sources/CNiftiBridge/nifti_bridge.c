/* nifti_bridge.c - libnifti (Debian libnifti-dev, NIfTI-1/-2, Analyze, .gz) for aimos. */
#include "nifti_bridge.h"

#include <limits.h>
#include <math.h>
#include <nifti2_io.h>
#include <stdio.h>
#include <zlib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct nb_image {
    nifti_image *nim;
    char *extension_text;
    int is_nifti2; /* the file's header is NIfTI-2 (libnifti reports such files as NIfTI-1) */
};

static void set_error(char *err, size_t size, const char *format, const char *detail) {
    if (err && size) snprintf(err, size, format, detail);
}

/* The uncompressed size of a .gz file as its trailer records it (mod 2^32), or -1. */
static long long gzip_recorded_size(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    unsigned char magic[2] = {0, 0}, t[4];
    long long size = -1;
    if (fread(magic, 1, 2, f) == 2 && magic[0] == 0x1f && magic[1] == 0x8b && fseek(f, -4, SEEK_END) == 0 &&
        fread(t, 1, 4, f) == 4)
        size = (long long)t[0] | (long long)t[1] << 8 | (long long)t[2] << 16 | (long long)t[3] << 24;
    fclose(f);
    return size;
}

/* Integers and IEEE values stored in the header's byte order. */
static int32_t read_int32(const unsigned char *p, int little) {
    uint32_t v = 0;
    for (int b = 0; b < 4; b++) v |= (uint32_t)p[little ? b : 3 - b] << (8 * b);
    return (int32_t)v;
}

static long long read_int64(const unsigned char *p, int little) {
    unsigned long long v = 0;
    for (int b = 0; b < 8; b++) v |= (unsigned long long)p[little ? b : 7 - b] << (8 * b);
    return (long long)v;
}

static double read_double(const unsigned char *p, int little) {
    const long long v = read_int64(p, little);
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

static double read_float(const unsigned char *p, int little) {
    const int32_t v = read_int32(p, little);
    float f;
    memcpy(&f, &v, sizeof f);
    return f;
}

/* The first bytes of a NIfTI-1/-2 or Analyze header as stored (all the checks below need), read
 * through zlib, which also reads uncompressed files. */
struct raw_header {
    unsigned char bytes[544]; /* zero past what the file holds */
    int got;                  /* bytes read */
    int little;               /* stored little-endian */
    int32_t size;             /* sizeof_hdr: 348 (NIfTI-1, Analyze), 540 (NIfTI-2), or one libnifti refuses */
};

/* Returns 0 when the file cannot be opened (nifti_image_read reports it). */
static int read_raw_header(const char *path, struct raw_header *header) {
    memset(header, 0, sizeof *header);
    gzFile file = gzopen(path, "rb");
    if (!file) return 0;
    header->got = gzread(file, header->bytes, sizeof header->bytes);
    gzclose(file);
    const int32_t size_little = read_int32(header->bytes, 1);
    header->little = size_little == 348 || size_little == 540;
    header->size = read_int32(header->bytes, header->little);
    return 1;
}

static int header_is_nifti2(const char *path) {
    struct raw_header header;
    return read_raw_header(path, &header) && header.size == 540;
}

static int ends_with(const char *text, const char *suffix) {
    size_t n = strlen(text), m = strlen(suffix);
    return n >= m && strcmp(text + n - m, suffix) == 0;
}

/* Checks what libnifti would quietly mend or misread: a .gz name on a file that is not gzip
 * (gzread passes such bytes through), a single-file .nii without the NIfTI magic (libnifti
 * would read it as Analyze), and dims that are zero or negative (libnifti sets them to 1).
 * Returns 0 when the file may be read; else fills err and returns 1. */
static int check_header(const char *path, char *err, size_t err_size) {
    if (ends_with(path, ".gz")) {
        FILE *f = fopen(path, "rb");
        unsigned char magic[2] = {0, 0};
        size_t got = f ? fread(magic, 1, 2, f) : 0;
        if (f) fclose(f);
        if (f && (got != 2 || magic[0] != 0x1f || magic[1] != 0x8b)) {
            if (err && err_size) snprintf(err, err_size, "'%s' is named .gz but is not gzip-compressed (rename it without .gz)", path);
            return 1;
        }
    }
    struct raw_header header;
    if (!read_raw_header(path, &header)) return 0; /* nifti_image_read reports it */
    if (header.got < 348) return 0; /* too short for any header: nifti_image_read reports it */
    if (header.size != 348 && header.size != 540) return 0; /* not a header nifti_image_read knows: it reports it */
    const unsigned char *h = header.bytes;
    const int little = header.little;
    const int nifti2 = header.size == 540;
    const int single_file = ends_with(path, ".nii") || ends_with(path, ".nii.gz");
    const unsigned char *magic = nifti2 ? h + 4 : h + 344;
    if (single_file && !(magic[0] == 'n' && (magic[1] == '+') && (magic[2] == '1' || magic[2] == '2') && magic[3] == 0)) {
        if (err && err_size) snprintf(err, err_size, "'%s' is not a NIfTI file: its magic is not \"n+1\" or \"n+2\"", path);
        return 1;
    }
    /* dim[0..7]: int16 at byte 40 (NIfTI-1, Analyze) or int64 at byte 16 (NIfTI-2). */
    long long dim[8];
    for (int i = 0; i < 8; i++) {
        if (nifti2) {
            dim[i] = read_int64(h + 16 + 8 * i, little);
        } else {
            const unsigned char *p = h + 40 + 2 * i;
            dim[i] = (int16_t)(little ? (p[0] | p[1] << 8) : (p[1] | p[0] << 8));
        }
    }
    if (dim[0] < 1 || dim[0] > 7) {
        if (err && err_size) snprintf(err, err_size, "'%s' has dim[0] = %lld; it must be 1 to 7", path, dim[0]);
        return 1;
    }
    for (int i = 1; i <= dim[0]; i++) {
        if (dim[i] < 1) {
            if (err && err_size) snprintf(err, err_size, "'%s' has dim[%d] = %lld; every dimension must be at least 1", path, i, dim[i]);
            return 1;
        }
    }
    /* scl_slope and scl_inter (float at 112, 116; NIfTI-2: double at 176, 184). libnifti sets
     * non-finite ones to 0 ("unscaled"). NaN slope does mean unscaled (nibabel writes it so);
     * an infinite slope, or a non-finite intercept with a real slope, is refused instead. */
    double slope, inter;
    if (nifti2) {
        slope = read_double(h + 176, little);
        inter = read_double(h + 184, little);
    } else {
        slope = read_float(h + 112, little);
        inter = read_float(h + 116, little);
    }
    if (isinf(slope) || (slope != 0 && !isnan(slope) && !isfinite(inter))) {
        if (err && err_size)
            snprintf(err, err_size, "'%s' has scl_slope = %g and scl_inter = %g; a scaled file needs both finite", path, slope, inter);
        return 1;
    }
    return 0;
}

/* Walks the header extensions as libnifti's header read will (the 4-byte extender after the
 * header, then esize/ecode pairs while 16 or more bytes remain before vox_offset, or before the
 * end of a separate .hdr), and refuses a file whose extension claims bytes the file does not
 * hold: libnifti allocates each extension's claimed size before reading it (1.4 GB for a
 * 724-byte file). Returns 0 when the file may be read; else fills err and returns 1. */
static int check_extensions(const char *path, char *err, size_t err_size) {
    struct raw_header header;
    if (!read_raw_header(path, &header)) return 0; /* nifti_image_read reports it */
    if (header.size != 348 && header.size != 540) return 0; /* not a header nifti_image_read knows: it reports it */
    const unsigned char *h = header.bytes;
    const int little = header.little;
    const int nifti2 = header.size == 540;
    const long long header_size = nifti2 ? 540 : 348;
    const unsigned char *magic = nifti2 ? h + 4 : h + 344;
    const int one_file = magic[1] == '+'; /* libnifti's NIFTI_ONEFILE */
    long long remain; /* the bytes libnifti looks in for extensions, extender included */
    if (one_file) {
        double offset;
        if (nifti2) {
            offset = (double)read_int64(h + 168, little);
        } else {
            offset = read_float(h + 108, little);
        }
        /* An offset that cannot be trusted leaves only the file's end as the bound. */
        remain = isfinite(offset) && offset < 0x1p62 ? (long long)offset - header_size : LLONG_MAX;
    } else {
        struct stat st;
        remain = stat(path, &st) == 0 ? (long long)st.st_size - header_size : 0;
    }
    if (header.got < header_size + 4 || remain < 16 || h[header_size] != 1) return 0; /* no extension flag */
    remain -= 4;
    long long position = header_size + 4;
    gzFile file = gzopen(path, "rb");
    if (!file || gzseek(file, (z_off_t)position, SEEK_SET) < 0) {
        if (file) gzclose(file);
        return 0;
    }
    int refused = 0;
    char skipped[8192]; /* an extension's bytes, read only to find where the file ends */
    while (remain >= 16) {
        unsigned char pair[8]; /* esize, ecode */
        const int got = gzread(file, pair, 8);
        if (got < 4) break; /* no esize: libnifti stops here too */
        const int32_t esize = read_int32(pair, little);
        if (esize < 16 || esize > remain || (esize & 0xf)) break; /* libnifti stops without allocating */
        /* From here libnifti allocates esize, even when the file ends within the ecode (a fuzzer's
         * 62-byte .gz did that). */
        long long left = esize - got;
        while (left > 0) {
            const int read = gzread(file, skipped, (unsigned)(left < (long long)sizeof skipped ? left : (long long)sizeof skipped));
            if (read <= 0) break;
            left -= read;
        }
        if (left > 0) {
            if (err && err_size)
                snprintf(err, err_size, "'%s': its header extension at byte %lld claims %d bytes, but the file ends at byte %lld "
                         "(truncated, or a corrupt extension)", path, position, esize, position + esize - left);
            refused = 1;
            break;
        }
        position += esize;
        remain -= esize;
    }
    gzclose(file);
    return refused;
}

/* The most that deflate can expand its input (a stream of length-258 matches). */
static const unsigned long long deflate_max_ratio = 1032;

/* The decompressed length of a gzip file, counted up to `limit` bytes. */
static unsigned long long gzip_count_upto(const char *path, unsigned long long limit) {
    enum { chunk = 1 << 16 };
    char *buffer = malloc(chunk);
    gzFile file = buffer ? gzopen(path, "rb") : NULL;
    unsigned long long total = 0;
    int got;
    while (file && total < limit && (got = gzread(file, buffer, chunk)) > 0) total += (unsigned long long)got;
    if (file) gzclose(file);
    free(buffer);
    return total;
}

/* Refuses, from the header alone, a file whose dims claim more voxel data than the file holds
 * (libnifti would allocate the claimed size first: gigabytes for a 350-byte file) or more than
 * this machine's memory. Returns 0 when the data may be read. */
static int check_claimed_size(const char *path, char *err, size_t err_size) {
    nifti_image *head = nifti_image_read(path, 0);
    if (!head) return 0; /* nifti_image_read(path, 1) reports it */
    int refused = 0;
    char detail[512];
    const unsigned long long voxels = (unsigned long long)(head->nvox > 0 ? head->nvox : 0);
    const unsigned long long bytes_per = (unsigned long long)(head->nbyper > 0 ? head->nbyper : 0);
    const unsigned long long claimed = voxels * bytes_per;
    const long long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    const unsigned long long memory = pages > 0 && page > 0 ? (unsigned long long)pages * (unsigned long long)page : 0;
    const char *data_file = head->iname ? head->iname : path;
    const unsigned long long offset = head->iname_offset > 0 ? (unsigned long long)head->iname_offset : 0;
    if (bytes_per != 0 && voxels > ~0ULL / bytes_per) {
        snprintf(detail, sizeof detail, "its dims claim more voxels than can be counted");
        refused = 1;
    } else if (memory && claimed > memory) {
        snprintf(detail, sizeof detail, "its dims claim %llu bytes of voxel data, more than this machine's memory (%llu bytes)",
                 claimed, memory);
        refused = 2;
    } else {
        const unsigned long long needed = offset + claimed;
        long long recorded = gzip_recorded_size(data_file);
        unsigned long long holds = 0;
        int known = 0, bound_only = 0;
        struct stat st;
        const unsigned long long file_size = stat(data_file, &st) == 0 && S_ISREG(st.st_mode) ? (unsigned long long)st.st_size : 0;
        if (recorded < 0) {
            if (file_size) { holds = file_size; known = 1; }
        } else if (needed > deflate_max_ratio * file_size + 65536) {
            /* Deflate expands at most 1032-fold: no gzip file this small holds that much. */
            holds = deflate_max_ratio * file_size + 65536;
            known = bound_only = 1;
        } else if (needed >= (1ULL << 32) || (unsigned long long)recorded < needed) {
            /* The trailer gives the last member's size mod 2^32: when it does not settle the
             * question (4 GiB or more; several gzip members, as bgzip writes), count. */
            holds = gzip_count_upto(data_file, needed);
            known = 1;
        }
        if (known && bound_only) {
            snprintf(detail, sizeof detail, "its dims claim %llu bytes of voxel data after byte %llu, more than a gzip file of "
                     "%llu bytes can hold (at most %llu: truncated, or dims that do not match the data)", claimed, offset,
                     file_size, holds);
            refused = 1;
        } else if (known && holds < needed) {
            snprintf(detail, sizeof detail, "its dims claim %llu bytes of voxel data after byte %llu, but the file holds %llu bytes "
                     "(truncated, or dims that do not match the data)", claimed, offset, holds);
            refused = 1;
        }
    }
    nifti_image_free(head);
    if (refused && err && err_size) snprintf(err, err_size, "'%s': %s", path, detail);
    return refused;
}

nb_image *nb_read(const char *path, char *err, size_t err_size) {
    nifti_set_debug_level(0); /* errors are reported through err, not stderr */
    if (check_header(path, err, err_size) || check_extensions(path, err, err_size) || check_claimed_size(path, err, err_size))
        return NULL;
    nifti_image *nim = nifti_image_read(path, 1);
    if (!nim) {
        set_error(err, err_size, "cannot read '%s' as NIfTI/Analyze (missing, truncated or not a NIfTI file)", path);
        return NULL;
    }
    if (!nim->data) {
        set_error(err, err_size, "'%s': the header was read but the voxel data could not be (truncated file?)", path);
        nifti_image_free(nim);
        return NULL;
    }
    nb_image *image = calloc(1, sizeof *image);
    if (!image) {
        nifti_image_free(nim);
        set_error(err, err_size, "out of memory reading '%s'", path);
        return NULL;
    }
    image->nim = nim;
    image->is_nifti2 = header_is_nifti2(nim->fname ? nim->fname : path);
    if (nim->num_ext > 0 && nim->ext_list[0].edata && nim->ext_list[0].esize > 8) {
        size_t length = (size_t)nim->ext_list[0].esize - 8;
        image->extension_text = calloc(length + 1, 1);
        if (image->extension_text) memcpy(image->extension_text, nim->ext_list[0].edata, length);
    }
    return image;
}

nb_image *nb_make_float(const int64_t dims[3], const double affine[16], char *err, size_t err_size) {
    nifti_set_debug_level(0);
    int64_t dim[8] = {3, dims[0], dims[1], dims[2], 1, 1, 1, 1};
    nifti_image *nim = nifti_make_new_nim(dim, NIFTI_TYPE_FLOAT32, 1);
    nb_image *image = nim ? calloc(1, sizeof *image) : NULL;
    if (!image) {
        nifti_image_free(nim);
        set_error(err, err_size, "out of memory for a %s", "scan read from DICOM");
        return NULL;
    }
    nim->nifti_type = NIFTI_FTYPE_NIFTI1_1;
    nim->xyz_units = NIFTI_UNITS_MM;
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) nim->sto_xyz.m[r][c] = affine[4 * r + c];
    nim->sform_code = NIFTI_XFORM_SCANNER_ANAT;
    nim->sto_ijk = nifti_dmat44_inverse(nim->sto_xyz);
    /* The qform: the nearest rotation, with the voxel size of each column. */
    double qb, qc, qd, qx, qy, qz, dx, dy, dz, qfac;
    nifti_dmat44_to_quatern(nim->sto_xyz, &qb, &qc, &qd, &qx, &qy, &qz, &dx, &dy, &dz, &qfac);
    nim->quatern_b = qb, nim->quatern_c = qc, nim->quatern_d = qd;
    nim->qoffset_x = qx, nim->qoffset_y = qy, nim->qoffset_z = qz;
    nim->qfac = qfac;
    nim->qform_code = NIFTI_XFORM_SCANNER_ANAT;
    nim->qto_xyz = nifti_quatern_to_dmat44(qb, qc, qd, qx, qy, qz, dx, dy, dz, qfac);
    nim->qto_ijk = nifti_dmat44_inverse(nim->qto_xyz);
    nim->dx = nim->pixdim[1] = dx;
    nim->dy = nim->pixdim[2] = dy;
    nim->dz = nim->pixdim[3] = dz;
    nim->pixdim[0] = qfac;
    image->nim = nim;
    return image;
}

void *nb_mutable_data(nb_image *image) { return image->nim->data; }

void nb_free(nb_image *image) {
    if (!image) return;
    nifti_image_free(image->nim);
    free(image->extension_text);
    free(image);
}

int nb_ndim(const nb_image *image) { return (int)image->nim->ndim; }
int64_t nb_dim(const nb_image *image, int index) { return image->nim->dim[index]; }
double nb_pixdim(const nb_image *image, int index) { return image->nim->pixdim[index]; }
int nb_datatype(const nb_image *image) { return image->nim->datatype; }
int nb_bytes_per_voxel(const nb_image *image) { return image->nim->nbyper; }
double nb_scl_slope(const nb_image *image) { return image->nim->scl_slope; }
double nb_scl_inter(const nb_image *image) { return image->nim->scl_inter; }
int nb_xyz_units(const nb_image *image) { return image->nim->xyz_units; }
const void *nb_data(const nb_image *image) { return image->nim->data; }
int64_t nb_voxel_count(const nb_image *image) { return image->nim->nvox; }
const char *nb_extension_text(const nb_image *image) { return image->extension_text; }

int nb_geometry(const nb_image *image, double qform[16], double sform[16], int *qform_code,
                int *sform_code, double pixdim[8]) {
    const nifti_image *nim = image->nim;
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) {
            qform[4 * r + c] = nim->qto_xyz.m[r][c];
            sform[4 * r + c] = nim->sto_xyz.m[r][c];
        }
    *qform_code = nim->qform_code;
    *sform_code = nim->sform_code;
    for (int i = 0; i < 8; i++) pixdim[i] = nim->pixdim[i];
    return 0;
}

/* Writes nim (header, one comment extension, data) as a single-file NIfTI-2 with zlib: libnifti
 * 3.0.1's nifti_image_write turns every .nii name back into NIfTI-1 (nifti_set_filenames) and
 * writes no header if forced to NIfTI-2, which would lose a NIfTI-2 input's double geometry. */
static int write_nifti2(nifti_image *nim, const char *path, const char *extension_text, const void *data,
                        size_t bytes) {
    nim->nifti_type = NIFTI_FTYPE_NIFTI2_1;
    nifti_2_header hdr;
    if (nifti_convert_nim2n2hdr(nim, &hdr)) return -1;
    size_t text = extension_text ? strlen(extension_text) + 1 : 0;
    int esize = extension_text ? (int)((8 + text + 15) / 16 * 16) : 0;
    hdr.sizeof_hdr = 540;
    memcpy(hdr.magic, "n+2\0\r\n\032\n", 8);
    hdr.vox_offset = 540 + 4 + esize;
    size_t length = strlen(path);
    int compressed = length > 3 && strcmp(path + length - 3, ".gz") == 0;
    gzFile file = gzopen(path, compressed ? "wb6" : "wbT");
    if (!file) return -1;
    char extender[4] = {extension_text ? 1 : 0, 0, 0, 0};
    int ok = gzwrite(file, &hdr, 540) == 540 && gzwrite(file, extender, 4) == 4;
    if (ok && extension_text) {
        int ecode = NIFTI_ECODE_COMMENT;
        char *block = calloc((size_t)esize, 1);
        ok = block != NULL;
        if (ok) {
            memcpy(block, &esize, 4);
            memcpy(block + 4, &ecode, 4);
            memcpy(block + 8, extension_text, text);
            ok = gzwrite(file, block, (unsigned)esize) == esize;
        }
        free(block);
    }
    const char *p = data;
    for (size_t done = 0; ok && done < bytes;) {
        unsigned chunk = (unsigned)(bytes - done > (1u << 30) ? (1u << 30) : bytes - done);
        ok = gzwrite(file, p + done, chunk) == (int)chunk;
        done += chunk;
    }
    return gzclose(file) == Z_OK && ok ? 0 : -1;
}

int nb_write_like(const nb_image *like, const char *path, int datatype, int ndim, const int64_t *dims,
                  const void *data, int intent_code, double cal_min, double cal_max,
                  const char *descrip, const char *extension_text, char *err, size_t err_size) {
    nifti_set_debug_level(0);
    nifti_image *nim = nifti_copy_nim_info(like->nim);
    if (!nim) {
        set_error(err, err_size, "out of memory preparing '%s'", path);
        return -1;
    }
    /* One file (.nii/.nii.gz) of the input's NIfTI version; Analyze input becomes NIfTI-1. */
    if (nim->nifti_type == NIFTI_FTYPE_ANALYZE || nim->nifti_type == NIFTI_FTYPE_NIFTI1_2 ||
        nim->nifti_type == NIFTI_FTYPE_ASCII)
        nim->nifti_type = NIFTI_FTYPE_NIFTI1_1;
    else if (nim->nifti_type == NIFTI_FTYPE_NIFTI2_2)
        nim->nifti_type = NIFTI_FTYPE_NIFTI2_1;
    nim->ndim = nim->dim[0] = ndim;
    for (int i = 1; i <= 7; i++) nim->dim[i] = i <= ndim ? dims[i - 1] : 1;
    nifti_update_dims_from_array(nim);
    nim->datatype = datatype;
    nifti_datatype_sizes(datatype, &nim->nbyper, &nim->swapsize);
    nim->scl_slope = 1;
    nim->scl_inter = 0;
    nim->intent_code = intent_code;
    nim->intent_p1 = nim->intent_p2 = nim->intent_p3 = 0;
    memset(nim->intent_name, 0, sizeof nim->intent_name);
    nim->cal_min = cal_min;
    nim->cal_max = cal_max;
    memset(nim->descrip, 0, sizeof nim->descrip);
    if (descrip) strncpy(nim->descrip, descrip, sizeof nim->descrip - 1);
    nifti_free_extensions(nim);
    if (extension_text && nifti_add_extension(nim, extension_text, (int)strlen(extension_text) + 1, NIFTI_ECODE_COMMENT)) {
        nifti_image_free(nim);
        set_error(err, err_size, "cannot add the header extension for '%s'", path);
        return -1;
    }
    int version = nim->nifti_type;
    if (nifti_set_filenames(nim, path, 0, 1)) {
        nifti_image_free(nim);
        set_error(err, err_size, "'%s' is not a NIfTI file name (.nii or .nii.gz)", path);
        return -1;
    }
    nim->nifti_type = version; /* nifti_set_filenames guesses NIfTI-1 from a .nii name */
    size_t bytes = (size_t)nim->nvox * (size_t)nim->nbyper;
    if (like->is_nifti2) {
        /* NIfTI-2 in, NIfTI-2 out: the input's double-precision geometry kept exactly. */
        int failed = write_nifti2(nim, path, extension_text, data, bytes);
        nifti_image_free(nim);
        if (failed) {
            set_error(err, err_size, "cannot write '%s' (disk full or not writable?)", path);
            return -1;
        }
    } else {
        nim->data = (void *)data;
        nifti_image_write(nim);
        nim->data = NULL; /* ours, not libnifti's to free */
        nifti_image_free(nim);
    }

    /* nifti_image_write returns nothing: read the file back and compare. */
    nifti_image *check = nifti_image_read(path, 1);
    int ok = check && check->data && check->datatype == datatype &&
             (size_t)check->nvox * (size_t)check->nbyper == bytes && memcmp(check->data, data, bytes) == 0;
    /* Dims compared with trailing ones: libnifti reads a 16 x 12 x 1 volume back as 2D. */
    for (int i = 0; ok && i < 7; i++) {
        int64_t want = i < ndim ? dims[i] : 1, got = i < check->dim[0] ? check->dim[i + 1] : 1;
        ok = want == got;
    }
    nifti_image_free(check);
    if (!ok) {
        set_error(err, err_size, "writing '%s' failed (the file read back differs: disk full or not writable?)", path);
        return -1;
    }
    return 0;
}

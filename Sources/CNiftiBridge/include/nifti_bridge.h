/* nifti_bridge.h - the few libnifti operations aimos needs, behind a header that does not
 * include libnifti's own (whose <znzlib.h> include needs -I/usr/include/nifti), so Swift can
 * import it with no special flags. Internal to aimos; not part of the public C API. */
#ifndef AIMOS_NIFTI_BRIDGE_H
#define AIMOS_NIFTI_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct nb_image nb_image; /* a nifti_image read from a file */

/* Reads header and data. NULL on failure, with a message in err. */
nb_image *nb_read(const char *path, char *err, size_t err_size);
void nb_free(nb_image *image);

int nb_ndim(const nb_image *image);
int64_t nb_dim(const nb_image *image, int index);      /* dim[1..7] */
double nb_pixdim(const nb_image *image, int index);    /* pixdim[1..7] */
int nb_datatype(const nb_image *image);                /* NIFTI_TYPE_* code */
int nb_bytes_per_voxel(const nb_image *image);
double nb_scl_slope(const nb_image *image);
double nb_scl_inter(const nb_image *image);
int nb_xyz_units(const nb_image *image);
const void *nb_data(const nb_image *image);
int64_t nb_voxel_count(const nb_image *image);

/* Writes `data` (datatype code, dims[0..ndim-1]) as a NIfTI file at path with the geometry of
 * `like` (qform/sform codes and matrices, pixdim, units, file version: nifti_copy_nim_info),
 * extensions replaced by one comment extension (if extension_text is not NULL), scl_slope 1,
 * scl_inter 0. Re-reads the file and compares header and data (nifti_image_write reports no
 * errors itself). Returns 0 on success, else -1 with a message in err. */
int nb_write_like(const nb_image *like, const char *path, int datatype, int ndim, const int64_t *dims,
                  const void *data, int intent_code, double cal_min, double cal_max,
                  const char *descrip, const char *extension_text, char *err, size_t err_size);

/* A float32 image made in memory (no file): dims[0..2], voxels zeroed for the caller to fill
 * through nb_mutable_data, voxel size in mm, the sform (and, from it, the qform) set to
 * `affine` (16 row-major values, RAS mm) with code 1 (scanner). Written out by nb_write_like
 * as NIfTI-1. NULL on failure (out of memory). */
nb_image *nb_make_float(const int64_t dims[3], const double affine[16], char *err, size_t err_size);
void *nb_mutable_data(nb_image *image);

/* Header geometry of a file for comparisons: fills 16 qform and 16 sform matrix values
 * (row-major), codes, pixdim[0..7], xyz_units. Returns 0, or -1 if unreadable. */
int nb_geometry(const nb_image *image, double qform[16], double sform[16], int *qform_code,
                int *sform_code, double pixdim[8]);
/* Text of the first extension (NUL-terminated copy owned by the image), or NULL. */
const char *nb_extension_text(const nb_image *image);

#endif

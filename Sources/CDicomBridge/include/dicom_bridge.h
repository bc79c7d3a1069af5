/* dicom_bridge.h - the DICOM reading aimos needs, done by GDCM (Debian libgdcm-dev) behind a C
 * header of our own, so Swift imports it without C++ or GDCM's include path. Internal to aimos;
 * not part of the public C API.
 *
 * A folder (or one file) is scanned into series; one series is then prepared (every file's
 * header read, its planes sorted along the slice normal, the geometry checked) and its voxels
 * read into a buffer the caller owns. */
#ifndef AIMOS_DICOM_BRIDGE_H
#define AIMOS_DICOM_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct db_source db_source; /* the DICOM series found in a folder or a file */

/* Scans `path` (a folder: its files, not its subfolders; or one file) for DICOM image files
 * and groups them by Series Instance UID. NULL, with a message in err, when the path holds no
 * DICOM image. */
db_source *db_open(const char *path, char *err, size_t err_size);
void db_close(db_source *source);

int db_series_count(const db_source *source);
/* Text attributes of series s (NUL-terminated, owned by source; "" when absent). */
const char *db_series_uid(const db_source *source, int s);
const char *db_series_description(const db_source *source, int s);
const char *db_series_modality(const db_source *source, int s);
int db_series_file_count(const db_source *source, int s);

/* The geometry of a prepared series. Voxel (i, j, k): i the column in a plane, j the row, k the
 * plane in order along the slice normal; x fastest in memory, as NIfTI. */
typedef struct db_geometry {
    int64_t dims[3];
    double affine_lps[16];     /* voxel -> DICOM patient coordinates (LPS, mm), row-major 4x4 */
    int32_t planes_per_file;   /* 1 for a classic series; the frame count of a multi-frame file */
    int32_t per_plane_rescale; /* nonzero when planes carry different rescale slopes/intercepts */
    char modality[17];
    char units[17];            /* (0054,1001) Units, e.g. BQML for PET; "" when absent */
    char decay_correction[17]; /* (0054,1102) Decay Correction, e.g. START; "" when absent */
    char rescale_type[17];     /* (0028,1054) Rescale Type, e.g. HU; "" when absent */
    char patient_position[17]; /* (0018,5100) Patient Position, e.g. FFS; "" when absent */
    char transfer_syntax[65];  /* of the first file */
} db_geometry;

/* Reads every header of series s, sorts its planes along the normal of their orientation and
 * checks them: one orientation, one pixel spacing, one plane size, planes evenly spaced along a
 * line (a missing plane, a duplicate position or uneven steps are refused). 0 on success, else -1
 * with a message in err. */
int db_prepare(db_source *source, int s, db_geometry *geometry, char *err, size_t err_size);

/* Decodes the prepared series' planes into out (dims[0]*dims[1]*dims[2] floats, ordered as the
 * geometry says), each plane's rescale slope and intercept applied. 0; -2 for pixels aimos does
 * not read (colour, bit depths it has no conversion for); -1 for every other failure, with a
 * message in err. */
int db_read_voxels(db_source *source, int s, float *out, int64_t count, char *err, size_t err_size);

/* Runs the whole read of `path` (series_uid, or the only series; NULL: the only one) in a child
 * process first: GDCM aborts on some malformed files (it is built with assertions), and that
 * must not end the caller's process. -1 with a message when the child crashed; 0 otherwise (the
 * child's ordinary errors are left to the caller's own read to report). With out NULL,
 * db_read_voxels decodes without converting: the child's trial. */
int db_trial_read(const char *path, const char *series_uid, char *err, size_t err_size);

#ifdef __cplusplus
}
#endif

#endif

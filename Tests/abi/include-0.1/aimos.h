/*
 * aimos.h - the public C interface of libaimos, whole-body mouse organ segmentation.
 *
 * aimos re-implements the inference of AIMOS (Schoppe et al., Nature Communications 11:5626,
 * 2020): a scan is cut into 2D slices, each slice is resized to the model grid, z-scored and run
 * through a 2D U-Net; per-class sigmoid, argmax over the organs, nearest resampling back.
 *
 * Usage walk-through:
 *
 *     aimos_model *model = NULL;
 *     if (aimos_load_model("model.safetensors", &model) != AIMOS_OK) {
 *         fprintf(stderr, "%s\n", aimos_last_error());
 *         return 1;
 *     }
 *     aimos_options options;
 *     aimos_options_init(&options);              // defaults; then change what you need
 *     aimos_volume volume = { voxels, AIMOS_DTYPE_INT16, {nx, ny, nz}, {0.14, 0.14, 0.14} };
 *     aimos_result *result = NULL;
 *     aimos_status status = aimos_segment_volume(model, &volume, &options, &result);
 *     if (status == AIMOS_OK) {
 *         const uint8_t *labels = aimos_result_labels(result);   // nx*ny*nz, like the input
 *         double liver_mm3 = aimos_result_volume_mm3(result, 4);
 *     }
 *     aimos_free(result);
 *     aimos_free(model);
 *
 * Thread safety: a model is immutable after loading. Any number of threads may call
 * aimos_segment_volume with the same model at once; each result belongs to the thread that
 * made it until handed on. aimos_last_error is kept per thread. aimos parallelises over slices
 * itself and sets OpenBLAS to one thread per call, process-wide (openblas_set_num_threads(1)),
 * so a host that also uses OpenBLAS sees it single-threaded after the first segmentation.
 *
 * Errors: every fallible call returns an aimos_status; on failure aimos_last_error() gives a
 * message that names the problem. No call crashes on bad arguments, and a failed call leaves
 * its out-parameter NULL and allocates nothing.
 *
 * Compiles as C99 and as C++; includes only standard headers.
 */
#ifndef AIMOS_H
#define AIMOS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this header. aimos_version() reports the library's; they match when the
 * library and header come from one build. */
#define AIMOS_VERSION_MAJOR 0
#define AIMOS_VERSION_MINOR 1
#define AIMOS_VERSION_PATCH 0
#define AIMOS_VERSION_STRING "0.1.0"

/* Status codes. The numeric values are stable and will never change. */
typedef enum aimos_status {
    AIMOS_OK = 0,                     /* success */
    AIMOS_ERROR_INVALID_ARGUMENT = 1, /* NULL pointer, bad size, bad option, stale handle, NaN voxel */
    AIMOS_ERROR_IO = 2,               /* a file could not be opened, read or written */
    AIMOS_ERROR_FORMAT = 3,           /* a file was read but its content is malformed */
    AIMOS_ERROR_UNSUPPORTED = 4,      /* well-formed but not supported (architecture, dtype) */
    AIMOS_ERROR_OUT_OF_MEMORY = 5,    /* an allocation failed */
    AIMOS_ERROR_CANCELLED = 6,        /* the progress callback asked to stop */
    AIMOS_ERROR_INTERNAL = 7          /* a bug in aimos: please report it */
} aimos_status;

/* Voxel types of an input volume. Stable values. */
typedef enum aimos_dtype {
    AIMOS_DTYPE_UINT8 = 1,
    AIMOS_DTYPE_INT16 = 2,
    AIMOS_DTYPE_UINT16 = 3,
    AIMOS_DTYPE_INT32 = 4,
    AIMOS_DTYPE_FLOAT32 = 5,
    AIMOS_DTYPE_FLOAT64 = 6
} aimos_dtype;

/* A loaded model (a U-Net or an ensemble of them). Opaque; immutable after load, so it may be
 * shared by threads. Free with aimos_free. */
typedef struct aimos_model aimos_model;

/* The outcome of one segmentation: labels, optional probabilities, optional uncertainty,
 * organ volumes. Opaque; free with aimos_free. */
typedef struct aimos_result aimos_result;

/* A volume to segment. aimos only reads it, and only during aimos_segment_volume. */
typedef struct aimos_volume {
    const void *data;      /* nx*ny*nz voxels, contiguous, x fastest, then y, then z (NIfTI order) */
    aimos_dtype dtype;     /* type of each voxel */
    int64_t dims[3];       /* nx, ny, nz; each 1 ... 65536 */
    double spacing_mm[3];  /* voxel size in mm along x, y, z; each finite and > 0 */
} aimos_volume;

/* Progress callback: called once per finished slice with the number of slices done and the
 * total. Calls are serialised (never two at once) but may come from any worker thread.
 * Return 0 to go on, nonzero to cancel (aimos_segment_volume then returns
 * AIMOS_ERROR_CANCELLED and no result). */
typedef int (*aimos_progress_fn)(void *user_data, int64_t done, int64_t total);

/* Options of aimos_segment_volume. Always initialise with aimos_options_init, then change
 * fields: struct_size lets later versions add fields at the end compatibly. */
typedef struct aimos_options {
    uint32_t struct_size;       /* set by aimos_options_init; do not change */
    int32_t slice_axis;         /* default -1: the model's own axis (2, coronal, unless the model
                                   file says otherwise); else 0, 1 or 2 (the volume axis cut) */
    int32_t threads;            /* default 0: one worker per online core; else 1..1024 */
    int32_t keep_probabilities; /* default 0; nonzero: keep one probability map per class */
    aimos_progress_fn progress; /* default NULL: no progress reports */
    void *user_data;            /* handed to progress unchanged; default NULL */
} aimos_options;

/* Fills *options with the defaults above. NULL is a no-op. */
void aimos_options_init(aimos_options *options);

/* Loads a model file (safetensors with AIMOS metadata: see README "Model file") into
 * *out_model. Checks every tensor's presence and shape against the architecture and names the
 * first mismatch. BatchNorm is folded into the convolutions here, once.
 * Returns AIMOS_OK, or INVALID_ARGUMENT (NULL path or out_model), IO (cannot read),
 * FORMAT (malformed file, missing or misshapen tensor), UNSUPPORTED (unknown architecture or
 * tensor type), OUT_OF_MEMORY. On failure *out_model is set to NULL (if out_model is not NULL). */
aimos_status aimos_load_model(const char *path, aimos_model **out_model);

/* Segments a volume. options may be NULL (defaults). On success *out_result holds a new result
 * that the caller frees with aimos_free. The volume is cut along the slice axis (axis 2: slice
 * rows are y and columns x; axis 1: rows z, columns x; axis 0: rows z, columns y).
 * Returns AIMOS_OK, or INVALID_ARGUMENT (NULL model/volume/out_result, stale handle, dims <= 0 or
 * too large, unknown dtype, NaN/Inf voxel, bad spacing, bad slice axis or thread count, options
 * struct_size too small), OUT_OF_MEMORY, CANCELLED (the progress callback returned nonzero).
 * On failure *out_result is NULL. */
aimos_status aimos_segment_volume(const aimos_model *model, const aimos_volume *volume,
                                  const aimos_options *options, aimos_result **out_result);

/* Segments a NIfTI scan file and writes its label map: reads input_path (.nii, .nii.gz or
 * .hdr/.img; NIfTI-1, NIfTI-2 or Analyze; uint8, int8, int16, uint16, int32, uint32, int64,
 * uint64, float32 or float64; scl_slope/scl_inter applied; a 4D file only if it holds one
 * volume), and writes output_labels_path (.nii or .nii.gz) as uint8 on exactly the input's grid
 * (dims, pixdim, qform and sform, units), intent NIFTI_INTENT_LABEL, the class names in a header
 * extension. The file is written to a temporary name, verified, then renamed: a failure leaves
 * no output behind. An existing output_labels_path is never replaced (AIMOS_ERROR_IO): delete it
 * first. options may be NULL; keep_probabilities is ignored here.
 * Returns AIMOS_OK, or INVALID_ARGUMENT (NULL or stale arguments, NaN voxel, bad options),
 * IO (unreadable input, existing or unwritable output), FORMAT (corrupt or truncated input),
 * UNSUPPORTED (datatype, a 4D series, an output that is not .nii/.nii.gz), OUT_OF_MEMORY,
 * CANCELLED. */
aimos_status aimos_segment_nifti(const aimos_model *model, const char *input_path,
                                 const char *output_labels_path, const aimos_options *options);

/* Frees a model or a result. NULL, and a pointer that is not a live aimos handle (already freed,
 * or never made by aimos), are harmless no-ops. A model may be freed while a result made from
 * it lives on, and while other threads still run a segmentation with it (they finish first). */
void aimos_free(void *handle);

/* Number of classes of the model, background (class 0) included, the uncertainty channel not.
 * Returns 0 for a NULL or stale model. */
int32_t aimos_model_class_count(const aimos_model *model);

/* Name of class index (0 = "background" or what the model file calls it). The string lives as
 * long as the model. NULL for a NULL or stale model or an index outside [0, class_count). */
const char *aimos_model_class_name(const aimos_model *model, int32_t index);

/* Label map: nx*ny*nz class indices in the input's layout (x fastest). Lives as long as the
 * result. NULL for a NULL or stale result. */
const uint8_t *aimos_result_labels(const aimos_result *result);

/* Probability map of one class (sigmoid output, 0..1), nx*ny*nz floats in the input's layout.
 * NULL unless keep_probabilities was set, and for a bad index or handle. Lives as long as the
 * result. */
const float *aimos_result_probabilities(const aimos_result *result, int32_t class_index);

/* The annotator-disagreement heatmap (0..1), nx*ny*nz floats in the input's layout, for models
 * trained with an uncertainty channel; NULL otherwise and for a bad handle. Lives as long as the
 * result. */
const float *aimos_result_uncertainty(const aimos_result *result);

/* Volume of one class in mm3: voxels labelled class_index times the voxel volume.
 * NaN for a bad handle or an index outside [0, class_count). */
double aimos_result_volume_mm3(const aimos_result *result, int32_t class_index);

/* Message of the last failed call on this thread ("" if none). Never NULL. The string stays
 * valid until the next failing aimos call on the same thread. */
const char *aimos_last_error(void);

/* Static name of a status ("AIMOS_OK", ...; "AIMOS_ERROR_UNKNOWN" for other values).
 * Never NULL. */
const char *aimos_status_string(aimos_status status);

/* Library version, "MAJOR.MINOR.PATCH". Static, never NULL. */
const char *aimos_version(void);

#ifdef __cplusplus
}
#endif

#endif /* AIMOS_H */

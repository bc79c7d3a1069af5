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
 *     aimos_options_init(&options);              // defaults (layout detected); then change what you need
 *     aimos_volume volume;
 *     aimos_volume_init(&volume);
 *     volume.data = voxels;
 *     volume.dtype = AIMOS_DTYPE_INT16;
 *     volume.dims[0] = nx; volume.dims[1] = ny; volume.dims[2] = nz;
 *     volume.spacing_mm[0] = volume.spacing_mm[1] = volume.spacing_mm[2] = 0.14;
 *     aimos_result *result = NULL;
 *     aimos_status status = aimos_segment(model, &volume, &options, &result);
 *     if (status == AIMOS_OK) {
 *         const uint8_t *labels = aimos_result_labels(result);   // nx*ny*nz, like the input
 *         double liver_mm3 = aimos_result_volume_mm3(result, 4);
 *     }
 *     aimos_result_free(result);
 *     aimos_model_free(model);
 *
 * Thread safety: a model is immutable after loading. Any number of threads may call
 * aimos_segment with the same model at once; each result belongs to the thread that
 * made it until handed on. aimos_last_error is kept per thread. aimos parallelises over slices
 * itself, and within a slice when there are fewer slices than threads.
 *
 * Kernels: aimos runs its own CPU kernels, chosen when a model is loaded from the CPU's
 * features (AVX-512, else AVX2 + FMA, else a portable path). The environment variable
 * AIMOS_CPU_KERNELS = generic | avx2 | avx512 | reference | auto forces one for tests and
 * benchmarks ("reference": im2col + OpenBLAS, the slow path tests compare against; with it,
 * aimos sets OpenBLAS to one thread per call, process-wide, on the first segmentation).
 *
 * Errors: every fallible call returns an aimos_status; on failure aimos_last_error() gives a
 * message that names the problem. No call crashes on bad arguments, and a failed call leaves
 * its out-parameter NULL and allocates nothing. What the library cannot detect is the caller's
 * to get right: a data pointer whose buffer is shorter than the dims claim, a callback or
 * pointer that is not what its type says, a result or model used after the memory it was read
 * into was written over by the caller (see SECURITY.md for untrusted model and NIfTI files).
 *
 * Compatibility (ABI 1.0): a program built against any earlier header (0.1 onwards) runs
 * unchanged against this library: no exported function is removed or changes meaning, and every
 * struct the caller fills starts with struct_size, so the library reads only the fields the
 * caller's header had and uses the defaults for the rest. Struct fields are fixed-width
 * integers, never enum types. "Since x.y" on each declaration names the version that added it.
 * Declarations in the experimental section at the end (only with AIMOS_EXPERIMENTAL defined)
 * may change or go in any release. Tests/abi checks a 0.1 caller and the exported ABI (abidiff).
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
#define AIMOS_VERSION_MAJOR 1
#define AIMOS_VERSION_MINOR 1
#define AIMOS_VERSION_PATCH 0
#define AIMOS_VERSION_STRING "1.1.0"
/* MAJOR * 10000 + MINOR * 100 + PATCH, to compare with aimos_version_number() (the library a
 * program runs against) at run time. Since 0.3. */
#define AIMOS_VERSION_NUMBER (AIMOS_VERSION_MAJOR * 10000 + AIMOS_VERSION_MINOR * 100 + AIMOS_VERSION_PATCH)

/* Status codes. The numeric values are stable and will never change; a later version may add
 * codes (treat an unknown one as an error; aimos_status_string names it). Since 0.1. */
typedef enum aimos_status {
    AIMOS_OK = 0,                     /* success */
    AIMOS_ERROR_INVALID_ARGUMENT = 1, /* NULL pointer, bad size, bad option, NaN voxel */
    AIMOS_ERROR_IO = 2,               /* a file could not be opened, read or written */
    AIMOS_ERROR_FORMAT = 3,           /* a file was read but its content is malformed */
    AIMOS_ERROR_UNSUPPORTED = 4,      /* well-formed but not supported (architecture, dtype) */
    AIMOS_ERROR_OUT_OF_MEMORY = 5,    /* an allocation failed */
    AIMOS_ERROR_CANCELLED = 6,        /* the progress callback asked to stop */
    AIMOS_ERROR_INTERNAL = 7,         /* a bug in aimos: please report it */
    AIMOS_ERROR_MISUSE = 8            /* a handle that is not live: freed already, of the other
                                         kind, or never made by aimos (until 1.0:
                                         INVALID_ARGUMENT). Since 1.0. */
} aimos_status;

/* Voxel types of an input volume (aimos_volume.dtype). Stable values. Since 0.1. */
typedef enum aimos_dtype {
    AIMOS_DTYPE_UINT8 = 1,
    AIMOS_DTYPE_INT16 = 2,
    AIMOS_DTYPE_UINT16 = 3,
    AIMOS_DTYPE_INT32 = 4,
    AIMOS_DTYPE_FLOAT32 = 5,
    AIMOS_DTYPE_FLOAT64 = 6
} aimos_dtype;

/* A loaded model (a U-Net or an ensemble of them). Opaque; immutable after load, so it may be
 * shared by threads. Free with aimos_model_free. Since 0.1. */
typedef struct aimos_model aimos_model;

/* The outcome of one segmentation: labels, optional probabilities, optional uncertainty,
 * organ volumes. Opaque; free with aimos_result_free. Since 0.1. */
typedef struct aimos_result aimos_result;

/* Where a scan's layout comes from (aimos_options.orientation). Since 0.2.
 * A layout is a code of three letters, one per voxel axis (x, y, z), each naming the direction
 * its index increases towards: H/T head/tail, L/R the animal's left/right, D/V dorsal/ventral
 * ("LHD": x runs to the left, y to the head, z to the back). Each of the lines H/T, L/R, D/V
 * appears once: 48 codes. A model declares the layout of its slices the same way (rows,
 * columns, slice index; the published AIMOS models: "TLD"). The volume is permuted and flipped
 * (no interpolation) into the model's layout, and every result is mapped back exactly. */
typedef enum aimos_orientation_mode {
    AIMOS_ORIENTATION_NONE = 0,   /* the voxel axes already are the model's (0.1 behaviour); slice_axis applies */
    AIMOS_ORIENTATION_AUTO = 1,   /* detected from the image (default) */
    AIMOS_ORIENTATION_HEADER = 2, /* from options->world_matrix read as RAS = the animal's right, head, back */
    AIMOS_ORIENTATION_CODE = 3    /* options->orientation_code */
} aimos_orientation_mode;

/* Whether slices are cut from each animal's extent (aimos_options.crop). Since 0.2. */
typedef enum aimos_crop_mode {
    AIMOS_CROP_MODEL = -1, /* what the model file declares (default; absent: none) */
    AIMOS_CROP_NONE = 0,   /* the whole field of view (0.1 behaviour) */
    AIMOS_CROP_BODY = 1    /* each animal's bounding box plus 3 mm; voxels outside are background */
} aimos_crop_mode;

/* A volume to segment. aimos only reads it, and only during aimos_segment. Initialise with
 * aimos_volume_init, then set the fields. Since 1.0 (0.1's layout, without struct_size, is
 * aimos_volume_0_1 below). */
typedef struct aimos_volume {
    uint32_t struct_size;  /* set by aimos_volume_init; do not change */
    int32_t dtype;         /* an aimos_dtype: the type of each voxel */
    const void *data;      /* nx*ny*nz voxels, contiguous, x fastest, then y, then z (NIfTI order).
                              aimos cannot check that the buffer is that long: the caller must. */
    int64_t dims[3];       /* nx, ny, nz; each 1 ... 65536 */
    double spacing_mm[3];  /* voxel size in mm along x, y, z; each finite and > 0 */
} aimos_volume;

/* The size of aimos_volume in 1.0, the smallest struct_size the library accepts. Since 1.0. */
#define AIMOS_VOLUME_SIZE_1_0 ((uint32_t)(offsetof(aimos_volume, spacing_mm) + 3 * sizeof(double)))

/* Fills the first `size` bytes of *volume (size = sizeof(aimos_volume) of the caller's header)
 * with zeros (data NULL, dtype 0, dims 0: not yet valid) and spacing 1 mm, and sets struct_size
 * to the part filled: at most the library's own size. NULL, or a size below
 * AIMOS_VOLUME_SIZE_1_0, is a no-op. Call it through the macro aimos_volume_init. Since 1.0. */
void aimos_volume_init_sized(aimos_volume *volume, uint32_t size);
#define aimos_volume_init(volume) aimos_volume_init_sized((volume), (uint32_t)sizeof(aimos_volume))

/* Progress callback: called once per finished slice with the number of slices done and the
 * total. Calls are serialised (never two at once) but may come from any worker thread.
 * Return 0 to go on, nonzero to cancel (aimos_segment then returns AIMOS_ERROR_CANCELLED and no
 * result, within one slice's time). Since 0.1. */
typedef int (*aimos_progress_fn)(void *user_data, int64_t done, int64_t total);

/* Options of aimos_segment and aimos_segment_nifti. Always initialise with aimos_options_init,
 * then change fields: struct_size lets later versions add fields at the end compatibly. The
 * library reads only the fields a caller's struct_size covers and takes the 0.1 behaviour for
 * the rest, so a program built against an older header keeps working unchanged; the fields of a
 * newer header than the library's are ignored. Since 0.1 (fields added in 0.2 and 1.1 as marked). */
typedef struct aimos_options {
    uint32_t struct_size;       /* set by aimos_options_init; do not change */
    int32_t slice_axis;         /* default -1: the model's own axis (2, coronal, unless the model
                                   file says otherwise); else 0, 1 or 2 (the volume axis cut).
                                   Only with AIMOS_ORIENTATION_NONE. */
    int32_t threads;            /* default 0: one worker per online core; else 1..1024 */
    int32_t keep_probabilities; /* default 0; nonzero: keep one probability map per class */
    aimos_progress_fn progress; /* default NULL: no progress reports */
    void *user_data;            /* handed to progress unchanged; default NULL */
    /* Since 0.2. */
    int32_t orientation;        /* an aimos_orientation_mode; default AIMOS_ORIENTATION_AUTO */
    char orientation_code[4];   /* with AIMOS_ORIENTATION_CODE: the scan's layout, e.g. "LHD" */
    int32_t crop;               /* an aimos_crop_mode; default AIMOS_CROP_MODEL */
    int32_t separate_animals;   /* default 1: with cropping, every animal found is segmented in
                                   its own crop and layout; 0: the largest animal only */
    const double *world_matrix; /* default NULL; for AIMOS_ORIENTATION_HEADER: 16 doubles, the
                                   row-major 4x4 voxel-to-world matrix (RAS+, mm), as NIfTI's
                                   sform. Read during aimos_segment_volume only. */
    /* Since 1.1. */
    const char *dicom_series;   /* default NULL; for aimos_segment_nifti with a DICOM folder that
                                   holds several series: the Series Instance UID to read (the
                                   error message of a call without it lists them). Read during
                                   the call only; ignored by aimos_segment. */
} aimos_options;

/* The size of aimos_options in 0.1 (its fields up to user_data), the smallest struct_size
 * the library accepts. Since 0.2. */
#define AIMOS_OPTIONS_SIZE_0_1 (offsetof(aimos_options, orientation))

/* Fills the first `size` bytes of *options (size = sizeof(aimos_options) of the caller's
 * header) with the defaults above and sets struct_size to the part filled: at most the
 * library's own size. NULL, or a size below AIMOS_OPTIONS_SIZE_0_1, is a no-op. Since 0.2. */
void aimos_options_init_sized(aimos_options *options, uint32_t size);

/* Fills *options with the defaults above. NULL is a no-op. (The function fills the 0.1 fields
 * only, as a program built against 0.1 expects; this header makes the name call
 * aimos_options_init_sized with this header's size, so new code gets every field.) Since 0.1. */
void aimos_options_init(aimos_options *options);
#define aimos_options_init(options) aimos_options_init_sized((options), (uint32_t)sizeof(aimos_options))

/* Loads a model file (safetensors with AIMOS metadata: see README "Model file") into
 * *out_model. Checks every tensor's presence and shape against the architecture and names the
 * first mismatch. BatchNorm is folded into the convolutions here, once, and the weights are
 * prepared for the kernels (Winograd-transformed layers take four times their file size).
 * Returns AIMOS_OK, or INVALID_ARGUMENT (NULL path or out_model; AIMOS_CPU_KERNELS set to an
 * unknown value), IO (cannot read), FORMAT (malformed file, missing or misshapen tensor),
 * UNSUPPORTED (unknown architecture or tensor type; AIMOS_CPU_KERNELS names a path this CPU
 * lacks), OUT_OF_MEMORY. On failure *out_model is set to NULL (if out_model is not NULL).
 * A model file from an untrusted source gets a status, never a crash (SECURITY.md). Since 0.1. */
aimos_status aimos_load_model(const char *path, aimos_model **out_model);

/* Segments a volume. options may be NULL (the aimos_options_init defaults). On success
 * *out_result holds a new result that the caller frees with aimos_result_free. The volume is
 * laid out in the model's anatomical layout (options->orientation; see aimos_orientation_mode),
 * cropped to each animal when asked (options->crop), segmented slice by slice, and every output
 * mapped back onto the input's voxels. With AIMOS_ORIENTATION_NONE it is cut along the slice
 * axis (axis 2: slice rows are y and columns x; axis 1: rows z, columns x; axis 0: rows z,
 * columns y).
 * Returns AIMOS_OK, or INVALID_ARGUMENT (NULL model/volume/out_result, volume struct_size below
 * AIMOS_VOLUME_SIZE_1_0, dims <= 0 or too large, unknown dtype, NaN/Inf voxel, bad spacing, bad
 * slice axis or thread count, options struct_size too small, unknown orientation mode or code,
 * crop mode, a slice axis without AIMOS_ORIENTATION_NONE, HEADER without world_matrix or with an
 * oblique one), MISUSE (model not live), OUT_OF_MEMORY, CANCELLED (the progress callback returned
 * nonzero). On failure *out_result is NULL. Since 1.0. */
aimos_status aimos_segment(const aimos_model *model, const aimos_volume *volume,
                           const aimos_options *options, aimos_result **out_result);

/* 0.1's volume, without struct_size, for aimos_segment_volume. Since 0.1. */
typedef struct aimos_volume_0_1 {
    const void *data;
    int32_t dtype;         /* 0.1 declared it as aimos_dtype; 4 bytes on every platform aimos builds for */
    int64_t dims[3];
    double spacing_mm[3];
} aimos_volume_0_1;

/* 0.1's entry point, kept for programs built against 0.1: aimos_segment with the volume in
 * 0.1's layout. New code calls aimos_segment. Since 0.1. */
aimos_status aimos_segment_volume(const aimos_model *model, const aimos_volume_0_1 *volume,
                                  const aimos_options *options, aimos_result **out_result);

/* Segments a NIfTI scan file and writes its label map (with AIMOS_ORIENTATION_HEADER and no
 * world_matrix, the file's sform, else qform, gives the layout): reads input_path (.nii, .nii.gz or
 * .hdr/.img; NIfTI-1, NIfTI-2 or Analyze; uint8, int8, int16, uint16, int32, uint32, int64,
 * uint64, float32 or float64; scl_slope/scl_inter applied; a 4D file only if it holds one
 * volume), and writes output_labels_path (.nii or .nii.gz) as uint8 on exactly the input's grid
 * (dims, pixdim, qform and sform, units), intent NIFTI_INTENT_LABEL, the class names in a header
 * extension. The file is written to a temporary name, verified, then renamed: a failure leaves
 * no output behind. An existing output_labels_path is never replaced (AIMOS_ERROR_IO): delete it
 * first. options may be NULL; keep_probabilities is ignored here.
 * Returns AIMOS_OK, or INVALID_ARGUMENT (NULL arguments, NaN voxel, bad options), MISUSE
 * (model not live), IO (unreadable input, existing or unwritable output), FORMAT (corrupt or
 * truncated input, a header claiming more data than the file holds), UNSUPPORTED (datatype, a
 * 4D series, an output that is not .nii/.nii.gz), OUT_OF_MEMORY, CANCELLED. A NIfTI file from
 * an untrusted source gets a status, never a crash (SECURITY.md). Since 0.1.
 * Since 1.1, input_path may also be a DICOM series: a folder holding it (its files, not
 * subfolders), or one (multi-frame) DICOM file; several series in one folder need
 * options->dicom_series. Read through GDCM (every transfer syntax it decodes), planes sorted
 * along their normal; a missing, duplicate or unevenly spaced plane is FORMAT, several series
 * without dicom_series INVALID_ARGUMENT. The label map is NIfTI on the series' grid: voxel
 * (column, row, plane), the patient frame (LPS) turned into RAS in the sform and qform. The
 * series is read once in a child process (fork) before it is read in the caller's: Debian's
 * GDCM aborts on some malformed files, and a crash there becomes AIMOS_ERROR_FORMAT instead of
 * ending the caller (SECURITY.md). */
aimos_status aimos_segment_nifti(const aimos_model *model, const char *input_path,
                                 const char *output_labels_path, const aimos_options *options);

/* Frees a model or a result. NULL, and a pointer that is not a live aimos handle (already freed,
 * or never made by aimos), are harmless no-ops. A model may be freed while a result made from
 * it lives on, and while other threads still run a segmentation with it (they finish first).
 * Since 0.1; aimos_model_free and aimos_result_free say which kind is meant. */
void aimos_free(void *handle);

/* The same, for one kind of handle only: a handle of the other kind (or none) is left alone.
 * Since 0.3. */
void aimos_model_free(aimos_model *model);
void aimos_result_free(aimos_result *result);

/* The model's input size (its slices are resized to input_size x input_size); 0 for a NULL or
 * stale model. Since 0.3. */
int32_t aimos_model_input_size(const aimos_model *model);

/* The voxel axis the model cuts with AIMOS_ORIENTATION_NONE (0, 1 or 2); -1 for a NULL or stale
 * model. Since 0.3. */
int32_t aimos_model_slice_axis(const aimos_model *model);

/* Whether the model has the uncertainty channel (1) or not (0); -1 for a NULL or stale model.
 * Since 0.3. */
int32_t aimos_model_has_uncertainty(const aimos_model *model);

/* Copies the layout code of the model's training slices (e.g. "TLD": rows, columns, slices)
 * with its NUL into code[4]. Returns AIMOS_OK, or INVALID_ARGUMENT (NULL model or code), MISUSE
 * (model not live). Since 0.3. */
aimos_status aimos_model_orientation(const aimos_model *model, char code[4]);

/* Number of classes of the model, background (class 0) included, the uncertainty channel not.
 * Returns 0 for a NULL or stale model. Since 0.1. */
int32_t aimos_model_class_count(const aimos_model *model);

/* Name of class index (0 = "background" or what the model file calls it). The string lives as
 * long as the model. NULL for a NULL or stale model or an index outside [0, class_count).
 * Since 0.1. */
const char *aimos_model_class_name(const aimos_model *model, int32_t index);

/* Label map: nx*ny*nz class indices in the input's layout (x fastest). Lives as long as the
 * result. NULL for a NULL or stale result. Since 0.1. */
const uint8_t *aimos_result_labels(const aimos_result *result);

/* Probability map of one class (sigmoid output, 0..1), nx*ny*nz floats in the input's layout.
 * NULL unless keep_probabilities was set, and for a bad index or handle. Lives as long as the
 * result. Since 0.1. */
const float *aimos_result_probabilities(const aimos_result *result, int32_t class_index);

/* The annotator-disagreement heatmap (0..1), nx*ny*nz floats in the input's layout, for models
 * trained with an uncertainty channel; NULL otherwise and for a bad handle. Lives as long as the
 * result. Since 0.1. */
const float *aimos_result_uncertainty(const aimos_result *result);

/* Volume of one class in mm3: voxels labelled class_index times the voxel volume.
 * NaN for a bad handle or an index outside [0, class_count). Since 0.1. */
double aimos_result_volume_mm3(const aimos_result *result, int32_t class_index);

/* How one animal of a result was laid out for the model. Since 0.2. */
typedef struct aimos_layout {
    uint32_t struct_size;       /* set by the caller to sizeof(aimos_layout); the library fills
                                   that much (at most its own size) and sets it to what it filled */
    char orientation[4];        /* the scan's layout used, e.g. "LHD"; "" with AIMOS_ORIENTATION_NONE */
    double confidence;          /* 0..1 when detected (AIMOS_ORIENTATION_AUTO), else -1 */
    int64_t crop_lower[3];      /* the crop: voxel index ranges [lower, upper) along x, y, z */
    int64_t crop_upper[3];
    int32_t slice_axis;         /* the volume axis cut into slices */
    int32_t slice_direction_known; /* 0 when auto detection could not tell the slice index's
                                   direction from the organs (labels do not depend on it) */
} aimos_layout;

/* The result's grid: dims[3] = nx, ny, nz of the segmented volume. Returns AIMOS_OK, or
 * INVALID_ARGUMENT (NULL result or dims), MISUSE (result not live). Since 0.3. */
aimos_status aimos_result_dims(const aimos_result *result, int64_t dims[3]);

/* Number of classes of the result (its model's, background included); 0 for a bad handle.
 * Since 0.3. */
int32_t aimos_result_class_count(const aimos_result *result);

/* Number of animals the result was segmented as (1 without cropping). 0 for a bad handle.
 * Since 0.2. */
int32_t aimos_result_animal_count(const aimos_result *result);

/* Fills *layout (whose struct_size the caller sets) with animal `animal`'s layout, 0-based.
 * Returns AIMOS_OK, or INVALID_ARGUMENT (NULL result, bad index, NULL layout or a struct_size
 * below 0.2's sizeof(aimos_layout)), MISUSE (result not live). Since 0.2. */
aimos_status aimos_result_layout(const aimos_result *result, int32_t animal, aimos_layout *layout);

/* The factor by which the volume's voxel size would have to be multiplied for the body to
 * be a mouse's length (15-150 mm), e.g. 0.001 for micrometres given as millimetres; 1 when
 * plausible or not measured (the body is measured when cropping or detecting). NaN for a bad
 * handle. Since 0.2. */
double aimos_result_voxel_size_factor(const aimos_result *result);

/* The paper's metrics of one organ (Methods, "Evaluation"), as aimos evaluate reports them.
 * Since 0.3. */
typedef struct aimos_organ_metrics {
    uint32_t struct_size;          /* set by the caller to sizeof(aimos_organ_metrics) */
    int32_t label;                 /* the label value these metrics are for */
    double dice;                   /* (2 TP + 1e-5) / (2 TP + FP + FN + 1e-5): both empty 1, one empty ~0 */
    double hd50_mm;                /* percentiles of surface-to-surface distances (the larger of the two */
    double hd95_mm;                /* directed ones; exact Euclidean with the voxel size); NaN if a mask is empty */
    double center_of_mass_mm;      /* centre-of-mass displacement; NaN if a mask is empty */
    double volume_reference_mm3;
    double volume_prediction_mm3;
    double volume_error_percent;   /* 100 (prediction - reference) / reference; NaN for an empty reference */
} aimos_organ_metrics;

/* Compares a predicted and a reference label map of dims[0] x dims[1] x dims[2] voxels (x
 * fastest, as aimos_result_labels; one numbering for both) with voxel size spacing[3] mm, label
 * by label: fills metrics for labels 1 .. count, label k in the k-th element. The caller sets
 * metrics[0].struct_size; the array's elements are that many bytes apart, and each is filled
 * up to that size (a newer library fills no field an older caller lacks). Surfaces are the
 * voxels with a face neighbour outside the organ (outside the grid counts as outside).
 * Returns AIMOS_OK, or INVALID_ARGUMENT (a NULL pointer; a dimension below 1, above 65536, or
 * a grid over 2^31 voxels; a voxel size not positive and finite; count not 1..255; struct_size
 * below the 0.3 size). Allocates nothing the caller frees. Since 0.3. */
aimos_status aimos_compare_labels(const uint8_t *prediction, const uint8_t *reference, const int64_t dims[3],
                                  const double spacing[3], aimos_organ_metrics *metrics, int32_t count);

/* Message of the last failed call on this thread ("" if none). Never NULL. The string stays
 * valid until the next failing aimos call on the same thread. Since 0.1. */
const char *aimos_last_error(void);

/* Static name of a status ("AIMOS_OK", ...; "AIMOS_ERROR_UNKNOWN" for other values).
 * Never NULL. Since 0.1. */
const char *aimos_status_string(aimos_status status);

/* Library version, "MAJOR.MINOR.PATCH". Static, never NULL. Since 0.1. */
const char *aimos_version(void);

/* Library version as AIMOS_VERSION_NUMBER computes it. Since 0.3. */
uint32_t aimos_version_number(void);

/* ---- Experimental: not covered by the compatibility promise ----------------------------------
 * Declared only when AIMOS_EXPERIMENTAL is defined before including this header. These may
 * change or be removed in any release; the ABI check (Tests/abi) ignores them. */
#ifdef AIMOS_EXPERIMENTAL

/* The CPU kernel path the model was prepared for: "avx512", "avx2", "generic" or "reference"
 * (see "Kernels" above); NULL for a NULL or stale model. Static string. Since 1.0. */
const char *aimos_experimental_model_kernels(const aimos_model *model);

#endif /* AIMOS_EXPERIMENTAL */

#ifdef __cplusplus
}
#endif

#endif /* AIMOS_H */

/*
 * abi_test.c - tests libaimos.so through include/aimos.h only, as a C client would:
 * every function, every error path, and 8 threads segmenting with one model at once.
 *
 *   abi_test FIXTURE_DIR SCRATCH_DIR
 *
 * FIXTURE_DIR is Tests/AimosCoreTests/Fixtures (model files and golden results made by
 * aimos-make-golden-fixtures); SCRATCH_DIR receives a few malformed model files.
 * Prints "N passed, M failed" and exits nonzero on any failure.
 */
/* The experimental section too: its declarations are tested, though they may change. */
#define AIMOS_EXPERIMENTAL
#include <aimos.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

/* The golden fixture parser, shared with the C example's test (Examples/c/tests). */
#include "golden_fixture.h"

static int passed, failed;
/* Rounds per thread in the 8-thread test: 3, or 1 when AIMOS_TEST_QUICK is set (the valgrind
 * pass, which runs every instruction about 50 times slower). */
static int thread_rounds = 3;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (cond) {                                                            \
            passed++;                                                          \
        } else {                                                               \
            failed++;                                                          \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);    \
            fprintf(stderr, __VA_ARGS__);                                      \
            fprintf(stderr, "\n");                                             \
        }                                                                      \
    } while (0)

/* A failing call: the status, and a message that mentions `needle`. */
static void expect_error(aimos_status got, aimos_status want, const char *needle, const char *what) {
    CHECK(got == want, "%s: got %s, want %s (%s)", what, aimos_status_string(got),
          aimos_status_string(want), aimos_last_error());
    CHECK(strstr(aimos_last_error(), needle) != NULL, "%s: message '%s' lacks '%s'", what,
          aimos_last_error(), needle);
}

static void write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(2); }
    fwrite(data, 1, size, f);
    fclose(f);
}

/* A safetensors file with only a header (no tensors). */
static void write_header_only(const char *path, const char *json) {
    uint64_t length = strlen(json);
    char *bytes = malloc(8 + length);
    for (int i = 0; i < 8; i++) bytes[i] = (char)((length >> (8 * i)) & 0xff);
    memcpy(bytes + 8, json, length);
    write_file(path, bytes, 8 + length);
    free(bytes);
}

/* Number of entries in a directory besides . and .. (-1 if it cannot be read). */
static int count_entries(const char *directory) {
    DIR *dir = opendir(directory);
    if (!dir) return -1;
    int count = 0;
    for (struct dirent *entry; (entry = readdir(dir)) != NULL;)
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) count++;
    closedir(dir);
    return count;
}

/* ---- progress callbacks ---- */
typedef struct { int64_t calls, last_done, total, cancel_at; int monotonic; } progress_log;

static int record_progress(void *user_data, int64_t done, int64_t total) {
    progress_log *log = user_data;
    if (done != log->last_done + 1) log->monotonic = 0;
    log->calls++;
    log->last_done = done;
    log->total = total;
    return log->cancel_at > 0 && done >= log->cancel_at;
}

/* ---- threads ---- */
typedef struct {
    const aimos_model *model;
    const aimos_volume *volume;
    const uint8_t *expected;
    int64_t voxels;
    int ok;
} thread_job;

/* A volume as aimos_volume_init makes it, with the fields set. */
static aimos_volume make_volume(const void *data, int32_t dtype, int64_t nx, int64_t ny, int64_t nz,
                                double sx, double sy, double sz) {
    aimos_volume volume;
    aimos_volume_init(&volume);
    volume.data = data;
    volume.dtype = dtype;
    volume.dims[0] = nx; volume.dims[1] = ny; volume.dims[2] = nz;
    volume.spacing_mm[0] = sx; volume.spacing_mm[1] = sy; volume.spacing_mm[2] = sz;
    return volume;
}

/* Options of the published behaviour, which the reference labels were made with: the voxel
 * axes taken as the model's, no crop. */
static aimos_options published_options(void) {
    aimos_options options;
    aimos_options_init(&options);
    options.orientation = AIMOS_ORIENTATION_NONE;
    options.crop = AIMOS_CROP_NONE;
    return options;
}

static void *segment_in_thread(void *arg) {
    thread_job *job = arg;
    aimos_options options = published_options();
    options.threads = 1;
    for (int round = 0; round < thread_rounds; round++) {
        aimos_result *result = NULL;
        if (aimos_segment(job->model, job->volume, &options, &result) != AIMOS_OK) return NULL;
        int same = memcmp(aimos_result_labels(result), job->expected, (size_t)job->voxels) == 0;
        aimos_free(result);
        if (!same) return NULL;
    }
    job->ok = 1;
    return NULL;
}

/* NULL for every pointer argument of every function, one at a time: a clean status (or the
 * documented NULL/0/NaN answer), *out NULL where there is one, never a crash. */
static void check_null_arguments(const char *fixtures, const char *scratch) {
    char path[4096], out[4096];
    snprintf(path, sizeof path, "%.4000s/unet64_c3_s32_f32.safetensors", fixtures);
    snprintf(out, sizeof out, "%.4000s/null_check.nii.gz", scratch);
    aimos_model *model = NULL;
    CHECK(aimos_load_model(path, &model) == AIMOS_OK, "NULL checks: load");
    uint8_t voxels[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    aimos_volume volume = make_volume(voxels, AIMOS_DTYPE_UINT8, 2, 2, 2, 1, 1, 1);
    aimos_volume_0_1 old = {voxels, AIMOS_DTYPE_UINT8, {2, 2, 2}, {1, 1, 1}};
    aimos_options options = published_options();
    aimos_result *result = NULL;
    CHECK(aimos_segment(model, &volume, &options, &result) == AIMOS_OK, "NULL checks: a result");
    aimos_result *none = (aimos_result *)&passed;
    int64_t dims[3] = {2, 2, 2};
    char code[4];
    aimos_layout layout;
    layout.struct_size = sizeof layout;
    aimos_organ_metrics metrics[1];
    metrics[0].struct_size = sizeof metrics[0];
    const double spacing[3] = {1, 1, 1};

    aimos_options_init_sized(NULL, sizeof(aimos_options));
    aimos_volume_init_sized(NULL, sizeof(aimos_volume));
    CHECK(aimos_load_model(NULL, &model) == AIMOS_ERROR_INVALID_ARGUMENT, "NULL: load_model path");
    CHECK(aimos_load_model(path, NULL) == AIMOS_ERROR_INVALID_ARGUMENT, "NULL: load_model out");
    CHECK(aimos_segment(NULL, &volume, &options, &none) == AIMOS_ERROR_INVALID_ARGUMENT && none == NULL, "NULL: segment model");
    none = (aimos_result *)&passed;
    CHECK(aimos_segment(model, NULL, &options, &none) == AIMOS_ERROR_INVALID_ARGUMENT && none == NULL, "NULL: segment volume");
    CHECK(aimos_segment(model, &volume, &options, NULL) == AIMOS_ERROR_INVALID_ARGUMENT, "NULL: segment out");
    CHECK(aimos_segment_volume(NULL, &old, &options, &none) == AIMOS_ERROR_INVALID_ARGUMENT && none == NULL, "NULL: 0.1 model");
    none = (aimos_result *)&passed;
    CHECK(aimos_segment_volume(model, NULL, &options, &none) == AIMOS_ERROR_INVALID_ARGUMENT && none == NULL, "NULL: 0.1 volume");
    CHECK(aimos_segment_volume(model, &old, &options, NULL) == AIMOS_ERROR_INVALID_ARGUMENT, "NULL: 0.1 out");
    old.data = NULL;
    none = (aimos_result *)&passed;
    CHECK(aimos_segment_volume(model, &old, &options, &none) == AIMOS_ERROR_INVALID_ARGUMENT && none == NULL, "NULL: 0.1 data");
    CHECK(aimos_segment_nifti(NULL, path, out, NULL) == AIMOS_ERROR_INVALID_ARGUMENT, "NULL: nifti model");
    CHECK(aimos_segment_nifti(model, NULL, out, NULL) == AIMOS_ERROR_INVALID_ARGUMENT, "NULL: nifti input");
    CHECK(aimos_segment_nifti(model, path, NULL, NULL) == AIMOS_ERROR_INVALID_ARGUMENT, "NULL: nifti output");
    aimos_free(NULL);
    aimos_model_free(NULL);
    aimos_result_free(NULL);
    CHECK(aimos_model_input_size(NULL) == 0 && aimos_model_slice_axis(NULL) == -1 && aimos_model_has_uncertainty(NULL) == -1 &&
          aimos_model_class_count(NULL) == 0 && aimos_model_class_name(NULL, 0) == NULL, "NULL: model getters");
    CHECK(aimos_model_orientation(NULL, code) == AIMOS_ERROR_INVALID_ARGUMENT, "NULL: orientation model");
    CHECK(aimos_model_orientation(model, NULL) == AIMOS_ERROR_INVALID_ARGUMENT, "NULL: orientation code");
    CHECK(aimos_result_labels(NULL) == NULL && aimos_result_probabilities(NULL, 0) == NULL && aimos_result_uncertainty(NULL) == NULL &&
          isnan(aimos_result_volume_mm3(NULL, 0)) && aimos_result_class_count(NULL) == 0 && aimos_result_animal_count(NULL) == 0 &&
          isnan(aimos_result_voxel_size_factor(NULL)), "NULL: result getters");
    CHECK(aimos_result_dims(NULL, dims) == AIMOS_ERROR_INVALID_ARGUMENT, "NULL: result_dims result");
    CHECK(aimos_result_dims(result, NULL) == AIMOS_ERROR_INVALID_ARGUMENT, "NULL: result_dims dims");
    CHECK(aimos_result_layout(NULL, 0, &layout) == AIMOS_ERROR_INVALID_ARGUMENT, "NULL: layout result");
    CHECK(aimos_result_layout(result, 0, NULL) == AIMOS_ERROR_INVALID_ARGUMENT, "NULL: layout layout");
    CHECK(aimos_compare_labels(NULL, voxels, dims, spacing, metrics, 1) == AIMOS_ERROR_INVALID_ARGUMENT, "NULL: compare prediction");
    CHECK(aimos_compare_labels(voxels, NULL, dims, spacing, metrics, 1) == AIMOS_ERROR_INVALID_ARGUMENT, "NULL: compare reference");
    CHECK(aimos_compare_labels(voxels, voxels, NULL, spacing, metrics, 1) == AIMOS_ERROR_INVALID_ARGUMENT, "NULL: compare dims");
    CHECK(aimos_compare_labels(voxels, voxels, dims, NULL, metrics, 1) == AIMOS_ERROR_INVALID_ARGUMENT, "NULL: compare spacing");
    CHECK(aimos_compare_labels(voxels, voxels, dims, spacing, NULL, 1) == AIMOS_ERROR_INVALID_ARGUMENT, "NULL: compare metrics");
    CHECK(aimos_experimental_model_kernels(NULL) == NULL, "NULL: experimental");
    CHECK(aimos_status_string((aimos_status)-1) != NULL && aimos_last_error() != NULL && aimos_version() != NULL, "never NULL");
    aimos_result_free(result);
    aimos_model_free(model);
}

/* aimos_compare_labels on a case worked out by hand: a 3x3x3 cube (label 1) moved by one voxel
 * along x, and a label (2) only the reference has. */
static void check_compare_labels(void) {
    enum { NX = 6, NY = 5, NZ = 4 };
    static uint8_t reference[NX * NY * NZ], prediction[NX * NY * NZ];
    for (int z = 1; z <= 3; z++)
        for (int y = 1; y <= 3; y++)
            for (int x = 1; x <= 3; x++) {
                reference[(z * NY + y) * NX + x] = 1;
                prediction[(z * NY + y) * NX + x + 1] = 1;
            }
    reference[(0 * NY + 0) * NX + 5] = 2;
    const int64_t dims[3] = {NX, NY, NZ};
    const double spacing[3] = {0.5, 1.0, 2.0};
    aimos_organ_metrics m[2];
    m[0].struct_size = sizeof(aimos_organ_metrics);
    CHECK(aimos_compare_labels(prediction, reference, dims, spacing, m, 2) == AIMOS_OK, "compare: %s", aimos_last_error());
    CHECK(m[0].label == 1 && m[1].label == 2, "compare: labels %d %d", m[0].label, m[1].label);
    CHECK(fabs(m[0].dice - (36 + 1e-5) / (54 + 1e-5)) < 1e-12, "compare: dice %g", m[0].dice);
    CHECK(fabs(m[0].center_of_mass_mm - 0.5) < 1e-12, "compare: centre of mass %g", m[0].center_of_mass_mm);
    CHECK(fabs(m[0].volume_reference_mm3 - 27.0) < 1e-12 && fabs(m[0].volume_error_percent) < 1e-12,
          "compare: volumes %g %g", m[0].volume_reference_mm3, m[0].volume_error_percent);
    /* Every surface voxel of one cube is 0 or 0.5 mm from the other's surface. */
    CHECK(m[0].hd95_mm >= 0 && m[0].hd95_mm <= 0.5 + 1e-12, "compare: hd95 %g", m[0].hd95_mm);
    CHECK(m[1].dice < 1e-5 && isnan(m[1].hd95_mm) && isnan(m[1].center_of_mass_mm) &&
          fabs(m[1].volume_error_percent + 100) < 1e-12, "compare: organ missing from the prediction");
    /* A caller's larger struct: elements that far apart, the bytes past this header's struct untouched. */
    struct bigger { aimos_organ_metrics m; unsigned char future[16]; } big[2];
    memset(big, 0xAB, sizeof big);
    big[0].m.struct_size = sizeof(struct bigger);
    CHECK(aimos_compare_labels(prediction, reference, dims, spacing, &big[0].m, 2) == AIMOS_OK, "compare, larger struct");
    CHECK(big[1].m.label == 2 && big[1].m.dice == m[1].dice && big[0].m.dice == m[0].dice, "compare: stride");
    CHECK(big[0].future[0] == 0xAB && big[1].future[15] == 0xAB, "compare: bytes past the struct untouched");
    /* Bad arguments. */
    m[0].struct_size = 8;
    expect_error(aimos_compare_labels(prediction, reference, dims, spacing, m, 2), AIMOS_ERROR_INVALID_ARGUMENT,
                 "struct_size is 8", "compare: small struct");
    m[0].struct_size = sizeof(aimos_organ_metrics);
    expect_error(aimos_compare_labels(NULL, reference, dims, spacing, m, 2), AIMOS_ERROR_INVALID_ARGUMENT, "is NULL", "compare: NULL");
    expect_error(aimos_compare_labels(prediction, reference, dims, spacing, m, 0), AIMOS_ERROR_INVALID_ARGUMENT, "count 0", "compare: count");
    const double bad_spacing[3] = {0.5, -1, 2};
    expect_error(aimos_compare_labels(prediction, reference, dims, bad_spacing, m, 2), AIMOS_ERROR_INVALID_ARGUMENT, "spacing",
                 "compare: spacing");
    const int64_t bad_dims[3] = {NX, 0, NZ};
    expect_error(aimos_compare_labels(prediction, reference, bad_dims, spacing, m, 2), AIMOS_ERROR_INVALID_ARGUMENT, "dims",
                 "compare: dims");
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s FIXTURE_DIR SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    char path[4096], bad[4096];
    if (getenv("AIMOS_TEST_QUICK")) thread_rounds = 1;

    /* Library-wide functions. */
    CHECK(strcmp(aimos_version(), AIMOS_VERSION_STRING) == 0, "version %s", aimos_version());
    {   /* The numeric macros (CMake and pkg-config read them) say what the string says. */
        char numeric[32];
        snprintf(numeric, sizeof numeric, "%d.%d.%d", AIMOS_VERSION_MAJOR, AIMOS_VERSION_MINOR, AIMOS_VERSION_PATCH);
        CHECK(strcmp(numeric, AIMOS_VERSION_STRING) == 0, "version macros %s, string %s", numeric, AIMOS_VERSION_STRING);
    }
    CHECK(strcmp(aimos_status_string(AIMOS_OK), "AIMOS_OK") == 0, "status string");
    CHECK(strcmp(aimos_status_string(AIMOS_ERROR_CANCELLED), "AIMOS_ERROR_CANCELLED") == 0, "status string");
    CHECK(strcmp(aimos_status_string(AIMOS_ERROR_MISUSE), "AIMOS_ERROR_MISUSE") == 0 && AIMOS_ERROR_MISUSE == 8, "MISUSE");
    CHECK(strcmp(aimos_status_string((aimos_status)99), "AIMOS_ERROR_UNKNOWN") == 0, "unknown status");
    CHECK(aimos_last_error() != NULL, "last error never NULL");
    aimos_options_init(NULL);
    aimos_free(NULL);
    aimos_options options;
    aimos_options_init(&options);
    CHECK(options.struct_size == sizeof(aimos_options) && options.slice_axis == -1 && options.threads == 0 &&
          options.keep_probabilities == 0 && options.progress == NULL && options.user_data == NULL, "defaults");
    CHECK(options.orientation == AIMOS_ORIENTATION_AUTO && options.crop == AIMOS_CROP_MODEL &&
          options.separate_animals == 1 && options.world_matrix == NULL && options.orientation_code[0] == 0, "0.2 defaults");
    CHECK(options.dicom_series == NULL, "1.1 default: no DICOM series picked");
    /* The 0.1 entry point fills only a 0.1-sized struct: nothing past it is touched. */
    unsigned char canary[sizeof(aimos_options)];
    memset(canary, 0xAB, sizeof canary);
    (aimos_options_init)((aimos_options *)canary);
    CHECK(((aimos_options *)canary)->struct_size == AIMOS_OPTIONS_SIZE_0_1, "0.1 init size");
    int untouched = 1;
    for (size_t i = AIMOS_OPTIONS_SIZE_0_1; i < sizeof canary; i++) if (canary[i] != 0xAB) untouched = 0;
    CHECK(untouched, "the 0.1 init writes no byte past the 0.1 struct");
    memset(canary, 0xAB, sizeof canary);
    aimos_options_init_sized((aimos_options *)canary, 12);
    CHECK(canary[0] == 0xAB, "a size below the 0.1 struct is a no-op");

    /* Loading: every failure leaves *out_model NULL and names the problem. */
    aimos_model *model = (aimos_model *)&passed;
    expect_error(aimos_load_model(NULL, &model), AIMOS_ERROR_INVALID_ARGUMENT, "path is NULL", "NULL path");
    CHECK(model == NULL, "out_model reset");
    expect_error(aimos_load_model("x", NULL), AIMOS_ERROR_INVALID_ARGUMENT, "out_model is NULL", "NULL out");
    snprintf(path, sizeof path, "%s/does-not-exist.safetensors", argv[2]);
    expect_error(aimos_load_model(path, &model), AIMOS_ERROR_IO, "does-not-exist", "missing file");
    expect_error(aimos_load_model(argv[2], &model), AIMOS_ERROR_IO, "not a regular file", "a directory");
    snprintf(bad, sizeof bad, "%s/garbage.safetensors", argv[2]);
    write_file(bad, "hello", 5);
    expect_error(aimos_load_model(bad, &model), AIMOS_ERROR_FORMAT, "not a safetensors file", "5-byte file");
    write_header_only(bad, "{\"a\":[1,2");
    expect_error(aimos_load_model(bad, &model), AIMOS_ERROR_FORMAT, "malformed JSON", "bad JSON");
    write_header_only(bad, "{\"__metadata__\":{\"format\":\"pt\"}}");
    expect_error(aimos_load_model(bad, &model), AIMOS_ERROR_FORMAT, "no 'aimos' entry", "no metadata");
    write_header_only(bad, "{\"__metadata__\":{\"aimos\":\"{\\\"architecture\\\":\\\"Unet99\\\",\\\"classes\\\":[\\\"a\\\",\\\"b\\\"]}\"}}");
    expect_error(aimos_load_model(bad, &model), AIMOS_ERROR_UNSUPPORTED, "Unet99", "unknown architecture");
    write_header_only(bad, "{\"__metadata__\":{\"aimos\":\"{\\\"architecture\\\":\\\"Unet64\\\",\\\"classes\\\":[\\\"a\\\",\\\"b\\\"]}\"}}");
    expect_error(aimos_load_model(bad, &model), AIMOS_ERROR_FORMAT, "missing tensor 'down1.encode.0.conv.weight'", "no tensors");
    write_header_only(bad, "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}");
    expect_error(aimos_load_model(bad, &model), AIMOS_ERROR_FORMAT, "'w' data_offsets", "offsets past the end");
    /* A real model file cut short. */
    snprintf(path, sizeof path, "%s/unet64_c3_s32_f32.safetensors", argv[1]);
    long model_size = 0;
    char *model_bytes = read_whole_file(path, &model_size);
    CHECK(model_bytes != NULL, "read %s", path);
    if (!model_bytes) return 1;
    write_file(bad, model_bytes, (size_t)model_size - 100);
    expect_error(aimos_load_model(bad, &model), AIMOS_ERROR_FORMAT, "data_offsets", "truncated model");
    free(model_bytes);
    CHECK(model == NULL, "still NULL after failures");

    /* A good model. */
    CHECK(aimos_load_model(path, &model) == AIMOS_OK, "load: %s", aimos_last_error());
    if (!model) return 1;
    CHECK(aimos_model_class_count(model) == 3, "class count %d", aimos_model_class_count(model));
    CHECK(strcmp(aimos_model_class_name(model, 0), "background") == 0, "class 0");
    CHECK(strcmp(aimos_model_class_name(model, 2), "Heart") == 0, "class 2");
    CHECK(aimos_model_class_name(model, 3) == NULL && aimos_model_class_name(model, -1) == NULL, "bad index");
    CHECK(aimos_model_class_count(NULL) == 0 && aimos_model_class_name(NULL, 0) == NULL, "NULL model");
    /* The 0.3 model getters (the fixture: Unet64 at 32, slice axis 2, no uncertainty, the
     * published layout). */
    CHECK(aimos_model_input_size(model) == 32 && aimos_model_slice_axis(model) == 2 &&
          aimos_model_has_uncertainty(model) == 0, "model getters %d %d %d", aimos_model_input_size(model),
          aimos_model_slice_axis(model), aimos_model_has_uncertainty(model));
    CHECK(aimos_model_input_size(NULL) == 0 && aimos_model_slice_axis(NULL) == -1 && aimos_model_has_uncertainty(NULL) == -1,
          "model getters on NULL");
    char code[4] = {'x', 'x', 'x', 'x'};
    CHECK(aimos_model_orientation(model, code) == AIMOS_OK && strlen(code) == 3, "orientation '%s'", code);
    expect_error(aimos_model_orientation(NULL, code), AIMOS_ERROR_INVALID_ARGUMENT, "model is NULL", "orientation, NULL model");
    expect_error(aimos_model_orientation((const aimos_model *)code, code), AIMOS_ERROR_MISUSE, "not a live aimos model", "orientation, foreign model");
    expect_error(aimos_model_orientation(model, NULL), AIMOS_ERROR_INVALID_ARGUMENT, "code is NULL", "orientation, NULL code");
    CHECK(aimos_version_number() == AIMOS_VERSION_NUMBER, "version number %u", aimos_version_number());
    const char *kernels = aimos_experimental_model_kernels(model);
    CHECK(kernels && (strcmp(kernels, "avx512") == 0 || strcmp(kernels, "avx2") == 0 || strcmp(kernels, "generic") == 0 ||
                      strcmp(kernels, "reference") == 0), "experimental: kernel path '%s'", kernels ? kernels : "(null)");
    CHECK(aimos_experimental_model_kernels(NULL) == NULL, "experimental: kernel path of NULL");

    /* The golden volume (int16, 23 x 17 x 6, slice 3 flat) and its reference labels. Its dims
     * and spacing come from the fixture's metadata; golden_load checks that the volume holds
     * 2 * nx * ny * nz bytes and the labels nx * ny * nz. */
    golden_fixture golden = {0};
    snprintf(path, sizeof path, "%s/unet64_axis2_int16.golden.safetensors", argv[1]);
    const char *golden_problem = golden_load(path, &golden);
    CHECK(golden.bytes != NULL, "read %s", path);
    CHECK(golden_problem == NULL, "golden tensors: %s", golden_problem);
    if (golden_problem) return 1;
    const uint8_t *expected = golden.labels;
    const int64_t nx = golden.dims[0], ny = golden.dims[1], nz = golden.dims[2], n = nx * ny * nz;
    const double *spacing = golden.spacing;
    aimos_volume volume = make_volume(golden.volume, AIMOS_DTYPE_INT16, nx, ny, nz, spacing[0], spacing[1], spacing[2]);
    CHECK(volume.struct_size == sizeof(aimos_volume) && AIMOS_VOLUME_SIZE_1_0 == sizeof(aimos_volume), "volume struct_size %u", volume.struct_size);
    aimos_volume fresh;
    memset(&fresh, 0x55, sizeof fresh);
    aimos_volume_init(&fresh);
    CHECK(fresh.data == NULL && fresh.dtype == 0 && fresh.dims[0] == 0 && fresh.spacing_mm[2] == 1.0, "aimos_volume_init defaults");
    aimos_volume_init_sized(&fresh, 8); /* below 1.0's size: a no-op */
    CHECK(fresh.struct_size == sizeof(aimos_volume), "aimos_volume_init_sized with a small size");
    aimos_volume_init_sized(NULL, sizeof fresh);

    /* Segmentation errors: status, message, *out_result NULL. */
    aimos_result *result = (aimos_result *)&passed;
    expect_error(aimos_segment(NULL, &volume, NULL, &result), AIMOS_ERROR_INVALID_ARGUMENT, "model is NULL", "NULL model");
    CHECK(result == NULL, "out_result reset");
    expect_error(aimos_segment(model, NULL, NULL, &result), AIMOS_ERROR_INVALID_ARGUMENT, "volume is NULL", "NULL volume");
    expect_error(aimos_segment(model, &volume, NULL, NULL), AIMOS_ERROR_INVALID_ARGUMENT, "out_result is NULL", "NULL out");
    expect_error(aimos_segment((const aimos_model *)&volume, &volume, NULL, &result), AIMOS_ERROR_MISUSE,
                 "not a live aimos model", "foreign handle");
    aimos_volume v = volume;
    v.struct_size = 16;
    expect_error(aimos_segment(model, &v, NULL, &result), AIMOS_ERROR_INVALID_ARGUMENT, "volume->struct_size is 16", "small volume struct");
    v = volume; v.data = NULL;
    expect_error(aimos_segment(model, &v, NULL, &result), AIMOS_ERROR_INVALID_ARGUMENT, "data is NULL", "NULL data");
    v = volume; v.dims[1] = 0;
    expect_error(aimos_segment(model, &v, NULL, &result), AIMOS_ERROR_INVALID_ARGUMENT, "dims[1] is 0", "zero dim");
    v = volume; v.dims[2] = -4;
    expect_error(aimos_segment(model, &v, NULL, &result), AIMOS_ERROR_INVALID_ARGUMENT, "dims[2] is -4", "negative dim");
    v = volume; v.dims[0] = 2000000000;
    expect_error(aimos_segment(model, &v, NULL, &result), AIMOS_ERROR_INVALID_ARGUMENT, "more than 65536", "huge dim");
    v = volume; v.dims[0] = INT64_MAX; v.dims[1] = INT64_MAX;
    expect_error(aimos_segment(model, &v, NULL, &result), AIMOS_ERROR_INVALID_ARGUMENT, "dims[0]", "dims past int64");
    v = volume; v.dtype = 99;
    expect_error(aimos_segment(model, &v, NULL, &result), AIMOS_ERROR_INVALID_ARGUMENT, "unknown volume dtype 99", "bad dtype");
    v = volume; v.spacing_mm[2] = 0;
    expect_error(aimos_segment(model, &v, NULL, &result), AIMOS_ERROR_INVALID_ARGUMENT, "spacing_mm[2]", "zero spacing");
    v = volume; v.spacing_mm[0] = NAN;
    expect_error(aimos_segment(model, &v, NULL, &result), AIMOS_ERROR_INVALID_ARGUMENT, "spacing_mm[0]", "NaN spacing");
    float float_voxels[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    float_voxels[5] = NAN;
    aimos_volume fv = make_volume(float_voxels, AIMOS_DTYPE_FLOAT32, 2, 2, 2, 1, 1, 1);
    expect_error(aimos_segment(model, &fv, NULL, &result), AIMOS_ERROR_INVALID_ARGUMENT, "(x=1, y=0, z=1) is NaN", "NaN voxel");
    double double_voxels[8] = {0, 1, 2, 3, 4, 5, 6, INFINITY};
    aimos_volume dv = make_volume(double_voxels, AIMOS_DTYPE_FLOAT64, 2, 2, 2, 1, 1, 1);
    expect_error(aimos_segment(model, &dv, NULL, &result), AIMOS_ERROR_INVALID_ARGUMENT, "(x=1, y=1, z=1)", "Inf voxel");
    aimos_options o;
    o = published_options(); o.slice_axis = 3;
    expect_error(aimos_segment(model, &volume, &o, &result), AIMOS_ERROR_INVALID_ARGUMENT, "slice axis 3 is not 0, 1 or 2", "bad axis");
    aimos_options_init(&o); o.threads = -1;
    expect_error(aimos_segment(model, &volume, &o, &result), AIMOS_ERROR_INVALID_ARGUMENT, "thread count -1", "bad threads");
    aimos_options_init(&o); o.struct_size = 4;
    expect_error(aimos_segment(model, &volume, &o, &result), AIMOS_ERROR_INVALID_ARGUMENT, "struct_size is 4", "small struct");
    CHECK(result == NULL, "no result after failures");

    /* A good run in the published behaviour: labels as the reference, volumes as counted. */
    aimos_options published = published_options();
    CHECK(aimos_segment(model, &volume, &published, &result) == AIMOS_OK, "segment: %s", aimos_last_error());
    if (!result) return 1;
    CHECK(memcmp(aimos_result_labels(result), expected, (size_t)n) == 0, "labels match the reference");
    int64_t counts[3] = {0, 0, 0};
    for (int64_t i = 0; i < n; i++) counts[expected[i]]++;
    for (int c = 0; c < 3; c++) {
        double want = (double)counts[c] * spacing[0] * spacing[1] * spacing[2];
        CHECK(fabs(aimos_result_volume_mm3(result, c) - want) < 1e-9, "volume %d: %g vs %g", c,
              aimos_result_volume_mm3(result, c), want);
    }
    CHECK(isnan(aimos_result_volume_mm3(result, 3)) && isnan(aimos_result_volume_mm3(result, -1)), "bad class index");
    CHECK(aimos_result_probabilities(result, 0) == NULL, "probabilities not kept");
    CHECK(aimos_result_uncertainty(result) == NULL, "no uncertainty channel");
    int64_t result_dims[3] = {0, 0, 0};
    CHECK(aimos_result_dims(result, result_dims) == AIMOS_OK && result_dims[0] == nx && result_dims[1] == ny &&
          result_dims[2] == nz, "result dims");
    CHECK(aimos_result_class_count(result) == 3 && aimos_result_class_count(NULL) == 0, "result class count");
    expect_error(aimos_result_dims(result, NULL), AIMOS_ERROR_INVALID_ARGUMENT, "dims is NULL", "result dims, NULL");
    /* Typed frees touch only their own kind of handle. */
    aimos_model_free((aimos_model *)result);
    CHECK(aimos_result_labels(result) != NULL, "aimos_model_free leaves a result alone");
    aimos_result_free((aimos_result *)model);
    CHECK(aimos_model_class_count(model) == 3, "aimos_result_free leaves a model alone");
    aimos_result_free(result);
    expect_error(aimos_result_dims(result, result_dims), AIMOS_ERROR_MISUSE, "not a live aimos result", "result dims, freed");
    expect_error(aimos_result_dims((const aimos_result *)model, result_dims), AIMOS_ERROR_MISUSE, "not a live aimos result", "result dims, a model");
    CHECK(aimos_segment(model, &volume, &published, &result) == AIMOS_OK, "segment again: %s", aimos_last_error());
    if (!result) return 1;
    aimos_free(result);
    /* Freed handles are stale: accessors return NULL/NaN, a second free is a no-op. */
    CHECK(aimos_result_labels(result) == NULL, "stale result");
    CHECK(isnan(aimos_result_volume_mm3(result, 0)), "stale result volume");
    aimos_free(result);
    CHECK(aimos_result_labels(NULL) == NULL && aimos_result_uncertainty(NULL) == NULL &&
          aimos_result_probabilities(NULL, 0) == NULL && isnan(aimos_result_volume_mm3(NULL, 0)), "NULL result");
    aimos_free(&passed); /* foreign pointer: ignored */
    /* A freed handle never names a later one: freeing it again leaves the new result alone. */
    aimos_result *first = NULL, *second = NULL;
    CHECK(aimos_segment(model, &volume, &published, &first) == AIMOS_OK, "first");
    aimos_free(first);
    CHECK(aimos_segment(model, &volume, &published, &second) == AIMOS_OK, "second");
    CHECK(second != first, "a new handle differs from a freed one");
    aimos_free(first);
    CHECK(aimos_result_labels(second) != NULL, "the second result survives a stale free of the first");
    aimos_free(second);

    /* A caller built against 0.1 (struct_size 40, nothing after it) gets the 0.1 behaviour. */
    aimos_options old;
    (aimos_options_init)(&old);
    old.orientation = 77; /* past its struct_size: never read */
    CHECK(aimos_segment(model, &volume, &old, &result) == AIMOS_OK, "0.1 struct: %s", aimos_last_error());
    CHECK(result && memcmp(aimos_result_labels(result), expected, (size_t)n) == 0, "0.1 struct: published labels");
    aimos_layout layout;
    layout.struct_size = sizeof layout;
    CHECK(aimos_result_layout(result, 0, &layout) == AIMOS_OK && layout.orientation[0] == 0 && layout.confidence == -1 &&
          layout.slice_axis == 2 && layout.crop_lower[0] == 0 && layout.crop_upper[2] == nz, "0.1 struct: layout none, whole volume");
    CHECK(aimos_result_animal_count(result) == 1 && aimos_result_voxel_size_factor(result) == 1, "one animal, unit not measured");
    layout.struct_size = 8;
    expect_error(aimos_result_layout(result, 0, &layout), AIMOS_ERROR_INVALID_ARGUMENT, "struct_size is 8", "small layout");
    layout.struct_size = sizeof layout;
    expect_error(aimos_result_layout(result, 1, &layout), AIMOS_ERROR_INVALID_ARGUMENT, "animal 1", "animal index");
    expect_error(aimos_result_layout(result, 0, NULL), AIMOS_ERROR_INVALID_ARGUMENT, "layout is NULL", "NULL layout");
    CHECK(aimos_result_animal_count(NULL) == 0 && isnan(aimos_result_voxel_size_factor(NULL)), "NULL result layout queries");
    aimos_free(result);

    /* A layout code: the model (published layout TLD) reads rows along y reversed. */
    aimos_options_init(&o);
    o.orientation = AIMOS_ORIENTATION_CODE;
    memcpy(o.orientation_code, "LHD", 4);
    CHECK(aimos_segment(model, &volume, &o, &result) == AIMOS_OK, "code LHD: %s", aimos_last_error());
    CHECK(result && aimos_result_layout(result, 0, &layout) == AIMOS_OK && strcmp(layout.orientation, "LHD") == 0 &&
          layout.confidence == -1 && layout.slice_axis == 2, "code LHD reported");
    aimos_free(result);
    memcpy(o.orientation_code, "LLD", 4);
    expect_error(aimos_segment(model, &volume, &o, &result), AIMOS_ERROR_INVALID_ARGUMENT, "'LLD'", "bad code");
    /* The header's matrix, read as RAS: +x right, -y tail, +z dorsal gives RTD. */
    double world[16] = {0.2, 0, 0, 0,  0, -0.2, 0, 0,  0, 0, 0.2, 0,  0, 0, 0, 1};
    aimos_options_init(&o);
    o.orientation = AIMOS_ORIENTATION_HEADER;
    expect_error(aimos_segment(model, &volume, &o, &result), AIMOS_ERROR_INVALID_ARGUMENT, "world_matrix is NULL", "header without matrix");
    o.world_matrix = world;
    CHECK(aimos_segment(model, &volume, &o, &result) == AIMOS_OK, "header: %s", aimos_last_error());
    CHECK(result && aimos_result_layout(result, 0, &layout) == AIMOS_OK && strcmp(layout.orientation, "RTD") == 0, "header read as RTD");
    aimos_free(result);
    aimos_options_init(&o);
    o.orientation = 9;
    expect_error(aimos_segment(model, &volume, &o, &result), AIMOS_ERROR_INVALID_ARGUMENT, "orientation is 9", "bad mode");
    aimos_options_init(&o);
    o.crop = 5;
    expect_error(aimos_segment(model, &volume, &o, &result), AIMOS_ERROR_INVALID_ARGUMENT, "crop is 5", "bad crop");
    aimos_options_init(&o);
    o.slice_axis = 1;
    expect_error(aimos_segment(model, &volume, &o, &result), AIMOS_ERROR_INVALID_ARGUMENT, "only with orientation none", "axis with auto");

    /* Probabilities kept, slice axis explicit, one thread, progress reported for every slice. */
    progress_log log = {0, 0, 0, 0, 1};
    o = published_options();
    o.keep_probabilities = 1;
    o.slice_axis = 2;
    o.threads = 1;
    o.progress = record_progress;
    o.user_data = &log;
    CHECK(aimos_segment(model, &volume, &o, &result) == AIMOS_OK, "segment with probabilities: %s", aimos_last_error());
    CHECK(log.calls == nz && log.total == nz && log.monotonic, "progress calls %lld of %lld", (long long)log.calls, (long long)log.total);
    int in_range = 1;
    for (int c = 0; c < 3; c++) {
        const float *p = aimos_result_probabilities(result, c);
        for (int64_t i = 0; p && i < n; i++) if (!(p[i] >= 0 && p[i] <= 1)) in_range = 0;
        CHECK(p != NULL, "probabilities of class %d kept", c);
    }
    CHECK(in_range, "probabilities within [0, 1]");
    /* The flat slice z=3 is background with probability 0. */
    int flat_ok = 1;
    for (int64_t i = 3 * nx * ny; i < 4 * nx * ny; i++) {
        if (aimos_result_labels(result)[i] != 0 || aimos_result_probabilities(result, 0)[i] != 0) flat_ok = 0;
    }
    CHECK(flat_ok, "flat slice is background with probability 0");
    aimos_free(result);

    /* Cancel after 2 slices. */
    progress_log cancel = {0, 0, 0, 2, 1};
    o.user_data = &cancel;
    result = (aimos_result *)&passed;
    expect_error(aimos_segment(model, &volume, &o, &result), AIMOS_ERROR_CANCELLED, "cancelled", "cancel");
    CHECK(result == NULL && cancel.calls == 2, "cancelled after %lld calls", (long long)cancel.calls);
    /* Cancelling at every slice, on one thread and on four: CANCELLED, no result, and no slice
     * reported after the one that cancelled (the workers stop at their next slice). */
    for (int workers = 1; workers <= 4; workers += 3) {
        for (int64_t at = 1; at <= nz; at++) {
            progress_log stop = {0, 0, 0, at, 1};
            o.user_data = &stop;
            o.threads = workers;
            result = (aimos_result *)&passed;
            aimos_status status = aimos_segment(model, &volume, &o, &result);
            CHECK(status == AIMOS_ERROR_CANCELLED && result == NULL && stop.calls == at,
                  "cancel at slice %lld of %lld on %d threads: %s after %lld calls", (long long)at, (long long)nz,
                  workers, aimos_status_string(status), (long long)stop.calls);
        }
    }
    o.threads = 1;

    /* Other axes and all dtypes run (parity per axis and dtype is in the Swift golden tests). */
    for (int axis = 0; axis < 3; axis++) {
        o = published_options();
        o.slice_axis = axis;
        CHECK(aimos_segment(model, &volume, &o, &result) == AIMOS_OK, "axis %d: %s", axis, aimos_last_error());
        aimos_free(result);
    }
    unsigned char u8[60];
    for (int i = 0; i < 60; i++) u8[i] = (unsigned char)(i * 7 % 256);
    aimos_volume uv = make_volume(u8, AIMOS_DTYPE_UINT8, 5, 4, 3, 1, 1, 1);
    /* The defaults (options NULL: layout detected) on a small volume (detection runs 40 model
     * slices, slow under valgrind), cropped: a layout with a confidence in [0, 1], a crop inside
     * the volume. */
    aimos_options_init(&o);
    o.crop = AIMOS_CROP_BODY;
    CHECK(aimos_segment(model, &uv, NULL, &result) == AIMOS_OK, "uint8, defaults: %s", aimos_last_error());
    aimos_layout detected;
    detected.struct_size = sizeof detected;
    CHECK(result && aimos_result_layout(result, 0, &detected) == AIMOS_OK && strlen(detected.orientation) == 3 &&
          detected.confidence >= 0 && detected.confidence <= 1, "defaults: a detected layout");
    aimos_free(result);
    if (thread_rounds > 1) { /* not again under valgrind (AIMOS_TEST_QUICK): the path is the same */
        CHECK(aimos_segment(model, &uv, &o, &result) == AIMOS_OK, "uint8, auto cropped: %s", aimos_last_error());
        CHECK(result && aimos_result_layout(result, 0, &detected) == AIMOS_OK && strlen(detected.orientation) == 3 &&
              detected.crop_lower[0] >= 0 && detected.crop_upper[0] <= 5 && detected.crop_upper[2] <= 3,
              "auto cropped layout reported");
        aimos_free(result);
    }

    /* An uncertainty model returns a heatmap in [0, 1]. */
    aimos_model *uncertain = NULL;
    snprintf(path, sizeof path, "%s/unet64_c3_s32_f32_unc.safetensors", argv[1]);
    CHECK(aimos_load_model(path, &uncertain) == AIMOS_OK, "load uncertainty model: %s", aimos_last_error());
    CHECK(aimos_model_class_count(uncertain) == 3, "uncertainty channel not counted as a class");
    CHECK(aimos_segment(uncertain, &volume, &published, &result) == AIMOS_OK, "segment: %s", aimos_last_error());
    const float *heat = aimos_result_uncertainty(result);
    int heat_ok = heat != NULL;
    for (int64_t i = 0; heat && i < n; i++) if (!(heat[i] >= 0 && heat[i] <= 1)) heat_ok = 0;
    CHECK(heat_ok, "uncertainty heatmap within [0, 1]");
    aimos_free(result);
    aimos_free(uncertain);

    /* 8 threads segment with one model at once, 3 rounds each; all agree with the reference. */
    pthread_t threads[8];
    thread_job jobs[8];
    for (int t = 0; t < 8; t++) {
        jobs[t] = (thread_job){model, &volume, expected, n, 0};
        CHECK(pthread_create(&threads[t], NULL, segment_in_thread, &jobs[t]) == 0, "thread %d", t);
    }
    for (int t = 0; t < 8; t++) {
        pthread_join(threads[t], NULL);
        CHECK(jobs[t].ok, "thread %d got the reference labels", t);
    }

    /* Whole NIfTI files: written once, never replaced, nothing left behind on bad input. */
    char scan[4096], labels_out[4096];
    snprintf(scan, sizeof scan, "%s/../../AimosPipelineTests/Fixtures/pattern_int16.nii.gz", argv[1]);
    char out_dir[2048];
    snprintf(out_dir, sizeof out_dir, "%.2000s/nifti", argv[2]);
    mkdir(out_dir, 0755);
    snprintf(labels_out, sizeof labels_out, "%s/labels.nii.gz", out_dir);
    remove(labels_out);
    CHECK(aimos_segment_nifti(model, scan, labels_out, &published) == AIMOS_OK, "segment_nifti: %s", aimos_last_error());
    long written = 0;
    char *labels_file = read_whole_file(labels_out, &written);
    CHECK(labels_file != NULL && written > 100, "label map written");
    free(labels_file);
    expect_error(aimos_segment_nifti(model, scan, labels_out, NULL), AIMOS_ERROR_IO, "exists", "existing output");
    remove(labels_out);
    /* Cancelled at every slice: CANCELLED, and nothing left in the output directory. */
    for (int64_t at = 1;; at++) {
        progress_log stop = {0, 0, 0, at, 1};
        aimos_options co = published_options();
        co.progress = record_progress;
        co.user_data = &stop;
        aimos_status status = aimos_segment_nifti(model, scan, labels_out, &co);
        if (status == AIMOS_OK) { /* past the last slice: the run completes */
            CHECK(at > 1 && stop.calls == at - 1, "nifti: completes once 'at' passes the %lld slices", (long long)stop.calls);
            remove(labels_out);
            break;
        }
        CHECK(status == AIMOS_ERROR_CANCELLED && stop.calls == at, "nifti cancel at slice %lld: %s", (long long)at,
              aimos_status_string(status));
        CHECK(count_entries(out_dir) == 0, "nifti cancel at slice %lld: the output directory stays empty", (long long)at);
        if (status != AIMOS_ERROR_CANCELLED || at > 4096) break;
    }
    snprintf(path, sizeof path, "%s/../../AimosPipelineTests/Fixtures/truncated.nii", argv[1]);
    expect_error(aimos_segment_nifti(model, path, labels_out, NULL), AIMOS_ERROR_FORMAT, "truncated.nii", "truncated input");
    CHECK(read_whole_file(labels_out, &written) == NULL, "no output after a failure");
    snprintf(path, sizeof path, "%s/../../AimosPipelineTests/Fixtures/pattern_4d_two.nii.gz", argv[1]);
    expect_error(aimos_segment_nifti(model, path, labels_out, NULL), AIMOS_ERROR_UNSUPPORTED, "2 volumes", "4D series");
    expect_error(aimos_segment_nifti(model, "/nonexistent/scan.nii", labels_out, NULL), AIMOS_ERROR_IO, "/nonexistent/scan.nii", "missing input");
    expect_error(aimos_segment_nifti(model, NULL, labels_out, NULL), AIMOS_ERROR_INVALID_ARGUMENT, "input_path is NULL", "NULL input");
    expect_error(aimos_segment_nifti(model, scan, NULL, NULL), AIMOS_ERROR_INVALID_ARGUMENT, "output_labels_path is NULL", "NULL output");
    expect_error(aimos_segment_nifti(NULL, scan, labels_out, NULL), AIMOS_ERROR_INVALID_ARGUMENT, "model is NULL", "NULL model");

    /* A freed model is stale. */
    aimos_free(model);
    expect_error(aimos_segment(model, &volume, NULL, &result), AIMOS_ERROR_MISUSE, "not a live aimos model", "freed model");
    CHECK(aimos_model_class_count(model) == 0, "stale model");
    aimos_free(model);
    free(golden.bytes);

    check_compare_labels();
    check_null_arguments(argv[1], argv[2]);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

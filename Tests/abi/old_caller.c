/*
 * old_caller.c - a program written against an old aimos.h (0.1, 0.3 or 1.0: check.sh builds
 * it against each header kept in Tests/abi/include-*), run against the current libaimos.so:
 * what such a program was promised must still hold. It uses only the 0.1 API, and its
 * volume and aimos_options are the old header's (0.1: no fields after user_data; 1.0: none
 * after world_matrix). 1.0 named 0.1's volume aimos_volume_0_1.
 *
 * Usage: old_caller <Tests/AimosCoreTests/Fixtures> <scratch dir>   (exit 0 when all pass)
 */
#include <aimos.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "golden_fixture.h"

#if AIMOS_VERSION_MAJOR >= 1
typedef aimos_volume_0_1 old_volume;
#else
typedef aimos_volume old_volume;
#endif
#define OLD_HEADER_VERSION (AIMOS_VERSION_MAJOR * 100 + AIMOS_VERSION_MINOR)

static int failures = 0;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
    printf(__VA_ARGS__); printf("\n"); } } while (0)

typedef struct { int64_t calls, cancel_at; } progress_log;

static int count_progress(void *user_data, int64_t done, int64_t total) {
    progress_log *log = user_data;
    (void)total;
    log->calls++;
    return log->cancel_at > 0 && done >= log->cancel_at;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s <fixtures dir> <scratch dir>\n", argv[0]); return 2; }
    printf("header %s (%zu-byte options, %zu-byte volume), library %s\n", AIMOS_VERSION_STRING,
           sizeof(aimos_options), sizeof(old_volume), aimos_version());
    int major = -1, minor = -1, patch = -1;
    CHECK(sscanf(aimos_version(), "%d.%d.%d", &major, &minor, &patch) == 3 &&
          major * 10000 + minor * 100 + patch >= AIMOS_VERSION_MAJOR * 10000 + AIMOS_VERSION_MINOR * 100 + AIMOS_VERSION_PATCH,
          "the library (%s) is at least as new as the header (%s)", aimos_version(), AIMOS_VERSION_STRING);

    char path[4096];
    snprintf(path, sizeof path, "%s/unet64_c3_s32_f32.safetensors", argv[1]);
    aimos_model *model = NULL;
    CHECK(aimos_load_model(path, &model) == AIMOS_OK && model != NULL, "load: %s", aimos_last_error());
    if (!model) return 1;
    CHECK(aimos_model_class_count(model) == 3, "class count %d", aimos_model_class_count(model));
    CHECK(aimos_model_class_name(model, 0) != NULL && aimos_model_class_name(model, 3) == NULL, "class names");

    golden_fixture golden = {0};
    snprintf(path, sizeof path, "%s/unet64_axis2_int16.golden.safetensors", argv[1]);
    const char *problem = golden_load(path, &golden);
    CHECK(problem == NULL, "golden fixture: %s", problem ? problem : "");
    if (problem) return 1;
    const int64_t n = golden.dims[0] * golden.dims[1] * golden.dims[2];
    /* The 0.1 way: a positional initializer of 0.1's struct. */
    old_volume volume = {golden.volume, AIMOS_DTYPE_INT16, {golden.dims[0], golden.dims[1], golden.dims[2]},
                           {golden.spacing[0], golden.spacing[1], golden.spacing[2]}};
    aimos_options options;
    aimos_options_init(&options);
    CHECK(options.struct_size == sizeof(aimos_options) && options.slice_axis == -1 && options.threads == 0,
          "options_init: struct_size %u, slice_axis %d", options.struct_size, options.slice_axis);

    /* 0.1 had no layout detection: an old caller's options mean the voxel axes are the model's,
     * so the labels are the published pipeline's (the golden reference). With the 0.3 header the
     * defaults detect the layout, so its caller asks for the 0.1 behaviour explicitly. */
#if OLD_HEADER_VERSION >= 2
    options.orientation = AIMOS_ORIENTATION_NONE;
    options.crop = AIMOS_CROP_NONE;
#endif
    aimos_result *result = NULL;
    CHECK(aimos_segment_volume(model, &volume, &options, &result) == AIMOS_OK, "segment: %s", aimos_last_error());
    if (!result) return 1;
    CHECK(memcmp(aimos_result_labels(result), golden.labels, (size_t)n) == 0, "labels are the reference's");
    int64_t counted = 0;
    for (int64_t i = 0; i < n; i++) counted += golden.labels[i] == 1;
    double want = (double)counted * golden.spacing[0] * golden.spacing[1] * golden.spacing[2];
    CHECK(fabs(aimos_result_volume_mm3(result, 1) - want) < 1e-9, "volume of class 1: %g vs %g",
          aimos_result_volume_mm3(result, 1), want);
    CHECK(aimos_result_probabilities(result, 0) == NULL, "no probabilities unless asked");
    aimos_free(result);
    CHECK(aimos_result_labels(result) == NULL, "a freed result is stale");

    /* Progress and cancellation as 0.1 documented them. */
    progress_log log = {0, 2};
    options.progress = count_progress;
    options.user_data = &log;
    options.threads = 1;
    result = NULL;
    CHECK(aimos_segment_volume(model, &volume, &options, &result) == AIMOS_ERROR_CANCELLED && result == NULL &&
          log.calls == 2, "cancel after 2 slices: %lld calls", (long long)log.calls);

    /* Errors an old caller checks for: still failures, with a message. */
    old_volume bad = volume;
    bad.dims[1] = 0;
    CHECK(aimos_segment_volume(model, &bad, NULL, &result) == AIMOS_ERROR_INVALID_ARGUMENT && result == NULL &&
          strstr(aimos_last_error(), "dims[1]") != NULL, "zero dim: %s", aimos_last_error());
    aimos_model *missing = NULL;
    CHECK(aimos_load_model("/nonexistent/model.safetensors", &missing) == AIMOS_ERROR_IO && missing == NULL &&
          strstr(aimos_last_error(), "/nonexistent/model.safetensors") != NULL, "missing model file: %s", aimos_last_error());

    /* A whole NIfTI file, as 0.1 wrote it. */
    char scan[4096], labels_out[4096];
    snprintf(scan, sizeof scan, "%s/../../AimosPipelineTests/Fixtures/pattern_int16.nii.gz", argv[1]);
    snprintf(labels_out, sizeof labels_out, "%.4000s/old_caller_labels.nii.gz", argv[2]);
    remove(labels_out);
    options.progress = NULL;
    CHECK(aimos_segment_nifti(model, scan, labels_out, &options) == AIMOS_OK, "segment_nifti: %s", aimos_last_error());
    long written = 0;
    char *bytes = read_whole_file(labels_out, &written);
    CHECK(bytes != NULL && written > 100, "label map written");
    free(bytes);
    remove(labels_out);

    aimos_free(model);
    CHECK(aimos_model_class_count(model) == 0, "a freed model is stale");
    CHECK(aimos_segment_volume(model, &volume, NULL, &result) != AIMOS_OK && result == NULL, "a freed model fails");
    free(golden.bytes);
    printf("%s: %s\n", AIMOS_VERSION_STRING, failures ? "FAILED" : "all checks passed");
    return failures ? 1 : 0;
}

/*
 * consumer.c - a program outside the aimos tree, built against an installed aimos (through
 * pkg-config or find_package) to prove the install is usable: header, library and version.
 *
 *   consumer MODEL.safetensors EXPECTED_CLASS_COUNT
 *
 * Segments a tiny synthetic volume and prints "consumer: OK ..." or the first failure.
 */
#include <aimos.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NX 9
#define NY 7
#define NZ 3

static int fail(const char *what) {
    fprintf(stderr, "consumer: FAIL: %s (last error: '%s')\n", what, aimos_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: consumer MODEL.safetensors EXPECTED_CLASS_COUNT\n");
        return 2;
    }
    /* The header and the library come from the same install. */
    if (strcmp(aimos_version(), AIMOS_VERSION_STRING) != 0) return fail("aimos_version() differs from AIMOS_VERSION_STRING");

    aimos_model *model = NULL;
    if (aimos_load_model(argv[1], &model) != AIMOS_OK) return fail("aimos_load_model");
    int32_t classes = aimos_model_class_count(model);
    if (classes != atoi(argv[2])) {
        aimos_free(model);
        return fail("unexpected class count");
    }

    /* A smooth synthetic volume: any model output is fine, the bookkeeping must add up. */
    static float voxels[NZ][NY][NX];
    for (int z = 0; z < NZ; z++)
        for (int y = 0; y < NY; y++)
            for (int x = 0; x < NX; x++) voxels[z][y][x] = (float)(sin(0.7 * x) + cos(0.5 * y) + z);
    aimos_volume volume;
    aimos_volume_init(&volume);
    volume.data = voxels;
    volume.dtype = AIMOS_DTYPE_FLOAT32;
    volume.dims[0] = NX; volume.dims[1] = NY; volume.dims[2] = NZ;
    volume.spacing_mm[0] = 0.5; volume.spacing_mm[1] = 0.25; volume.spacing_mm[2] = 2.0;
    aimos_result *result = NULL;
    if (aimos_segment(model, &volume, NULL, &result) != AIMOS_OK) {
        aimos_model_free(model);
        return fail("aimos_segment");
    }

    const uint8_t *labels = aimos_result_labels(result);
    int labels_ok = labels != NULL;
    for (int i = 0; labels_ok && i < NX * NY * NZ; i++) labels_ok = labels[i] < classes;
    double total_mm3 = 0;
    for (int32_t c = 0; c < classes; c++) total_mm3 += aimos_result_volume_mm3(result, c);
    double expected_mm3 = NX * NY * NZ * 0.5 * 0.25 * 2.0;
    aimos_free(result);
    aimos_free(model);
    if (!labels_ok) return fail("a label outside [0, class count)");
    if (fabs(total_mm3 - expected_mm3) > 1e-9) return fail("class volumes do not add up to the volume");
    printf("consumer: OK (aimos %s, %d classes, %.3f mm3 segmented)\n", aimos_version(), (int)classes,
           total_mm3);
    return 0;
}

/*
 * golden_nifti.c - test helper for the C example: turns a golden fixture (safetensors made by
 * aimos-make-golden-fixtures, tensors "volume" int16 (z, y, x) and "labels" uint8 (z, y, x),
 * metadata "case" with the voxel spacing) into a NIfTI scan, and checks the example's output.
 *
 *   golden_nifti write FIXTURE SCAN.nii KIND   KIND: int16           the volume as stored
 *                                                    int64           a type aimos converts
 *                                                    float32-negated -volume, scl_slope -1
 *   golden_nifti check FIXTURE LABELS.nii      the label map: voxels, type, header, affine
 *   golden_nifti table FIXTURE                 expected "class voxels mm3" lines
 *
 * Exit status 0 on success; 1 with a message on stderr otherwise.
 */
#include <nifti2_io.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fixture parser shared with Tests/c/abi_test.c (Tests/c is on the include path). */
#include "golden_fixture.h"

/* The affine written into the scan; the label map must keep it. */
static const double qoffset[3] = {1.5, -2.0, 3.25};

typedef golden_fixture golden;

static int fail(const char *message) {
    fprintf(stderr, "golden_nifti: %s\n", message);
    return 1;
}

static int load_golden(const char *path, golden *g) {
    const char *problem = golden_load(path, g);
    return problem ? fail(problem) : 0;
}

static int64_t voxel_count(const golden *g) { return g->dims[0] * g->dims[1] * g->dims[2]; }

/* Writes the fixture volume as a NIfTI-1 scan of the given kind. */
static int write_scan(const golden *g, const char *path, const char *kind) {
    int datatype = !strcmp(kind, "int16") ? NIFTI_TYPE_INT16
                 : !strcmp(kind, "int64") ? NIFTI_TYPE_INT64
                 : !strcmp(kind, "float32-negated") ? NIFTI_TYPE_FLOAT32 : 0;
    if (!datatype) return fail("KIND must be int16, int64 or float32-negated");
    const int64_t dims[8] = {3, g->dims[0], g->dims[1], g->dims[2], 1, 1, 1, 1};
    nifti_image *nim = nifti_make_new_nim(dims, datatype, 1);
    if (!nim) return fail("nifti_make_new_nim failed");
    for (int64_t i = 0; i < voxel_count(g); i++) {
        if (datatype == NIFTI_TYPE_INT16) ((int16_t *)nim->data)[i] = g->volume[i];
        if (datatype == NIFTI_TYPE_INT64) ((int64_t *)nim->data)[i] = g->volume[i];
        if (datatype == NIFTI_TYPE_FLOAT32) ((float *)nim->data)[i] = -(float)g->volume[i];
    }
    if (datatype == NIFTI_TYPE_FLOAT32) nim->scl_slope = -1.0; /* true intensity = -stored */
    nim->dx = nim->pixdim[1] = g->spacing[0];
    nim->dy = nim->pixdim[2] = g->spacing[1];
    nim->dz = nim->pixdim[3] = g->spacing[2];
    nim->xyz_units = NIFTI_UNITS_MM;
    nim->qform_code = NIFTI_XFORM_SCANNER_ANAT;
    nim->quatern_b = nim->quatern_c = nim->quatern_d = 0.0;
    nim->qoffset_x = qoffset[0];
    nim->qoffset_y = qoffset[1];
    nim->qoffset_z = qoffset[2];
    nim->qfac = 1.0;
    nim->nifti_type = NIFTI_FTYPE_NIFTI1_1;
    if (nifti_set_filenames(nim, path, 0, 1) != 0) {
        nifti_image_free(nim);
        return fail("nifti_set_filenames failed");
    }
    nifti_image_write(nim);
    nifti_image_free(nim);
    nifti_image *back = nifti_image_read(path, 0);
    int ok = back && back->datatype == datatype && back->nvox == voxel_count(g);
    nifti_image_free(back);
    return ok ? 0 : fail("the scan did not read back");
}

#define EXPECT(cond, ...)                                                  \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "golden_nifti check: %s: ", #cond);            \
            fprintf(stderr, __VA_ARGS__);                                  \
            fprintf(stderr, "\n");                                         \
            errors++;                                                      \
        }                                                                  \
    } while (0)

/* Checks the example's label map against the fixture's labels and the scan's header. */
static int check_labels(const golden *g, const char *path) {
    nifti_image *nim = nifti_image_read(path, 1);
    if (!nim || !nim->data) return fail("cannot read the label map");
    int errors = 0;
    EXPECT(nim->datatype == NIFTI_TYPE_UINT8, "datatype %s", nifti_datatype_string(nim->datatype));
    EXPECT(nim->nx == g->dims[0] && nim->ny == g->dims[1] && nim->nz == g->dims[2] &&
           nim->nvox == voxel_count(g), "dims %lld x %lld x %lld", (long long)nim->nx,
           (long long)nim->ny, (long long)nim->nz);
    EXPECT(fabs(nim->dx - g->spacing[0]) < 1e-6 && fabs(nim->dy - g->spacing[1]) < 1e-6 &&
           fabs(nim->dz - g->spacing[2]) < 1e-6, "spacing %g %g %g", nim->dx, nim->dy, nim->dz);
    EXPECT(nim->intent_code == NIFTI_INTENT_LABEL, "intent %d", nim->intent_code);
    EXPECT(nim->scl_slope == 1.0 && nim->scl_inter == 0.0, "scl %g %g", nim->scl_slope,
           nim->scl_inter);
    EXPECT(nim->qform_code == NIFTI_XFORM_SCANNER_ANAT && nim->qoffset_x == qoffset[0] &&
           nim->qoffset_y == qoffset[1] && nim->qoffset_z == qoffset[2],
           "qform %d offset %g %g %g", nim->qform_code, nim->qoffset_x, nim->qoffset_y,
           nim->qoffset_z);
    if (errors == 0) {
        const uint8_t *labels = nim->data;
        int64_t differing = 0, first = -1;
        uint8_t highest = 0;
        for (int64_t i = 0; i < voxel_count(g); i++) {
            if (labels[i] != g->labels[i] && differing++ == 0) first = i;
            if (g->labels[i] > highest) highest = g->labels[i];
        }
        EXPECT(differing == 0, "%lld voxels differ from the fixture, the first at index %lld",
               (long long)differing, (long long)first);
        EXPECT(nim->cal_max == highest, "cal_max %g, highest label %d", nim->cal_max, highest);
    }
    nifti_image_free(nim);
    if (errors == 0) printf("golden_nifti check: %s matches the fixture labels\n", path);
    return errors ? 1 : 0;
}

/* Prints "class voxels mm3" for each label present in the fixture. */
static int print_table(const golden *g) {
    int64_t counts[256] = {0};
    for (int64_t i = 0; i < voxel_count(g); i++) counts[g->labels[i]]++;
    double voxel_mm3 = g->spacing[0] * g->spacing[1] * g->spacing[2];
    for (int c = 0; c < 256; c++)
        if (counts[c]) printf("%d %lld %.6f\n", c, (long long)counts[c], (double)counts[c] * voxel_mm3);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) return fail("usage: golden_nifti write|check|table FIXTURE [FILE [KIND]]");
    golden g = {0};
    int status = load_golden(argv[2], &g);
    if (status == 0) {
        if (!strcmp(argv[1], "write") && argc == 5) status = write_scan(&g, argv[3], argv[4]);
        else if (!strcmp(argv[1], "check") && argc == 4) status = check_labels(&g, argv[3]);
        else if (!strcmp(argv[1], "table") && argc == 3) status = print_table(&g);
        else status = fail("bad arguments");
    }
    free(g.bytes);
    return status;
}

/*
 * aimos_segment_example.c - segment a NIfTI scan with libaimos: the whole path a viewer takes.
 *
 *   aimos_segment_example MODEL.safetensors SCAN.nii[.gz] LABELS.nii[.gz] [ORIENTATION]
 *
 * ORIENTATION: auto (default: detected from the image), header (the file's sform or qform),
 * none (the voxel axes already are the model's) or a layout code such as LHD (see aimos.h).
 *
 * 1. loads an AIMOS model (aimos_load_model),
 * 2. reads the scan with libnifti and hands its voxels to aimos as they are (uint8, int16,
 *    uint16, int32, float32, float64) or, for other types or a scaled scan, as float32 with
 *    scl_slope/scl_inter applied,
 * 3. segments it (aimos_segment) with a progress callback, in the anatomical layout
 *    asked for, and reports the layout used,
 * 4. prints the organ volume table,
 * 5. writes the label map as a uint8 NIfTI on the scan's grid (same header and affine), and
 *    reads it back to verify it (nifti_image_write reports no errors).
 *
 * Build (see README.md):
 *   cc -std=c99 -Wall -Wextra aimos_segment_example.c -o aimos_segment_example \
 *      $(pkg-config --cflags --libs aimos) -I/usr/include/nifti -lnifti2 -lznz -lz -lm
 *
 * Exit status: 0 on success, 1 on any failure (with a message on stderr), 2 on bad usage.
 */
#include <aimos.h>
#include <nifti2_io.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- progress ------------------------------------------------------------------------------ */

/* aimos calls this once per finished slice. Calls never overlap but may come from any worker
 * thread, so it only touches its own state (user_data). Returning nonzero would cancel. */
static int print_progress(void *user_data, int64_t done, int64_t total) {
    int *last_percent = user_data;
    int percent = (int)(100 * done / total);
    if (percent != *last_percent) {
        *last_percent = percent;
        fprintf(stderr, "\rsegmenting: %3d%%", percent);
        if (done == total) fputc('\n', stderr);
        fflush(stderr);
    }
    return 0;
}

/* ---- from a NIfTI image to an aimos_volume ------------------------------------------------- */

/* The aimos type of a NIfTI datatype that aimos reads as it is; 0 if it has none. */
static aimos_dtype direct_dtype(int nifti_datatype) {
    switch (nifti_datatype) {
    case NIFTI_TYPE_UINT8: return AIMOS_DTYPE_UINT8;
    case NIFTI_TYPE_INT16: return AIMOS_DTYPE_INT16;
    case NIFTI_TYPE_UINT16: return AIMOS_DTYPE_UINT16;
    case NIFTI_TYPE_INT32: return AIMOS_DTYPE_INT32;
    case NIFTI_TYPE_FLOAT32: return AIMOS_DTYPE_FLOAT32;
    case NIFTI_TYPE_FLOAT64: return AIMOS_DTYPE_FLOAT64;
    default: return (aimos_dtype)0;
    }
}

/* Voxel i of a real-valued NIfTI datatype as a double; returns 0 for types it cannot read. */
static int read_voxel(const void *data, int datatype, int64_t i, double *value) {
    switch (datatype) {
    case NIFTI_TYPE_UINT8: *value = ((const uint8_t *)data)[i]; return 1;
    case NIFTI_TYPE_INT8: *value = ((const int8_t *)data)[i]; return 1;
    case NIFTI_TYPE_INT16: *value = ((const int16_t *)data)[i]; return 1;
    case NIFTI_TYPE_UINT16: *value = ((const uint16_t *)data)[i]; return 1;
    case NIFTI_TYPE_INT32: *value = ((const int32_t *)data)[i]; return 1;
    case NIFTI_TYPE_UINT32: *value = ((const uint32_t *)data)[i]; return 1;
    case NIFTI_TYPE_INT64: *value = (double)((const int64_t *)data)[i]; return 1;
    case NIFTI_TYPE_UINT64: *value = (double)((const uint64_t *)data)[i]; return 1;
    case NIFTI_TYPE_FLOAT32: *value = ((const float *)data)[i]; return 1;
    case NIFTI_TYPE_FLOAT64: *value = ((const double *)data)[i]; return 1;
    default: return 0; /* complex, RGB, float128: not a scalar intensity */
    }
}

/* Millimetres per unit of the scan's spatial unit (aimos wants mm). */
static double millimetres_per_unit(int xyz_units) {
    switch (xyz_units) {
    case NIFTI_UNITS_METER: return 1000.0;
    case NIFTI_UNITS_MICRON: return 0.001;
    default: return 1.0; /* NIFTI_UNITS_MM, and unknown units taken as mm */
    }
}

/* Fills *volume from a 3D scan. Points at the scan's own voxels when aimos reads them as they
 * are; otherwise allocates float32 intensities (slope * stored + intercept) in *converted,
 * which the caller frees. Returns 0 on success, or prints why not and returns -1. */
static int volume_from_nifti(const nifti_image *scan, aimos_volume *volume, float **converted) {
    *converted = NULL;
    aimos_volume_init(volume);
    int64_t voxel_count = scan->nx * scan->ny * scan->nz;
    if (scan->nx < 1 || scan->ny < 1 || scan->nz < 1 || scan->nvox != voxel_count) {
        fprintf(stderr, "the scan must be one 3D volume (dims %lld x %lld x %lld, %lld voxels)\n",
                (long long)scan->nx, (long long)scan->ny, (long long)scan->nz,
                (long long)scan->nvox);
        return -1;
    }
    double mm = millimetres_per_unit(scan->xyz_units);
    volume->dims[0] = scan->nx;
    volume->dims[1] = scan->ny;
    volume->dims[2] = scan->nz;
    volume->spacing_mm[0] = fabs(scan->dx) * mm; /* aimos checks them: finite and > 0 */
    volume->spacing_mm[1] = fabs(scan->dy) * mm;
    volume->spacing_mm[2] = fabs(scan->dz) * mm;

    /* NIfTI: scl_slope 0 means "no scaling"; slope 1 and intercept 0 change nothing. */
    int scaled = scan->scl_slope != 0.0 && (scan->scl_slope != 1.0 || scan->scl_inter != 0.0);
    int32_t dtype = direct_dtype(scan->datatype);
    if (dtype != 0 && !scaled) {
        volume->data = scan->data;
        volume->dtype = dtype;
        return 0;
    }

    float *values = malloc((size_t)voxel_count * sizeof *values);
    if (values == NULL) {
        fprintf(stderr, "out of memory converting %lld voxels to float32\n", (long long)voxel_count);
        return -1;
    }
    double slope = scaled ? scan->scl_slope : 1.0;
    double intercept = scaled ? scan->scl_inter : 0.0;
    for (int64_t i = 0; i < voxel_count; i++) {
        double stored;
        if (!read_voxel(scan->data, scan->datatype, i, &stored)) {
            fprintf(stderr, "unsupported NIfTI datatype %s\n", nifti_datatype_string(scan->datatype));
            free(values);
            return -1;
        }
        values[i] = (float)(slope * stored + intercept);
    }
    volume->data = values;
    volume->dtype = AIMOS_DTYPE_FLOAT32;
    *converted = values;
    return 0;
}

/* ---- the organ volume table ---------------------------------------------------------------- */

/* One row per class: index, name, voxels, mm3 and mL. Returns the highest label present. */
static int print_volume_table(const aimos_model *model, const aimos_result *result,
                              int64_t voxel_count) {
    int32_t class_count = aimos_model_class_count(model);
    const uint8_t *labels = aimos_result_labels(result);
    int64_t voxels_per_label[256] = {0}; /* labels are uint8 */
    int highest = 0;
    for (int64_t i = 0; i < voxel_count; i++) {
        voxels_per_label[labels[i]]++;
        if (labels[i] > highest) highest = labels[i];
    }
    printf("%5s  %-14s %12s %14s %12s\n", "class", "name", "voxels", "mm3", "mL");
    for (int32_t c = 0; c < class_count; c++) {
        double mm3 = aimos_result_volume_mm3(result, c);
        printf("%5d  %-14s %12lld %14.4f %12.6f\n", (int)c, aimos_model_class_name(model, c),
               (long long)voxels_per_label[c], mm3, mm3 / 1000.0);
    }
    return highest;
}

/* ---- writing the label map ----------------------------------------------------------------- */

/* Writes labels as a uint8 NIfTI on the scan's grid (its header, affine and extensions), named
 * path (.nii, .nii.gz, .hdr), then reads the file back and compares. Returns 0 or -1. */
static int write_label_map(const nifti_image *scan, const uint8_t *labels, int highest_label,
                           const char *path) {
    int64_t voxel_count = scan->nx * scan->ny * scan->nz;
    nifti_image *out = nifti_copy_nim_info(scan); /* header only; out->data is NULL */
    if (out == NULL) {
        fprintf(stderr, "cannot copy the NIfTI header\n");
        return -1;
    }
    /* Label-map conventions (ITK-SNAP, Slicer, nnU-Net): uint8, unscaled, intent LABEL. */
    out->datatype = NIFTI_TYPE_UINT8;
    out->nbyper = 1;
    out->scl_slope = 1.0;
    out->scl_inter = 0.0;
    out->cal_min = 0.0;
    out->cal_max = highest_label;
    out->intent_code = NIFTI_INTENT_LABEL;
    out->intent_p1 = out->intent_p2 = out->intent_p3 = 0.0;
    snprintf(out->intent_name, sizeof out->intent_name, "organ labels");
    snprintf(out->descrip, sizeof out->descrip, "aimos %s organ labels", aimos_version());
    /* nifti_image_free frees out->data, so it gets its own copy. */
    out->data = malloc((size_t)voxel_count);
    if (out->data == NULL) {
        fprintf(stderr, "out of memory for the label map\n");
        nifti_image_free(out);
        return -1;
    }
    memcpy(out->data, labels, (size_t)voxel_count);
    /* The file names and type (.nii, .nii.gz, .hdr/.img) follow the extension of path. */
    if (nifti_set_filenames(out, path, 0, 1) != 0) {
        fprintf(stderr, "cannot use %s as a NIfTI file name\n", path);
        nifti_image_free(out);
        return -1;
    }
    nifti_image_write(out);
    nifti_image_free(out);

    nifti_image *check = nifti_image_read(path, 1);
    int ok = check != NULL && check->datatype == NIFTI_TYPE_UINT8 && check->nvox == voxel_count
             && check->data != NULL && memcmp(check->data, labels, (size_t)voxel_count) == 0;
    if (!ok) fprintf(stderr, "writing %s failed: the file does not read back as written\n", path);
    nifti_image_free(check); /* NULL is fine */
    return ok ? 0 : -1;
}

/* ---- main ---------------------------------------------------------------------------------- */

/* Sets the orientation options from the command line's word; -1 when it is not one. */
static int set_orientation(aimos_options *options, const char *word, const nifti_image *scan, double world[16]) {
    if (strcmp(word, "auto") == 0) {
        options->orientation = AIMOS_ORIENTATION_AUTO;
    } else if (strcmp(word, "none") == 0) {
        options->orientation = AIMOS_ORIENTATION_NONE;
    } else if (strcmp(word, "header") == 0) {
        /* NIfTI's voxel-to-world matrix (RAS+, mm): the sform if set, else the qform. */
        const nifti_dmat44 *m = scan->sform_code > 0 ? &scan->sto_xyz : &scan->qto_xyz;
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++) world[4 * r + c] = m->m[r][c];
        options->orientation = AIMOS_ORIENTATION_HEADER;
        options->world_matrix = world;
    } else if (strlen(word) == 3) {
        options->orientation = AIMOS_ORIENTATION_CODE;
        memcpy(options->orientation_code, word, 4);   /* aimos checks the code */
    } else {
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s MODEL.safetensors SCAN.nii[.gz] LABELS.nii[.gz] [auto|header|none|CODE]\n", argv[0]);
        return 2;
    }
    const char *model_path = argv[1], *scan_path = argv[2], *labels_path = argv[3];
    const char *orientation = argc == 5 ? argv[4] : "auto";
    double world[16];
    aimos_layout layout;
    int exit_code = 1;
    aimos_model *model = NULL;
    nifti_image *scan = NULL;
    float *converted = NULL;
    aimos_result *result = NULL;
    aimos_volume volume;
    aimos_options options;
    int last_percent = -1; /* progress state, handed to the callback as user_data */
    int highest_label;

    /* 1. The model: loaded once, then shareable by any number of threads and scans. */
    aimos_status status = aimos_load_model(model_path, &model);
    if (status != AIMOS_OK) {
        fprintf(stderr, "cannot load %s: %s: %s\n", model_path, aimos_status_string(status),
                aimos_last_error());
        goto cleanup;
    }
    printf("model %s: %d classes (aimos %s)\n", model_path, (int)aimos_model_class_count(model),
           aimos_version());

    /* 2. The scan; libnifti converts to the machine's byte order. */
    scan = nifti_image_read(scan_path, 1);
    if (scan == NULL || scan->data == NULL) {
        fprintf(stderr, "cannot read the NIfTI scan %s\n", scan_path);
        goto cleanup;
    }
    if (volume_from_nifti(scan, &volume, &converted) != 0) goto cleanup;
    printf("scan %s: %lld x %lld x %lld voxels of %g x %g x %g mm, %s%s\n", scan_path,
           (long long)volume.dims[0], (long long)volume.dims[1], (long long)volume.dims[2],
           volume.spacing_mm[0], volume.spacing_mm[1], volume.spacing_mm[2],
           nifti_datatype_string(scan->datatype), converted ? " (converted to float32)" : "");

    /* 3. Segment. Defaults: the layout detected, the crop the model declares, one worker per
     * core, no probabilities. */
    aimos_options_init(&options);
    options.progress = print_progress;
    options.user_data = &last_percent;
    if (set_orientation(&options, orientation, scan, world) != 0) {
        fprintf(stderr, "orientation '%s' is not auto, header, none or a three-letter code\n", orientation);
        exit_code = 2;
        goto cleanup;
    }
    status = aimos_segment(model, &volume, &options, &result);
    if (status != AIMOS_OK) {
        fprintf(stderr, "segmentation failed: %s: %s\n", aimos_status_string(status),
                aimos_last_error());
        goto cleanup;
    }

    layout.struct_size = sizeof layout;
    if (aimos_result_layout(result, 0, &layout) == AIMOS_OK) {
        printf("layout: %s", layout.orientation[0] ? layout.orientation : "none (voxel axes as the model's)");
        if (layout.confidence >= 0) printf(" (detected, confidence %.0f %%)", 100 * layout.confidence);
        printf(", slice axis %d, %d animal(s)\n", (int)layout.slice_axis, (int)aimos_result_animal_count(result));
    }

    /* 4. Organ volumes. */
    highest_label = print_volume_table(model, result,
                                       volume.dims[0] * volume.dims[1] * volume.dims[2]);

    /* 5. The label map, on the scan's grid. */
    if (write_label_map(scan, aimos_result_labels(result), highest_label, labels_path) != 0)
        goto cleanup;
    printf("labels written to %s\n", labels_path);
    exit_code = 0;

cleanup:
    aimos_free(result); /* NULL is a no-op */
    free(converted);
    nifti_image_free(scan);
    aimos_free(model);
    return exit_code;
}

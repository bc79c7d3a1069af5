/*
 * golden_fixture.h - reads a golden fixture (safetensors made by aimos-make-golden-fixtures:
 * tensors "volume" int16 (z, y, x) and "labels" uint8 (z, y, x), metadata "case" with the dims
 * and voxel spacing). Shared by Tests/c/abi_test.c and Examples/c/tests/golden_nifti.c so that
 * the two C tests parse the fixture one way. Header-only (static functions): each test is a
 * single C99 file built by its own script or CMake target, with no library of helpers to link.
 */
#ifndef AIMOS_GOLDEN_FIXTURE_H
#define AIMOS_GOLDEN_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *bytes;         /* the whole file, NUL-terminated; free() it */
    long size;           /* its length in bytes */
    const char *data;    /* start of the tensor data */
    int64_t dims[3];     /* nx, ny, nz (the tensors are stored z, y, x) */
    double spacing[3];   /* mm along x, y, z */
    const int16_t *volume;
    const uint8_t *labels;
} golden_fixture;

/* The whole file, NUL-terminated (malloc'd), its length in *size; NULL if it cannot be read. */
static char *read_whole_file(const char *path, long *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)*size + 1);
    if (data && fread(data, 1, (size_t)*size, f) != (size_t)*size) {
        free(data);
        data = NULL;
    }
    fclose(f);
    if (data) data[*size] = 0;
    return data;
}

/* Data of tensor `name` if it holds exactly expected_bytes, else NULL. Tensors are located by
 * their compact JSON header entries ("name":{"dtype":...,"shape":[...],"data_offsets":[a,b]}),
 * as the fixture writer makes them: no general JSON parser needed. */
static const char *golden_tensor(const golden_fixture *g, const char *name, int64_t expected_bytes) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\":{", name);
    const char *entry = strstr(g->bytes + 8, key);
    const char *offsets = entry ? strstr(entry, "\"data_offsets\":[") : NULL;
    long long begin = 0, end = 0;
    if (!offsets || sscanf(offsets, "\"data_offsets\":[%lld,%lld]", &begin, &end) != 2) return NULL;
    return end - begin == expected_bytes ? g->data + begin : NULL;
}

/* Loads the fixture at `path` into *g: NULL on success, else what is wrong. g->bytes is
 * malloc'd (or NULL) either way; the caller frees it. */
static const char *golden_load(const char *path, golden_fixture *g) {
    g->bytes = read_whole_file(path, &g->size);
    if (!g->bytes) return "cannot read the fixture";
    uint64_t header_length = 0;
    for (int i = 0; i < 8; i++) header_length |= (uint64_t)(unsigned char)g->bytes[i] << (8 * i);
    g->data = g->bytes + 8 + header_length;

    /* The metadata is JSON inside a JSON string, hence the escaped quotes. */
    const char *dims = strstr(g->bytes + 8, "\\\"dims\\\": [");
    const char *spacing = strstr(g->bytes + 8, "\\\"spacing\\\": [");
    long long nx, ny, nz;
    if (!dims || sscanf(dims, "\\\"dims\\\": [%lld, %lld, %lld]", &nx, &ny, &nz) != 3 ||
        !spacing || sscanf(spacing, "\\\"spacing\\\": [%lf, %lf, %lf]", &g->spacing[0],
                           &g->spacing[1], &g->spacing[2]) != 3)
        return "the fixture metadata lacks dims or spacing";
    g->dims[0] = nx;
    g->dims[1] = ny;
    g->dims[2] = nz;
    int64_t voxels = nx * ny * nz;
    g->volume = (const int16_t *)golden_tensor(g, "volume", voxels * 2);
    g->labels = (const uint8_t *)golden_tensor(g, "labels", voxels);
    if (!g->volume || !g->labels) return "the fixture lacks an int16 volume or uint8 labels";
    return NULL;
}

#endif

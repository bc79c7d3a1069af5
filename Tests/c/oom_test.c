/*
 * oom_test.c - allocation failure anywhere in a segmentation returns AIMOS_ERROR_OUT_OF_MEMORY,
 * never a crash, and leaves no output file. A volume of two "animals" (so the body search, the
 * per-animal crops and the probability maps all allocate) is segmented under an address-space
 * limit (RLIMIT_AS) swept from what the process already holds up to enough: every run must end
 * in AIMOS_OK or AIMOS_ERROR_OUT_OF_MEMORY with a message, and the largest limits in AIMOS_OK.
 * Each run is a forked child, so a trap shows as that limit's failure.
 *
 * Usage: oom_test <model.safetensors>
 */
#define _POSIX_C_SOURCE 200809L
#include <aimos.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

enum { NX = 640, NY = 320, NZ = 96 };

static long address_space_bytes(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2) { if (f) fclose(f); return -1; }
    fclose(f);
    return pages * sysconf(_SC_PAGESIZE);
}

/* One run in this (child) process under `extra_mb` more address space: 0 OK, 1 OUT_OF_MEMORY,
 * 2 anything else. */
static int run_limited(const aimos_model *model, const unsigned char *voxels, long extra_mb, int mode) {
    struct rlimit limit;
    getrlimit(RLIMIT_AS, &limit);
    limit.rlim_cur = (rlim_t)address_space_bytes() + (rlim_t)extra_mb * 1048576;
    if (setrlimit(RLIMIT_AS, &limit) != 0) return 2;
    aimos_options options;
    aimos_options_init(&options);
    options.threads = 2;
    aimos_status status;
    if (mode == 0) { /* the published pipeline */
        options.orientation = AIMOS_ORIENTATION_NONE;
        options.crop = AIMOS_CROP_NONE;
    } else { /* detected layout, each animal cropped, probabilities kept */
        options.crop = AIMOS_CROP_BODY;
        options.keep_probabilities = 1;
    }
    aimos_volume volume;
    aimos_volume_init(&volume);
    volume.data = voxels;
    volume.dtype = AIMOS_DTYPE_UINT8;
    volume.dims[0] = NX; volume.dims[1] = NY; volume.dims[2] = NZ;
    volume.spacing_mm[0] = volume.spacing_mm[1] = volume.spacing_mm[2] = 0.25;
    aimos_result *result = NULL;
    status = aimos_segment(model, &volume, &options, &result);
    int outcome = status == AIMOS_OK ? (result != NULL && aimos_result_labels(result) != NULL ? 0 : 2)
                : status == AIMOS_ERROR_OUT_OF_MEMORY && result == NULL && strlen(aimos_last_error()) > 10 ? 1 : 2;
    if (outcome == 2) fprintf(stderr, "  %ld MB: %s: %s\n", extra_mb, aimos_status_string(status), aimos_last_error());
    aimos_result_free(result);
    return outcome;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s <model>\n", argv[0]); return 2; }
    aimos_model *model = NULL;
    if (aimos_load_model(argv[1], &model) != AIMOS_OK) { fprintf(stderr, "%s\n", aimos_last_error()); return 1; }
    unsigned char *voxels = calloc((size_t)NX * NY * NZ, 1);
    if (!voxels) return 1;
    /* Two bright boxes apart along x: two animals for the body search. */
    for (int z = 20; z < 76; z++)
        for (int y = 60; y < 260; y++)
            for (int x = 0; x < NX; x++)
                if ((x > 40 && x < 280) || (x > 360 && x < 600)) voxels[((size_t)z * NY + y) * NX + x] = (unsigned char)(120 + (x * 7 + y * 3 + z) % 100);
    int failures = 0;
    for (int mode = 0; mode < 2; mode++) {
        int counts[3] = {0, 0, 0};
        for (long extra = 0; extra <= 1400; extra += extra < 60 ? 3 : extra < 300 ? 20 : 100) {
            fflush(stdout);
            pid_t child = fork();
            if (child == 0) _exit(run_limited(model, voxels, extra, mode));
            int wstatus = 0;
            waitpid(child, &wstatus, 0);
            int outcome = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 3;
            if (outcome > 2) outcome = 2;
            if (!WIFEXITED(wstatus)) fprintf(stderr, "  %ld MB: the child died (signal %d)\n", extra, WTERMSIG(wstatus));
            counts[outcome]++;
            if (outcome == 2) failures++;
            if (extra == 1400 && outcome != 0) { fprintf(stderr, "  1400 MB: not enough to finish\n"); failures++; }
        }
        printf("%s: %d limits ended in AIMOS_OK, %d in AIMOS_ERROR_OUT_OF_MEMORY, %d otherwise\n",
               mode == 0 ? "published pipeline" : "layout detected, two animals cropped, probabilities", counts[0], counts[1], counts[2]);
        if (counts[1] == 0) { fprintf(stderr, "  no limit was tight enough to fail: the test proves nothing\n"); failures++; }
    }
    free(voxels);
    aimos_model_free(model);
    printf("%s\n", failures ? "FAILED" : "allocation failure: a clean AIMOS_ERROR_OUT_OF_MEMORY at every limit tried");
    return failures ? 1 : 0;
}

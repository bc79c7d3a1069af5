/*
 * abi_surface.c - the C ABI as a caller compiles against it, in one object whose debug info
 * libabigail can read (libaimos.so itself is Swift: abidw sees its symbols, not its C types).
 * The variable below has one member per exported function, typed from include/aimos.h, so
 * `abidw` of this object records every signature and every struct, enum and field the header
 * declares; check.sh compares that with the committed baseline (surface.abi).
 * A new function must be listed here too: check.sh fails when libaimos.so exports one that
 * is not. Experimental declarations (AIMOS_EXPERIMENTAL) are left out on purpose.
 */
#include <aimos.h>

#define AIMOS_ENTRY(name) __typeof__(name) *name;

struct aimos_abi_surface {
    AIMOS_ENTRY(aimos_options_init_sized)
    AIMOS_ENTRY(aimos_options_init)
    AIMOS_ENTRY(aimos_volume_init_sized)
    AIMOS_ENTRY(aimos_load_model)
    AIMOS_ENTRY(aimos_segment)
    AIMOS_ENTRY(aimos_segment_volume)
    AIMOS_ENTRY(aimos_segment_nifti)
    AIMOS_ENTRY(aimos_free)
    AIMOS_ENTRY(aimos_model_free)
    AIMOS_ENTRY(aimos_result_free)
    AIMOS_ENTRY(aimos_model_input_size)
    AIMOS_ENTRY(aimos_model_slice_axis)
    AIMOS_ENTRY(aimos_model_has_uncertainty)
    AIMOS_ENTRY(aimos_model_orientation)
    AIMOS_ENTRY(aimos_model_class_count)
    AIMOS_ENTRY(aimos_model_class_name)
    AIMOS_ENTRY(aimos_result_labels)
    AIMOS_ENTRY(aimos_result_probabilities)
    AIMOS_ENTRY(aimos_result_uncertainty)
    AIMOS_ENTRY(aimos_result_volume_mm3)
    AIMOS_ENTRY(aimos_result_dims)
    AIMOS_ENTRY(aimos_result_class_count)
    AIMOS_ENTRY(aimos_result_animal_count)
    AIMOS_ENTRY(aimos_result_layout)
    AIMOS_ENTRY(aimos_result_voxel_size_factor)
    AIMOS_ENTRY(aimos_compare_labels)
    AIMOS_ENTRY(aimos_last_error)
    AIMOS_ENTRY(aimos_status_string)
    AIMOS_ENTRY(aimos_version)
    AIMOS_ENTRY(aimos_version_number)
    /* Since 1.2. */
    AIMOS_ENTRY(aimos_plane_source_init_sized)
    AIMOS_ENTRY(aimos_segment_planes)
    AIMOS_ENTRY(aimos_result_spacing)
    AIMOS_ENTRY(aimos_result_grid_factors)
};

/* Types reached only through macros or pointers in the signatures, named so abidw keeps them. */
struct aimos_abi_types {
    aimos_dtype dtype;
    aimos_orientation_mode orientation;
    aimos_crop_mode crop;
    aimos_status status;
};

struct aimos_abi_surface aimos_abi_surface;
struct aimos_abi_types aimos_abi_types;

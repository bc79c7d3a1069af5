package aimos.fiji;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.ptr.PointerByReference;

/**
 * The C interface of libaimos (include/aimos.h), mapped one to one through JNA.
 * Names, argument order and constants are those of the header; see it for the contracts.
 */
public interface AimosLibrary extends Library {

    // aimos_status
    int AIMOS_OK = 0;
    int AIMOS_ERROR_INVALID_ARGUMENT = 1;
    int AIMOS_ERROR_IO = 2;
    int AIMOS_ERROR_FORMAT = 3;
    int AIMOS_ERROR_UNSUPPORTED = 4;
    int AIMOS_ERROR_OUT_OF_MEMORY = 5;
    int AIMOS_ERROR_CANCELLED = 6;
    int AIMOS_ERROR_INTERNAL = 7;
    int AIMOS_ERROR_MISUSE = 8;  // since 1.0: a handle that is not live

    // aimos_dtype
    int AIMOS_DTYPE_UINT8 = 1;
    int AIMOS_DTYPE_INT16 = 2;
    int AIMOS_DTYPE_UINT16 = 3;
    int AIMOS_DTYPE_INT32 = 4;
    int AIMOS_DTYPE_FLOAT32 = 5;
    int AIMOS_DTYPE_FLOAT64 = 6;

    /**
     * struct aimos_volume (1.0): voxels x fastest, then y, then z. Fill with
     * aimos_volume_init_sized(volume, volume.size()) first: it sets struct_size.
     */
    @Structure.FieldOrder({"struct_size", "dtype", "data", "dims", "spacing_mm"})
    class aimos_volume extends Structure {
        public int struct_size;
        public int dtype;
        public Pointer data;
        public long[] dims = new long[3];
        public double[] spacing_mm = new double[3];
    }

    /** int (*aimos_progress_fn)(void *user_data, int64_t done, int64_t total); nonzero cancels. */
    interface aimos_progress_fn extends Callback {
        int invoke(Pointer user_data, long done, long total);
    }

    // aimos_orientation_mode, aimos_crop_mode (since 0.2)
    int AIMOS_ORIENTATION_NONE = 0;
    int AIMOS_ORIENTATION_AUTO = 1;
    int AIMOS_ORIENTATION_HEADER = 2;
    int AIMOS_ORIENTATION_CODE = 3;
    int AIMOS_CROP_MODEL = -1;
    int AIMOS_CROP_NONE = 0;
    int AIMOS_CROP_BODY = 1;

    /**
     * struct aimos_options as of 0.2; always fill with aimos_options_init_sized(options,
     * options.size()) first (it sets struct_size and every default). The plain
     * aimos_options_init symbol fills the 0.1 part only, as 0.1 programs expect.
     */
    @Structure.FieldOrder({"struct_size", "slice_axis", "threads", "keep_probabilities", "progress", "user_data",
                           "orientation", "orientation_code", "crop", "separate_animals", "world_matrix"})
    class aimos_options extends Structure {
        public int struct_size;
        public int slice_axis;
        public int threads;
        public int keep_probabilities;
        public aimos_progress_fn progress;
        public Pointer user_data;
        public int orientation;
        public byte[] orientation_code = new byte[4];
        public int crop;
        public int separate_animals;
        public Pointer world_matrix;
    }

    void aimos_options_init(aimos_options options);

    void aimos_options_init_sized(aimos_options options, int size);

    /** struct aimos_layout (since 0.2): how one animal was laid out and cropped. */
    @Structure.FieldOrder({"struct_size", "orientation", "confidence", "crop_lower", "crop_upper", "slice_axis",
                           "slice_direction_known"})
    class aimos_layout extends Structure {
        public int struct_size;
        public byte[] orientation = new byte[4];
        public double confidence;
        public long[] crop_lower = new long[3];
        public long[] crop_upper = new long[3];
        public int slice_axis;
        public int slice_direction_known;
    }

    /**
     * Returns plane z (0-based) of an aimos_plane_source: dims[0] * dims[1] voxels of the
     * source's dtype, x fastest; valid until the next call. Called in order, z = 0, 1, ..., each
     * once, on the thread that called aimos_segment_planes. Return null to abort (the call then
     * returns AIMOS_ERROR_IO). Since 1.2.
     */
    interface aimos_plane_fn extends Callback {
        Pointer invoke(Pointer user_data, long z);
    }

    /**
     * struct aimos_plane_source (since 1.2): a stack handed over one z plane at a time. Fill with
     * aimos_plane_source_init_sized(source, source.size()) first: it sets struct_size. The plane
     * callback must stay strongly reachable until aimos_segment_planes returns (JNA frees the
     * native stub of a collected callback).
     */
    @Structure.FieldOrder({"struct_size", "dtype", "dims", "spacing_mm", "plane", "user_data", "working_voxel_size_mm"})
    class aimos_plane_source extends Structure {
        public int struct_size;
        public int dtype;
        public long[] dims = new long[3];
        public double[] spacing_mm = new double[3];
        public aimos_plane_fn plane;
        public Pointer user_data;
        public double[] working_voxel_size_mm = new double[3];  // 0: the model's training voxel size
    }

    void aimos_plane_source_init_sized(aimos_plane_source source, int size);

    int aimos_segment_planes(Pointer model, aimos_plane_source source, aimos_options options, PointerByReference out_result);

    /** double spacing_mm[3]: the voxel size of the result's grid (since 1.2). */
    int aimos_result_spacing(Pointer result, double[] spacing_mm);

    /** int64_t factors[3]: stack voxels per working voxel of an aimos_segment_planes result (since 1.2). */
    int aimos_result_grid_factors(Pointer result, long[] factors);

    /** int64_t dims[3]: nx, ny, nz of the result's grid (since 0.3). */
    int aimos_result_dims(Pointer result, long[] dims);

    int aimos_result_animal_count(Pointer result);

    int aimos_result_layout(Pointer result, int animal, aimos_layout layout);

    int aimos_load_model(String path, PointerByReference out_model);

    void aimos_volume_init_sized(aimos_volume volume, int size);

    int aimos_segment(Pointer model, aimos_volume volume, aimos_options options, PointerByReference out_result);

    void aimos_free(Pointer handle);

    void aimos_model_free(Pointer model);

    void aimos_result_free(Pointer result);

    int aimos_model_class_count(Pointer model);

    String aimos_model_class_name(Pointer model, int index);

    Pointer aimos_result_labels(Pointer result);

    Pointer aimos_result_probabilities(Pointer result, int class_index);

    Pointer aimos_result_uncertainty(Pointer result);

    double aimos_result_volume_mm3(Pointer result, int class_index);

    String aimos_last_error();

    String aimos_status_string(int status);

    String aimos_version();

    /** MAJOR * 10000 + MINOR * 100 + PATCH of the library (since 0.3). */
    int aimos_version_number();

    /**
     * Loads libaimos.so the way Fiji finds native libraries: JNA looks in the jna.library.path
     * system property (Fiji sets it to Fiji.app/lib/linux64), then in the system's library paths.
     *
     * @throws UnsatisfiedLinkError with a message that says where to put the library
     */
    static AimosLibrary load() {
        try {
            return Native.load("aimos", AimosLibrary.class);
        } catch (UnsatisfiedLinkError error) {
            UnsatisfiedLinkError explained = new UnsatisfiedLinkError(
                "libaimos.so not found (jna.library.path=" + System.getProperty("jna.library.path")
                + "). In Fiji, copy libaimos.so into Fiji.app/lib/linux64/ and restart. (" + error.getMessage() + ")");
            explained.initCause(error);
            throw explained;
        }
    }
}

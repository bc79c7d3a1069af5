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

    // aimos_dtype
    int AIMOS_DTYPE_UINT8 = 1;
    int AIMOS_DTYPE_INT16 = 2;
    int AIMOS_DTYPE_UINT16 = 3;
    int AIMOS_DTYPE_INT32 = 4;
    int AIMOS_DTYPE_FLOAT32 = 5;
    int AIMOS_DTYPE_FLOAT64 = 6;

    /** struct aimos_volume: voxels x fastest, then y, then z. */
    @Structure.FieldOrder({"data", "dtype", "dims", "spacing_mm"})
    class aimos_volume extends Structure {
        public Pointer data;
        public int dtype;
        public long[] dims = new long[3];
        public double[] spacing_mm = new double[3];
    }

    /** int (*aimos_progress_fn)(void *user_data, int64_t done, int64_t total); nonzero cancels. */
    interface aimos_progress_fn extends Callback {
        int invoke(Pointer user_data, long done, long total);
    }

    /** struct aimos_options; always fill with aimos_options_init first (it sets struct_size). */
    @Structure.FieldOrder({"struct_size", "slice_axis", "threads", "keep_probabilities", "progress", "user_data"})
    class aimos_options extends Structure {
        public int struct_size;
        public int slice_axis;
        public int threads;
        public int keep_probabilities;
        public aimos_progress_fn progress;
        public Pointer user_data;
    }

    void aimos_options_init(aimos_options options);

    int aimos_load_model(String path, PointerByReference out_model);

    int aimos_segment_volume(Pointer model, aimos_volume volume, aimos_options options,
                             PointerByReference out_result);

    void aimos_free(Pointer handle);

    int aimos_model_class_count(Pointer model);

    String aimos_model_class_name(Pointer model, int index);

    Pointer aimos_result_labels(Pointer result);

    Pointer aimos_result_probabilities(Pointer result, int class_index);

    Pointer aimos_result_uncertainty(Pointer result);

    double aimos_result_volume_mm3(Pointer result, int class_index);

    String aimos_last_error();

    String aimos_status_string(int status);

    String aimos_version();

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

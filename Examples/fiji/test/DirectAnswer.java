import aimos.fiji.AimosLibrary;
import aimos.fiji.AimosSegmenter;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;

/**
 * The independent answer for the tests: the C API called directly through AimosLibrary on a
 * flat voxel array (x fastest, then y, then z), with no ImageJ objects in between.
 */
final class DirectAnswer {
    final byte[] labels;
    final double[] volumesMm3;

    private DirectAnswer(byte[] labels, double[] volumesMm3) {
        this.labels = labels;
        this.volumesMm3 = volumesMm3;
    }

    /** Segments nx*ny*nz unsigned 16-bit voxels (given as ints) with the model at modelPath. */
    static DirectAnswer uint16(String modelPath, int[] voxels, int nx, int ny, int nz, double[] spacingMm, int axis) {
        Memory data = new Memory(2L * voxels.length);
        for (int i = 0; i < voxels.length; i++) {
            data.setShort(2L * i, (short) voxels[i]);
        }
        return run(modelPath, data, AimosLibrary.AIMOS_DTYPE_UINT16, nx, ny, nz, spacingMm, axis);
    }

    /** Segments nx*ny*nz float voxels. */
    static DirectAnswer float32(String modelPath, float[] voxels, int nx, int ny, int nz, double[] spacingMm, int axis) {
        Memory data = new Memory(4L * voxels.length);
        data.write(0, voxels, 0, voxels.length);
        return run(modelPath, data, AimosLibrary.AIMOS_DTYPE_FLOAT32, nx, ny, nz, spacingMm, axis);
    }

    private static DirectAnswer run(String modelPath, Memory data, int dtype, int nx, int ny, int nz,
                                    double[] spacingMm, int axis) {
        AimosLibrary lib = AimosSegmenter.library();
        PointerByReference modelOut = new PointerByReference();
        require(lib, lib.aimos_load_model(modelPath, modelOut));
        Pointer model = modelOut.getValue();
        AimosLibrary.aimos_volume volume = new AimosLibrary.aimos_volume();
        lib.aimos_volume_init_sized(volume, volume.size());
        volume.data = data;
        volume.dtype = dtype;
        volume.dims = new long[] {nx, ny, nz};
        volume.spacing_mm = spacingMm.clone();
        AimosLibrary.aimos_options options = new AimosLibrary.aimos_options();
        lib.aimos_options_init(options);  // the 0.1 part only: the published layout, uncropped
        options.slice_axis = axis;
        options.threads = 1;
        PointerByReference resultOut = new PointerByReference();
        require(lib, lib.aimos_segment(model, volume, options, resultOut));
        Pointer result = resultOut.getValue();
        int classes = lib.aimos_model_class_count(model);
        double[] volumes = new double[classes];
        for (int c = 0; c < classes; c++) {
            volumes[c] = lib.aimos_result_volume_mm3(result, c);
        }
        byte[] labels = lib.aimos_result_labels(result).getByteArray(0, nx * ny * nz);
        lib.aimos_free(result);
        lib.aimos_free(model);
        return new DirectAnswer(labels, volumes);
    }

    private static void require(AimosLibrary lib, int status) {
        if (status != AimosLibrary.AIMOS_OK) {
            throw new IllegalStateException(lib.aimos_status_string(status) + ": " + lib.aimos_last_error());
        }
    }
}

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
    /** The result's grid: aimos_result_dims, aimos_result_spacing, aimos_result_grid_factors. */
    final long[] dims;
    final double[] spacingMm;
    final long[] factors;

    private DirectAnswer(byte[] labels, double[] volumesMm3, long[] dims, double[] spacingMm, long[] factors) {
        this.labels = labels;
        this.volumesMm3 = volumesMm3;
        this.dims = dims;
        this.spacingMm = spacingMm;
        this.factors = factors;
    }

    /** The voxels (unsigned 16-bit, given as ints) in native memory. */
    static Memory uint16Memory(int[] voxels) {
        Memory data = new Memory(2L * voxels.length);
        for (int i = 0; i < voxels.length; i++) {
            data.setShort(2L * i, (short) voxels[i]);
        }
        return data;
    }

    /**
     * aimos_segment_planes on flat voxels of the dtype (bytesPerVoxel each): plane z handed over
     * as a pointer into the array; the published layout (0.1 options), cut along axis.
     */
    static DirectAnswer planes(String modelPath, Memory data, int dtype, int bytesPerVoxel, int nx, int ny, int nz,
                               double[] spacingMm, double workingMm, int axis) {
        AimosLibrary lib = AimosSegmenter.library();
        PointerByReference modelOut = new PointerByReference();
        require(lib, lib.aimos_load_model(modelPath, modelOut));
        Pointer model = modelOut.getValue();
        AimosLibrary.aimos_plane_source source = new AimosLibrary.aimos_plane_source();
        lib.aimos_plane_source_init_sized(source, source.size());
        source.dtype = dtype;
        source.dims = new long[] {nx, ny, nz};
        source.spacing_mm = spacingMm.clone();
        source.working_voxel_size_mm = new double[] {workingMm, workingMm, workingMm};
        long planeBytes = (long) nx * ny * bytesPerVoxel;
        // Held by source, an argument JNA reads back after the call, so the GC keeps the callback through it.
        source.plane = (userData, z) -> data.share(z * planeBytes, planeBytes);
        AimosLibrary.aimos_options options = new AimosLibrary.aimos_options();
        lib.aimos_options_init(options);  // the 0.1 part only: the published layout, uncropped
        options.slice_axis = axis;
        options.threads = 1;
        PointerByReference resultOut = new PointerByReference();
        require(lib, lib.aimos_segment_planes(model, source, options, resultOut));
        Pointer result = resultOut.getValue();
        long[] dims = new long[3];
        double[] spacing = new double[3];
        long[] factors = new long[3];
        require(lib, lib.aimos_result_dims(result, dims));
        require(lib, lib.aimos_result_spacing(result, spacing));
        require(lib, lib.aimos_result_grid_factors(result, factors));
        DirectAnswer answer = new DirectAnswer(lib.aimos_result_labels(result).getByteArray(0, (int) (dims[0] * dims[1] * dims[2])),
                                               volumes(lib, model, result), dims, spacing, factors);
        lib.aimos_free(result);
        lib.aimos_free(model);
        return answer;
    }

    private static double[] volumes(AimosLibrary lib, Pointer model, Pointer result) {
        double[] volumes = new double[lib.aimos_model_class_count(model)];
        for (int c = 0; c < volumes.length; c++) {
            volumes[c] = lib.aimos_result_volume_mm3(result, c);
        }
        return volumes;
    }

    /** Segments nx*ny*nz unsigned 16-bit voxels (given as ints) with the model at modelPath. */
    static DirectAnswer uint16(String modelPath, int[] voxels, int nx, int ny, int nz, double[] spacingMm, int axis) {
        return run(modelPath, uint16Memory(voxels), AimosLibrary.AIMOS_DTYPE_UINT16, nx, ny, nz, spacingMm, axis);
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
        double[] volumes = volumes(lib, model, result);
        byte[] labels = lib.aimos_result_labels(result).getByteArray(0, nx * ny * nz);
        lib.aimos_free(result);
        lib.aimos_free(model);
        return new DirectAnswer(labels, volumes, new long[] {nx, ny, nz}, spacingMm.clone(), new long[] {1, 1, 1});
    }

    private static void require(AimosLibrary lib, int status) {
        if (status != AimosLibrary.AIMOS_OK) {
            throw new IllegalStateException(lib.aimos_status_string(status) + ": " + lib.aimos_last_error());
        }
    }
}
